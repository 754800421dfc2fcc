#include "engine/fanouthub.h"

#include <QAtomicInteger>
#include <QTest>
#include <QThread>
#include <atomic>

using namespace streams;

namespace {
const QString kService = QStringLiteral("IS00000000000000000000000000000001");
const QString kStreamA = QStringLiteral("TO0000000000000000000000000000000a");
const QString kStreamB = QStringLiteral("TO0000000000000000000000000000000b");

StreamMessage message(const QString &stream, int n)
{
    return StreamMessage{QStringLiteral("TZ%1").arg(n, 32, 10, QLatin1Char('0')), kService, stream,
        QByteArray("{\"n\":") + QByteArray::number(n) + '}'};
}

int numberOf(const StreamMessage &m)
{
    return m.data.sliced(5).chopped(1).toInt();
}

QList<int> numbersOf(const QList<StreamMessage> &messages)
{
    QList<int> out;
    for (const StreamMessage &m : messages)
        out.append(numberOf(m));
    return out;
}

QList<int> range(int first, int count)
{
    QList<int> out;
    for (int i = 0; i < count; ++i)
        out.append(first + i);
    return out;
}

// Publishes messages 0..count-1 to one stream from its own thread.
class Publisher final : public QThread
{
public:
    Publisher(FanoutHub &hub, QString stream, int count)
        : m_hub(hub), m_stream(std::move(stream)), m_count(count)
    { }
    std::atomic<qsizetype> delivered = 0;

protected:
    void run() override
    {
        for (int i = 0; i < m_count; ++i)
            delivered += m_hub.publish(message(m_stream, i));
    }

private:
    FanoutHub &m_hub;
    const QString m_stream;
    const int m_count;
};

// Drains its subscription on the thread it lives on whenever it is woken: the pattern a real
// subscriber uses (a queued call from the publisher's thread, never a blocking wait).
class Drainer final : public QObject
{
    Q_OBJECT

public:
    std::shared_ptr<Subscription> subscription;
    QList<int> received;
    quint64 dropped = 0;
    int wakes = 0;

    std::function<void()> wakeFunction()
    {
        return
            [this] { QMetaObject::invokeMethod(this, &Drainer::drainNow, Qt::QueuedConnection); };
    }

public Q_SLOTS:
    void drainNow()
    {
        ++wakes;
        const Subscription::Batch batch = subscription->drain();
        received += numbersOf(batch.messages);
        dropped += batch.dropped;
        Q_EMIT drained();
    }

Q_SIGNALS:
    void drained();
};
} // namespace

class TestFanoutHub final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void publishReachesEverySubscriberOfTheStreamOnly();
    void publishWithoutSubscribers();
    void boundedQueueKeepsTheNewest_data();
    void boundedQueueKeepsTheNewest();
    void slowSubscriberDoesNotHoldBackOthers();
    void wakeOncePerDrainCycle();
    void removeStreamMarksAndWakes();
    void unsubscribe();
};

void TestFanoutHub::publishReachesEverySubscriberOfTheStreamOnly()
{
    FanoutHub hub;
    auto a1 = hub.subscribe(kService, kStreamA, 100, {});
    auto a2 = hub.subscribe(kService, kStreamA, 100, {});
    auto b1 = hub.subscribe(kService, kStreamB, 100, {});
    QCOMPARE(hub.subscriberCount(kStreamA), 2);
    QCOMPARE(hub.subscriberCount(kStreamB), 1);
    QCOMPARE(a1->streamSid(), kStreamA);
    QCOMPARE(a1->serviceSid(), kService);

    const StreamMessage sent = message(kStreamA, 7);
    QCOMPARE(hub.publish(sent), 2);
    for (const auto &subscription : {a1, a2}) {
        QCOMPARE(subscription->pending(), 1);
        const Subscription::Batch batch = subscription->drain();
        QCOMPARE(batch.messages.size(), 1);
        QCOMPARE(batch.messages[0].sid, sent.sid);
        QCOMPARE(batch.messages[0].streamSid, kStreamA);
        QCOMPARE(batch.messages[0].serviceSid, kService);
        QCOMPARE(batch.messages[0].data, sent.data);
        QCOMPARE(batch.dropped, quint64(0));
        QVERIFY(!batch.streamRemoved);
        QCOMPARE(subscription->pending(), 0);
    }
    QCOMPARE(b1->pending(), 0);
    QVERIFY(b1->drain().messages.isEmpty());

    QCOMPARE(hub.publish(message(kStreamB, 8)), 1);
    QCOMPARE(numbersOf(b1->drain().messages), QList<int>{8});
    QVERIFY(a1->drain().messages.isEmpty());
}

