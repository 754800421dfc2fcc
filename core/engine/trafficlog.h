#pragma once

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QString>
#include <deque>
#include <optional>

namespace streams {

/// One request or live frame the engine received, as the traffic log keeps it. Never a
/// secret: who sent it is an account SID, an API key SID or a token's identity, and bodies are
/// kept only when the engine was told to (they are the developer's data).
struct TrafficEntry
{
    enum class Kind {
        Rest,
        Live
    };

    quint64 id = 0;
    qint64 timeMs = 0; // when it arrived, ms since the epoch (the engine's clock)
    Kind kind = Kind::Rest;
    QString who; // empty: unknown (no credentials, or before a live connection's init)
    QByteArray method;
    QByteArray path;
    int status = 0;
    int code = 0; // Twilio's error code; 0: none
    double durationMs = 0;
    qint64 bytesIn = 0;
    qint64 bytesOut = 0;
    QString fault; // the fault rule that answered it, if one did
    QByteArray body; // only with TrafficLog::keepsBodies()

    /// A monotonic time in nanoseconds, for durations.
    static qint64 monotonicNs();
};

/// The most recent requests and live frames the engine received, in a bounded ring, for the
/// control plane (`GET /_engine/traffic`) and the console's traffic view. Thread-safe.
class TrafficLog final
{
    Q_DISABLE_COPY_MOVE(TrafficLog)

public:
    static constexpr qsizetype kDefaultCapacity = 10'000;

    explicit TrafficLog(bool keepBodies = false, qsizetype capacity = kDefaultCapacity);

    bool keepsBodies() const { return m_keepBodies; }
    qsizetype capacity() const { return m_capacity; }

    /// Adds `entry` (its id is assigned here) and returns the id.
    quint64 append(TrafficEntry entry);

    struct Slice
    {
        QList<TrafficEntry> entries; // oldest first
        quint64 lastId = 0; // the newest id in the log (0: nothing logged yet)
        quint64 dropped = 0; // entries after `after` the ring no longer holds
    };
    /// Up to `limit` entries with ids after `after`, oldest first; `after` empty: the `limit`
    /// most recent.
    Slice read(std::optional<quint64> after, qsizetype limit) const;
    quint64 lastId() const;

private:
    const bool m_keepBodies;
    const qsizetype m_capacity;
    mutable QMutex m_mutex;
    std::deque<TrafficEntry> m_entries;
    quint64 m_nextId = 1;
};

} // namespace streams
