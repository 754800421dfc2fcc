#include "server/restserver.h"

#include "api/limits.h"
#include "api/restjson.h"
#include "api/validation.h"
#include "engine/engine.h"
#include "server/formdecoder.h"
#include "server/twilsockserver.h"

#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QMetaMethod>
#include <QTcpServer>
#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcHttp, "streams.server.http", QtWarningMsg)

namespace streams {

namespace {
using Fields = FormDecoder::Fields;

QByteArray methodName(QHttpServerRequest::Method method)
{
    switch (method) {
    case QHttpServerRequest::Method::Get: return "GET";
    case QHttpServerRequest::Method::Put: return "PUT";
    case QHttpServerRequest::Method::Delete: return "DELETE";
    case QHttpServerRequest::Method::Post: return "POST";
    case QHttpServerRequest::Method::Head: return "HEAD";
    case QHttpServerRequest::Method::Options: return "OPTIONS";
    case QHttpServerRequest::Method::Patch: return "PATCH";
    case QHttpServerRequest::Method::Connect: return "CONNECT";
    case QHttpServerRequest::Method::Trace: return "TRACE";
    default: return "UNKNOWN";
    }
}

RestServer::Reply errorReply(const ApiError &error)
{
    return {error.httpStatus(), QJsonDocument(error.toJson()).toJson(QJsonDocument::Compact), {}};
}

// A Host header is echoed into every URL we return, so only host[:port] characters pass.
bool isPlausibleHost(QByteArrayView host)
{
    if (host.isEmpty() || host.size() > 255)
        return false;
    for (const char c : host) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

std::expected<std::optional<bool>, ApiError> booleanField(const Fields &fields, const char *name)
{
    const QString key = QString::fromLatin1(name);
    const auto it = fields.constFind(key);
    if (it == fields.cend())
        return std::optional<bool>();
    const auto value = validation::parseBoolean(*it);
    if (!value)
        return std::unexpected(
            ApiError::invalidParameter(key, QStringLiteral("must be true or false")));
    return value;
}

std::expected<ServiceFields, ApiError> serviceFields(const Fields &fields)
{
    ServiceFields out;
    if (const auto it = fields.constFind(QStringLiteral("FriendlyName")); it != fields.cend())
        out.friendlyName = *it;
    if (const auto it = fields.constFind(QStringLiteral("WebhookUrl")); it != fields.cend())
        out.webhookUrl = *it;
    const std::pair<const char *, std::optional<bool> ServiceFields::*> booleans[] = {
        {"ReachabilityWebhooksEnabled", &ServiceFields::reachabilityWebhooksEnabled},
        {"AclEnabled", &ServiceFields::aclEnabled},
        {"ReachabilityDebouncingEnabled", &ServiceFields::reachabilityDebouncingEnabled},
        {"WebhooksFromRestEnabled", &ServiceFields::webhooksFromRestEnabled},
    };
    for (const auto &[name, member] : booleans) {
        auto value = booleanField(fields, name);
        if (!value)
            return std::unexpected(value.error());
        out.*member = *value;
    }
    if (const auto it = fields.constFind(QStringLiteral("ReachabilityDebouncingWindow"));
        it != fields.cend()) {
        bool ok = false;
        const int window = it->toInt(&ok);
        if (!ok)
            return std::unexpected(
                ApiError::invalidParameter(QStringLiteral("ReachabilityDebouncingWindow"),
                    QStringLiteral("must be an integer")));
        out.reachabilityDebouncingWindowMs = window;
    }
    return out;
}

std::expected<std::optional<qint64>, ApiError> ttlField(const Fields &fields)
{
    const auto it = fields.constFind(QStringLiteral("Ttl"));
    if (it == fields.cend())
        return std::optional<qint64>();
    auto ttl = validation::parseTtl(*it);
    if (!ttl)
        return std::unexpected(ttl.error());
    return std::optional<qint64>(*ttl);
}

std::expected<PageRequest, ApiError> pageRequest(const Fields &query)
{
    PageRequest request;
    if (const auto it = query.constFind(QStringLiteral("PageSize")); it != query.cend()) {
        bool ok = false;
        request.pageSize = it->toInt(&ok);
        if (!ok || request.pageSize < limits::kMinPageSize
            || request.pageSize > limits::kMaxPageSize)
            return std::unexpected(ApiError::invalidParameter(QStringLiteral("PageSize"),
                QStringLiteral("must be an integer from %1 to %2")
                    .arg(limits::kMinPageSize)
                    .arg(limits::kMaxPageSize)));
    }
    if (const auto it = query.constFind(QStringLiteral("Page")); it != query.cend()) {
        bool ok = false;
        request.page = it->toInt(&ok);
        if (!ok || request.page < 0)
            return std::unexpected(ApiError::invalidParameter(
                QStringLiteral("Page"), QStringLiteral("must be a non-negative integer")));
    }
    request.pageToken = query.value(QStringLiteral("PageToken"));
    return request;
}

template<typename T, typename Write>
RestServer::Reply listReply(const std::expected<Page<T>, ApiError> &page, QLatin1StringView key,
    const QString &listUrl, const PageRequest &request, Write write)
{
    if (!page)
        return errorReply(page.error());
    const std::optional<QString> token =
        request.pageToken.isEmpty() ? std::nullopt : std::optional<QString>(request.pageToken);
    RestServer::Reply reply{200, {}, {}};
    reply.body.reserve(256 + 600 * page->items.size());
    JsonWriter json(reply.body);
    json.beginObject().key(key).beginArray();
    for (const T &item : page->items)
        write(json, item);
    json.endArray();
    restjson::writeListMeta(json, key, listUrl, page->page, page->pageSize, token,
        page->nextPageToken, page->previousPageToken);
    json.endObject();
    return reply;
}

template<typename T, typename Write>
RestServer::Reply resourceReply(int status, const std::expected<T, ApiError> &resource, Write write)
{
    if (!resource)
        return errorReply(resource.error());
    RestServer::Reply reply{status, {}, {}};
    reply.body.reserve(640);
    JsonWriter json(reply.body);
    write(json, *resource);
    return reply;
}
} // namespace

RestServer::RestServer(Engine &engine, QObject *parent)
    : QAbstractHttpServer(parent), m_engine(engine)
{ }

RestServer::~RestServer() = default;

quint16 RestServer::start(const QHostAddress &address, quint16 port, QString *errorString)
{
    auto *server = new QTcpServer(this);
    if (!server->listen(address, port)) {
        if (errorString)
            *errorString = server->errorString();
        delete server;
        return 0;
    }
    bind(server);
    return server->serverPort();
}

bool RestServer::authorized(QByteArrayView authorization) const
{
    if (!authorization.startsWith("Basic "))
        return false;
    const auto result = QByteArray::fromBase64Encoding(
        authorization.sliced(6).trimmed().toByteArray(), QByteArray::AbortOnBase64DecodingErrors);
    if (!result)
        return false;
    const QByteArrayView decoded = result.decoded;
    const qsizetype colon = decoded.indexOf(':');
    if (colon < 0)
        return false;
    return m_engine.credentials().accepts(decoded.first(colon), decoded.sliced(colon + 1));
}

RestServer::Reply RestServer::handle(QByteArrayView method, QByteArrayView encodedPath,
    QByteArrayView encodedQuery, QByteArrayView authorization, QByteArrayView body,
    const QString &baseUrl)
{
    if (body.size() > limits::kMaxRequestBodyBytes)
        return errorReply(ApiError::payloadTooLarge(body.size()));
    if (!authorized(authorization))
        return errorReply(ApiError::authenticationFailed());
    auto route = RestRouter::route(method, encodedPath);
    if (!route) {
        Reply reply = errorReply(route.error());
        if (route.error().httpStatus() == 405)
            reply.allow = RestRouter::allowedMethods(encodedPath);
        return reply;
    }
    QByteArrayView listPath = encodedPath;
    if (listPath.size() > 1 && listPath.endsWith('/'))
        listPath.chop(1);
    return dispatch(*route, encodedQuery, body, baseUrl, baseUrl + QString::fromUtf8(listPath));
}

RestServer::Reply RestServer::dispatch(const RestRoute &route, QByteArrayView encodedQuery,
    QByteArrayView body, const QString &baseUrl, const QString &listUrl)
{
    auto form = FormDecoder::decode(body);
    if (!form)
        return errorReply(form.error());
    const auto service = [&](JsonWriter &json, const Service &s) {
        restjson::writeService(json, s, baseUrl);
    };
    const auto stream = [&](JsonWriter &json, const Stream &s) {
        restjson::writeStream(json, s, baseUrl);
    };

    switch (route.operation) {
    case RestOperation::ListServices:
    case RestOperation::ListStreams: {
        auto query = FormDecoder::decode(encodedQuery);
        if (!query)
            return errorReply(query.error());
        auto request = pageRequest(*query);
        if (!request)
            return errorReply(request.error());
        if (route.operation == RestOperation::ListServices)
            return listReply(m_engine.listServices(*request), QLatin1StringView("services"),
                listUrl, *request, service);
        return listReply(m_engine.listStreams(route.serviceId, *request),
            QLatin1StringView("streams"), listUrl, *request, stream);
    }
    case RestOperation::CreateService:
    case RestOperation::UpdateService: {
        auto fields = serviceFields(*form);
        if (!fields)
            return errorReply(fields.error());
        if (route.operation == RestOperation::CreateService)
            return resourceReply(201, m_engine.createService(*fields), service);
        return resourceReply(200, m_engine.updateService(route.serviceId, *fields), service);
    }
    case RestOperation::FetchService:
        return resourceReply(200, m_engine.fetchService(route.serviceId), service);
    case RestOperation::DeleteService: {
        auto deleted = m_engine.deleteService(route.serviceId);
        return deleted ? Reply{204, {}, {}} : errorReply(deleted.error());
    }
    case RestOperation::CreateStream: {
        Engine::StreamCreate create;
        if (const auto it = form->constFind(QStringLiteral("UniqueName")); it != form->cend())
            create.uniqueName = *it;
        auto ttl = ttlField(*form);
        if (!ttl)
            return errorReply(ttl.error());
        create.ttlSeconds = *ttl;
        return resourceReply(201, m_engine.createStream(route.serviceId, create), stream);
    }
    case RestOperation::FetchStream:
        return resourceReply(200, m_engine.fetchStream(route.serviceId, route.streamId), stream);
    case RestOperation::UpdateStream: {
        auto ttl = ttlField(*form);
        if (!ttl)
            return errorReply(ttl.error());
        return resourceReply(
            200, m_engine.updateStream(route.serviceId, route.streamId, *ttl), stream);
    }
    case RestOperation::DeleteStream: {
        auto deleted = m_engine.deleteStream(route.serviceId, route.streamId);
        return deleted ? Reply{204, {}, {}} : errorReply(deleted.error());
    }
    case RestOperation::CreateStreamMessage: {
        const auto data = form->constFind(QStringLiteral("Data"));
        if (data == form->cend())
            return errorReply(
                ApiError::invalidJson(QStringLiteral("the Data parameter is required")));
        // The reply carries exactly the bytes subscribers receive.
        return resourceReply(201, m_engine.publish(route.serviceId, route.streamId, data->toUtf8()),
            restjson::writeMessage);
    }
    }
    return errorReply(ApiError::internal(QStringLiteral("unhandled operation")));
}

bool RestServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    const QByteArray method = methodName(request.method());
    const QUrl url = request.url();
    const QByteArray path = url.path(QUrl::FullyEncoded).toUtf8();

