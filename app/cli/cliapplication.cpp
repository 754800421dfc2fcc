#include "cliapplication.h"

#include "admincommand.h"
#include "connectionresolver.h"
#include "enginecommand.h"
#include "engineprinter.h"
#include "profilecommand.h"
#include "publishcommand.h"
#include "resourceprinter.h"
#include "subscribecommand.h"

#include <QCoreApplication>
#include <unistd.h>

namespace streams {

namespace {
using Command = CliInvocation::Command;

QString restBase(const RemoteConnection &connection)
{
    return connection.endpoints.restBase.toString(QUrl::StripTrailingSlash);
}
} // namespace

CliApplication::CliApplication(
    QStringList arguments, const QProcessEnvironment &environment, QObject *parent)
    : QObject(parent), m_arguments(std::move(arguments)), m_environment(environment)
{ }

CliApplication::~CliApplication() = default;

void CliApplication::run()
{
    auto invocation = m_commandLine.parse(m_arguments);
    if (m_commandLine.helpRequested()) {
        ResourcePrinter::writeOut(m_commandLine.helpText().toUtf8());
        return finish(ExitCode::Ok);
    }
    if (m_commandLine.versionRequested()) {
        ResourcePrinter::writeOut(
            QStringLiteral("%1 %2\n")
                .arg(QCoreApplication::applicationName(), QCoreApplication::applicationVersion())
                .toUtf8());
        return finish(ExitCode::Ok);
    }
    if (!invocation)
        return failWith(CliFailure::usage(invocation.error()));
    m_invocation = std::move(*invocation);

    if (!m_invocation.needsConnection()) {
        m_printer = std::make_unique<ResourcePrinter>(m_invocation.output, QString());
        auto *command = new ProfileCommand(*m_printer, m_invocation, m_environment, this);
        connect(command, &ProfileCommand::finished, this, &CliApplication::finish);
        command->start();
        return;
    }

    m_resolver = new ConnectionResolver(m_environment, this);
    m_resolver->resolve(m_invocation)
        .then(this, [this](const ConnectionResolver::Result &connection) {
            if (!connection)
                return failWith(connection.error());
            runCommand(*connection);
        });
}

void CliApplication::runCommand(RemoteConnection connection)
{
    if (m_invocation.isEngineCommand())
        return runEngineCommand(connection);
    m_printer = std::make_unique<ResourcePrinter>(m_invocation.output, restBase(connection));
    if (m_invocation.timeoutMs)
        connection.rest.timeoutMs = *m_invocation.timeoutMs;
    m_backend = std::make_unique<RemoteBackend>(std::move(connection));
    switch (m_invocation.command) {
    case Command::Publish: {
        auto *command =
            new PublishCommand(*m_backend, *m_printer, m_invocation, STDIN_FILENO, this);
        connect(command, &PublishCommand::finished, this, &CliApplication::finish);
        command->start();
        return;
    }
    case Command::Subscribe: {
        auto *command = new SubscribeCommand(*m_backend, m_invocation, this);
        connect(command, &SubscribeCommand::finished, this, &CliApplication::finish);
        command->start();
        return;
    }
    default: {
        auto *command = new AdminCommand(*m_backend, *m_printer, m_invocation, this);
        connect(command, &AdminCommand::finished, this, &CliApplication::finish);
        command->start();
        return;
    }
    }
}

void CliApplication::runEngineCommand(const RemoteConnection &connection)
{
    // The control plane is the engine's own; Twilio's cloud has nothing like it. Refused before
    // anything is sent, so no request with the account's credentials goes to a path Twilio
    // does not serve.
    if (connection.twilioCloud)
        return failWith(CliFailure::usage(
            QStringLiteral("engine commands need a streams-engine connection (--url URL or an "
                           "engine profile), not Twilio's cloud")));
    EngineControlClient::Options options;
    if (m_invocation.timeoutMs)
        options.timeoutMs = *m_invocation.timeoutMs;
    m_engine = std::make_unique<EngineControlClient>(
        connection.endpoints.restBase, connection.credentials, options);
    m_enginePrinter = std::make_unique<EnginePrinter>(m_invocation.output);
    auto *command = new EngineCommand(*m_engine, *m_enginePrinter, m_invocation, this);
    connect(command, &EngineCommand::finished, this, &CliApplication::finish);
    command->start();
}

void CliApplication::failWith(const CliFailure &failure)
{
    ResourcePrinter::notice(failure.message);
    if (failure.exitCode == ExitCode::Usage)
        ResourcePrinter::notice(QStringLiteral("run 'streams-cli --help' for the commands"));
    finish(failure.exitCode);
}

void CliApplication::finish(ExitCode exitCode)
{
    if (std::exchange(m_finished, true))
        return;
    Q_EMIT finished(int(exitCode));
}

} // namespace streams
