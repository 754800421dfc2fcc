#include "engine/streamstore.h"

#include "api/sid.h"
#include "engine/walcheckpointer.h"

#include <QAtomicInteger>
#include <QFile>
#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlError>
#include <QVariant>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

namespace streams {

namespace {
constexpr int kSchemaVersion = 1;

// SQLite's primary result codes (sqlite3.h), without linking SQLite itself.
constexpr int kSqliteBusy = 5;
constexpr int kSqliteLocked = 6;
constexpr int kSqliteReadOnly = 8;
constexpr int kSqliteIoError = 10;
constexpr int kSqliteCorrupt = 11;
constexpr int kSqliteFull = 13;
constexpr int kSqliteCantOpen = 14;
constexpr int kSqliteNotADatabase = 26;

const QString kServiceColumns = QStringLiteral(
    "sid, unique_name, account_sid, friendly_name, webhook_url, reachability_webhooks_enabled, "
    "acl_enabled, reachability_debouncing_enabled, reachability_debouncing_window, "
    "webhooks_from_rest_enabled, date_created, date_updated, seq");
const QString kStreamColumns = QStringLiteral(
    "sid, unique_name, account_sid, service_sid, created_by, date_created, date_updated, "
    "date_expires, seq");

// A null QVariant of the right type binds SQL NULL.
QVariant textOrNull(const QString &text)
{
    return text.isNull() ? QVariant(QMetaType::fromType<QString>()) : QVariant(text);
}

QString nullableText(const QVariant &value)
{
    return value.isNull() ? QString() : value.toString();
}

Service serviceFromRow(const QSqlQuery &q)
{
    Service s;
    s.sid = q.value(0).toString();
    s.uniqueName = nullableText(q.value(1));
    s.accountSid = q.value(2).toString();
    s.friendlyName = nullableText(q.value(3));
    s.webhookUrl = nullableText(q.value(4));
    s.reachabilityWebhooksEnabled = q.value(5).toBool();
    s.aclEnabled = q.value(6).toBool();
    s.reachabilityDebouncingEnabled = q.value(7).toBool();
    s.reachabilityDebouncingWindowMs = q.value(8).toInt();
    s.webhooksFromRestEnabled = q.value(9).toBool();
    s.dateCreated = q.value(10).toLongLong();
    s.dateUpdated = q.value(11).toLongLong();
    return s;
}

Stream streamFromRow(const QSqlQuery &q)
{
    Stream s;
    s.sid = q.value(0).toString();
    s.uniqueName = nullableText(q.value(1));
    s.accountSid = q.value(2).toString();
    s.serviceSid = q.value(3).toString();
    s.createdBy = q.value(4).toString();
    s.dateCreated = q.value(5).toLongLong();
    s.dateUpdated = q.value(6).toLongLong();
    if (!q.value(7).isNull())
        s.dateExpires = q.value(7).toLongLong();
    return s;
}

// Page tokens: "PA" (rows after) or "PB" (rows before) + 16 hex digits of a sequence number.
struct PageCursor
{
    bool forward = true;
    qint64 seq = 0;
};

QString encodeCursor(bool forward, qint64 seq)
{
    return (forward ? QStringLiteral("PA") : QStringLiteral("PB"))
        + QStringLiteral("%1").arg(seq, 16, 16, QLatin1Char('0'));
}

std::optional<PageCursor> decodeCursor(QStringView token)
{
    if (token.size() != 18 || !(token.startsWith(u"PA") || token.startsWith(u"PB")))
        return std::nullopt;
    // Exactly 16 hex digits: toLongLong alone would also take a sign, spaces or "0x".
    const QStringView digits = token.sliced(2);
    const bool allHex = std::all_of(digits.begin(), digits.end(), [](QChar c) {
        return (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F');
    });
    bool ok = false;
    const qint64 seq = allHex ? digits.toLongLong(&ok, 16) : -1;
    if (!ok || seq < 0)
        return std::nullopt;
    return PageCursor{token.startsWith(u"PA"), seq};
}

// The cursor a page token names (none without a token), or the error a bad token gets.
std::expected<std::optional<PageCursor>, ApiError> pageCursor(const QString &token)
{
    if (token.isEmpty())
        return std::nullopt;
    std::optional<PageCursor> cursor = decodeCursor(token);
    if (!cursor)
        return std::unexpected(ApiError::invalidPageToken());
    return cursor;
}
} // namespace

// One list call: the rows it reads (a table and a filter) and where its page starts.
struct StreamStore::PageScan
{
    QString table;
    QString where; // the filter, "1" for every row
    QVariantList filterValues; // bound to the filter's placeholders
    std::optional<PageCursor> cursor; // from the page token
    int size = 0;
    int page = 0; // the offset in pages, without a token

