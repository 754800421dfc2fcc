#pragma once

#include <QByteArray>
#include <QFuture>
#include <QList>
#include <QString>
#include <expected>

namespace streams {

/// Messages recorded as NDJSON, read back for a replay: one JSON object per line with the
/// message's `data` (a JSON object) and, optionally, when it arrived — `received` as the console's
/// live view exports it ("2024-05-01T12:00:00.123Z") or `received_at` as `streams-cli subscribe`
/// writes it ("2024-05-01T12:00:00Z"). Other members (`sid`) are ignored. Blank lines, a trailing
/// newline, CRLF line ends and a UTF-8 byte order mark are accepted.
///
/// A file is validated whole before anything is published, so that a replay never stops half way
/// on a malformed line: the first bad line is reported with its number (and JSON column).
class MessageRecording final
{
public:
    struct Record
    {
        qint64 line = 0; // 1-based, in the file
        qint64 receivedMs = -1; // ms since the epoch; -1 when the line gave no time
        QByteArray data; // compact JSON object, as parseMessageData() makes it
    };

    /// Why a recording cannot be replayed: the first bad line, where in it (`column` 0 when the
    /// line is valid JSON and a member is wrong) and what is wrong.
    struct Problem
    {
        qint64 line = 0; // 0: the file itself (unreadable, empty)
        int column = 0;
        QString message;

        /// "line 3, column 7: …", "line 3: …" or the message alone.
        QString text() const;
    };

    using Result = std::expected<QList<Record>, Problem>;

    /// Parses a whole recording. At least one message, or a Problem.
    static Result parse(QByteArrayView text);
    /// Reads and parses the file at `path` on a pool thread; the future finishes there, so attach
    /// a continuation with a context object. Never blocks the caller.
    static QFuture<Result> read(const QString &path);
};

} // namespace streams
