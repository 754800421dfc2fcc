#include "api/limits.h"
#include "api/validation.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace streams;

namespace {
QString repeated(const QString &unit, qsizetype count)
{
    return unit.repeated(count);
}

// Compact JSON `{"k":"<filler…>"}` of exactly `totalBytes` UTF-8 bytes: as many `filler`
// characters as fit, then ASCII 'a' for the remainder, so the byte count is exact while the
// character count is far lower.
QByteArray compactPayload(qsizetype totalBytes, const QString &filler)
{
    const QByteArray open = "{\"k\":\"";
    const QByteArray close = "\"}";
    const qsizetype room = totalBytes - open.size() - close.size();
    const QByteArray unit = filler.toUtf8();
    const qsizetype count = room / unit.size();
    return open + unit.repeated(count) + QByteArray(room - count * unit.size(), 'a') + close;
}
} // namespace

class TestValidation final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void checkUniqueName_data();
    void checkUniqueName();
    void parseTtl_data();
    void parseTtl();
    void parseMessageDataSize_data();
    void parseMessageDataSize();
    void parseMessageDataMeasuresCompact_data();
    void parseMessageDataMeasuresCompact();
    void parseMessageDataKeepsWhatWasSent_data();
    void parseMessageDataKeepsWhatWasSent();
    void parseMessageDataRejects_data();
    void parseMessageDataRejects();
    void parseMessageDataSyntaxPosition_data();
    void parseMessageDataSyntaxPosition();
    void parseMessageDataNamesTheLoneSurrogate();
    void receivedMessageData_data();
    void receivedMessageData();
    void compactSize_data();
    void compactSize();
    void lineAndColumn_data();
    void lineAndColumn();
    void parseBoolean_data();
    void parseBoolean();
    void parsePageSize_data();
    void parsePageSize();
    void parsePageNumber_data();
    void parsePageNumber();
};

void TestValidation::checkUniqueName_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");

    const QString umlaut = QString::fromUtf8("\xC3\xBC"); // ü: 1 UTF-16 unit, 2 bytes
    const QString emoji = QString::fromUtf8("\xF0\x9F\x98\x80"); // 😀: 2 UTF-16 units, 4 bytes
    QTest::addRow("empty") << QString() << false;
    QTest::addRow("empty, not null") << QStringLiteral("") << false;
    QTest::addRow("1 char") << QStringLiteral("a") << true;
    QTest::addRow("320 chars") << repeated(QStringLiteral("a"), 320) << true;
    QTest::addRow("321 chars") << repeated(QStringLiteral("a"), 321) << false;
    QTest::addRow("320 x u-umlaut") << repeated(umlaut, 320) << true;
    QTest::addRow("321 x u-umlaut") << repeated(umlaut, 321) << false;
    // 640 UTF-16 code units but 320 characters: the limit counts characters.
    QTest::addRow("320 emoji") << repeated(emoji, 320) << true;
    QTest::addRow("321 emoji") << repeated(emoji, 321) << false;
    QTest::addRow("200 emoji + 120 ascii")
        << repeated(emoji, 200) + repeated(QStringLiteral("x"), 120) << true;
    QTest::addRow("200 emoji + 121 ascii")
        << repeated(emoji, 200) + repeated(QStringLiteral("x"), 121) << false;
    QTest::addRow("spaces and punctuation") << QStringLiteral("my stream/with:odd?chars") << true;

    const QString hex = QStringLiteral("0123456789abcdef0123456789abcdef");
    QTest::addRow("stream SID shape") << QStringLiteral("TO") + hex << false;
    QTest::addRow("service SID shape") << QStringLiteral("IS") + hex << false;
    QTest::addRow("unknown SID prefix") << QStringLiteral("ZZ") + hex << false;
    QTest::addRow("SID shape, uppercase hex") << QStringLiteral("TO") + hex.toUpper() << false;
    QTest::addRow("lowercase prefix is a name") << QStringLiteral("to") + hex << true;
    QTest::addRow("SID plus a char is a name") << QStringLiteral("TO") + hex + u'0' << true;
    QTest::addRow("SID minus a char is a name") << QStringLiteral("TO") + hex.first(31) << true;
}

