#include "twilsock/framecodec.h"

#include <QFile>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTest>

using namespace streams::twilsock;

Q_DECLARE_METATYPE(streams::twilsock::FrameError)

namespace {

QJsonObject objectFrom(QByteArrayView json)
{
    return QJsonDocument::fromJson(json.toByteArray()).object();
}

QByteArray frameBytes(
    const QByteArray &header, const QByteArray &payload = {}, const QByteArray &tail = {})
{
    return "TWILSOCK V3.0 " + QByteArray::number(header.size()) + "\r\n" + header + "\r\n" + payload
        + tail;
}

QString failure(const std::expected<Frame, FrameError> &frame)
{
    return frame ? QString() : FrameCodec::describe(frame.error());
}

// One binary frame of the official SDK run, rebuilt from the log's text rendering of it.
struct RecordedFrame
{
    QString name;
    QByteArray bytes;
    qsizetype recordedSize = 0;
    QByteArray headerJson;
    QByteArray payload;
};

// The log holds each binary frame verbatim after a "<C->S|S->C> [connN] binary <total>B" line,
// followed by an LF. Line ends inside a frame are read as CRLF or LF (a checkout that normalised
// them still works) and the frame is rebuilt with CRLF; the recorded total then proves the rebuild
// faithful. Lengths are read, never searched for, exactly as a decoder must: the header is the next
// H bytes and the payload the next payload_size bytes.
std::expected<QList<RecordedFrame>, QString> loadRecordedFrames()
{
    const QString path = QStringLiteral(STREAMS_TWILSOCK_FRAME_LOG);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return std::unexpected(
            QStringLiteral("the recorded frame log %1 is missing (%2): it is the reference "
                           "these tests check against (docs/architecture.md#contract-notes)")
                .arg(path, file.errorString()));
    }
    const QByteArray log = file.readAll();
    static const QRegularExpression frameLine(
        QStringLiteral("^(C->S|S->C) \\[(\\w+)\\] binary (\\d+)B$"));
    static const QRegularExpression preambleLine(QStringLiteral("^TWILSOCK V3\\.0 (\\d+)$"));

    QList<RecordedFrame> frames;
    qsizetype at = 0;
    const auto nextLine = [&]() {
        qsizetype end = log.indexOf('\n', at);
        if (end < 0)
            end = log.size();
        QByteArray line = log.sliced(at, end - at);
        at = qMin(end + 1, log.size());
        if (line.endsWith('\r'))
            line.chop(1);
        return line;
    };
    // Consumes a line end (CRLF or LF) at `at`; false when there is none.
    const auto lineEnd = [&]() {
        if (log.sliced(at).startsWith("\r\n"))
            at += 2;
        else if (at < log.size() && log[at] == '\n')
            at += 1;
        else
            return false;
        return true;
    };
    while (at < log.size()) {
        const QRegularExpressionMatch frame = frameLine.match(QString::fromUtf8(nextLine()));
        if (!frame.hasMatch())
            continue;
        RecordedFrame recorded;
        recorded.name = QStringLiteral("%1 %2 #%3")
                            .arg(frame.captured(2), frame.captured(1))
                            .arg(frames.size() + 1);
        recorded.recordedSize = frame.captured(3).toLongLong();
        const QByteArray preamble = nextLine();
        const QRegularExpressionMatch length = preambleLine.match(QString::fromUtf8(preamble));
        if (!length.hasMatch())
            return std::unexpected(recorded.name + QStringLiteral(": no preamble line"));
        const qsizetype headerLength = length.captured(1).toLongLong();
        if (at + headerLength > log.size())
            return std::unexpected(recorded.name + QStringLiteral(": header past the end"));
        recorded.headerJson = log.sliced(at, headerLength);
        at += headerLength;
        if (!lineEnd())
            return std::unexpected(recorded.name + QStringLiteral(": header length mismatch"));
        const QJsonValue size = objectFrom(recorded.headerJson).value(u"payload_size");
        if (!size.isDouble())
            return std::unexpected(recorded.name + QStringLiteral(": no payload_size"));
        const qsizetype payloadSize = size.toInteger();
        if (at + payloadSize > log.size())
            return std::unexpected(recorded.name + QStringLiteral(": payload past the end"));
        recorded.payload = log.sliced(at, payloadSize);
        at += payloadSize;
        if (at < log.size() && !lineEnd())
            return std::unexpected(recorded.name + QStringLiteral(": payload length mismatch"));
        recorded.bytes = preamble + "\r\n" + recorded.headerJson + "\r\n" + recorded.payload;
        frames.append(recorded);
    }
    // Every "binary NB" line must have become a frame: a parser that silently skipped some would
    // let this test pass on fewer frames than were recorded.
    const qsizetype announced = log.count(" binary ");
    if (frames.size() != announced || frames.isEmpty()) {
        return std::unexpected(QStringLiteral("read %1 frames from %2, but it announces %3")
                                   .arg(frames.size())
                                   .arg(path)
                                   .arg(announced));
    }
    return frames;
}

} // namespace

