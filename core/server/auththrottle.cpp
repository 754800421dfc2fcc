#include "server/auththrottle.h"

#include <algorithm>

namespace streams {

qint64 AuthThrottle::monotonicMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

QByteArray AuthThrottle::keyOf(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4); // also unwraps ::ffff:a.b.c.d
    if (isV4)
        return QByteArray::number(v4);
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        const Q_IPV6ADDR v6 = address.toIPv6Address();
        return QByteArray(reinterpret_cast<const char *>(v6.c), 8); // the /64
    }
    return address.toString().toLatin1();
}

std::chrono::milliseconds AuthThrottle::delayAfter(int failures) const
{
    const int doublings = std::clamp(failures - m_options.freeFailures, 0, 30);
    const qint64 delay = m_options.firstDelay.count() << doublings;
    return std::chrono::milliseconds(std::min(delay, qint64(m_options.maxDelay.count())));
}

bool AuthThrottle::isExpired(const Entry &entry, qint64 nowMs) const
{
    return nowMs - entry.lastFailureMs > m_options.window.count();
}

AuthThrottle::Admission AuthThrottle::admit(const QHostAddress &address, qint64 nowMs)
{
    const auto it = m_entries.find(keyOf(address));
    if (it == m_entries.end())
        return {};
    Entry &entry = *it;
    if (isExpired(entry, nowMs))
        entry.failures = 0;
    if (entry.failures < m_options.freeFailures)
        return {};
    if (m_held >= m_options.maxHeld || entry.held >= std::max<qsizetype>(1, m_options.maxHeld / 4))
        return {true, {}};
    // Turns are served one after another, so parallel requests queue up behind each other.
    const qint64 turn = std::max(nowMs, entry.nextTurnMs) + delayAfter(entry.failures).count();
    entry.nextTurnMs = turn;
    ++entry.held;
    ++m_held;
    return {false, std::chrono::milliseconds(turn - nowMs)};
}

void AuthThrottle::release(const QHostAddress &address)
{
    if (m_held > 0)
        --m_held;
    const auto it = m_entries.find(keyOf(address));
    if (it == m_entries.end())
        return;
    if (it->held > 0)
        --it->held;
    if (it->failures == 0 && it->held == 0)
        m_entries.erase(it);
}

void AuthThrottle::recordFailure(const QHostAddress &address, qint64 nowMs)
{
    const QByteArray key = keyOf(address);
    auto it = m_entries.find(key);
    if (it == m_entries.end()) {
        if (m_entries.size() >= m_options.maxAddresses)
            evictForNewEntry(nowMs);
        it = m_entries.insert(key, Entry{});
    }
    if (isExpired(*it, nowMs))
        it->failures = 0;
    it->failures = std::min(it->failures + 1, 1'000'000);
    it->lastFailureMs = nowMs;
}

void AuthThrottle::recordSuccess(const QHostAddress &address)
{
    const auto it = m_entries.find(keyOf(address));
    if (it == m_entries.end())
        return;
    // Requests already holding a turn keep it; everything new is checked at once again.
    it->failures = 0;
    it->nextTurnMs = 0;
    if (it->held == 0)
        m_entries.erase(it);
}

int AuthThrottle::failures(const QHostAddress &address, qint64 nowMs) const
{
    const auto it = m_entries.constFind(keyOf(address));
    if (it == m_entries.cend() || isExpired(*it, nowMs))
        return 0;
    return it->failures;
}

void AuthThrottle::evictForNewEntry(qint64 nowMs)
{
    m_entries.removeIf([&](const QHash<QByteArray, Entry>::iterator it) {
        return it->held == 0 && isExpired(*it, nowMs);
    });
    if (m_entries.size() < m_options.maxAddresses)
        return;
    // Still full of live entries: forget the one that failed longest ago. Entries with held
    // requests are skipped (at most maxHeld of them, far fewer than maxAddresses).
    auto stalest = m_entries.end();
    for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
        if (it->held == 0
            && (stalest == m_entries.end() || it->lastFailureMs < stalest->lastFailureMs))
            stalest = it;
    }
    if (stalest != m_entries.end())
        m_entries.erase(stalest);
}

} // namespace streams
