#include "api/rawjson.h"

#include <QTest>

using namespace streams;

class TestRawJson final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void member_data();
    void member();
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

QTEST_GUILESS_MAIN(TestRawJson)
#include "tst_rawjson.moc"