    bool backward() const { return cursor && !cursor->forward; }
};

// A page's rows with their sequence numbers, in list order.
template<typename T>
struct StreamStore::PageRows
{
    QList<std::pair<qint64, T>> items;
    bool more = false; // another row follows in the direction scanned
};

// The tokens of the pages either side of a page.
struct StreamStore::PageLinks
{
    std::optional<QString> next;
    std::optional<QString> previous;
};

// Hot-path statements, prepared once per connection.
struct StreamStore::Statements
{
    explicit Statements(const QSqlDatabase &db)
        : findStreamBySid(db),
          findStreamByName(db),
          deleteStream(db),
          updateExpiry(db),
          findServiceBySid(db),
          findServiceByName(db)
    { }
    QSqlQuery findStreamBySid, findStreamByName, deleteStream, updateExpiry;
    QSqlQuery findServiceBySid, findServiceByName;
};

StreamStore::StreamStore(QString connectionName) : m_connectionName(std::move(connectionName)) { }

StreamStore::~StreamStore()
{
    // Every batch settled and reported; the checkpointer gone while both connections it
    // watches are open; then the writer's connection, so that closing m_db, the last one,
    // checkpoints the WAL away.
    if (m_batchWriter)
        m_batchWriter->drain();
    m_checkpointer.reset();
    m_batchWriter.reset();
    m_batchContext.reset();
    m_prepared.clear();
    m_statements.reset();
    sqlite3_finalize(std::exchange(m_insertStream, nullptr));
    m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connectionName);
}

std::expected<std::unique_ptr<StreamStore>, QString> StreamStore::open(const QString &filePath)
{
    static QAtomicInteger<quint64> counter;
    const QString name = QStringLiteral("streams-store-%1").arg(counter.fetchAndAddRelaxed(1));
    std::unique_ptr<StreamStore> store(new StreamStore(name));
    store->m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    if (!store->m_db.isValid())
        return std::unexpected(QStringLiteral("the Qt SQLite driver is not installed"));
    store->m_db.setDatabaseName(filePath);
    store->m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    if (!store->m_db.open())
        return std::unexpected(
            QStringLiteral("cannot open %1: %2").arg(filePath, store->m_db.lastError().text()));
    if (auto migrated = store->migrate(); !migrated)
        return std::unexpected(
            QStringLiteral("cannot prepare %1: %2").arg(filePath, migrated.error().message()));
    // Creates are committed on a thread of their own (see StreamBatchWriter), which reports to
    // this thread.
    StreamStore *raw = store.get();
    store->m_batchContext = std::make_unique<QObject>();
    QString error;
    store->m_batchWriter = StreamBatchWriter::open(
        filePath, store->m_batchContext.get(),
        [raw](StreamBatchWriter::Settled &&report) {
            const SettledBatch settled = raw->settled(std::move(report));
            if (raw->m_onBatchSettled)
                raw->m_onBatchSettled(settled);
        },
        &error);
    if (!store->m_batchWriter)
        return std::unexpected(
            QStringLiteral("cannot open %1 for writing: %2").arg(filePath, error));
    // Checkpoints on a thread of their own (see WalCheckpointer).
    store->m_checkpointer = std::make_unique<WalCheckpointer>(filePath);
    store->m_checkpointer->attach(store->m_handle);
    store->m_checkpointer->attach(store->m_batchWriter->connection());
    return store;
}

ApiError StreamStore::storageError(const QSqlQuery &query) const
{
    return storageError(query.lastError());
}

ApiError StreamStore::storageError(const StreamBatchWriter::Failure &failure) const
{
    return storageError(QSqlError(
        QString(), failure.message, QSqlError::StatementError, QString::number(failure.code)));
}

ApiError StreamStore::storageError(const QSqlError &error) const
{
    // Qt's SQLite driver reports extended result codes; the low byte is the primary code.
    bool numeric = false;
    const int extended = error.nativeErrorCode().toInt(&numeric);
    const int primary = numeric ? (extended & 0xff) : -1;
    const QString detail = error.databaseText().isEmpty() ? error.text() : error.databaseText();
    const QString dir = QFileInfo(m_db.databaseName()).absolutePath();
    const auto full = [&] {
        return ApiError::serviceUnavailable(
            QStringLiteral("Storage full: the disk holding the data directory %1 has no space "
                           "left, so nothing new can be stored until space is freed; reads still "
                           "work")
                .arg(dir));
    };
    // SQLite only says "disk I/O error" (and a failed COMMIT does not even give a code); the
    // directory itself tells which disk problem it is, so the caller (and whoever reads the
    // log) knows what to fix.
    const auto diskProblem = [&]() -> std::optional<ApiError> {
        const int problem = writeProbe(dir);
        if (problem == ENOSPC || problem == EDQUOT)
            return full();
        if (problem == EROFS)
            return ApiError::serviceUnavailable(
                QStringLiteral("Storage read-only: the data directory %1 is on a read-only file "
                               "system, so nothing new can be stored until it is writable again; "
                               "reads still work")
                    .arg(dir));
        if (problem != 0)
            return ApiError::serviceUnavailable(
                QStringLiteral("Storage unavailable: the data directory %1 cannot be written (%2); "
                               "reads still work")
                    .arg(dir, QString::fromLocal8Bit(std::strerror(problem))));
        return std::nullopt;
    };
    switch (primary) {
    case kSqliteFull: return full();
    case kSqliteReadOnly:
    case kSqliteIoError:
    case kSqliteCantOpen:
        if (auto disk = diskProblem())
            return *disk;
        return ApiError::serviceUnavailable(
            QStringLiteral("Storage unavailable: disk I/O error in the data directory %1 (%2)")
                .arg(dir, detail));
    case kSqliteBusy:
    case kSqliteLocked:
        return ApiError::serviceUnavailable(
            QStringLiteral("Storage busy: another process holds a lock on %1 (%2)")
                .arg(m_db.databaseName(), detail));
    case kSqliteCorrupt:
    case kSqliteNotADatabase:
        return ApiError::internal(QStringLiteral("Storage error: the data file %1 is damaged (%2)")
                                      .arg(m_db.databaseName(), detail));
    default:
        if (auto disk = diskProblem())
            return *disk;
        return ApiError::internal(QStringLiteral("Storage error: %1").arg(detail));
    }
}

int StreamStore::writeProbe(const QString &dir)
{
    // A real write of one byte: creating an empty file can still succeed on a full disk.
    const QByteArray path = QFile::encodeName(dir + QStringLiteral("/.write-probe"));
    const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    int problem = 0;
    if (::write(fd, "x", 1) != 1 || ::fsync(fd) != 0)
        problem = errno;
    ::close(fd);
    ::unlink(path.constData());
    return problem;
}

QSqlQuery *StreamStore::prepared(const QString &sql)
{
    auto it = m_prepared.find(sql);
    if (it == m_prepared.end()) {
        auto query = std::make_unique<QSqlQuery>(m_db);
        if (!query->prepare(sql))
            return nullptr;
        it = m_prepared.emplace(sql, std::move(query)).first;
    }
    return it->second.get();
}

std::expected<void, ApiError> StreamStore::migrate()
{
    // The connection's own handle, which the driver hands out for uses such as these: WAL
    // checkpoints and the create path's INSERT.
    const QVariant handle = m_db.driver()->handle();
    if (handle.isValid() && qstrcmp(handle.typeName(), "sqlite3*") == 0)
        m_handle = *static_cast<sqlite3 *const *>(handle.constData());
    if (!m_handle)
        return std::unexpected(
            ApiError::internal(QStringLiteral("the Qt SQLite driver gave no SQLite handle")));
    QSqlQuery q(m_db);
    // WAL: readers never block the writer, and a committed transaction survives a process
    // crash (kill -9: tests/reliability/kill9.js). synchronous=NORMAL skips the fsync per commit;
    // only a power cut, or a disk that fails before the kernel writes its cache back, can lose
    // the last commits, which is the trade every local development server makes.
    const QStringList pragmas = {
        QStringLiteral("PRAGMA journal_mode=WAL"),
        QStringLiteral("PRAGMA synchronous=NORMAL"),
        QStringLiteral("PRAGMA foreign_keys=ON"),
    };
    for (const QString &pragma : pragmas) {
        if (!q.exec(pragma))
            return std::unexpected(storageError(q));
    }
    if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next())
        return std::unexpected(storageError(q));
    const int version = q.value(0).toInt();
    if (version > kSchemaVersion)
        return std::unexpected(ApiError::internal(
            QStringLiteral("the data file is from a newer version (schema %1)").arg(version)));
    if (version < 1) {
        const QStringList schema = {
            QStringLiteral("CREATE TABLE services ("
                           " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " sid TEXT NOT NULL UNIQUE,"
                           " unique_name TEXT UNIQUE,"
                           " account_sid TEXT NOT NULL,"
                           " friendly_name TEXT,"
                           " webhook_url TEXT,"
                           " reachability_webhooks_enabled INTEGER NOT NULL,"
                           " acl_enabled INTEGER NOT NULL,"
                           " reachability_debouncing_enabled INTEGER NOT NULL,"
                           " reachability_debouncing_window INTEGER NOT NULL,"
                           " webhooks_from_rest_enabled INTEGER NOT NULL,"
                           " date_created INTEGER NOT NULL,"
                           " date_updated INTEGER NOT NULL)"),
            QStringLiteral("CREATE TABLE streams ("
                           " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " sid TEXT NOT NULL UNIQUE,"
                           " service_sid TEXT NOT NULL REFERENCES services(sid) ON DELETE CASCADE,"
                           " unique_name TEXT,"
                           " account_sid TEXT NOT NULL,"
                           " created_by TEXT NOT NULL,"
                           " date_created INTEGER NOT NULL,"
                           " date_updated INTEGER NOT NULL,"
                           " date_expires INTEGER,"
                           " UNIQUE (service_sid, unique_name))"),
            QStringLiteral("CREATE INDEX streams_by_service ON streams (service_sid, seq)"),
            QStringLiteral("CREATE INDEX streams_by_expiry ON streams (date_expires)"
                           " WHERE date_expires IS NOT NULL"),
            QStringLiteral("PRAGMA user_version = 1"),
        };
        if (!m_db.transaction())
            return std::unexpected(storageError(m_db.lastError()));
        for (const QString &statement : schema) {
            if (!q.exec(statement)) {
                const ApiError error = storageError(q);
                m_db.rollback();
                return std::unexpected(error);
            }
        }
        if (!m_db.commit())
            return std::unexpected(storageError(m_db.lastError()));
    }

