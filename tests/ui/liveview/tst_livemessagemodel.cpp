// The bounded, batched live model under QAbstractItemModelTester (Fatal): batching, the ring
// buffer's drops, oversized batches, pause/resume, capacity changes and clear, with exact counts.

#include "ui/liveview/livemessagemodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace streams;
using namespace Qt::StringLiterals;

namespace {

QString sidOf(int n)
{
    return QStringLiteral("TZ%1").arg(n, 32, 10, QLatin1Char('0'));
}

/// Messages numbered [first, first + count): sid TZ000…n, data {"n":n}.
QList<StreamMessage> messages(int first, int count)
{
    QList<StreamMessage> list;
    list.reserve(count);
    for (int n = first; n < first + count; ++n) {
        list.append({sidOf(n), QStringLiteral("IS0"), QStringLiteral("TO0"),
            QStringLiteral(R"({"n":%1,"text":"message %1"})").arg(n).toUtf8()});
    }
    return list;
}

/// Records every rowsAboutToBeInserted/Removed as "+first..last" / "-first..last".
class RowLog : public QObject
{
public:
    explicit RowLog(QAbstractItemModel *model)
    {
        connect(model, &QAbstractItemModel::rowsAboutToBeInserted, this,
            [this](const QModelIndex &, int first, int last) {
                events.append(QStringLiteral("+%1..%2").arg(first).arg(last));
            });
        connect(model, &QAbstractItemModel::rowsAboutToBeRemoved, this,
            [this](const QModelIndex &, int first, int last) {
                events.append(QStringLiteral("-%1..%2").arg(first).arg(last));
            });
        connect(model, &QAbstractItemModel::modelAboutToBeReset, this,
            [this] { events.append(QStringLiteral("reset")); });
    }
    QStringList events;
};

} // namespace

class TestLiveMessageModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void columnsAndRoles();
    void previewIsOneTruncatedLine();
    void batchesArrivalsIntoOneInsertPerFlush();
    void flushesOnItsTimer();
    void ringBufferDropsOldestFromTheFront_data();
    void ringBufferDropsOldestFromTheFront();
    void oversizedBatchKeepsOnlyItsNewest();
    void upstreamDropsAreCountedSeparately();
    void pauseCollectsAndResumeFlushes();
    void pauseOverflowKeepsNewestCapacity();
    void shrinkingCapacityDropsFromTheFront();
    void clearRemovesRowsWithoutReset();
    void selectionSurvivesTraffic();
    void rateSample();

private:
    void checkInvariant() const;

    std::unique_ptr<LiveMessageModel> m_model;
};

