#pragma once

#include <QtGlobal>
#include <atomic>

namespace streams {

/// Wall-clock time for everything in the engine that depends on it (dates, TTL expiry, publish
/// rate). Injected so tests can move time by hand (tests/support/manualclock.h).
class Clock
{
public:
    virtual ~Clock() = default;
    /// Milliseconds since the Unix epoch, UTC.
    virtual qint64 nowMs() const = 0;
    qint64 nowSeconds() const;

    /// The real clock.
    static const Clock &system();
};

/// The engine's own time: another clock moved forward by an offset that only grows (the control
/// plane's `POST /_engine/clock`). Time travel for TTLs without touching the system clock.
class OffsetClock final : public Clock
{
public:
    explicit OffsetClock(const Clock &base) : m_base(base) { }
    qint64 nowMs() const override { return m_base.nowMs() + m_offsetMs.load(); }
    qint64 offsetMs() const { return m_offsetMs.load(); }
    /// Moves this clock forward; never back.
    void advanceMs(qint64 ms) { m_offsetMs.fetch_add(qMax<qint64>(0, ms)); }
    const Clock &base() const { return m_base; }

private:
    const Clock &m_base;
    std::atomic<qint64> m_offsetMs{0};
};

} // namespace streams
