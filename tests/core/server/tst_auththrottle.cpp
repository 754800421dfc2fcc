// AuthThrottle's arithmetic with a hand-driven clock: when an address starts waiting, how the
// wait grows and is capped, how parallel requests queue, what resets it, and its bounds.

#include "server/auththrottle.h"

#include <QTest>

using namespace streams;
using namespace std::chrono_literals;

namespace {
const QHostAddress kAlice(QStringLiteral("192.0.2.10"));
const QHostAddress kBob(QStringLiteral("192.0.2.20"));

void fail(AuthThrottle &throttle, const QHostAddress &address, qint64 nowMs, int times = 1)
{
    for (int i = 0; i < times; ++i)
        throttle.recordFailure(address, nowMs);
}
} // namespace

class TestAuthThrottle final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void firstFailuresAreFree();
    void waitDoublesUpToTheCap();
    void parallelRequestsQueueBehindEachOther();
    void successResets();
    void failuresAgeOutAfterTheWindow();
    void otherAddressesAreNotAffected();
    void heldRequestsAreBounded();
    void tableIsBounded();
    void ipv6IsKeyedByItsSlash64();
};

void TestAuthThrottle::firstFailuresAreFree()
{
    AuthThrottle throttle;
    for (int i = 0; i < 5; ++i) {
        const auto admission = throttle.admit(kAlice, 1000);
        QVERIFY(!admission.refused);
        QCOMPARE(admission.wait, 0ms);
        fail(throttle, kAlice, 1000);
    }
    QCOMPARE(throttle.failures(kAlice, 1000), 5);
    // The sixth attempt within the window waits.
    const auto sixth = throttle.admit(kAlice, 1000);
    QVERIFY(!sixth.refused);
    QCOMPARE(sixth.wait, 500ms);
    QCOMPARE(throttle.held(), 1);
    throttle.release(kAlice);
    QCOMPARE(throttle.held(), 0);
}

void TestAuthThrottle::waitDoublesUpToTheCap()
{
    AuthThrottle throttle;
    fail(throttle, kAlice, 0, 5);
    qint64 now = 0;
    QList<std::chrono::milliseconds> waits;
    for (int i = 0; i < 8; ++i) {
        const auto admission = throttle.admit(kAlice, now);
        waits.append(admission.wait);
        // One client, one request at a time: it comes back when its turn is over.
        now += admission.wait.count();
        throttle.release(kAlice);
        fail(throttle, kAlice, now);
    }
    const QList<std::chrono::milliseconds> expected{
        500ms, 1000ms, 2000ms, 4000ms, 8000ms, 10000ms, 10000ms, 10000ms};
    QCOMPARE(waits, expected);
}

void TestAuthThrottle::parallelRequestsQueueBehindEachOther()
{
    // Guesses fired in parallel get one turn each, one after another: nothing is gained by not
    // waiting for the previous answer.
    AuthThrottle throttle;
    fail(throttle, kAlice, 0, 5);
    QCOMPARE(throttle.admit(kAlice, 0).wait, 500ms);
    QCOMPARE(throttle.admit(kAlice, 0).wait, 1000ms);
    QCOMPARE(throttle.admit(kAlice, 100).wait, 1400ms);
    QCOMPARE(throttle.held(), 3);
}

void TestAuthThrottle::successResets()
{
    AuthThrottle throttle;
    fail(throttle, kAlice, 0, 7);
    QVERIFY(throttle.admit(kAlice, 0).wait > 0ms);
    throttle.recordSuccess(kAlice);
    QCOMPARE(throttle.failures(kAlice, 0), 0);
    QCOMPARE(throttle.admit(kAlice, 0).wait, 0ms);
    // The held request still gives its turn back; then nothing is left of the address.
    throttle.release(kAlice);
    QCOMPARE(throttle.trackedAddresses(), 0);
}

void TestAuthThrottle::failuresAgeOutAfterTheWindow()
{
    AuthThrottle throttle;
    fail(throttle, kAlice, 0, 6);
    QVERIFY(throttle.admit(kAlice, 59'000).wait > 0ms);
    throttle.release(kAlice);
    // 60 s after the last failure, the address starts over.
    QCOMPARE(throttle.admit(kAlice, 60'001).wait, 0ms);
    QCOMPARE(throttle.failures(kAlice, 60'001), 0);
    fail(throttle, kAlice, 60'001);
    QCOMPARE(throttle.failures(kAlice, 60'001), 1);
}

void TestAuthThrottle::otherAddressesAreNotAffected()
{
    AuthThrottle throttle;
    fail(throttle, kAlice, 0, 20);
    QVERIFY(throttle.admit(kAlice, 0).wait > 0ms);
    QCOMPARE(throttle.admit(kBob, 0).wait, 0ms);
}

void TestAuthThrottle::heldRequestsAreBounded()
{
    AuthThrottle::Options options;
    options.maxHeld = 8; // 2 per address
    AuthThrottle throttle(options);
    fail(throttle, kAlice, 0, 5);
    fail(throttle, kBob, 0, 5);
    QVERIFY(!throttle.admit(kAlice, 0).refused);
    QVERIFY(!throttle.admit(kAlice, 0).refused);
    QVERIFY(throttle.admit(kAlice, 0).refused); // its share is used up
    QVERIFY(!throttle.admit(kBob, 0).refused); // others still get theirs
    QCOMPARE(throttle.held(), 3);
    throttle.release(kAlice);
    QVERIFY(!throttle.admit(kAlice, 0).refused);

    for (int i = 0; i < 8; ++i) {
        const QHostAddress address(QStringLiteral("198.51.100.%1").arg(i));
        fail(throttle, address, 0, 5);
        (void)throttle.admit(address, 0);
    }
    QCOMPARE(throttle.held(), 8);
    const QHostAddress late(QStringLiteral("203.0.113.1"));
    fail(throttle, late, 0, 5);
    QVERIFY(throttle.admit(late, 0).refused); // the total is used up
}

void TestAuthThrottle::tableIsBounded()
{
    AuthThrottle::Options options;
    options.maxAddresses = 64;
    AuthThrottle throttle(options);
    for (int i = 0; i < 1000; ++i)
        fail(throttle, QHostAddress(quint32(0x0A000000 + i)), i);
    QVERIFY(throttle.trackedAddresses() <= 64);
    // The most recent failures are the ones kept.
    QCOMPARE(throttle.failures(QHostAddress(quint32(0x0A000000 + 999)), 999), 1);
    QCOMPARE(throttle.failures(QHostAddress(quint32(0x0A000000)), 999), 0);
}

void TestAuthThrottle::ipv6IsKeyedByItsSlash64()
{
    AuthThrottle throttle;
    fail(throttle, QHostAddress(QStringLiteral("2001:db8:1:2::1")), 0, 5);
    // Another host in the same /64 is the same client; another /64 is not.
    QVERIFY(throttle.admit(QHostAddress(QStringLiteral("2001:db8:1:2::99")), 0).wait > 0ms);
    QCOMPARE(throttle.admit(QHostAddress(QStringLiteral("2001:db8:1:3::1")), 0).wait, 0ms);
    // An IPv4-mapped address is its IPv4 address.
    fail(throttle, kAlice, 0, 5);
    QVERIFY(throttle.admit(QHostAddress(QStringLiteral("::ffff:192.0.2.10")), 0).wait > 0ms);
}

QTEST_GUILESS_MAIN(TestAuthThrottle)
#include "tst_auththrottle.moc"
