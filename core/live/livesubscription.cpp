#include "live/livesubscription.h"

namespace streams {

LiveSubscription::LiveSubscription(QString serviceSid, QString streamSid, QObject *parent)
    : QObject(parent), m_serviceSid(std::move(serviceSid)), m_streamSid(std::move(streamSid))
{ }

LiveSubscription::~LiveSubscription() = default;

void LiveSubscription::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void LiveSubscription::deliver(const QList<StreamMessage> &messages, quint64 dropped)
{
    m_dropped += dropped;
    if (!messages.isEmpty() || dropped > 0)
        Q_EMIT messagesReceived(messages, dropped);
}

void LiveSubscription::endBecauseRemoved()
{
    setState(State::Ended);
    Q_EMIT streamRemoved();
}

void LiveSubscription::endWithError(const ApiError &error)
{
    setState(State::Ended);
    Q_EMIT failed(error);
}

void LiveSubscription::interrupt(const ApiError &reason)
{
    if (m_state == State::Ended)
        return;
    if (!m_interruptedAt.isValid())
        m_interruptedAt = QDateTime::currentDateTimeUtc();
    setState(State::Subscribing);
    Q_EMIT interrupted(reason);
}

void LiveSubscription::resume()
{
    if (m_state == State::Ended)
        return;
    setState(State::Active);
    if (!m_interruptedAt.isValid())
        return;
    const QDateTime since = std::exchange(m_interruptedAt, {});
    Q_EMIT resumed(since, QDateTime::currentDateTimeUtc());
}

} // namespace streams
