#pragma once

#include "engine/clock.h"

#include <QHash>
#include <QString>
#include <optional>

namespace streams {

/// The per-stream publish limit: a token bucket refilled at `ratePerSecond` that holds
/// `burstSeconds` worth of tokens, so a stream can burst 300 messages and then sustain 30/s by
/// default. Without a rate the limiter is off (for load tests). Owner thread only.
class PublishLimiter final
{
public:
    PublishLimiter(const Clock &clock, std::optional<double> ratePerSecond, int burstSeconds);

    /// Takes one token for `streamSid`; false means the publish must be refused (54009).
    bool tryAcquire(const QString &streamSid);
    /// Drops the bucket of a deleted stream.
    void forget(const QString &streamSid);

    std::optional<double> ratePerSecond() const { return m_rate; }
    double capacity() const { return m_capacity; }

private:
    struct Bucket
    {
        double tokens = 0;
        qint64 refilledAtMs = 0;
    };

    const Clock &m_clock;
    std::optional<double> m_rate;
    double m_capacity = 0;
    QHash<QString, Bucket> m_buckets;
};

} // namespace streams
