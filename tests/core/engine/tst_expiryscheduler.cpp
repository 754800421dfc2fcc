#include "api/sid.h"
#include "engine/expiryscheduler.h"
#include "engine/streamstore.h"
#include "manualclock.h"

#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace streams;
using namespace Qt::StringLiterals;

namespace {
const QString kAccount = QStringLiteral("AC0123456789abcdef0123456789abcdef");
constexpr qint64 kStartSeconds = 1'795'000'000;
constexpr qint64 kStartMs = kStartSeconds * 1000;
} // namespace

class TestExpiryScheduler final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void armsForTheEarliestExpiry_data();
    void armsForTheEarliestExpiry();
    void sweepRemovesExactlyTheDueStreams_data();
    void sweepRemovesExactlyTheDueStreams();
    void noteExpiry_data();
    void noteExpiry();
    void expiredWhileDownAreSweptOnStart();
    void timerFiresAtTheExpiry();
    void timerRearmsWhenNothingIsDueYet();

private:
    QString addStream(std::optional<qint64> ttlSeconds);
    QSet<QString> takeRemoved();
    std::unique_ptr<ExpiryScheduler> makeScheduler();

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<StreamStore> m_store;
    QString m_serviceSid;
    QList<StreamStore::RemovedStream> m_removed;
    int m_handlerCalls = 0;
};

void TestExpiryScheduler::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_clock = std::make_unique<ManualClock>(kStartMs);
    auto store = StreamStore::open(m_dir->filePath(QStringLiteral("streams.sqlite")));
    QVERIFY2(store, qPrintable(store ? QString() : store.error()));
    m_store = std::move(*store);
    Service service;
    service.sid = sid::generate(SidKind::Service);
    service.accountSid = kAccount;
    service.dateCreated = service.dateUpdated = kStartSeconds;
    QVERIFY(m_store->insertService(service));
    m_serviceSid = service.sid;
    m_removed.clear();
    m_handlerCalls = 0;
}

void TestExpiryScheduler::cleanup()
{
    m_store.reset();
    m_clock.reset();
    m_dir.reset();
}

QString TestExpiryScheduler::addStream(std::optional<qint64> ttlSeconds)
{
    Stream stream;
    stream.sid = sid::generate(SidKind::Stream);
    stream.accountSid = kAccount;
    stream.serviceSid = m_serviceSid;
    stream.createdBy = QStringLiteral("system");
    stream.dateCreated = stream.dateUpdated = m_clock->nowSeconds();
    if (ttlSeconds)
        stream.dateExpires = m_clock->nowSeconds() + *ttlSeconds;
    if (!m_store->insertStream(stream))
        return QString();
    return stream.sid;
}

QSet<QString> TestExpiryScheduler::takeRemoved()
{
    QSet<QString> sids;
    for (const auto &removed : std::as_const(m_removed)) {
        if (removed.serviceSid == m_serviceSid)
            sids.insert(removed.streamSid);
        else
            sids.insert(QStringLiteral("wrong service: ") + removed.streamSid);
    }
    m_removed.clear();
    return sids;
}

std::unique_ptr<ExpiryScheduler> TestExpiryScheduler::makeScheduler()
{
    return std::make_unique<ExpiryScheduler>(
        *m_store, *m_clock, [this](const QList<StreamStore::RemovedStream> &removed) {
            ++m_handlerCalls;
            m_removed += removed;
        });
}

void TestExpiryScheduler::armsForTheEarliestExpiry_data()
{
    QTest::addColumn<QList<qint64>>("ttls"); // 0 = no expiry
    QTest::addColumn<qint64>("earliest"); // 0 = not armed

    QTest::addRow("no streams") << QList<qint64>{} << qint64(0);
    QTest::addRow("none expire") << QList<qint64>{0, 0} << qint64(0);
    QTest::addRow("one") << QList<qint64>{60} << qint64(60);
    QTest::addRow("earliest first") << QList<qint64>{10, 20, 30} << qint64(10);
    QTest::addRow("earliest last") << QList<qint64>{300, 200, 5} << qint64(5);
    QTest::addRow("mixed with no expiry")
        << QList<qint64>{0, 3600, 0, 120, 31'536'000} << qint64(120);
    QTest::addRow("ties") << QList<qint64>{7, 7, 7} << qint64(7);
}

