#include "twilsock/framecodec.h"

#include <QJsonDocument>
#include <QJsonValue>
#include <optional>
#include <utility>

namespace streams::twilsock {

namespace {

constexpr QByteArrayView kPreamble = "TWILSOCK";
constexpr QByteArrayView kVersion = "V3.0";
constexpr QByteArrayView kCrLf = "\r\n";
const QString kPayloadSizeKey = QStringLiteral("payload_size");

// kMaxFrameBytes has six digits; seven still lets a too-large length be reported as such while
// keeping the accumulation below far from overflowing.
constexpr qsizetype kMaxLengthDigits = 7;

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// payload_size as a byte count, or -1 when it is not a non-negative integer (JSON has only
// doubles; an integral double such as 5.0 is accepted, 5.5 or "5" are not).
qsizetype payloadSizeOf(const QJsonValue &value)
{
    if (!value.isDouble())
        return -1;
    const double size = value.toDouble();
    if (!(size >= 0) || size > double(FrameCodec::kMaxFrameBytes) || size != double(qint64(size)))
        return -1;
    return qsizetype(size);
}

} // namespace

QByteArray FrameCodec::encode(QJsonObject header, QByteArrayView payload)
{
    header.insert(kPayloadSizeKey, qint64(payload.size()));
    const QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);

    QByteArray frame;
    frame.reserve(kPreamble.size() + kVersion.size() + 12 + json.size() + payload.size());
    frame += kPreamble;
    frame += ' ';
    frame += kVersion;
    frame += ' ';
    frame += QByteArray::number(json.size());
    frame += kCrLf;
    frame += json;
    frame += kCrLf; // written even for an empty payload, as the JS SDK does
    frame += payload;
    return frame;
}

namespace {

// The header's JSON text and what follows its CRLF, once the framing around them is right.
struct Parts
{
    QByteArrayView header;
    QByteArrayView rest;
};

std::expected<Parts, FrameError> split(QByteArrayView bytes)
{
    // First, so that nothing below ever walks or parses an oversized buffer.
    if (bytes.size() > FrameCodec::kMaxFrameBytes)
        return std::unexpected(FrameError::TooLarge);

    // "TWILSOCK" followed by a space: anything else is another protocol (or a text frame).
    if (!bytes.startsWith(kPreamble) || bytes.size() == kPreamble.size()
        || bytes[kPreamble.size()] != ' ')
        return std::unexpected(FrameError::NotTwilsock);
    qsizetype at = kPreamble.size() + 1;

    // The version runs up to the next space, CR or the end: "V3.01" is another version, not
    // "V3.0" with a stray digit.
    qsizetype versionEnd = at;
    while (versionEnd < bytes.size() && bytes[versionEnd] != ' ' && bytes[versionEnd] != '\r')
        ++versionEnd;
    if (bytes.sliced(at, versionEnd - at) != kVersion)
        return std::unexpected(FrameError::UnsupportedVersion);
    if (versionEnd == bytes.size() || bytes[versionEnd] != ' ')
        return std::unexpected(FrameError::BadHeaderLength);
    at = versionEnd + 1;

    qsizetype headerLength = 0;
    qsizetype digits = 0;
    while (at < bytes.size() && isDigit(bytes[at])) {
        if (++digits > kMaxLengthDigits)
            return std::unexpected(FrameError::BadHeaderLength);
        headerLength = headerLength * 10 + (bytes[at] - '0');
        ++at;
    }
    if (digits == 0 || !bytes.sliced(at).startsWith(kCrLf))
        return std::unexpected(FrameError::BadHeaderLength);
    at += kCrLf.size();

    // The header must be followed by its CRLF exactly where its length says it ends; if not, the
    // length disagrees with the bytes (searching for the CRLF instead would let a header that
    // contains one be cut short).
    if (headerLength > bytes.size() - at - kCrLf.size()
        || bytes.sliced(at + headerLength, kCrLf.size()) != kCrLf)
        return std::unexpected(FrameError::BadHeaderLength);

    return Parts{bytes.sliced(at, headerLength), bytes.sliced(at + headerLength + kCrLf.size())};
}

// JSON whitespace.
bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// What plainHeader() reads of a header.
struct PlainHeader
{
    QByteArrayView method;
    bool hasPayloadSize = false;
    qint64 payloadSize = 0;
};

// A header in the plain subset of JSON that acknowledgements are written in, read without
// building it: one object whose keys and string values are ASCII without escapes and whose
// values are such strings, integers, true, false, null, or an object of those (one level).
// Nothing when the text is anything else, including valid JSON outside that subset.
class PlainHeaderScanner final
{
public:
    explicit PlainHeaderScanner(QByteArrayView json) : m_json(json) { }

    std::optional<PlainHeader> scan()
    {
        if (!object(0))
            return std::nullopt;
        skipSpace();
        if (m_at != m_json.size())
            return std::nullopt;
        return m_header;
    }

private:
    bool object(int depth)
    {
        skipSpace();
        if (!take('{'))
            return false;
        skipSpace();
        if (take('}'))
            return true;
        bool seenMethod = false;
        for (;;) {
            skipSpace();
            const auto key = string();
            if (!key)
                return false;
            skipSpace();
            if (!take(':'))
                return false;
            skipSpace();
            if (depth == 0 && *key == "method") {
                const auto method = string();
                if (!method || std::exchange(seenMethod, true))
                    return false;
                m_header.method = *method;
            } else if (depth == 0 && *key == "payload_size") {
                const auto size = integer();
                if (!size || std::exchange(m_header.hasPayloadSize, true))
                    return false;
                m_header.payloadSize = *size;
            } else if (!value(depth)) {
                return false;
            }
            skipSpace();
            if (take('}'))
                return true;
            if (!take(','))
                return false;
        }
    }

