#include "remote/restclient.h"

#include "api/rawjson.h"
#include "api/restjson.h"
#include "api/validation.h"
#include "remote/remoterequest.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QPromise>
#include <QRandomGenerator>
#include <QTimer>
#include <cmath>
#include <cstring>
#include <set>

// Method, path and status only: URLs carry no secret, and neither the Authorization header nor
// request bodies are ever logged.
Q_LOGGING_CATEGORY(lcRest, "streams.remote.rest", QtWarningMsg)

namespace streams {

struct RestClient::Call
{
    QByteArray method;
    QUrl url;
    QByteArray form;
    Completion done;
    int attempt = 0; // 1-based number of the attempt in flight (or last made)
    QPointer<QNetworkReply> reply;
    QTimer *retryTimer = nullptr; // owned by the client while waiting
    bool timedOut = false;

    // Repeating these cannot change anything twice; a POST that may have reached the server
    // could create a second stream or publish a message twice.
    bool idempotent() const { return method == "GET" || method == "DELETE"; }
};

namespace {

QString secondsText(int ms)
{
    return QString::number(ms / 1000.0, 'g', 3);
}

/// The form body Twilio expects: PascalCase names, values percent-encoded as UTF-8 (so `+`,
/// `&` and `=` in values survive; servers decode `+` as a space).
class FormBody
{
public:
    FormBody &add(QLatin1StringView name, const QString &value)
    {
        if (!m_bytes.isEmpty())
            m_bytes += '&';
        return append(name, QUrl::toPercentEncoding(value));
    }
    FormBody &add(QLatin1StringView name, const QByteArray &utf8)
    {
        if (!m_bytes.isEmpty())
            m_bytes += '&';
        return append(name, utf8.toPercentEncoding());
    }
    template<typename T>
    FormBody &addIf(QLatin1StringView name, const std::optional<T> &value)
    {
        if (!value)
            return *this;
        if constexpr (std::is_same_v<T, bool>)
            return add(name, *value ? QStringLiteral("true") : QStringLiteral("false"));
        else if constexpr (std::is_same_v<T, QString>)
            return add(name, *value);
        else
            return add(name, QString::number(*value));
    }
    QByteArray bytes() const { return m_bytes; }

private:
    FormBody &append(QLatin1StringView name, const QByteArray &encoded)
    {
        m_bytes.append(name.data(), name.size()).append('=').append(encoded);
        return *this;
    }

