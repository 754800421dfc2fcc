#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QFuture>
#include <QList>
#include <QString>
#include <expected>

namespace streams {

/// Writes messages as NDJSON, one `{"sid":…,"received":…,"data":{…}}` object per line, in the
/// order given. `received` is UTC ISO 8601 with milliseconds ("2024-05-01T12:00:00.123Z").
/// `data` is written as received (compact JSON, so key order and number spelling survive); a
/// payload that is not a JSON object (possible only from a misbehaving remote peer) is written
/// as a JSON string instead, so every line stays valid JSON.
///
/// Exporting is an explicit user action: message data may be personal data.
class NdjsonExport final
{
public:
    struct Record
    {
        QString sid;
        qint64 receivedMs = 0; // ms since the epoch
        QByteArray data;
    };

    /// Lines written, or a message saying why nothing was written.
    using Result = std::expected<qsizetype, QString>;

    /// One line, with its trailing '\n'.
    static QByteArray formatLine(const Record &record);
    /// Records between progress reports and checks for a cancel.
    static constexpr qsizetype kProgressStep = 1000;

    /// Writes `records` to `path` (replaced atomically through QSaveFile) on a pool thread; the
    /// future finishes there, so watch it (QFutureWatcher) or attach a continuation with a
    /// context object to use the result on the GUI thread. Never blocks the caller.
    ///
    /// The future reports progress in records written (range 0 to records.size()). Cancelling
    /// it stops the writing and leaves `path` as it was: nothing is committed, and the future
    /// holds no result.
    static QFuture<Result> write(const QString &path, QList<Record> records);
    /// The same, synchronously on the calling thread (what write() runs on its worker).
    static Result writeNow(const QString &path, const QList<Record> &records);
};

} // namespace streams