class TestFrameCodec final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void encode_data();
    void encode();
    void encodeCountsBytes();
    void roundTrip_data();
    void roundTrip();
    void decodeAccepts_data();
    void decodeAccepts();
    void decodeRejects_data();
    void decodeRejects();
    void sizeLimit();
    void recognisesAcknowledgements_data();
    void recognisesAcknowledgements();
    void describe_data();
    void describe();
    void recordedFrames_data();
    void recordedFrames();
};

void TestFrameCodec::encode_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("ping, empty payload")
        << QByteArray(R"({"id":"TMping","method":"ping"})") << QByteArray()
        << QByteArray("TWILSOCK V3.0 48\r\n{\"id\":\"TMping\",\"method\":\"ping\","
                      "\"payload_size\":0}\r\n");
    QTest::addRow("payload_size replaced")
        << QByteArray(R"({"method":"reply","payload_size":999})") << QByteArray("{}")
        << QByteArray("TWILSOCK V3.0 35\r\n{\"method\":\"reply\",\"payload_size\":2}\r\n{}");
    QTest::addRow("multi-byte header and payload")
        << QByteArray(R"({"id":"zoë✓"})") << QByteArray("\"ü\"")
        << QByteArray("TWILSOCK V3.0 33\r\n{\"id\":\"zoë✓\",\"payload_size\":4}\r\n\"ü\"");
}

void TestFrameCodec::encode()
{
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, expected);
    QCOMPARE(FrameCodec::encode(objectFrom(header), payload), expected);
}

void TestFrameCodec::encodeCountsBytes()
{
    // 'ë' and '✓' are 2 and 3 bytes: a codec counting QChars would write 26 and break the SDK.
    const QByteArray frame =
        FrameCodec::encode(QJsonObject{{QStringLiteral("id"), QStringLiteral("zoë✓")}});
    const qsizetype headerStart = frame.indexOf("\r\n") + 2;
    const QByteArray header = frame.sliced(headerStart, frame.size() - headerStart - 2);
    QCOMPARE(header, QByteArray("{\"id\":\"zoë✓\",\"payload_size\":0}"));
    QCOMPARE(header.size(), 33);
    QCOMPARE(QString::fromUtf8(header).size(), 30);
    QVERIFY(frame.startsWith("TWILSOCK V3.0 33\r\n"));
}

