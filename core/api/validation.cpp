#include "api/validation.h"

#include "api/hexdigit.h"
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

namespace {
void appendUtf8(QByteArray &out, char32_t codePoint)
{
    if (codePoint < 0x80) {
        out += char(codePoint);
    } else if (codePoint < 0x800) {
        out += char(0xC0 | (codePoint >> 6));
        out += char(0x80 | (codePoint & 0x3F));
    } else if (codePoint < 0x10000) {
        out += char(0xE0 | (codePoint >> 12));
        out += char(0x80 | ((codePoint >> 6) & 0x3F));
        out += char(0x80 | (codePoint & 0x3F));
    } else {
        out += char(0xF0 | (codePoint >> 18));
        out += char(0x80 | ((codePoint >> 12) & 0x3F));
        out += char(0x80 | ((codePoint >> 6) & 0x3F));
        out += char(0x80 | (codePoint & 0x3F));
    }
}

// Why canonicalCompact() refused a text QJsonDocument accepted, and where.
struct StrictnessProblem
{
    enum Kind {
        RawControl,
        BadEscape,
        LoneSurrogate
    } kind;
    qsizetype offset; // of the offending byte, or of the backslash that starts the escape
};

// Re-emits JSON text that QJsonDocument has already accepted in its canonical compact form:
// no whitespace between tokens, strings as raw UTF-8 with only the escapes JSON requires.
// Unlike QJsonDocument::toJson this keeps the publisher's key order and number spelling, so a
// subscriber receives the object as it was sent, and the size measured is that of what is sent.
// QJsonDocument also accepts what JSON forbids and strict parsers (JavaScript's JSON.parse,
// Twilio's Jackson) refuse: raw control characters (even NUL) inside strings and escapes other
// than JSON's ("\q", a backslash before a UTF-8 byte). The offset of the first such byte is
// returned instead, so the payload is refused rather than passed on to subscribers that could
// not read it (found by fuzz_messagedata). A \u escape of a UTF-16 surrogate that is not half
// of a high-low pair is refused too: it is no Unicode character, has no UTF-8 form, and readers
// disagree on it (Qt's own writer drops the character before it); docs/engine.md says why the
// engine refuses it rather than passing it on (found by fuzz_messagedata).
// With `keepLoneSurrogates`, such an escape is copied as it was written instead, for text that
// was published elsewhere and is only shown (messages received from Twilio's service).
std::expected<QByteArray, StrictnessProblem> canonicalCompact(
    QByteArrayView json, bool keepLoneSurrogates = false)
{
    static constexpr char hex[] = "0123456789abcdef";
    QByteArray out;
    out.reserve(json.size());
    // A byte order mark before the value: QJsonDocument reads past it, and it must not reach
    // subscribers, whose payload it would make invalid JSON (found by fuzz_messagedata).
    qsizetype i = json.startsWith("\xEF\xBB\xBF") ? 3 : 0;
    const qsizetype n = json.size();
    const auto readHex4 = [&](qsizetype at) -> int {
        if (at + 4 > n)
            return -1;
        int value = 0;
        for (qsizetype k = at; k < at + 4; ++k) {
            const int digit = hexDigitValue(json[k]);
            if (digit < 0)
                return -1;
            value = value * 16 + digit;
        }
        return value;
    };
    while (i < n) {
        const char c = json[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            ++i;
            continue;
        }
        if (c != '"') {
            out += c;
            ++i;
            continue;
        }
        out += '"';
        ++i;
        // U+FEFF first in a string stays escaped: Qt's parser (and so the console) drops it
        // there when it is raw UTF-8, which would change the value (found by fuzz_messagedata).
        const qsizetype stringStart = out.size();
        while (i < n && json[i] != '"') {
            const char ch = json[i];
            if (static_cast<unsigned char>(ch) < 0x20)
                return std::unexpected(StrictnessProblem{StrictnessProblem::RawControl, i});
            if (out.size() == stringStart && json.sliced(i).startsWith("\xEF\xBB\xBF")) {
                out += "\\ufeff";
                i += 3;
                continue;
            }
            if (ch != '\\') {
                out += ch;
                ++i;
                continue;
            }
            const char escape = i + 1 < n ? json[i + 1] : '\0';
            i += 2;
            switch (escape) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '/': out += '/'; break;
            case 'b': out += "\\b"; break;
            case 'f': out += "\\f"; break;
            case 'n': out += "\\n"; break;
            case 'r': out += "\\r"; break;
            case 't': out += "\\t"; break;
            case 'u': {
                const qsizetype escapeAt = i - 2;
                const int unit = readHex4(i);
                if (unit < 0)
                    return std::unexpected(
                        StrictnessProblem{StrictnessProblem::BadEscape, escapeAt});
                i += 4;
                char32_t codePoint = char32_t(unit);
                if (unit >= 0xD800 && unit < 0xE000) {
                    // A surrogate pair spells one code point in two escapes; half a pair is
                    // refused.
                    const int low =
                        unit < 0xDC00 && i + 1 < n && json[i] == '\\' && json[i + 1] == 'u'
                        ? readHex4(i + 2)
                        : -1;
                    if ((low < 0xDC00 || low >= 0xE000) && keepLoneSurrogates) {
                        out += "\\u";
                        for (int shift = 12; shift >= 0; shift -= 4)
                            out += hex[(unit >> shift) & 0xF];
                        break;
                    }
                    if (low < 0xDC00 || low >= 0xE000)
                        return std::unexpected(
                            StrictnessProblem{StrictnessProblem::LoneSurrogate, escapeAt});
                    codePoint =
                        0x10000 + ((char32_t(unit) - 0xD800) << 10) + (char32_t(low) - 0xDC00);
                    i += 6;
                }
                if (unit == 0xFEFF && out.size() == stringStart) {
                    out += "\\ufeff";
                } else if (unit == '"' || unit == '\\') {
                    out += '\\';
                    out += char(unit);
                } else if (unit >= 0x20) {
                    appendUtf8(out, codePoint);
                } else {
                    // Control characters stay escaped.
                    out += "\\u";
                    for (int shift = 12; shift >= 0; shift -= 4)
                        out += hex[(unit >> shift) & 0xF];
                }
                break;
            }
            default: // QJsonDocument takes any escaped byte
                return std::unexpected(StrictnessProblem{StrictnessProblem::BadEscape, i - 2});
            }
        }
        out += '"';
        ++i;
    }
    return out;
}
} // namespace

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
    auto compact = canonicalCompact(json);
    if (!compact) {
        const qsizetype offset = compact.error().offset;
        const auto [line, column] = lineAndColumn(json, offset);
        QString reason;
        switch (compact.error().kind) {
        case StrictnessProblem::RawControl:
            reason = QStringLiteral("control character U+%1 in a string must be escaped")
                         .arg(QString::number(static_cast<unsigned char>(json[offset]), 16)
                                  .rightJustified(4, u'0')
                                  .toUpper());
            break;
        case StrictnessProblem::BadEscape:
            reason = QStringLiteral("invalid escape sequence in a string");
            break;
        case StrictnessProblem::LoneSurrogate:
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
    auto compact = canonicalCompact(json, true);
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
