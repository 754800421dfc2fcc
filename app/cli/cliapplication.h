#pragma once

#include "backend/remotebackend.h"
#include "clicommandline.h"
#include "clifailure.h"

#include <QObject>
#include <QProcessEnvironment>
#include <QStringList>
#include <memory>

namespace streams {

class ConnectionResolver;
class EngineControlClient;
class EnginePrinter;
class ResourcePrinter;

/// One run of streams-cli: parses the command line, resolves the connection, runs the command
/// against a RemoteBackend (the engine commands: an EngineControlClient) and reports the exit
/// code. main() only wires it to the event loop.
class CliApplication final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CliApplication)

public:
    CliApplication(
        QStringList arguments, const QProcessEnvironment &environment, QObject *parent = nullptr);
    ~CliApplication() override;

    /// Starts the run; finished() follows, possibly before run() returns.
    void run();

Q_SIGNALS:
    void finished(int exitCode);

private:
    void runCommand(RemoteConnection connection);
    void runEngineCommand(const RemoteConnection &connection);
    void finish(ExitCode exitCode);
    void failWith(const CliFailure &failure);

    const QStringList m_arguments;
    const QProcessEnvironment m_environment;
    CliCommandLine m_commandLine;
    CliInvocation m_invocation;
    ConnectionResolver *m_resolver = nullptr;
    std::unique_ptr<RemoteBackend> m_backend;
    std::unique_ptr<ResourcePrinter> m_printer;
    std::unique_ptr<EngineControlClient> m_engine;
    std::unique_ptr<EnginePrinter> m_enginePrinter;
    bool m_finished = false;
};

} // namespace streams