void TestValidation::checkUniqueName()
{
    QFETCH(QString, name);
    QFETCH(bool, valid);

    const std::optional<ApiError> problem = validation::checkUniqueName(name);
    QCOMPARE(!problem.has_value(), valid);
    if (problem) {
        QCOMPARE(problem->code(), 54302);
        QCOMPARE(problem->httpStatus(), 400);
        QVERIFY(!problem->message().isEmpty());
    }
}

void TestValidation::parseTtl_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<qint64>("expected");

    QTest::addRow("0") << QStringLiteral("0") << true << qint64(0);
    QTest::addRow("1") << QStringLiteral("1") << true << qint64(1);
    QTest::addRow("3600") << QStringLiteral("3600") << true << qint64(3600);
    QTest::addRow("31536000") << QStringLiteral("31536000") << true << qint64(31'536'000);
    QTest::addRow("31536001") << QStringLiteral("31536001") << false << qint64(0);
    QTest::addRow("99999999") << QStringLiteral("99999999") << false << qint64(0);
    QTest::addRow("-1") << QStringLiteral("-1") << false << qint64(0);
    QTest::addRow("-0") << QStringLiteral("-0") << false << qint64(0);
    QTest::addRow("+1") << QStringLiteral("+1") << false << qint64(0);
    QTest::addRow("1.5") << QStringLiteral("1.5") << false << qint64(0);
    QTest::addRow("1.0") << QStringLiteral("1.0") << false << qint64(0);
    QTest::addRow("leading space") << QStringLiteral(" 1") << false << qint64(0);
    QTest::addRow("trailing space") << QStringLiteral("1 ") << false << qint64(0);
    QTest::addRow("1e3") << QStringLiteral("1e3") << false << qint64(0);
    QTest::addRow("hex") << QStringLiteral("0x10") << false << qint64(0);
    // 54011 reads "must either be empty or an integer…": empty means never expires, like 0.
    QTest::addRow("empty") << QString() << true << qint64(0);
    QTest::addRow("empty, not null") << QStringLiteral("") << true << qint64(0);
    QTest::addRow("abc") << QStringLiteral("abc") << false << qint64(0);
    QTest::addRow("fullwidth digit") << QString(QChar(0xFF11)) << false << qint64(0);
    QTest::addRow("arabic-indic digit") << QString(QChar(0x0661)) << false << qint64(0);
    QTest::addRow("12 nines") << QStringLiteral("999999999999") << false << qint64(0);
    QTest::addRow("20 digits (overflows 64 bits)")
        << QStringLiteral("18446744073709551617") << false << qint64(0);
    QTest::addRow("1000 digits") << QStringLiteral("9").repeated(1000) << false << qint64(0);
    // Found by fuzz_validation: a length cap refused in-range values written with leading zeros.
    QTest::addRow("16 digits, leading zeros")
        << QStringLiteral("0000000000003600") << true << qint64(3600);
}

void TestValidation::parseTtl()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(qint64, expected);

    const auto ttl = validation::parseTtl(text);
    QCOMPARE(ttl.has_value(), valid);
    if (valid) {
        QCOMPARE(*ttl, expected);
    } else {
        QCOMPARE(ttl.error().code(), 54011);
        QCOMPARE(ttl.error().httpStatus(), 400);
    }
}

void TestValidation::parseMessageDataSize_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<qsizetype>("bytes");
    QTest::addColumn<bool>("accepted");
    QTest::addColumn<bool>("multiByte");

    const struct
    {
        const char *name;
        QString filler;
    } fillers[] = {
        {"e-acute (2 bytes)", QString::fromUtf8("\xC3\xA9")},
        {"euro (3 bytes)", QString::fromUtf8("\xE2\x82\xAC")},
        {"emoji (4 bytes)", QString::fromUtf8("\xF0\x9F\x98\x80")},
        {"mixed", QString::fromUtf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80")},
    };
    for (const auto &filler : fillers) {
        for (const qsizetype size : {4095, 4096, 4097}) {
            QTest::addRow("%s, %d bytes", filler.name, int(size))
                << compactPayload(size, filler.filler) << size << (size <= 4096) << true;
        }
    }
    QTest::addRow("ascii, 4096 bytes")
        << compactPayload(4096, QStringLiteral("a")) << qsizetype(4096) << true << false;
    QTest::addRow("ascii, 4097 bytes")
        << compactPayload(4097, QStringLiteral("a")) << qsizetype(4097) << false << false;
}

