#pragma once

#include <QString>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

struct sqlite3;

namespace streams {

/// Runs SQLite's WAL checkpoints on a thread and connection of its own, so the thread that
/// writes (the engine's, which also answers every request) never waits for one.
///
/// Left to itself, SQLite checkpoints inside the COMMIT that takes the WAL past 1,000 pages:
/// ~4 MB copied back into the database file and two fdatasync() calls, a stall of several
/// milliseconds every few thousand creates, which the engine's thread spends waiting. attach()
/// replaces that with a WAL hook that only wakes this thread, which runs a PASSIVE checkpoint (one
/// that never blocks a writer or a reader).
///
/// A checkpoint that runs while commits go on never copies the very last frames, and SQLite
/// starts the WAL over only once all of them are copied. So when the thread has left no more
/// than a quarter of the threshold behind, the writer copies that rest itself after a commit
/// (a millisecond or two), and its next transaction starts the WAL over. Should the thread
/// fall far behind (`threshold × 8` pages), the writer checkpoints everything, as SQLite
/// would have, so the WAL stays bounded either way.
///
/// Durability is unchanged: a commit is durable in the WAL whether or not it has been copied
/// back, and a connection that opens the file reads both.
class WalCheckpointer final
{
public:
    /// Opens a second connection to `databasePath` (already in WAL mode) on a new thread.
    explicit WalCheckpointer(const QString &databasePath, int thresholdPages = 1000);
    /// Finishes a checkpoint in progress, closes the connection and joins the thread.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer &) = delete;
    WalCheckpointer &operator=(const WalCheckpointer &) = delete;

    /// Takes over the automatic checkpoints of `writer`, a connection to the same file. It must
    /// stay open until detach() or this object's destruction. Several writers may be attached
    /// as long as their commits never overlap (the hook keeps state between commits).
    void attach(sqlite3 *writer);
    /// Gives every attached writer SQLite's own automatic checkpoints back.
    void detach();

    /// Times the writer has woken this thread; checkpoints the thread has run (one per wake,
    /// unless it failed); the rests the writer copied after them; and the checkpoints the
    /// writer had to run in full because the thread had fallen behind.
    quint64 checkpointsRequested() const { return m_requests.load(); }
    quint64 checkpointsRun() const { return m_run.load(); }
    /// WAL pages this thread's checkpoints have copied back.
    quint64 pagesCopied() const { return m_pagesCopied.load(); }
    quint64 restsCopiedByWriter() const { return m_restsByWriter.load(); }
    quint64 checkpointsByWriter() const { return m_byWriter.load(); }

private:
    static int walHook(void *self, sqlite3 *db, const char *schema, int pages);
    void run(const QString &databasePath);

    const int m_threshold;
    std::vector<sqlite3 *> m_writers;
    int m_lastWalPages = 0; // the committing writer's
    std::atomic<int> m_backfilled{0}; // WAL frames copied by the thread's last checkpoint

    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_requested = false; // guarded by m_mutex
    bool m_stopping = false; // guarded by m_mutex

    std::atomic<quint64> m_requests{0};
    std::atomic<quint64> m_run{0};
    std::atomic<quint64> m_pagesCopied{0};
    std::atomic<quint64> m_restsByWriter{0};
    std::atomic<quint64> m_byWriter{0};
    std::thread m_thread;
};

} // namespace streams