    m_statements = std::make_unique<Statements>(m_db);
    Statements &s = *m_statements;
    const bool prepared = s.findStreamBySid.prepare(QStringLiteral(
                              "SELECT %1 FROM streams WHERE service_sid = ? AND "
                              "sid = ? AND (date_expires IS NULL OR date_expires > ?)")
                                                        .arg(kStreamColumns))
        && s.findStreamByName.prepare(
            QStringLiteral("SELECT %1 FROM streams WHERE service_sid = ? AND unique_name = ? AND "
                           "(date_expires IS NULL OR date_expires > ?)")
                .arg(kStreamColumns))
        && StreamBatchWriter::prepareInsert(m_handle, &m_insertStream) == SQLITE_OK
        && s.deleteStream.prepare(QStringLiteral("DELETE FROM streams WHERE sid = ?"))
        && s.updateExpiry.prepare(
            QStringLiteral("UPDATE streams SET date_expires = ?, date_updated = ? WHERE sid = ?"))
        && s.findServiceBySid.prepare(
            QStringLiteral("SELECT %1 FROM services WHERE sid = ?").arg(kServiceColumns))
        && s.findServiceByName.prepare(
            QStringLiteral("SELECT %1 FROM services WHERE unique_name = ?").arg(kServiceColumns));
    if (!prepared)
        return std::unexpected(storageError(m_db.lastError()));
    return {};
}

