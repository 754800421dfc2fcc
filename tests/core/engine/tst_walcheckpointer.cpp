#include "engine/walcheckpointer.h"

#include <QDeadlineTimer>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <functional>
#include <sqlite3.h>

using namespace streams;

namespace {
// A connection in WAL mode with SQLite's automatic checkpoints, as StreamStore opens its file.
sqlite3 *openWriter(const QString &path)
{
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db,
            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr)
        != SQLITE_OK)
        return nullptr;
    sqlite3_exec(db,
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)",
        nullptr, nullptr, nullptr);
    return db;
}

// `commits` transactions of `rowsEach` 1 KiB rows; after each, `afterCommit` (if any) runs as
// the engine's event loop would between two passes, and a false from it stops the writing.
// Returns the WAL's largest size seen, or -1 if a commit failed or was stopped.
qint64 writeRows(sqlite3 *db, const QString &walPath, int commits, int rowsEach,
    const std::function<bool()> &afterCommit = {})
{
    sqlite3_stmt *insert = nullptr;
    sqlite3_prepare_v2(
        db, "INSERT INTO rows (payload) VALUES (zeroblob(1024))", -1, &insert, nullptr);
    qint64 largestWal = 0;
    for (int c = 0; c < commits && largestWal >= 0; ++c) {
        sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
        for (int r = 0; r < rowsEach; ++r) {
            sqlite3_step(insert);
            sqlite3_reset(insert);
        }
        if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK
            || (afterCommit && !afterCommit()))
            largestWal = -1;
        else
            largestWal = std::max(largestWal, QFileInfo(walPath).size());
    }
    sqlite3_finalize(insert);
    return largestWal;
}

qint64 rowCount(const QString &path)
{
    sqlite3 *db = nullptr;
    sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt *count = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM rows", -1, &count, nullptr);
    const qint64 rows = sqlite3_step(count) == SQLITE_ROW ? sqlite3_column_int64(count, 0) : -1;
    sqlite3_finalize(count);
    sqlite3_close(db);
    return rows;
}
} // namespace

class TestWalCheckpointer final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void checkpointsOnItsOwnThread();
    void writerCopiesTheRestTheThreadLeft();
    void writerCheckpointsWhenTheThreadCannot();
    void detachGivesSqliteItsCheckpointsBack();

private:
    // Each test: a fresh file in WAL mode and the writer's connection to it.
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_path;
    QString m_walPath;
    sqlite3 *m_db = nullptr;
};

namespace {
// What the WAL may grow to while a checkpointer with `thresholdPages` is attached: the writer's
// fallback bound (8 x threshold pages of 4 KiB), plus a commit's worth on top.
constexpr qint64 walBound(int thresholdPages)
{
    return 8 * thresholdPages * 4096 + 512 * 1024;
}

// Frames in the WAL file at `walPath` of 4 KiB pages (as SQLite never shrinks it while
// connections are open, the most it has held since it was made).
qint64 walFrames(const QString &walPath)
{
    constexpr qint64 kHeader = 32;
    constexpr qint64 kFrame = 24 + 4096;
    return std::max<qint64>(0, QFileInfo(walPath).size() - kHeader) / kFrame;
}

// Waits until the thread has done every checkpoint it was asked for; false after 10 s.
bool waitForTheThread(const WalCheckpointer &checkpointer)
{
    const QDeadlineTimer deadline(std::chrono::seconds(10));
    while (checkpointer.checkpointsRun() < checkpointer.checkpointsRequested()) {
        if (deadline.hasExpired())
            return false;
        QThread::usleep(100);
    }
    return true;
}
} // namespace

void TestWalCheckpointer::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_path = m_dir->filePath(QStringLiteral("data.sqlite"));
    m_walPath = m_path + QStringLiteral("-wal");
    m_db = openWriter(m_path);
    QVERIFY(m_db);
}

void TestWalCheckpointer::cleanup()
{
    sqlite3_close(std::exchange(m_db, nullptr));
    m_dir.reset();
}

void TestWalCheckpointer::checkpointsOnItsOwnThread()
{
    constexpr int kThreshold = 100; // pages
    qint64 largestWal = 0;
    {
        WalCheckpointer checkpointer(m_path, kThreshold);
        checkpointer.attach(m_db);
        // ~40 MB through the WAL, 100 times what the thread is asked to copy at a time. Between
        // commits the writer leaves the thread the time to do what it was asked, as an idle
        // engine's event loop does. How soon the thread gets a core (late under ASan, with
        // every test running at once) is for the benchmarks to measure, not for this test.
        bool answered = true;
        largestWal = writeRows(
            m_db, m_walPath, 4000, 10, [&] { return answered = waitForTheThread(checkpointer); });
        QVERIFY2(answered, "the thread left a checkpoint it was asked for undone for 10 s");
        QVERIFY(largestWal > 0);
        qInfo() << checkpointer.checkpointsRun() << "checkpoints by the thread copied"
                << checkpointer.pagesCopied() << "pages;" << checkpointer.restsCopiedByWriter()
                << "rests and" << checkpointer.checkpointsByWriter()
                << "whole checkpoints by the writer";
        // The thread did copy pages back (a connection that has not read the file yet
        // "checkpoints" without copying anything), every time it was asked, and the writer
        // never had to.
        QVERIFY(checkpointer.pagesCopied() >= 10 * kThreshold);
        QVERIFY(checkpointer.checkpointsRun() >= 10);
        QCOMPARE(checkpointer.checkpointsRun(), checkpointer.checkpointsRequested());
        QCOMPARE(checkpointer.checkpointsByWriter(), 0u);
    }
    // Without checkpoints the WAL would hold all ~40 MB. Each checkpoint copied all of it, so
    // the next commit started it over: it never grew much past the threshold.
    QVERIFY2(largestWal < 2 * kThreshold * 4096, qPrintable(QString::number(largestWal)));
    sqlite3_close(std::exchange(m_db, nullptr));
    // The last connection closed and checkpointed the WAL away.
    QVERIFY(!QFileInfo::exists(m_walPath));
    QCOMPARE(rowCount(m_path), 40000);
}

