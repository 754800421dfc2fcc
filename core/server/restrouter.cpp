#include "server/restrouter.h"

#include "server/formdecoder.h"

#include <QList>

namespace streams {

namespace {
enum class PathShape {
    None,
    Services,
    Service,
    Streams,
    Stream,
    Messages
};

struct ParsedPath
{
    PathShape shape = PathShape::None;
    QByteArrayView serviceSegment;
    QByteArrayView streamSegment;
};

ParsedPath parsePath(QByteArrayView path)
{
    // One trailing slash is tolerated; empty segments elsewhere are not.
    if (path.size() > 1 && path.endsWith('/'))
        path.chop(1);
    if (!path.startsWith('/'))
        return {};
    QList<QByteArrayView> segments;
    for (qsizetype start = 1; start <= path.size();) {
        qsizetype end = path.indexOf('/', start);
        if (end < 0)
            end = path.size();
        segments.append(path.sliced(start, end - start));
        start = end + 1;
    }
    for (const QByteArrayView segment : segments) {
        if (segment.isEmpty())
            return {};
    }
    const auto is = [&](qsizetype i, const char *literal) {
        return segments.size() > i && segments[i] == QByteArrayView(literal);
    };
    if (!is(0, "v1") || !is(1, "Services"))
        return {};
    switch (segments.size()) {
    case 2: return {PathShape::Services, {}, {}};
    case 3: return {PathShape::Service, segments[2], {}};
    case 4:
        return is(3, "Streams") ? ParsedPath{PathShape::Streams, segments[2], {}} : ParsedPath{};
    case 5:
        return is(3, "Streams") ? ParsedPath{PathShape::Stream, segments[2], segments[4]}
                                : ParsedPath{};
    case 6:
        return is(3, "Streams") && is(5, "Messages")
            ? ParsedPath{PathShape::Messages, segments[2], segments[4]}
            : ParsedPath{};
    default: return {};
    }
}

QByteArray methodsFor(PathShape shape)
{
    switch (shape) {
    case PathShape::Services:
    case PathShape::Streams: return "GET, POST";
    case PathShape::Service:
    case PathShape::Stream: return "GET, POST, DELETE";
    case PathShape::Messages: return "POST";
    case PathShape::None: break;
    }
    return {};
}
} // namespace

QByteArray RestRouter::allowedMethods(QByteArrayView path)
{
    return methodsFor(parsePath(path).shape);
}

std::expected<RestRoute, ApiError> RestRouter::route(QByteArrayView method, QByteArrayView path)
{
    const ParsedPath parsed = parsePath(path);
    const QString printablePath = QString::fromUtf8(path.first(qMin<qsizetype>(path.size(), 512)));
    if (parsed.shape == PathShape::None)
        return std::unexpected(ApiError::notFound(printablePath));

    RestRoute route{RestOperation::ListServices, {}, {}};
    if (!parsed.serviceSegment.isEmpty()) {
        auto service = FormDecoder::decodeComponent(parsed.serviceSegment, false);
        if (!service)
            return std::unexpected(service.error());
        route.serviceId = *service;
    }
    if (!parsed.streamSegment.isEmpty()) {
        auto stream = FormDecoder::decodeComponent(parsed.streamSegment, false);
        if (!stream)
            return std::unexpected(stream.error());
        route.streamId = *stream;
    }

    const bool get = method == "GET", post = method == "POST", del = method == "DELETE";
    bool matched = true;
    switch (parsed.shape) {
    case PathShape::Services:
        matched = get || post;
        route.operation = get ? RestOperation::ListServices : RestOperation::CreateService;
        break;
    case PathShape::Service:
        matched = get || post || del;
        route.operation = get ? RestOperation::FetchService
            : post            ? RestOperation::UpdateService
                              : RestOperation::DeleteService;
        break;
    case PathShape::Streams:
        matched = get || post;
        route.operation = get ? RestOperation::ListStreams : RestOperation::CreateStream;
        break;
    case PathShape::Stream:
        matched = get || post || del;
        route.operation = get ? RestOperation::FetchStream
            : post            ? RestOperation::UpdateStream
                              : RestOperation::DeleteStream;
        break;
    case PathShape::Messages:
        matched = post;
        route.operation = RestOperation::CreateStreamMessage;
        break;
    case PathShape::None: break;
    }
    if (!matched)
        return std::unexpected(ApiError::methodNotAllowed(
            QString::fromLatin1(method.first(qMin<qsizetype>(method.size(), 16))), printablePath));
    return route;
}

} // namespace streams
