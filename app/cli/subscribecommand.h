#pragma once

#include "backend/backend.h"
#include "clicommandline.h"
#include "clifailure.h"

#include <QObject>
#include <memory>

namespace streams {

class LiveSubscription;
class ShutdownSignals;

/// `subscribe SERVICE/STREAM`: one JSON line per message on stdout,
/// {"sid":"TZ…","received_at":"…","data":{…}} with the data exactly as delivered, flushed after
/// each batch, until SIGINT/SIGTERM (unsubscribe, exit 0). Notices on stderr: "subscribed to …"
/// once live, connection gaps (Sync Streams do not replay what was missed), messages dropped.
/// The stream going away (deleted or expired) ends it with exit 1, as does a failed
/// subscription; no answer from the service at all is exit 3.
class SubscribeCommand final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SubscribeCommand)

public:
    SubscribeCommand(Backend &backend, CliInvocation invocation, QObject *parent = nullptr);
    ~SubscribeCommand() override;

    void start();

Q_SIGNALS:
    void finished(streams::ExitCode exitCode);

private:
    void subscribeTo(const Stream &stream);
    void write(const QList<StreamMessage> &messages, quint64 droppedBefore);
    void stop(ExitCode exitCode);

    Backend &m_backend;
    const CliInvocation m_invocation;
    ShutdownSignals *m_signals = nullptr;
    std::unique_ptr<LiveSubscription> m_subscription;
    bool m_announced = false;
    bool m_done = false;
};

} // namespace streams