void TestFrameCodec::roundTrip_data()
{
    QTest::addColumn<QJsonObject>("header");
    QTest::addColumn<QByteArray>("payload");

    const QJsonObject notification{{QStringLiteral("method"), QStringLiteral("notification")},
        {QStringLiteral("id"), QStringLiteral("TM232604dbfde724245a958fc2f444daeb")},
        {QStringLiteral("message_type"), QStringLiteral("twilio.sync.event")}};
    QTest::addRow("empty payload") << notification << QByteArray();
    QTest::addRow("json payload") << notification << QByteArray(R"({"data":{"n":1}})");
    QTest::addRow("multi-byte utf-8 payload") << notification << QByteArray("{\"t\":\"zoë ✓ 😀\"}");
    QTest::addRow("multi-byte utf-8 header")
        << QJsonObject{{QStringLiteral("id"), QStringLiteral("TMzoë✓😀")},
               {QStringLiteral("description"), QStringLiteral("Größe überschritten")}}
        << QByteArray("x");
    QTest::addRow("payload with CRLF and a preamble")
        << notification << QByteArray("a\r\n\r\nTWILSOCK V3.0 2\r\n{}\r\n");
    QTest::addRow("payload that is a whole frame")
        << notification << frameBytes(R"({"payload_size":2})", "{}");
    QTest::addRow("payload ending in CRLF") << notification << QByteArray("{}\r\n");
    QTest::addRow("binary payload") << notification << QByteArray("\x00\xff\r\x80\n", 5);
    QTest::addRow("header with CRLF in a string")
        << QJsonObject{{QStringLiteral("description"), QStringLiteral("two\r\nlines")}}
        << QByteArray("p");
    QTest::addRow("empty header") << QJsonObject() << QByteArray();
}

void TestFrameCodec::roundTrip()
{
    QFETCH(QJsonObject, header);
    QFETCH(QByteArray, payload);

    const QByteArray bytes = FrameCodec::encode(header, payload);
    const auto frame = FrameCodec::decode(bytes);
    QVERIFY2(frame, qPrintable(failure(frame)));
    QJsonObject expectedHeader = header;
    expectedHeader.insert(QStringLiteral("payload_size"), payload.size());
    QCOMPARE(frame->header, expectedHeader);
    QCOMPARE(frame->payload, payload);
    QCOMPARE(FrameCodec::encode(frame->header, frame->payload), bytes);
}

void TestFrameCodec::decodeAccepts_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QByteArray>("payload");

    const QByteArray close = R"({"id":"TMe3","method":"close","payload_size":0})";
    QTest::addRow("sdk close, empty payload") << frameBytes(close) << close << QByteArray();
    QTest::addRow("kotlin trailing CRLF")
        << frameBytes(R"({"method":"message","payload_size":2})", "{}", "\r\n")
        << QByteArray(R"({"method":"message","payload_size":2})") << QByteArray("{}");
    QTest::addRow("payload that itself ends in CRLF")
        << frameBytes(R"({"payload_size":4})", "{}\r\n") << QByteArray(R"({"payload_size":4})")
        << QByteArray("{}\r\n");
    QTest::addRow("kotlin CRLF after a payload ending in CRLF")
        << frameBytes(R"({"payload_size":4})", "{}\r\n", "\r\n")
        << QByteArray(R"({"payload_size":4})") << QByteArray("{}\r\n");
    QTest::addRow("payload_size absent, nothing follows")
        << frameBytes(R"({"method":"close"})") << QByteArray(R"({"method":"close"})")
        << QByteArray();
    QTest::addRow("payload_size written as 2.0")
        << frameBytes(R"({"payload_size":2.0})", "{}") << QByteArray(R"({"payload_size":2})")
        << QByteArray("{}");
    QTest::addRow("header JSON with whitespace")
        << frameBytes(" { \"payload_size\" : 1 } ", "x") << QByteArray(R"({"payload_size":1})")
        << QByteArray("x");
    QTest::addRow("multi-byte header, H in bytes")
        << QByteArray("TWILSOCK V3.0 37\r\n{\"id\":\"zoë✓😀\",\"payload_size\":3}\r\n✓")
        << QByteArray("{\"id\":\"zoë✓😀\",\"payload_size\":3}") << QByteArray("✓");
    QTest::addRow("preamble inside the payload")
        << frameBytes(R"({"payload_size":23})", "TWILSOCK V3.0 2\r\n{}\r\n\r\n")
        << QByteArray(R"({"payload_size":23})") << QByteArray("TWILSOCK V3.0 2\r\n{}\r\n\r\n");
}