std::expected<void, ApiError> StreamStore::insertService(const Service &service)
{
    settleBatch();
    return insertServiceRow(service);
}

std::expected<void, ApiError> StreamStore::insertServiceRow(const Service &service)
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral(
        "INSERT INTO services (sid, unique_name, account_sid, friendly_name, webhook_url, "
        "reachability_webhooks_enabled, acl_enabled, reachability_debouncing_enabled, "
        "reachability_debouncing_window, webhooks_from_rest_enabled, date_created, date_updated) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(service.sid);
    q.addBindValue(textOrNull(service.uniqueName));
    q.addBindValue(service.accountSid);
    q.addBindValue(textOrNull(service.friendlyName));
    q.addBindValue(textOrNull(service.webhookUrl));
    q.addBindValue(service.reachabilityWebhooksEnabled);
    q.addBindValue(service.aclEnabled);
    q.addBindValue(service.reachabilityDebouncingEnabled);
    q.addBindValue(service.reachabilityDebouncingWindowMs);
    q.addBindValue(service.webhooksFromRestEnabled);
    q.addBindValue(service.dateCreated);
    q.addBindValue(service.dateUpdated);
    if (!q.exec())
        return std::unexpected(storageError(q));
    return {};
}

std::expected<void, ApiError> StreamStore::updateService(const Service &service)
{
    settleBatch();
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral(
        "UPDATE services SET friendly_name = ?, webhook_url = ?, reachability_webhooks_enabled = "
        "?, "
        "acl_enabled = ?, reachability_debouncing_enabled = ?, reachability_debouncing_window = ?, "
        "webhooks_from_rest_enabled = ?, date_updated = ? WHERE sid = ?"));
    q.addBindValue(textOrNull(service.friendlyName));
    q.addBindValue(textOrNull(service.webhookUrl));
    q.addBindValue(service.reachabilityWebhooksEnabled);
    q.addBindValue(service.aclEnabled);
    q.addBindValue(service.reachabilityDebouncingEnabled);
    q.addBindValue(service.reachabilityDebouncingWindowMs);
    q.addBindValue(service.webhooksFromRestEnabled);
    q.addBindValue(service.dateUpdated);
    q.addBindValue(service.sid);
    if (!q.exec())
        return std::unexpected(storageError(q));
    return {};
}

