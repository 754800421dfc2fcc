#pragma once

#include "api/streammessage.h"

#include <QList>
#include <QMutex>
#include <deque>
#include <functional>

namespace streams {

/// One subscriber's view of one stream: a bounded queue of published messages plus a "removed"
/// flag. Thread-safe: the hub delivers from the publishing thread, the subscriber drains from
/// its own. When the queue is full the oldest message is dropped and counted, so a slow
/// subscriber loses its own backlog and never slows the publisher or anyone else.
class Subscription final
{
    Q_DISABLE_COPY_MOVE(Subscription)

public:
    /// What one drain returns.
    struct Batch
    {
        QList<StreamMessage> messages;
        quint64 dropped = 0; // dropped since the previous drain
        bool streamRemoved = false; // the stream was deleted or expired; nothing more will come
    };

    /// `wake` is called (on the publisher's thread) when the queue goes from empty to non-empty
    /// or the stream is removed; it must be cheap and thread-safe, e.g. a queued invokeMethod.
    Subscription(
        QString serviceSid, QString streamSid, qsizetype capacity, std::function<void()> wake);

    const QString &serviceSid() const { return m_serviceSid; }
    const QString &streamSid() const { return m_streamSid; }
    qsizetype capacity() const { return m_capacity; }

    Batch drain();
    quint64 totalDropped() const;
    qsizetype pending() const;

    // Called by FanoutHub.
    void deliver(const StreamMessage &message);
    void markRemoved();

private:
    const QString m_serviceSid;
    const QString m_streamSid;
    const qsizetype m_capacity;
    const std::function<void()> m_wake;

    mutable QMutex m_mutex;
    std::deque<StreamMessage> m_queue;
    quint64 m_droppedSinceDrain = 0;
    quint64 m_totalDropped = 0;
    bool m_removed = false;
    bool m_wakePending = false;
};

} // namespace streams