void TestWalCheckpointer::writerCopiesTheRestTheThreadLeft()
{
    // The case of a busy engine, made to happen here on purpose: the thread's checkpoint
    // cannot copy the frames committed after a reader's snapshot (under load, after the
    // checkpoint's own start), so the WAL cannot start over until the writer copies them.
    constexpr int kThreshold = 100;
    WalCheckpointer checkpointer(m_path, kThreshold);
    checkpointer.attach(m_db);
    const auto oneRowAtATime = [&](const std::function<bool()> &until) {
        for (int i = 0; i < 1000 && !until(); ++i)
            QVERIFY(writeRows(m_db, m_walPath, 1, 1) > 0);
        QVERIFY(until());
    };
    oneRowAtATime([&] { return walFrames(m_walPath) >= kThreshold - 10; });
    QCOMPARE(checkpointer.checkpointsRequested(), 0u);

    // A reader's snapshot of all but the last few frames the thread is about to be asked for.
    sqlite3 *reader = nullptr;
    QCOMPARE(sqlite3_open_v2(
                 QFile::encodeName(m_path).constData(), &reader, SQLITE_OPEN_READONLY, nullptr),
        SQLITE_OK);
    QCOMPARE(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM rows", nullptr, nullptr, nullptr),
        SQLITE_OK);
    const qint64 snapshot = walFrames(m_walPath);
    oneRowAtATime([&] { return checkpointer.checkpointsRequested() == 1; });
    QVERIFY(waitForTheThread(checkpointer));
    QCOMPARE(checkpointer.checkpointsRun(), 1u);
    QCOMPARE(qint64(checkpointer.pagesCopied()), snapshot); // up to the snapshot and no further
    QCOMPARE(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(reader);

    // The next commit finds only a few frames left behind, and copies them itself.
    QCOMPARE(checkpointer.restsCopiedByWriter(), 0u);
    QVERIFY(writeRows(m_db, m_walPath, 1, 1) > 0);
    QCOMPARE(checkpointer.restsCopiedByWriter(), 1u);
    QCOMPARE(checkpointer.checkpointsByWriter(), 0u);
    // So the WAL started over: the commit after it wrote at its start.
    const qint64 framesBefore = walFrames(m_walPath);
    QVERIFY(writeRows(m_db, m_walPath, 1, 1) > 0);
    QCOMPARE(walFrames(m_walPath), framesBefore);
    QCOMPARE(checkpointer.checkpointsRequested(), 1u);
}

void TestWalCheckpointer::writerCheckpointsWhenTheThreadCannot()
{
    constexpr int kThreshold = 100;
    qint64 largestWal = 0;
    {
        // A path the thread cannot open (no such directory): it never checkpoints.
        QTest::ignoreMessage(
            QtWarningMsg, QRegularExpression(QStringLiteral("cannot checkpoint .*")));
        WalCheckpointer checkpointer(
            m_dir->filePath(QStringLiteral("missing/data.sqlite")), kThreshold);
        checkpointer.attach(m_db);
        largestWal = writeRows(m_db, m_walPath, 400, 100);
        QCOMPARE(checkpointer.checkpointsRun(), 0u);
        QCOMPARE(checkpointer.pagesCopied(), 0u);
        QVERIFY(checkpointer.checkpointsByWriter() > 0);
    }
    QVERIFY2(largestWal < walBound(kThreshold), qPrintable(QString::number(largestWal)));
    sqlite3_close(std::exchange(m_db, nullptr));
    QCOMPARE(rowCount(m_path), 40000);
}

void TestWalCheckpointer::detachGivesSqliteItsCheckpointsBack()
{
    {
        WalCheckpointer checkpointer(m_path, 100);
        checkpointer.attach(m_db);
        checkpointer.detach();
        // SQLite's own checkpoints again (every 1,000 pages): the WAL stays near 4 MB, and
        // nothing reached this thread.
        const qint64 largestWal = writeRows(m_db, m_walPath, 400, 100);
        QVERIFY2(largestWal < 1000 * 4096 + 512 * 1024, qPrintable(QString::number(largestWal)));
        QCOMPARE(checkpointer.checkpointsRun(), 0u);
        QCOMPARE(checkpointer.checkpointsByWriter(), 0u);
    }
    sqlite3_close(std::exchange(m_db, nullptr));
    QCOMPARE(rowCount(m_path), 40000);
}

QTEST_GUILESS_MAIN(TestWalCheckpointer)
#include "tst_walcheckpointer.moc"
