#pragma once

#include <QHash>
#include <QHostAddress>
#include <chrono>
#include <optional>

namespace streams {

/// Slows down a client address that keeps failing authentication, on the REST port and the
/// twilsock endpoint alike. The first `freeFailures` failures within `window` cost nothing; after
/// that every request from the address waits its turn before its credentials are even looked
/// at, one turn per `delay` (doubling from `firstDelay` with each further failure, up to
/// `maxDelay`). Holding the request rather than only its 401 matters: otherwise a client could
/// fire guesses in parallel and learn of the right one at full speed. A success resets the
/// address. The table is bounded (`maxAddresses`), and so are the requests held at once
/// (`maxHeld`, and a quarter of it per address); past either, a request is refused unchecked.
///
/// IPv6 clients are keyed by their /64, the block one host usually controls. Not thread-safe:
/// used on the engine thread. Times are a monotonic millisecond count supplied by the caller.
class AuthThrottle final
{
public:
    struct Options
    {
        int freeFailures = 5;
        std::chrono::milliseconds window{60'000};
        std::chrono::milliseconds firstDelay{500};
        std::chrono::milliseconds maxDelay{10'000};
        qsizetype maxAddresses = 4096;
        qsizetype maxHeld = 256;
    };

    AuthThrottle() = default;
    explicit AuthThrottle(Options options) : m_options(options) { }

    /// What to do with a request from `address` that carries credentials.
    struct Admission
    {
        bool refused = false; // too many held already: answer 429 without checking
        std::chrono::milliseconds wait{0}; // hold this long, then check (0: check now)
    };
    /// Reserves the request's turn. A request told to wait must be followed by release() once
    /// its turn has come, whatever happened meanwhile.
    Admission admit(const QHostAddress &address, qint64 nowMs);
    void release(const QHostAddress &address);

    void recordFailure(const QHostAddress &address, qint64 nowMs);
    void recordSuccess(const QHostAddress &address);

    /// Failures counted against `address` in its current window (tests, diagnostics).
    int failures(const QHostAddress &address, qint64 nowMs) const;
    qsizetype trackedAddresses() const { return m_entries.size(); }
    qsizetype held() const { return m_held; }
    const Options &options() const { return m_options; }

    /// A steady millisecond clock for callers that have no other.
    static qint64 monotonicMs();

private:
    struct Entry
    {
        int failures = 0;
        qint64 lastFailureMs = 0;
        qint64 nextTurnMs = 0; // when the latest held request from here gets its turn
        int held = 0;
    };

    static QByteArray keyOf(const QHostAddress &address);
    std::chrono::milliseconds delayAfter(int failures) const;
    bool isExpired(const Entry &entry, qint64 nowMs) const;
    /// Makes room for one more address: drops expired entries, then the stalest one.
    void evictForNewEntry(qint64 nowMs);

    Options m_options;
    QHash<QByteArray, Entry> m_entries;
    qsizetype m_held = 0;
};

} // namespace streams