    bool value(int depth)
    {
        if (m_at == m_json.size())
            return false;
        const char c = m_json[m_at];
        if (c == '"')
            return string().has_value();
        if (c == '{')
            return depth == 0 && object(depth + 1);
        if (c == '-' || isDigit(c))
            return integer().has_value();
        return literal("true") || literal("false") || literal("null");
    }

    std::optional<QByteArrayView> string()
    {
        if (!take('"'))
            return std::nullopt;
        const qsizetype start = m_at;
        while (m_at < m_json.size()) {
            const auto c = quint8(m_json[m_at]);
            if (c == '"') {
                ++m_at;
                return m_json.sliced(start, m_at - 1 - start);
            }
            // Escapes, control characters and non-ASCII are left to the full parser.
            if (c == '\\' || c < 0x20 || c >= 0x80)
                return std::nullopt;
            ++m_at;
        }
        return std::nullopt;
    }

    std::optional<qint64> integer()
    {
        const bool negative = take('-');
        const qsizetype start = m_at;
        qint64 value = 0;
        while (m_at < m_json.size() && isDigit(m_json[m_at])) {
            if (m_at - start >= 15)
                return std::nullopt;
            value = value * 10 + (m_json[m_at] - '0');
            ++m_at;
        }
        const qsizetype digits = m_at - start;
        // No leading zeros (JSON), and fractions or exponents are left to the full parser.
        if (digits == 0 || (digits > 1 && m_json[start] == '0'))
            return std::nullopt;
        if (m_at < m_json.size()
            && (m_json[m_at] == '.' || m_json[m_at] == 'e' || m_json[m_at] == 'E'))
            return std::nullopt;
        return negative ? -value : value;
    }

    bool literal(QByteArrayView word)
    {
        if (!m_json.sliced(m_at).startsWith(word))
            return false;
        m_at += word.size();
        return true;
    }

    bool take(char c)
    {
        if (m_at < m_json.size() && m_json[m_at] == c) {
            ++m_at;
            return true;
        }
        return false;
    }

    void skipSpace()
    {
        while (m_at < m_json.size() && isSpace(m_json[m_at]))
            ++m_at;
    }

    QByteArrayView m_json;
    qsizetype m_at = 0;
    PlainHeader m_header;
};

} // namespace

bool FrameCodec::isReply(QByteArrayView bytes)
{
    const auto parts = split(bytes);
    if (!parts || !parts->rest.isEmpty())
        return false;
    const auto header = PlainHeaderScanner(parts->header).scan();
    return header && header->method == "reply"
        && (!header->hasPayloadSize || header->payloadSize == 0);
}

std::expected<Frame, FrameError> FrameCodec::decode(QByteArrayView bytes)
{
    const auto parts = split(bytes);
    if (!parts)
        return std::unexpected(parts.error());

    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(
        QByteArray::fromRawData(parts->header.data(), parts->header.size()), &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return std::unexpected(FrameError::HeaderNotJson);

    Frame frame{document.object(), {}};
    const QByteArrayView rest = parts->rest;
    const QJsonValue sizeValue = frame.header.value(kPayloadSizeKey);
    if (sizeValue.isUndefined()) {
        // Absent means no payload: fine when nothing follows, but bytes without a declared
        // size cannot be trusted.
        if (!rest.isEmpty())
            return std::unexpected(FrameError::BadPayloadSize);
        return frame;
    }
    const qsizetype payloadSize = payloadSizeOf(sizeValue);
    if (payloadSize < 0)
        return std::unexpected(FrameError::BadPayloadSize);
    const bool exact = rest.size() == payloadSize;
    // The Kotlin SDK ends a non-empty payload with CRLF that payload_size does not count.
    const bool kotlinTail =
        payloadSize > 0 && rest.size() == payloadSize + kCrLf.size() && rest.endsWith(kCrLf);
    if (!exact && !kotlinTail)
        return std::unexpected(FrameError::BadPayloadSize);
    frame.payload = rest.first(payloadSize).toByteArray();
    return frame;
}

QString FrameCodec::describe(FrameError error)
{
    switch (error) {
    case FrameError::NotTwilsock:
        return QStringLiteral("not a twilsock frame: the preamble is not \"TWILSOCK\"");
    case FrameError::UnsupportedVersion:
        return QStringLiteral("unsupported twilsock version: only V3.0 is spoken");
    case FrameError::BadHeaderLength:
        return QStringLiteral("the header length is missing, not a number, or disagrees with the "
                              "frame");
    case FrameError::HeaderNotJson: return QStringLiteral("the frame header is not a JSON object");
    case FrameError::BadPayloadSize:
        return QStringLiteral("payload_size is missing, not a non-negative integer, or disagrees "
                              "with the payload");
    case FrameError::TooLarge:
        return QStringLiteral("the frame is larger than %1 bytes").arg(kMaxFrameBytes);
    }
    return QStringLiteral("unknown frame error");
}

} // namespace streams::twilsock
