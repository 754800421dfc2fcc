#pragma once

#include "api/apierror.h"
#include "api/streammessage.h"
#include "remote/remoteendpoints.h"
#include "remote/twilsockclient.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QStringList>
#include <memory>
#include <optional>

namespace streams {

class LiveSubscription;

/// Live Sync Streams traffic for one service over one twilsock connection: the subscription
/// manager. Mints access tokens (identity + data_sync grant for `serviceSid`) from the API key,
/// establishes each stream with `POST {cds}/v4/Subscriptions` (batches of max_batch_size,
/// correlation ids, re-poke when nothing is confirmed within estimated_delivery_in_ms and when
/// ttl_in_s runs out), re-establishes every subscription after a reconnect, and hands
/// stream_message_published / stream_removed / subscription_failed to the LiveSubscriptions.
/// A dropped connection is reported on each subscription (interrupted, then resumed with the
/// gap's start and end) since Sync Streams do not replay.
class SyncLiveChannel final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SyncLiveChannel)

public:
    SyncLiveChannel(RemoteEndpoints endpoints, RemoteCredentials credentials, QString serviceSid,
        QString identity = QStringLiteral("sync-streams-console"),
        TwilsockClient::Options options = {}, QObject *parent = nullptr);
    ~SyncLiveChannel() override;

    const QString &serviceSid() const { return m_serviceSid; }
    TwilsockClient &client() { return *m_client; }

    /// A subscription to one stream of this service; opens the connection on first use.
    /// Destroying the subscription cancels it on the server when it was the last one for the
    /// stream. Fails at once (failed signal, Ended) without an API key.
    std::unique_ptr<LiveSubscription> subscribe(const QString &streamSid);

    /// Publishes over twilsock (POST {links.messages} {"data":…}) — what twilio-sync does.
    QFuture<std::expected<QString, ApiError>> publish(
        const QString &streamSid, const QByteArray &data);

Q_SIGNALS:
    void stateChanged(streams::TwilsockClient::State state);

private:
    class Subscription; // the LiveSubscription subscribe() hands out (synclivechannel.cpp)

    /// What this channel knows about one stream it is subscribed to.
    struct StreamEntry
    {
        enum class Status {
            Pending, // to be (re-)established at the next poke
            Establishing, // establish sent, not yet confirmed
            Established,
            Gone // removed, failed or refused: no pokes until someone subscribes again
        };
        QList<Subscription *> subscriptions;
        Status status = Status::Pending;
        qint64 correlationId = 0; // of the establish in flight
        int retries = 0; // re-pokes since the last confirmation
        QList<StreamMessage> batch; // arrivals not delivered yet
    };

    void ensureOpen();
    void schedulePoke();
    /// Sends the cancels due and establishes every Pending stream, in batches.
    void poke();
    void sendEstablish(const QStringList &streamSids);
    void sendCancel(const QStringList &streamSids);
    QByteArray subscriptionsBody(QLatin1StringView action, qint64 correlationId, int retried,
        const QStringList &streamSids) const;
    void onEstablishReply(qint64 correlationId, const QStringList &streamSids,
        const std::expected<TwilsockClient::UpstreamReply, ApiError> &reply);
    /// Pending again (and poked later) for the streams of `correlationId` still unconfirmed.
    void retryUnconfirmed(qint64 correlationId);
    void onNotification(const QString &messageType, const QByteArray &payload);
    void onEvent(const QString &eventType, const QJsonObject &event,
        std::optional<QByteArrayView> rawMessageData);
    void onConnected();
    void onDisconnected(const ApiError &reason);
    void onClientState(TwilsockClient::State state);
    void enqueue(const StreamMessage &message);
    void flush();
    void detach(Subscription *subscription);
    QList<QPointer<Subscription>> subscriptionsOf(const QString &streamSid) const;
    void failStreams(const QStringList &streamSids, const ApiError &error);
    void postMessage(const QUrl &messagesUrl, const QString &streamSid, const QByteArray &data,
        std::function<void(std::expected<QString, ApiError>)> done);
    QUrl cdsUrl(const QString &path) const;
    qint64 nextCorrelationId();

    RemoteEndpoints m_endpoints;
    RemoteCredentials m_credentials;
    QString m_serviceSid;
    QString m_identity;
    std::unique_ptr<TwilsockClient> m_client;

    QHash<QString, StreamEntry> m_streams; // by stream SID
    QStringList m_cancels; // streams to cancel at the next poke
    QHash<QString, QUrl> m_messageLinks; // descriptor links.messages by stream SID
    // Messages this channel published and delivered to its own subscribers: the engine does
    // not echo them, and if a server does, they are not delivered twice.
    QSet<QString> m_ownMessages;
    int m_maxBatchSize = 100;
    int m_estimatedDeliveryMs = 5000;
    qint64 m_lastCorrelationId = 0;
    bool m_pokeScheduled = false;
    bool m_flushScheduled = false;
    bool m_destroying = false;
    QTimer *m_ttlTimer = nullptr;
};

} // namespace streams
