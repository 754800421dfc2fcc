#include "engine/trafficlog.h"

#include <QTest>
#include <QThread>

using namespace streams;
using namespace Qt::StringLiterals;

namespace {
TrafficEntry entry(const QByteArray &path, const QByteArray &body = {})
{
    TrafficEntry e;
    e.method = "POST";
    e.path = path;
    e.status = 201;
    e.body = body;
    return e;
}
} // namespace

class TestTrafficLog final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsAfterAnIdOldestFirst();
    void theRingKeepsTheNewestAndCountsWhatItDropped();
    void bodiesOnlyWhenKept();
    void appendsFromAnotherThread();
};

void TestTrafficLog::readsAfterAnIdOldestFirst()
{
    TrafficLog log;
    QCOMPARE(log.read(std::nullopt, 10).lastId, 0u);
    for (int i = 1; i <= 5; ++i)
        QCOMPARE(log.append(entry("/" + QByteArray::number(i))), quint64(i));
    const auto recent = log.read(std::nullopt, 2);
    QCOMPARE(recent.entries.size(), 2);
    QCOMPARE(recent.entries.at(0).path, QByteArray("/4"));
    QCOMPARE(recent.entries.at(1).path, QByteArray("/5"));
    QCOMPARE(recent.lastId, 5u);
    const auto after = log.read(2, 2);
    QCOMPARE(after.entries.size(), 2);
    QCOMPARE(after.entries.at(0).id, 3u);
    QCOMPARE(after.entries.at(1).id, 4u);
    QCOMPARE(after.dropped, 0u);
    QVERIFY(log.read(5, 10).entries.isEmpty());
    QVERIFY(log.read(99, 10).entries.isEmpty());
}

void TestTrafficLog::theRingKeepsTheNewestAndCountsWhatItDropped()
{
    TrafficLog log(false, 3);
    for (int i = 1; i <= 10; ++i)
        log.append(entry("/" + QByteArray::number(i)));
    const auto all = log.read(0, 100);
    QCOMPARE(all.entries.size(), 3);
    QCOMPARE(all.entries.first().id, 8u);
    QCOMPARE(all.dropped, 7u); // ids 1 to 7 are gone
    QCOMPARE(log.read(6, 100).dropped, 1u);
    QCOMPARE(log.read(7, 100).dropped, 0u);
}

void TestTrafficLog::bodiesOnlyWhenKept()
{
    TrafficLog without;
    without.append(entry("/m", "Data=%7B%7D"));
    QVERIFY(without.read(std::nullopt, 1).entries.first().body.isNull());
    TrafficLog with(true);
    with.append(entry("/m", "Data=%7B%7D"));
    QCOMPARE(with.read(std::nullopt, 1).entries.first().body, QByteArray("Data=%7B%7D"));
}

void TestTrafficLog::appendsFromAnotherThread()
{
    TrafficLog log;
    std::unique_ptr<QThread> writer(QThread::create([&log] {
        for (int i = 0; i < 1000; ++i)
            log.append(entry("/t"));
    }));
    writer->start();
    QVERIFY(writer->wait(10000));
    QCOMPARE(log.lastId(), 1000u);
    QCOMPARE(log.read(0, 1000).entries.size(), 1000);
}

QTEST_GUILESS_MAIN(TestTrafficLog)
#include "tst_trafficlog.moc"