void TestLiveMessageModel::init()
{
    m_model = std::make_unique<LiveMessageModel>(100);
    // Batches are flushed by hand in most tests; the timer would make counts depend on timing.
    m_model->setFlushInterval(60'000);
    new QAbstractItemModelTester(
        m_model.get(), QAbstractItemModelTester::FailureReportingMode::Fatal, m_model.get());
}

void TestLiveMessageModel::cleanup()
{
    m_model.reset();
}

void TestLiveMessageModel::checkInvariant() const
{
    QCOMPARE(m_model->totalReceived(),
        quint64(m_model->rowCount()) + quint64(m_model->pendingCount()) + m_model->droppedCount());
}

void TestLiveMessageModel::columnsAndRoles()
{
    m_model->appendMessages(messages(7, 1));
    m_model->flush();
    QCOMPARE(m_model->rowCount(), 1);
    QCOMPARE(m_model->columnCount(), 4);
    QCOMPARE(m_model->headerData(0, Qt::Horizontal, Qt::DisplayRole).toString(), u"Time");
    QCOMPARE(m_model->headerData(1, Qt::Horizontal, Qt::DisplayRole).toString(), u"Message SID");
    QCOMPARE(m_model->headerData(2, Qt::Horizontal, Qt::DisplayRole).toString(), u"Size");
    QCOMPARE(m_model->headerData(3, Qt::Horizontal, Qt::DisplayRole).toString(), u"Preview");

    const QByteArray data = R"({"n":7,"text":"message 7"})";
    const QModelIndex sid = m_model->index(0, LiveMessageModel::SidColumn);
    QCOMPARE(sid.data().toString(), sidOf(7));
    QCOMPARE(m_model->index(0, LiveMessageModel::SizeColumn).data().toString(),
        QString::number(data.size()));
    QCOMPARE(m_model->index(0, LiveMessageModel::PreviewColumn).data().toString(),
        QString::fromUtf8(data));
    const QString time = m_model->index(0, LiveMessageModel::TimeColumn).data().toString();
    QVERIFY2(QTime::fromString(time, QStringLiteral("hh:mm:ss.zzz")).isValid(), qPrintable(time));
    QVERIFY(m_model->index(0, LiveMessageModel::PreviewColumn)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(u"\"text\": \"message 7\""));

    const auto message = sid.data(LiveMessageModel::MessageRole).value<LiveMessageModel::Message>();
    QCOMPARE(message.sid, sidOf(7));
    QCOMPARE(message.data, data);
    QVERIFY(qAbs(message.receivedMs - QDateTime::currentMSecsSinceEpoch()) < 60'000);
    QCOMPARE(sid.data(LiveMessageModel::DataRole).toByteArray(), data);
    QCOMPARE(sid.data(LiveMessageModel::ReceivedRole).toDateTime(), message.received());
}

void TestLiveMessageModel::previewIsOneTruncatedLine()
{
    const QString longText(1000, u'é'); // two bytes each: the cut must land on a character
    const QString preview =
        LiveMessageModel::previewText(QStringLiteral(R"({"text":"%1"})").arg(longText).toUtf8());
    QCOMPARE(preview.size(), LiveMessageModel::kPreviewChars);
    QVERIFY(preview.endsWith(QChar(0x2026)));
    QVERIFY(!preview.contains(QChar::ReplacementCharacter));
    QCOMPARE(LiveMessageModel::previewText("{\"a\":\n1}"), u"{\"a\": 1}");
}

void TestLiveMessageModel::batchesArrivalsIntoOneInsertPerFlush()
{
    RowLog log(m_model.get());
    QSignalSpy flushed(m_model.get(), &LiveMessageModel::flushed);
    m_model->appendMessages(messages(0, 10));
    m_model->appendMessages(messages(10, 15));
    QCOMPARE(m_model->rowCount(), 0); // queued, not inserted
    QCOMPARE(m_model->pendingCount(), 25);
    m_model->flush();
    QCOMPARE(log.events, QStringList{u"+0..24"_s}); // `last` inclusive: 25 rows, not 26
    QCOMPARE(m_model->rowCount(), 25);
    QCOMPARE(flushed.size(), 1);
    QCOMPARE(flushed.at(0).at(0).toInt(), 25);
    QCOMPARE(flushed.at(0).at(1).toInt(), 0);

    m_model->flush(); // nothing pending: no signal
    QCOMPARE(log.events.size(), 1);
    m_model->appendMessages(messages(25, 5));
    m_model->flush();
    QCOMPARE(log.events.last(), u"+25..29");
    QCOMPARE(m_model->messageAt(0).sid, sidOf(0));
    QCOMPARE(m_model->messageAt(29).sid, sidOf(29));
    QCOMPARE(m_model->totalReceived(), 30u);
    QCOMPARE(m_model->droppedCount(), 0u);
    checkInvariant();
}

void TestLiveMessageModel::flushesOnItsTimer()
{
    m_model->setFlushInterval(LiveMessageModel::kDefaultFlushIntervalMs);
    QSignalSpy flushed(m_model.get(), &LiveMessageModel::flushed);
    m_model->appendMessages(messages(0, 3));
    m_model->appendMessages(messages(3, 4));
    QVERIFY(flushed.wait(5000));
    QCOMPARE(flushed.size(), 1); // both arrivals in one batch
    QCOMPARE(m_model->rowCount(), 7);
}

void TestLiveMessageModel::ringBufferDropsOldestFromTheFront_data()
{
    QTest::addColumn<QList<int>>("batches");
    QTest::addColumn<QStringList>("events");

    // 1,000 arrivals into a capacity of 100, in several batches.
    QTest::addRow("10 x 100") << QList<int>(10, 100)
                              << QStringList{u"+0..99"_s, u"-0..99"_s, u"+0..99"_s, u"-0..99"_s,
                                     u"+0..99"_s, u"-0..99"_s, u"+0..99"_s, u"-0..99"_s,
                                     u"+0..99"_s, u"-0..99"_s, u"+0..99"_s, u"-0..99"_s,
                                     u"+0..99"_s, u"-0..99"_s, u"+0..99"_s, u"-0..99"_s,
                                     u"+0..99"_s, u"-0..99"_s, u"+0..99"_s};
    QTest::addRow("uneven") << QList<int>{60, 70, 30, 840}
                            << QStringList{u"+0..59"_s, u"-0..29"_s, u"+30..99"_s, u"-0..29"_s,
                                   u"+70..99"_s, u"-0..99"_s, u"+0..99"_s};
    QTest::addRow("one batch over capacity") << QList<int>{50, 1000 - 50 - 1,
        1} << QStringList{u"+0..49"_s, u"-0..49"_s, u"+0..99"_s, u"-0..0"_s, u"+99..99"_s};
}

void TestLiveMessageModel::ringBufferDropsOldestFromTheFront()
{
    QFETCH(QList<int>, batches);
    QFETCH(QStringList, events);
    RowLog log(m_model.get());
    int next = 0;
    for (const int size : batches) {
        m_model->appendMessages(messages(next, size));
        next += size;
        m_model->flush();
        checkInvariant();
    }
    QCOMPARE(next, 1000);
    QCOMPARE(log.events, events);
    QCOMPARE(m_model->rowCount(), 100);
    QCOMPARE(m_model->totalReceived(), 1000u);
    QCOMPARE(m_model->droppedCount(), 900u);
    QCOMPARE(m_model->messageAt(0).sid, sidOf(900));
    QCOMPARE(m_model->messageAt(99).sid, sidOf(999));
    QCOMPARE(m_model->index(99, LiveMessageModel::SidColumn).data().toString(), sidOf(999));
}

void TestLiveMessageModel::oversizedBatchKeepsOnlyItsNewest()
{
    RowLog log(m_model.get());
    m_model->appendMessages(messages(0, 20));
    m_model->flush();
    m_model->appendMessages(messages(20, 350)); // more than the capacity in one batch
    QCOMPARE(m_model->pendingCount(), 100);
    QCOMPARE(m_model->droppedCount(), 250u); // never queued, never inserted
    m_model->flush();
    // The 20 old rows leave once, and only the batch's newest 100 are ever inserted.
    QCOMPARE(log.events, (QStringList{u"+0..19"_s, u"-0..19"_s, u"+0..99"_s}));
    QCOMPARE(m_model->rowCount(), 100);
    QCOMPARE(m_model->droppedCount(), 270u);
    QCOMPARE(m_model->messageAt(0).sid, sidOf(270));
    QCOMPARE(m_model->messageAt(99).sid, sidOf(369));
    // Sequence numbers follow arrival order, including the skipped ones.
    QCOMPARE(m_model->messageAt(99).sequence - m_model->messageAt(0).sequence, 99u);
    QCOMPARE(m_model->rowOfSequence(m_model->messageAt(42).sequence), 42);
    QCOMPARE(m_model->rowOfSequence(1), -1);
    checkInvariant();
}

void TestLiveMessageModel::upstreamDropsAreCountedSeparately()
{
    m_model->appendMessages(messages(0, 5), 3);
    m_model->appendMessages({}, 4);
    m_model->flush();
    QCOMPARE(m_model->droppedUpstreamCount(), 7u);
    QCOMPARE(m_model->droppedCount(), 0u);
    QCOMPARE(m_model->totalReceived(), 5u);
    checkInvariant();
}

void TestLiveMessageModel::pauseCollectsAndResumeFlushes()
{
    m_model->setFlushInterval(LiveMessageModel::kDefaultFlushIntervalMs);
    RowLog log(m_model.get());
    m_model->appendMessages(messages(0, 30));
    m_model->flush();
    QSignalSpy paused(m_model.get(), &LiveMessageModel::pausedChanged);
    m_model->setPaused(true);
    QCOMPARE(paused.size(), 1);
    m_model->appendMessages(messages(30, 40));
    m_model->appendMessages(messages(70, 20));
    m_model->flush(); // a no-op while paused
    QSignalSpy flushed(m_model.get(), &LiveMessageModel::flushed);
    QVERIFY(!flushed.wait(4 * LiveMessageModel::kDefaultFlushIntervalMs)); // nor is the timer
    QCOMPARE(m_model->rowCount(), 30);
    QCOMPARE(m_model->pendingCount(), 60);
    QCOMPARE(log.events, QStringList{u"+0..29"_s});
    checkInvariant();

    m_model->setPaused(false);
    // 30 + 60 fit the capacity: nothing lost, one insert.
    QCOMPARE(log.events, (QStringList{u"+0..29"_s, u"+30..89"_s}));
    QCOMPARE(m_model->rowCount(), 90);
    QCOMPARE(m_model->pendingCount(), 0);
    QCOMPARE(m_model->droppedCount(), 0u);
    QCOMPARE(m_model->messageAt(0).sid, sidOf(0));
    QCOMPARE(m_model->messageAt(89).sid, sidOf(89));
    checkInvariant();
}

void TestLiveMessageModel::pauseOverflowKeepsNewestCapacity()
{
    RowLog log(m_model.get());
    m_model->appendMessages(messages(0, 80));
    m_model->flush();
    m_model->setPaused(true);
    for (int n = 80; n < 380; n += 60)
        m_model->appendMessages(messages(n, 60)); // 300 while paused, in batches
    QCOMPARE(m_model->rowCount(), 80); // the frozen view is untouched
    QCOMPARE(m_model->pendingCount(), 100); // bounded by the capacity
    QCOMPARE(m_model->droppedCount(), 200u);
    checkInvariant();

    m_model->setPaused(false);
    QCOMPARE(log.events, (QStringList{u"+0..79"_s, u"-0..79"_s, u"+0..99"_s}));
    QCOMPARE(m_model->rowCount(), 100);
    QCOMPARE(m_model->droppedCount(), 280u);
    QCOMPARE(m_model->messageAt(0).sid, sidOf(280));
    QCOMPARE(m_model->messageAt(99).sid, sidOf(379));
    QCOMPARE(m_model->totalReceived(), 380u);
    checkInvariant();
}

void TestLiveMessageModel::shrinkingCapacityDropsFromTheFront()
{
    RowLog log(m_model.get());
    m_model->appendMessages(messages(0, 100));
    m_model->flush();
    m_model->setCapacity(40);
    QCOMPARE(log.events.last(), u"-0..59");
    QCOMPARE(m_model->rowCount(), 40);
    QCOMPARE(m_model->droppedCount(), 60u);
    QCOMPARE(m_model->messageAt(0).sid, sidOf(60));
    checkInvariant();

    m_model->setCapacity(200); // growing drops nothing and keeps everything after it
    m_model->appendMessages(messages(100, 150));
    m_model->flush();
    QCOMPARE(m_model->rowCount(), 190);
    QCOMPARE(m_model->messageAt(0).sid, sidOf(60));
    QCOMPARE(m_model->messageAt(189).sid, sidOf(249));
    checkInvariant();
}

void TestLiveMessageModel::clearRemovesRowsWithoutReset()
{
    RowLog log(m_model.get());
    m_model->appendMessages(messages(0, 150), 2);
    m_model->flush();
    m_model->appendMessages(messages(150, 10)); // still pending at Clear
    m_model->clear();
    QCOMPARE(log.events, (QStringList{u"+0..99"_s, u"-0..99"_s}));
    QCOMPARE(m_model->rowCount(), 0);
    QCOMPARE(m_model->pendingCount(), 0);
    QCOMPARE(m_model->totalReceived(), 0u);
    QCOMPARE(m_model->droppedCount(), 0u);
    QCOMPARE(m_model->droppedUpstreamCount(), 0u);
    m_model->flush();
    QCOMPARE(m_model->rowCount(), 0); // the pending ten went with the Clear

    m_model->appendMessages(messages(500, 3));
    m_model->flush();
    QCOMPARE(m_model->rowCount(), 3);
    QCOMPARE(m_model->messageAt(0).sid, sidOf(500));
    checkInvariant();
}

void TestLiveMessageModel::selectionSurvivesTraffic()
{
    m_model->appendMessages(messages(0, 50));
    m_model->flush();
    const QPersistentModelIndex selected = m_model->index(30, LiveMessageModel::SidColumn);
    m_model->appendMessages(messages(50, 70)); // evicts 20 from the front
    m_model->flush();
    QVERIFY(selected.isValid());
    QCOMPARE(selected.row(), 10);
    QCOMPARE(selected.data().toString(), sidOf(30));
    m_model->appendMessages(messages(120, 95)); // evicts the selected one
    m_model->flush();
    QVERIFY(!selected.isValid());
}

void TestLiveMessageModel::rateSample()
{
    QSignalSpy sampled(m_model.get(), &LiveMessageModel::rateSampled);
    m_model->sampleRate(); // start a fresh one-second sample
    QCOMPARE(sampled.size(), 1);
    m_model->appendMessages(messages(0, 500));
    QVERIFY(sampled.wait(5000)); // the timer ends the sample about a second later
    const double rate = sampled.last().at(0).toDouble();
    // 500 arrivals in a sample of about one second (a late timer only lowers the figure).
    QVERIFY2(rate > 0.0 && rate <= 600.0, qPrintable(QString::number(rate)));
    QCOMPARE(m_model->messageRate(), rate);
    m_model->sampleRate();
    QCOMPARE(sampled.last().at(0).toDouble(), 0.0);
}

QTEST_MAIN(TestLiveMessageModel)
#include "tst_livemessagemodel.moc"