void TestExpiryScheduler::armsForTheEarliestExpiry()
{
    QFETCH(QList<qint64>, ttls);
    QFETCH(qint64, earliest);

    for (const qint64 ttl : ttls)
        QVERIFY(!addStream(ttl > 0 ? std::optional<qint64>(ttl) : std::nullopt).isEmpty());
    auto scheduler = makeScheduler();
    QCOMPARE(scheduler->armedFor(), std::optional<qint64>());
    scheduler->start();
    // One scheduler armed for the earliest expiry, not a timer per stream.
    QCOMPARE(scheduler->armedFor(),
        earliest ? std::optional<qint64>(kStartSeconds + earliest) : std::nullopt);
    QCOMPARE(m_handlerCalls, 0);
}

void TestExpiryScheduler::sweepRemovesExactlyTheDueStreams_data()
{
    QTest::addColumn<qint64>("advanceMs");
    QTest::addColumn<QStringList>("expectedRemoved"); // names from the fixture below
    QTest::addColumn<qint64>("nextArmed"); // seconds after start; 0 = not armed

    // Fixture: a = 10 s, b = 20 s, c = 20 s, d = 30 s, e = never.
    QTest::addRow("just before the first") << qint64(9'999) << QStringList() << qint64(10);
    QTest::addRow("exactly the first") << qint64(10'000) << QStringList{u"a"_s} << qint64(20);
    QTest::addRow("between") << qint64(15'500) << QStringList{u"a"_s} << qint64(20);
    QTest::addRow("the tied pair")
        << qint64(20'000) << QStringList{u"a"_s, u"b"_s, u"c"_s} << qint64(30);
    QTest::addRow("all that expire")
        << qint64(30'000) << QStringList{u"a"_s, u"b"_s, u"c"_s, u"d"_s} << qint64(0);
    QTest::addRow("long after") << qint64(86'400'000) << QStringList{u"a"_s, u"b"_s, u"c"_s, u"d"_s}
                                << qint64(0);
}

void TestExpiryScheduler::sweepRemovesExactlyTheDueStreams()
{
    QFETCH(qint64, advanceMs);
    QFETCH(QStringList, expectedRemoved);
    QFETCH(qint64, nextArmed);

    const QHash<QString, QString> sids{
        {u"a"_s, addStream(10)},
        {u"b"_s, addStream(20)},
        {u"c"_s, addStream(20)},
        {u"d"_s, addStream(30)},
        {u"e"_s, addStream(std::nullopt)},
    };
    auto scheduler = makeScheduler();
    scheduler->start();
    QCOMPARE(scheduler->armedFor(), std::optional<qint64>(kStartSeconds + 10));

    m_clock->advanceMs(advanceMs);
    scheduler->sweep();

    QSet<QString> expected;
    for (const QString &name : std::as_const(expectedRemoved))
        expected.insert(sids.value(name));
    QCOMPARE(takeRemoved(), expected);
    QCOMPARE(m_handlerCalls, expected.isEmpty() ? 0 : 1); // one report per sweep, not per stream
    QCOMPARE(scheduler->armedFor(),
        nextArmed ? std::optional<qint64>(kStartSeconds + nextArmed) : std::nullopt);
    QCOMPARE(m_store->streamCount().value(), qint64(5 - expected.size()));
    QVERIFY(
        m_store->findStream(m_serviceSid, sids.value(u"e"_s), m_clock->nowSeconds())->has_value());

    // A second sweep at the same instant finds nothing more.
    scheduler->sweep();
    QVERIFY(takeRemoved().isEmpty());
}

void TestExpiryScheduler::noteExpiry_data()
{
    QTest::addColumn<qint64>("noted");
    QTest::addColumn<qint64>("armed");

    // Armed for +100 from the store; a sooner note re-arms, a later one does not.
    QTest::addRow("sooner") << qint64(50) << qint64(50);
    QTest::addRow("same") << qint64(100) << qint64(100);
    QTest::addRow("later") << qint64(500) << qint64(100);
}

void TestExpiryScheduler::noteExpiry()
{
    QFETCH(qint64, noted);
    QFETCH(qint64, armed);

    QVERIFY(!addStream(100).isEmpty());
    auto scheduler = makeScheduler();
    scheduler->start();
    QCOMPARE(scheduler->armedFor(), std::optional<qint64>(kStartSeconds + 100));
    scheduler->noteExpiry(kStartSeconds + noted);
    QCOMPARE(scheduler->armedFor(), std::optional<qint64>(kStartSeconds + armed));

    // Not armed at all: any note arms.
    QVERIFY(m_store->deleteExpired(kStartSeconds + 1000));
    auto idle = makeScheduler();
    idle->start();
    QCOMPARE(idle->armedFor(), std::optional<qint64>());
    idle->noteExpiry(kStartSeconds + noted);
    QCOMPARE(idle->armedFor(), std::optional<qint64>(kStartSeconds + noted));
}

void TestExpiryScheduler::expiredWhileDownAreSweptOnStart()
{
    const QString early = addStream(60);
    const QString late = addStream(120);
    const QString later = addStream(7200);
    const QString never = addStream(std::nullopt);
    const QString path = m_dir->filePath(QStringLiteral("streams.sqlite"));
    m_store.reset(); // the engine goes down

    // ...and comes back 90 minutes later.
    m_clock->setNowMs(kStartMs + 90 * 60 * 1000);
    auto store = StreamStore::open(path);
    QVERIFY(store);
    m_store = std::move(*store);
    auto scheduler = makeScheduler();
    QCOMPARE(m_handlerCalls, 0);
    scheduler->start();

    QCOMPARE(m_handlerCalls, 1);
    QCOMPARE(takeRemoved(), (QSet<QString>{early, late}));
    QCOMPARE(scheduler->armedFor(), std::optional<qint64>(kStartSeconds + 7200));
    QCOMPARE(m_store->streamCount().value(), qint64(2));
    QVERIFY(m_store->findStream(m_serviceSid, later, m_clock->nowSeconds())->has_value());
    QVERIFY(m_store->findStream(m_serviceSid, never, m_clock->nowSeconds())->has_value());
}

void TestExpiryScheduler::timerFiresAtTheExpiry()
{
    const QString sid = addStream(30);
    QVERIFY(!addStream(3600).isEmpty());
    // Start 150 ms before the expiry: the one timer is armed for 150 ms of real time.
    m_clock->setNowMs(kStartMs + 30'000 - 150);
    auto scheduler = makeScheduler();
    scheduler->start();
    QVERIFY(m_removed.isEmpty());
    QCOMPARE(scheduler->armedFor(), std::optional<qint64>(kStartSeconds + 30));

    // Time passes; nobody calls sweep(): the timer must.
    m_clock->setNowMs(kStartMs + 30'000);
    QTRY_COMPARE(m_handlerCalls, 1);
    QCOMPARE(takeRemoved(), QSet<QString>{sid});
    QCOMPARE(scheduler->armedFor(), std::optional<qint64>(kStartSeconds + 3600));
    QCOMPARE(m_store->streamCount().value(), qint64(1));
}

void TestExpiryScheduler::timerRearmsWhenNothingIsDueYet()
{
    const QString sid = addStream(30);
    m_clock->setNowMs(kStartMs + 30'000 - 20);
    auto scheduler = makeScheduler();
    scheduler->start();

    // The manual clock stands still, so the scheduler's 20 ms timer fires before the stream is
    // due; it must re-arm, not give up. A 100 ms witness timer fires after it (Qt fires timers
    // in order of their deadlines).
    QTimer witness;
    witness.setSingleShot(true);
    witness.setTimerType(Qt::PreciseTimer);
    QSignalSpy witnessFired(&witness, &QTimer::timeout);
    witness.start(100);
    QVERIFY(witnessFired.wait());
    QCOMPARE(m_handlerCalls, 0);
    QVERIFY(m_store->findStream(m_serviceSid, sid, m_clock->nowSeconds())->has_value());
    QCOMPARE(scheduler->armedFor(), std::optional<qint64>(kStartSeconds + 30));

    m_clock->advanceMs(20);
    QTRY_COMPARE(m_handlerCalls, 1);
    QCOMPARE(takeRemoved(), QSet<QString>{sid});
    QCOMPARE(scheduler->armedFor(), std::optional<qint64>());
}

QTEST_GUILESS_MAIN(TestExpiryScheduler)
#include "tst_expiryscheduler.moc"