void TestFrameCodec::decodeAccepts()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, payload);

    const auto frame = FrameCodec::decode(bytes);
    QVERIFY2(frame, qPrintable(failure(frame)));
    QCOMPARE(frame->header, objectFrom(header));
    QCOMPARE(frame->payload, payload);
}

void TestFrameCodec::decodeRejects_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<FrameError>("error");

    const QByteArray ping = R"({"method":"ping","payload_size":0})"; // 34 bytes
    QTest::addRow("empty") << QByteArray() << FrameError::NotTwilsock;
    QTest::addRow("truncated preamble") << QByteArray("TWILS") << FrameError::NotTwilsock;
    QTest::addRow("preamble only") << QByteArray("TWILSOCK") << FrameError::NotTwilsock;
    QTest::addRow("lower-case preamble")
        << QByteArray("twilsock V3.0 34\r\n" + ping + "\r\n") << FrameError::NotTwilsock;
    QTest::addRow("preamble without space")
        << QByteArray("TWILSOCKV3.0 34\r\n" + ping + "\r\n") << FrameError::NotTwilsock;
    QTest::addRow("longer preamble")
        << QByteArray("TWILSOCKS V3.0 34\r\n" + ping + "\r\n") << FrameError::NotTwilsock;
    QTest::addRow("text-frame json") << ping << FrameError::NotTwilsock;
    QTest::addRow("http") << QByteArray("GET / HTTP/1.1\r\n\r\n") << FrameError::NotTwilsock;
    QTest::addRow("leading CRLF") << QByteArray("\r\nTWILSOCK V3.0 34\r\n" + ping + "\r\n")
                                  << FrameError::NotTwilsock;

    QTest::addRow("version 2") << QByteArray("TWILSOCK V2.0 34\r\n" + ping + "\r\n")
                               << FrameError::UnsupportedVersion;
    QTest::addRow("version 3.01") << QByteArray("TWILSOCK V3.01 34\r\n" + ping + "\r\n")
                                  << FrameError::UnsupportedVersion;
    QTest::addRow("lower-case version")
        << QByteArray("TWILSOCK v3.0 34\r\n" + ping + "\r\n") << FrameError::UnsupportedVersion;
    QTest::addRow("two spaces") << QByteArray("TWILSOCK  V3.0 34\r\n" + ping + "\r\n")
                                << FrameError::UnsupportedVersion;
    QTest::addRow("version missing") << QByteArray("TWILSOCK ") << FrameError::UnsupportedVersion;

    QTest::addRow("length missing")
        << QByteArray("TWILSOCK V3.0\r\n" + ping + "\r\n") << FrameError::BadHeaderLength;
    QTest::addRow("length empty") << QByteArray("TWILSOCK V3.0 \r\n" + ping + "\r\n")
                                  << FrameError::BadHeaderLength;
    QTest::addRow("nothing after version")
        << QByteArray("TWILSOCK V3.0") << FrameError::BadHeaderLength;
    QTest::addRow("length not a number")
        << QByteArray("TWILSOCK V3.0 x4\r\n" + ping + "\r\n") << FrameError::BadHeaderLength;
    QTest::addRow("negative length")
        << QByteArray("TWILSOCK V3.0 -34\r\n" + ping + "\r\n") << FrameError::BadHeaderLength;
    QTest::addRow("length with a sign")
        << QByteArray("TWILSOCK V3.0 +34\r\n" + ping + "\r\n") << FrameError::BadHeaderLength;
    QTest::addRow("hex length") << QByteArray("TWILSOCK V3.0 0x22\r\n" + ping + "\r\n")
                                << FrameError::BadHeaderLength;
    QTest::addRow("LF only after the length")
        << QByteArray("TWILSOCK V3.0 34\n" + ping + "\r\n") << FrameError::BadHeaderLength;
    QTest::addRow("trailing space after the length")
        << QByteArray("TWILSOCK V3.0 34 \r\n" + ping + "\r\n") << FrameError::BadHeaderLength;
    QTest::addRow("length past the end")
        << QByteArray("TWILSOCK V3.0 35\r\n" + ping + "\r\n") << FrameError::BadHeaderLength;
    QTest::addRow("length short of the header")
        << QByteArray("TWILSOCK V3.0 33\r\n" + ping + "\r\n") << FrameError::BadHeaderLength;
    QTest::addRow("header without its CRLF")
        << QByteArray("TWILSOCK V3.0 34\r\n" + ping) << FrameError::BadHeaderLength;
    QTest::addRow("LF only after the header")
        << QByteArray("TWILSOCK V3.0 34\r\n" + ping + "\n") << FrameError::BadHeaderLength;
    QTest::addRow("length with too many digits")
        << QByteArray("TWILSOCK V3.0 00000000034\r\n" + ping + "\r\n")
        << FrameError::BadHeaderLength;
    QTest::addRow("length that would overflow")
        << QByteArray("TWILSOCK V3.0 99999999999999999999999\r\n{}\r\n")
        << FrameError::BadHeaderLength;

    QTest::addRow("zero-length header") << frameBytes("") << FrameError::HeaderNotJson;
    QTest::addRow("array header") << frameBytes("[1,2]") << FrameError::HeaderNotJson;
    QTest::addRow("string header") << frameBytes("\"ping\"") << FrameError::HeaderNotJson;
    QTest::addRow("invalid json") << frameBytes("{method:ping}") << FrameError::HeaderNotJson;
    QTest::addRow("truncated json")
        << frameBytes(R"({"payload_size":0)") << FrameError::HeaderNotJson;
    QTest::addRow("two objects") << frameBytes("{}{}") << FrameError::HeaderNotJson;
    QTest::addRow("CRLF inside the counted header")
        << frameBytes("{\"a\":1}\r\n{\"payload_size\":0}") << FrameError::HeaderNotJson;

    QTest::addRow("negative payload_size")
        << frameBytes(R"({"payload_size":-1})") << FrameError::BadPayloadSize;
    QTest::addRow("fractional payload_size")
        << frameBytes(R"({"payload_size":1.5})", "xy") << FrameError::BadPayloadSize;
    QTest::addRow("string payload_size")
        << frameBytes(R"({"payload_size":"2"})", "{}") << FrameError::BadPayloadSize;
    QTest::addRow("null payload_size")
        << frameBytes(R"({"payload_size":null})") << FrameError::BadPayloadSize;
    QTest::addRow("huge payload_size")
        << frameBytes(R"({"payload_size":1e300})", "{}") << FrameError::BadPayloadSize;
    QTest::addRow("payload_size past the end")
        << frameBytes(R"({"payload_size":3})", "{}") << FrameError::BadPayloadSize;
    QTest::addRow("payload_size short of the payload")
        << frameBytes(R"({"payload_size":1})", "{}") << FrameError::BadPayloadSize;
    QTest::addRow("payload_size absent, bytes follow")
        << frameBytes(R"({"method":"message"})", "{}") << FrameError::BadPayloadSize;
    QTest::addRow("payload_size absent, CRLF follows")
        << frameBytes(R"({"method":"close"})", {}, "\r\n") << FrameError::BadPayloadSize;
    QTest::addRow("CRLF after an empty payload")
        << frameBytes(R"({"payload_size":0})", {}, "\r\n") << FrameError::BadPayloadSize;
    QTest::addRow("LF after the payload")
        << frameBytes(R"({"payload_size":2})", "{}", "\n") << FrameError::BadPayloadSize;
    QTest::addRow("two CRLFs after the payload")
        << frameBytes(R"({"payload_size":2})", "{}", "\r\n\r\n") << FrameError::BadPayloadSize;
    QTest::addRow("another frame glued on")
        << frameBytes(ping) + frameBytes(ping) << FrameError::BadPayloadSize;

    // Garbage, not a frame at all: the size check comes first, so this is TooLarge, not
    // NotTwilsock, and no byte of it is looked at.
    QTest::addRow("oversized garbage")
        << QByteArray(FrameCodec::kMaxFrameBytes + 1, 'x') << FrameError::TooLarge;
    const qsizetype overhead = frameBytes(R"({"payload_size":262111})").size();
    const qsizetype payloadSize = FrameCodec::kMaxFrameBytes + 1 - overhead;
    QTest::addRow("valid frame one byte too large") << frameBytes(
        QByteArray("{\"payload_size\":") + QByteArray::number(payloadSize) + '}',
        QByteArray(payloadSize, 'p')) << FrameError::TooLarge;
}

