#include "remote/enginecontrolclient.h"

#include "remote/remoterequest.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QPromise>
#include <QUrlQuery>
#include <cstring>

// Method, path and status only: never the Authorization header, never a body (a snapshot holds
// every name, and traffic bodies may hold message data).
Q_LOGGING_CATEGORY(lcEngineControl, "streams.remote.enginecontrol", QtWarningMsg)

namespace streams {

struct EngineControlClient::Call
{
    QByteArray method;
    QString path;
    Completion done;
    QPointer<QNetworkReply> reply;
    bool timedOut = false;
};

namespace {

std::optional<QJsonObject> parseObject(const QByteArray &body)
{
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return std::nullopt;
    return document.object();
}

/// A non-2xx answer: Twilio's error body as sent, or what came back instead (another server's
/// page, when the URL is not an engine's).
ApiError errorFrom(const EngineReply &reply, const QByteArray &reason)
{
    if (reply.object.contains(QStringLiteral("code")))
        return ApiError::fromJson(reply.object, reply.status);
    QString message = QStringLiteral("HTTP %1").arg(reply.status);
    if (!reason.isEmpty())
        message += u' ' + QString::fromLatin1(reason);
    if (reply.object.contains(QStringLiteral("message")))
        message += QStringLiteral(": ") + reply.object.value(QStringLiteral("message")).toString();
    return ApiError(reply.status, reply.status, message);
}

QString segment(const QString &text)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(text));
}

template<typename T>
std::shared_ptr<QPromise<EngineControlClient::Result<T>>> startedPromise()
{
    auto promise = std::make_shared<QPromise<EngineControlClient::Result<T>>>();
    promise->start();
    return promise;
}

template<typename T>
void settle(QPromise<EngineControlClient::Result<T>> &promise, EngineControlClient::Result<T> value)
{
    promise.addResult(std::move(value));
    promise.finish();
}

} // namespace

QJsonObject EngineFaultRule::toJson() const
{
    QJsonObject rule;
    if (service)
        rule.insert(QStringLiteral("service"), *service);
    if (stream)
        rule.insert(QStringLiteral("stream"), *stream);
    if (drop)
        rule.insert(QStringLiteral("drop"), *drop);
    if (delayMs)
        rule.insert(QStringLiteral("delay_ms"), *delayMs);
    if (jitterMs)
        rule.insert(QStringLiteral("jitter_ms"), *jitterMs);
    if (reorderWindow)
        rule.insert(QStringLiteral("reorder_window"), *reorderWindow);
    if (restError) {
        QJsonObject error{{QStringLiteral("status"), restError->status}};
        if (restError->code)
            error.insert(QStringLiteral("code"), *restError->code);
        if (restError->message)
            error.insert(QStringLiteral("message"), *restError->message);
        if (restError->probability)
            error.insert(QStringLiteral("probability"), *restError->probability);
        if (restError->count)
            error.insert(QStringLiteral("count"), *restError->count);
        if (restError->method)
            error.insert(QStringLiteral("method"), *restError->method);
        if (restError->on)
            error.insert(QStringLiteral("on"), *restError->on);
        rule.insert(QStringLiteral("rest_error"), error);
    }
    if (disconnect)
        rule.insert(QStringLiteral("disconnect"), true);
    if (seed)
        rule.insert(QStringLiteral("seed"), *seed);
    return rule;
}

EngineControlClient::EngineControlClient(
    const QUrl &engineBase, RemoteCredentials credentials, QObject *parent)
    : EngineControlClient(engineBase, std::move(credentials), Options(), parent)
{ }

EngineControlClient::EngineControlClient(
    const QUrl &engineBase, RemoteCredentials credentials, Options options, QObject *parent)
    : QObject(parent),
      m_base(engineBase.adjusted(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment)),
      m_credentials(std::move(credentials)),
      m_options(options),
      m_network(new QNetworkAccessManager(this))
{
    m_options.timeoutMs = qMax(1, m_options.timeoutMs);
    // As RestClient: a redirect would hand the Authorization header to whoever it names.
    m_network->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
}

EngineControlClient::~EngineControlClient()
{
    const auto calls = std::exchange(m_calls, {});
    for (const auto &call : calls) {
        if (call->reply) {
            disconnect(call->reply, nullptr, this, nullptr);
            call->reply->abort();
        }
        call->done(std::unexpected(ApiError::connectionFailed(
            QStringLiteral("The request to %1 was cancelled: the client was closed")
                .arg(hostPort()))));
    }
}

QString EngineControlClient::hostPort() const
{
    return remoterequest::hostPort(m_base);
}

void EngineControlClient::send(
    const QByteArray &method, const QString &pathAndQuery, const QByteArray &body, Completion done)
{
    auto call = std::make_shared<Call>();
    call->method = method;
    call->path = pathAndQuery;
    call->done = std::move(done);
    m_calls.insert(call.get(), call);

    std::weak_ptr<Call> weak = call;
    const QUrl url =
        QUrl::fromEncoded(m_base.toEncoded() + pathAndQuery.toLatin1(), QUrl::StrictMode);
    QNetworkReply *reply = remoterequest::send(*m_network,
        remoterequest::make(url, m_credentials, m_options.timeoutMs), method, body,
        QByteArrayLiteral("application/json"), m_options.timeoutMs,
        remoterequest::flagTimeout(weak));
    call->reply = reply;
    qCDebug(lcEngineControl) << method << pathAndQuery;

    connect(reply, &QNetworkReply::finished, this, [this, weak, reply] {
        if (const auto c = weak.lock(); c && m_calls.contains(c.get()))
            finished(c, reply);
        reply->deleteLater();
    });
}

