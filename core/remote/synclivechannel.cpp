#include "remote/synclivechannel.h"

#include "api/jsonwriter.h"
#include "api/rawjson.h"
#include "api/validation.h"
#include "live/livesubscription.h"
#include "twilsock/accesstoken.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QPromise>
#include <QTimer>
#include <algorithm>

Q_LOGGING_CATEGORY(lcSyncLive, "streams.remote.live", QtWarningMsg)

namespace streams {

namespace {

// QTimer takes an int; longer waits are capped (a re-poke a day early does no harm).
constexpr qint64 kMaxTimerMs = 24LL * 3600 * 1000;
// Own publishes remembered for de-duplication; a server that never echoes would otherwise
// grow the set for ever, and an echo comes within moments if at all.
constexpr qsizetype kMaxOwnMessages = 1024;

QString key(const char *name)
{
    return QString::fromLatin1(name);
}

ApiError needsApiKey()
{
    return ApiError(ApiError::AuthenticationFailed, 401,
        QStringLiteral("Live subscriptions need an API key: twilsock access tokens can only be "
                       "signed with an API key SID and secret, not with an Auth Token. Add an "
                       "API key to this connection."));
}

ApiError errorFromReply(const TwilsockClient::UpstreamReply &reply)
{
    return ApiError::fromJson(QJsonDocument::fromJson(reply.body).object(), reply.httpStatus);
}

/// A message's data as compact JSON in the publisher's key order when the raw text is at hand.
QByteArray messageData(const QJsonValue &parsed, std::optional<QByteArrayView> raw)
{
    if (raw) {
        if (auto compact = validation::receivedMessageData(*raw))
            return std::move(*compact);
    }
    if (parsed.isObject())
        return QJsonDocument(parsed.toObject()).toJson(QJsonDocument::Compact);
    return QByteArrayLiteral("{}");
}

} // namespace

/// The LiveSubscription handed out by subscribe(): the channel drives it through the protected
/// interface; destroying it detaches it (and cancels the stream when it was the last one).
class SyncLiveChannel::Subscription final : public LiveSubscription
{
public:
    Subscription(SyncLiveChannel &channel, const QString &serviceSid, const QString &streamSid)
        : LiveSubscription(serviceSid, streamSid), m_channel(&channel)
    { }
    ~Subscription() override
    {
        if (m_channel)
            m_channel->detach(this);
    }
    Q_DISABLE_COPY_MOVE(Subscription)

    void orphan() { m_channel = nullptr; }

