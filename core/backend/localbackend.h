#pragma once

#include "backend/backend.h"

#include <QHostAddress>
#include <expected>
#include <memory>

namespace streams {

class EngineHost;
struct EngineOptions;
struct TwilsockOptions;

/// The embedded engine as a Backend: calls run on the engine's own thread and their results come
/// back through futures; live subscriptions read the in-process fan-out hub directly. The engine
/// also listens on loopback so the user's own code can reach it while the console watches.
class LocalBackend final : public Backend
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LocalBackend)

public:
    ~LocalBackend() override;

    /// Starts the engine (see EngineHost::start) and wraps it. The engine's internals
    /// (core/host, core/server) stay out of this header: TwilsockOptions is declared in
    /// server/twilsockserver.h, for the callers that set it.
    static std::expected<std::unique_ptr<LocalBackend>, QString> start(
        const EngineOptions &options, const QHostAddress &address, quint16 port);
    static std::expected<std::unique_ptr<LocalBackend>, QString> start(const EngineOptions &options,
        const QHostAddress &address, quint16 port, const TwilsockOptions &twilsock,
        const QString &displayName = QStringLiteral("Local engine"));

    EngineHost &host() { return *m_host; }
    /// The engine's auth token and API key secret (for the status bar's copy buttons). Never
    /// written anywhere by the console.
    QString authToken() const;
    QString apiKeySecret() const;

    State state() const override { return State::Connected; }
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

    bool hasControlPlane() const override { return true; }
    QFuture<std::expected<QStringList, QString>> proxyEnvironment() override;
    void refreshFaultMarks() override;

    std::unique_ptr<LiveSubscription> subscribe(
        const QString &serviceSid, const QString &streamSid) override;
    QFuture<ApiResult<ControlReply>> control(
        const QByteArray &method, const QString &path, const QByteArray &body = {}) override;

private:
    LocalBackend(std::unique_ptr<EngineHost> host, QString displayName);

    template<typename T, typename Work>
    QFuture<ApiResult<T>> onEngine(Work work);

    std::unique_ptr<EngineHost> m_host;
    QString m_displayName;
};

} // namespace streams
