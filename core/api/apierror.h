#pragma once

#include <QJsonObject>
#include <QString>
#include <expected>
#include <optional>

namespace streams {

/// An error in the contract's terms: a Twilio error code, the HTTP status it travels with and a
/// human-readable message. Serialises to Twilio's legacy error body
/// `{code, message, more_info, status}`; never `type`/`title`, which would switch twilio-node
/// to its RFC 9457 exception class.
class ApiError final
{
public:
    // Twilio error codes used by Sync Streams (docs/architecture.md#twilio-errors).
    enum Code : int {
        BadRequest = 20400, // generic malformed request: bad encoding, bad parameter type
        AuthenticationFailed = 20003,
        NotFound = 20404,
        MethodNotAllowed = 20405,
        PayloadTooLarge = 20413,
        InternalError = 20500,
        ServiceUnavailable = 20503,
        InvalidPageToken = 21481,
        DataTooLarge = 54006,
        InvalidJson = 54008,
        RateLimitExceeded = 54009,
        NoParameters = 54010,
        InvalidTtl = 54011,
        DuplicateUniqueName = 54301,
        InvalidUniqueName = 54302,
    };

    ApiError() = default;
    ApiError(int code, int httpStatus, QString message);

    int code() const { return m_code; }
    int httpStatus() const { return m_httpStatus; }
    const QString &message() const { return m_message; }
    /// The size a "too large" error (20413, 54006) reports, in bytes, when it was made here
    /// rather than read from an answer: the figure its message states, for callers that show it.
    std::optional<qsizetype> reportedBytes() const { return m_reportedBytes; }
    QString moreInfo() const;

    QJsonObject toJson() const;
    /// Reads a Twilio error body; missing fields fall back to the HTTP status.
    static ApiError fromJson(const QJsonObject &body, int httpStatus);

    static ApiError badRequest(const QString &message);
    static ApiError authenticationFailed();
    static ApiError notFound(const QString &path);
    static ApiError methodNotAllowed(const QString &method, const QString &path);
    static ApiError payloadTooLarge(qsizetype bytes);
    static ApiError internal(const QString &message);
    static ApiError serviceUnavailable(const QString &message);
    /// No HTTP answer at all: host unreachable, refused, reset, TLS failure or timeout. Carries
    /// no Twilio code and HTTP status 0; clients tell it apart with isConnectionFailure().
    static ApiError connectionFailed(const QString &message);
    bool isConnectionFailure() const { return m_httpStatus == 0; }
    static ApiError invalidPageToken();
    static ApiError invalidParameter(const QString &name, const QString &reason);
    static ApiError dataTooLarge(qsizetype bytes);
    static ApiError invalidJson(const QString &reason);
    static ApiError rateLimitExceeded();
    static ApiError noParameters();
    static ApiError invalidTtl(const QString &value);
    static ApiError duplicateUniqueName(const QString &name);
    static ApiError invalidUniqueName(const QString &reason);

    /// Equal when code, status and message are: the reported size is in the message.
    friend bool operator==(const ApiError &a, const ApiError &b)
    {
        return a.m_code == b.m_code && a.m_httpStatus == b.m_httpStatus
            && a.m_message == b.m_message;
    }

private:
    int m_code = 0;
    int m_httpStatus = 0;
    QString m_message;
    std::optional<qsizetype> m_reportedBytes;
};

/// A value or the Twilio error that prevented it: what every layer returns.
template<typename T>
using ApiResult = std::expected<T, ApiError>;

} // namespace streams