void TestFrameCodec::decodeRejects()
{
    QFETCH(QByteArray, bytes);
    QFETCH(FrameError, error);

    const auto frame = FrameCodec::decode(bytes);
    QVERIFY2(!frame, "decoded what should have been rejected");
    QCOMPARE(frame.error(), error);
}

void TestFrameCodec::sizeLimit()
{
    // The largest frame decodes: the limit is inclusive. Both payloads are six digits long, so
    // the framing overhead measured on the first is the overhead of the second.
    const QByteArray empty = FrameCodec::encode({}, QByteArray(200000, 'p'));
    const qsizetype payloadSize = 200000 + FrameCodec::kMaxFrameBytes - empty.size();
    const QByteArray largest = FrameCodec::encode({}, QByteArray(payloadSize, 'p'));
    QCOMPARE(largest.size(), FrameCodec::kMaxFrameBytes);
    const auto frame = FrameCodec::decode(largest);
    QVERIFY(frame);
    QCOMPARE(frame->payload.size(), payloadSize);

    const auto tooLarge = FrameCodec::decode(largest + 'p');
    QVERIFY(!tooLarge);
    QCOMPARE(tooLarge.error(), FrameError::TooLarge);
}

void TestFrameCodec::recognisesAcknowledgements_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("fastPath"); // isReply(): recognised without building the header

    // What twilsock.js writes for every notification it receives (Reply + createPacket).
    const QByteArray sdk = R"({"id":"TM6b3f0d2e-6e0a-4f5c-9d2b-2f1e4c0a9b11","method":"reply",)"
                           R"("payload_type":"application/json","status":{"code":200,)"
                           R"("status":"OK"},"payload_size":0})";
    QTest::addRow("the JS SDK's acknowledgement") << frameBytes(sdk) << true;
    QTest::addRow("without payload_size") << frameBytes(R"({"method":"reply","id":"TM1"})") << true;
    QTest::addRow("whitespace everywhere")
        << frameBytes(" { \"method\" : \"reply\" ,\t\"s\" : { } }\r\n") << true;
    QTest::addRow("literals and integers")
        << frameBytes(R"({"method":"reply","ok":true,"n":null,"x":false,"d":-12,"payload_size":0})")
        << true;
    // Valid replies outside the plain subset: decode() reads them, the fast path declines.
    QTest::addRow("escaped id") << frameBytes(R"({"method":"reply","id":"T\u004d1"})") << false;
    QTest::addRow("escaped method") << frameBytes(R"({"method":"repl\u0079"})") << false;
    QTest::addRow("non-ASCII id") << frameBytes("{\"method\":\"reply\",\"id\":\"zoë\"}") << false;
    QTest::addRow("fraction") << frameBytes(R"({"method":"reply","payload_size":0.0})") << false;
    QTest::addRow("an array") << frameBytes(R"({"method":"reply","a":[1]})") << false;
    QTest::addRow("deeper nesting")
        << frameBytes(R"({"method":"reply","a":{"b":{"c":1}}})") << false;
    // Not replies, or not frames: never taken for acknowledgements.
    QTest::addRow("another method") << frameBytes(R"({"method":"replies"})") << false;
    QTest::addRow("method not a string") << frameBytes(R"({"method":1})") << false;
    QTest::addRow("method twice") << frameBytes(R"({"method":"reply","method":"message"})")
                                  << false;
    QTest::addRow("a payload") << frameBytes(R"({"method":"reply","payload_size":2})", "{}")
                               << false;
    QTest::addRow("payload_size disagrees")
        << frameBytes(R"({"method":"reply","payload_size":3})") << false;
    QTest::addRow("trailing comma") << frameBytes(R"({"method":"reply",})") << false;
    QTest::addRow("leading zero") << frameBytes(R"({"method":"reply","n":01})") << false;
    QTest::addRow("bare minus") << frameBytes(R"({"method":"reply","n":-})") << false;
    QTest::addRow("unterminated string") << frameBytes(R"({"method":"reply,"})") << false;
    QTest::addRow("text after the object") << frameBytes(R"({"method":"reply"}x)") << false;
    QTest::addRow("header length off by one")
        << QByteArray("TWILSOCK V3.0 19\r\n{\"method\":\"reply\"}\r\n") << false;
    QTest::addRow("another version")
        << QByteArray("TWILSOCK V3.1 18\r\n{\"method\":\"reply\"}\r\n") << false;
}