void TestValidation::parseMessageDataSize()
{
    QFETCH(QByteArray, json);
    QFETCH(qsizetype, bytes);
    QFETCH(bool, accepted);
    QFETCH(bool, multiByte);

    // The fixture itself: exactly `bytes` bytes, and (unless ASCII) fewer characters than bytes.
    QCOMPARE(json.size(), bytes);
    const QString text = QString::fromUtf8(json);
    if (multiByte)
        QVERIFY(text.toUcs4().size() < bytes * 3 / 4);
    else
        QCOMPARE(text.toUcs4().size(), bytes);
    QCOMPARE(limits::kMaxMessageBytes, 4096);

    const auto payload = validation::parseMessageData(json);
    QCOMPARE(payload.has_value(), accepted);
    if (accepted) {
        QCOMPARE(payload->compact, json); // already compact: measured and forwarded unchanged
        QCOMPARE(payload->compact.size(), bytes);
        QCOMPARE(payload->object.value(QStringLiteral("k")).toString(), text.sliced(6).chopped(2));
    } else {
        QCOMPARE(payload.error().error.code(), 54006);
        QCOMPARE(payload.error().error.httpStatus(), 413);
        QVERIFY2(payload.error().error.message().contains(QString::number(bytes)),
            qPrintable(payload.error().error.message()));
        QCOMPARE(payload.error().offset, qsizetype(-1));
    }
}

void TestValidation::parseMessageDataMeasuresCompact_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QByteArray>("compact");
    QTest::addColumn<bool>("accepted");

    QTest::addRow("python json.dumps style")
        << QByteArray("{\"a\": 1}") << QByteArray("{\"a\":1}") << true;
    QTest::addRow("surrounding whitespace")
        << QByteArray(" \n\t{ \"a\" : [ 1 , 2 ] , \"b\" : { } }\r\n ")
        << QByteArray("{\"a\":[1,2],\"b\":{}}") << true;
    QTest::addRow("empty object") << QByteArray("{}") << QByteArray("{}") << true;

    // 4096 compact bytes, padded with ~4000 bytes of indentation: still accepted.
    const QByteArray exact = compactPayload(4096, QString::fromUtf8("\xE2\x82\xAC"));
    QByteArray padded = exact;
    padded.replace("{\"k\":", QByteArray("{\n") + QByteArray(4000, ' ') + "\"k\" :\n  ");
    padded.replace("\"}", "\"\n}\n");
    QTest::addRow("4096 compact, 8100 padded") << padded << exact << true;

    const QByteArray over = compactPayload(4097, QString::fromUtf8("\xE2\x82\xAC"));
    QByteArray overPadded = over;
    overPadded.replace("{\"k\":", "{ \"k\": ");
    QTest::addRow("4097 compact, padded") << overPadded << over << false;
}

void TestValidation::parseMessageDataMeasuresCompact()
{
    QFETCH(QByteArray, json);
    QFETCH(QByteArray, compact);
    QFETCH(bool, accepted);

    const auto payload = validation::parseMessageData(json);
    QCOMPARE(payload.has_value(), accepted);
    if (accepted) {
        QCOMPARE(payload->compact, compact);
        QCOMPARE(validation::compactSize(payload->object), compact.size());
    } else {
        QCOMPARE(payload.error().error.code(), 54006);
        QCOMPARE(payload.error().error.httpStatus(), 413);
        QVERIFY(payload.error().error.message().contains(QString::number(compact.size())));
    }
}

