#pragma once

#include "api/apierror.h"
#include "api/streammessage.h"

#include <QDateTime>
#include <QList>
#include <QObject>

namespace streams {

/// A live feed of one stream's messages, delivered in batches on the thread that created it.
/// Backends make these; the console's live view and the CLI consume them. Destroying it
/// unsubscribes.
class LiveSubscription : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveSubscription)

public:
    enum class State {
        Subscribing,
        Active,
        Ended
    };
    Q_ENUM(State)

    LiveSubscription(QString serviceSid, QString streamSid, QObject *parent = nullptr);
    ~LiveSubscription() override;

    const QString &serviceSid() const { return m_serviceSid; }
    const QString &streamSid() const { return m_streamSid; }
    State state() const { return m_state; }
    /// Messages lost before they reached this subscriber (slow consumer, reconnect gaps).
    quint64 droppedCount() const { return m_dropped; }

Q_SIGNALS:
    void stateChanged(streams::LiveSubscription::State state);
    /// Arrivals since the previous batch, oldest first; `droppedBefore` were lost before them.
    void messagesReceived(const QList<streams::StreamMessage> &messages, quint64 droppedBefore);
    void streamRemoved();
    void failed(const streams::ApiError &error);
    /// The feed was cut (a remote connection dropped); it resumes by itself. Messages published
    /// until `resumed` are not received: Sync Streams do not replay.
    void interrupted(const streams::ApiError &reason);
    /// The feed is back; `interruptedAt`–`resumedAt` is the gap in which messages were missed.
    void resumed(const QDateTime &interruptedAt, const QDateTime &resumedAt);

protected:
    void setState(State state);
    void deliver(const QList<StreamMessage> &messages, quint64 dropped);
    void endBecauseRemoved();
    void endWithError(const ApiError &error);
    /// Reports a gap: state goes back to Subscribing until resume().
    void interrupt(const ApiError &reason);
    void resume();

private:
    const QString m_serviceSid;
    const QString m_streamSid;
    State m_state = State::Subscribing;
    quint64 m_dropped = 0;
    QDateTime m_interruptedAt;
};

} // namespace streams