void TestFanoutHub::publishWithoutSubscribers()
{
    FanoutHub hub;
    QCOMPARE(hub.publish(message(kStreamA, 1)), 0);
    QCOMPARE(hub.subscriberCount(kStreamA), 0);
}

void TestFanoutHub::boundedQueueKeepsTheNewest_data()
{
    QTest::addColumn<int>("capacity");
    QTest::addColumn<int>("published");
    QTest::addColumn<int>("kept");

    QTest::addRow("under capacity") << 10 << 5 << 5;
    QTest::addRow("exactly full") << 10 << 10 << 10;
    QTest::addRow("one over") << 10 << 11 << 10;
    QTest::addRow("far over") << 16 << 1000 << 16;
    QTest::addRow("capacity 1") << 1 << 5 << 1;
    QTest::addRow("capacity 0 means 1") << 0 << 3 << 1;
}

void TestFanoutHub::boundedQueueKeepsTheNewest()
{
    QFETCH(int, capacity);
    QFETCH(int, published);
    QFETCH(int, kept);

    FanoutHub hub;
    auto subscription = hub.subscribe(kService, kStreamA, capacity, {});
    for (int i = 0; i < published; ++i)
        hub.publish(message(kStreamA, i));
    QCOMPARE(subscription->pending(), kept);
    QCOMPARE(subscription->totalDropped(), quint64(published - kept));
    const Subscription::Batch batch = subscription->drain();
    QCOMPARE(numbersOf(batch.messages), range(published - kept, kept));
    QCOMPARE(batch.dropped, quint64(published - kept));

    // The per-drain count restarts; the total does not.
    hub.publish(message(kStreamA, published));
    const Subscription::Batch next = subscription->drain();
    QCOMPARE(numbersOf(next.messages), QList<int>{published});
    QCOMPARE(next.dropped, quint64(0));
    QCOMPARE(subscription->totalDropped(), quint64(published - kept));
}