void EngineControlClient::finished(const std::shared_ptr<Call> &call, QNetworkReply *reply)
{
    m_calls.remove(call.get());
    call->reply = nullptr;
    const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (status.isValid() && status.toInt() > 0) {
        EngineReply answer;
        answer.status = status.toInt();
        answer.body = reply->readAll();
        answer.object = parseObject(answer.body).value_or(QJsonObject());
        qCDebug(lcEngineControl) << call->method << call->path << "->" << answer.status;
        if (answer.status < 200 || answer.status > 299) {
            const QByteArray reason =
                reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray();
            return call->done(std::unexpected(errorFrom(answer, reason)));
        }
        return call->done(answer);
    }
    const bool timedOut = call->timedOut || reply->error() == QNetworkReply::OperationCanceledError
        || reply->error() == QNetworkReply::TimeoutError;
    const ApiError failure = ApiError::connectionFailed(timedOut
            ? QStringLiteral("No answer from %1 within %2 s")
                  .arg(hostPort(), QString::number(m_options.timeoutMs / 1000.0, 'g', 3))
            : QStringLiteral("Cannot reach %1: %2").arg(hostPort(), reply->errorString()));
    qCDebug(lcEngineControl) << call->method << call->path << "failed:" << failure.message();
    call->done(std::unexpected(failure));
}

QFuture<EngineControlClient::Result<EngineReply>> EngineControlClient::json(
    const QByteArray &method, const QString &pathAndQuery, const QByteArray &body)
{
    auto promise = startedPromise<EngineReply>();
    QFuture<Result<EngineReply>> future = promise->future();
    send(method, pathAndQuery, body, [promise](const Result<EngineReply> &reply) {
        if (reply && !parseObject(reply->body))
            return settle<EngineReply>(*promise,
                std::unexpected(ApiError(ApiError::InternalError, reply->status,
                    QStringLiteral("The engine's answer (HTTP %1) is not a JSON object")
                        .arg(reply->status))));
        settle(*promise, reply);
    });
    return future;
}

QFuture<EngineControlClient::Result<void>> EngineControlClient::noContent(
    const QByteArray &method, const QString &path)
{
    auto promise = startedPromise<void>();
    QFuture<Result<void>> future = promise->future();
    send(method, path, {}, [promise](const Result<EngineReply> &reply) {
        if (!reply)
            return settle<void>(*promise, std::unexpected(reply.error()));
        settle<void>(*promise, {});
    });
    return future;
}

QFuture<EngineControlClient::Result<EngineReply>> EngineControlClient::request(
    const QByteArray &method, const QString &pathAndQuery, const QByteArray &body)
{
    auto promise = startedPromise<EngineReply>();
    QFuture<Result<EngineReply>> future = promise->future();
    send(method, pathAndQuery, body,
        [promise](const Result<EngineReply> &reply) { settle(*promise, reply); });
    return future;
}

QFuture<EngineControlClient::Result<EngineReply>> EngineControlClient::health()
{
    return json("GET", QStringLiteral("/_engine/health"));
}

QFuture<EngineControlClient::Result<EngineReply>> EngineControlClient::exportState()
{
    return json("GET", QStringLiteral("/_engine/state"));
}

QFuture<EngineControlClient::Result<EngineReply>> EngineControlClient::importState(
    const QByteArray &snapshot)
{
    return json("PUT", QStringLiteral("/_engine/state"), snapshot);
}

QFuture<EngineControlClient::Result<EngineReply>> EngineControlClient::reset()
{
    return json("POST", QStringLiteral("/_engine/reset"), QByteArrayLiteral("{}"));
}

QFuture<EngineControlClient::Result<EngineReply>> EngineControlClient::clock()
{
    return json("GET", QStringLiteral("/_engine/clock"));
}

QFuture<EngineControlClient::Result<EngineReply>> EngineControlClient::advanceClock(double seconds)
{
    const QJsonObject body{{QStringLiteral("advance_seconds"), seconds}};
    return json("POST", QStringLiteral("/_engine/clock"),
        QJsonDocument(body).toJson(QJsonDocument::Compact));
}

QFuture<EngineControlClient::Result<EngineReply>> EngineControlClient::listFaults()
{
    return json("GET", QStringLiteral("/_engine/faults"));
}

QFuture<EngineControlClient::Result<EngineReply>> EngineControlClient::addFault(
    const EngineFaultRule &rule)
{
    return json("POST", QStringLiteral("/_engine/faults"),
        QJsonDocument(rule.toJson()).toJson(QJsonDocument::Compact));
}

QFuture<EngineControlClient::Result<void>> EngineControlClient::removeFault(const QString &id)
{
    return noContent("DELETE", QStringLiteral("/_engine/faults/") + segment(id));
}

QFuture<EngineControlClient::Result<void>> EngineControlClient::clearFaults()
{
    return noContent("DELETE", QStringLiteral("/_engine/faults"));
}

QFuture<EngineControlClient::Result<EngineReply>> EngineControlClient::traffic(
    std::optional<qint64> after, std::optional<int> limit)
{
    QUrlQuery query;
    if (after)
        query.addQueryItem(QStringLiteral("after"), QString::number(*after));
    if (limit)
        query.addQueryItem(QStringLiteral("limit"), QString::number(*limit));
    QString path = QStringLiteral("/_engine/traffic");
    if (!query.isEmpty())
        path += u'?' + query.toString(QUrl::FullyEncoded);
    return json("GET", path);
}

} // namespace streams
