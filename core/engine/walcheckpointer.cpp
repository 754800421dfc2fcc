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
}

void WalCheckpointer::attach(sqlite3 *writer)
{
    detach();
    m_writer = writer;
    // Replaces SQLite's automatic checkpoints, which are themselves a WAL hook.
    sqlite3_wal_hook(writer, &WalCheckpointer::walHook, this);
}

void WalCheckpointer::detach()
{
    if (!m_writer)
        return;
    sqlite3_wal_autocheckpoint(m_writer, kSqliteAutocheckpointPages);
    m_writer = nullptr;
}

int WalCheckpointer::walHook(void *self, sqlite3 *db, const char *schema, int pages)
{
    auto *checkpointer = static_cast<WalCheckpointer *>(self);
    if (pages < checkpointer->m_threshold)
        return SQLITE_OK;
    if (pages >= checkpointer->m_threshold * 8) {
        // The thread has not kept up (or cannot checkpoint): do what SQLite would have done.
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        checkpointer->m_byWriter.fetch_add(1);
        return SQLITE_OK;
    }
    bool wake = false;
    {
        std::lock_guard lock(checkpointer->m_mutex);
        wake = !std::exchange(checkpointer->m_requested, true);
    }
    if (wake)
        checkpointer->m_wake.notify_one();
    return SQLITE_OK;
}

void WalCheckpointer::run(const QString &databasePath)
{
    sqlite3 *db = nullptr;
    const QByteArray path = QFile::encodeName(databasePath);
    // NOMUTEX: this connection is used by this thread only.
    if (sqlite3_open_v2(path.constData(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr)
        != SQLITE_OK) {
        qCWarning(lcCheckpoint) << "cannot open" << databasePath
                                << "for checkpoints:" << (db ? sqlite3_errmsg(db) : "out of memory")
                                << "- the writer will checkpoint instead";
        sqlite3_close(db);
        db = nullptr;
    }
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
        if (rc == SQLITE_OK || rc == SQLITE_BUSY) {
            m_run.fetch_add(1);
            if (std::exchange(failing, false))
                qCInfo(lcCheckpoint) << "checkpoints work again";
        } else if (!std::exchange(failing, true)) {
            // Once per run of failures (a full or read-only disk); writes report their own.
            qCWarning(lcCheckpoint) << "checkpoint failed:" << sqlite3_errmsg(db);
        }
        lock.lock();
    }
    lock.unlock();
    sqlite3_close(db);
}

} // namespace streams