void TestFanoutHub::slowSubscriberDoesNotHoldBackOthers()
{
    constexpr int kMessages = 50'000;
    constexpr int kSlowCapacity = 64;
    FanoutHub hub;

    // The slow subscriber is never drained (its wake does nothing).
    std::atomic<int> slowWakes = 0;
    auto slow = hub.subscribe(kService, kStreamA, kSlowCapacity, [&slowWakes] { ++slowWakes; });
    // The fast one is drained on this thread while the publisher runs on another. Its queue is
    // sized so that it can never drop, whatever the scheduling: what it receives shows what the
    // hub delivered.
    Drainer fast;
    fast.subscription = hub.subscribe(kService, kStreamA, kMessages, fast.wakeFunction());
    auto other = hub.subscribe(kService, kStreamB, 10, {});

    Publisher publisher(hub, kStreamA, kMessages);
    publisher.start();
    // The publisher finishes although nobody ever drains the slow subscriber; meanwhile this
    // thread's event loop runs and drains the fast one.
    QTRY_VERIFY_WITH_TIMEOUT(publisher.isFinished(), 60'000);
    QVERIFY(publisher.wait());
    QCOMPARE(publisher.delivered.load(), qsizetype(2) * kMessages);
    QTRY_COMPARE(fast.received.size(), kMessages);

    QCOMPARE(fast.received, range(0, kMessages)); // one publisher: order kept
    QCOMPARE(fast.dropped, quint64(0));
    QCOMPARE(fast.subscription->totalDropped(), quint64(0));

    QCOMPARE(slowWakes.load(), 1); // woken once, never drained, never woken again
    QCOMPARE(slow->pending(), kSlowCapacity);
    QCOMPARE(slow->totalDropped(), quint64(kMessages - kSlowCapacity));
    const Subscription::Batch batch = slow->drain();
    QCOMPARE(numbersOf(batch.messages), range(kMessages - kSlowCapacity, kSlowCapacity));
    QCOMPARE(batch.dropped, quint64(kMessages - kSlowCapacity));

    QCOMPARE(other->pending(), 0);
}

void TestFanoutHub::wakeOncePerDrainCycle()
{
    FanoutHub hub;
    int wakes = 0;
    auto subscription = hub.subscribe(kService, kStreamA, 100, [&wakes] { ++wakes; });

    QCOMPARE(wakes, 0);
    for (int i = 0; i < 5; ++i)
        hub.publish(message(kStreamA, i));
    QCOMPARE(wakes, 1);
    QCOMPARE(subscription->drain().messages.size(), 5);

    for (int i = 5; i < 8; ++i)
        hub.publish(message(kStreamA, i));
    QCOMPARE(wakes, 2);
    QCOMPARE(numbersOf(subscription->drain().messages), range(5, 3));

    // Draining an empty queue re-enables the wake too.
    QVERIFY(subscription->drain().messages.isEmpty());
    QCOMPARE(wakes, 2);
    hub.publish(message(kStreamA, 8));
    QCOMPARE(wakes, 3);

    // Overflow does not wake again either.
    for (int i = 9; i < 500; ++i)
        hub.publish(message(kStreamA, i));
    QCOMPARE(wakes, 3);
}

void TestFanoutHub::removeStreamMarksAndWakes()
{
    FanoutHub hub;
    int wakesA1 = 0, wakesA2 = 0, wakesB = 0;
    auto a1 = hub.subscribe(kService, kStreamA, 100, [&] { ++wakesA1; });
    auto a2 = hub.subscribe(kService, kStreamA, 100, [&] { ++wakesA2; });
    auto b = hub.subscribe(kService, kStreamB, 100, [&] { ++wakesB; });

    hub.publish(message(kStreamA, 1));
    QCOMPARE(wakesA1, 1); // a1 leaves its message pending: its wake is already pending
    QCOMPARE(a2->drain().messages.size(), 1);

    hub.removeStream(kStreamA);
    QCOMPARE(hub.subscriberCount(kStreamA), 0);
    QCOMPARE(hub.subscriberCount(kStreamB), 1);
    // Removal always wakes, even a subscriber whose earlier wake is still pending.
    QCOMPARE(wakesA1, 2);
    QCOMPARE(wakesA2, 2);
    QCOMPARE(wakesB, 0);

    const Subscription::Batch batchA1 = a1->drain();
    QVERIFY(batchA1.streamRemoved);
    QCOMPARE(numbersOf(batchA1.messages), QList<int>{1}); // what was queued is still delivered
    const Subscription::Batch batchA2 = a2->drain();
    QVERIFY(batchA2.streamRemoved);
    QVERIFY(batchA2.messages.isEmpty());
    QVERIFY(!b->drain().streamRemoved);

    // Nothing reaches a removed subscription, and removing twice wakes nobody again.
    QCOMPARE(hub.publish(message(kStreamA, 2)), 0);
    a1->deliver(message(kStreamA, 3));
    QCOMPARE(a1->pending(), 0);
    hub.removeStream(kStreamA);
    a1->markRemoved();
    QCOMPARE(wakesA1, 2);
    QVERIFY(a1->drain().streamRemoved); // stays removed
}

void TestFanoutHub::unsubscribe()
{
    FanoutHub hub;
    auto a1 = hub.subscribe(kService, kStreamA, 100, {});
    auto a2 = hub.subscribe(kService, kStreamA, 100, {});

    hub.unsubscribe(a1);
    QCOMPARE(hub.subscriberCount(kStreamA), 1);
    QCOMPARE(hub.publish(message(kStreamA, 1)), 1);
    QCOMPARE(a1->pending(), 0);
    QCOMPARE(a2->pending(), 1);

    hub.unsubscribe(a1); // twice: harmless
    hub.unsubscribe(nullptr);
    QCOMPARE(hub.subscriberCount(kStreamA), 1);

    hub.unsubscribe(a2);
    QCOMPARE(hub.subscriberCount(kStreamA), 0);
    QCOMPARE(hub.publish(message(kStreamA, 2)), 0);

    // Unsubscribing is not removal: the subscription is not told the stream is gone.
    QVERIFY(!a2->drain().streamRemoved);
    // A later subscriber of the same stream works as before.
    auto a3 = hub.subscribe(kService, kStreamA, 100, {});
    QCOMPARE(hub.publish(message(kStreamA, 3)), 1);
    QCOMPARE(numbersOf(a3->drain().messages), QList<int>{3});
}

QTEST_GUILESS_MAIN(TestFanoutHub)
#include "tst_fanouthub.moc"
