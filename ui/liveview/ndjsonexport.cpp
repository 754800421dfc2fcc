#include "ui/liveview/ndjsonexport.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QPromise>
#include <QSaveFile>
#include <QThreadPool>
#include <memory>

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

NdjsonExport::Result NdjsonExport::writeNow(const QString &path, const QList<Record> &records)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return std::unexpected(file.errorString());
    // Buffer a few hundred KiB at a time: one write per line would be a system call per message.
    QByteArray chunk;
    constexpr qsizetype kChunkBytes = 256 * 1024;
    for (const Record &record : records) {
        chunk.append(formatLine(record));
        if (chunk.size() >= kChunkBytes) {
            if (file.write(chunk) != chunk.size())
                return std::unexpected(file.errorString());
            chunk.clear();
        }
    }
    if (!chunk.isEmpty() && file.write(chunk) != chunk.size())
        return std::unexpected(file.errorString());
    if (!file.commit())
        return std::unexpected(file.errorString());
    return records.size();
}

QFuture<NdjsonExport::Result> NdjsonExport::write(const QString &path, QList<Record> records)
{
    // QRunnable takes a copyable callable; the move-only promise rides in a shared_ptr.
    auto promise = std::make_shared<QPromise<Result>>();
    QFuture<Result> future = promise->future();
    promise->start();
    QThreadPool::globalInstance()->start([promise, path, records = std::move(records)] {
        promise->addResult(writeNow(path, records));
        promise->finish();
    });
    return future;
}

} // namespace streams
