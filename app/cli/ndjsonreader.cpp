#include "ndjsonreader.h"

#include <QSocketNotifier>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace streams {

namespace {
// Back-pressure: stop reading while this much waits for the consumer (the publisher sends one
// request at a time, so input can arrive far faster than it is used).
constexpr qsizetype kMaxQueuedLines = 1000;
constexpr qsizetype kMaxQueuedBytes = 4 * 1024 * 1024;
constexpr qsizetype kReadChunk = 64 * 1024;
} // namespace

NdjsonReader::NdjsonReader(int fileDescriptor, QObject *parent)
    : QObject(parent), m_fd(fileDescriptor)
{
    m_notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &NdjsonReader::readAvailable);
}

NdjsonReader::~NdjsonReader() = default;

std::optional<NdjsonReader::Line> NdjsonReader::next()
{
    if (m_lines.isEmpty())
        return std::nullopt;
    Line line = m_lines.dequeue();
    m_queuedBytes -= line.text.size();
    updateListening();
    return line;
}

void NdjsonReader::readAvailable()
{
    // The notifier said the descriptor is readable, so one read() returns without blocking:
    // whatever a pipe holds, the next chunk of a file, or 0 at the end.
    QByteArray buffer(kReadChunk, Qt::Uninitialized);
    ssize_t count = 0;
    do {
        count = ::read(m_fd, buffer.data(), size_t(buffer.size()));
    } while (count < 0 && errno == EINTR);
    if (count < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        m_error = QString::fromLocal8Bit(std::strerror(errno));
        endOfInput();
        return;
    }
    if (count == 0) {
        endOfInput();
        return;
    }
    takeLines(QByteArrayView(buffer.constData(), count));
    updateListening();
    Q_EMIT readyRead();
}

void NdjsonReader::takeLines(QByteArrayView chunk)
{
    while (!chunk.isEmpty()) {
        const qsizetype newline = chunk.indexOf('\n');
        const QByteArrayView piece = newline < 0 ? chunk : chunk.first(newline);
        if (!m_skippingOversized) {
            if (m_partial.size() + piece.size() > kMaxLineBytes) {
                // Report it now and drop the rest of it as it comes: never buffer a huge line.
                m_partial.clear();
                m_skippingOversized = true;
            } else {
                m_partial.append(piece);
            }
        }
        if (newline < 0)
            return;
        finishLine();
        chunk = chunk.sliced(newline + 1);
    }
}

void NdjsonReader::finishLine()
{
    Line line;
    line.number = ++m_lineNumber;
    line.oversized = m_skippingOversized;
    if (!line.oversized) {
        line.text = std::exchange(m_partial, {});
        if (line.text.endsWith('\r')) // CRLF files from Windows editors
            line.text.chop(1);
    }
    m_skippingOversized = false;
    m_queuedBytes += line.text.size();
    m_lines.enqueue(line);
}

void NdjsonReader::endOfInput()
{
    if (m_ended)
        return;
    // A last line without a line break still counts.
    if (!m_partial.isEmpty() || m_skippingOversized)
        finishLine();
    m_ended = true;
    m_notifier->setEnabled(false);
    Q_EMIT readyRead();
}

void NdjsonReader::updateListening()
{
    if (m_ended)
        return;
    const bool full = m_lines.size() >= kMaxQueuedLines || m_queuedBytes >= kMaxQueuedBytes;
    if (m_notifier->isEnabled() == full)
        m_notifier->setEnabled(!full);
}

} // namespace streams
