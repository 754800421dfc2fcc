#include "api/limits.h"
#include "engine/publishlimiter.h"
#include "manualclock.h"

#include <QTest>

using namespace streams;

namespace {
const QString kStreamA = QStringLiteral("TO00000000000000000000000000000001");
const QString kStreamB = QStringLiteral("TO00000000000000000000000000000002");

// How many publishes in a row succeed right now (stops at `cap` to stay finite).
int drain(PublishLimiter &limiter, const QString &stream, int cap = 100'000)
{
    int granted = 0;
    while (granted < cap && limiter.tryAcquire(stream))
        ++granted;
    return granted;
}
} // namespace

class TestPublishLimiter final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaultsAreTheContract();
    void burstThenRefusal();
    void refill_data();
    void refill();
    void fractionalRefillAccumulates();
    void bucketsArePerStream();
    void unlimitedNeverRefuses();
    void forgetResetsTheBucket();
    void clockGoingBackwardsGrantsNothing();
    void capacity_data();
    void capacity();
};

void TestPublishLimiter::defaultsAreTheContract()
{
    QCOMPARE(limits::kDefaultPublishRatePerSecond, 30.0);
    QCOMPARE(limits::kPublishBurstSeconds, 10);
    ManualClock clock;
    PublishLimiter limiter(
        clock, limits::kDefaultPublishRatePerSecond, limits::kPublishBurstSeconds);
    QCOMPARE(limiter.ratePerSecond(), std::optional<double>(30.0));
    QCOMPARE(limiter.capacity(), 300.0);
}

void TestPublishLimiter::burstThenRefusal()
{
    ManualClock clock;
    PublishLimiter limiter(clock, 30.0, 10);
    for (int i = 0; i < 300; ++i)
        QVERIFY2(limiter.tryAcquire(kStreamA), qPrintable(QString::number(i)));
    QVERIFY(!limiter.tryAcquire(kStreamA));
    QVERIFY(!limiter.tryAcquire(kStreamA)); // refusals do not go negative or recover by retrying
    clock.advanceMs(1000);
    QCOMPARE(drain(limiter, kStreamA), 30);
}

void TestPublishLimiter::refill_data()
{
    QTest::addColumn<qint64>("elapsedMs");
    QTest::addColumn<int>("granted");

    QTest::addRow("nothing elapsed") << qint64(0) << 0;
    QTest::addRow("33 ms: 0.99 of a token") << qint64(33) << 0;
    QTest::addRow("34 ms: 1.02 tokens") << qint64(34) << 1;
    QTest::addRow("100 ms") << qint64(100) << 3;
    QTest::addRow("1 s") << qint64(1000) << 30;
    QTest::addRow("1.5 s") << qint64(1500) << 45;
    QTest::addRow("5 s") << qint64(5000) << 150;
    QTest::addRow("10 s: full again") << qint64(10'000) << 300;
    QTest::addRow("1 min: capped at the burst") << qint64(60'000) << 300;
}

void TestPublishLimiter::refill()
{
    QFETCH(qint64, elapsedMs);
    QFETCH(int, granted);

    ManualClock clock;
    PublishLimiter limiter(clock, 30.0, 10);
    QCOMPARE(drain(limiter, kStreamA), 300);
    clock.advanceMs(elapsedMs);
    QCOMPARE(drain(limiter, kStreamA), granted);
}

void TestPublishLimiter::fractionalRefillAccumulates()
{
    ManualClock clock;
    PublishLimiter limiter(clock, 30.0, 10);
    QCOMPARE(drain(limiter, kStreamA), 300);
    // 20 ms is 0.6 of a token: refused, but the fraction is kept.
    clock.advanceMs(20);
    QVERIFY(!limiter.tryAcquire(kStreamA));
    clock.advanceMs(20); // 1.2 tokens
    QVERIFY(limiter.tryAcquire(kStreamA));
    QVERIFY(!limiter.tryAcquire(kStreamA));
    clock.advanceMs(27); // 0.2 + 0.81 = 1.01 tokens
    QVERIFY(limiter.tryAcquire(kStreamA));
    QVERIFY(!limiter.tryAcquire(kStreamA));
}

void TestPublishLimiter::bucketsArePerStream()
{
    ManualClock clock;
    PublishLimiter limiter(clock, 30.0, 10);
    QCOMPARE(drain(limiter, kStreamA), 300);
    QVERIFY(!limiter.tryAcquire(kStreamA));
    QCOMPARE(drain(limiter, kStreamB), 300);
    QVERIFY(!limiter.tryAcquire(kStreamA));
    clock.advanceMs(1000);
    QCOMPARE(drain(limiter, kStreamA), 30);
    QCOMPARE(drain(limiter, kStreamB), 30);
}

void TestPublishLimiter::unlimitedNeverRefuses()
{
    ManualClock clock;
    PublishLimiter limiter(clock, std::nullopt, 10);
    QCOMPARE(limiter.ratePerSecond(), std::optional<double>());
    QCOMPARE(drain(limiter, kStreamA, 100'000), 100'000);
    QCOMPARE(drain(limiter, kStreamB, 1000), 1000);
}

void TestPublishLimiter::forgetResetsTheBucket()
{
    ManualClock clock;
    PublishLimiter limiter(clock, 30.0, 10);
    QCOMPARE(drain(limiter, kStreamA), 300);
    QCOMPARE(drain(limiter, kStreamB), 300);
    limiter.forget(kStreamA);
    QCOMPARE(drain(limiter, kStreamA), 300);
    QVERIFY(!limiter.tryAcquire(kStreamB)); // only the forgotten stream starts over
    limiter.forget(QStringLiteral("TO-never-seen")); // harmless
}

void TestPublishLimiter::clockGoingBackwardsGrantsNothing()
{
    ManualClock clock;
    PublishLimiter limiter(clock, 30.0, 10);
    QCOMPARE(drain(limiter, kStreamA), 300);
    clock.advanceMs(-5000);
    QVERIFY(!limiter.tryAcquire(kStreamA));
    // Back to where it was: still nothing earned for the time that ran backwards.
    clock.advanceMs(5000);
    QVERIFY(!limiter.tryAcquire(kStreamA));
    clock.advanceMs(1000);
    QCOMPARE(drain(limiter, kStreamA), 30);
}

void TestPublishLimiter::capacity_data()
{
    QTest::addColumn<double>("rate");
    QTest::addColumn<int>("burstSeconds");
    QTest::addColumn<int>("immediate");
    QTest::addColumn<int>("afterOneSecond");

    QTest::addRow("default") << 30.0 << 10 << 300 << 30;
    QTest::addRow("raised for load tests") << 1000.0 << 10 << 10'000 << 1000;
    QTest::addRow("one per second, no burst") << 1.0 << 1 << 1 << 1;
    // A tiny rate still lets one message through: the bucket holds at least one token.
    QTest::addRow("slower than one per burst") << 0.05 << 10 << 1 << 0;
}

void TestPublishLimiter::capacity()
{
    QFETCH(double, rate);
    QFETCH(int, burstSeconds);
    QFETCH(int, immediate);
    QFETCH(int, afterOneSecond);

    ManualClock clock;
    PublishLimiter limiter(clock, rate, burstSeconds);
    QCOMPARE(drain(limiter, kStreamA), immediate);
    clock.advanceMs(1000);
    QCOMPARE(drain(limiter, kStreamA), afterOneSecond);
}

QTEST_GUILESS_MAIN(TestPublishLimiter)
#include "tst_publishlimiter.moc"
