#include "api/validation.h"

#include "api/limits.h"
#include "api/sid.h"

#include <QJsonDocument>
#include <QJsonParseError>

namespace streams::validation {

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
            QStringLiteral("'%1' has the shape of a SID").arg(name.toString()));
    return std::nullopt;
}

std::expected<qint64, ApiError> parseTtl(QStringView text)
{
    // Error 54011 reads "must either be empty or an integer between 0 and 31 536 000": empty is
    // allowed and, like 0, means the stream never expires (clients send `Ttl=` for ttl: '').
    if (text.isEmpty())
        return 0;
    // Digits only: no sign, no spaces, no exponent. Long runs are refused before they overflow.
    if (text.size() > 12)
        return std::unexpected(ApiError::invalidTtl(text.toString()));
    qint64 value = 0;
    for (QChar c : text) {
        if (c < u'0' || c > u'9')
            return std::unexpected(ApiError::invalidTtl(text.toString()));
        value = value * 10 + (c.unicode() - u'0');
    }
    if (value > limits::kMaxTtlSeconds)
        return std::unexpected(ApiError::invalidTtl(text.toString()));
    return value;
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
        const auto [line, column] = lineAndColumn(json, parseError.offset);
        return std::unexpected(
            JsonProblem{ApiError::invalidJson(QStringLiteral("%1 at line %2, column %3")
                                                  .arg(parseError.errorString())
                                                  .arg(line)
                                                  .arg(column)),
                parseError.offset, line, column});
    }
    if (!document.isObject())
        return std::unexpected(JsonProblem{
            ApiError::invalidJson(QStringLiteral("Data must be a JSON object")), -1, 0, 0});
    MessagePayload payload{document.object(), document.toJson(QJsonDocument::Compact)};
    if (payload.compact.size() > limits::kMaxMessageBytes)
        return std::unexpected(
            JsonProblem{ApiError::dataTooLarge(payload.compact.size()), -1, 0, 0});
    return payload;
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
