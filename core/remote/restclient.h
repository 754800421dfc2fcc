#pragma once

#include "api/apierror.h"
#include "api/page.h"
#include "api/service.h"
#include "api/stream.h"
#include "api/streammessage.h"
#include "remote/remoteendpoints.h"

#include <QFuture>
#include <QHash>
#include <QObject>
#include <expected>
#include <functional>
#include <memory>
#include <optional>

class QNetworkAccessManager;
class QNetworkReply;

namespace streams {

/// Twilio's Sync v1 REST API for Services, Streams and Stream Messages over QNetworkAccessManager,
/// usable against sync.twilio.com or any streams-engine. Every call is asynchronous: the future
/// finishes on the client's thread. HTTP Basic auth (API key preferred), form-encoded bodies,
/// a User-Agent naming the product, TLS with the system CAs and verification on.
///
/// Failures come back as ApiError: Twilio error bodies as sent; no answer at all (refused,
/// unreachable, reset, TLS, timeout) as ApiError::connectionFailed(). 429 (54009 included) is
/// retried for every request with jittered exponential back-off, honouring Retry-After; 5xx and
/// connection failures only for idempotent requests (GET, DELETE). Pages are followed through
/// `next_page_url`, which is only ever sent to the host the client was configured with.
class RestClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RestClient)

public:
    template<typename T>
    using Result = std::expected<T, ApiError>;

    struct Options
    {
        int timeoutMs = 15000; // per attempt, from sending to the last byte
        int maxAttempts = 6; // first try included
        int backoffInitialMs = 250;
        int backoffMaxMs = 8000;
        double jitter = 0.2; // ± fraction of each delay
    };

    RestClient(RemoteEndpoints endpoints, RemoteCredentials credentials, QObject *parent = nullptr);
    RestClient(RemoteEndpoints endpoints, RemoteCredentials credentials, Options options,
        QObject *parent = nullptr);
    ~RestClient() override;

    const RemoteEndpoints &endpoints() const { return m_endpoints; }
    const RemoteCredentials &credentials() const { return m_credentials; }
    const Options &options() const { return m_options; }
    static QByteArray userAgent();

    /// `request.pageToken` is the previous page's next_page_url (or empty for the first page);
    /// the returned page's nextPageToken/previousPageToken are the URLs the server sent.
    QFuture<Result<Page<Service>>> listServices(const PageRequest &request);
    /// Every page, followed through next_page_url.
    QFuture<Result<QList<Service>>> listAllServices();
    QFuture<Result<Service>> createService(const ServiceFields &fields);
    QFuture<Result<Service>> fetchService(const QString &serviceId);
    QFuture<Result<Service>> updateService(const QString &serviceId, const ServiceFields &fields);
    QFuture<Result<void>> deleteService(const QString &serviceId);

    QFuture<Result<Page<Stream>>> listStreams(const QString &serviceId, const PageRequest &request);
    QFuture<Result<QList<Stream>>> listAllStreams(const QString &serviceId);
    QFuture<Result<Stream>> createStream(const QString &serviceId,
        const std::optional<QString> &uniqueName, const std::optional<qint64> &ttlSeconds);
    QFuture<Result<Stream>> fetchStream(const QString &serviceId, const QString &streamId);
    QFuture<Result<Stream>> updateStream(
        const QString &serviceId, const QString &streamId, qint64 ttlSeconds);
    QFuture<Result<void>> deleteStream(const QString &serviceId, const QString &streamId);

    /// POST .../Messages with Data = `data` (JSON object text).
    QFuture<Result<StreamMessage>> publish(
        const QString &serviceId, const QString &streamId, const QByteArray &data);

Q_SIGNALS:
    /// A request is being retried after `delayMs` because of `reason` (429, 5xx, no answer).
    void retrying(int attempt, int delayMs, const streams::ApiError &reason);
    /// No answer from the server (after the retries allowed), and later the first answer again.
    void connectionLost(const streams::ApiError &reason);
    void connectionRestored();

private:
    /// One HTTP answer, whatever its status.
    struct Response
    {
        int status = 0;
        QByteArray reason;
        QByteArray retryAfter;
        QByteArray body;
    };
    using Completion = std::function<void(const Result<Response> &)>;
    struct Call;

    /// Sends `method url` with retries; `done` runs once with the last answer (any status) or
    /// the connection failure.
    void send(QByteArray method, const QUrl &url, QByteArray form, Completion done);
    void startAttempt(const std::shared_ptr<Call> &call);
    void attemptFinished(const std::shared_ptr<Call> &call, QNetworkReply *reply);
    bool retryLater(
        const std::shared_ptr<Call> &call, const ApiError &reason, const QByteArray &retryAfter);
    void complete(const std::shared_ptr<Call> &call, const Result<Response> &result);

    /// A request whose 2xx body `parse` turns into a T; other statuses become ApiError.
    template<typename T, typename Parse>
    QFuture<Result<T>> call(
        QByteArray method, const Result<QUrl> &url, QByteArray form, Parse parse);
    template<typename T, typename FromJson>
    QFuture<Result<Page<T>>> listPage(const QString &listPath, const PageRequest &request,
        QLatin1StringView key, FromJson fromJson);
    template<typename T, typename FromJson>
    QFuture<Result<QList<T>>> listAll(
        const QString &listPath, QLatin1StringView key, FromJson fromJson);

    QUrl apiUrl(const QString &encodedPath) const;
    Result<QUrl> pageUrl(const QString &listPath, const PageRequest &request) const;
    QString hostPort(const QUrl &url) const;

    RemoteEndpoints m_endpoints;
    RemoteCredentials m_credentials;
    Options m_options;
    QNetworkAccessManager *m_network = nullptr;
    bool m_connectionLost = false;
    bool m_closing = false;
    QHash<Call *, std::shared_ptr<Call>> m_calls; // in flight or waiting to retry
};

} // namespace streams
