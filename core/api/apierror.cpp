#include "api/apierror.h"

#include "api/limits.h"

namespace streams {

ApiError::ApiError(int code, int httpStatus, QString message)
    : m_code(code), m_httpStatus(httpStatus), m_message(std::move(message))
{ }

QString ApiError::moreInfo() const
{
    return QStringLiteral("https://www.twilio.com/docs/errors/%1").arg(m_code);
}

QJsonObject ApiError::toJson() const
{
    return QJsonObject{{QStringLiteral("code"), m_code}, {QStringLiteral("message"), m_message},
        {QStringLiteral("more_info"), moreInfo()}, {QStringLiteral("status"), m_httpStatus}};
}

ApiError ApiError::fromJson(const QJsonObject &body, int httpStatus)
{
    const int code = body.value(QStringLiteral("code")).toInt(httpStatus);
    QString message = body.value(QStringLiteral("message")).toString();
    if (message.isEmpty())
        message = QStringLiteral("HTTP %1").arg(httpStatus);
    return {code, httpStatus, message};
}

ApiError ApiError::badRequest(const QString &message)
{
    return {BadRequest, 400, message};
}

ApiError ApiError::authenticationFailed()
{
    return {AuthenticationFailed, 401, QStringLiteral("Authenticate")};
}

ApiError ApiError::notFound(const QString &path)
{
    return {NotFound, 404, QStringLiteral("The requested resource %1 was not found").arg(path)};
}

ApiError ApiError::methodNotAllowed(const QString &method, const QString &path)
{
    return {
        MethodNotAllowed, 405, QStringLiteral("Method %1 is not allowed on %2").arg(method, path)};
}

ApiError ApiError::payloadTooLarge(qsizetype bytes)
{
    ApiError error{PayloadTooLarge, 413,
        QStringLiteral("Request body of %1 bytes exceeds the limit of %2 bytes")
            .arg(bytes)
            .arg(limits::kMaxRequestBodyBytes)};
    error.m_reportedBytes = bytes;
    return error;
}

ApiError ApiError::internal(const QString &message)
{
    return {InternalError, 500, message};
}

ApiError ApiError::serviceUnavailable(const QString &message)
{
    return {ServiceUnavailable, 503, message};
}

ApiError ApiError::invalidPageToken()
{
    return {InvalidPageToken, 400, QStringLiteral("Invalid PageToken")};
}

ApiError ApiError::invalidParameter(const QString &name, const QString &reason)
{
    return {BadRequest, 400, QStringLiteral("Invalid parameter %1: %2").arg(name, reason)};
}

ApiError ApiError::dataTooLarge(qsizetype bytes)
{
    ApiError error{DataTooLarge, 413,
        QStringLiteral("Request entity too large: Data is %1 bytes as compact JSON, the limit "
                       "is %2 bytes")
            .arg(bytes)
            .arg(limits::kMaxMessageBytes)};
    error.m_reportedBytes = bytes;
    return error;
}

ApiError ApiError::invalidJson(const QString &reason)
{
    return {InvalidJson, 400, QStringLiteral("Invalid JSON: %1").arg(reason)};
}

ApiError ApiError::rateLimitExceeded()
{
    return {RateLimitExceeded, 429,
        QStringLiteral("Rate limit exceeded: too many messages published to this stream")};
}

ApiError ApiError::noParameters()
{
    return {NoParameters, 400, QStringLiteral("No parameters specified")};
}

ApiError ApiError::invalidTtl(const QString &value)
{
    return {InvalidTtl, 400,
        QStringLiteral("Invalid TTL '%1': must either be empty or an integer between 0 and %2")
            .arg(value)
            .arg(limits::kMaxTtlSeconds)};
}

ApiError ApiError::duplicateUniqueName(const QString &name)
{
    return {DuplicateUniqueName, 409, QStringLiteral("Unique name already exists: %1").arg(name)};
}

ApiError ApiError::invalidUniqueName(const QString &reason)
{
    return {InvalidUniqueName, 400, QStringLiteral("Invalid unique name: %1").arg(reason)};
}

ApiError ApiError::connectionFailed(const QString &message)
{
    return ApiError(0, 0, message);
}

} // namespace streams