std::expected<QList<StreamStore::RemovedStream>, ApiError> StreamStore::deleteService(
    const QString &serviceSid)
{
    settleBatch();
    if (!m_db.transaction())
        return std::unexpected(storageError(m_db.lastError()));
    QSqlQuery q(m_db);
    QList<RemovedStream> removed;
    q.prepare(QStringLiteral("DELETE FROM streams WHERE service_sid = ? RETURNING sid"));
    q.addBindValue(serviceSid);
    bool ok = q.exec();
    while (ok && q.next())
        removed.append({serviceSid, q.value(0).toString()});
    if (ok) {
        q.finish();
        q.prepare(QStringLiteral("DELETE FROM services WHERE sid = ?"));
        q.addBindValue(serviceSid);
        ok = q.exec();
    }
    if (!ok) {
        const ApiError error = storageError(q);
        m_db.rollback();
        return std::unexpected(error);
    }
    q.finish();
    if (!m_db.commit())
        return std::unexpected(storageError(m_db.lastError()));
    return removed;
}

std::expected<std::optional<Service>, ApiError> StreamStore::findService(
    QStringView sidOrUniqueName)
{
    QSqlQuery &q = sid::isValid(sidOrUniqueName, SidKind::Service)
        ? m_statements->findServiceBySid
        : m_statements->findServiceByName;
    q.bindValue(0, sidOrUniqueName.toString());
    if (!q.exec())
        return std::unexpected(storageError(q));
    std::optional<Service> found;
    if (q.next())
        found = serviceFromRow(q);
    q.finish();
    return found;
}

std::expected<Page<Service>, ApiError> StreamStore::listServices(const PageRequest &request)
{
    return listPage<Service>(QStringLiteral("services"), QString(), {}, request, serviceFromRow);
}

std::expected<void, ApiError> StreamStore::insertStream(const Stream &stream)
{
    settleBatch();
    return insertStreamRow(stream);
}

quint64 StreamStore::insertStreamInBatch(const Stream &stream)
{
    return m_batchWriter->add(stream);
}

void StreamStore::submitBatch()
{
    m_batchWriter->submit();
}

void StreamStore::settleBatch()
{
    m_batchWriter->drain();
}

