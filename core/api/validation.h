#pragma once

#include "api/apierror.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <expected>
#include <optional>

// The contract's input rules, in one place. The engine, the REST server, both backends and the
// console's composer all call these functions, so they can never disagree.
namespace streams::validation {

/// 54302 for an empty name, one longer than the limit, or one shaped like a SID.
std::optional<ApiError> checkUniqueName(QStringView name);

/// Parses a Ttl parameter: empty or decimal digits, 0..31,536,000 (empty and 0 = never
/// expires); else 54011.
std::expected<qint64, ApiError> parseTtl(QStringView text);

/// Parses a PageSize parameter: decimal digits only, at least 1; a size past
/// limits::kMaxPageSize is that maximum (a full page). Else 400 naming the parameter.
std::expected<int, ApiError> parsePageSize(QStringView text);

/// Parses a Page parameter (the 0-based page number a client believes it is on): decimal digits
/// only, 0..2,147,483,647; else 400 naming the parameter.
std::expected<int, ApiError> parsePageNumber(QStringView text);

/// A stream message payload that passed validation.
struct MessagePayload
{
    QJsonObject object;
    QByteArray compact; // what is measured against the limit and what subscribers receive
};

/// Where a JSON text went wrong, for editors: 1-based line and column (in characters).
struct JsonProblem
{
    ApiError error;
    qsizetype offset = -1; // byte offset into the input, -1 when not a syntax error
    int line = 0;
    int column = 0;
    /// A syntax error's cause without its place (`error`'s message ends with the place), for
    /// callers that name the place in their own terms; empty when offset is -1.
    QString reason;
};

/// Validates stream message Data: JSON (54008), an object (54008), strict JSON text that is
/// Unicode (no raw control characters, no escapes JSON lacks, no lone surrogate escape such as
/// `\ude00`: 54008 naming the offset), at most 4096 bytes as compact UTF-8 JSON (54006).
std::expected<MessagePayload, JsonProblem> parseMessageData(QByteArrayView json);

/// The compact form of a message that was published elsewhere (Twilio's service) and is only
/// shown: as parseMessageData() makes it, except that a lone surrogate escape is kept as it was
/// written, so the console shows exactly what arrived. Nothing for text that is not a JSON object
/// or not strict JSON, and no size limit.
std::optional<QByteArray> receivedMessageData(QByteArrayView json);

/// The size in bytes of `object` serialised as compact UTF-8 JSON.
qsizetype compactSize(const QJsonObject &object);

/// Converts a byte offset in UTF-8 text to a 1-based line and column.
std::pair<int, int> lineAndColumn(QByteArrayView text, qsizetype offset);

/// Parses a form/query boolean the way Twilio's clients send them ("true", "True", "FALSE").
std::optional<bool> parseBoolean(QStringView text);

} // namespace streams::validation
