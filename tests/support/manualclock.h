#pragma once

#include "engine/clock.h"

#include <atomic>

namespace streams {

/// A clock that only moves when told to, for tests of expiry and rate limiting.
class ManualClock final : public Clock
{
public:
    explicit ManualClock(qint64 startMs = 1'795'000'000'000) : m_ms(startMs) { }
    qint64 nowMs() const override { return m_ms.load(); }
    void setNowMs(qint64 ms) { m_ms.store(ms); }
    void advanceMs(qint64 ms) { m_ms.fetch_add(ms); }

private:
    std::atomic<qint64> m_ms;
};

} // namespace streams
