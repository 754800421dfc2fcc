#pragma once

#include "server/auththrottle.h"

#include <QElapsedTimer>
#include <QHash>
#include <QLatin1StringView>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

QT_BEGIN_NAMESPACE
class QTcpSocket;
class QWebSocket;
class QWebSocketServer;
QT_END_NAMESPACE

namespace streams {

class Engine;
class RestServer;
class TwilsockConnection;
struct StreamMessage;

/// Timings of the twilsock endpoint. The defaults are what the official SDKs expect; tests
/// shorten them.
struct TwilsockOptions
{
    /// Server pings: the Kotlin SDK reconnects after 45 s without any frame.
    std::chrono::milliseconds pingInterval{30'000};
    /// `client_update` "token_about_to_expire" goes out this long before a token's `exp` (the
    /// Kotlin fixture says "less than 240000 ms"), or right after init if less time is left.
    std::chrono::milliseconds tokenWarningLead{240'000};
    /// A socket without a successful `init` by then is closed (401).
    std::chrono::milliseconds initTimeout{30'000};

    // A subscriber that stops reading must cost the engine a bounded amount and then go.
    /// Past this much unsent data on a socket, notifications wait in the subscription's own
    /// bounded queue (EngineOptions::subscriberQueueCapacity, oldest dropped first).
    qint64 sendBufferLimit = 512 * 1024;
    /// A socket whose unsent data stays above sendBufferLimit this long (it has not drained to
    /// half of it meanwhile) is closed as too slow: twilsock `close` 429 and websocket 1008.
    std::chrono::milliseconds stallTimeout{10'000};
    /// Unsent data beyond this (replies to a client that sends requests and never reads them)
    /// closes the socket at once.
    qint64 maxUnsentBytes = 4 * 1024 * 1024;
    /// When the server closes a socket that still has unsent data, how long the peer has to
    /// read up to the close frames before the connection is dropped without them.
    std::chrono::milliseconds closeGrace{5'000};
};

/// The twilsock v3 endpoint (`/v3/wsconnect`) the official twilio-sync SDK connects to: takes
/// the websockets HttpServer hands over on the REST port, runs one TwilsockConnection
/// per socket on the engine's thread, pings them, and routes hub wake-ups to them. A published
/// message is encoded as a notification frame once and the same bytes go to every subscriber.
class TwilsockServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TwilsockServer)

public:
    static constexpr QLatin1StringView kPath{"/v3/wsconnect"};

    /// What the endpoint has seen; readable from any thread (tests, diagnostics).
    struct Counters
    {
        quint64 accepted = 0;
        quint64 open = 0;
        quint64 rejectedInputs = 0; // bad frames, requests before init, unknown methods
        quint64 failedAuthorizations = 0; // init/update with a token that was refused
        quint64 droppedMessages = 0; // lost by subscribers that fell behind
        quint64 slowConsumers = 0; // connections closed for not reading what was sent
    };

    explicit TwilsockServer(
        Engine &engine, TwilsockOptions options = {}, QObject *parent = nullptr);
    ~TwilsockServer() override;

    /// Serves the websocket handshakes for kPath on `rest`'s port from now on; the token in
    /// each connection's `init` frame authenticates it, throttled with `rest`'s AuthThrottle.
    void attachTo(RestServer &rest);
    /// Serves one upgraded socket (any path; the caller decided it is twilsock). `wire` is the
    /// TCP socket under it, when known: notifications are then written to it directly.
    void accept(std::unique_ptr<QWebSocket> socket, QTcpSocket *wire = nullptr);

    const TwilsockOptions &options() const { return m_options; }
    Counters counters() const;
    /// Closes (websocket 1001, as a server going away does; the SDKs reconnect) every live
    /// connection with a subscription `accepts` (service SID, stream SID), or every connection
    /// when `everyone`. Returns how many were closed (a `disconnect` fault rule).
    quint64 disconnectMatching(
        const std::function<bool(const QString &, const QString &)> &accepts, bool everyone);

    // For TwilsockConnection.
    /// The `stream_message_published` notification of `message` as a whole websocket message
    /// on the wire (an unmasked binary frame: what a server sends), built once per message and
    /// shared (its id derives from the message SID, so it is the same for every receiver).
    QByteArray messageNotification(const StreamMessage &message);
    /// `frame` (a twilsock frame) as one unmasked binary websocket frame (RFC 6455, 5.2).
    static QByteArray webSocketFrame(QByteArrayView frame);
    /// The twilsock frame inside a webSocketFrame().
    static QByteArrayView twilsockFrameOf(const QByteArray &webSocketFrame);
    /// The `stream_removed` notification frame of a stream, shared the same way.
    QByteArray removalNotification(const QString &streamSid);
    /// A notification frame of `twilio.sync.event` type carrying `payload` (JSON).
    static QByteArray notificationFrame(const QString &id, QByteArrayView payload);
    /// A fresh "TM" + 32 hex id for frames the server originates.
    static QString newFrameId();
    /// The hub wake-up of one connection's subscription: callable from any thread, it queues
    /// a drain on the server's thread.
    std::function<void()> wakeFor(quint64 connectionId, const QString &streamSid);
    void countRejectedInput() { ++m_rejectedInputs; }
    void countFailedAuthorization() { ++m_failedAuthorizations; }
    void countDropped(quint64 messages) { m_droppedMessages += messages; }
    void countSlowConsumer() { ++m_slowConsumers; }
    /// Failed `init`s slow their address down like failed REST logins (shared with the REST
    /// server this endpoint is attached to).
    AuthThrottle &authThrottle() { return *m_throttle; }

private:
    void onNewWebSocket();
    void drainWoken();
    void pingAll();
    void remove(quint64 connectionId);

    Engine &m_engine;
    const TwilsockOptions m_options;
    QWebSocketServer *m_websockets; // performs the handshakes HttpServer hands over
    QHash<quint64, TwilsockConnection *> m_connections;
    // TCP sockets handed to the websocket server, by peer ("address port"), until their
    // QWebSocket comes out of the handshake: the connection writes notifications to them.
    QHash<QString, QPointer<QTcpSocket>> m_handshaking;
    quint64 m_nextConnectionId = 1;
    QTimer m_pingTimer;

    // Shared notification frames by key (message SID, or "removed:" + stream SID). Every
    // subscriber woken by a publish drains within the same pass, so the cache is emptied after
    // each pass and bounded in between.
    static constexpr qsizetype kMaxCachedFrames = 4096;
    QHash<QString, QByteArray> m_frames;

    // Wake-ups arrive from the hub (on the publisher's thread): one queued pass drains them all.
    QMutex m_wakeMutex;
    QList<std::pair<quint64, QString>> m_woken;
    bool m_drainQueued = false;
    // Fair share under load: after a drain pass that took D, the next one waits until D has
    // passed since, so publishes get at least half the thread and more messages share each
    // write. Passes shorter than kFairShareFromNs (a few hundred sockets) never wait.
    static constexpr qint64 kFairShareFromNs = 1'000'000;
    QElapsedTimer m_sinceStart;
    qint64 m_lastDrainEndNs = 0;
    qint64 m_lastDrainNs = 0;
    QTimer m_drainTimer;

    std::atomic<quint64> m_accepted{0};
    std::atomic<quint64> m_rejectedInputs{0};
    std::atomic<quint64> m_failedAuthorizations{0};
    std::atomic<quint64> m_droppedMessages{0};
    std::atomic<quint64> m_open{0};
    std::atomic<quint64> m_slowConsumers{0};

    // Until attachTo() a RestServer, which then lends its own.
    AuthThrottle m_ownThrottle;
    AuthThrottle *m_throttle = &m_ownThrottle;
};

} // namespace streams
