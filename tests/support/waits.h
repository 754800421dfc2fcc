#pragma once

#include <QSignalSpy>
#include <QTest>

namespace streams::testing {

/// For checks that something must NOT happen (a retry, a reconnect, an answer to a request that
/// is not whole yet): runs the event loop for `ms` and returns false as soon as `holds` stops
/// holding. There is no event to wait for here, only a window in which the wrong thing would
/// have shown; anything a test waits *for* is a QTRY_* or a QSignalSpy::wait on it instead.
template<typename Predicate>
[[nodiscard]] bool holdsFor(Predicate holds, int ms)
{
    return !QTest::qWaitFor([&] { return !holds(); }, ms);
}

/// holdsFor() for a signal: true if `spy` records nothing more within `ms`.
[[nodiscard]] inline bool noSignalFor(QSignalSpy &spy, int ms)
{
    const qsizetype before = spy.size();
    return holdsFor([&] { return spy.size() == before; }, ms);
}

} // namespace streams::testing
