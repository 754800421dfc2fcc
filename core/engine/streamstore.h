#pragma once

#include "api/apierror.h"
#include "api/page.h"
#include "api/service.h"
#include "api/stream.h"
#include "engine/streambatchwriter.h"

#include <QHash>
#include <QObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace streams {

class WalCheckpointer;

/// Services and streams in one SQLite file (WAL). Every mutating call but the batched create
/// has committed when it returns success, so the caller may acknowledge it. Not thread-safe:
/// one owner thread (the batch writer's thread is its own business).
///
/// Lists page by an insertion sequence number that is never reused, so page tokens ("PA"/"PB" +
/// the sequence number of the boundary row) stay correct while rows are created and deleted
/// between pages: a row that existed throughout is returned exactly once.
class StreamStore final
{
public:
    struct RemovedStream
    {
        QString serviceSid;
        QString streamSid;
    };

    ~StreamStore();
    StreamStore(const StreamStore &) = delete;
    StreamStore &operator=(const StreamStore &) = delete;

    static std::expected<std::unique_ptr<StreamStore>, QString> open(const QString &filePath);

    std::expected<void, ApiError> insertService(const Service &service);
    std::expected<void, ApiError> updateService(const Service &service);
    /// Deletes the service and its streams; returns the streams that went with it.
    std::expected<QList<RemovedStream>, ApiError> deleteService(const QString &serviceSid);
    std::expected<std::optional<Service>, ApiError> findService(QStringView sidOrUniqueName);
    std::expected<Page<Service>, ApiError> listServices(const PageRequest &request);

    /// 54301 when the unique name is taken in the service.
    std::expected<void, ApiError> insertStream(const Stream &stream);
    std::expected<void, ApiError> updateStreamExpiry(
        const QString &streamSid, std::optional<qint64> dateExpires, qint64 dateUpdated);
    std::expected<bool, ApiError> deleteStream(const QString &streamSid);
    /// Streams whose expiry has passed (`dateExpires <= nowSeconds`) are treated as gone.
    std::expected<std::optional<Stream>, ApiError> findStream(
        const QString &serviceSid, QStringView sidOrUniqueName, qint64 nowSeconds);
    std::expected<Page<Stream>, ApiError> listStreams(
        const QString &serviceSid, const PageRequest &request, qint64 nowSeconds);

    /// Group commit, on a thread of its own (StreamBatchWriter). insertStreamInBatch() puts the
    /// row in the open batch and returns the batch's number; submitBatch() hands the batch over
    /// without waiting. The row is stored, and may be acknowledged, only once the settled
    /// handler has reported its batch: on this thread, after the commit, in batch order. Every
    /// other write first settles every batch (settleBatch()), so nothing it does or
    /// acknowledges overtakes a create, and it sees the rows created before it.
    struct SettledBatch
    {
        quint64 batch = 0;
        QList<Stream> stored;
        /// The creates that were not stored, by stream SID, and why: 54301 for a unique name
        /// already taken, a storage error when the batch was lost.
        QHash<QString, ApiError> refused;
    };
    quint64 insertStreamInBatch(const Stream &stream);
    void submitBatch();
    /// Submits the open batch and waits until every batch is settled; the handler has run for
    /// each when this returns.
    void settleBatch();
    /// Runs the handler for the batches settled so far, without waiting.
    void deliverSettledBatches() { m_batchWriter->deliverSettled(); }
    void setBatchSettledHandler(std::function<void(const SettledBatch &)> handler)
    {
        m_onBatchSettled = std::move(handler);
    }

    /// Every service and every stream not expired by `nowSeconds`, each in creation order.
    std::expected<std::pair<QList<Service>, QList<Stream>>, ApiError> everything(qint64 nowSeconds);
    /// Replaces every service and stream with these, in one transaction: all or nothing.
    /// Returns the streams that were there before.
    std::expected<QList<RemovedStream>, ApiError> replaceAll(
        const QList<Service> &services, const QList<Stream> &streams);

    /// Deletes every stream with `date_expires <= nowSeconds` and returns them.
    std::expected<QList<RemovedStream>, ApiError> deleteExpired(qint64 nowSeconds);
    /// The earliest expiry of any stored stream.
    std::expected<std::optional<qint64>, ApiError> nextExpiry();
    std::expected<qint64, ApiError> streamCount();
    std::expected<qint64, ApiError> serviceCount();

    /// PRAGMA integrity_check; "ok" when the file is sound.
    QString integrityCheck();

    /// Writes, syncs and removes a probe file in `dir`: 0 when that works, else the errno
    /// (ENOSPC, EROFS, EACCES...): what a storage failure was really about.
    static int writeProbe(const QString &dir);

private:
    struct Statements;
    explicit StreamStore(QString connectionName);

    std::expected<void, ApiError> migrate();
    std::expected<void, ApiError> insertStreamRow(const Stream &stream);
    std::expected<void, ApiError> insertServiceRow(const Service &service);
    template<typename T>
    std::expected<Page<T>, ApiError> listPage(const QString &table, const QString &filter,
        const QVariantList &filterValues, const PageRequest &request,
        T (*fromRow)(const QSqlQuery &));
    // listPage's steps.
    struct PageScan;
    template<typename T>
    struct PageRows;
    struct PageLinks;
    static std::pair<QString, QVariantList> pageQuery(const PageScan &scan, const QString &columns);
    template<typename T>
    std::expected<PageRows<T>, ApiError> readPageRows(
        const PageScan &scan, T (*fromRow)(const QSqlQuery &));
    std::expected<bool, ApiError> existsBeyond(const PageScan &scan, bool after, qint64 seq);
    std::expected<PageLinks, ApiError> linksAroundRows(
        const PageScan &scan, qint64 firstSeq, qint64 lastSeq, bool moreInScanDirection);
    std::expected<PageLinks, ApiError> linksAroundEmptyPage(const PageScan &scan);
    /// Prepares (once), binds `values` in order and runs `sql`.
    std::expected<QSqlQuery *, ApiError> execute(const QString &sql, const QVariantList &values);
    /// Storage failures as the caller should see them: a full or read-only disk (and any other
    /// reason the data directory cannot be written) is 503/20503 naming the problem; a damaged
    /// file or anything else 500/20500. Nothing is half-written either way: each call is one
    /// transaction, which SQLite rolls back.
    ApiError storageError(const QSqlQuery &query) const;
    ApiError storageError(const QSqlError &error) const;
    /// A failed call on the C API (the INSERT of a create, the batch writer's transaction).
    ApiError storageError(const StreamBatchWriter::Failure &failure) const;
    /// The report of a batch the writer settled, with its failures as the caller sees them.
    SettledBatch settled(StreamBatchWriter::Settled report) const;

    /// A statement prepared once per distinct SQL text (lists build a few shapes).
    QSqlQuery *prepared(const QString &sql);

    QString m_connectionName;
    QSqlDatabase m_db;
    sqlite3 *m_handle = nullptr; // m_db's
    sqlite3_stmt *m_insertStream = nullptr; // on m_handle; finalized before m_db closes
    std::unique_ptr<WalCheckpointer> m_checkpointer; // attached to m_db while it is open
    std::unique_ptr<Statements> m_statements;
    std::unordered_map<QString, std::unique_ptr<QSqlQuery>> m_prepared;

    // The batch writer reports to m_batchContext, on this thread; both go before m_db closes.
    std::unique_ptr<QObject> m_batchContext;
    std::unique_ptr<StreamBatchWriter> m_batchWriter;
    std::function<void(const SettledBatch &)> m_onBatchSettled;
};

} // namespace streams