void TestValidation::parseMessageDataKeepsWhatWasSent_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QByteArray>("compact");

    // Subscribers get the object as published: key order and number spelling are the sender's.
    QTest::addRow("key order") << QByteArray("{\"z\": 1, \"a\": 2, \"m\": {\"y\": 0, \"b\": 1}}")
                               << QByteArray("{\"z\":1,\"a\":2,\"m\":{\"y\":0,\"b\":1}}");
    QTest::addRow("number spelling") << QByteArray("{\"f\": 1.0, \"e\": 1E+2, \"n\": -0.50}")
                                     << QByteArray("{\"f\":1.0,\"e\":1E+2,\"n\":-0.50}");
    QTest::addRow("whitespace inside strings kept")
        << QByteArray("{ \"a b\" : \" x \\t y \" }") << QByteArray("{\"a b\":\" x \\t y \"}");
    // Strings come out as raw UTF-8 with only the escapes JSON needs (python's ensure_ascii
    // output measures like JavaScript's).
    QTest::addRow("\\u escapes to UTF-8") << QByteArray("{\"s\": \"\\u00fc\\u20ac\"}")
                                          << QByteArray("{\"s\":\"\xC3\xBC\xE2\x82\xAC\"}");
    QTest::addRow("surrogate pair")
        << QByteArray("{\"s\": \"\\ud83d\\ude00\"}") << QByteArray("{\"s\":\"\xF0\x9F\x98\x80\"}");
    QTest::addRow("needed escapes stay") << QByteArray("{\"s\": \"\\\"\\\\\\n\\u0001\\/\"}")
                                         << QByteArray("{\"s\":\"\\\"\\\\\\n\\u0001/\"}");
    QTest::addRow("escaped quote as \\u")
        << QByteArray("{\"s\": \"\\u0022\"}") << QByteArray("{\"s\":\"\\\"\"}");
    // Found by fuzz_messagedata: Qt's parser drops a raw U+FEFF at the start of a string (but
    // keeps an escaped one), so there it is sent escaped; anywhere else it is ordinary text.
    QTest::addRow("leading BOM, raw") << QByteArray("{\"s\": \"\xEF\xBB\xBF"
                                                    "a\"}")
                                      << QByteArray("{\"s\":\"\\ufeffa\"}");
    QTest::addRow("leading BOM, escaped")
        << QByteArray("{\"s\": \"\\uFEFFa\"}") << QByteArray("{\"s\":\"\\ufeffa\"}");
    QTest::addRow("leading BOM in a key")
        << QByteArray("{\"\xEF\xBB\xBFk\": 1}") << QByteArray("{\"\\ufeffk\":1}");
    // Before the object it is no part of the JSON, and would make the notification carrying
    // the message invalid JSON for subscribers (found by fuzz_messagedata).
    QTest::addRow("BOM before the object")
        << QByteArray("\xEF\xBB\xBF{\"a\": 1}") << QByteArray("{\"a\":1}");
    QTest::addRow("BOM inside a string") << QByteArray("{\"s\": \"a\\ufeff\xEF\xBB\xBF\"}")
                                         << QByteArray("{\"s\":\"a\xEF\xBB\xBF\xEF\xBB\xBF\"}");
}

void TestValidation::parseMessageDataKeepsWhatWasSent()
{
    QFETCH(QByteArray, json);
    QFETCH(QByteArray, compact);
    const auto payload = validation::parseMessageData(json);
    QVERIFY(payload.has_value());
    QCOMPARE(payload->compact, compact);
    // And it is the same JSON value (as Qt reads it; Qt loses a raw U+FEFF that starts a
    // string, which is why it is sent escaped: compare with the escaped spelling then).
    QByteArray spelledForQt = json;
    spelledForQt.replace("\"\xEF\xBB\xBF", "\"\\ufeff");
    QCOMPARE(QJsonDocument::fromJson(payload->compact).object(),
        QJsonDocument::fromJson(spelledForQt).object());
}

