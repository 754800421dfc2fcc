#pragma once

#include "engine/subscription.h"

#include <QHash>
#include <QReadWriteLock>
#include <memory>

namespace streams {

/// Routes published messages to every subscription of their stream, whatever protocol the
/// subscriber uses (in process, REST publishers, twilsock). Thread-safe.
class FanoutHub final
{
    Q_DISABLE_COPY_MOVE(FanoutHub)

public:
    FanoutHub() = default;

    std::shared_ptr<Subscription> subscribe(const QString &serviceSid, const QString &streamSid,
        qsizetype queueCapacity, std::function<void()> wake);
    void unsubscribe(const std::shared_ptr<Subscription> &subscription);

    /// Delivers to every current subscriber of the message's stream; returns how many.
    qsizetype publish(const StreamMessage &message);
    /// Tells every subscriber of the stream it is gone, and forgets them.
    void removeStream(const QString &streamSid);

    qsizetype subscriberCount(const QString &streamSid) const;
    /// The stream's subscriptions now (fault rules deliver to them one by one).
    QList<std::shared_ptr<Subscription>> subscribers(const QString &streamSid) const;

private:
    mutable QReadWriteLock m_lock;
    QHash<QString, QList<std::shared_ptr<Subscription>>> m_byStream;
};

} // namespace streams
