#pragma once

#include "server/cdsrouter.h"
#include "twilsock/accesstoken.h"
#include "twilsock/framecodec.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <expected>
#include <memory>

QT_BEGIN_NAMESPACE
class QWebSocket;
QT_END_NAMESPACE

namespace streams {

class Engine;
class Subscription;
class TwilsockServer;

/// One twilsock v3 session on one websocket, on the engine's thread: `init` with an access
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
    TwilsockConnection(
        quint64 id, std::unique_ptr<QWebSocket> socket, Engine &engine, TwilsockServer &server);
    ~TwilsockConnection() override;

    quint64 id() const { return m_id; }
    /// True once `init` succeeded and until the session ends.
    bool isReady() const { return m_state == State::Ready; }
    void send(const QByteArray &frame);
    /// Sends what the subscription to `streamSid` has queued (after a hub wake-up).
    void deliver(const QString &streamSid);

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

    void onBinaryMessage(const QByteArray &bytes);
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
    /// Sends a twilsock `close` with `status`, then closes the socket.
    void closeWith(
        int code, QLatin1StringView status, const QString &description, int errorCode = 0);
    /// Counts bad input and logs the first of it on this connection.
    void rejectInput(const QString &why);
    void armTokenTimers();
    void onTokenWarning();
    void onTokenExpiry();
    void cancelAll();
    QString baseUrl(const QString &host) const;

    const quint64 m_id;
    std::unique_ptr<QWebSocket> m_socket;
    Engine &m_engine;
    TwilsockServer &m_server;
    CdsRouter m_router;
    State m_state = State::AwaitingInit;
    Grant m_grant;
    bool m_loggedBadInput = false;

    // By stream SID. The hub holds the other reference; both go on cancel or removal.
    QHash<QString, std::shared_ptr<Subscription>> m_subscriptions;
    // Messages this connection published to a stream it is subscribed to: the SDK reports its
    // own publish locally (isLocal true) and has no de-duplication, so they are not echoed.
    QSet<QString> m_ownMessages;
    // Streams with queued messages held back while the socket's send buffer is full.
    QSet<QString> m_backlog;

    QTimer m_initTimer;
    QTimer m_warningTimer;
    QTimer m_expiryTimer;
};

} // namespace streams
