#pragma once

#include <QtGlobal>

namespace streams {

/// Wall-clock time for everything in the engine that depends on it (dates, TTL expiry, publish
/// rate). Injected so tests can move time by hand (see ManualClock).
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

} // namespace streams
