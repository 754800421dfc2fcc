// JSON Pointers (RFC 6901) as the live view's filter and field charts use them: parsing with its
// escapes, formatting back, and lookup in objects and arrays.

#include "api/jsonpointer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace streams;
using namespace Qt::StringLiterals;

class TestJsonPointer final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void escapeToken_data();
    void escapeToken();
    void formatRoundTrips_data();
    void formatRoundTrips();
    void resolve_data();
    void resolve();
};

void TestJsonPointer::parse_data()
{
    QTest::addColumn<QString>("pointer");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QStringList>("tokens");

    QTest::addRow("empty") << QString() << true << QStringList();
    QTest::addRow("root key empty") << u"/"_s << true << QStringList{QString()};
    QTest::addRow("plain") << u"/a/b"_s << true << QStringList{u"a"_s, u"b"_s};
    QTest::addRow("slash escape") << u"/a~1b"_s << true << QStringList{u"a/b"_s};
    QTest::addRow("tilde escape") << u"/m~0n"_s << true << QStringList{u"m~n"_s};
    QTest::addRow("~01 is ~1, not /") << u"/~01"_s << true << QStringList{u"~1"_s};
    QTest::addRow("trailing empty") << u"/a/"_s << true << QStringList{u"a"_s, QString()};
    QTest::addRow("no leading slash") << u"a/b"_s << false << QStringList();
    QTest::addRow("bad escape") << u"/a~2"_s << false << QStringList();
    QTest::addRow("dangling tilde") << u"/a~"_s << false << QStringList();
}

void TestJsonPointer::parse()
{
    QFETCH(QString, pointer);
    QFETCH(bool, valid);
    QFETCH(QStringList, tokens);
    QString error;
    const auto parsed = jsonpointer::parse(pointer, &error);
    QCOMPARE(parsed.has_value(), valid);
    if (valid)
        QCOMPARE(*parsed, tokens);
    else
        QVERIFY(!error.isEmpty());
}

void TestJsonPointer::escapeToken_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("token");
    QTest::addRow("plain") << u"abc"_s << u"abc"_s;
    QTest::addRow("slash") << u"a/b"_s << u"a~1b"_s;
    QTest::addRow("tilde") << u"a~b"_s << u"a~0b"_s;
    QTest::addRow("tilde then 1") << u"~1"_s << u"~01"_s;
    QTest::addRow("both") << u"/~"_s << u"~1~0"_s;
}

void TestJsonPointer::escapeToken()
{
    QFETCH(QString, key);
    QFETCH(QString, token);
    QCOMPARE(jsonpointer::escapeToken(key), token);
}

void TestJsonPointer::formatRoundTrips_data()
{
    QTest::addColumn<QStringList>("tokens");
    QTest::addColumn<QString>("pointer");

    QTest::addRow("none") << QStringList() << QString();
    QTest::addRow("plain") << QStringList{u"a"_s, u"0"_s} << u"/a/0"_s;
    QTest::addRow("slash and tilde") << QStringList{u"a/b"_s, u"m~n"_s} << u"/a~1b/m~0n"_s;
    QTest::addRow("tilde then one") << QStringList{u"~1"_s} << u"/~01"_s;
    QTest::addRow("empty key") << QStringList{QString()} << u"/"_s;
}

void TestJsonPointer::formatRoundTrips()
{
    QFETCH(QStringList, tokens);
    QFETCH(QString, pointer);
    QCOMPARE(jsonpointer::format(tokens), pointer);
    QCOMPARE(jsonpointer::parse(pointer), tokens);
}

void TestJsonPointer::resolve_data()
{
    QTest::addColumn<QString>("pointer");
    QTest::addColumn<QByteArray>("expected"); // compact JSON of [value], or empty when absent

    QTest::addRow("root") << QString() << QByteArray(R"([{"a":{"b":[10,{"c":true}]},"a/b":1}])");
    QTest::addRow("member") << u"/a/b/0"_s << QByteArray("[10]");
    QTest::addRow("in array element") << u"/a/b/1/c"_s << QByteArray("[true]");
    QTest::addRow("escaped key") << u"/a~1b"_s << QByteArray("[1]");
    QTest::addRow("absent key") << u"/a/x"_s << QByteArray();
    QTest::addRow("index past the end") << u"/a/b/2"_s << QByteArray();
    QTest::addRow("leading zero is no index") << u"/a/b/01"_s << QByteArray();
    QTest::addRow("dash is never there") << u"/a/b/-"_s << QByteArray();
    QTest::addRow("below a scalar") << u"/a/b/0/x"_s << QByteArray();
}

void TestJsonPointer::resolve()
{
    QFETCH(QString, pointer);
    QFETCH(QByteArray, expected);
    const QJsonDocument document =
        QJsonDocument::fromJson(R"({"a":{"b":[10,{"c":true}]},"a/b":1})");
    const QJsonValue value = jsonpointer::resolve(document.object(), *jsonpointer::parse(pointer));
    if (expected.isEmpty()) {
        QVERIFY(value.isUndefined());
    } else {
        QVERIFY(!value.isUndefined());
        QCOMPARE(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact), expected);
    }
}

QTEST_GUILESS_MAIN(TestJsonPointer)
#include "tst_jsonpointer.moc"
