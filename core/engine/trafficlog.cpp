#include "engine/trafficlog.h"

#include <chrono>

namespace streams {

qint64 TrafficEntry::monotonicNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

TrafficLog::TrafficLog(bool keepBodies, qsizetype capacity)
    : m_keepBodies(keepBodies), m_capacity(qMax<qsizetype>(1, capacity))
{ }

quint64 TrafficLog::append(TrafficEntry entry)
{
    if (!m_keepBodies)
        entry.body.clear();
    QMutexLocker lock(&m_mutex);
    const quint64 id = entry.id = m_nextId++;
    m_entries.push_back(std::move(entry));
    if (qsizetype(m_entries.size()) > m_capacity)
        m_entries.pop_front();
    return id;
}

TrafficLog::Slice TrafficLog::read(std::optional<quint64> after, qsizetype limit) const
{
    Slice slice;
    limit = qMax<qsizetype>(1, limit);
    QMutexLocker lock(&m_mutex);
    slice.lastId = m_nextId - 1;
    if (m_entries.empty())
        return slice;
    const quint64 oldest = m_entries.front().id;
    std::size_t first = 0;
    if (after) {
        if (*after + 1 < oldest)
            slice.dropped = oldest - *after - 1;
        first = *after >= oldest ? std::size_t(*after - oldest + 1) : 0;
    } else {
        first = m_entries.size() > std::size_t(limit) ? m_entries.size() - std::size_t(limit) : 0;
    }
    for (std::size_t i = first; i < m_entries.size() && slice.entries.size() < limit; ++i)
        slice.entries.append(m_entries[i]);
    return slice;
}

quint64 TrafficLog::lastId() const
{
    QMutexLocker lock(&m_mutex);
    return m_nextId - 1;
}

} // namespace streams