    using LiveSubscription::deliver;
    using LiveSubscription::endBecauseRemoved;
    using LiveSubscription::endWithError;
    using LiveSubscription::interrupt;
    using LiveSubscription::resume;
    using LiveSubscription::setState;

private:
    QPointer<SyncLiveChannel> m_channel;
};

SyncLiveChannel::SyncLiveChannel(RemoteEndpoints endpoints, RemoteCredentials credentials,
    QString serviceSid, QString identity, TwilsockClient::Options options, QObject *parent)
    : QObject(parent),
      m_endpoints(std::move(endpoints)),
      m_credentials(std::move(credentials)),
      m_serviceSid(std::move(serviceSid)),
      m_identity(std::move(identity)),
      m_ttlTimer(new QTimer(this))
{
    // A fresh token for every init and update: iss = API key, sub = account, and a Sync grant
    // for this service. The secret stays in this closure; nothing here logs it.
    const int ttlSeconds = std::max(1, options.tokenTtlSeconds);
    TwilsockClient::TokenSource tokens =
        [credentials = m_credentials, identity = m_identity, serviceSid = m_serviceSid,
            ttlSeconds]() -> std::expected<TwilsockClient::Token, QString> {
        if (!credentials.hasApiKey())
            return std::unexpected(needsApiKey().message());
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        twilsock::AccessTokenClaims claims;
        claims.apiKeySid = credentials.apiKeySid;
        claims.accountSid = credentials.accountSid;
        claims.identity = identity;
        claims.serviceSid = serviceSid;
        claims.issuedAt = now;
        claims.expiresAt = now + ttlSeconds;
        QByteArray jwt = twilsock::AccessToken::mint(claims, credentials.apiKeySecret.toUtf8());
        if (jwt.isEmpty())
            return std::unexpected(QStringLiteral("the access token could not be signed"));
        return TwilsockClient::Token{std::move(jwt), claims.expiresAt};
    };
    m_client =
        std::make_unique<TwilsockClient>(m_endpoints.twilsockUrl, std::move(tokens), options);

    connect(m_client.get(), &TwilsockClient::stateChanged, this, &SyncLiveChannel::onClientState);
    connect(m_client.get(), &TwilsockClient::connected, this, &SyncLiveChannel::onConnected);
    connect(m_client.get(), &TwilsockClient::disconnected, this, &SyncLiveChannel::onDisconnected);
    connect(m_client.get(), &TwilsockClient::notificationReceived, this,
        &SyncLiveChannel::onNotification);

    m_ttlTimer->setSingleShot(true);
    connect(m_ttlTimer, &QTimer::timeout, this, [this] {
        // The server forgets subscriptions after ttl_in_s: poke them again, without a gap.
        for (StreamEntry &entry : m_streams) {
            if (entry.status == StreamEntry::Status::Established)
                entry.status = StreamEntry::Status::Pending;
        }
        poke();
    });
}

SyncLiveChannel::~SyncLiveChannel()
{
    m_destroying = true;
    m_client->disconnect(this);
    QList<QPointer<Subscription>> subscriptions;
    for (const StreamEntry &entry : std::as_const(m_streams)) {
        for (Subscription *subscription : entry.subscriptions) {
            subscription->orphan();
            subscriptions.append(subscription);
        }
    }
    m_streams.clear();
    const ApiError closed = ApiError::connectionFailed(
        QStringLiteral("The live connection to the Sync service %1 was closed").arg(m_serviceSid));
    for (const QPointer<Subscription> &subscription : std::as_const(subscriptions)) {
        if (subscription)
            subscription->endWithError(closed);
    }
    // While this object is whole: pending futures finish now and their continuations run.
    m_client->close();
    m_client.reset();
}

std::unique_ptr<LiveSubscription> SyncLiveChannel::subscribe(const QString &streamSid)
{
    auto subscription = std::make_unique<Subscription>(*this, m_serviceSid, streamSid);
    Subscription *raw = subscription.get();
    if (!m_credentials.hasApiKey()) {
        // Ended at once; the signal is queued so that the caller can connect to it first.
        raw->orphan();
        raw->setState(LiveSubscription::State::Ended);
        QMetaObject::invokeMethod(
            raw, [raw] { raw->endWithError(needsApiKey()); }, Qt::QueuedConnection);
        return subscription;
    }
    StreamEntry &entry = m_streams[streamSid];
    entry.subscriptions.append(raw);
    if (entry.status == StreamEntry::Status::Established) {
        QMetaObject::invokeMethod(
            raw, [raw] { raw->resume(); }, Qt::QueuedConnection);
    } else if (entry.status == StreamEntry::Status::Gone) {
        entry.status = StreamEntry::Status::Pending;
        entry.retries = 0;
    }
    ensureOpen();
    schedulePoke();
    return subscription;
}

void SyncLiveChannel::ensureOpen()
{
    const TwilsockClient::State state = m_client->state();
    if (state == TwilsockClient::State::Disconnected || state == TwilsockClient::State::Denied
        || state == TwilsockClient::State::Failed)
        m_client->open();
}

void SyncLiveChannel::schedulePoke()
{
    if (std::exchange(m_pokeScheduled, true))
        return;
    // Subscribing to many streams in one go makes one batched request, not one each.
    QTimer::singleShot(0, this, [this] {
        m_pokeScheduled = false;
        poke();
    });
}

void SyncLiveChannel::poke()
{
    if (m_destroying || m_client->state() != TwilsockClient::State::Connected)
        return; // onConnected() pokes everything
    const int batchSize = std::max(1, m_maxBatchSize);
    const QStringList cancels = std::exchange(m_cancels, {});
    for (qsizetype i = 0; i < cancels.size(); i += batchSize)
        sendCancel(cancels.mid(i, batchSize));

    QStringList pending;
    for (auto it = m_streams.cbegin(); it != m_streams.cend(); ++it) {
        if (it->status == StreamEntry::Status::Pending)
            pending.append(it.key());
    }
    // Sent after collecting: a reply may come back synchronously and change m_streams.
    for (qsizetype i = 0; i < pending.size(); i += batchSize)
        sendEstablish(pending.mid(i, batchSize));
}

qint64 SyncLiveChannel::nextCorrelationId()
{
    // Date.now() in the SDK; kept strictly increasing so that two pokes never share one.
    m_lastCorrelationId = std::max(QDateTime::currentMSecsSinceEpoch(), m_lastCorrelationId + 1);
    return m_lastCorrelationId;
}

QByteArray SyncLiveChannel::subscriptionsBody(QLatin1StringView action, qint64 correlationId,
    int retried, const QStringList &streamSids) const
{
    // Written in the SDK's member order (subscriptions.ts request()).
    QByteArray body;
    JsonWriter json(body);
    json.beginObject()
        .key(QLatin1StringView("event_protocol_version"))
        .value(4)
        .key(QLatin1StringView("action"))
        .value(action)
        .key(QLatin1StringView("correlation_id"))
        .value(correlationId)
        .key(QLatin1StringView("retried_requests"))
        .value(retried)
        .key(QLatin1StringView("ttl_in_s"))
        .value(-1)
        .key(QLatin1StringView("requests"))
        .beginArray();
    const bool establish = action == QLatin1StringView("establish");
    for (const QString &sid : streamSids) {
        json.beginObject()
            .key(QLatin1StringView("object_sid"))
            .value(QStringView(sid))
            .key(QLatin1StringView("object_type"))
            .value(QLatin1StringView("stream"));
        if (establish)
            json.key(QLatin1StringView("last_event_id")).nullValue();
        json.endObject();
    }
    json.endArray().endObject();
    return body;
}

void SyncLiveChannel::sendEstablish(const QStringList &streamSids)
{
    const qint64 correlationId = nextCorrelationId();
    int retried = 0;
    for (const QString &sid : streamSids) {
        StreamEntry &entry = m_streams[sid];
        entry.status = StreamEntry::Status::Establishing;
        entry.correlationId = correlationId;
        retried = std::max(retried, entry.retries);
    }
    const QByteArray body =
        subscriptionsBody(QLatin1StringView("establish"), correlationId, retried, streamSids);
    m_client->sendUpstream("POST", cdsUrl(QStringLiteral("/v4/Subscriptions")), body)
        .then(this,
            [this, correlationId, streamSids](
                const std::expected<TwilsockClient::UpstreamReply, ApiError> &reply) {
                if (!m_destroying)
                    onEstablishReply(correlationId, streamSids, reply);
            });
}

void SyncLiveChannel::sendCancel(const QStringList &streamSids)
{
    const QByteArray body =
        subscriptionsBody(QLatin1StringView("cancel"), nextCorrelationId(), 0, streamSids);
    m_client->sendUpstream("POST", cdsUrl(QStringLiteral("/v4/Subscriptions")), body)
        .then(this,
            [count = streamSids.size()](
                const std::expected<TwilsockClient::UpstreamReply, ApiError> &reply) {
                // Best effort: a connection that drops takes its subscriptions with it anyway.
                if (!reply || reply->httpStatus / 100 != 2)
                    qCDebug(lcSyncLive)
                        << "cancelling" << count << "subscriptions failed:"
                        << (reply ? errorFromReply(*reply) : reply.error()).message();
            });
}

void SyncLiveChannel::onEstablishReply(qint64 correlationId, const QStringList &streamSids,
    const std::expected<TwilsockClient::UpstreamReply, ApiError> &reply)
{
    const auto stillWaiting = [&](const QString &sid) {
        const auto it = m_streams.constFind(sid);
        return it != m_streams.cend() && it->status == StreamEntry::Status::Establishing
            && it->correlationId == correlationId;
    };
    if (!reply || reply->httpStatus == 429 || reply->httpStatus >= 500) {
        // Lost with the connection (connected() re-pokes), timed out or throttled: try again
        // after the service's own estimate.
        for (const QString &sid : streamSids) {
            if (stillWaiting(sid)) {
                m_streams[sid].status = StreamEntry::Status::Pending;
                ++m_streams[sid].retries;
            }
        }
        if (m_client->state() == TwilsockClient::State::Connected)
            QTimer::singleShot(m_estimatedDeliveryMs, this, &SyncLiveChannel::poke);
        return;
    }
    if (reply->httpStatus / 100 != 2) {
        QStringList failed;
        for (const QString &sid : streamSids) {
            if (stillWaiting(sid))
                failed.append(sid);
        }
        failStreams(failed, errorFromReply(*reply));
        return;
    }
    const QJsonObject body = QJsonDocument::fromJson(reply->body).object();
    if (const int delivery = body.value(key("estimated_delivery_in_ms")).toInt(); delivery > 0)
        m_estimatedDeliveryMs = delivery;
    if (const int batch = body.value(key("max_batch_size")).toInt(); batch > 0)
        m_maxBatchSize = batch;
    // The earliest deadline counts: later replies must not push back the re-poke of older ones.
    const qint64 ttl = qint64(body.value(key("ttl_in_s")).toDouble(-1));
    if (ttl > 0 && !m_ttlTimer->isActive())
        m_ttlTimer->start(int(std::min(ttl * 1000, kMaxTimerMs)));
    // The confirmation is a notification; if none comes in time, poke again.
    QTimer::singleShot(
        m_estimatedDeliveryMs, this, [this, correlationId] { retryUnconfirmed(correlationId); });
}

void SyncLiveChannel::retryUnconfirmed(qint64 correlationId)
{
    bool any = false;
    for (StreamEntry &entry : m_streams) {
        if (entry.status == StreamEntry::Status::Establishing
            && entry.correlationId == correlationId) {
            entry.status = StreamEntry::Status::Pending;
            ++entry.retries;
            any = true;
        }
    }
    if (any)
        poke();
}

void SyncLiveChannel::onNotification(const QString &messageType, const QByteArray &payload)
{
    // Dispatch on event_type whatever the message_type: which type the cloud uses for stream
    // events is not certain (docs/architecture.md#sync-over-twilsock).
    QJsonParseError error;
    const QJsonObject object = QJsonDocument::fromJson(payload, &error).object();
    if (error.error != QJsonParseError::NoError) {
        qCDebug(lcSyncLive) << "ignored a" << messageType << "notification that is not JSON";
        return;
    }
    const QString eventType = object.value(key("event_type")).toString();
    if (const QJsonValue event = object.value(key("event")); event.isObject()) {
        std::optional<QByteArrayView> rawData;
        if (const auto rawEvent = rawjson::member(payload, "event"))
            rawData = rawjson::member(*rawEvent, "message_data");
        onEvent(eventType, event.toObject(), rawData);
    }
    const QJsonArray events = object.value(key("events")).toArray();
    for (const QJsonValue &event : events)
        onEvent(eventType, event.toObject(), std::nullopt);
}

void SyncLiveChannel::onEvent(const QString &eventType, const QJsonObject &event,
    std::optional<QByteArrayView> rawMessageData)
{
    if (m_destroying)
        return;
    if (eventType == u"stream_message_published") {
        const QString streamSid = event.value(key("stream_sid")).toString();
        const QString messageSid = event.value(key("message_sid")).toString();
        if (!m_ownMessages.isEmpty() && m_ownMessages.remove(messageSid))
            return;
        enqueue(StreamMessage{messageSid, m_serviceSid, streamSid,
            messageData(event.value(key("message_data")), rawMessageData)});
        return;
    }
    if (eventType == u"stream_removed") {
        const QString streamSid = event.value(key("stream_sid")).toString();
        m_messageLinks.remove(streamSid);
        const auto it = m_streams.find(streamSid);
        if (it == m_streams.end() || it->status == StreamEntry::Status::Gone)
            return;
        // What arrived before the removal is delivered first.
        flush();
        const auto entry = m_streams.find(streamSid);
        if (entry == m_streams.end())
            return;
        entry->status = StreamEntry::Status::Gone;
        for (const QPointer<Subscription> &subscription : subscriptionsOf(streamSid)) {
            if (subscription)
                subscription->endBecauseRemoved();
        }
        return;
    }
    const QString objectSid = event.value(key("object_sid")).toString();
    if (eventType == u"subscription_established") {
        const auto it = m_streams.find(objectSid);
        if (it == m_streams.end() || it->status == StreamEntry::Status::Gone)
            return;
        it->status = StreamEntry::Status::Established;
        it->retries = 0;
        // Active, and for an interrupted feed the gap is reported.
        for (const QPointer<Subscription> &subscription : subscriptionsOf(objectSid)) {
            if (subscription)
                subscription->resume();
        }
        return;
    }
    if (eventType == u"subscription_failed") {
        const QJsonObject error = event.value(key("error")).toObject();
        const int status = error.value(key("status")).toInt(404);
        const ApiError apiError = status == 404
            ? ApiError(error.value(key("code")).toInt(ApiError::NotFound), 404,
                QStringLiteral("Stream %1 was not found in the Sync service %2")
                    .arg(objectSid, m_serviceSid))
            : ApiError::fromJson(error, status);
        failStreams({objectSid}, apiError);
        return;
    }
    if (eventType != u"subscription_canceled")
        qCDebug(lcSyncLive) << "ignored a" << eventType << "event";
}

void SyncLiveChannel::failStreams(const QStringList &streamSids, const ApiError &error)
{
    QList<QPointer<Subscription>> failed;
    for (const QString &sid : streamSids) {
        const auto it = m_streams.find(sid);
        if (it == m_streams.end() || it->status == StreamEntry::Status::Gone)
            continue;
        it->status = StreamEntry::Status::Gone;
        it->batch.clear();
        failed += subscriptionsOf(sid);
    }
    for (const QPointer<Subscription> &subscription : std::as_const(failed)) {
        if (subscription)
            subscription->endWithError(error);
    }
}

void SyncLiveChannel::onConnected()
{
    // A new connection has no subscriptions: every stream is established again.
    m_cancels.clear();
    for (StreamEntry &entry : m_streams) {
        if (entry.status != StreamEntry::Status::Gone) {
            entry.status = StreamEntry::Status::Pending;
            entry.retries = 0;
        }
    }
    poke();
}

void SyncLiveChannel::onDisconnected(const ApiError &reason)
{
    const TwilsockClient::State state = m_client->state();
    if (state == TwilsockClient::State::Denied || state == TwilsockClient::State::Failed)
        return; // onClientState ended every subscription
    QList<QPointer<Subscription>> cut;
    for (StreamEntry &entry : m_streams) {
        if (entry.status == StreamEntry::Status::Gone)
            continue;
        entry.status = StreamEntry::Status::Pending;
        for (Subscription *subscription : std::as_const(entry.subscriptions)) {
            // Only a live feed has a gap; one still subscribing simply waits longer.
            if (subscription->state() == LiveSubscription::State::Active)
                cut.append(subscription);
        }
    }
    m_cancels.clear();
    for (const QPointer<Subscription> &subscription : std::as_const(cut)) {
        if (subscription)
            subscription->interrupt(reason);
    }
}

void SyncLiveChannel::onClientState(TwilsockClient::State state)
{
    Q_EMIT stateChanged(state);
    if (state != TwilsockClient::State::Denied && state != TwilsockClient::State::Failed)
        return;
    QStringList streams;
    for (auto it = m_streams.cbegin(); it != m_streams.cend(); ++it)
        streams.append(it.key());
    failStreams(streams, m_client->lastError());
}

void SyncLiveChannel::enqueue(const StreamMessage &message)
{
    const auto it = m_streams.find(message.streamSid);
    if (it == m_streams.end() || it->status == StreamEntry::Status::Gone)
        return;
    it->batch.append(message);
    if (std::exchange(m_flushScheduled, true))
        return;
    // Everything that arrives within one pass of the event loop is delivered as one batch.
    QTimer::singleShot(0, this, &SyncLiveChannel::flush);
}

void SyncLiveChannel::flush()
{
    m_flushScheduled = false;
    QList<std::pair<QList<QPointer<Subscription>>, QList<StreamMessage>>> batches;
    for (auto it = m_streams.begin(); it != m_streams.end(); ++it) {
        if (!it->batch.isEmpty())
            batches.append({subscriptionsOf(it.key()), std::exchange(it->batch, {})});
    }
    // Delivered after collecting: a receiver may destroy subscriptions (and entries).
    for (const auto &[subscriptions, messages] : std::as_const(batches)) {
        for (const QPointer<Subscription> &subscription : subscriptions) {
            if (subscription && subscription->state() != LiveSubscription::State::Ended)
                subscription->deliver(messages, 0);
        }
    }
}

QList<QPointer<SyncLiveChannel::Subscription>> SyncLiveChannel::subscriptionsOf(
    const QString &streamSid) const
{
    QList<QPointer<Subscription>> subscriptions;
    const auto it = m_streams.constFind(streamSid);
    if (it == m_streams.cend())
        return subscriptions;
    for (Subscription *subscription : it->subscriptions)
        subscriptions.append(subscription);
    return subscriptions;
}

void SyncLiveChannel::detach(Subscription *subscription)
{
    if (m_destroying)
        return;
    const QString streamSid = subscription->streamSid();
    const auto it = m_streams.find(streamSid);
    if (it == m_streams.end())
        return;
    it->subscriptions.removeAll(subscription);
    if (!it->subscriptions.isEmpty())
        return;
    const bool serverHasIt = it->status == StreamEntry::Status::Establishing
        || it->status == StreamEntry::Status::Established;
    m_streams.erase(it);
    if (serverHasIt && m_client->state() == TwilsockClient::State::Connected) {
        if (!m_cancels.contains(streamSid))
            m_cancels.append(streamSid);
        schedulePoke();
    }
}

QFuture<std::expected<QString, ApiError>> SyncLiveChannel::publish(
    const QString &streamSid, const QByteArray &data)
{
    auto promise = std::make_shared<QPromise<std::expected<QString, ApiError>>>();
    promise->start();
    QFuture<std::expected<QString, ApiError>> future = promise->future();
    auto done = [promise](std::expected<QString, ApiError> result) {
        promise->addResult(std::move(result));
        promise->finish();
    };
    if (!m_credentials.hasApiKey()) {
        done(std::unexpected(needsApiKey()));
        return future;
    }
    // The same validator as everywhere (54008/54006), and its compact text keeps key order.
    auto payload = validation::parseMessageData(data);
    if (!payload) {
        done(std::unexpected(payload.error().error));
        return future;
    }
    ensureOpen();
    if (const auto link = m_messageLinks.constFind(streamSid); link != m_messageLinks.cend()) {
        postMessage(*link, streamSid, payload->compact, std::move(done));
        return future;
    }
    // links.messages comes from the stream's descriptor, used verbatim as the SDK does.
    const QUrl descriptorUrl =
        cdsUrl(QStringLiteral("/v3/Streams/%1")
                   .arg(QString::fromLatin1(QUrl::toPercentEncoding(streamSid))));
    m_client->sendUpstream("GET", descriptorUrl)
        .then(this,
            [this, streamSid, compact = payload->compact, done](
                const std::expected<TwilsockClient::UpstreamReply, ApiError> &reply) mutable {
                if (!reply) {
                    done(std::unexpected(reply.error()));
                    return;
                }
                if (reply->httpStatus != 200) {
                    done(std::unexpected(errorFromReply(*reply)));
                    return;
                }
                const QJsonObject descriptor = QJsonDocument::fromJson(reply->body).object();
                const QUrl link(
                    descriptor.value(key("links")).toObject().value(key("messages")).toString());
                const QString sid = descriptor.value(key("sid")).toString(streamSid);
                if (!link.isValid() || link.isRelative()) {
                    done(std::unexpected(ApiError::internal(
                        QStringLiteral("The descriptor of stream %1 has no messages link")
                            .arg(streamSid))));
                    return;
                }
                if (m_destroying) {
                    done(std::unexpected(ApiError::connectionFailed(
                        QStringLiteral("The live connection was closed"))));
                    return;
                }
                m_messageLinks.insert(sid, link);
                postMessage(link, sid, compact, std::move(done));
            });
    return future;
}

void SyncLiveChannel::postMessage(const QUrl &messagesUrl, const QString &streamSid,
    const QByteArray &data, std::function<void(std::expected<QString, ApiError>)> done)
{
    QByteArray body;
    body.reserve(data.size() + 10);
    JsonWriter(body).beginObject().key(QLatin1StringView("data")).rawValue(data).endObject();
    m_client->sendUpstream("POST", messagesUrl, body)
        .then(this,
            [this, streamSid, data, done = std::move(done)](
                const std::expected<TwilsockClient::UpstreamReply, ApiError> &reply) {
                if (!reply) {
                    done(std::unexpected(reply.error()));
                    return;
                }
                if (reply->httpStatus / 100 != 2) {
                    if (reply->httpStatus == 404 && !m_destroying)
                        m_messageLinks.remove(streamSid);
                    done(std::unexpected(errorFromReply(*reply)));
                    return;
                }
                const QString messageSid =
                    QJsonDocument::fromJson(reply->body).object().value(key("sid")).toString();
                if (messageSid.isEmpty()) {
                    done(std::unexpected(ApiError::internal(
                        QStringLiteral("The service accepted the message but sent no SID"))));
                    return;
                }
                // Like the SDK (isLocal): the publisher's own subscribers get the message from
                // here, since the engine does not echo it on the publishing connection.
                if (!m_destroying && m_streams.contains(streamSid)) {
                    if (m_ownMessages.size() >= kMaxOwnMessages)
                        m_ownMessages.clear();
                    m_ownMessages.insert(messageSid);
                    enqueue(StreamMessage{messageSid, m_serviceSid, streamSid, data});
                }
                done(messageSid);
            });
}

QUrl SyncLiveChannel::cdsUrl(const QString &path) const
{
    QUrl url = m_endpoints.cdsBase;
    QString base = url.path(QUrl::FullyEncoded);
    while (base.endsWith(u'/'))
        base.chop(1);
    url.setPath(base + path);
    url.setQuery(QString());
    url.setFragment(QString());
    return url;
}

} // namespace streams
