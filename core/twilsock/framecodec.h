#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <expected>

namespace streams::twilsock {

/// One twilsock v3 frame: a JSON header and a payload of `header.payload_size` bytes.
struct Frame
{
    QJsonObject header;
    QByteArray payload;

    QString method() const { return header.value(QStringLiteral("method")).toString(); }
    QString id() const { return header.value(QStringLiteral("id")).toString(); }
};

/// Why bytes are not a twilsock frame.
enum class FrameError {
    NotTwilsock, // the preamble is not "TWILSOCK"
    UnsupportedVersion, // not "V3.0"
    BadHeaderLength, // the header length is missing, not a number, or past the end
    HeaderNotJson, // the header is not a JSON object
    BadPayloadSize, // payload_size missing/negative, or disagreeing with the bytes
    TooLarge, // the frame exceeds kMaxFrameBytes
};

/// The twilsock v3 wire format, as the official SDKs write it:
/// `TWILSOCK V3.0 <H>\r\n<header: H bytes of JSON>\r\n<payload: header.payload_size bytes>`.
/// Lengths are UTF-8 byte counts. Decoding goes by the two lengths, never by searching for CRLF
/// (payloads may contain any bytes); a trailing CRLF after a non-empty payload, which the Kotlin
/// SDK writes, is accepted.
class FrameCodec final
{
public:
    /// The largest frame accepted (header + payload + framing): stream messages are at most
    /// 4 KiB, and every Sync request fits many times over.
    static constexpr qsizetype kMaxFrameBytes = 256 * 1024;

    /// Encodes a frame; `payload_size` in the header is set from `payload`. The result is not
    /// checked against kMaxFrameBytes: a sender with large payloads must check it.
    static QByteArray encode(QJsonObject header, QByteArrayView payload = {});
    static std::expected<Frame, FrameError> decode(QByteArrayView bytes);
    /// True only when `bytes` is a frame decode() accepts, with method `reply` and no payload:
    /// the acknowledgement an SDK sends for every notification, recognised without building its
    /// header (its JSON is read in a plain subset: ASCII strings without escapes, integers,
    /// literals, one level of nesting). False means "decode it": it may still be a reply.
    static bool isReply(QByteArrayView bytes);

    static QString describe(FrameError error);
};

} // namespace streams::twilsock
