#include "backend/remotebackend.h"

#include "api/limits.h"
#include "live/livesubscription.h"
#include "profiles/connectionprofile.h"
#include "remote/enginecontrolclient.h"
#include "remote/synclivechannel.h"

#include <QPromise>
#include <QTimer>

namespace streams {

namespace {

/// Stands in for the twilsock-backed subscription until SyncLiveChannel is wired in: it ends
/// right away with an error saying so (or why live subscriptions cannot work at all here).
class UnavailableLiveSubscription final : public LiveSubscription
{
public:
    UnavailableLiveSubscription(
        const QString &serviceSid, const QString &streamSid, const ApiError &why)
        : LiveSubscription(serviceSid, streamSid)
    {
        // Queued, so the caller has connected its slots before the subscription ends.
        QTimer::singleShot(0, this, [this, why] { endWithError(why); });
    }
};

bool isAuthFailure(const ApiError &error)
{
    return error.code() == ApiError::AuthenticationFailed || error.httpStatus() == 401;
}

} // namespace

RemoteConnection RemoteConnection::fromProfile(
    const ConnectionProfile &profile, const QString &secret)
{
    RemoteConnection connection;
    connection.displayName = profile.name;
    connection.endpoints = profile.endpoints();
    connection.credentials = profile.credentials(secret);
    connection.twilioCloud = profile.kind == ConnectionProfile::Kind::TwilioAccount;
    return connection;
}

RemoteBackend::RemoteBackend(RemoteConnection connection, QObject *parent)
    : Backend(parent),
      m_connection(std::move(connection)),
      m_rest(std::make_unique<RestClient>(
          m_connection.endpoints, m_connection.credentials, m_connection.rest))
{
    connect(m_rest.get(), &RestClient::connectionLost, this, [this] {
        // Refused credentials are not fixed by the network coming back.
        m_restReachable = false;
        if (m_state != State::Failed)
            setState(State::Reconnecting);
    });
    connect(m_rest.get(), &RestClient::connectionRestored, this, [this] {
        m_restReachable = true;
        if (m_state == State::Reconnecting)
            setState(State::Connected);
    });
}

RemoteBackend::~RemoteBackend()
{
    // Settles the client's outstanding futures while this object is still whole.
    m_rest.reset();
}

void RemoteBackend::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

template<typename T>
QFuture<ApiResult<T>> RemoteBackend::observed(QFuture<ApiResult<T>> future)
{
    return future.then(this, [this](const ApiResult<T> &result) {
        if (!result && isAuthFailure(result.error())) {
            setState(State::Failed);
        } else if (result || !result.error().isConnectionFailure()) {
            // Any other answer (404, 409, 429…) came through with the credentials accepted.
            setState(State::Connected);
        }
        return result;
    });
}

QFuture<ApiResult<void>> RemoteBackend::checkConnection()
{
    PageRequest request;
    request.pageSize = 1;
    return observed(m_rest->listServices(request))
        .then([](const ApiResult<Page<Service>> &page) -> ApiResult<void> {
            if (!page)
                return std::unexpected(page.error());
            return {};
        });
}

QString RemoteBackend::liveUnavailableReason() const
{
    if (!m_connection.credentials.hasApiKey())
        return tr("Live subscriptions need an API key (SID + secret); this connection uses an "
                  "Auth Token.");
    return {};
}

Backend::Endpoint RemoteBackend::endpoint() const
{
    return {m_connection.displayName, m_connection.endpoints.restBase.toString(),
        m_connection.credentials.accountSid, m_connection.credentials.apiKeySid, false};
}

std::optional<double> RemoteBackend::publishRatePerSecond() const
{
    // Twilio publishes its limit; an engine at a URL may run with any --publish-rate.
    if (m_connection.twilioCloud)
        return limits::kDefaultPublishRatePerSecond;
    return std::nullopt;
}

QFuture<ApiResult<Page<Service>>> RemoteBackend::listServices(const PageRequest &request)
{
    return observed(m_rest->listServices(request));
}

QFuture<ApiResult<Service>> RemoteBackend::createService(const ServiceFields &fields)
{
    return observed(m_rest->createService(fields));
}

QFuture<ApiResult<Service>> RemoteBackend::fetchService(const QString &serviceId)
{
    return observed(m_rest->fetchService(serviceId));
}

QFuture<ApiResult<Service>> RemoteBackend::updateService(
    const QString &serviceId, const ServiceFields &fields)
{
    return observed(m_rest->updateService(serviceId, fields));
}

QFuture<ApiResult<void>> RemoteBackend::deleteService(const QString &serviceId)
{
    return observed(m_rest->deleteService(serviceId));
}

QFuture<ApiResult<Page<Stream>>> RemoteBackend::listStreams(
    const QString &serviceId, const PageRequest &request)
{
    return observed(m_rest->listStreams(serviceId, request));
}

QFuture<ApiResult<Stream>> RemoteBackend::createStream(
    const QString &serviceId, const StreamCreate &create)
{
    return observed(m_rest->createStream(serviceId, create.uniqueName, create.ttlSeconds));
}

QFuture<ApiResult<Stream>> RemoteBackend::fetchStream(
    const QString &serviceId, const QString &streamId)
{
    return observed(m_rest->fetchStream(serviceId, streamId));
}

QFuture<ApiResult<Stream>> RemoteBackend::updateStream(
    const QString &serviceId, const QString &streamId, qint64 ttlSeconds)
{
    return observed(m_rest->updateStream(serviceId, streamId, ttlSeconds));
}

QFuture<ApiResult<void>> RemoteBackend::deleteStream(
    const QString &serviceId, const QString &streamId)
{
    return observed(m_rest->deleteStream(serviceId, streamId))
        .then(this, [this, serviceId, streamId](const ApiResult<void> &result) {
            if (result)
                Q_EMIT streamRemoved(serviceId, streamId);
            return result;
        });
}

QFuture<ApiResult<StreamMessage>> RemoteBackend::publish(
    const QString &serviceId, const QString &streamId, const QByteArray &data)
{
    return observed(m_rest->publish(serviceId, streamId, data));
}

void RemoteBackend::refreshClockOffset()
{
    // The answer is noted on its way back (noteControlAnswer), as every answer about the clock is.
    if (hasControlPlane())
        control("GET", QStringLiteral("/_engine/clock"));
}

QFuture<ApiResult<Backend::ControlReply>> RemoteBackend::control(
    const QByteArray &method, const QString &path, const QByteArray &body)
{
    if (m_connection.twilioCloud) {
        return readyFuture(ApiResult<ControlReply>(std::unexpected(ApiError(ApiError::NotFound, 404,
            QStringLiteral("Twilio's cloud has no engine control plane (%1): faults, time and "
                           "snapshots are instruments of a streams-engine")
                .arg(path)))));
    }
    if (!m_control) {
        EngineControlClient::Options options;
        options.timeoutMs = m_connection.rest.timeoutMs;
        m_control = std::make_unique<EngineControlClient>(
            m_connection.endpoints.restBase, m_connection.credentials, options);
    }
    return m_control->request(method, path, body)
        .then(this, [this, method, path](const EngineControlClient::Result<EngineReply> &reply) {
            if (!reply)
                return ApiResult<ControlReply>(std::unexpected(reply.error()));
            const ControlReply answer{reply->status, reply->body};
            noteControlAnswer(method, path, answer);
            return ApiResult<ControlReply>(answer);
        });
}

std::unique_ptr<LiveSubscription> RemoteBackend::subscribe(
    const QString &serviceSid, const QString &streamSid)
{
    if (const QString reason = liveUnavailableReason(); !reason.isEmpty())
        return std::make_unique<UnavailableLiveSubscription>(
            serviceSid, streamSid, ApiError(20403, 403, reason));
    SyncLiveChannel *&channel = m_channels[serviceSid];
    if (!channel) {
        channel = new SyncLiveChannel(m_connection.endpoints, m_connection.credentials, serviceSid,
            m_connection.identity, m_connection.twilsock, this);
        connect(channel, &SyncLiveChannel::stateChanged, this, &RemoteBackend::liveStateChanged);
    }
    auto subscription = channel->subscribe(streamSid);
    connect(subscription.get(), &LiveSubscription::streamRemoved, this,
        [this, serviceSid, streamSid] { Q_EMIT streamRemoved(serviceSid, streamSid); });
    return subscription;
}

void RemoteBackend::liveStateChanged(TwilsockClient::State state)
{
    // A live channel that lost its connection says the service is unreachable as much as a REST
    // call without an answer does; refused credentials stay Failed until a request succeeds.
    if (m_state == State::Failed)
        return;
    if (state == TwilsockClient::State::Reconnecting)
        setState(State::Reconnecting);
    else if (state == TwilsockClient::State::Connected && m_state == State::Reconnecting
        && m_restReachable)
        setState(State::Connected);
}

} // namespace streams