void TestValidation::parseMessageDataRejects_data()
{
    QTest::addColumn<QByteArray>("json");

    QTest::addRow("empty") << QByteArray();
    QTest::addRow("whitespace only") << QByteArray(" \n ");
    QTest::addRow("not json") << QByteArray("hello");
    QTest::addRow("unterminated object") << QByteArray("{\"a\":");
    QTest::addRow("trailing comma") << QByteArray("{\"a\":1,}");
    QTest::addRow("single quotes") << QByteArray("{'a':1}");
    QTest::addRow("garbage after object") << QByteArray("{} x");
    QTest::addRow("two objects") << QByteArray("{}{}");
    QTest::addRow("array") << QByteArray("[1,2]");
    QTest::addRow("empty array") << QByteArray("[]");
    QTest::addRow("array of an object") << QByteArray("[{\"a\":1}]");
    QTest::addRow("string") << QByteArray("\"text\"");
    QTest::addRow("number") << QByteArray("42");
    QTest::addRow("true") << QByteArray("true");
    QTest::addRow("null") << QByteArray("null");
    // Found by fuzz_messagedata: QJsonDocument accepts raw control characters in strings, which
    // JSON forbids and JavaScript's JSON.parse refuses, so subscribers could not read them.
    QTest::addRow("raw tab in a value") << QByteArray("{\"a\":\"x\ty\"}");
    QTest::addRow("raw newline in a key") << QByteArray("{\"a\nb\":1}");
    QTest::addRow("raw NUL in a value") << QByteArray("{\"a\":\"\0\"}", 9);
    QTest::addRow("raw U+001F in a value") << QByteArray("{\"a\":\"\x1f\"}");
    // ... and any escaped byte, where JSON allows only \" \\ \/ \b \f \n \r \t \uXXXX.
    QTest::addRow("escaped q") << QByteArray("{\"a\":\"\\q\"}");
    QTest::addRow("escaped quote mark '") << QByteArray("{\"a\":\"\\'\"}");
    QTest::addRow("escaped UTF-8 byte") << QByteArray("{\"a\":\"\\\xC3\xA9\"}");
    QTest::addRow("escape in a key") << QByteArray("{\"\\x41\":1}");
    // A \u escape of half a surrogate pair is no Unicode character (docs/engine.md, "Lone
    // surrogates"); Qt takes it, strict readers and UTF-8 cannot (found by fuzz_messagedata).
    QTest::addRow("lone low surrogate") << QByteArray("{\"s\":\"a\\ude00b\"}");
    QTest::addRow("lone high surrogate at the end") << QByteArray("{\"s\":\"a\\ud83d\"}");
    QTest::addRow("high surrogate, then a letter") << QByteArray("{\"s\":\"\\ud83dx\"}");
    QTest::addRow("high surrogate, then another escape")
        << QByteArray("{\"s\":\"\\ud83d\\u0041\"}");
    QTest::addRow("two high surrogates") << QByteArray("{\"s\":\"\\ud83d\\ud83d\\ude00\"}");
    QTest::addRow("pair reversed") << QByteArray("{\"s\":\"\\ude00\\ud83d\"}");
    QTest::addRow("lone surrogate in a key") << QByteArray("{\"l\\uf83d\\ude00one\":1}");
    QTest::addRow("lone surrogate, uppercase hex") << QByteArray("{\"s\":\"\\uDFFF\"}");
    QTest::addRow("lone surrogate in a nested array")
        << QByteArray("{\"a\":[1,{\"b\":\"\\ud800\"}]}");
}

void TestValidation::parseMessageDataRejects()
{
    QFETCH(QByteArray, json);
    const auto payload = validation::parseMessageData(json);
    QVERIFY(!payload);
    QCOMPARE(payload.error().error.code(), 54008);
    QCOMPARE(payload.error().error.httpStatus(), 400);
    QVERIFY(!payload.error().error.message().isEmpty());
}