StreamStore::SettledBatch StreamStore::settled(StreamBatchWriter::Settled report) const
{
    SettledBatch settled{report.batch, std::move(report.stored), {}};
    for (const Stream &stream : std::as_const(report.duplicates))
        settled.refused.insert(stream.sid, ApiError::duplicateUniqueName(stream.uniqueName));
    if (report.failure) {
        const ApiError error = storageError(*report.failure);
        for (const Stream &stream : std::as_const(report.lost))
            settled.refused.insert(stream.sid, error);
    }
    return settled;
}

std::expected<void, ApiError> StreamStore::insertStreamRow(const Stream &stream)
{
    const auto failure = StreamBatchWriter::insertRow(m_handle, m_insertStream, stream);
    if (!failure)
        return {};
    // SQLITE_CONSTRAINT_UNIQUE on (service_sid, unique_name): the only unique key a caller
    // can collide with (a SID holds 80 random bits beside its time).
    if (failure->code == SQLITE_CONSTRAINT_UNIQUE)
        return std::unexpected(ApiError::duplicateUniqueName(stream.uniqueName));
    return std::unexpected(storageError(*failure));
}

std::expected<void, ApiError> StreamStore::updateStreamExpiry(
    const QString &streamSid, std::optional<qint64> dateExpires, qint64 dateUpdated)
{
    settleBatch();
    QSqlQuery &q = m_statements->updateExpiry;
    q.bindValue(0, dateExpires ? QVariant(*dateExpires) : QVariant(QMetaType::fromType<qint64>()));
    q.bindValue(1, dateUpdated);
    q.bindValue(2, streamSid);
    if (!q.exec())
        return std::unexpected(storageError(q));
    q.finish();
    return {};
}

std::expected<bool, ApiError> StreamStore::deleteStream(const QString &streamSid)
{
    settleBatch();
    QSqlQuery &q = m_statements->deleteStream;
    q.bindValue(0, streamSid);
    if (!q.exec())
        return std::unexpected(storageError(q));
    const bool deleted = q.numRowsAffected() > 0;
    q.finish();
    return deleted;
}

std::expected<std::optional<Stream>, ApiError> StreamStore::findStream(
    const QString &serviceSid, QStringView sidOrUniqueName, qint64 nowSeconds)
{
    // Unique names can never have a SID's shape, so the form of the segment decides.
    QSqlQuery &q = sid::isValid(sidOrUniqueName, SidKind::Stream) ? m_statements->findStreamBySid
                                                                  : m_statements->findStreamByName;
    q.bindValue(0, serviceSid);
    q.bindValue(1, sidOrUniqueName.toString());
    q.bindValue(2, nowSeconds);
    if (!q.exec())
        return std::unexpected(storageError(q));
    std::optional<Stream> found;
    if (q.next())
        found = streamFromRow(q);
    q.finish();
    return found;
}

std::expected<Page<Stream>, ApiError> StreamStore::listStreams(
    const QString &serviceSid, const PageRequest &request, qint64 nowSeconds)
{
    return listPage<Stream>(QStringLiteral("streams"),
        QStringLiteral("service_sid = ? AND (date_expires IS NULL OR "
                       "date_expires > ?)"),
        {serviceSid, nowSeconds}, request, streamFromRow);
}

template<typename T>
std::expected<Page<T>, ApiError> StreamStore::listPage(const QString &table, const QString &filter,
    const QVariantList &filterValues, const PageRequest &request, T (*fromRow)(const QSqlQuery &))
{
    auto cursor = pageCursor(request.pageToken);
    if (!cursor)
        return std::unexpected(cursor.error());
    const PageScan scan{table, filter.isEmpty() ? QStringLiteral("1") : filter, filterValues,
        *cursor, request.pageSize, request.page};
    auto rows = readPageRows(scan, fromRow);
    if (!rows)
        return std::unexpected(rows.error());
    auto links = rows->items.isEmpty()
        ? linksAroundEmptyPage(scan)
        : linksAroundRows(scan, rows->items.first().first, rows->items.last().first, rows->more);
    if (!links)
        return std::unexpected(links.error());

    Page<T> page;
    page.page = request.page;
    page.pageSize = request.pageSize;
    page.nextPageToken = links->next;
    page.previousPageToken = links->previous;
    page.items.reserve(rows->items.size());
    for (auto &row : rows->items)
        page.items.append(std::move(row.second));
    return page;
}

