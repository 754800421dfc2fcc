#pragma once

#include <QFuture>
#include <QFutureWatcher>
#include <QSignalSpy>

namespace streams::testing {

/// Waits for a Backend future while the event loop keeps running (its continuations land on this
/// thread), then returns its result. Ten seconds at most; a test then fails on the result.
template<typename T>
T await(const QFuture<T> &future)
{
    QFutureWatcher<T> watcher;
    QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
    watcher.setFuture(future);
    if (!future.isFinished())
        finished.wait(10000);
    return future.result();
}

} // namespace streams::testing
