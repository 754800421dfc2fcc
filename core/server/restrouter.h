#pragma once

#include "api/apierror.h"

#include <QByteArray>
#include <QString>
#include <expected>

namespace streams {

/// The Sync v1 operations the engine serves.
enum class RestOperation {
    CreateService,
    ListServices,
    FetchService,
    UpdateService,
    DeleteService,
    CreateStream,
    ListStreams,
    FetchStream,
    UpdateStream,
    DeleteStream,
    CreateStreamMessage,
};

struct RestRoute
{
    RestOperation operation;
    QString serviceId; // SID or unique name, percent-decoded
    QString streamId; // SID or unique name, percent-decoded
};

/// Maps a method and a still percent-encoded path to an operation: 404 for paths outside the
/// API, 405 (with the allowed methods) for a known path with another method, 400 for a path
/// that does not decode. Pure: no I/O, so it can be fuzzed and tested on its own.
class RestRouter final
{
public:
    static std::expected<RestRoute, ApiError> route(QByteArrayView method, QByteArrayView path);
    /// The methods a path accepts, for the Allow header of a 405 ("GET, POST, DELETE").
    static QByteArray allowedMethods(QByteArrayView path);
};

} // namespace streams
