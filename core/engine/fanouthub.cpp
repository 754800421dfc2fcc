#include "engine/fanouthub.h"

namespace streams {

std::shared_ptr<Subscription> FanoutHub::subscribe(const QString &serviceSid,
    const QString &streamSid, qsizetype queueCapacity, std::function<void()> wake)
{
    auto subscription =
        std::make_shared<Subscription>(serviceSid, streamSid, queueCapacity, std::move(wake));
    QWriteLocker lock(&m_lock);
    m_byStream[streamSid].append(subscription);
    return subscription;
}

void FanoutHub::unsubscribe(const std::shared_ptr<Subscription> &subscription)
{
    if (!subscription)
        return;
    QWriteLocker lock(&m_lock);
    auto it = m_byStream.find(subscription->streamSid());
    if (it == m_byStream.end())
        return;
    it->removeOne(subscription);
    if (it->isEmpty())
        m_byStream.erase(it);
}

qsizetype FanoutHub::publish(const StreamMessage &message)
{
    QReadLocker lock(&m_lock);
    const auto it = m_byStream.constFind(message.streamSid);
    if (it == m_byStream.cend())
        return 0;
    for (const auto &subscription : *it)
        subscription->deliver(message);
    return it->size();
}

void FanoutHub::removeStream(const QString &streamSid)
{
    QList<std::shared_ptr<Subscription>> subscriptions;
    {
        QWriteLocker lock(&m_lock);
        subscriptions = m_byStream.take(streamSid);
    }
    for (const auto &subscription : std::as_const(subscriptions))
        subscription->markRemoved();
}

qsizetype FanoutHub::subscriberCount(const QString &streamSid) const
{
    QReadLocker lock(&m_lock);
    return m_byStream.value(streamSid).size();
}

QList<std::shared_ptr<Subscription>> FanoutHub::subscribers(const QString &streamSid) const
{
    QReadLocker lock(&m_lock);
    return m_byStream.value(streamSid);
}

} // namespace streams
