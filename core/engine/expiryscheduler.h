#pragma once

#include "engine/clock.h"
#include "engine/streamstore.h"

#include <QObject>
#include <QTimer>
#include <functional>
#include <optional>

namespace streams {

/// Deletes streams when their TTL runs out. One timer for the whole engine, armed for the
/// earliest `date_expires` in the store (never one timer per stream), so a million streams with
/// TTLs cost one index lookup per expiry, and streams that expired while the engine was down are
/// swept on start. Reads do not wait for it: the store already hides expired rows.
class ExpiryScheduler final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ExpiryScheduler)

public:
    using ExpiredHandler = std::function<void(const QList<StreamStore::RemovedStream> &)>;

    ExpiryScheduler(StreamStore &store, const Clock &clock, ExpiredHandler onExpired,
        QObject *parent = nullptr);

    /// Sweeps what is already due and arms the timer.
    void start();
    /// Tells the scheduler a stream now expires at `dateExpires`; re-arms if that is sooner.
    void noteExpiry(qint64 dateExpires);
    /// Deletes every stream due by the clock's now, reports them, and re-arms.
    void sweep();

    /// The expiry (seconds since the epoch) the timer is armed for, if any.
    std::optional<qint64> armedFor() const { return m_armedFor; }

private:
    void arm(std::optional<qint64> dateExpires);

    StreamStore &m_store;
    const Clock &m_clock;
    ExpiredHandler m_onExpired;
    QTimer m_timer;
    std::optional<qint64> m_armedFor;
    bool m_failing = false; // the last sweep failed (logged once until one succeeds)
};

} // namespace streams