template<typename T>
std::expected<StreamStore::PageRows<T>, ApiError> StreamStore::readPageRows(
    const PageScan &scan, T (*fromRow)(const QSqlQuery &))
{
    const QString columns = scan.table == u"services" ? kServiceColumns : kStreamColumns;
    const int seqColumn = int(columns.count(u',')); // seq is the last column
    const auto [sql, values] = pageQuery(scan, columns);
    auto query = execute(sql, values);
    if (!query)
        return std::unexpected(query.error());
    QSqlQuery &q = **query;
    PageRows<T> rows;
    while (q.next())
        rows.items.append({q.value(seqColumn).toLongLong(), fromRow(q)});
    q.finish();
    rows.more = rows.items.size() > scan.size;
    if (rows.more)
        rows.items.removeLast();
    if (scan.backward())
        std::reverse(rows.items.begin(), rows.items.end());
    return rows;
}

std::pair<QString, QVariantList> StreamStore::pageQuery(
    const PageScan &scan, const QString &columns)
{
    // Fetch one row more than a page to learn whether another page follows.
    QString sql;
    QVariantList values = scan.filterValues;
    if (scan.cursor && scan.cursor->forward) {
        sql = QStringLiteral("SELECT %1 FROM %2 WHERE %3 AND seq > ? ORDER BY seq LIMIT ?");
        values << scan.cursor->seq << scan.size + 1;
    } else if (scan.cursor) {
        sql = QStringLiteral("SELECT %1 FROM %2 WHERE %3 AND seq < ? ORDER BY seq DESC LIMIT ?");
        values << scan.cursor->seq << scan.size + 1;
    } else {
        // No token: `Page` alone is an offset, as Twilio allows for simple clients.
        sql = QStringLiteral("SELECT %1 FROM %2 WHERE %3 ORDER BY seq LIMIT ? OFFSET ?");
        values << scan.size + 1 << qint64(scan.page) * scan.size;
    }
    return {sql.arg(columns, scan.table, scan.where), values};
}

std::expected<QSqlQuery *, ApiError> StreamStore::execute(
    const QString &sql, const QVariantList &values)
{
    QSqlQuery *query = prepared(sql);
    if (!query)
        return std::unexpected(storageError(m_db.lastError()));
    for (int i = 0; i < values.size(); ++i)
        query->bindValue(i, values.at(i));
    if (!query->exec())
        return std::unexpected(storageError(*query));
    return query;
}

std::expected<bool, ApiError> StreamStore::existsBeyond(
    const PageScan &scan, bool after, qint64 seq)
{
    auto probe =
        execute(QStringLiteral("SELECT 1 FROM %1 WHERE %2 AND seq %3 ? LIMIT 1")
                    .arg(scan.table, scan.where, after ? QStringLiteral(">") : QStringLiteral("<")),
            QVariantList(scan.filterValues) << seq);
    if (!probe)
        return std::unexpected(probe.error());
    const bool exists = (*probe)->next();
    (*probe)->finish();
    return exists;
}

std::expected<StreamStore::PageLinks, ApiError> StreamStore::linksAroundRows(
    const PageScan &scan, qint64 firstSeq, qint64 lastSeq, bool moreInScanDirection)
{
    bool hasNext = moreInScanDirection;
    bool hasPrevious = moreInScanDirection;
    if (scan.backward()) {
        auto next = existsBeyond(scan, true, lastSeq);
        if (!next)
            return std::unexpected(next.error());
        hasNext = *next;
    } else {
        hasPrevious = false;
        if (scan.cursor || scan.page > 0) {
            auto previous = existsBeyond(scan, false, firstSeq);
            if (!previous)
                return std::unexpected(previous.error());
            hasPrevious = *previous;
        }
    }
    PageLinks links;
    if (hasNext)
        links.next = encodeCursor(true, lastSeq);
    if (hasPrevious)
        links.previous = encodeCursor(false, firstSeq);
    return links;
}

