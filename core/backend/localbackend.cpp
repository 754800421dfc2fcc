#include "backend/localbackend.h"

#include "engine/engine.h"
#include "host/enginehost.h"
#include "live/livesubscription.h"
#include "server/twilsockserver.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QPointer>
#include <QPromise>

namespace streams {

namespace {

/// Connects a hub Subscription (filled on the engine's threads) to a LiveSubscription on the
/// consumer's thread. The relay outlives either side: the consumer detaches it on destruction,
/// after which a late wake-up or a late subscribe result finds no owner and does nothing.
struct Relay
{
    QMutex mutex;
    QObject *owner = nullptr; // the LocalLiveSubscription, or null once it is gone
    std::shared_ptr<Subscription> subscription;
    std::function<void()> onWake; // runs on the owner's thread
};

class LocalLiveSubscription final : public LiveSubscription
{
public:
    LocalLiveSubscription(EngineHost &host, const QString &serviceSid, const QString &streamSid)
        : LiveSubscription(serviceSid, streamSid), m_host(host), m_relay(std::make_shared<Relay>())
    {
        m_relay->owner = this;
        std::weak_ptr<Relay> weak = m_relay;
        auto wake = [weak] {
            const auto relay = weak.lock();
            if (!relay)
                return;
            QMutexLocker lock(&relay->mutex);
            if (relay->owner)
                QMetaObject::invokeMethod(
                    relay->owner,
                    [owner = relay->owner] {
                        static_cast<LocalLiveSubscription *>(owner)->drain();
                    },
                    Qt::QueuedConnection);
        };
        const auto relay = m_relay;
        m_host.run([relay, wake, serviceSid, streamSid](Engine &engine) {
            auto subscribed = engine.subscribe(serviceSid, streamSid, wake);
            QMutexLocker lock(&relay->mutex);
            if (!relay->owner) {
                if (subscribed)
                    engine.hub().unsubscribe(*subscribed);
                return;
            }
            QObject *owner = relay->owner;
            if (!subscribed) {
                QMetaObject::invokeMethod(
                    owner,
                    [owner, error = subscribed.error()] {
                        static_cast<LocalLiveSubscription *>(owner)->endWithError(error);
                    },
                    Qt::QueuedConnection);
                return;
            }
            relay->subscription = *subscribed;
            QMetaObject::invokeMethod(
                owner, [owner] { static_cast<LocalLiveSubscription *>(owner)->activate(); },
                Qt::QueuedConnection);
        });
    }

    ~LocalLiveSubscription() override
    {
        std::shared_ptr<Subscription> subscription;
        {
            QMutexLocker lock(&m_relay->mutex);
            m_relay->owner = nullptr;
            subscription = std::move(m_relay->subscription);
        }
        if (subscription)
            m_host.hub().unsubscribe(subscription);
    }

private:
    void activate()
    {
        if (state() == State::Subscribing)
            setState(State::Active);
        drain();
    }

    void drain()
    {
        std::shared_ptr<Subscription> subscription;
        {
            QMutexLocker lock(&m_relay->mutex);
            subscription = m_relay->subscription;
        }
        if (!subscription || state() == State::Ended)
            return;
        Subscription::Batch batch = subscription->drain();
        deliver(batch.messages, batch.dropped);
        if (batch.streamRemoved)
            endBecauseRemoved();
    }

