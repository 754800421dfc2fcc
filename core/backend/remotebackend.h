#pragma once

#include "backend/backend.h"
#include "remote/remoteendpoints.h"
#include "remote/restclient.h"
#include "remote/twilsockclient.h"

#include <QHash>
#include <memory>

namespace streams {

class EngineControlClient;
class SyncLiveChannel;
struct ConnectionProfile;

/// What a RemoteBackend connects to.
struct RemoteConnection
{
    QString displayName;
    RemoteEndpoints endpoints;
    RemoteCredentials credentials;
    /// Twilio's cloud (publish rate 30/s per stream known) rather than an engine at a URL.
    bool twilioCloud = false;
    /// The identity live subscriptions' access tokens carry (created_by on twilsock creates).
    QString identity = QStringLiteral("sync-streams-console");
    RestClient::Options rest;
    TwilsockClient::Options twilsock;

    /// An EngineAtUrl or TwilioAccount profile with its secret from the keychain.
    static RemoteConnection fromProfile(const ConnectionProfile &profile, const QString &secret);
};

/// A Sync service elsewhere — Twilio's cloud or a streams-engine at a URL — as a Backend: admin
/// and publishing over REST (RestClient), live subscriptions over twilsock (one SyncLiveChannel
/// per service, opened on first subscribe). The UI cannot tell it from LocalBackend except by
/// its endpoint. State: Connecting until the first answer, Connected, Reconnecting while
/// requests get no answer or a live channel is reconnecting, Failed when credentials are refused.
class RemoteBackend final : public Backend
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteBackend)

public:
    explicit RemoteBackend(RemoteConnection connection, QObject *parent = nullptr);
    ~RemoteBackend() override;

    const RemoteConnection &connection() const { return m_connection; }
    RestClient &rest() { return *m_rest; }
    /// Lists one service to check address and credentials; moves the state accordingly.
    QFuture<ApiResult<void>> checkConnection();
    /// Empty when live subscriptions work; otherwise why not (e.g. no API key).
    QString liveUnavailableReason() const;

    State state() const override { return m_state; }
    Endpoint endpoint() const override;
    std::optional<double> publishRatePerSecond() const override;

    QFuture<ApiResult<Page<Service>>> listServices(const PageRequest &request) override;
    QFuture<ApiResult<Service>> createService(const ServiceFields &fields) override;
    QFuture<ApiResult<Service>> fetchService(const QString &serviceId) override;
    QFuture<ApiResult<Service>> updateService(
        const QString &serviceId, const ServiceFields &fields) override;
    QFuture<ApiResult<void>> deleteService(const QString &serviceId) override;

    QFuture<ApiResult<Page<Stream>>> listStreams(
        const QString &serviceId, const PageRequest &request) override;
    QFuture<ApiResult<Stream>> createStream(
        const QString &serviceId, const StreamCreate &create) override;
    QFuture<ApiResult<Stream>> fetchStream(
        const QString &serviceId, const QString &streamId) override;
    QFuture<ApiResult<Stream>> updateStream(
        const QString &serviceId, const QString &streamId, qint64 ttlSeconds) override;
    QFuture<ApiResult<void>> deleteStream(
        const QString &serviceId, const QString &streamId) override;

    QFuture<ApiResult<StreamMessage>> publish(
        const QString &serviceId, const QString &streamId, const QByteArray &data) override;

    bool hasControlPlane() const override { return !m_connection.twilioCloud; }
    void refreshClockOffset() override;

    std::unique_ptr<LiveSubscription> subscribe(
        const QString &serviceSid, const QString &streamSid) override;
    QFuture<ApiResult<ControlReply>> control(
        const QByteArray &method, const QString &path, const QByteArray &body = {}) override;

private:
    void setState(State state);
    void liveStateChanged(TwilsockClient::State state);
    /// Passes `future`'s result through, moving the state by what it says about the connection.
    template<typename T>
    QFuture<ApiResult<T>> observed(QFuture<ApiResult<T>> future);

    RemoteConnection m_connection;
    std::unique_ptr<RestClient> m_rest;
    std::unique_ptr<EngineControlClient> m_control; // made on first use, for an engine at a URL
    QHash<QString, SyncLiveChannel *> m_channels; // by service SID, owned (children)
    State m_state = State::Connecting;
    bool m_restReachable = true;
};

} // namespace streams