void TestValidation::parseMessageDataSyntaxPosition_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<qsizetype>("offset");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");

    QTest::addRow("unterminated") << QByteArray("{\"a\":") << qsizetype(5) << 1 << 6;
    QTest::addRow("bad value, third line")
        << QByteArray("{\n  \"a\": 1,\n  \"b\": ?\n}") << qsizetype(19) << 3 << 8;
    // 'é' is two bytes but one column.
    QTest::addRow("after a multi-byte key")
        << QByteArray("{\"\xC3\xA9\": ?}") << qsizetype(7) << 1 << 7;
    QTest::addRow("garbage on a later line") << QByteArray("{}\n\n  x") << qsizetype(6) << 3 << 3;
    // Qt puts an unterminated string one past the end; the offset stays inside the input.
    QTest::addRow("unterminated string") << QByteArray("{\"a\":\"b") << qsizetype(7) << 1 << 8;
    QTest::addRow("raw tab in a string")
        << QByteArray("{\n\"a\":\"x\ty\"}") << qsizetype(8) << 2 << 7;
    // A lone surrogate is placed at the backslash of its escape.
    QTest::addRow("lone surrogate")
        << QByteArray("{\n \"s\": \"\xC3\xA9\\ude00\"}") << qsizetype(11) << 2 << 9;
    QTest::addRow("high surrogate without its low half")
        << QByteArray("{\"s\":\"\\ud83d\\ud83d\\ude00\"}") << qsizetype(6) << 1 << 7;
}

void TestValidation::parseMessageDataSyntaxPosition()
{
    QFETCH(QByteArray, json);
    QFETCH(qsizetype, offset);
    QFETCH(int, line);
    QFETCH(int, column);

    const auto payload = validation::parseMessageData(json);
    QVERIFY(!payload);
    const validation::JsonProblem &problem = payload.error();
    QCOMPARE(problem.error.code(), 54008);
    QCOMPARE(problem.offset, offset);
    QCOMPARE(problem.line, line);
    QCOMPARE(problem.column, column);
    const QString where = QStringLiteral("line %1, column %2").arg(line).arg(column);
    QVERIFY2(problem.error.message().contains(where), qPrintable(problem.error.message()));
}

void TestValidation::parseMessageDataNamesTheLoneSurrogate()
{
    const auto payload = validation::parseMessageData("{\"s\":\"ok \\uDE00\"}");
    QVERIFY(!payload);
    QCOMPARE(payload.error().error.message(),
        QStringLiteral(
            "Invalid JSON: lone UTF-16 surrogate \\uDE00 in a string (a surrogate escape must be a "
            "high one followed by a low one) at line 1, column 10"));
}

void TestValidation::receivedMessageData_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QByteArray>("shown"); // empty: nothing

    // What Twilio's service delivers is shown as it arrived, a lone surrogate included.
    QTest::addRow("lone surrogate kept")
        << QByteArray("{ \"s\": \"a\\ude00b\" }") << QByteArray("{\"s\":\"a\\ude00b\"}");
    QTest::addRow("after a non-ASCII character") << QByteArray("{\"l\\uf83d\\ude00one\":1}")
                                                 << QByteArray("{\"l\xEF\xA0\xBD\\ude00one\":1}");
    QTest::addRow("high then another escape")
        << QByteArray("{\"s\":\"\\uD83D\\u0041\"}") << QByteArray("{\"s\":\"\\ud83dA\"}");
    QTest::addRow("pair becomes the character")
        << QByteArray("{\"s\":\"\\ud83d\\ude00\"}") << QByteArray("{\"s\":\"\xF0\x9F\x98\x80\"}");
    QTest::addRow("larger than the publish limit")
        << QByteArray("{\"s\":\"" + QByteArray(5000, 'x') + "\"}")
        << QByteArray("{\"s\":\"" + QByteArray(5000, 'x') + "\"}");
    QTest::addRow("not an object") << QByteArray("[1]") << QByteArray();
    QTest::addRow("not JSON") << QByteArray("{") << QByteArray();
    QTest::addRow("raw control character") << QByteArray("{\"a\":\"\x01\"}") << QByteArray();
}

void TestValidation::receivedMessageData()
{
    QFETCH(QByteArray, json);
    QFETCH(QByteArray, shown);
    const auto compact = validation::receivedMessageData(json);
    QCOMPARE(compact.has_value(), !shown.isEmpty());
    if (compact)
        QCOMPARE(*compact, shown);
}

