// libFuzzer target: FrameCodec::decode on arbitrary bytes must never crash, and whatever it
// accepts must survive encode/decode unchanged. A broken invariant aborts, which libFuzzer
// reports like a crash and saves as a reproducer.
#include "require.h"
#include "twilsock/framecodec.h"

#include <QJsonValue>
#include <cstdint>

using namespace streams::twilsock;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(data, qsizetype(size));
    const auto frame = FrameCodec::decode(bytes);
    // The fast path for acknowledgements never takes anything decode() would not call a reply.
    if (FrameCodec::isReply(bytes))
        require(frame && frame->method() == QStringLiteral("reply") && frame->payload.isEmpty(),
            "isReply() only for frames decode() reads as an empty reply");
    if (!frame) {
        require(!FrameCodec::describe(frame.error()).isEmpty(), "every error is described");
        return 0;
    }

    require(frame->payload.size() <= bytes.size(), "the payload comes from the input");
    const QJsonValue declared = frame->header.value(QStringLiteral("payload_size"));
    require(declared.isUndefined() ? frame->payload.isEmpty()
                                   : declared.toDouble() == double(frame->payload.size()),
        "payload_size matches the payload");
    require(
        bytes.endsWith(frame->payload) || bytes.first(bytes.size() - 2).endsWith(frame->payload),
        "the payload is the end of the frame (or precedes the Kotlin CRLF)");

    // Re-encoding may change the header's length (key order, number spelling, escapes), so a
    // frame at the size limit can legitimately grow past it; anything else must decode back.
    const QByteArray encoded = FrameCodec::encode(frame->header, frame->payload);
    const auto again = FrameCodec::decode(encoded);
    if (encoded.size() > FrameCodec::kMaxFrameBytes) {
        require(!again && again.error() == FrameError::TooLarge, "oversized re-encoding rejected");
        return 0;
    }
    require(again.has_value(), "an encoded frame decodes");
    require(again->payload == frame->payload, "the payload round-trips");
    QJsonObject expected = frame->header;
    expected.insert(QStringLiteral("payload_size"), qint64(frame->payload.size()));
    require(again->header == expected, "the header round-trips");
    require(FrameCodec::encode(again->header, again->payload) == encoded,
        "encoding is stable after one round trip");
    return 0;
}
