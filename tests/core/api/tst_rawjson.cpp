#include "api/rawjson.h"

#include <QTest>

using namespace streams;
using namespace Qt::StringLiterals;

class TestRawJson final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void member_data();
    void member();
    void pointerAt_data();
    void pointerAt();
};

void TestRawJson::member_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<bool>("found");
    QTest::addColumn<QByteArray>("text");

    // The member's text as its author wrote it: key order, number spelling, inner spaces.
    QTest::addRow("object in the writer's order")
        << QByteArray(R"({"sid":"TZ1","data":{"z":1,"a":2.50}})") << QByteArray("data") << true
        << QByteArray(R"({"z":1,"a":2.50})");
    QTest::addRow("spaces around, kept inside")
        << QByteArray("{ \"data\" :\n { \"a\" : [ 1 , 2 ] } ,\"x\":0}") << QByteArray("data")
        << true << QByteArray("{ \"a\" : [ 1 , 2 ] }");
    QTest::addRow("scalar last") << QByteArray(R"({"a":1,"n":-0.5e3})") << QByteArray("n") << true
                                 << QByteArray("-0.5e3");
    QTest::addRow("string with braces and escapes")
        << QByteArray(R"({"s":"}\"{,","t":1})") << QByteArray("s") << true
        << QByteArray(R"("}\"{,")");
    QTest::addRow("nested member of that name is not it")
        << QByteArray(R"({"x":{"data":1},"data":2})") << QByteArray("data") << true
        << QByteArray("2");
    // As in QJsonObject, the last of repeated keys wins.
    QTest::addRow("repeated key") << QByteArray(R"({"data":1,"data":{"later":true}})")
                                  << QByteArray("data") << true << QByteArray(R"({"later":true})");
    // QJsonDocument reads past a byte order mark; so does member() (found by fuzz_rawjson).
    QTest::addRow("byte order mark") << QByteArray("\xEF\xBB\xBF{\"data\":[1]}")
                                     << QByteArray("data") << true << QByteArray("[1]");
    QTest::addRow("absent") << QByteArray(R"({"a":1})") << QByteArray("data") << false
                            << QByteArray();
    QTest::addRow("not an object")
        << QByteArray(R"([{"data":1}])") << QByteArray("data") << false << QByteArray();
    // A key spelled with escapes is not compared: callers fall back to the parsed value.
    QTest::addRow("escaped key") << QByteArray(R"({"d\u0061ta":1})") << QByteArray("data") << false
                                 << QByteArray();
}

void TestRawJson::member()
{
    QFETCH(QByteArray, json);
    QFETCH(QByteArray, name);
    QFETCH(bool, found);
    QFETCH(QByteArray, text);
    const auto member = rawjson::member(json, name);
    QCOMPARE(member.has_value(), found);
    if (found)
        QCOMPARE(member->toByteArray(), text);
}

void TestRawJson::pointerAt_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QByteArray>("mark"); // the text at the offset: its first occurrence
    QTest::addColumn<QStringList>("tokens"); // {"<none>"} when nothing is there

    // Pretty JSON as the live view's detail pane shows it (QJsonDocument::Indented).
    const QByteArray pretty = "{\n"
                              "    \"a/b\": 1,\n"
                              "    \"list\": [\n"
                              "        10,\n"
                              "        {\n"
                              "            \"deep\": \"x,y\"\n"
                              "        }\n"
                              "    ],\n"
                              "    \"q\\\"k\": null,\n"
                              "    \"user\": {\n"
                              "        \"id\": -4.5e2\n"
                              "    }\n"
                              "}\n";
    const QStringList none{u"<none>"_s};
    QTest::addRow("on a key") << pretty << QByteArray("\"a/b") << QStringList{u"a/b"_s};
    QTest::addRow("on a scalar value") << pretty << QByteArray(" 1,") << QStringList{u"a/b"_s};
    QTest::addRow("on an array element")
        << pretty << QByteArray("10") << QStringList{u"list"_s, u"0"_s};
    QTest::addRow("on a nested member")
        << pretty << QByteArray("x,y") << QStringList{u"list"_s, u"1"_s, u"deep"_s};
    QTest::addRow("on an element's brace")
        << pretty << QByteArray("{\n            ") << QStringList{u"list"_s, u"1"_s};
    QTest::addRow("escaped key") << pretty << QByteArray("null") << QStringList{u"q\"k"_s};
    QTest::addRow("number") << pretty << QByteArray("4.5e2") << QStringList{u"user"_s, u"id"_s};
    QTest::addRow("root brace") << pretty << QByteArray("{\n    \"a") << none;
    QTest::addRow("indentation") << pretty << QByteArray("    \"a/b") << none;
    QTest::addRow("compact") << QByteArray(R"({"a":[1,{"b":2}]})") << QByteArray("2}")
                             << QStringList{u"a"_s, u"1"_s, u"b"_s};
}

void TestRawJson::pointerAt()
{
    QFETCH(QByteArray, json);
    QFETCH(QByteArray, mark);
    QFETCH(QStringList, tokens);
    const qsizetype offset = json.indexOf(mark);
    QVERIFY(offset >= 0);
    const auto found = rawjson::pointerAt(json, offset);
    if (tokens == QStringList{u"<none>"_s})
        QVERIFY2(!found, qPrintable(found ? found->join(u'|') : QString()));
    else
        QCOMPARE(found, tokens);
}

QTEST_GUILESS_MAIN(TestRawJson)
#include "tst_rawjson.moc"