void TestFrameCodec::recognisesAcknowledgements()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, fastPath);
    QCOMPARE(FrameCodec::isReply(bytes), fastPath);
    // Whatever the fast path takes, the full decoder reads as an empty reply.
    if (fastPath) {
        const auto frame = FrameCodec::decode(bytes);
        QVERIFY2(frame, qPrintable(failure(frame)));
        QCOMPARE(frame->method(), QStringLiteral("reply"));
        QVERIFY(frame->payload.isEmpty());
    }
}

void TestFrameCodec::describe_data()
{
    QTest::addColumn<FrameError>("error");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("not twilsock") << FrameError::NotTwilsock << QStringLiteral("TWILSOCK");
    QTest::addRow("version") << FrameError::UnsupportedVersion << QStringLiteral("V3.0");
    QTest::addRow("header length") << FrameError::BadHeaderLength << QStringLiteral("length");
    QTest::addRow("header json") << FrameError::HeaderNotJson << QStringLiteral("JSON");
    QTest::addRow("payload size") << FrameError::BadPayloadSize << QStringLiteral("payload_size");
    QTest::addRow("too large") << FrameError::TooLarge
                               << QString::number(FrameCodec::kMaxFrameBytes);
}

void TestFrameCodec::describe()
{
    QFETCH(FrameError, error);
    QFETCH(QString, mentions);
    QVERIFY2(
        FrameCodec::describe(error).contains(mentions), qPrintable(FrameCodec::describe(error)));
}

