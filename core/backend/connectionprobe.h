#pragma once

#include "backend/backend.h"

#include <QTimer>

namespace streams {

class RemoteBackend;

/// The wait before probing a connection that lost its server: short at first, doubled after each
/// failed probe up to `maxMs`, so a server that is down for long costs one request per `maxMs`.
/// Back to `firstMs` once a check passes.
struct ProbeDelays
{
    int firstMs = 2000;
    int maxMs = 30000;
};

/// Watches one RemoteBackend's connection: checks it when asked (on opening), reports what is
/// wrong with it (a failed check, a server that stopped answering), and — since nothing else may
/// be asking a server that is down (no page open, no live view) — probes it now and then while
/// it is Reconnecting, so the connection turns back to Connected by itself. Refused credentials
/// are not probed: asking again does not fix them.
class ConnectionProbe final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionProbe)

public:
    /// `backend` must outlive the probe.
    explicit ConnectionProbe(
        RemoteBackend &backend, ProbeDelays delays = {}, QObject *parent = nullptr);
    ~ConnectionProbe() override;

    RemoteBackend &backend() const { return m_backend; }
    /// Checks address and credentials once now; probing follows if the server cannot be reached.
    void check();
    /// The wait before the next probe, should one be needed.
    int nextDelayMs() const { return m_delayMs; }
    /// Whether a probe is waiting for its time or for its answer.
    bool isProbing() const { return m_probing || m_timer.isActive(); }

Q_SIGNALS:
    /// The connection has a problem: a check failed, or requests stopped getting answers.
    void problemFound(const streams::ApiError &problem);
    /// A check passed: whatever problem the connection had is gone.
    void problemCleared();
    /// A probe will ask the server in `delayMs`.
    void probeScheduled(int delayMs);

private:
    void stateChanged(Backend::State state);
    void schedule();
    void ask(bool probing);
    void answered(bool probing, const ApiResult<void> &checked);

    RemoteBackend &m_backend;
    const ProbeDelays m_delays;
    QTimer m_timer;
    int m_delayMs;
    bool m_probing = false; // a probe's check is in flight
};

} // namespace streams
