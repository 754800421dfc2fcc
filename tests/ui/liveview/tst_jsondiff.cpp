// JsonDiff: structural changes between two JSON objects, addressed by RFC 6901 pointers.

#include "ui/liveview/jsondiff.h"

#include <QJsonDocument>
#include <QTest>

using namespace streams;
using namespace Qt::StringLiterals;

namespace {

QJsonObject parse(const char *json)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(QByteArray(json), &error);
    if (!document.isObject())
        qFatal("bad test JSON %s: %s", json, qPrintable(error.errorString()));
    return document.object();
}

/// Changes as "kind pointer old → new" lines, the shape a person reads in the diff tab.
QStringList describe(const QList<JsonDiff::Change> &changes)
{
    QStringList lines;
    for (const JsonDiff::Change &change : changes) {
        lines.append(u"%1 %2 %3 -> %4"_s.arg(JsonDiff::kindName(change.kind), change.pointer,
            JsonDiff::toText(change.oldValue), JsonDiff::toText(change.newValue)));
    }
    return lines;
}

} // namespace

class TestJsonDiff final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void diff_data();
    void diff();
    void changeCarriesValues();
};

void TestJsonDiff::diff_data()
{
    QTest::addColumn<QByteArray>("before");
    QTest::addColumn<QByteArray>("after");
    QTest::addColumn<QStringList>("changes");

    QTest::addRow("identical") << R"({"a":1,"b":{"c":[1,2]}})"_ba
                               << R"({"b":{"c":[1,2]},"a":1})"_ba << QStringList();
    QTest::addRow("both empty") << "{}"_ba
                                << "{}"_ba << QStringList();
    QTest::addRow("added") << R"({"a":1})"_ba
                           << R"({"a":1,"b":"x"})"_ba << QStringList{u"added /b  -> \"x\""_s};
    QTest::addRow("removed") << R"({"a":1,"b":true})"_ba
                             << R"({"a":1})"_ba << QStringList{u"removed /b true -> "_s};
    QTest::addRow("changed scalar") << R"({"a":1})"_ba
                                    << R"({"a":2})"_ba << QStringList{u"changed /a 1 -> 2"_s};
    QTest::addRow("1 equals 1.0") << R"({"a":1})"_ba
                                  << R"({"a":1.0})"_ba << QStringList();
    QTest::addRow("string vs number") << R"({"a":"1"})"_ba
                                      << R"({"a":1})"_ba << QStringList{u"changed /a \"1\" -> 1"_s};
    QTest::addRow("null to value")
        << R"({"a":null})"_ba
        << R"({"a":false})"_ba << QStringList{u"changed /a null -> false"_s};
    QTest::addRow("nested object")
        << R"({"u":{"id":1,"name":"a","x":{}}})"_ba
        << R"({"u":{"id":1,"name":"b","x":{"y":0}}})"_ba
        << QStringList{u"changed /u/name \"a\" -> \"b\""_s, u"added /u/x/y  -> 0"_s};
    QTest::addRow("array element changed")
        << R"({"t":[1,2,3]})"_ba
        << R"({"t":[1,5,3]})"_ba << QStringList{u"changed /t/1 2 -> 5"_s};
    QTest::addRow("array grew") << R"({"t":[1]})"_ba
                                << R"({"t":[1,2,3]})"_ba
                                << QStringList{u"added /t/1  -> 2"_s, u"added /t/2  -> 3"_s};
    QTest::addRow("array shrank") << R"({"t":[1,2,3]})"_ba
                                  << R"({"t":[1]})"_ba
                                  << QStringList{u"removed /t/1 2 -> "_s, u"removed /t/2 3 -> "_s};
    QTest::addRow("objects inside arrays")
        << R"({"t":[{"k":1},{"k":2}]})"_ba
        << R"({"t":[{"k":1},{"k":3,"n":true}]})"_ba
        << QStringList{u"changed /t/1/k 2 -> 3"_s, u"added /t/1/n  -> true"_s};
    QTest::addRow("type change object to array")
        << R"({"v":{"a":1}})"_ba
        << R"({"v":[1]})"_ba << QStringList{u"changed /v {\"a\":1} -> [1]"_s};
    QTest::addRow("type change array to scalar")
        << R"({"v":[1,2]})"_ba
        << R"({"v":"x"})"_ba << QStringList{u"changed /v [1,2] -> \"x\""_s};
    QTest::addRow("escaped keys") << R"({"a/b":1,"m~n":1})"_ba
                                  << R"({"a/b":2,"m~n":2})"_ba
                                  << QStringList{
                                         u"changed /a~1b 1 -> 2"_s, u"changed /m~0n 1 -> 2"_s};
    QTest::addRow("empty key") << R"({"":1})"_ba
                               << R"({"":2})"_ba << QStringList{u"changed / 1 -> 2"_s};
    QTest::addRow("sorted by key") << R"({"z":1,"b":1})"_ba
                                   << R"({"a":1,"y":1})"_ba
                                   << QStringList{u"added /a  -> 1"_s, u"removed /b 1 -> "_s,
                                          u"added /y  -> 1"_s, u"removed /z 1 -> "_s};
    QTest::addRow("unicode") << R"({"名前":"太郎"})"_ba
                             << R"({"名前":"花子"})"_ba
                             << QStringList{u"changed /名前 \"太郎\" -> \"花子\""_s};
}

void TestJsonDiff::diff()
{
    QFETCH(QByteArray, before);
    QFETCH(QByteArray, after);
    QFETCH(QStringList, changes);
    QCOMPARE(
        describe(JsonDiff::diff(parse(before.constData()), parse(after.constData()))), changes);
    // Swapping the sides swaps added and removed, and nothing else.
    QCOMPARE(
        JsonDiff::diff(parse(after.constData()), parse(before.constData())).size(), changes.size());
}

void TestJsonDiff::changeCarriesValues()
{
    const auto changes = JsonDiff::diff(
        parse(R"({"a":{"b":[1,{"c":"x"}]}})"), parse(R"({"a":{"b":[1,{"c":"y"}]},"d":[]})"));
    QCOMPARE(changes.size(), 2);
    QCOMPARE(changes.at(0).pointer, u"/a/b/1/c");
    QCOMPARE(changes.at(0).kind, JsonDiff::Kind::Changed);
    QCOMPARE(changes.at(0).oldValue, QJsonValue(u"x"_s));
    QCOMPARE(changes.at(0).newValue, QJsonValue(u"y"_s));
    QCOMPARE(changes.at(1).pointer, u"/d");
    QCOMPARE(changes.at(1).kind, JsonDiff::Kind::Added);
    QVERIFY(changes.at(1).oldValue.isUndefined());
    QVERIFY(changes.at(1).newValue.isArray());
}

QTEST_APPLESS_MAIN(TestJsonDiff)
#include "tst_jsondiff.moc"
