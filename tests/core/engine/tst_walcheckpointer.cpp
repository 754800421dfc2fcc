#include "engine/walcheckpointer.h"

#include <QDeadlineTimer>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
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

// `commits` transactions of `rowsEach` 1 KiB rows, a pause of `pauseUs` after each as between
// an engine's event loop passes; returns the WAL's largest size seen.
qint64 writeRows(sqlite3 *db, const QString &walPath, int commits, int rowsEach, int pauseUs = 0)
{
    sqlite3_stmt *insert = nullptr;
    sqlite3_prepare_v2(
        db, "INSERT INTO rows (payload) VALUES (zeroblob(1024))", -1, &insert, nullptr);
    qint64 largestWal = 0;
    for (int c = 0; c < commits; ++c) {
        sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
        for (int r = 0; r < rowsEach; ++r) {
            sqlite3_step(insert);
            sqlite3_reset(insert);
        }
        if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
            return -1;
        largestWal = std::max(largestWal, QFileInfo(walPath).size());
        if (pauseUs > 0)
            QThread::usleep(pauseUs);
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
        // ~40 MB through the WAL, 100 times what the thread is asked to copy at a time.
        largestWal = writeRows(m_db, m_walPath, 4000, 10, 200);
        QVERIFY(largestWal > 0);
        qInfo() << checkpointer.checkpointsRun() << "checkpoints by the thread copied"
                << checkpointer.pagesCopied() << "pages;" << checkpointer.restsCopiedByWriter()
                << "rests and" << checkpointer.checkpointsByWriter()
                << "whole checkpoints by the writer";
        // The thread did copy pages back (a connection that has not read the file yet
        // "checkpoints" without copying anything); and after it the writer copied the few
        // pages left, so that the WAL could start over.
        QVERIFY(checkpointer.pagesCopied() >= 10 * kThreshold);
        QVERIFY(checkpointer.restsCopiedByWriter() > 0);
        QVERIFY(checkpointer.checkpointsRun() > checkpointer.checkpointsByWriter());
    }
    // Without checkpoints the WAL would hold all ~40 MB; it stayed within the fallback's bound.
    QVERIFY2(largestWal < walBound(kThreshold), qPrintable(QString::number(largestWal)));
    sqlite3_close(std::exchange(m_db, nullptr));
    // The last connection closed and checkpointed the WAL away.
    QVERIFY(!QFileInfo::exists(m_walPath));
    QCOMPARE(rowCount(m_path), 40000);
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