void TestFrameCodec::recordedFrames_data()
{
    QTest::addColumn<QString>("problem");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<qsizetype>("recordedSize");
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QByteArray>("payload");

    const auto frames = loadRecordedFrames();
    if (!frames) {
        // A row that fails, rather than no rows: a missing reference must not pass as "0 of 0".
        QTest::addRow("frame log")
            << frames.error() << QByteArray() << qsizetype(0) << QByteArray() << QByteArray();
        return;
    }
    for (const RecordedFrame &frame : *frames) {
        QTest::addRow("%s", qPrintable(frame.name))
            << QString() << frame.bytes << frame.recordedSize << frame.headerJson << frame.payload;
    }
}

void TestFrameCodec::recordedFrames()
{
    QFETCH(QString, problem);
    QFETCH(QByteArray, bytes);
    QFETCH(qsizetype, recordedSize);
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, payload);
    if (!problem.isEmpty())
        QFAIL(qPrintable(problem));

    // The rebuild is faithful only if it has the size the recorder saw on the wire.
    QCOMPARE(bytes.size(), recordedSize);
    const auto frame = FrameCodec::decode(bytes);
    QVERIFY2(frame, qPrintable(failure(frame)));
    QCOMPARE(frame->header, objectFrom(header));
    QCOMPARE(frame->payload, payload);

    // Qt orders keys differently from the SDK, so the bytes differ, but every length must not.
    const QByteArray encoded = FrameCodec::encode(frame->header, frame->payload);
    QCOMPARE(encoded.size(), recordedSize);
    const auto again = FrameCodec::decode(encoded);
    QVERIFY(again);
    QCOMPARE(again->header, frame->header);
    QCOMPARE(again->payload, payload);
}

QTEST_GUILESS_MAIN(TestFrameCodec)
#include "tst_framecodec.moc"
