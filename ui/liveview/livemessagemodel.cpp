#include "ui/liveview/livemessagemodel.h"

#include <QJsonDocument>
#include <QLocale>
#include <algorithm>

namespace streams {

namespace {
// Bytes decoded for a preview: enough for kPreviewChars characters even if every one of them
// takes four bytes of UTF-8, so the cut is always made on characters, never mid-sequence.
constexpr qsizetype kPreviewBytes = LiveMessageModel::kPreviewChars * 4 + 4;
// A tooltip shows the pretty JSON, but a 4 KiB payload pretty-printed is taller than a screen.
constexpr int kTooltipLines = 40;
} // namespace

LiveMessageModel::LiveMessageModel(int capacity, QObject *parent)
    : QAbstractTableModel(parent), m_capacity(std::max(1, capacity))
{
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(kDefaultFlushIntervalMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &LiveMessageModel::flush);

    m_rateTimer.setInterval(1000);
    connect(&m_rateTimer, &QTimer::timeout, this, &LiveMessageModel::sampleRate);
    m_rateTimer.start();
    m_rateClock.start();
}

LiveMessageModel::~LiveMessageModel() = default;

void LiveMessageModel::setCapacity(int capacity)
{
    capacity = std::max(1, capacity);
    if (capacity == m_capacity)
        return;
    m_capacity = capacity;
    while (m_pending.size() > size_t(m_capacity)) {
        m_pending.pop_front();
        ++m_dropped;
    }
    // While paused the rows stay as the user froze them; the next flush trims them anyway.
    if (!m_paused && m_rows.size() > size_t(m_capacity))
        removeFront(int(m_rows.size()) - m_capacity);
    Q_EMIT countersChanged();
}

void LiveMessageModel::setPaused(bool paused)
{
    if (paused == m_paused)
        return;
    m_paused = paused;
    Q_EMIT pausedChanged(m_paused);
    if (!m_paused)
        flush();
}

void LiveMessageModel::appendMessages(const QList<StreamMessage> &messages, quint64 droppedUpstream)
{
    m_droppedUpstream += droppedUpstream;
    if (messages.isEmpty()) {
        if (droppedUpstream)
            Q_EMIT countersChanged();
        return;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    m_received += quint64(messages.size());
    m_arrivalsThisSample += quint64(messages.size());

    // Only the newest `capacity` of a batch can ever be shown: skip the rest without queueing
    // them, so an oversized batch never becomes rows that are inserted and removed again.
    const qsizetype skip = std::max<qsizetype>(0, messages.size() - m_capacity);
    m_dropped += quint64(skip);
    m_nextSequence += quint64(skip);
    const qsizetype overflow =
        qsizetype(m_pending.size()) + (messages.size() - skip) - qsizetype(m_capacity);
    for (qsizetype i = 0; i < overflow; ++i)
        m_pending.pop_front();
    m_dropped += quint64(std::max<qsizetype>(0, overflow));
    for (qsizetype i = skip; i < messages.size(); ++i) {
        const StreamMessage &message = messages.at(i);
        m_pending.push_back({message.sid, message.data, now, m_nextSequence++});
    }

    if (!m_paused && !m_flushTimer.isActive())
        m_flushTimer.start();
}

void LiveMessageModel::flush()
{
    m_flushTimer.stop();
    if (m_paused || m_pending.empty())
        return;

    // m_pending holds at most m_capacity messages, so the rows to evict are all old rows: the
    // new batch is never inserted only to be removed.
    const int incoming = int(m_pending.size());
    const int evict = std::max(0, int(m_rows.size()) + incoming - m_capacity);
    if (evict > 0)
        removeFront(evict);

    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + incoming - 1); // `last` is inclusive
    std::move(m_pending.begin(), m_pending.end(), std::back_inserter(m_rows));
    m_pending.clear();
    endInsertRows();

    Q_EMIT flushed(incoming, evict);
    Q_EMIT countersChanged();
}

void LiveMessageModel::removeFront(int count)
{
    count = std::min(count, int(m_rows.size()));
    if (count <= 0)
        return;
    beginRemoveRows({}, 0, count - 1);
    m_rows.erase(m_rows.begin(), m_rows.begin() + count);
    endRemoveRows();
    m_dropped += quint64(count);
}

void LiveMessageModel::clear()
{
    m_flushTimer.stop();
    m_pending.clear();
    if (!m_rows.empty()) {
        // Row removal, not a reset: views keep their state and the selection simply empties.
        beginRemoveRows({}, 0, int(m_rows.size()) - 1);
        m_rows.clear();
        endRemoveRows();
    }
    m_received = 0;
    m_dropped = 0;
    m_droppedUpstream = 0;
    Q_EMIT countersChanged();
}

int LiveMessageModel::rowOfSequence(quint64 sequence) const
{
    // Sequences increase along the rows, so binary search finds it.
    const auto it = std::lower_bound(m_rows.begin(), m_rows.end(), sequence,
        [](const Message &message, quint64 value) { return message.sequence < value; });
    if (it == m_rows.end() || it->sequence != sequence)
        return -1;
    return int(it - m_rows.begin());
}

void LiveMessageModel::sampleRate()
{
    // Restarting the timer keeps every sample about a second long, even when called by hand.
    m_rateTimer.start();
    const qint64 elapsed = m_rateClock.restart();
    m_lastRate = elapsed > 0 ? double(m_arrivalsThisSample) * 1000.0 / double(elapsed) : 0.0;
    m_arrivalsThisSample = 0;
    Q_EMIT rateSampled(m_lastRate);
}

int LiveMessageModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int LiveMessageModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString LiveMessageModel::previewText(const QByteArray &data)
{
    QString text = QString::fromUtf8(data.left(kPreviewBytes));
    // Compact JSON has no raw line breaks, but a remote peer's payload might; keep it one line.
    for (QChar &c : text) {
        if (c == u'\n' || c == u'\r' || c == u'\t')
            c = u' ';
    }
    if (text.size() > kPreviewChars || data.size() > kPreviewBytes) {
        text.truncate(kPreviewChars - 1);
        text.append(QChar(0x2026)); // …
    }
    return text;
}

QVariant LiveMessageModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Message &message = messageAt(index.row());
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn: return message.received().toString(QStringLiteral("hh:mm:ss.zzz"));
        case SidColumn: return message.sid;
        case SizeColumn: return QLocale().toString(message.data.size());
        case PreviewColumn: return previewText(message.data);
        }
        return {};
    case Qt::ToolTipRole:
        switch (index.column()) {
        case TimeColumn: return QLocale().toString(message.received(), QLocale::LongFormat);
        case SidColumn: return message.sid;
        case SizeColumn:
            return tr("%1 bytes of compact JSON").arg(QLocale().toString(message.data.size()));
        case PreviewColumn: {
            const QJsonDocument document = QJsonDocument::fromJson(message.data);
            if (document.isNull())
                return previewText(message.data);
            QStringList lines =
                QString::fromUtf8(document.toJson(QJsonDocument::Indented)).split(u'\n');
            if (lines.size() > kTooltipLines) {
                lines.resize(kTooltipLines);
                lines.append(QStringLiteral("…"));
            }
            return lines.join(u'\n');
        }
        }
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == SizeColumn)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case MessageRole: return QVariant::fromValue(message);
    case SidRole: return message.sid;
    case DataRole: return message.data;
    case ReceivedRole: return message.received();
    case SequenceRole: return QVariant::fromValue(message.sequence);
    }
    return {};
}

QVariant LiveMessageModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case TimeColumn: return tr("Time");
        case SidColumn: return tr("Message SID");
        case SizeColumn: return tr("Size");
        case PreviewColumn: return tr("Preview");
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case TimeColumn: return tr("Arrival time (local)");
        case SizeColumn: return tr("Size of the compact JSON in bytes");
        }
    }
    return {};
}

} // namespace streams
