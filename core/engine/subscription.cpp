#include "engine/subscription.h"

namespace streams {

Subscription::Subscription(
    QString serviceSid, QString streamSid, qsizetype capacity, std::function<void()> wake)
    : m_serviceSid(std::move(serviceSid)),
      m_streamSid(std::move(streamSid)),
      m_capacity(qMax<qsizetype>(1, capacity)),
      m_wake(std::move(wake))
{ }

Subscription::Batch Subscription::drain()
{
    Batch batch;
    QMutexLocker lock(&m_mutex);
    batch.messages.reserve(qsizetype(m_queue.size()));
    for (StreamMessage &message : m_queue)
        batch.messages.append(std::move(message));
    m_queue.clear();
    batch.dropped = std::exchange(m_droppedSinceDrain, 0);
    batch.streamRemoved = m_removed;
    m_wakePending = false;
    return batch;
}

quint64 Subscription::totalDropped() const
{
    QMutexLocker lock(&m_mutex);
    return m_totalDropped;
}

qsizetype Subscription::pending() const
{
    QMutexLocker lock(&m_mutex);
    return qsizetype(m_queue.size());
}

void Subscription::deliver(const StreamMessage &message)
{
    bool wake = false;
    {
        QMutexLocker lock(&m_mutex);
        if (m_removed)
            return;
        if (qsizetype(m_queue.size()) >= m_capacity) {
            m_queue.pop_front();
            ++m_droppedSinceDrain;
            ++m_totalDropped;
        }
        m_queue.push_back(message);
        // One wake per drain: a subscriber that is behind gets no flood of wake-ups.
        wake = !std::exchange(m_wakePending, true);
    }
    if (wake && m_wake)
        m_wake();
}

void Subscription::markRemoved()
{
    {
        QMutexLocker lock(&m_mutex);
        if (m_removed)
            return;
        m_removed = true;
        m_wakePending = true;
    }
    if (m_wake)
        m_wake();
}

} // namespace streams
