#pragma once

#include "server/auththrottle.h"

#include <QHash>
#include <QLatin1StringView>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QThread>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

QT_BEGIN_NAMESPACE
class QTcpSocket;
class QWebSocket;
class QWebSocketServer;
QT_END_NAMESPACE

namespace streams {

class Engine;
class RestServer;
class TwilsockConnection;
class TwilsockShard;

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

    /// Threads that read and write live connections: each connection lives on one of them, and
    /// the engine's state stays on the engine's thread. -1 means one per core; 0 runs every
    /// connection on the engine's thread. Zero-change TLS tunnels always run there.
    int ioThreads = -1;
    /// Subscribers confirm every notification with a small `reply`, and reading those one at a
    /// time costs more than delivering them: once a plain socket's peer acknowledges twice
    /// within this window, what it sends is read in batches, the kernel waking the reader when
    /// 4 KiB have arrived or this long after the acknowledgement at the latest. 0 reads every
    /// byte as it comes.
    std::chrono::milliseconds readBatchWindow{2};
};

/// The twilsock v3 endpoint (`/v3/wsconnect`) the official twilio-sync SDK connects to: takes
/// the websockets HttpServer hands over on the REST port, performs their handshakes on the
/// engine's thread, and gives each to a TwilsockShard, which runs its TwilsockConnection on one
/// of TwilsockOptions::ioThreads I/O threads. Connections call into the engine through
/// onEngine(); hub wake-ups go straight to the shard that holds the subscriber.
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
        quint64 readBatches = 0; // times a connection's reads were batched (readBatchWindow)
    };

    explicit TwilsockServer(
        Engine &engine, TwilsockOptions options = {}, QObject *parent = nullptr);
    ~TwilsockServer() override;

    /// Serves the websocket handshakes for kPath on `rest`'s port from now on; the token in
    /// each connection's `init` frame authenticates it, throttled with `rest`'s AuthThrottle.
    void attachTo(RestServer &rest);
    /// Serves one upgraded socket (any path; the caller decided it is twilsock). `wire` is the
    /// TCP socket under it, when known: notifications are then written to it directly, and a
    /// plain (not TLS) one is served on an I/O thread.
    void accept(std::unique_ptr<QWebSocket> socket, QTcpSocket *wire = nullptr);
    /// How many I/O threads serve connections (TwilsockOptions::ioThreads resolved).
    int ioThreadCount() const { return int(m_ioShards.size()); }

    const TwilsockOptions &options() const { return m_options; }
    Counters counters() const;
    /// Closes (websocket 1001, as a server going away does; the SDKs reconnect) every live
    /// connection with a subscription `accepts` (service SID, stream SID), or every connection
    /// when `everyone`. Returns how many were closed (a `disconnect` fault rule).
    quint64 disconnectMatching(
        const std::function<bool(const QString &, const QString &)> &accepts, bool everyone);

    // For TwilsockConnection and TwilsockShard.
    /// `frame` (a twilsock frame) as one unmasked binary websocket frame (RFC 6455, 5.2).
    static QByteArray webSocketFrame(QByteArrayView frame);
    /// The twilsock frame inside a webSocketFrame().
    static QByteArrayView twilsockFrameOf(const QByteArray &webSocketFrame);
    /// A notification frame of `twilio.sync.event` type carrying `payload` (JSON).
    static QByteArray notificationFrame(const QString &id, QByteArrayView payload);
    /// A fresh "TM" + 32 hex id for frames the server originates.
    static QString newFrameId();
    /// Runs `work` on the engine's thread and returns its result: at once when called there,
    /// otherwise by waiting for the engine's thread (which never waits for a shard's).
    template<typename Work>
    auto onEngine(Work &&work) -> decltype(work())
    {
        using Result = decltype(work());
        if (QThread::currentThread() == thread())
            return work();
        if constexpr (std::is_void_v<Result>) {
            QMetaObject::invokeMethod(this, std::forward<Work>(work), Qt::BlockingQueuedConnection);
        } else {
            std::optional<Result> result;
            QMetaObject::invokeMethod(
                this, [&result, &work] { result.emplace(work()); }, Qt::BlockingQueuedConnection);
            return std::move(*result);
        }
    }
    /// What connection `id` is subscribed to, as (service SID, stream SID) pairs, for
    /// disconnectMatching(); callable from any thread.
    void noteSubscriptions(quint64 id, QList<std::pair<QString, QString>> subscriptions);
    /// Connection `id` is gone (from its shard's thread).
    void forget(quint64 id);
    void countRejectedInput() { ++m_rejectedInputs; }
    void countFailedAuthorization() { ++m_failedAuthorizations; }
    void countDropped(quint64 messages) { m_droppedMessages += messages; }
    void countSlowConsumer() { ++m_slowConsumers; }
    void countReadBatch() { ++m_readBatches; }
    /// Failed `init`s slow their address down like failed REST logins (shared with the REST
    /// server this endpoint is attached to).
    AuthThrottle &authThrottle() { return *m_throttle; }

private:
    void onNewWebSocket();
    /// The connection of a socket bound for `shard` (an I/O thread's), on a LiveSocket made of
    /// the descriptor under `socket`.
    TwilsockConnection *takeLive(
        quint64 id, std::unique_ptr<QWebSocket> socket, QTcpSocket *wire, TwilsockShard &shard);

    Engine &m_engine;
    const TwilsockOptions m_options;
    QWebSocketServer *m_websockets; // performs the handshakes HttpServer hands over
    // TCP sockets handed to the websocket server, by peer ("address port"), until their
    // QWebSocket comes out of the handshake: the connection writes notifications to them.
    QHash<QString, QPointer<QTcpSocket>> m_handshaking;
    quint64 m_nextConnectionId = 1;

    // Connections that stay on the engine's thread, and the I/O threads' shards (each moved
    // to its thread), taken in turn.
    TwilsockShard *m_engineShard;
    std::vector<std::pair<QThread *, TwilsockShard *>> m_ioShards;
    size_t m_nextShard = 0;

    // Every open connection's shard and subscriptions, for disconnectMatching() on the engine's
    // thread while the connections live on theirs.
    struct Registered
    {
        TwilsockShard *shard = nullptr;
        QList<std::pair<QString, QString>> subscriptions;
    };
    QMutex m_registryMutex;
    QHash<quint64, Registered> m_registry;

    std::atomic<quint64> m_accepted{0};
    std::atomic<quint64> m_rejectedInputs{0};
    std::atomic<quint64> m_failedAuthorizations{0};
    std::atomic<quint64> m_droppedMessages{0};
    std::atomic<quint64> m_open{0};
    std::atomic<quint64> m_slowConsumers{0};
    std::atomic<quint64> m_readBatches{0};

    // Until attachTo() a RestServer, which then lends its own.
    AuthThrottle m_ownThrottle;
    AuthThrottle *m_throttle = &m_ownThrottle;
};

} // namespace streams
