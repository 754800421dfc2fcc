// JsonWriter: what it writes is JSON that any parser reads back to the same values, with the
// escapes JSON requires and UTF-8 passed through.

#include "api/jsonwriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace streams;

class TestJsonWriter final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void stringsRoundTrip_data();
    void stringsRoundTrip();
    void escapesAreTheOnesJsonRequires();
    void objectsAndArrays();
};

void TestJsonWriter::stringsRoundTrip_data()
{
    QTest::addColumn<QString>("text");
    QTest::addRow("empty") << QString();
    QTest::addRow("plain ASCII") << QStringLiteral("TO0123456789abcdef0123456789abcdef");
    QTest::addRow("URL") << QStringLiteral("https://sync.twilio.com/v1/Services/IS1/Streams/TO2");
    QTest::addRow("quote") << QStringLiteral(R"(say "hi")");
    QTest::addRow("backslash") << QStringLiteral(R"(C:\path\to)");
    QTest::addRow("controls") << QStringLiteral("a\nb\rc\td\be\ff");
    QTest::addRow("other controls") << QString::fromUtf16(u"\u0001x\u001fy\u0000z", 7);
    QTest::addRow("Latin-1") << QStringLiteral("café crème");
    QTest::addRow("CJK and emoji") << QStringLiteral("注文 📦 order");
    QTest::addRow("mixed, escape last") << QStringLiteral("é\"");
    QTest::addRow("escape first") << QStringLiteral("\"é");
    QTest::addRow("DEL passes") << QStringLiteral("a\x7f"
                                                  "b");
}

void TestJsonWriter::stringsRoundTrip()
{
    QFETCH(QString, text);
    QByteArray out;
    JsonWriter(out).beginObject().key(QLatin1StringView("v")).value(QStringView(text)).endObject();
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson(out, &error);
    QVERIFY2(error.error == QJsonParseError::NoError, out.constData());
    QCOMPARE(document.object().value(QStringLiteral("v")).toString(), text);
    // UTF-8 as is (not \u escapes), and no raw control byte.
    QVERIFY(out.contains(text.toUtf8()) || text.contains(u'"') || text.contains(u'\\')
        || std::any_of(text.begin(), text.end(), [](QChar c) { return c.unicode() < 0x20; }));
    for (const char c : out)
        QVERIFY(static_cast<unsigned char>(c) >= 0x20);
}

void TestJsonWriter::escapesAreTheOnesJsonRequires()
{
    QByteArray out;
    JsonWriter::appendEscaped(out, QString::fromUtf16(u"\"\\\n\r\t\b\f\u0001\u001f", 9));
    QCOMPARE(out, QByteArray(R"(\"\\\n\r\t\b\f\u0001\u001f)"));
    out.clear();
    JsonWriter::appendEscaped(out, QStringLiteral("é/ok"));
    QCOMPARE(out, QByteArray("\xc3\xa9/ok"));
}

void TestJsonWriter::objectsAndArrays()
{
    QByteArray out;
    JsonWriter(out)
        .beginObject()
        .key(QLatin1StringView("a"))
        .value(1)
        .key(QLatin1StringView("b"))
        .beginArray()
        .value(true)
        .nullValue()
        .value(QLatin1StringView("x"))
        .endArray()
        .key(QLatin1StringView("d"))
        .dateValue(0)
        .endObject();
    QCOMPARE(out, QByteArray(R"({"a":1,"b":[true,null,"x"],"d":"1970-01-01T00:00:00Z"})"));
}

QTEST_GUILESS_MAIN(TestJsonWriter)
#include "tst_jsonwriter.moc"
