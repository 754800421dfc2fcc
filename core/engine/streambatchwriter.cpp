#include "engine/streambatchwriter.h"

#include <QFile>
#include <QLoggingCategory>
#include <QObject>
#include <iterator>
#include <sqlite3.h>

namespace streams {

Q_LOGGING_CATEGORY(lcBatchWriter, "streams.engine.batchwriter", QtInfoMsg)

namespace {
StreamBatchWriter::Failure failureOf(sqlite3 *db)
{
    return {sqlite3_extended_errcode(db), QString::fromUtf8(sqlite3_errmsg(db))};
}
} // namespace

std::unique_ptr<StreamBatchWriter> StreamBatchWriter::open(
    const QString &databasePath, QObject *context, SettledHandler settled, QString *error)
{
    sqlite3 *db = nullptr;
    sqlite3_stmt *insert = nullptr;
    const QByteArray name = QFile::encodeName(databasePath);
    // NOMUTEX: the connection is used by one thread at a time, and its commits are ordered
    // against the owner's by drain().
    int rc = sqlite3_open_v2(
        name.constData(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db,
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000", nullptr,
            nullptr, nullptr);
    if (rc == SQLITE_OK)
        rc = prepareInsert(db, &insert);
    if (rc != SQLITE_OK) {
        if (error)
            *error = db ? QString::fromUtf8(sqlite3_errmsg(db)) : QStringLiteral("out of memory");
        sqlite3_finalize(insert);
        sqlite3_close(db);
        return nullptr;
    }
    return std::unique_ptr<StreamBatchWriter>(
        new StreamBatchWriter(db, insert, context, std::move(settled)));
}

StreamBatchWriter::StreamBatchWriter(
    sqlite3 *db, sqlite3_stmt *insert, QObject *context, SettledHandler settled)
    : m_db(db),
      m_insert(insert),
      m_context(context),
      m_settled(std::move(settled)),
      m_thread([this] { run(); })
{ }

StreamBatchWriter::~StreamBatchWriter()
{
    drain();
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_work.notify_one();
    m_thread.join();
    sqlite3_finalize(m_insert);
    sqlite3_close(m_db);
}

int StreamBatchWriter::prepareInsert(sqlite3 *db, sqlite3_stmt **insert)
{
    return sqlite3_prepare_v3(db,
        "INSERT INTO streams (sid, unique_name, account_sid, service_sid, created_by, "
        "date_created, date_updated, date_expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        -1, SQLITE_PREPARE_PERSISTENT, insert, nullptr);
}

std::optional<StreamBatchWriter::Failure> StreamBatchWriter::insertRow(
    sqlite3 *db, sqlite3_stmt *insert, const Stream &stream)
{
    // Straight through SQLite's C API with UTF-8 text: QtSql's QVariant bindings and UTF-16
    // text cost a sixth of the writing thread's time.
    const QByteArray sid = stream.sid.toUtf8();
    const QByteArray uniqueName = stream.uniqueName.toUtf8();
    const QByteArray accountSid = stream.accountSid.toUtf8();
    const QByteArray serviceSid = stream.serviceSid.toUtf8();
    const QByteArray createdBy = stream.createdBy.toUtf8();
    const auto bindText = [insert](int index, const QByteArray &text) {
        sqlite3_bind_text(insert, index, text.constData(), int(text.size()), SQLITE_STATIC);
    };
    bindText(1, sid);
    if (stream.uniqueName.isEmpty())
        sqlite3_bind_null(insert, 2);
    else
        bindText(2, uniqueName);
    bindText(3, accountSid);
    bindText(4, serviceSid);
    bindText(5, createdBy);
    sqlite3_bind_int64(insert, 6, stream.dateCreated);
    sqlite3_bind_int64(insert, 7, stream.dateUpdated);
    if (stream.dateExpires)
        sqlite3_bind_int64(insert, 8, *stream.dateExpires);
    else
        sqlite3_bind_null(insert, 8);
    std::optional<Failure> failure;
    if (sqlite3_step(insert) != SQLITE_DONE)
        failure = failureOf(db);
    sqlite3_reset(insert);
    sqlite3_clear_bindings(insert);
    return failure;
}

quint64 StreamBatchWriter::add(const Stream &stream)
{
    if (m_open.isEmpty())
        ++m_openBatch;
    m_open.append(stream);
    return m_openBatch;
}

void StreamBatchWriter::submit()
{
    if (m_open.isEmpty())
        return;
    {
        std::lock_guard lock(m_mutex);
        m_submitted.emplace_back(m_openBatch, std::exchange(m_open, {}));
    }
    m_work.notify_one();
}

void StreamBatchWriter::drain()
{
    submit();
    {
        std::unique_lock lock(m_mutex);
        m_idle.wait(lock, [this] { return m_submitted.empty() && !m_committing; });
    }
    deliver();
}

void StreamBatchWriter::deliverSettled()
{
    if (m_reportsWaiting.load(std::memory_order_acquire))
        deliver();
}

void StreamBatchWriter::deliver()
{
    std::deque<Settled> reports;
    {
        std::lock_guard lock(m_mutex);
        reports.swap(m_reports);
        m_reportsWaiting.store(false, std::memory_order_relaxed);
        // A delivery still queued finds nothing, and the next report queues another.
        m_deliveryQueued = false;
    }
    for (Settled &report : reports)
        m_settled(std::move(report));
}

void StreamBatchWriter::run()
{
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_work.wait(lock, [this] { return !m_submitted.empty() || m_stopping; });
        if (m_submitted.empty())
            break; // stopping, with nothing left
        // Every batch submitted meanwhile goes into the same transaction: the more the engine
        // thread answers while a commit runs, the fewer commits it takes.
        std::deque<std::pair<quint64, QList<Stream>>> batches = std::exchange(m_submitted, {});
        m_committing = true;
        lock.unlock();
        std::deque<Settled> reports = commit(std::move(batches));
        lock.lock();
        m_committing = false;
        std::move(reports.begin(), reports.end(), std::back_inserter(m_reports));
        m_reportsWaiting.store(true, std::memory_order_release);
        if (!std::exchange(m_deliveryQueued, true))
            QMetaObject::invokeMethod(
                m_context, [this] { deliver(); }, Qt::QueuedConnection);
        if (m_submitted.empty())
            m_idle.notify_all();
    }
}

std::deque<StreamBatchWriter::Settled> StreamBatchWriter::commit(
    std::deque<std::pair<quint64, QList<Stream>>> batches)
{
    std::deque<Settled> reports;
    for (auto &[batch, rows] : batches)
        reports.push_back({batch, {}, {}, {}, std::move(rows)});
    // Until the COMMIT has succeeded every row counts as lost, so that any failure on the way
    // (SQLite rolls the whole transaction back on a full disk) loses the lot, and says why.
    const auto lose = [&](const Failure &failure) {
        if (!sqlite3_get_autocommit(m_db))
            sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        for (Settled &report : reports) {
            report.failure = failure;
            report.stored.clear();
            report.duplicates.clear();
        }
        return std::move(reports);
    };
    if (sqlite3_exec(m_db, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
        return lose(failureOf(m_db));
    for (Settled &report : reports) {
        report.stored.reserve(report.lost.size());
        for (const Stream &stream : std::as_const(report.lost)) {
            const std::optional<Failure> failure = insertRow(m_db, m_insert, stream);
            if (!failure)
                report.stored.append(stream);
            else if (failure->code == SQLITE_CONSTRAINT_UNIQUE)
                // (service_sid, unique_name): the one unique key a caller can collide with (a
                // SID holds 80 random bits beside its time). Only this statement failed.
                report.duplicates.append(stream);
            else
                return lose(*failure);
        }
    }
    if (sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
        return lose(failureOf(m_db));
    for (Settled &report : reports)
        report.lost.clear();
    qCDebug(lcBatchWriter) << "committed batches" << reports.front().batch << "to"
                           << reports.back().batch;
    return reports;
}

} // namespace streams
