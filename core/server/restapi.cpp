#include "server/restapi.h"

#include "api/limits.h"
#include "api/restjson.h"
#include "api/validation.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "server/formdecoder.h"

#include <QJsonDocument>
#include <algorithm>

namespace streams {

namespace {
using Fields = FormDecoder::Fields;

RestReply errorReply(const ApiError &error)
{
    return RestReply::error(error);
}

FaultScope scopeOf(RestOperation operation)
{
    switch (operation) {
    case RestOperation::ListServices:
    case RestOperation::CreateService:
    case RestOperation::FetchService:
    case RestOperation::UpdateService:
    case RestOperation::DeleteService: return FaultScope::Services;
    case RestOperation::CreateStreamMessage: return FaultScope::Messages;
    default: break;
    }
    return FaultScope::Streams;
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
        const auto size = validation::parsePageSize(*it);
        if (!size)
            return std::unexpected(size.error());
        request.pageSize = *size;
    }
    if (const auto it = query.constFind(QStringLiteral("Page")); it != query.cend()) {
        const auto page = validation::parsePageNumber(*it);
        if (!page)
            return std::unexpected(page.error());
        request.page = *page;
    }
    request.pageToken = query.value(QStringLiteral("PageToken"));
    return request;
}

template<typename T, typename Write>
RestReply listReply(const std::expected<Page<T>, ApiError> &page, QLatin1StringView key,
    const QString &listUrl, const PageRequest &request, Write write)
{
    if (!page)
        return errorReply(page.error());
    const std::optional<QString> token =
        request.pageToken.isEmpty() ? std::nullopt : std::optional<QString>(request.pageToken);
    RestReply reply{200, {}, {}};
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
RestReply resourceReply(int status, const std::expected<T, ApiError> &resource, Write write)
{
    if (!resource)
        return errorReply(resource.error());
    RestReply reply{status, {}, {}};
    reply.body.reserve(640);
    JsonWriter json(reply.body);
    write(json, *resource);
    return reply;
}
} // namespace

RestReply RestReply::error(const ApiError &error)
{
    RestReply reply{
        error.httpStatus(), QJsonDocument(error.toJson()).toJson(QJsonDocument::Compact), {}};
    reply.code = error.code();
    return reply;
}

HttpResponse RestReply::toHttp() const
{
    HttpResponse response{status, body};
    response.message = message;
    if (!allow.isEmpty())
        response.headers.append({QByteArrayLiteral("Allow"), allow});
    else if (status == 401)
        response.headers.append({QByteArrayLiteral("WWW-Authenticate"),
            QByteArrayLiteral("Basic realm=\"Twilio API\"")});
    else if (status == 429)
        response.headers.append({QByteArrayLiteral("Retry-After"), QByteArrayLiteral("1")});
    return response;
}

RestApi::RestApi(Engine &engine) : m_engine(engine) { }

QString RestApi::baseUrl(QByteArrayView host, const QHostAddress &local, quint16 port, bool secure)
{
    if (isPlausibleHost(host))
        return (secure ? QStringLiteral("https://") : QStringLiteral("http://"))
            + QString::fromLatin1(host);
    const QString address = local.protocol() == QAbstractSocket::IPv6Protocol
        ? u'[' + local.toString() + u']'
        : local.toString();
    return QStringLiteral("http://%1:%2").arg(address).arg(port);
}

std::optional<RestApi::BasicCredentials> RestApi::basicCredentials(QByteArrayView authorization)
{
    if (!authorization.startsWith("Basic "))
        return std::nullopt;
    const auto result = QByteArray::fromBase64Encoding(
        authorization.sliced(6).trimmed().toByteArray(), QByteArray::AbortOnBase64DecodingErrors);
    if (!result)
        return std::nullopt;
    const qsizetype colon = result.decoded.indexOf(':');
    if (colon < 0)
        return std::nullopt;
    return BasicCredentials{result.decoded.first(colon), result.decoded.sliced(colon + 1)};
}

QString RestApi::basicUser(QByteArrayView authorization)
{
    const std::optional<BasicCredentials> credentials = basicCredentials(authorization);
    if (!credentials || credentials->user.isEmpty() || credentials->user.size() > 64)
        return {};
    // Only what looks like a SID: anything else might be a secret typed in the wrong place.
    const QByteArray &user = credentials->user;
    const bool sidLike = std::all_of(user.cbegin(), user.cend(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    });
    return sidLike ? QString::fromLatin1(user) : QString();
}

bool RestApi::authorized(QByteArrayView authorization) const
{
    const std::optional<BasicCredentials> credentials = basicCredentials(authorization);
    return credentials && m_engine.credentials().accepts(credentials->user, credentials->password);
}

RestReply RestApi::handle(QByteArrayView method, QByteArrayView encodedPath,
    QByteArrayView encodedQuery, QByteArrayView authorization, QByteArrayView body,
    const QString &baseUrl, bool batchCreates, std::optional<bool> *authenticated)
{
    if (body.size() > limits::kMaxRequestBodyBytes)
        return errorReply(ApiError::payloadTooLarge(body.size()));
    const bool passed = authorized(authorization);
    if (authenticated)
        *authenticated = passed;
    if (!passed)
        return errorReply(ApiError::authenticationFailed());
    QByteArrayView listPath = encodedPath;
    if (listPath.size() > 1 && listPath.endsWith('/'))
        listPath.chop(1);
    // A page asked for again is answered before routing: it was routed when it was made.
    QByteArray listKey;
    // A fault rule on REST answers before any kept page could.
    const bool faultsOnRest = m_engine.faults().hasRestErrors();
    if (method == "GET" && !faultsOnRest) {
        listKey = baseUrl.toUtf8();
        listKey += listPath;
        listKey += '?';
        listKey += encodedQuery;
        if (const ListPageCache::Page *kept =
                m_lists.find(listKey, m_engine.listGeneration(), m_engine.clock().nowSeconds()))
            return RestReply{200, kept->body, {}, 0, {}, kept->message};
    }
    auto route = RestRouter::route(method, encodedPath);
    if (!route) {
        RestReply reply = errorReply(route.error());
        if (route.error().httpStatus() == 405)
            reply.allow = RestRouter::allowedMethods(encodedPath);
        return reply;
    }
    if (auto refusal = m_engine.restRefusal(
            method, scopeOf(route->operation), route->serviceId, route->streamId)) {
        RestReply reply = errorReply(refusal->error);
        reply.fault = refusal->ruleId;
        return reply;
    }
    return dispatch(*route, encodedQuery, body, baseUrl, baseUrl + QString::fromUtf8(listPath),
        listKey, batchCreates);
}

RestReply RestApi::dispatch(const RestRoute &route, QByteArrayView encodedQuery,
    QByteArrayView body, const QString &baseUrl, const QString &listUrl, const QByteArray &listKey,
    bool batchCreates)
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
        RestReply reply = route.operation == RestOperation::ListServices
            ? listReply(m_engine.listServices(*request), QLatin1StringView("services"), listUrl,
                *request, service)
            : listReply(m_engine.listStreams(route.serviceId, *request),
                QLatin1StringView("streams"), listUrl, *request, stream);
        if (reply.status == 200 && !listKey.isEmpty()) {
            reply.message = reply.toHttp().serialize(false, false);
            m_lists.keep(listKey, m_engine.listGeneration(), m_engine.clock().nowSeconds(),
                {reply.body, reply.message});
        }
        return reply;
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
        return deleted ? RestReply{204, {}, {}} : errorReply(deleted.error());
    }
    case RestOperation::CreateStream: {
        StreamCreate create;
        if (const auto it = form->constFind(QStringLiteral("UniqueName")); it != form->cend())
            create.uniqueName = *it;
        auto ttl = ttlField(*form);
        if (!ttl)
            return errorReply(ttl.error());
        create.ttlSeconds = *ttl;
        if (!batchCreates)
            return resourceReply(201, m_engine.createStream(route.serviceId, create), stream);
        auto created = m_engine.createStreamInBatch(route.serviceId, create);
        if (!created)
            return errorReply(created.error());
        RestReply reply =
            resourceReply(201, std::expected<Stream, ApiError>(created->first), stream);
        reply.batch = created->second;
        reply.streamSid = created->first.sid;
        return reply;
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
        return deleted ? RestReply{204, {}, {}} : errorReply(deleted.error());
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

} // namespace streams