    EngineHost &m_host;
    std::shared_ptr<Relay> m_relay;
};

} // namespace

LocalBackend::LocalBackend(std::unique_ptr<EngineHost> host, QString displayName)
    : m_host(std::move(host)), m_displayName(std::move(displayName))
{
    // Emitted on the engine thread; this object lives on the caller's, so the hop is queued.
    connect(m_host.get(), &EngineHost::streamRemoved, this, &Backend::streamRemoved,
        Qt::QueuedConnection);
    // The engine's clock, as its control plane moves it (from this console or anyone else).
    noteClockOffset(m_host->clockOffsetMs());
    connect(m_host.get(), &EngineHost::clockAdvanced, this, &LocalBackend::noteClockOffset,
        Qt::QueuedConnection);
    // Its fault rules likewise, so the tree marks what they touch however they were set.
    connect(m_host.get(), &EngineHost::faultRulesChanged, this, &Backend::refreshFaultMarks,
        Qt::QueuedConnection);
}

LocalBackend::~LocalBackend() = default;

std::expected<std::unique_ptr<LocalBackend>, QString> LocalBackend::start(
    const EngineOptions &options, const QHostAddress &address, quint16 port)
{
    return start(options, address, port, TwilsockOptions{});
}

std::expected<std::unique_ptr<LocalBackend>, QString> LocalBackend::start(
    const EngineOptions &options, const QHostAddress &address, quint16 port,
    const TwilsockOptions &twilsock, const QString &displayName)
{
    auto host = EngineHost::start(options, address, port, twilsock);
    if (!host)
        return std::unexpected(host.error());
    return std::unique_ptr<LocalBackend>(new LocalBackend(std::move(*host), displayName));
}

QString LocalBackend::authToken() const
{
    return m_host->credentials().authToken;
}

QString LocalBackend::apiKeySecret() const
{
    return m_host->credentials().apiKeySecret;
}

Backend::Endpoint LocalBackend::endpoint() const
{
    return {m_displayName, m_host->listening().baseUrl(), m_host->credentials().accountSid,
        m_host->credentials().apiKeySid, true};
}

std::optional<double> LocalBackend::publishRatePerSecond() const
{
    return m_host->publishRatePerSecond();
}

QFuture<std::expected<QStringList, QString>> LocalBackend::proxyEnvironment()
{
    auto promise = std::make_shared<QPromise<std::expected<QStringList, QString>>>();
    QFuture<std::expected<QStringList, QString>> future = promise->future();
    promise->start();
    m_host->proxyEnvironment([promise](std::expected<QStringList, QString> lines) {
        promise->addResult(std::move(lines));
        promise->finish();
    });
    return future;
}

template<typename T, typename Work>
QFuture<ApiResult<T>> LocalBackend::onEngine(Work work)
{
    auto promise = std::make_shared<QPromise<ApiResult<T>>>();
    QFuture<ApiResult<T>> future = promise->future();
    promise->start();
    m_host->run([promise, work = std::move(work)](Engine &engine) mutable {
        promise->addResult(work(engine));
        promise->finish();
    });
    return future;
}

QFuture<ApiResult<Page<Service>>> LocalBackend::listServices(const PageRequest &request)
{
    return onEngine<Page<Service>>([request](Engine &e) { return e.listServices(request); });
}

QFuture<ApiResult<Service>> LocalBackend::createService(const ServiceFields &fields)
{
    return onEngine<Service>([fields](Engine &e) { return e.createService(fields); });
}

QFuture<ApiResult<Service>> LocalBackend::fetchService(const QString &serviceId)
{
    return onEngine<Service>([serviceId](Engine &e) { return e.fetchService(serviceId); });
}

QFuture<ApiResult<Service>> LocalBackend::updateService(
    const QString &serviceId, const ServiceFields &fields)
{
    return onEngine<Service>(
        [serviceId, fields](Engine &e) { return e.updateService(serviceId, fields); });
}

QFuture<ApiResult<void>> LocalBackend::deleteService(const QString &serviceId)
{
    return onEngine<void>([serviceId](Engine &e) { return e.deleteService(serviceId); });
}

QFuture<ApiResult<Page<Stream>>> LocalBackend::listStreams(
    const QString &serviceId, const PageRequest &request)
{
    return onEngine<Page<Stream>>(
        [serviceId, request](Engine &e) { return e.listStreams(serviceId, request); });
}

QFuture<ApiResult<Stream>> LocalBackend::createStream(
    const QString &serviceId, const StreamCreate &create)
{
    return onEngine<Stream>(
        [serviceId, create](Engine &e) { return e.createStream(serviceId, create); });
}

QFuture<ApiResult<Stream>> LocalBackend::fetchStream(
    const QString &serviceId, const QString &streamId)
{
    return onEngine<Stream>(
        [serviceId, streamId](Engine &e) { return e.fetchStream(serviceId, streamId); });
}

QFuture<ApiResult<Stream>> LocalBackend::updateStream(
    const QString &serviceId, const QString &streamId, qint64 ttlSeconds)
{
    return onEngine<Stream>([serviceId, streamId, ttlSeconds](Engine &e) {
        return e.updateStream(serviceId, streamId, ttlSeconds);
    });
}

QFuture<ApiResult<void>> LocalBackend::deleteStream(
    const QString &serviceId, const QString &streamId)
{
    return onEngine<void>(
        [serviceId, streamId](Engine &e) { return e.deleteStream(serviceId, streamId); });
}

QFuture<ApiResult<StreamMessage>> LocalBackend::publish(
    const QString &serviceId, const QString &streamId, const QByteArray &data)
{
    return onEngine<StreamMessage>(
        [serviceId, streamId, data](Engine &e) -> std::expected<StreamMessage, ApiError> {
            // A `rest_error` rule on publishes refuses the console's own too, as it would over
            // REST: "fail the next N publishes" means every publisher, this one included.
            if (auto refusal = e.restRefusal("POST", FaultScope::Messages, serviceId, streamId))
                return std::unexpected(refusal->error);
            return e.publish(serviceId, streamId, data);
        });
}

QFuture<ApiResult<Backend::ControlReply>> LocalBackend::control(
    const QByteArray &method, const QString &path, const QByteArray &body)
{
    auto promise = std::make_shared<QPromise<ApiResult<ControlReply>>>();
    promise->start();
    QFuture<ApiResult<ControlReply>> future = promise->future();
    const QByteArray target = path.toUtf8();
    const qsizetype question = target.indexOf('?');
    m_host->runControl(method, question < 0 ? target : target.first(question),
        question < 0 ? QByteArray() : target.sliced(question + 1), body,
        [promise](int status, const QByteArray &answer) {
            if (status >= 200 && status <= 299)
                promise->addResult(ControlReply{status, answer});
            else
                promise->addResult(std::unexpected(
                    ApiError::fromJson(QJsonDocument::fromJson(answer).object(), status)));
            promise->finish();
        });
    return future;
}

void LocalBackend::refreshFaultMarks()
{
    // The embedded engine's control answers are not noted on their way back (it reports its
    // changes by itself, faultRulesChanged): its rules are read here.
    control("GET", QStringLiteral("/_engine/faults"))
        .then(this, [this](const ApiResult<ControlReply> &reply) {
            if (reply)
                noteFaultMarks(reply->body);
        });
}

std::unique_ptr<LiveSubscription> LocalBackend::subscribe(
    const QString &serviceSid, const QString &streamSid)
{
    return std::make_unique<LocalLiveSubscription>(*m_host, serviceSid, streamSid);
}

} // namespace streams
