#pragma once

#include "api/stream.h"

#include <QList>
#include <QString>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

class QObject;
struct sqlite3;
struct sqlite3_stmt;

namespace streams {

/// Group commit of stream creates on a thread and SQLite connection of its own, so that the
/// INSERTs and the COMMIT of a batch run beside the thread that answers requests (the engine's)
/// instead of on it. Without it, a third of that thread's time under a create load went into
/// SQLite.
///
/// The owner thread add()s rows to the open batch and submit()s it; the writer thread commits
/// batches in order (all those submitted while it was busy in one transaction) and reports
/// each through the settled handler, which always runs on the owner thread: queued to the
/// QObject given to open(), or from within drain(). A row is stored only once its batch is
/// reported.
///
/// The owner must not write to the file through another connection while a batch is on its
/// way: drain() first. Then the two connections never write at the same time, and each sees
/// the other's rows (SQLite's UNIQUE constraints stay the one judge of duplicates).
class StreamBatchWriter final
{
public:
    /// A failed SQLite call: its extended result code and message.
    struct Failure
    {
        int code = 0;
        QString message;
    };
    struct Settled
    {
        quint64 batch = 0;
        QList<Stream> stored;
        /// Rows refused by a UNIQUE constraint; the rest of the batch is stored.
        QList<Stream> duplicates;
        /// The whole batch, and every row in it, was lost (rolled back) because of this.
        std::optional<Failure> failure;
        QList<Stream> lost;
    };
    using SettledHandler = std::function<void(Settled &&)>;

    /// Opens a connection to `databasePath` (already created and in WAL mode) and starts the
    /// thread; `context` (on the owner thread) receives the queued reports.
    static std::unique_ptr<StreamBatchWriter> open(
        const QString &databasePath, QObject *context, SettledHandler settled, QString *error);
    /// Drains, stops the thread and closes the connection.
    ~StreamBatchWriter();
    StreamBatchWriter(const StreamBatchWriter &) = delete;
    StreamBatchWriter &operator=(const StreamBatchWriter &) = delete;

    /// The writer's connection, for WalCheckpointer::attach() (its commits never overlap the
    /// owner's, see above).
    sqlite3 *connection() const { return m_db; }

    /// Puts `stream` in the open batch and returns that batch's number.
    quint64 add(const Stream &stream);
    /// Hands the open batch, if any, to the thread without waiting.
    void submit();
    /// Submits and waits until every batch is committed or lost; their reports run before this
    /// returns.
    void drain();
    /// Runs the reports of the batches settled so far, without waiting: the owner thread may
    /// call it between two of its own events, so that a batch committed while it was busy is
    /// reported then rather than after everything else it has to do. Costs one atomic load
    /// when nothing has settled.
    void deliverSettled();

    /// One INSERT of `stream` through `insert` (prepared on `db` by prepareInsert()). Returns
    /// the failure, if any; `insert` is reset either way.
    static std::optional<Failure> insertRow(
        sqlite3 *db, sqlite3_stmt *insert, const Stream &stream);
    static int prepareInsert(sqlite3 *db, sqlite3_stmt **insert);

private:
    StreamBatchWriter(sqlite3 *db, sqlite3_stmt *insert, QObject *context, SettledHandler settled);
    void run();
    /// One transaction for all of `batches`, reported batch by batch.
    std::deque<Settled> commit(std::deque<std::pair<quint64, QList<Stream>>> batches);
    /// Runs the handler for every report waiting (owner thread).
    void deliver();

    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_insert = nullptr;
    QObject *m_context = nullptr;
    SettledHandler m_settled;

    // The owner thread's.
    quint64 m_openBatch = 0;
    QList<Stream> m_open;

    std::mutex m_mutex;
    std::condition_variable m_work; // to the thread: a batch or stop
    std::condition_variable m_idle; // to drain(): the thread has nothing left
    std::deque<std::pair<quint64, QList<Stream>>> m_submitted; // guarded by m_mutex
    std::deque<Settled> m_reports; // guarded by m_mutex
    bool m_committing = false; // guarded by m_mutex
    bool m_deliveryQueued = false; // guarded by m_mutex
    std::atomic<bool> m_reportsWaiting = false; // !m_reports.empty(), read without the lock
    bool m_stopping = false; // guarded by m_mutex
    std::thread m_thread;
};

} // namespace streams