    QByteArray m_bytes;
};

QByteArray serviceForm(const ServiceFields &fields)
{
    FormBody form;
    form.addIf(QLatin1StringView("FriendlyName"), fields.friendlyName)
        .addIf(QLatin1StringView("WebhookUrl"), fields.webhookUrl)
        .addIf(QLatin1StringView("ReachabilityWebhooksEnabled"), fields.reachabilityWebhooksEnabled)
        .addIf(QLatin1StringView("AclEnabled"), fields.aclEnabled)
        .addIf(QLatin1StringView("ReachabilityDebouncingEnabled"),
            fields.reachabilityDebouncingEnabled)
        .addIf(QLatin1StringView("ReachabilityDebouncingWindow"),
            fields.reachabilityDebouncingWindowMs)
        .addIf(QLatin1StringView("WebhooksFromRestEnabled"), fields.webhooksFromRestEnabled);
    return form.bytes();
}

QString segment(const QString &id)
{
    // A unique name may hold anything but `/`; percent-encode it into one path segment.
    return QString::fromLatin1(QUrl::toPercentEncoding(id));
}

std::expected<QJsonObject, ApiError> jsonObject(const QByteArray &body, int status)
{
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return std::unexpected(ApiError(ApiError::InternalError, status,
            QStringLiteral("The server's answer (HTTP %1) is not a JSON object: %2")
                .arg(status)
                .arg(error.error != QJsonParseError::NoError ? error.errorString()
                                                             : QStringLiteral("wrong type"))));
    return document.object();
}

/// A non-2xx answer as ApiError: Twilio's error body as sent, or what came back instead.
ApiError errorFrom(int status, const QByteArray &reason, const QByteArray &body)
{
    const auto object = jsonObject(body, status);
    if (object && object->contains(QStringLiteral("code")))
        return ApiError::fromJson(*object, status);
    // Not a Twilio error body (a proxy's or load balancer's page): say what came back.
    QString message = QStringLiteral("HTTP %1").arg(status);
    if (!reason.isEmpty())
        message += u' ' + QString::fromLatin1(reason);
    if (object && object->contains(QStringLiteral("message")))
        message += QStringLiteral(": ") + object->value(QStringLiteral("message")).toString();
    return ApiError(status, status, message);
}

std::optional<QString> urlOrNull(const QJsonValue &value)
{
    if (!value.isString() || value.toString().isEmpty())
        return std::nullopt;
    return value.toString();
}

} // namespace

RestClient::RestClient(RemoteEndpoints endpoints, RemoteCredentials credentials, QObject *parent)
    : RestClient(std::move(endpoints), std::move(credentials), Options(), parent)
{ }

RestClient::RestClient(
    RemoteEndpoints endpoints, RemoteCredentials credentials, Options options, QObject *parent)
    : QObject(parent),
      m_endpoints(std::move(endpoints)),
      m_credentials(std::move(credentials)),
      m_options(options),
      m_network(new QNetworkAccessManager(this))
{
    m_options.maxAttempts = qMax(1, m_options.maxAttempts);
    m_options.timeoutMs = qMax(1, m_options.timeoutMs);
    // Twilio never redirects; following one would hand the Authorization header to whoever
    // the redirect names.
    m_network->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    // TLS: the default configuration (system CAs, peer verification on) is what we want, and
    // sslErrors is deliberately left unhandled so that a bad certificate fails the request.
}

RestClient::~RestClient()
{
    // Settle every future: a caller waiting on one must not hang because the client went away.
    m_closing = true;
    const auto calls = std::exchange(m_calls, {});
    for (const auto &call : calls) {
        if (call->reply) {
            disconnect(call->reply, nullptr, this, nullptr);
            call->reply->abort();
        }
        delete call->retryTimer;
        call->retryTimer = nullptr;
        call->done(std::unexpected(ApiError::connectionFailed(
            QStringLiteral("The request to %1 was cancelled: the connection was closed")
                .arg(hostPort(call->url)))));
    }
}

QByteArray RestClient::userAgent()
{
    return remoterequest::userAgent();
}

QString RestClient::hostPort(const QUrl &url) const
{
    return remoterequest::hostPort(url);
}

QUrl RestClient::apiUrl(const QString &encodedPath) const
{
    const QUrl base =
        m_endpoints.restBase.adjusted(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment);
    return QUrl::fromEncoded(base.toEncoded() + encodedPath.toLatin1(), QUrl::StrictMode);
}

RestClient::Result<QUrl> RestClient::pageUrl(
    const QString &listPath, const PageRequest &request) const
{
    if (!request.pageToken.isEmpty()) {
        const QUrl next(request.pageToken, QUrl::StrictMode);
        if (next.isValid() && !next.scheme().isEmpty()) {
            // next_page_url is followed verbatim, so it must lead back to the configured host:
            // a forged page must not make us send the credentials anywhere else.
            const QUrl &base = m_endpoints.restBase;
            if (next.scheme().compare(base.scheme(), Qt::CaseInsensitive) != 0
                || next.host().compare(base.host(), Qt::CaseInsensitive) != 0
                || remoterequest::effectivePort(next) != remoterequest::effectivePort(base))
                return std::unexpected(ApiError(ApiError::InvalidPageToken, 400,
                    QStringLiteral("Invalid PageToken: refusing to follow a page URL to another "
                                   "host (%1://%2, expected %3://%4)")
                        .arg(next.scheme(), hostPort(next), base.scheme(), hostPort(base))));
            return next;
        }
    }
    // A first page, or a bare token (not a URL) as other clients pass it.
    QString query = QStringLiteral("?PageSize=%1").arg(request.pageSize);
    if (request.page > 0 || !request.pageToken.isEmpty())
        query += QStringLiteral("&Page=%1").arg(request.page);
    if (!request.pageToken.isEmpty())
        query += QStringLiteral("&PageToken=")
            + QString::fromLatin1(QUrl::toPercentEncoding(request.pageToken));
    const QUrl url = apiUrl(listPath + query);
    if (!url.isValid())
        return std::unexpected(ApiError::invalidPageToken());
    return url;
}

void RestClient::send(QByteArray method, const QUrl &url, QByteArray form, Completion done)
{
    if (m_closing) {
        done(std::unexpected(ApiError::connectionFailed(
            QStringLiteral("The connection to %1 is closed").arg(hostPort(url)))));
        return;
    }
    auto call = std::make_shared<Call>();
    call->method = std::move(method);
    call->url = url;
    call->form = std::move(form);
    call->done = std::move(done);
    m_calls.insert(call.get(), call);
    startAttempt(call);
}

void RestClient::startAttempt(const std::shared_ptr<Call> &call)
{
    ++call->attempt;
    call->timedOut = false;

    std::weak_ptr<Call> weak = call;
    QNetworkReply *reply = remoterequest::send(*m_network,
        remoterequest::make(call->url, m_credentials, m_options.timeoutMs), call->method,
        call->form, QByteArrayLiteral("application/x-www-form-urlencoded"), m_options.timeoutMs,
        remoterequest::flagTimeout(weak));
    call->reply = reply;
    qCDebug(lcRest) << call->method << call->url.path() << "attempt" << call->attempt;

    connect(reply, &QNetworkReply::finished, this, [this, weak, reply] {
        if (const auto c = weak.lock(); c && m_calls.contains(c.get()))
            attemptFinished(c, reply);
        reply->deleteLater();
    });
}

void RestClient::attemptFinished(const std::shared_ptr<Call> &call, QNetworkReply *reply)
{
    call->reply = nullptr;
    const QVariant statusAttribute = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (statusAttribute.isValid() && statusAttribute.toInt() > 0) {
        // An answer, whatever it says: the server is reachable again.
        if (m_connectionLost) {
            m_connectionLost = false;
            Q_EMIT connectionRestored();
        }
        Response response;
        response.status = statusAttribute.toInt();
        response.reason =
            reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray();
        response.retryAfter = reply->rawHeader("Retry-After");
        response.body = reply->readAll();
        qCDebug(lcRest) << call->method << call->url.path() << "->" << response.status;

        const bool retryable =
            response.status == 429 || (response.status >= 500 && call->idempotent());
        if (retryable) {
            const ApiError reason = errorFrom(response.status, response.reason, response.body);
            if (retryLater(call, reason, response.retryAfter))
                return;
        }
        complete(call, response);
        return;
    }

    const bool timedOut = call->timedOut || reply->error() == QNetworkReply::OperationCanceledError
        || reply->error() == QNetworkReply::TimeoutError;
    const ApiError failure = ApiError::connectionFailed(timedOut
            ? QStringLiteral("No answer from %1 within %2 s")
                  .arg(hostPort(call->url), secondsText(m_options.timeoutMs))
            : reply->error() == QNetworkReply::ContentReSendError
            ? QStringLiteral("Cannot reach %1: the connection closed after the request was sent, "
                             "without an answer; it was not repeated, since the server may "
                             "already have applied it")
                  .arg(hostPort(call->url))
            : QStringLiteral("Cannot reach %1: %2").arg(hostPort(call->url), reply->errorString()));
    qCDebug(lcRest) << call->method << call->url.path() << "failed:" << failure.message();
    if (call->idempotent() && retryLater(call, failure, {}))
        return;
    if (!m_connectionLost) {
        m_connectionLost = true;
        Q_EMIT connectionLost(failure);
    }
    complete(call, std::unexpected(failure));
}

bool RestClient::retryLater(
    const std::shared_ptr<Call> &call, const ApiError &reason, const QByteArray &retryAfter)
{
    if (call->attempt >= m_options.maxAttempts)
        return false;
    // Exponential from backoffInitialMs, jittered so that many clients refused at once do not
    // come back at once; never sooner than the server's Retry-After, never over backoffMaxMs.
    const double exponential = std::min(double(m_options.backoffMaxMs),
        double(m_options.backoffInitialMs) * std::pow(2.0, call->attempt - 1));
    const double spread = m_options.jitter * (QRandomGenerator::global()->generateDouble() * 2 - 1);
    double delay = exponential * (1.0 + spread);
    if (!retryAfter.isEmpty()) {
        bool ok = false;
        const int seconds = retryAfter.trimmed().toInt(&ok);
        qint64 retryAfterMs = -1;
        if (ok && seconds >= 0) {
            retryAfterMs = qint64(seconds) * 1000;
        } else {
            const QDateTime at =
                QDateTime::fromString(QString::fromLatin1(retryAfter.trimmed()), Qt::RFC2822Date);
            if (at.isValid())
                retryAfterMs = qMax<qint64>(0, QDateTime::currentDateTimeUtc().msecsTo(at));
        }
        // Jittered upwards only, so that everyone told "1 s" does not return in the same ms.
        if (retryAfterMs >= 0)
            delay = std::max(delay, double(retryAfterMs) * (1.0 + std::abs(spread)));
    }
    const int delayMs = int(std::clamp(delay, 0.0, double(m_options.backoffMaxMs)));

    Q_EMIT retrying(call->attempt + 1, delayMs, reason);
    auto *timer = new QTimer(this);
    timer->setSingleShot(true);
    call->retryTimer = timer;
    std::weak_ptr<Call> weak = call;
    connect(timer, &QTimer::timeout, this, [this, weak, timer] {
        timer->deleteLater();
        const auto c = weak.lock();
        if (!c || !m_calls.contains(c.get()))
            return;
        c->retryTimer = nullptr;
        startAttempt(c);
    });
    timer->start(delayMs);
    return true;
}

void RestClient::complete(const std::shared_ptr<Call> &call, const Result<Response> &result)
{
    m_calls.remove(call.get());
    // Last: `done` may start the next request (paging) or destroy this client's owner.
    call->done(result);
}

template<typename T, typename Parse>
QFuture<RestClient::Result<T>> RestClient::call(
    QByteArray method, const Result<QUrl> &url, QByteArray form, Parse parse)
{
    auto promise = std::make_shared<QPromise<Result<T>>>();
    QFuture<Result<T>> future = promise->future();
    promise->start();
    auto resolve = [promise](Result<T> result) {
        promise->addResult(std::move(result));
        promise->finish();
    };
    if (!url) {
        resolve(std::unexpected(url.error()));
        return future;
    }
    send(std::move(method), *url, std::move(form),
        [resolve, parse = std::move(parse)](const Result<Response> &response) {
            if (!response)
                return resolve(std::unexpected(response.error()));
            if (response->status < 200 || response->status > 299)
                return resolve(
                    std::unexpected(errorFrom(response->status, response->reason, response->body)));
            resolve(parse(*response));
        });
    return future;
}

namespace {

/// Every Sync resource has a SID; a 2xx object without one is some other API's answer, not an
/// empty resource.
std::optional<ApiError> sidMissing(const QJsonObject &object, int status)
{
    if (!object.value(QStringLiteral("sid")).toString().isEmpty())
        return std::nullopt;
    return ApiError(ApiError::InternalError, status,
        QStringLiteral("The server's answer (HTTP %1) is not a Sync resource: it has no 'sid'")
            .arg(status));
}

template<typename T>
auto resourceParser(T (*fromJson)(const QJsonObject &))
{
    return [fromJson](const auto &response) -> std::expected<T, ApiError> {
        auto object = jsonObject(response.body, response.status);
        if (!object)
            return std::unexpected(object.error());
        if (auto missing = sidMissing(*object, response.status))
            return std::unexpected(*missing);
        return fromJson(*object);
    };
}

template<typename T, typename FromJson>
std::expected<Page<T>, ApiError> pageFrom(
    const QByteArray &body, int status, QLatin1StringView key, FromJson fromJson)
{
    auto object = jsonObject(body, status);
    if (!object)
        return std::unexpected(object.error());
    const QJsonValue items = object->value(key);
    const QJsonObject meta = object->value(QStringLiteral("meta")).toObject();
    if (!items.isArray())
        return std::unexpected(ApiError(ApiError::InternalError, status,
            QStringLiteral("The server's list page has no '%1' array").arg(key)));
    Page<T> page;
    const QJsonArray array = items.toArray();
    page.items.reserve(array.size());
    for (const QJsonValue &item : array) {
        if (auto missing = sidMissing(item.toObject(), status))
            return std::unexpected(*missing);
        page.items.append(fromJson(item.toObject()));
    }
    page.page = meta.value(QStringLiteral("page")).toInt();
    page.pageSize = meta.value(QStringLiteral("page_size")).toInt(int(array.size()));
    page.nextPageToken = urlOrNull(meta.value(QStringLiteral("next_page_url")));
    page.previousPageToken = urlOrNull(meta.value(QStringLiteral("previous_page_url")));
    return page;
}

} // namespace

template<typename T, typename FromJson>
QFuture<RestClient::Result<Page<T>>> RestClient::listPage(
    const QString &listPath, const PageRequest &request, QLatin1StringView key, FromJson fromJson)
{
    return call<Page<T>>(
        "GET", pageUrl(listPath, request), {}, [key, fromJson](const Response &response) {
            return pageFrom<T>(response.body, response.status, key, fromJson);
        });
}

template<typename T, typename FromJson>
QFuture<RestClient::Result<QList<T>>> RestClient::listAll(
    const QString &listPath, QLatin1StringView key, FromJson fromJson)
{
    struct State
    {
        QPromise<Result<QList<T>>> promise;
        QList<T> items;
        std::set<QString> visited; // a server that loops its pages must not loop us forever
        std::function<void(const QString &)> fetch;
    };
    auto state = std::make_shared<State>();
    QFuture<Result<QList<T>>> future = state->promise.future();
    state->promise.start();
    const auto fail = [](const std::shared_ptr<State> &s, const ApiError &error) {
        s->promise.addResult(std::unexpected(error));
        s->promise.finish();
        s->fetch = nullptr; // breaks the state ↔ fetch cycle
    };
    std::weak_ptr<State> weak = state;
    state->fetch = [this, weak, listPath, key, fromJson, fail](const QString &token) {
        const auto s = weak.lock();
        if (!s)
            return;
        PageRequest request;
        request.pageSize = limits::kMaxPageSize;
        request.pageToken = token;
        const auto url = pageUrl(listPath, request);
        if (!url)
            return fail(s, url.error());
        // The completion owns the state while a page is in flight; nothing else does.
        send("GET", *url, {}, [s, key, fromJson, fail](const Result<Response> &response) {
            if (!response)
                return fail(s, response.error());
            if (response->status < 200 || response->status > 299)
                return fail(s, errorFrom(response->status, response->reason, response->body));
            auto page = pageFrom<T>(response->body, response->status, key, fromJson);
            if (!page)
                return fail(s, page.error());
            s->items += page->items;
            if (!page->nextPageToken) {
                s->promise.addResult(std::move(s->items));
                s->promise.finish();
                s->fetch = nullptr;
                return;
            }
            if (!s->visited.insert(*page->nextPageToken).second)
                return fail(s,
                    ApiError(ApiError::InvalidPageToken, response->status,
                        QStringLiteral("The server sent the same next page twice: %1")
                            .arg(*page->nextPageToken)));
            const auto next = s->fetch;
            next(*page->nextPageToken);
        });
    };
    const auto first = state->fetch;
    first({});
    return future;
}

QFuture<RestClient::Result<Page<Service>>> RestClient::listServices(const PageRequest &request)
{
    return listPage<Service>(QStringLiteral("/v1/Services"), request, QLatin1StringView("services"),
        &restjson::serviceFromJson);
}

QFuture<RestClient::Result<QList<Service>>> RestClient::listAllServices()
{
    return listAll<Service>(
        QStringLiteral("/v1/Services"), QLatin1StringView("services"), &restjson::serviceFromJson);
}

QFuture<RestClient::Result<Service>> RestClient::createService(const ServiceFields &fields)
{
    return call<Service>("POST", apiUrl(QStringLiteral("/v1/Services")), serviceForm(fields),
        resourceParser(&restjson::serviceFromJson));
}

QFuture<RestClient::Result<Service>> RestClient::fetchService(const QString &serviceId)
{
    return call<Service>("GET", apiUrl(QStringLiteral("/v1/Services/") + segment(serviceId)), {},
        resourceParser(&restjson::serviceFromJson));
}

QFuture<RestClient::Result<Service>> RestClient::updateService(
    const QString &serviceId, const ServiceFields &fields)
{
    return call<Service>("POST", apiUrl(QStringLiteral("/v1/Services/") + segment(serviceId)),
        serviceForm(fields), resourceParser(&restjson::serviceFromJson));
}

QFuture<RestClient::Result<void>> RestClient::deleteService(const QString &serviceId)
{
    return call<void>("DELETE", apiUrl(QStringLiteral("/v1/Services/") + segment(serviceId)), {},
        [](const Response &) { return Result<void>(); });
}

QFuture<RestClient::Result<Page<Stream>>> RestClient::listStreams(
    const QString &serviceId, const PageRequest &request)
{
    return listPage<Stream>(QStringLiteral("/v1/Services/%1/Streams").arg(segment(serviceId)),
        request, QLatin1StringView("streams"), &restjson::streamFromJson);
}

QFuture<RestClient::Result<QList<Stream>>> RestClient::listAllStreams(const QString &serviceId)
{
    return listAll<Stream>(QStringLiteral("/v1/Services/%1/Streams").arg(segment(serviceId)),
        QLatin1StringView("streams"), &restjson::streamFromJson);
}

QFuture<RestClient::Result<Stream>> RestClient::createStream(const QString &serviceId,
    const std::optional<QString> &uniqueName, const std::optional<qint64> &ttlSeconds)
{
    FormBody form;
    form.addIf(QLatin1StringView("UniqueName"), uniqueName)
        .addIf(QLatin1StringView("Ttl"), ttlSeconds);
    return call<Stream>("POST",
        apiUrl(QStringLiteral("/v1/Services/%1/Streams").arg(segment(serviceId))), form.bytes(),
        resourceParser(&restjson::streamFromJson));
}

QFuture<RestClient::Result<Stream>> RestClient::fetchStream(
    const QString &serviceId, const QString &streamId)
{
    return call<Stream>("GET",
        apiUrl(QStringLiteral("/v1/Services/%1/Streams/%2")
                   .arg(segment(serviceId), segment(streamId))),
        {}, resourceParser(&restjson::streamFromJson));
}

QFuture<RestClient::Result<Stream>> RestClient::updateStream(
    const QString &serviceId, const QString &streamId, qint64 ttlSeconds)
{
    FormBody form;
    form.add(QLatin1StringView("Ttl"), QString::number(ttlSeconds));
    return call<Stream>("POST",
        apiUrl(QStringLiteral("/v1/Services/%1/Streams/%2")
                   .arg(segment(serviceId), segment(streamId))),
        form.bytes(), resourceParser(&restjson::streamFromJson));
}

QFuture<RestClient::Result<void>> RestClient::deleteStream(
    const QString &serviceId, const QString &streamId)
{
    return call<void>("DELETE",
        apiUrl(QStringLiteral("/v1/Services/%1/Streams/%2")
                   .arg(segment(serviceId), segment(streamId))),
        {}, [](const Response &) { return Result<void>(); });
}

QFuture<RestClient::Result<StreamMessage>> RestClient::publish(
    const QString &serviceId, const QString &streamId, const QByteArray &data)
{
    FormBody form;
    form.add(QLatin1StringView("Data"), data);
    return call<StreamMessage>("POST",
        apiUrl(QStringLiteral("/v1/Services/%1/Streams/%2/Messages")
                   .arg(segment(serviceId), segment(streamId))),
        form.bytes(), [serviceId, streamId](const Response &response) -> Result<StreamMessage> {
            auto object = jsonObject(response.body, response.status);
            if (!object)
                return std::unexpected(object.error());
            StreamMessage message;
            message.sid = object->value(QStringLiteral("sid")).toString();
            // The ids as the caller named them: the 201 body carries only sid and data.
            message.serviceSid = serviceId;
            message.streamSid = streamId;
            // The bytes subscribers get, in the order the author wrote them (QJsonObject would
            // sort the keys).
            if (const auto raw = rawjson::member(response.body, "data")) {
                if (auto payload = validation::parseMessageData(*raw))
                    message.data = std::move(payload->compact);
            }
            if (message.data.isEmpty())
                message.data = QJsonDocument(object->value(QStringLiteral("data")).toObject())
                                   .toJson(QJsonDocument::Compact);
            return message;
        });
}

} // namespace streams
