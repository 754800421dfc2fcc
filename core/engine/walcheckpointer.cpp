#include "engine/walcheckpointer.h"

#include <QFile>
#include <QLoggingCategory>
#include <sqlite3.h>

namespace streams {

namespace {
// SQLite's own default for PRAGMA wal_autocheckpoint, in pages.
constexpr int kSqliteAutocheckpointPages = 1000;
} // namespace

Q_LOGGING_CATEGORY(lcCheckpoint, "streams.engine.checkpoint", QtInfoMsg)

WalCheckpointer::WalCheckpointer(const QString &databasePath, int thresholdPages)
    : m_threshold(thresholdPages), m_thread([this, databasePath] { run(databasePath); })
{ }

WalCheckpointer::~WalCheckpointer()
{
    detach();
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    m_thread.join();
    qCDebug(lcCheckpoint) << "checkpoints:" << m_run.load() << "of" << m_requests.load()
                          << "asked for run by the thread (" << m_pagesCopied.load() << "pages),"
                          << m_restsByWriter.load() << "rests copied by the writer,"
                          << m_byWriter.load() << "run in full by the writer";
}

void WalCheckpointer::attach(sqlite3 *writer)
{
    m_writers.push_back(writer);
    // Replaces SQLite's automatic checkpoints, which are themselves a WAL hook.
    sqlite3_wal_hook(writer, &WalCheckpointer::walHook, this);
}

void WalCheckpointer::detach()
{
    for (sqlite3 *writer : std::exchange(m_writers, {}))
        sqlite3_wal_autocheckpoint(writer, kSqliteAutocheckpointPages);
}

int WalCheckpointer::walHook(void *self, sqlite3 *db, const char *schema, int pages)
{
    auto *checkpointer = static_cast<WalCheckpointer *>(self);
    if (pages < std::exchange(checkpointer->m_lastWalPages, pages))
        checkpointer->m_backfilled.store(0); // the WAL started over
    if (pages < checkpointer->m_threshold)
        return SQLITE_OK;
    if (pages >= checkpointer->m_threshold * 8) {
        // The thread has not kept up (or cannot checkpoint): do what SQLite would have done.
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        checkpointer->m_byWriter.fetch_add(1);
        return SQLITE_OK;
    }
    const int behind = pages - checkpointer->m_backfilled.load();
    if (behind <= checkpointer->m_threshold / 4) {
        // The rest, so the WAL can start over. While the thread is itself checkpointing this
        // returns SQLITE_BUSY at once, and the next commit tries again.
        int walPages = 0;
        int copied = 0;
        if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &walPages, &copied)
                == SQLITE_OK
            && copied == walPages) {
            checkpointer->m_restsByWriter.fetch_add(1);
            return SQLITE_OK;
        }
    }
    if (behind < checkpointer->m_threshold)
        return SQLITE_OK; // the thread is at work on it, or has just been asked
    bool wake = false;
    {
        std::lock_guard lock(checkpointer->m_mutex);
        wake = !std::exchange(checkpointer->m_requested, true);
        if (wake)
            checkpointer->m_requests.fetch_add(1); // before the thread can count its run
    }
    if (wake)
        checkpointer->m_wake.notify_one();
    return SQLITE_OK;
}

namespace {
// A connection to `path` that has read the file's header, so it knows the file is in WAL mode
// (until then a checkpoint through it does nothing and says so only by returning -1 frames).
sqlite3 *openForCheckpoints(const QString &path)
{
    sqlite3 *db = nullptr;
    const QByteArray name = QFile::encodeName(path);
    // NOMUTEX: only the checkpoint thread uses this connection.
    int rc = sqlite3_open_v2(
        name.constData(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    QByteArray mode;
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(
            db, "PRAGMA journal_mode",
            [](void *out, int, char **values, char **) {
                *static_cast<QByteArray *>(out) = values[0];
                return 0;
            },
            &mode, nullptr);
    }
    if (rc == SQLITE_OK && mode == "wal")
        return db;
    qCWarning(lcCheckpoint) << "cannot checkpoint" << path << "from a thread of its own:"
                            << (rc != SQLITE_OK
                                       ? QByteArray(db ? sqlite3_errmsg(db) : "out of memory")
                                       : "journal mode " + mode + ", not wal")
                            << "- the writer will checkpoint instead";
    sqlite3_close(db);
    return nullptr;
}
} // namespace

void WalCheckpointer::run(const QString &databasePath)
{
    sqlite3 *db = openForCheckpoints(databasePath);
    bool failing = false;
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_requested || m_stopping; });
        if (m_stopping)
            break;
        m_requested = false;
        if (!db)
            continue; // the writer's fallback takes over at 8 × the threshold
        lock.unlock();
        int walPages = 0;
        int copied = 0;
        const int rc =
            sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &walPages, &copied);
        if (rc == SQLITE_OK) {
            m_pagesCopied.fetch_add(quint64(std::max(0, copied - m_backfilled.load())));
            m_backfilled.store(copied);
            m_run.fetch_add(1);
            if (std::exchange(failing, false))
                qCInfo(lcCheckpoint) << "checkpoints work again";
        } else if (rc != SQLITE_BUSY && !std::exchange(failing, true)) {
            // Once per run of failures (a full or read-only disk); writes report their own.
            qCWarning(lcCheckpoint) << "checkpoint failed:" << sqlite3_errmsg(db);
        }
        lock.lock();
    }
    lock.unlock();
    sqlite3_close(db);
}

} // namespace streams
