#include "ui/liveview/ndjsonexport.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QPromise>
#include <QSaveFile>
#include <QThreadPool>
#include <climits>
#include <memory>
#include <optional>

namespace streams {

namespace {

void appendJsonString(QByteArray &out, QByteArrayView utf8)
{
    static constexpr char kHex[] = "0123456789abcdef";
    out.append('"');
    for (const char c : utf8) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
            if (u < 0x20) {
                out.append("\\u00");
                out.append(kHex[u >> 4]);
                out.append(kHex[u & 0xf]);
            } else {
                out.append(c); // UTF-8 passes through: JSON text is UTF-8
            }
        }
    }
    out.append('"');
}

bool isJsonObject(const QByteArray &data)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(data, &error);
    return error.error == QJsonParseError::NoError && document.isObject();
}

} // namespace

QByteArray NdjsonExport::formatLine(const Record &record)
{
    QByteArray line;
    line.reserve(record.data.size() + record.sid.size() + 64);
    line.append("{\"sid\":");
    appendJsonString(line, record.sid.toUtf8());
    line.append(",\"received\":");
    appendJsonString(line,
        QDateTime::fromMSecsSinceEpoch(record.receivedMs)
            .toUTC()
            .toString(Qt::ISODateWithMs)
            .toLatin1());
    line.append(",\"data\":");
    if (isJsonObject(record.data))
        line.append(record.data.trimmed());
    else
        appendJsonString(line, record.data);
    line.append("}\n");
    return line;
}

namespace {

// Writes the file; `step(written)` is called every kProgressStep records and says whether to go
// on. A stop leaves the QSaveFile uncommitted, so the target is untouched.
template<typename Step>
std::optional<NdjsonExport::Result> writeRecords(
    const QString &path, const QList<NdjsonExport::Record> &records, Step step)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return std::unexpected(file.errorString());
    // Buffer a few hundred KiB at a time: one write per line would be a system call per message.
    QByteArray chunk;
    constexpr qsizetype kChunkBytes = 256 * 1024;
    qsizetype written = 0;
    for (const NdjsonExport::Record &record : records) {
        chunk.append(NdjsonExport::formatLine(record));
        if (chunk.size() >= kChunkBytes) {
            if (file.write(chunk) != chunk.size())
                return std::unexpected(file.errorString());
            chunk.clear();
        }
        ++written;
        if (written % NdjsonExport::kProgressStep == 0 && !step(written))
            return std::nullopt;
    }
    if (!chunk.isEmpty() && file.write(chunk) != chunk.size())
        return std::unexpected(file.errorString());
    if (!step(written)) // a cancel during the last records still leaves nothing behind
        return std::nullopt;
    if (!file.commit())
        return std::unexpected(file.errorString());
    return records.size();
}

} // namespace

NdjsonExport::Result NdjsonExport::writeNow(const QString &path, const QList<Record> &records)
{
    return *writeRecords(path, records, [](qsizetype) { return true; });
}

QFuture<NdjsonExport::Result> NdjsonExport::write(const QString &path, QList<Record> records)
{
    // QRunnable takes a copyable callable; the move-only promise rides in a shared_ptr.
    auto promise = std::make_shared<QPromise<Result>>();
    QFuture<Result> future = promise->future();
    promise->setProgressRange(0, int(std::min<qsizetype>(records.size(), INT_MAX)));
    promise->start();
    QThreadPool::globalInstance()->start([promise, path, records = std::move(records)] {
        const std::optional<Result> result =
            writeRecords(path, records, [&promise](qsizetype written) {
                promise->setProgressValue(int(std::min<qsizetype>(written, INT_MAX)));
                return !promise->isCanceled();
            });
        if (result) {
            promise->setProgressValue(int(std::min<qsizetype>(records.size(), INT_MAX)));
            promise->addResult(*result);
        }
        promise->finish();
    });
    return future;
}

} // namespace streams