std::expected<StreamStore::PageLinks, ApiError> StreamStore::linksAroundEmptyPage(
    const PageScan &scan)
{
    PageLinks links;
    if (scan.cursor && scan.cursor->forward && scan.cursor->seq > 0) {
        links.previous = encodeCursor(false, scan.cursor->seq + 1);
    } else if (scan.backward() && scan.cursor->seq > 0) {
        // Everything before the page the client came from is gone: still lead back to it, or a
        // client that stepped back could never reach the rest of the list.
        auto next = existsBeyond(scan, true, scan.cursor->seq - 1);
        if (!next)
            return std::unexpected(next.error());
        if (*next)
            links.next = encodeCursor(true, scan.cursor->seq - 1);
    }
    return links;
}

std::expected<std::pair<QList<Service>, QList<Stream>>, ApiError> StreamStore::everything(
    qint64 nowSeconds)
{
    settleBatch();
    std::pair<QList<Service>, QList<Stream>> all;
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("SELECT %1 FROM services ORDER BY seq").arg(kServiceColumns)))
        return std::unexpected(storageError(q));
    while (q.next())
        all.first.append(serviceFromRow(q));
    q.finish();
    q.prepare(
        QStringLiteral("SELECT %1 FROM streams WHERE date_expires IS NULL OR date_expires > ? "
                       "ORDER BY seq")
            .arg(kStreamColumns));
    q.addBindValue(nowSeconds);
    if (!q.exec())
        return std::unexpected(storageError(q));
    while (q.next())
        all.second.append(streamFromRow(q));
    q.finish();
    return all;
}

std::expected<QList<StreamStore::RemovedStream>, ApiError> StreamStore::replaceAll(
    const QList<Service> &services, const QList<Stream> &streams)
{
    settleBatch();
    if (!m_db.transaction())
        return std::unexpected(storageError(m_db.lastError()));
    const auto rollback = [this](const ApiError &error) {
        m_db.rollback();
        return std::unexpected(error);
    };
    QSqlQuery q(m_db);
    QList<RemovedStream> removed;
    if (!q.exec(QStringLiteral("DELETE FROM streams RETURNING service_sid, sid")))
        return rollback(storageError(q));
    while (q.next())
        removed.append({q.value(0).toString(), q.value(1).toString()});
    q.finish();
    if (!q.exec(QStringLiteral("DELETE FROM services")))
        return rollback(storageError(q));
    q.finish();
    for (const Service &service : services) {
        if (auto inserted = insertServiceRow(service); !inserted)
            return rollback(inserted.error());
    }
    for (const Stream &stream : streams) {
        if (auto inserted = insertStreamRow(stream); !inserted)
            return rollback(inserted.error());
    }
    if (!m_db.commit())
        return rollback(storageError(m_db.lastError()));
    return removed;
}

std::expected<QList<StreamStore::RemovedStream>, ApiError> StreamStore::deleteExpired(
    qint64 nowSeconds)
{
    settleBatch();
    QSqlQuery q(m_db);
    q.prepare(
        QStringLiteral("DELETE FROM streams WHERE date_expires IS NOT NULL AND date_expires <= ? "
                       "RETURNING service_sid, sid"));
    q.addBindValue(nowSeconds);
    if (!q.exec())
        return std::unexpected(storageError(q));
    QList<RemovedStream> removed;
    while (q.next())
        removed.append({q.value(0).toString(), q.value(1).toString()});
    q.finish();
    return removed;
}

std::expected<std::optional<qint64>, ApiError> StreamStore::nextExpiry()
{
    QSqlQuery q(m_db);
    if (!q.exec(
            QStringLiteral("SELECT MIN(date_expires) FROM streams WHERE date_expires IS NOT NULL"))
        || !q.next())
        return std::unexpected(storageError(q));
    if (q.value(0).isNull())
        return std::optional<qint64>();
    return std::optional<qint64>(q.value(0).toLongLong());
}

std::expected<qint64, ApiError> StreamStore::streamCount()
{
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("SELECT COUNT(*) FROM streams")) || !q.next())
        return std::unexpected(storageError(q));
    return q.value(0).toLongLong();
}

std::expected<qint64, ApiError> StreamStore::serviceCount()
{
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("SELECT COUNT(*) FROM services")) || !q.next())
        return std::unexpected(storageError(q));
    return q.value(0).toLongLong();
}

QString StreamStore::integrityCheck()
{
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("PRAGMA integrity_check")) || !q.next())
        return q.lastError().text();
    return q.value(0).toString();
}

} // namespace streams
