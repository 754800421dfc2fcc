#include "backend/connectionprobe.h"

#include "backend/remotebackend.h"

#include <QPointer>

namespace streams {

ConnectionProbe::ConnectionProbe(RemoteBackend &backend, ProbeDelays delays, QObject *parent)
    : QObject(parent), m_backend(backend), m_delays(delays), m_delayMs(delays.firstMs)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] { ask(true); });
    connect(&m_backend, &Backend::stateChanged, this, &ConnectionProbe::stateChanged);
    connect(&m_backend.rest(), &RestClient::connectionLost, this,
        [this](const ApiError &reason) { Q_EMIT problemFound(reason); });
}

ConnectionProbe::~ConnectionProbe() = default;

void ConnectionProbe::check()
{
    ask(false);
}

void ConnectionProbe::stateChanged(Backend::State state)
{
    switch (state) {
    case Backend::State::Connected:
        m_timer.stop();
        m_delayMs = m_delays.firstMs;
        break;
    case Backend::State::Reconnecting: schedule(); break;
    case Backend::State::Connecting:
    case Backend::State::Disconnected:
    case Backend::State::Failed: break;
    }
}

void ConnectionProbe::schedule()
{
    if (isProbing())
        return;
    m_timer.start(m_delayMs);
    Q_EMIT probeScheduled(m_delayMs);
}

void ConnectionProbe::ask(bool probing)
{
    m_probing = m_probing || probing;
    // No context object: the backend's futures finish on this thread, and may do so while the
    // backend is destroyed after this probe (Qt 6.4 asserts when a context dies first). A
    // QPointer says whether to go on.
    m_backend.checkConnection().then(
        [guard = QPointer(this), probing](const ApiResult<void> &checked) {
            if (guard)
                guard->answered(probing, checked);
        });
}

void ConnectionProbe::answered(bool probing, const ApiResult<void> &checked)
{
    if (probing)
        m_probing = false;
    if (checked) {
        m_delayMs = m_delays.firstMs;
        Q_EMIT problemCleared();
        return;
    }
    Q_EMIT problemFound(checked.error());
    if (probing)
        m_delayMs = qMin(m_delayMs * 2, m_delays.maxMs);
    if (m_backend.state() == Backend::State::Reconnecting || checked.error().isConnectionFailure())
        schedule();
}

} // namespace streams
