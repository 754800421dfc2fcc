#include "engine/publishlimiter.h"

namespace streams {

PublishLimiter::PublishLimiter(
    const Clock &clock, std::optional<double> ratePerSecond, int burstSeconds)
    : m_clock(clock),
      m_rate(ratePerSecond),
      m_capacity(ratePerSecond ? qMax(1.0, *ratePerSecond * burstSeconds) : 0)
{ }

bool PublishLimiter::tryAcquire(const QString &streamSid)
{
    if (!m_rate)
        return true;
    const qint64 now = m_clock.nowMs();
    auto it = m_buckets.find(streamSid);
    if (it == m_buckets.end())
        it = m_buckets.insert(streamSid, Bucket{m_capacity, now}); // a new stream starts full
    Bucket &bucket = *it;
    if (now > bucket.refilledAtMs) {
        bucket.tokens =
            qMin(m_capacity, bucket.tokens + (now - bucket.refilledAtMs) * *m_rate / 1000.0);
        bucket.refilledAtMs = now;
    }
    if (bucket.tokens < 1.0)
        return false;
    bucket.tokens -= 1.0;
    return true;
}

void PublishLimiter::forget(const QString &streamSid)
{
    m_buckets.remove(streamSid);
}

} // namespace streams
