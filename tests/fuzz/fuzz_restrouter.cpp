// libFuzzer target: the REST request line. The input is "METHOD\nPATH\nQUERY" (missing parts are
// empty); the router maps method and path, the query goes through the form decoder and the list
// parameters' validators, as RestServer does before it reaches the engine. The router is pure, so
// no engine is needed. Besides never crashing, the router must agree with allowedMethods() (what
// a 405's Allow header says), and a route must survive being spelled again from its decoded ids.
#include "api/limits.h"
#include "api/validation.h"
#include "require.h"
#include "server/formdecoder.h"
#include "server/restrouter.h"

#include <cstdint>

using namespace streams;

namespace {

bool allows(const QByteArray &allowed, QByteArrayView method)
{
    for (const QByteArray &token : allowed.split(',')) {
        if (token.trimmed() == method)
            return true;
    }
    return false;
}

QByteArray segment(const QString &id)
{
    return id.toUtf8().toPercentEncoding();
}

void checkRoute(QByteArrayView method, QByteArrayView path)
{
    const auto route = RestRouter::route(method, path);
    const QByteArray allowed = RestRouter::allowedMethods(path);
    if (!route) {
        const int status = route.error().httpStatus();
        require(!route.error().message().isEmpty(), "every error is described");
        switch (status) {
        case 404: require(allowed.isEmpty(), "a 404 path allows no method"); break;
        case 405:
            require(!allowed.isEmpty() && !allows(allowed, method),
                "a 405 names a path that allows other methods");
            break;
        case 400: require(!allowed.isEmpty(), "a 400 path is an API path"); break;
        default: require(false, "route errors are 400, 404 or 405");
        }
        return;
    }
    require(allows(allowed, method), "a routed method is an allowed method");

    const bool hasService = route->operation != RestOperation::ListServices
        && route->operation != RestOperation::CreateService;
    const bool hasStream = route->operation == RestOperation::FetchStream
        || route->operation == RestOperation::UpdateStream
        || route->operation == RestOperation::DeleteStream
        || route->operation == RestOperation::CreateStreamMessage;
    require(route->serviceId.isEmpty() != hasService, "a service route names its service");
    require(route->streamId.isEmpty() != hasStream, "a stream route names its stream");
    require(route->serviceId.isValidUtf16() && route->streamId.isValidUtf16(),
        "decoded ids are valid UTF-16");

    // The same route, spelled with every id byte percent-encoded.
    QByteArray canonical = "/v1/Services";
    if (hasService)
        canonical += '/' + segment(route->serviceId);
    if (route->operation == RestOperation::ListStreams
        || route->operation == RestOperation::CreateStream || hasStream)
        canonical += "/Streams";
    if (hasStream)
        canonical += '/' + segment(route->streamId);
    if (route->operation == RestOperation::CreateStreamMessage)
        canonical += "/Messages";
    const auto again = RestRouter::route(method, canonical);
    require(again.has_value(), "a canonical spelling of a route routes");
    require(again->operation == route->operation && again->serviceId == route->serviceId
            && again->streamId == route->streamId,
        "a canonical spelling routes to the same operation and ids");
}

void checkQuery(QByteArrayView query)
{
    const auto fields = FormDecoder::decode(query);
    if (!fields) {
        require(fields.error().httpStatus() == 400, "a bad query is a 400");
        return;
    }
    if (const auto it = fields->constFind(QStringLiteral("PageSize")); it != fields->cend()) {
        const auto size = validation::parsePageSize(*it);
        require(!size
                || (*size >= limits::kMinPageSize && *size <= limits::kMaxPageSize
                    && (*size == limits::kMaxPageSize || it->endsWith(QString::number(*size)))),
            "an accepted PageSize is in range and is what was sent (or a full page)");
        require(size || size.error().httpStatus() == 400, "a bad PageSize is a 400");
    }
    if (const auto it = fields->constFind(QStringLiteral("Page")); it != fields->cend()) {
        const auto page = validation::parsePageNumber(*it);
        require(!page || *page >= 0, "an accepted Page is not negative");
        require(page || page.error().httpStatus() == 400, "a bad Page is a 400");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(data, qsizetype(size));
    const qsizetype firstBreak = input.indexOf('\n');
    const QByteArrayView method = firstBreak < 0 ? input : input.first(firstBreak);
    const QByteArrayView rest = firstBreak < 0 ? QByteArrayView() : input.sliced(firstBreak + 1);
    const qsizetype secondBreak = rest.indexOf('\n');
    const QByteArrayView path = secondBreak < 0 ? rest : rest.first(secondBreak);
    const QByteArrayView query = secondBreak < 0 ? QByteArrayView() : rest.sliced(secondBreak + 1);

    checkRoute(method, path);
    checkQuery(query);
    return 0;
}