void TestValidation::compactSize_data()
{
    QTest::addColumn<QJsonObject>("object");
    QTest::addColumn<qsizetype>("expected");

    QTest::addRow("empty") << QJsonObject() << qsizetype(2);
    QTest::addRow("one int") << QJsonObject{{QStringLiteral("a"), 1}} << qsizetype(7);
    // {"k":"é€😀"} = 6 + 2 + 3 + 4 + 2 bytes.
    QTest::addRow("multi-byte") << QJsonObject{{QStringLiteral("k"),
        QString::fromUtf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80")}}
                                << qsizetype(17);
    QTest::addRow("nested") << QJsonObject{{QStringLiteral("a"), QJsonArray{1, true, QJsonValue()}}}
                            << qsizetype(19);
}

void TestValidation::compactSize()
{
    QFETCH(QJsonObject, object);
    QFETCH(qsizetype, expected);
    QCOMPARE(validation::compactSize(object), expected);
}

void TestValidation::lineAndColumn_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<qsizetype>("offset");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");

    const QByteArray multi = "{\n  \"a\": 1,\n\n  \"b\": 2\n}";
    QTest::addRow("start") << multi << qsizetype(0) << 1 << 1;
    QTest::addRow("end of line 1") << multi << qsizetype(1) << 1 << 2;
    QTest::addRow("start of line 2") << multi << qsizetype(2) << 2 << 1;
    QTest::addRow("inside line 2") << multi << qsizetype(4) << 2 << 3;
    QTest::addRow("empty line 3") << multi << qsizetype(12) << 3 << 1;
    QTest::addRow("line 4") << multi << qsizetype(15) << 4 << 3;
    QTest::addRow("last char") << multi << qsizetype(multi.size() - 1) << 5 << 1;
    QTest::addRow("end of text") << multi << qsizetype(multi.size()) << 5 << 2;
    QTest::addRow("past the end is clamped") << multi << qsizetype(1000) << 5 << 2;
    QTest::addRow("negative is clamped") << multi << qsizetype(-5) << 1 << 1;
    // Columns count characters: é (2 bytes), € (3 bytes) and 😀 (4 bytes) are one column each.
    const QByteArray utf8 = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80x\n\xC3\xA9y";
    QTest::addRow("after e-acute") << utf8 << qsizetype(2) << 1 << 2;
    QTest::addRow("after euro") << utf8 << qsizetype(5) << 1 << 3;
    QTest::addRow("after emoji") << utf8 << qsizetype(9) << 1 << 4;
    QTest::addRow("after x") << utf8 << qsizetype(10) << 1 << 5;
    QTest::addRow("line 2 after e-acute") << utf8 << qsizetype(13) << 2 << 2;
    QTest::addRow("crlf") << QByteArray("a\r\nb") << qsizetype(3) << 2 << 1;
    QTest::addRow("empty text") << QByteArray() << qsizetype(0) << 1 << 1;
}

void TestValidation::lineAndColumn()
{
    QFETCH(QByteArray, text);
    QFETCH(qsizetype, offset);
    QFETCH(int, line);
    QFETCH(int, column);
    QCOMPARE(validation::lineAndColumn(text, offset), std::make_pair(line, column));
}

void TestValidation::parseBoolean_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("expected"); // -1 = not a boolean

    QTest::addRow("true") << QStringLiteral("true") << 1;
    QTest::addRow("True") << QStringLiteral("True") << 1;
    QTest::addRow("TRUE") << QStringLiteral("TRUE") << 1;
    QTest::addRow("tRuE") << QStringLiteral("tRuE") << 1;
    QTest::addRow("false") << QStringLiteral("false") << 0;
    QTest::addRow("False") << QStringLiteral("False") << 0;
    QTest::addRow("FALSE") << QStringLiteral("FALSE") << 0;
    QTest::addRow("fAlSe") << QStringLiteral("fAlSe") << 0;
    QTest::addRow("empty") << QString() << -1;
    QTest::addRow("1") << QStringLiteral("1") << -1;
    QTest::addRow("0") << QStringLiteral("0") << -1;
    QTest::addRow("yes") << QStringLiteral("yes") << -1;
    QTest::addRow("t") << QStringLiteral("t") << -1;
    QTest::addRow("leading space") << QStringLiteral(" true") << -1;
    QTest::addRow("trailing space") << QStringLiteral("false ") << -1;
    QTest::addRow("truex") << QStringLiteral("truex") << -1;
}

