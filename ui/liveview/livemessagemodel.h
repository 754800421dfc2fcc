#pragma once

#include "api/streammessage.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QElapsedTimer>
#include <QTimer>
#include <deque>

namespace streams {

/// The live view's rows: one stream's messages in arrival order, held in a bounded ring buffer.
///
/// Arrivals are queued by appendMessages() and inserted by flush(), which runs on a timer
/// (≈50 ms), so a firehose costs the view one beginInsertRows(first, last) per batch instead of
/// one per message. When the buffer is full, the oldest rows leave from the front in one
/// beginRemoveRows per batch; they are counted in droppedCount(). The model never resets, so a
/// view's selection (persistent indexes) survives traffic, Clear and capacity changes.
///
/// Pause stops inserting but not collecting: arrivals wait in a pending queue that is itself
/// bounded by the capacity, so resuming shows exactly the newest `capacity` messages and counts
/// everything older as dropped. Nothing is ever dropped silently.
///
/// Counting (all exact): totalReceived() == rowCount() + pendingCount() + droppedCount().
/// droppedUpstreamCount() is separate: messages the subscription reports lost before they
/// reached us, which were therefore never received.
class LiveMessageModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveMessageModel)

public:
    enum Column {
        TimeColumn,
        SidColumn,
        SizeColumn,
        PreviewColumn,
        ColumnCount
    };

    enum Role {
        MessageRole = Qt::UserRole + 1, // QVariant::fromValue(LiveMessageModel::Message)
        SidRole, // QString
        DataRole, // QByteArray, the compact JSON as received
        ReceivedRole, // QDateTime, local arrival time
        SequenceRole, // quint64, unique per model, increasing with arrival
    };

    /// One received message: what a row shows and what the detail pane, diff and export need.
    struct Message
    {
        QString sid;
        QByteArray data; // compact JSON, implicitly shared with the subscription's copy
        qint64 receivedMs = 0; // arrival, ms since the epoch
        quint64 sequence = 0; // arrival order; stable across evictions (rows are not)

        QDateTime received() const { return QDateTime::fromMSecsSinceEpoch(receivedMs); }
    };

    static constexpr int kDefaultFlushIntervalMs = 50;
    static constexpr int kPreviewChars = 200;

    static constexpr int kDefaultCapacity = 10'000;

    explicit LiveMessageModel(int capacity = kDefaultCapacity, QObject *parent = nullptr);
    ~LiveMessageModel() override;

    int capacity() const { return m_capacity; }
    /// Takes effect at once: excess rows leave from the front (counted as dropped).
    void setCapacity(int capacity);

    bool isPaused() const { return m_paused; }
    /// Resuming flushes what was collected meanwhile.
    void setPaused(bool paused);

    int flushInterval() const { return m_flushTimer.interval(); }
    void setFlushInterval(int milliseconds) { m_flushTimer.setInterval(milliseconds); }

    /// Queues arrivals (oldest first) for the next flush. `droppedUpstream` were lost before
    /// them (LiveSubscription::messagesReceived's second argument).
    void appendMessages(const QList<StreamMessage> &messages, quint64 droppedUpstream = 0);
    /// Inserts everything pending now, as the timer would; a no-op while paused.
    void flush();
    /// Removes every row and pending message and zeroes the counters (an explicit user action,
    /// so nothing it removes is "dropped").
    void clear();

    /// The message at `row` (0 ≤ row < rowCount()).
    const Message &messageAt(int row) const { return m_rows[static_cast<size_t>(row)]; }
    /// The row of the message with `sequence`, or -1 when it is no longer (or not yet) shown.
    int rowOfSequence(quint64 sequence) const;

    quint64 totalReceived() const { return m_received; }
    qsizetype pendingCount() const { return qsizetype(m_pending.size()); }
    quint64 droppedCount() const { return m_dropped; }
    quint64 droppedUpstreamCount() const { return m_droppedUpstream; }
    /// Messages per second over the last completed sampling second.
    double messageRate() const { return m_lastRate; }
    /// Ends the current rate sample now and emits rateSampled() (the timer does this every
    /// second; tests and benchmarks may call it themselves).
    void sampleRate();

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// One line of compact JSON, at most kPreviewChars characters.
    static QString previewText(const QByteArray &data);

Q_SIGNALS:
    /// After each flush, clear and capacity change; cheap to connect, emitted at most once per
    /// flush.
    void countersChanged();
    void pausedChanged(bool paused);
    /// Once a second: messages received per second during the last sample.
    void rateSampled(double messagesPerSecond);
    /// After a flush changed rows: `inserted` new rows at the end, `removed` old ones from the
    /// front. For benchmarks and views that keep their place.
    void flushed(int inserted, int removed);

private:
    void removeFront(int count);

    int m_capacity;
    bool m_paused = false;
    std::deque<Message> m_rows;
    std::deque<Message> m_pending; // never longer than m_capacity
    quint64 m_nextSequence = 1;

    quint64 m_received = 0;
    quint64 m_dropped = 0;
    quint64 m_droppedUpstream = 0;

    QTimer m_flushTimer;
    QTimer m_rateTimer;
    QElapsedTimer m_rateClock;
    quint64 m_arrivalsThisSample = 0;
    double m_lastRate = 0.0;
};

} // namespace streams

Q_DECLARE_METATYPE(streams::LiveMessageModel::Message)
