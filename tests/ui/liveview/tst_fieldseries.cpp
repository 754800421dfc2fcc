// One charted field's values: exact while they fit, then min/max buckets that keep memory and
// the points drawn at the cap under a firehose without losing a peak or a dip.

#include "ui/liveview/fieldseries.h"

#include <QTest>
#include <cmath>

using namespace streams;

class TestFieldSeries final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void exactWhileItFits();
    void firehoseStaysAtTheCap();
    void decimationKeepsMinimumAndMaximum();
    void pointsStayInTimeOrder();
    void countsWhatIsNotPlotted();
    void clearStartsOver();
    void capacityIsEvenAndPositive();
};

void TestFieldSeries::exactWhileItFits()
{
    FieldSeries series(10);
    for (int i = 0; i < 10; ++i)
        series.addNumber(1000 + i, i * 1.5);
    QCOMPARE(series.bucketCount(), 10);
    QCOMPARE(series.valuesPerBucket(), 1u);
    const QList<QPointF> points = series.points();
    QCOMPARE(points.size(), 10);
    for (int i = 0; i < 10; ++i)
        QCOMPARE(points.at(i), QPointF(1000 + i, i * 1.5));
    QCOMPARE(series.firstTimeMs(), 1000);
    QCOMPARE(series.lastTimeMs(), 1009);
}

void TestFieldSeries::firehoseStaysAtTheCap()
{
    // 200,000 values: ten seconds of the 20,000 msg/s firehose.
    FieldSeries series(FieldSeries::kDefaultBucketCapacity);
    const int cap = series.bucketCapacity();
    int mostBuckets = 0;
    for (int i = 0; i < 200'000; ++i) {
        series.addNumber(i / 20, std::sin(i / 500.0));
        mostBuckets = std::max(mostBuckets, series.bucketCount());
    }
    QCOMPARE(series.numericCount(), 200'000u);
    QVERIFY(mostBuckets <= cap);
    QVERIFY(series.bucketCount() > cap / 2); // merging halves, it never empties the history
    QVERIFY(series.points().size() <= 2 * cap);
    // 200,000 values in at most 2,000 buckets: 128 a bucket after six merges.
    QCOMPARE(series.valuesPerBucket(), 128u);
    QCOMPARE(series.firstTimeMs(), 0);
    QCOMPARE(series.lastTimeMs(), 199'999 / 20);
}

void TestFieldSeries::decimationKeepsMinimumAndMaximum()
{
    FieldSeries series(100);
    for (int i = 0; i < 100'000; ++i) {
        const double value = i == 31'337 ? 1e6 : i == 77'777 ? -1e6 : double(i % 7);
        series.addNumber(i, value);
    }
    QCOMPARE(series.maximum(), 1e6);
    QCOMPARE(series.minimum(), -1e6);
    const QList<QPointF> points = series.points();
    QVERIFY(points.size() <= 200);
    QVERIFY(points.contains(QPointF(31'337, 1e6)));
    QVERIFY(points.contains(QPointF(77'777, -1e6)));
    // Every bucket still spans the ordinary range too.
    QVERIFY(points.contains(QPointF(0, 0)));
}

void TestFieldSeries::pointsStayInTimeOrder()
{
    FieldSeries series(64);
    // A falling saw: within a bucket the maximum comes before the minimum.
    for (int i = 0; i < 10'000; ++i)
        series.addNumber(i, double(100 - i % 100));
    const QList<QPointF> points = series.points();
    for (qsizetype i = 1; i < points.size(); ++i)
        QVERIFY2(points.at(i - 1).x() <= points.at(i).x(), qPrintable(QString::number(i)));
}

void TestFieldSeries::countsWhatIsNotPlotted()
{
    FieldSeries series(16);
    series.addNumber(1, 2.0);
    series.addNotNumeric();
    series.addNotNumeric();
    series.addMissing();
    QCOMPARE(series.numericCount(), 1u);
    QCOMPARE(series.notNumericCount(), 2u);
    QCOMPARE(series.missingCount(), 1u);
    QCOMPARE(series.points().size(), 1);
}

void TestFieldSeries::clearStartsOver()
{
    FieldSeries series(4);
    for (int i = 0; i < 100; ++i)
        series.addNumber(i, i);
    series.addNotNumeric();
    series.clear();
    QCOMPARE(series.bucketCount(), 0);
    QCOMPARE(series.valuesPerBucket(), 1u);
    QCOMPARE(series.numericCount(), 0u);
    QCOMPARE(series.notNumericCount(), 0u);
    QVERIFY(!series.minimum());
    QVERIFY(series.points().isEmpty());
}

void TestFieldSeries::capacityIsEvenAndPositive()
{
    QCOMPARE(FieldSeries(0).bucketCapacity(), 2);
    QCOMPARE(FieldSeries(7).bucketCapacity(), 8);
    QCOMPARE(FieldSeries(8).bucketCapacity(), 8);
}

QTEST_GUILESS_MAIN(TestFieldSeries)
#include "tst_fieldseries.moc"
