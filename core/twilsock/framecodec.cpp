#include "twilsock/framecodec.h"

#include <QJsonDocument>
#include <QJsonValue>

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

std::expected<Frame, FrameError> FrameCodec::decode(QByteArrayView bytes)
{
    // First, so that nothing below ever walks or parses an oversized buffer.
    if (bytes.size() > kMaxFrameBytes)
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

    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(
        QByteArray::fromRawData(bytes.data() + at, headerLength), &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return std::unexpected(FrameError::HeaderNotJson);
    at += headerLength + kCrLf.size();

    Frame frame{document.object(), {}};
    const QByteArrayView rest = bytes.sliced(at);
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
