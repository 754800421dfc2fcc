#pragma once

#include <QByteArray>
#include <QObject>
#include <QQueue>
#include <optional>

class QSocketNotifier;

namespace streams {

/// Reads a file descriptor (stdin) line by line without ever holding more than a bounded amount
/// of it: a QSocketNotifier reads what is available, and stops listening while the consumer has
/// not caught up. Works for pipes that stay open (`tail -f … |`), terminals and regular files.
/// A line longer than kMaxLineBytes is not kept: it comes out as an oversized line so the
/// consumer can report it, and the reader skips to its end.
class NdjsonReader final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NdjsonReader)

public:
    /// No valid message comes close: the service takes at most 1 MiB per request, 4 KiB of data.
    static constexpr qsizetype kMaxLineBytes = 1024 * 1024;

    struct Line
    {
        qint64 number = 0; // 1-based
        QByteArray text; // without the line break; empty when oversized
        bool oversized = false;
    };

    explicit NdjsonReader(int fileDescriptor, QObject *parent = nullptr);
    ~NdjsonReader() override;

    /// The next complete line, if one has been read.
    std::optional<Line> next();
    /// True once the input ended and every line was taken.
    bool atEnd() const { return m_ended && m_lines.isEmpty(); }
    /// Why reading stopped early (a read error); empty at a normal end of input.
    QString error() const { return m_error; }

Q_SIGNALS:
    /// Lines arrived, or the input ended.
    void readyRead();

private:
    void readAvailable();
    void takeLines(QByteArrayView chunk);
    void finishLine();
    void endOfInput();
    void updateListening();

    int m_fd;
    QSocketNotifier *m_notifier = nullptr;
    QQueue<Line> m_lines;
    qsizetype m_queuedBytes = 0;
    QByteArray m_partial;
    bool m_skippingOversized = false;
    qint64 m_lineNumber = 0;
    bool m_ended = false;
    QString m_error;
};

} // namespace streams
