#include "engine/expiryscheduler.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcExpiry, "streams.engine.expiry", QtInfoMsg)

namespace streams {

namespace {
// Re-check at least this often, so a wall-clock jump cannot leave a stream alive for days.
constexpr qint64 kMaxTimerIntervalMs = 60'000;
} // namespace

ExpiryScheduler::ExpiryScheduler(
    StreamStore &store, const Clock &clock, ExpiredHandler onExpired, QObject *parent)
    : QObject(parent), m_store(store), m_clock(clock), m_onExpired(std::move(onExpired))
{
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &ExpiryScheduler::sweep);
}

void ExpiryScheduler::start()
{
    sweep();
}

void ExpiryScheduler::noteExpiry(qint64 dateExpires)
{
    if (!m_armedFor || dateExpires < *m_armedFor)
        arm(dateExpires);
}

void ExpiryScheduler::sweep()
{
    auto removed = m_store.deleteExpired(m_clock.nowSeconds());
    if (!removed) {
        // Leave the rows; reads already hide them. Try again shortly. A full or read-only disk
        // can last for hours: say so once, not every second.
        if (!m_failing)
            qCWarning(lcExpiry) << "expiry sweep failed, retrying every second:"
                                << removed.error().message();
        m_failing = true;
        m_armedFor.reset();
        m_timer.start(1000);
        return;
    }
    if (m_failing) {
        qCInfo(lcExpiry) << "expiry sweep works again";
        m_failing = false;
    }
    if (!removed->isEmpty() && m_onExpired)
        m_onExpired(*removed);
    auto next = m_store.nextExpiry();
    arm(next ? *next : std::nullopt);
}

void ExpiryScheduler::arm(std::optional<qint64> dateExpires)
{
    m_armedFor = dateExpires;
    if (!dateExpires) {
        m_timer.stop();
        return;
    }
    // A stream is gone from its expiry second on; fire exactly at that boundary.
    const qint64 delay =
        qBound<qint64>(0, *dateExpires * 1000 - m_clock.nowMs(), kMaxTimerIntervalMs);
    m_timer.start(std::chrono::milliseconds(delay));
}

} // namespace streams
