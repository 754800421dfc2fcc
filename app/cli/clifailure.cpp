#include "clifailure.h"

namespace streams {

CliFailure CliFailure::fromApiError(const ApiError &error)
{
    if (error.isConnectionFailure())
        return connection(QStringLiteral("connection failed: %1").arg(error.message()));
    return {ExitCode::ApiFailure, describe(error)};
}

QString CliFailure::describe(const ApiError &error)
{
    if (error.isConnectionFailure())
        return QStringLiteral("connection failed: %1").arg(error.message());
    if (error.code() == 0)
        return QStringLiteral("error (HTTP %1): %2").arg(error.httpStatus()).arg(error.message());
    return QStringLiteral("error %1: %2").arg(error.code()).arg(error.message());
}

} // namespace streams
