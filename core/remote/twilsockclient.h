#pragma once

#include "api/apierror.h"

#include <QByteArray>
#include <QFuture>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QUrl>
#include <expected>
#include <functional>
#include <map>
#include <memory>

class QWebSocket;
class QTimer;

namespace streams {

/// One twilsock v3 connection (docs/architecture.md#twilsock-v3-frames), as Twilio's own SDKs
/// speak it: binary frames through twilsock::FrameCodec, `init` with a freshly minted access
/// token, requests correlated by id with a timeout, every notification/ping/client_update/close
/// acknowledged, a 45 s watchdog (any frame resets it; silence reconnects), reconnects with
/// jittered exponential back-off, `update` with a new token on token_about_to_expire (and before
/// exp if the server never says), and the server's `close` codes: 308 reconnect (honouring
/// backoff_policy), 410 token expired → reconnect with a new token, 401/403 and init 401 → Denied
/// (terminal), 406/417 → Failed (terminal).
class TwilsockClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TwilsockClient)

public:
    enum class State {
        Disconnected, // not started, or closed by close()
        Connecting, // first connection attempt (socket + init)
        Connected,
        Reconnecting, // lost after being connected (or a failed attempt): waiting / retrying
        Denied, // the server refused the token: terminal until open() is called again
        Failed // protocol error (406/417) or a token could not be minted: terminal
    };
    Q_ENUM(State)

    struct Options
    {
        int requestTimeoutMs = 30000;
        int watchdogMs = 45000;
        int backoffInitialMs = 1000;
        int backoffMaxMs = 60000;
        double jitter = 0.2;
        /// Refresh this long before exp when the server sends no token_about_to_expire.
        int tokenRefreshLeadMs = 60000;
        /// Lifetime of the access tokens a SyncLiveChannel mints (Twilio's default is 3600 s).
        int tokenTtlSeconds = 3600;
    };

    /// Returns a fresh access token (JWT) each time it is called, with its exp in seconds.
    struct Token
    {
        QByteArray jwt;
        qint64 expiresAt = 0;
    };
    using TokenSource = std::function<std::expected<Token, QString>()>;

    /// The answer to an upstream `message` request: the HTTP status and body the service sent.
    struct UpstreamReply
    {
        int httpStatus = 0;
        QByteArray body;
    };

    TwilsockClient(QUrl url, TokenSource tokens, QObject *parent = nullptr);
    TwilsockClient(QUrl url, TokenSource tokens, Options options, QObject *parent = nullptr);
    ~TwilsockClient() override;

    State state() const { return m_state; }
    QUrl url() const { return m_url; }
    /// Why the connection last dropped or was refused (empty message when it never did).
    ApiError lastError() const { return m_lastError; }

    /// Connects (again) and keeps the connection up until close().
    void open();
    /// Sends `close`, closes the socket, and stops reconnecting.
    void close();

    /// Sends an upstream request (`method:"message"`, active_grant data_sync) for `url` (on the
    /// CDS base, e.g. .../v4/Subscriptions) with a JSON body. Requests made while not connected
    /// wait for the connection (at most the request timeout). Twilsock-level failures (timeout,
    /// status ≠ 200, connection lost before the reply) are ApiErrors; HTTP errors from the
    /// service are an UpstreamReply with that status.
    QFuture<std::expected<UpstreamReply, ApiError>> sendUpstream(
        const QByteArray &method, const QUrl &url, const QByteArray &jsonBody = {});

Q_SIGNALS:
    void stateChanged(streams::TwilsockClient::State state);
    /// `init` succeeded (every time: first connect and each reconnect).
    void connected();
    /// The connection went away (it will be retried unless the state is terminal).
    void disconnected(const streams::ApiError &reason);
    /// A `notification` frame: its message_type and JSON payload (already acknowledged).
    void notificationReceived(const QString &messageType, const QByteArray &payload);

private:
    /// A request frame waiting for its reply (or, for upstream requests, for the connection).
    struct Pending
    {
        QByteArray frame;
        bool needsConnection = false; // upstream/update: only sent once init succeeded
        bool sent = false;
        std::function<void(std::expected<QJsonObject, ApiError>, QByteArray)> done;
        std::unique_ptr<QTimer> timer;
    };
    /// How a connection ends: what to do next.
    enum class Next {
        Reconnect, // back off, then try again
        ReconnectNow, // at once (server offload 308, token expired 410, expired init token)
        Denied,
        Failed
    };
    /// What happens to the socket of a connection that ends.
    enum class SocketEnd {
        SayClose, // send a twilsock `close`, then the websocket closing handshake
        CloseOnly, // the server said `close`: just the closing handshake
        Abort // the socket is dead or silent: drop it
    };

    void setState(State state);
    void startAttempt();
    void onSocketConnected();
    void onSocketDropped();
    void onBinaryMessage(const QByteArray &bytes);
    void onInitReply(std::expected<QJsonObject, ApiError> header, const QByteArray &payload);
    void onServerClose(const QJsonObject &header, const QByteArray &payload);
    void onClientUpdate(const QJsonObject &header);
    /// Ends the current socket (if any) and decides what happens next.
    void endConnection(const ApiError &reason, Next next, int delayMs, SocketEnd end);
    void dropSocket(SocketEnd end);
    int nextBackoffMs();
    void armWatchdog();
    void acknowledge(const QString &id);
    /// Registers a request; sends it now when it may go out, else when the connection is up.
    QString request(QJsonObject header, const QByteArray &payload, bool needsConnection,
        std::function<void(std::expected<QJsonObject, ApiError>, QByteArray)> done);
    void sendFrame(const QByteArray &frame);
    void flushQueued();
    void finishPending(const QString &id, std::expected<QJsonObject, ApiError> header,
        const QByteArray &payload = {});
    /// Fails every request already sent on the socket (their replies cannot come any more).
    void failSent(const ApiError &error);
    void failAll(const ApiError &error);
    bool takeToken();
    void scheduleTokenRefresh();
    void refreshToken();
    QString hostLabel() const;

    QUrl m_url;
    TokenSource m_tokens;
    Options m_options;
    State m_state = State::Disconnected;
    ApiError m_lastError;

    QWebSocket *m_socket = nullptr; // one per attempt, deleted later when it ends
    bool m_initialised = false; // init succeeded on m_socket
    bool m_retriedExpiredToken = false;
    int m_attempt = 0; // consecutive failed attempts since the last successful init
    QJsonValue m_continuationToken;
    std::map<QString, Pending> m_pending;
    QList<QString> m_queue; // ids of requests waiting for the connection, oldest first

    Token m_token; // the token the session runs on
    qint64 m_tokenObtainedMs = 0;
    bool m_tokenWarned = false; // the server said token_about_to_expire for m_token
    bool m_updating = false;

    QTimer *m_watchdog = nullptr;
    QTimer *m_reconnectTimer = nullptr;
    QTimer *m_tokenTimer = nullptr;
};

} // namespace streams