void TestValidation::parseBoolean()
{
    QFETCH(QString, text);
    QFETCH(int, expected);
    const std::optional<bool> value = validation::parseBoolean(text);
    QCOMPARE(value.has_value(), expected >= 0);
    if (value)
        QCOMPARE(*value, expected == 1);
}

void TestValidation::parsePageSize_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("expected"); // -1: refused

    QTest::addRow("1") << QStringLiteral("1") << 1;
    QTest::addRow("50") << QStringLiteral("50") << 50;
    QTest::addRow("100") << QStringLiteral("100") << 100;
    QTest::addRow("leading zeros") << QStringLiteral("007") << 7;
    QTest::addRow("many leading zeros")
        << QStringLiteral("0").repeated(30) + QStringLiteral("50") << 50;
    // Any positive size; a page holds at most 1000, so more is a full page of 1000 (the official
    // clients send their `limit` as PageSize, uncapped).
    QTest::addRow("101") << QStringLiteral("101") << 101;
    QTest::addRow("999") << QStringLiteral("999") << 999;
    QTest::addRow("1000") << QStringLiteral("1000") << 1000;
    QTest::addRow("1001") << QStringLiteral("1001") << 1000;
    QTest::addRow("2500") << QStringLiteral("2500") << 1000;
    QTest::addRow("leading zeros, 1000") << QStringLiteral("0001000") << 1000;
    QTest::addRow("overflows 32 bits") << QStringLiteral("4294967297") << 1000;
    QTest::addRow("overflows 64 bits") << QStringLiteral("18446744073709551617") << 1000;
    QTest::addRow("1000 digits") << QStringLiteral("9").repeated(1000) << 1000;
    QTest::addRow("0") << QStringLiteral("0") << -1;
    QTest::addRow("zeros") << QStringLiteral("0000") << -1;
    QTest::addRow("empty") << QString() << -1;
    QTest::addRow("-1") << QStringLiteral("-1") << -1;
    QTest::addRow("+5") << QStringLiteral("+5") << -1;
    QTest::addRow("leading space") << QStringLiteral(" 5") << -1;
    QTest::addRow("trailing space") << QStringLiteral("5 ") << -1;
    QTest::addRow("5.0") << QStringLiteral("5.0") << -1;
    QTest::addRow("hex") << QStringLiteral("0x10") << -1;
    QTest::addRow("arabic-indic digit") << QString(QChar(0x0665)) << -1;
}

void TestValidation::parsePageSize()
{
    QFETCH(QString, text);
    QFETCH(int, expected);
    const auto size = validation::parsePageSize(text);
    QCOMPARE(size.has_value(), expected >= 0);
    if (size) {
        QCOMPARE(*size, expected);
    } else {
        QCOMPARE(size.error().httpStatus(), 400);
        QVERIFY(size.error().message().contains(u"PageSize"));
    }
}

void TestValidation::parsePageNumber_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("expected"); // -1: refused

    QTest::addRow("0") << QStringLiteral("0") << 0;
    QTest::addRow("1") << QStringLiteral("1") << 1;
    QTest::addRow("int max") << QStringLiteral("2147483647") << 2147483647;
    QTest::addRow("int max + 1") << QStringLiteral("2147483648") << -1;
    QTest::addRow("empty") << QString() << -1;
    QTest::addRow("-1") << QStringLiteral("-1") << -1;
    QTest::addRow("+1") << QStringLiteral("+1") << -1;
    QTest::addRow("space") << QStringLiteral(" 1") << -1;
    QTest::addRow("1000 digits") << QStringLiteral("9").repeated(1000) << -1;
}

void TestValidation::parsePageNumber()
{
    QFETCH(QString, text);
    QFETCH(int, expected);
    const auto page = validation::parsePageNumber(text);
    QCOMPARE(page.has_value(), expected >= 0);
    if (page) {
        QCOMPARE(*page, expected);
    } else {
        QCOMPARE(page.error().httpStatus(), 400);
        QVERIFY(page.error().message().contains(u"Page"));
    }
}

QTEST_GUILESS_MAIN(TestValidation)
#include "tst_validation.moc"
