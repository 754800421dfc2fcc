#pragma once

#include "engine/engine.h"
#include "server/twilsockserver.h"

#include <QHostAddress>
#include <QObject>
#include <QThread>
#include <expected>
#include <functional>
#include <memory>

namespace streams {

class RestServer;

/// Runs an Engine and its RestServer on a thread of their own, so a GUI that embeds the engine
/// never waits on SQLite or sockets. Everything that touches the engine goes through run(),
/// which executes on the engine thread; the fan-out hub is thread-safe and may be used directly.
class EngineHost final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EngineHost)

public:
    struct Listening
    {
        QHostAddress address;
        quint16 port = 0;
        QString baseUrl() const;
    };

    ~EngineHost() override;

    /// Opens the engine and starts listening, on the new thread; blocks the caller until both
    /// are done (start-up only: milliseconds). `port` 0 picks a free port. A non-loopback
    /// `address` is logged as a warning (the caller has already been told to allow it).
    static std::expected<std::unique_ptr<EngineHost>, QString> start(const EngineOptions &options,
        const QHostAddress &address, quint16 port, const TwilsockOptions &twilsock = {});

    const Listening &listening() const { return m_listening; }
    /// Fixed for the engine's life; safe to read from any thread.
    const EngineCredentials &credentials() const { return m_credentials; }
    std::optional<double> publishRatePerSecond() const { return m_publishRate; }
    QString dataDir() const { return m_dataDir; }
    /// The live connections' limits the engine was started with.
    const TwilsockOptions &twilsockOptions() const { return m_twilsockOptions; }
    FanoutHub &hub() { return m_engine->hub(); }
    /// How far the engine's clock is ahead of the real one; safe from any thread.
    qint64 clockOffsetMs() const { return m_engine->clockOffsetMs(); }

    /// Queues one control-plane request (`/_engine/…`, answered as ControlPlane::answer does,
    /// trusted: in process) on the engine thread; `done` runs there with the status and body.
    void runControl(const QByteArray &method, const QByteArray &path, const QByteArray &query,
        const QByteArray &body, std::function<void(int status, const QByteArray &body)> done);

    /// Queues `work` to run on the engine thread with the engine.
    void run(std::function<void(Engine &)> work);

    /// Queues the making of zero-change mode's shell text for this engine (what
    /// `streams-engine --show-proxy-env` prints for it: ShellExports::proxy) on the engine
    /// thread, where its certificate authority is opened, or made; `done` runs there with the
    /// lines, or why there are none.
    void proxyEnvironment(std::function<void(std::expected<QStringList, QString>)> done);
    /// The object living on the engine thread (a context for connections).
    QObject *engineContext() const;

Q_SIGNALS:
    /// Emitted on the engine thread; connect with a queued connection.
    void streamRemoved(const QString &serviceSid, const QString &streamSid);
    /// The engine's clock moved forward (Engine::clockAdvanced), on the engine thread.
    void clockAdvanced(qint64 offsetMs);
    /// The engine's fault rules changed (FaultRules::rulesChanged), on the engine thread.
    void faultRulesChanged();

private:
    EngineHost() = default;

    QThread m_thread;
    QObject *m_context = nullptr; // lives on m_thread
    std::unique_ptr<Engine> m_engine;
    RestServer *m_server = nullptr;
    Listening m_listening;
    EngineCredentials m_credentials;
    std::optional<double> m_publishRate;
    QString m_dataDir;
    TwilsockOptions m_twilsockOptions;
};

} // namespace streams
