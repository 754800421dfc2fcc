#pragma once

#include "api/streammessage.h"
#include "engine/trafficlog.h"
#include "server/cdsrouter.h"
#include "twilsock/accesstoken.h"
#include "twilsock/framecodec.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <chrono>
#include <deque>
#include <expected>
#include <memory>
#include <optional>

QT_BEGIN_NAMESPACE
class QTcpSocket;
class QThread;
class QWebSocket;
QT_END_NAMESPACE

namespace streams {

class Engine;
class LiveSocket;
class Subscription;
class TwilsockServer;
class TwilsockShard;

/// One twilsock v3 session on one websocket, on its shard's thread (the engine's state only
/// through TwilsockServer::onEngine): `init` with an access
/// token (verified against the engine's API key, account and the granted service), Sync
/// requests carried in `message` frames (CdsRouter, and `/v4/Subscriptions` here), hub
/// subscriptions delivered as `stream_message_published` / `stream_removed` notifications,
/// token refresh (`update`, `client_update` before expiry, `close` 410 at expiry), pings.
/// Bad input gets the protocol's error reply or a `close` frame, is logged once per
/// connection, and never affects another connection.
class TwilsockConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TwilsockConnection)

public:
    /// Larger websocket messages are refused by the socket itself (close code 1009). The slack
    /// lets a frame a little over the codec's limit reach the codec, which answers in twilsock
    /// terms.
    static constexpr qsizetype kMaxWebSocketMessageBytes =
        twilsock::FrameCodec::kMaxFrameBytes + 16 * 1024;

    /// `wire` is the TCP socket under `socket` when known (TwilsockServer::accept). Lives on
    /// `shard`'s thread, with both sockets.
    TwilsockConnection(quint64 id, std::unique_ptr<QWebSocket> socket, QTcpSocket *wire,
        Engine &engine, TwilsockServer &server, TwilsockShard &shard);
    /// The two ends of a connection's TCP socket.
    struct Endpoints
    {
        QHostAddress peer;
        quint16 peerPort = 0;
        QHostAddress local;
        quint16 localPort = 0;
    };
    /// A connection on a LiveSocket (TwilsockServer::accept took the descriptor from Qt after
    /// the handshake), for an I/O thread: `shard` reads it (TwilsockShard::watch).
    TwilsockConnection(quint64 id, std::unique_ptr<LiveSocket> socket, const Endpoints &endpoints,
        Engine &engine, TwilsockServer &server, TwilsockShard &shard);
    ~TwilsockConnection() override;

    quint64 id() const { return m_id; }
    /// The LiveSocket this connection runs on, if it does (else a QWebSocket).
    LiveSocket *liveSocket() const { return m_live.get(); }
    /// True once `init` succeeded and until the session ends.
    bool isReady() const { return m_state == State::Ready; }
    /// True once the socket is gone (finished() has been or is about to be emitted).
    bool hasEnded() const { return m_finished; }
    /// Sends whatever every subscription has queued, as a hub wake-up would.
    void deliverAll();
    void send(const QByteArray &frame);
    /// Sends what the subscription to `streamSid` has queued (after a hub wake-up), as far as
    /// the socket's send-buffer limit allows; the rest waits in a bounded outbox.
    void deliver(const QString &streamSid);
    /// Ends the connection as a server going away would (websocket 1001, no twilsock `close`,
    /// so the SDK reconnects); false when it was already ending.
    bool dropForFault();
    /// Wakes for every byte the peer sends again, after batchReads(); the shard calls it when
    /// TwilsockOptions::readBatchWindow has passed.
    void readPromptly();

Q_SIGNALS:
    /// The socket is gone; the server forgets this connection and deletes it later.
    void finished(quint64 id);

