#pragma once

#include <QObject>

class QSocketNotifier;

namespace streams {

/// Turns SIGINT and SIGTERM into a Qt signal on the event loop (self-pipe), so a server can shut
/// down cleanly instead of dying mid-write. One instance per process.
class ShutdownSignals final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ShutdownSignals)

public:
    explicit ShutdownSignals(QObject *parent = nullptr);
    ~ShutdownSignals() override;

Q_SIGNALS:
    void shutdownRequested(int signalNumber);

private:
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace streams