    // The twilsock endpoint shares this port. Qt versions that consult the handler for an
    // upgrade hand the socket to newWebSocketConnection only when it is handled without a
    // response; 6.4 upgrades before asking (TwilsockServer checks the path itself).
    // Authentication happens inside, with the access token of the `init` frame.
    if (request.method() == QHttpServerRequest::Method::Get
        && path == QByteArrayView(TwilsockServer::kPath)
        && request.value("Upgrade").compare("websocket", Qt::CaseInsensitive) == 0
        && isSignalConnected(QMetaMethod::fromSignal(&QAbstractHttpServer::newWebSocketConnection)))
        return true;
    const QByteArray query = url.query(QUrl::FullyEncoded).toUtf8();

    QByteArray host = request.value("Host");
    if (!isPlausibleHost(host)) {
        const QHostAddress local = socket->localAddress();
        host = (local.protocol() == QAbstractSocket::IPv6Protocol
                       ? '[' + local.toString().toLatin1() + ']'
                       : local.toString().toLatin1())
            + ':' + QByteArray::number(socket->localPort());
    }
    const QString baseUrl = QStringLiteral("http://") + QString::fromLatin1(host);

    const Reply reply =
        handle(method, path, query, request.value("Authorization"), request.body(), baseUrl);
    if (reply.status >= 500)
        qCWarning(lcHttp) << method << path << "->" << reply.status << reply.body;
    else
        qCDebug(lcHttp) << method << path << "->" << reply.status;

    QHttpServerResponder responder = makeResponder(request, socket);
    const auto status = static_cast<QHttpServerResponder::StatusCode>(reply.status);
    if (reply.status == 204) {
        responder.write(status);
    } else if (!reply.allow.isEmpty()) {
        responder.write(reply.body,
            {{"Content-Type", "application/json; charset=utf-8"}, {"Allow", reply.allow}}, status);
    } else if (reply.status == 401) {
        responder.write(reply.body,
            {{"Content-Type", "application/json; charset=utf-8"},
                {"WWW-Authenticate", "Basic realm=\"Twilio API\""}},
            status);
    } else if (reply.status == 429) {
        responder.write(reply.body,
            {{"Content-Type", "application/json; charset=utf-8"}, {"Retry-After", "1"}}, status);
    } else {
        responder.write(reply.body, {{"Content-Type", "application/json; charset=utf-8"}}, status);
    }
    return true;
}

void RestServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    const QByteArray body = QJsonDocument(ApiError::notFound(request.url().path()).toJson())
                                .toJson(QJsonDocument::Compact);
    makeResponder(request, socket)
        .write(body, {{"Content-Type", "application/json; charset=utf-8"}},
            QHttpServerResponder::StatusCode::NotFound);
}

} // namespace streams