private:
    enum class State {
        AwaitingInit,
        Ready,
        Closing
    };
    /// An access token that passed every check, and the service it grants.
    struct Grant
    {
        twilsock::AccessTokenClaims claims;
        QString serviceSid;
    };
    struct Denial
    {
        int errorCode = 20101;
        QString description;
    };

    /// What both constructors do once the socket is in place.
    void setUp(bool connected);
    bool isOpen() const;
    /// Closes the websocket with `code` and `reason` (after what is queued, on a LiveSocket);
    /// a LiveSocket's peer gets TwilsockOptions::closeGrace to answer.
    void closeSocket(int code, const QString &reason);
    void onBinaryMessage(const QByteArray &bytes);
    /// Watches the socket's unsent data after a write: starts the stall clock above the
    /// send-buffer limit, and closes at once past the hard limit.
    void watchUnsent();
    /// What the socket holds that the kernel has not taken yet.
    qint64 unsentBytes() const;
    void closeAsTooSlow(const QString &why);
    void flush(const QString &streamSid);
    /// Writes whole websocket frames (TwilsockServer::messageNotification) after everything
    /// sent before: straight to a plain socket's descriptor, all in one system call, while the
    /// socket's own buffer is empty (no copy, no notifier, no bytesWritten), and whatever the
    /// kernel does not take through that buffer, in order.
    void writeWire(const QList<QByteArray> &frames);
    /// After two acknowledgements within TwilsockOptions::readBatchWindow: lets what the peer sends
    /// gather in the kernel (SO_RCVLOWAT) until kBatchedReadBytes, or until the shard's read-batch
    /// window ends (readPromptly()), so that many acknowledgements are read at once.
    void batchReads();
    /// SO_RCVLOWAT on the plain socket under the websocket: the reader wakes once `bytes` wait.
    bool setReadLowWater(int bytes);
    void authorizeInit(const twilsock::Frame &frame);
    void onTextMessage();
    void onDisconnected();
    void onBytesWritten();
    void handleInit(const twilsock::Frame &frame);
    void handleUpdate(const twilsock::Frame &frame);
    void handleUpstream(const twilsock::Frame &frame);
    CdsRouter::Reply handleSubscriptions(QByteArrayView body, QList<QByteArray> &notifications);
    std::expected<Grant, Denial> authorize(const QJsonValue &token) const;

    void replyStatus(const QString &id, int code, QLatin1StringView status,
        const QString &description = {}, int errorCode = 0);
    void replyHttp(const QString &id, const CdsRouter::Reply &reply);
    /// Sends a twilsock `close` with `status`, then closes the websocket (with `socketCode`,
    /// or by default 1002 for 406 and 1000 otherwise) once everything before it has been
    /// written; drops the connection if that has not happened within TwilsockOptions::closeGrace.
    void closeWith(int code, QLatin1StringView status, const QString &description,
        int errorCode = 0, int socketCode = 0, const QString &socketReason = {});
    void closeSocketNow();
    /// Counts bad input and logs the first of it on this connection.
    void rejectInput(const QString &why);
    void armTokenTimers();
    void onTokenWarning();
    void onTokenExpiry();
    void cancelAll();
    /// Tells the server what this connection is subscribed to (for fault rules).
    void noteSubscriptions();
    QString baseUrl(const QString &host) const;
    /// The traffic log: a request frame noted when it arrives, logged when it is answered.
    void noteRequest(const twilsock::Frame &frame, qint64 bytes);
    void logAnswer(const QString &id, int status, int errorCode, qint64 bytesOut);

    // Frames handed to one system call at most (well under Linux's IOV_MAX).
    static constexpr qsizetype kFramesPerWrite = 64;
    // About 25 acknowledgements; a request of this size is read at once.
    static constexpr int kBatchedReadBytes = 4096;

    const quint64 m_id;
    // One of the two: a LiveSocket on an I/O thread, a QWebSocket elsewhere.
    std::unique_ptr<LiveSocket> m_live;
    std::unique_ptr<QWebSocket> m_socket;
    // The TCP socket under m_socket, when known; its descriptor is written directly when it is
    // a plain socket (not TLS: a zero-change tunnel encrypts in QSslSocket).
    QPointer<QTcpSocket> m_wire;
    bool m_wireDirect = false;
    bool m_readsBatched = false;
    std::chrono::steady_clock::time_point m_lastAcknowledgement;
    // Kept from the start: an aborted socket forgets its peer.
    QHostAddress m_peer;
    quint16 m_peerPort = 0;
    QHostAddress m_local;
    quint16 m_localPort = 0;
    Engine &m_engine;
    TwilsockServer &m_server;
    TwilsockShard &m_shard;
    CdsRouter m_router;
    State m_state = State::AwaitingInit;
    Grant m_grant;
    bool m_loggedBadInput = false;

    // By stream SID. The hub holds the other reference; both go on cancel or removal.
    QHash<QString, std::shared_ptr<Subscription>> m_subscriptions;
    // Messages this connection published to a stream it is subscribed to: the SDK reports its
    // own publish locally (isLocal true) and has no de-duplication, so they are not echoed.
    QSet<QString> m_ownMessages;
    // Messages drained from the hub but not yet written, by stream: held back while the
    // socket has more than TwilsockOptions::sendBufferLimit unsent, at most the subscription's
    // capacity each (oldest dropped first).
    struct Outbox
    {
        std::deque<StreamMessage> messages;
        bool streamRemoved = false; // send stream_removed once the messages are out
    };
    QHash<QString, Outbox> m_outboxes;
    quint64 m_dropped = 0;

    // Children, so that they move with the connection (moveToThread).
    QTimer m_initTimer{this};
    QTimer m_warningTimer{this};
    QTimer m_expiryTimer{this};
    // Runs while unsent data is above the send-buffer limit; firing means "too slow".
    QTimer m_stallTimer{this};
    QTimer m_closeGraceTimer{this};
    bool m_finished = false;
    // The websocket close (code, reason) waiting for the socket to drain.
    std::optional<std::pair<int, QString>> m_socketClose;
    // An `init` waiting for its turn (AuthThrottle) holds one; released when the turn comes or
    // the socket goes.
    bool m_initHeld = false;

    struct Noted
    {
        TrafficEntry entry;
        qint64 startedNs = 0;
    };
    QHash<QString, Noted> m_noted; // by frame id, until answered
};

} // namespace streams
