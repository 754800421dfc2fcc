// What the field chart extracts from messages: which pointers it takes, how each value is
// classified (plotted, not numeric, missing), and that the fast path spares a parse.

#include "ui/liveview/fieldchartdata.h"

#include <QTest>

using namespace streams;
using namespace Qt::StringLiterals;

class TestFieldChartData final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rejectsWhatItCannotChart_data();
    void rejectsWhatItCannotChart();
    void classifiesValues_data();
    void classifiesValues();
    void keysAreReadWithoutParsing();
    void oneParseServesEveryField();
    void removeAndClear();
};

void TestFieldChartData::rejectsWhatItCannotChart_data()
{
    QTest::addColumn<QStringList>("charted"); // the fields added before it
    QTest::addColumn<QString>("pointer");
    QTest::addColumn<QString>("errorContains");

    const QStringList one{u"/seq"_s};
    QStringList full = one;
    for (int i = 1; i < FieldChartData::kMaxFields; ++i)
        full.append(u"/f%1"_s.arg(i));
    QTest::addRow("no leading slash") << one << u"value"_s << u"starts with '/'"_s;
    QTest::addRow("bad escape") << one << u"/a~2"_s << u"'~' must be followed"_s;
    QTest::addRow("whole message") << one << QString() << u"whole message"_s;
    QTest::addRow("twice") << one << u"/seq"_s << u"charted already"_s;
    QTest::addRow("too many") << full << u"/f8"_s << u"At most 8"_s;
}

void TestFieldChartData::rejectsWhatItCannotChart()
{
    QFETCH(QStringList, charted);
    QFETCH(QString, pointer);
    QFETCH(QString, errorContains);
    FieldChartData data;
    for (int i = 0; i < charted.size(); ++i)
        QCOMPARE(data.addField(charted.at(i)), i);
    const auto added = data.addField(pointer);
    QVERIFY(!added);
    QVERIFY2(added.error().contains(errorContains), qPrintable(added.error()));
}

void TestFieldChartData::classifiesValues_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("pointer");
    QTest::addColumn<int>("kind"); // 0 number, 1 not numeric, 2 missing
    QTest::addColumn<double>("value");

    QTest::addRow("integer") << QByteArray(R"({"v":42})") << u"/v"_s << 0 << 42.0;
    QTest::addRow("negative exponent") << QByteArray(R"({"v":-1.5e-3})") << u"/v"_s << 0 << -1.5e-3;
    QTest::addRow("nested") << QByteArray(R"({"a":{"b":{"v":7}}})") << u"/a/b/v"_s << 0 << 7.0;
    QTest::addRow("array element") << QByteArray(R"({"a":[1,2.5]})") << u"/a/1"_s << 0 << 2.5;
    QTest::addRow("escaped key") << QByteArray(R"({"a/b":3})") << u"/a~1b"_s << 0 << 3.0;
    QTest::addRow("key written with escapes")
        << QByteArray(R"({"\u0076":4})") << u"/v"_s << 0 << 4.0;
    QTest::addRow("string of digits") << QByteArray(R"({"v":"42"})") << u"/v"_s << 1 << 0.0;
    QTest::addRow("boolean") << QByteArray(R"({"v":true})") << u"/v"_s << 1 << 0.0;
    QTest::addRow("null") << QByteArray(R"({"v":null})") << u"/v"_s << 1 << 0.0;
    QTest::addRow("object") << QByteArray(R"({"v":{"w":1}})") << u"/v"_s << 1 << 0.0;
    QTest::addRow("array") << QByteArray(R"({"v":[1]})") << u"/v"_s << 1 << 0.0;
    QTest::addRow("absent") << QByteArray(R"({"w":1})") << u"/v"_s << 2 << 0.0;
    QTest::addRow("below a number") << QByteArray(R"({"v":1})") << u"/v/w"_s << 2 << 0.0;
    QTest::addRow("index past the end") << QByteArray(R"({"a":[1]})") << u"/a/1"_s << 2 << 0.0;
}

void TestFieldChartData::classifiesValues()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, pointer);
    QFETCH(int, kind);
    QFETCH(double, value);
    FieldChartData data;
    QVERIFY(data.addField(pointer));
    data.addMessage(5000, json);
    const FieldSeries &series = data.field(0).series;
    QCOMPARE(series.numericCount(), kind == 0 ? 1u : 0u);
    QCOMPARE(series.notNumericCount(), kind == 1 ? 1u : 0u);
    QCOMPARE(series.missingCount(), kind == 2 ? 1u : 0u);
    if (kind == 0)
        QCOMPARE(series.points(), QList<QPointF>{QPointF(5000, value)});
    QCOMPARE(data.messageCount(), 1u);
}

void TestFieldChartData::keysAreReadWithoutParsing()
{
    FieldChartData data;
    QVERIFY(data.addField(u"/seq"_s));
    QVERIFY(data.addField(u"/sensor/value"_s));
    for (int i = 0; i < 1000; ++i)
        data.addMessage(i,
            u"{\"seq\":%1,\"sensor\":{\"value\":%2,\"unit\":\"C\"}}"_s.arg(i)
                .arg(i * 0.5)
                .toUtf8());
    QCOMPARE(data.parseCount(), 0u);
    QCOMPARE(data.field(0).series.numericCount(), 1000u);
    QCOMPARE(data.field(1).series.maximum(), 499.5);
}

void TestFieldChartData::oneParseServesEveryField()
{
    FieldChartData data;
    QVERIFY(data.addField(u"/list/0"_s));
    QVERIFY(data.addField(u"/list/1"_s));
    QVERIFY(data.addField(u"/absent"_s));
    data.addMessage(1, R"({"list":[1,2]})");
    data.addMessage(2, R"({"list":[3,4]})");
    QCOMPARE(data.parseCount(), 2u);
    QCOMPARE(data.field(0).series.points(), (QList<QPointF>{{1, 1}, {2, 3}}));
    QCOMPARE(data.field(1).series.points(), (QList<QPointF>{{1, 2}, {2, 4}}));
    QCOMPARE(data.field(2).series.missingCount(), 2u);
}

void TestFieldChartData::removeAndClear()
{
    FieldChartData data;
    QVERIFY(data.addField(u"/a"_s));
    QVERIFY(data.addField(u"/b"_s));
    data.addMessage(1, R"({"a":1,"b":2})");
    const quint64 before = data.generation();
    QVERIFY(data.removeField(u"/a"_s));
    QVERIFY(!data.removeField(u"/a"_s));
    QVERIFY(data.generation() != before);
    QCOMPARE(data.pointers(), QStringList{u"/b"_s});
    QCOMPARE(data.field(0).series.numericCount(), 1u);
    data.clear();
    QCOMPARE(data.pointers(), QStringList{u"/b"_s});
    QCOMPARE(data.field(0).series.numericCount(), 0u);
    QCOMPARE(data.messageCount(), 0u);
    // Without fields there is nothing to extract or count.
    QVERIFY(data.removeField(u"/b"_s));
    data.addMessage(2, R"({"b":1})");
    QCOMPARE(data.messageCount(), 0u);
}

QTEST_GUILESS_MAIN(TestFieldChartData)
#include "tst_fieldchartdata.moc"
