#include "server/cdsrouter.h"

#include "api/jsonwriter.h"
#include "api/limits.h"
#include "api/rawjson.h"
#include "api/restjson.h"
#include "api/validation.h"
#include "engine/engine.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>
#include <cmath>

namespace streams {

namespace {

std::expected<QJsonObject, ApiError> bodyObject(QByteArrayView body)
{
    if (body.trimmed().isEmpty())
        return QJsonObject();
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return std::unexpected(
            ApiError::badRequest(QStringLiteral("The request body must be a JSON object")));
    return document.object();
}

std::expected<std::optional<qint64>, ApiError> ttlValue(const QJsonValue &value)
{
    if (value.isUndefined() || value.isNull())
        return std::optional<qint64>();
    if (value.isString()) {
        auto ttl = validation::parseTtl(value.toString());
        if (!ttl)
            return std::unexpected(ttl.error());
        return std::optional<qint64>(*ttl);
    }
    const double number = value.toDouble(-1);
    if (!value.isDouble() || number != std::floor(number) || number < 0
        || number > double(limits::kMaxTtlSeconds))
        return std::unexpected(ApiError::invalidTtl(QString::fromUtf8(QJsonDocument(
            QJsonObject{{QStringLiteral("ttl"), value}}).toJson(QJsonDocument::Compact))));
    return std::optional<qint64>(qint64(number));
}

} // namespace

QLatin1StringView CdsRouter::statusName(int httpStatus)
{
    switch (httpStatus) {
    case 200: return QLatin1StringView("OK");
    case 201: return QLatin1StringView("CREATED");
    case 204: return QLatin1StringView("NO_CONTENT");
    case 400: return QLatin1StringView("BAD_REQUEST");
    case 401: return QLatin1StringView("UNAUTHORIZED");
    case 403: return QLatin1StringView("FORBIDDEN");
    case 404: return QLatin1StringView("NOT_FOUND");
    case 405: return QLatin1StringView("METHOD_NOT_ALLOWED");
    case 409: return QLatin1StringView("CONFLICT");
    case 413: return QLatin1StringView("PAYLOAD_TOO_LARGE");
    case 429: return QLatin1StringView("TOO_MANY_REQUESTS");
    case 503: return QLatin1StringView("SERVICE_UNAVAILABLE");
    default:
        return httpStatus >= 500 ? QLatin1StringView("INTERNAL_SERVER_ERROR")
                                 : QLatin1StringView("ERROR");
    }
}

CdsRouter::Reply CdsRouter::errorReply(const ApiError &error)
{
    return {error.httpStatus(), QJsonDocument(error.toJson()).toJson(QJsonDocument::Compact), {}};
}

QString CdsRouter::streamUrl(QStringView baseUrl, QStringView serviceSid, QStringView streamSid)
{
    QString url = baseUrl.toString();
    url.append(QLatin1StringView("/v3/Services/"))
        .append(serviceSid)
        .append(QLatin1StringView("/Streams/"))
        .append(streamSid);
    return url;
}

QByteArray CdsRouter::descriptor(const Stream &stream, QStringView baseUrl)
{
    QByteArray out;
    out.reserve(640);
    JsonWriter json(out);
    restjson::writeStreamAt(json, stream, streamUrl(baseUrl, stream.serviceSid, stream.sid));
    return out;
}

CdsRouter::Reply CdsRouter::route(
    const Caller &caller, QStringView method, QStringView path, QByteArrayView body)
{
    if (const qsizetype query = path.indexOf(u'?'); query >= 0)
        path = path.first(query);
    const QString requested = path.toString();
    // The engine words its 404s with REST (/v1) paths; the client asked for this one.
    const auto fail = [&](const ApiError &error) {
        return errorReply(
            error.code() == ApiError::NotFound ? ApiError::notFound(requested) : error);
    };
    const auto notFound = [&] { return errorReply(ApiError::notFound(requested)); };

    // Split before decoding: a unique name may contain an encoded '/'.
    QStringList segments;
    for (const QStringView segment : path.split(u'/', Qt::SkipEmptyParts))
        segments.append(QUrl::fromPercentEncoding(segment.toUtf8()));
    if (segments.size() < 2 || segments[0] != u"v3")
        return notFound();

    if (segments[1] == u"Streams") {
        if (segments.size() == 2 && method == u"POST")
            return createStream(caller, body);
        if (segments.size() == 3 && method == u"GET") {
            auto stream = m_engine.fetchStream(caller.serviceSid, segments[2]);
            return stream ? Reply{200, descriptor(*stream, caller.baseUrl), {}}
                          : fail(stream.error());
        }
        return notFound();
    }

    // /v3/Services/{IS}/Streams/{TO}[/Messages]: the URLs this router hands out. Another
    // service's URL is "not found" rather than forbidden: a token sees only its grant's service.
    if (segments[1] != u"Services" || segments.size() < 5 || segments.size() > 6
        || segments[3] != u"Streams"
        || segments[2].compare(caller.serviceSid, Qt::CaseInsensitive) != 0)
        return notFound();
    const QString &streamId = segments[4];
    if (segments.size() == 6) {
        if (segments[5] == u"Messages" && method == u"POST")
            return publish(caller, streamId, body);
        return notFound();
    }
    if (method == u"GET") {
        auto stream = m_engine.fetchStream(caller.serviceSid, streamId);
        return stream ? Reply{200, descriptor(*stream, caller.baseUrl), {}} : fail(stream.error());
    }
    // The SDK's setTtl posts {ttl} to the descriptor's url and reads date_expires back.
    if (method == u"POST") {
        Reply reply = updateStream(caller, streamId, body);
        return reply.status == 404 ? notFound() : reply;
    }
    if (method == u"DELETE") {
        auto deleted = m_engine.deleteStream(caller.serviceSid, streamId);
        return deleted ? Reply{204, {}, {}} : fail(deleted.error());
    }
    // Any other method is a 404 with Twilio's body too, which the SDK reports as a SyncError.
    return notFound();
}

CdsRouter::Reply CdsRouter::createStream(const Caller &caller, QByteArrayView body)
{
    auto object = bodyObject(body);
    if (!object)
        return errorReply(object.error());
    StreamCreate create;
    create.createdBy = caller.identity;
    const QJsonValue name = object->value(QLatin1StringView("unique_name"));
    if (!name.isUndefined() && !name.isNull()) {
        if (!name.isString())
            return errorReply(ApiError::invalidUniqueName(QStringLiteral("must be a string")));
        create.uniqueName = name.toString();
    }
    auto ttl = ttlValue(object->value(QLatin1StringView("ttl")));
    if (!ttl)
        return errorReply(ttl.error());
    create.ttlSeconds = *ttl;
    auto stream = m_engine.createStream(caller.serviceSid, create);
    if (!stream)
        return errorReply(stream.error());
    return {201, descriptor(*stream, caller.baseUrl), {}};
}

CdsRouter::Reply CdsRouter::updateStream(
    const Caller &caller, const QString &streamId, QByteArrayView body)
{
    auto object = bodyObject(body);
    if (!object)
        return errorReply(object.error());
    auto ttl = ttlValue(object->value(QLatin1StringView("ttl")));
    if (!ttl)
        return errorReply(ttl.error());
    auto stream = m_engine.updateStream(caller.serviceSid, streamId, *ttl);
    if (!stream)
        return errorReply(stream.error());
    return {200, descriptor(*stream, caller.baseUrl), {}};
}

CdsRouter::Reply CdsRouter::publish(
    const Caller &caller, const QString &streamId, QByteArrayView body)
{
    auto object = bodyObject(body);
    if (!object)
        return errorReply(object.error());
    const QJsonValue data = object->value(QLatin1StringView("data"));
    if (data.isUndefined())
        return errorReply(ApiError::invalidJson(QStringLiteral("the data field is required")));
    QByteArray text;
    if (const auto raw = rawjson::member(body, "data"))
        text = raw->toByteArray();
    else if (data.isObject())
        text = QJsonDocument(data.toObject()).toJson(QJsonDocument::Compact);
    else
        return errorReply(ApiError::invalidJson(QStringLiteral("Data must be a JSON object")));

    // Engine::publish runs the one payload validator (54008/54006) and the rate limit (54009).
    auto message = m_engine.publish(caller.serviceSid, streamId, text);
    if (!message) {
        if (message.error().code() == ApiError::NotFound)
            return errorReply(
                ApiError::notFound(streamUrl(QStringView(), caller.serviceSid, streamId)
                    + QLatin1StringView("/Messages")));
        return errorReply(message.error());
    }
    Reply reply{201, {}, *message};
    reply.body.reserve(64 + message->data.size());
    JsonWriter json(reply.body);
    restjson::writeMessage(json, *message);
    return reply;
}

} // namespace streams
