#include "api/validation.h"

#include "api/jsonscanner.h"
#include "api/limits.h"
#include "api/sid.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <algorithm>
#include <limits>

namespace streams::validation {

namespace {
// Decimal digits only (no sign, spaces or exponent, unlike QString::toInt), at most `maximum`.
// The value saturates instead of overflowing, so leading zeros are no limit on the length.
std::optional<qint64> parseDigits(QStringView text, qint64 maximum)
{
    if (text.isEmpty())
        return std::nullopt;
    qint64 value = 0;
    for (QChar c : text) {
        if (c < u'0' || c > u'9')
            return std::nullopt;
        value = qMin(value * 10 + (c.unicode() - u'0'), maximum + 1);
    }
    return value <= maximum ? std::optional<qint64>(value) : std::nullopt;
}
} // namespace

std::optional<ApiError> checkUniqueName(QStringView name)
{
    if (name.isEmpty())
        return ApiError::invalidUniqueName(QStringLiteral("must not be empty"));
    // Measured in characters as the user typed them (UTF-16 code units would count an emoji
    // twice), which matches how Twilio documents the limit.
    const qsizetype length = name.toUcs4().size();
    if (length > limits::kMaxUniqueNameLength)
        return ApiError::invalidUniqueName(QStringLiteral("%1 characters, the limit is %2")
                                               .arg(length)
                                               .arg(limits::kMaxUniqueNameLength));
    if (sid::looksLikeSid(name))
        return ApiError::invalidUniqueName(
            QStringLiteral("it has the shape of a SID (two capital letters and 32 hex digits)"));
    return std::nullopt;
}

std::expected<qint64, ApiError> parseTtl(QStringView text)
{
    // Error 54011 reads "must either be empty or an integer between 0 and 31 536 000": empty is
    // allowed and, like 0, means the stream never expires (clients send `Ttl=` for ttl: '').
    if (text.isEmpty())
        return 0;
    const auto value = parseDigits(text, limits::kMaxTtlSeconds);
    if (!value)
        return std::unexpected(ApiError::invalidTtl(text.toString()));
    return *value;
}

std::expected<int, ApiError> parsePageSize(QStringView text)
{
    const bool digitsOnly = !text.isEmpty()
        && std::all_of(text.begin(), text.end(), [](QChar c) { return c >= u'0' && c <= u'9'; });
    // Digits only, so nothing from parseDigits means more than a page holds: a full page.
    const qint64 value =
        digitsOnly ? parseDigits(text, limits::kMaxPageSize).value_or(limits::kMaxPageSize) : 0;
    if (value < limits::kMinPageSize)
        return std::unexpected(ApiError::invalidParameter(QStringLiteral("PageSize"),
            QStringLiteral("must be a positive integer (a page holds at most %1)")
                .arg(limits::kMaxPageSize)));
    return int(value);
}

std::expected<int, ApiError> parsePageNumber(QStringView text)
{
    const auto value = parseDigits(text, std::numeric_limits<int>::max());
    if (!value)
        return std::unexpected(ApiError::invalidParameter(
            QStringLiteral("Page"), QStringLiteral("must be a non-negative integer")));
    return int(*value);
}

std::pair<int, int> lineAndColumn(QByteArrayView text, qsizetype offset)
{
    int line = 1;
    int column = 1;
    offset = qBound<qsizetype>(0, offset, text.size());
    for (qsizetype i = 0; i < offset; ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte == '\n') {
            ++line;
            column = 1;
        } else if ((byte & 0xC0) != 0x80) { // count characters, not UTF-8 continuation bytes
            ++column;
        }
    }
    return {line, column};
}

std::expected<MessagePayload, JsonProblem> parseMessageData(QByteArrayView json)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        // Qt reports an unterminated string one past the end; editors index with the offset.
        const qsizetype offset = qBound(qsizetype(0), qsizetype(parseError.offset), json.size());
        const auto [line, column] = lineAndColumn(json, offset);
        return std::unexpected(
            JsonProblem{ApiError::invalidJson(QStringLiteral("%1 at line %2, column %3")
                                                  .arg(parseError.errorString())
                                                  .arg(line)
                                                  .arg(column)),
                offset, line, column, parseError.errorString()});
    }
    if (!document.isObject())
        return std::unexpected(JsonProblem{
            ApiError::invalidJson(QStringLiteral("Data must be a JSON object")), -1, 0, 0, {}});
    auto compact = json::canonicalCompact(json);
    if (!compact) {
        const qsizetype offset = compact.error().offset;
        const auto [line, column] = lineAndColumn(json, offset);
        QString reason;
        switch (compact.error().kind) {
        case json::CompactProblem::RawControl:
            reason = QStringLiteral("control character U+%1 in a string must be escaped")
                         .arg(QString::number(static_cast<unsigned char>(json[offset]), 16)
                                  .rightJustified(4, u'0')
                                  .toUpper());
            break;
        case json::CompactProblem::BadEscape:
            reason = QStringLiteral("invalid escape sequence in a string");
            break;
        case json::CompactProblem::LoneSurrogate:
            reason = QStringLiteral("lone UTF-16 surrogate %1 in a string (a surrogate escape "
                                    "must be a high one followed by a low one)")
                         .arg(QString::fromLatin1(json.sliced(offset, 6)));
            break;
        }
        return std::unexpected(JsonProblem{
            ApiError::invalidJson(
                QStringLiteral("%1 at line %2, column %3").arg(reason).arg(line).arg(column)),
            offset, line, column, reason});
    }
    MessagePayload payload{document.object(), std::move(*compact)};
    // Qt's parser dropped any raw U+FEFF that starts a string; the compact form keeps it
    // (escaped), so the object is read from that instead: both say the same then.
    if (json.contains("\"\xEF\xBB\xBF"))
        payload.object = QJsonDocument::fromJson(payload.compact).object();
    if (payload.compact.size() > limits::kMaxMessageBytes)
        return std::unexpected(
            JsonProblem{ApiError::dataTooLarge(payload.compact.size()), -1, 0, 0, {}});
    return payload;
}

std::optional<QByteArray> receivedMessageData(QByteArrayView json)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return std::nullopt;
    auto compact = json::canonicalCompact(json, true);
    if (!compact)
        return std::nullopt;
    return std::move(*compact);
}

qsizetype compactSize(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact).size();
}

std::optional<bool> parseBoolean(QStringView text)
{
    if (text.compare(u"true", Qt::CaseInsensitive) == 0)
        return true;
    if (text.compare(u"false", Qt::CaseInsensitive) == 0)
        return false;
    return std::nullopt;
}

} // namespace streams::validation
