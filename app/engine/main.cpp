// streams-engine: the local Sync Streams engine, headless.

#include "engine/credentials.h"
#include "engine/engine.h"
#include "host/enginecommandline.h"
#include "host/secretredactor.h"
#include "host/shellexports.h"
#include "host/shutdownsignals.h"
#include "server/restserver.h"
#include "server/twilsockserver.h"
#include "tls/certificateauthority.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <cstdio>
#include <unistd.h>

using namespace streams;

namespace {
void say(const QString &line)
{
    std::fputs(qPrintable(line + u'\n'), stdout);
    std::fflush(stdout);
}

void complain(const QString &line)
{
    std::fputs(qPrintable(QStringLiteral("streams-engine: ") + line + u'\n'), stderr);
}

// The data directory's credentials for --show-credentials and --show-proxy-env, creating both
// as the engine would.
std::expected<EngineCredentials, QString> credentialsFor(const EngineOptions &options)
{
    if (!QDir().mkpath(options.dataDir))
        return std::unexpected(QStringLiteral("cannot create %1").arg(options.dataDir));
    // It is about to hold credentials: only its owner may enter it (as Engine::open does).
    QFile::setPermissions(
        options.dataDir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    return EngineCredentials::loadOrCreate(options.dataDir, options.environment);
}

void sayAll(const QStringList &lines)
{
    for (const QString &line : lines)
        say(line);
}
} // namespace

int main(int argc, char *argv[])
{
    // Headless, so nothing needs GLib's main loop. Qt's own dispatcher skips the GLib context
    // wake-up (a write to an eventfd) each time a socket notifier is enabled or disabled
    // (docs/performance.md has what that is worth). An explicit setting wins.
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("streams-engine"));
    QCoreApplication::setApplicationVersion(QStringLiteral(STREAMS_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "A local Twilio Sync Streams service: Twilio's REST API (and, on the same port, live "
        "delivery) on loopback.\nCredentials come from TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
        "TWILIO_API_KEY and TWILIO_API_SECRET when set; otherwise they are generated on first "
        "start and kept in the data directory, readable only by you."));
    parser.addHelpOption();
    parser.addVersionOption();
    EngineCommandLine::addOptions(parser);
    const QCommandLineOption showCredentials(QStringLiteral("show-credentials"),
        QStringLiteral("Print the engine's credentials as shell exports and exit."));
    parser.addOption(showCredentials);
    const QCommandLineOption showProxyEnvironment(QStringLiteral("show-proxy-env"),
        QStringLiteral("Print shell exports that send Twilio's clients to the engine as their "
                       "HTTPS proxy, trusting its CA (made now if need be), and exit."));
    parser.addOption(showProxyEnvironment);
    parser.process(app);

    auto settings = EngineCommandLine::read(parser);
    if (!settings) {
        complain(settings.error());
        return 2;
    }

    // Where the engine using the data directory listens, as it recorded (--show-proxy-env).
    const std::optional<QUrl> recorded =
        parser.isSet(showProxyEnvironment) && !settings->engine.inMemory
        ? Engine::listeningIn(settings->engine.dataDir)
        : std::nullopt;
    if (parser.isSet(showProxyEnvironment) && !parser.isSet(showCredentials)) {
        if (settings->engine.inMemory) {
            complain(QStringLiteral("--show-proxy-env: an engine --in-memory keeps no CA; give "
                                    "the engine's --data-dir instead"));
            return 2;
        }
        if (settings->port == 0 && !recorded) {
            complain(QStringLiteral("--show-proxy-env needs the engine's port: no engine is "
                                    "running on %1 to tell it, and --listen says 0")
                         .arg(settings->engine.dataDir));
            return 2;
        }
    }
    if (parser.isSet(showCredentials) || parser.isSet(showProxyEnvironment)) {
        auto credentials = credentialsFor(settings->engine);
        if (!credentials) {
            complain(credentials.error());
            return 1;
        }
        if (parser.isSet(showCredentials)) {
            sayAll(ShellExports::credentials(*credentials));
            return 0;
        }
        // Made now if it is not there yet, so the printed path exists.
        auto authority = CertificateAuthority::open(settings->engine.dataDir);
        if (!authority) {
            complain(authority.error());
            return 1;
        }
        ShellExports::ProxySetup setup{settings->address, settings->port,
            settings->listenGiven ? ShellExports::ProxySetup::Source::ListenOption
                                  : ShellExports::ProxySetup::Source::Default,
            Engine::runningIn(settings->engine.dataDir),
            QFileInfo(settings->engine.dataDir).absoluteFilePath(),
            (*authority)->caCertificatePath()};
        // A running engine says where it listens: that wins over an assumed or mistyped
        // --listen.
        if (recorded) {
            const QHostAddress address(recorded->host());
            const auto port = quint16(recorded->port());
            if (settings->listenGiven && (address != settings->address || port != settings->port))
                complain(QStringLiteral("the engine using %1 listens on %2, not on what --listen "
                                        "says; printing its address")
                             .arg(setup.dataDir, recorded->authority()));
            setup.address = address;
            setup.port = port;
            setup.source = ShellExports::ProxySetup::Source::Recorded;
        }
        sayAll(ShellExports::proxy(setup, *credentials));
        return 0;
    }

    // Installed before anything can report readiness, so a supervisor that stops the engine the
    // moment it is up still gets a clean shutdown.
    ShutdownSignals shutdownSignals;
    QObject::connect(
        &shutdownSignals, &ShutdownSignals::shutdownRequested, &app, [&](int signalNumber) {
            say(QStringLiteral("signal %1: shutting down").arg(signalNumber));
            app.quit();
        });

    auto engine = Engine::open(settings->engine);
    if (!engine) {
        complain(engine.error());
        return 1;
    }
    // Before the first request can be logged.
    SecretRedactor::install((*engine)->credentials());
    RestServer server(**engine);
    // Live delivery for the twilio-sync SDK on the same port; declared after the server so it
    // is destroyed first.
    TwilsockServer twilsock(**engine, settings->twilsock);
    twilsock.attachTo(server);
    QString error;
    const quint16 port = server.start(settings->address, settings->port, &error);
    if (port == 0) {
        complain(QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(settings->address.toString())
                     .arg(settings->port)
                     .arg(error));
        return 1;
    }
    if (!settings->address.isLoopback())
        complain(QStringLiteral("warning: listening on %1, reachable from other machines: "
                                "anyone who can reach it and holds the credentials gets in")
                     .arg(settings->address.toString()));

    const EngineCredentials &credentials = (*engine)->credentials();
    const QString host = settings->address.protocol() == QAbstractSocket::IPv6Protocol
        ? u'[' + settings->address.toString() + u']'
        : settings->address.toString();
    const auto rate = (*engine)->publishRatePerSecond();
    say(QStringLiteral("streams-engine %1 listening on http://%2:%3")
            .arg(app.applicationVersion(), host)
            .arg(port));
    say(QStringLiteral("twilsock: ws://%1:%2%3 (%4)")
            .arg(host)
            .arg(port)
            .arg(TwilsockServer::kPath)
            .arg(twilsock.ioThreadCount() == 0
                    ? QStringLiteral("connections on the engine's thread")
                    : QStringLiteral("%1 I/O threads").arg(twilsock.ioThreadCount())));
    if (settings->engine.inMemory)
        say(QStringLiteral("in memory: nothing is written to disk (working files in %1, removed "
                           "at exit)")
                .arg((*engine)->dataDir()));
    else
        say(QStringLiteral("data directory: %1").arg((*engine)->dataDir()));
    say(QStringLiteral("control plane: http://%1:%2/_engine/health").arg(host).arg(port));
    say(QStringLiteral("publish rate: %1")
            .arg(rate ? QStringLiteral("%1 messages/s per stream").arg(*rate)
                      : QStringLiteral("unlimited")));
    say(QStringLiteral("slow subscribers: closed after %1 s with more than %2 KiB unsent; "
                       "%3 messages queued per subscription")
            .arg(double(settings->twilsock.stallTimeout.count()) / 1000)
            .arg(settings->twilsock.sendBufferLimit / 1024)
            .arg(settings->engine.subscriberQueueCapacity));
    say(QStringLiteral("account SID: %1   API key: %2")
            .arg(credentials.accountSid, credentials.apiKeySid));
    const QString credentialsFile =
        QDir((*engine)->dataDir()).filePath(EngineCredentials::fileName());
    if ((*engine)->credentialsWereGenerated() && ::isatty(STDOUT_FILENO)) {
        // Shown once, when generated, to the person at the terminal; afterwards they stay in
        // the data directory only.
        say(QStringLiteral("new credentials (shown once; also in %1):").arg(credentialsFile));
        say(QStringLiteral("  auth token: %1").arg(credentials.authToken));
        say(QStringLiteral("  API key secret: %1").arg(credentials.apiKeySecret));
    } else if ((*engine)->credentialsWereGenerated()) {
        // Output that is not a terminal ends up in logs and journals: no secrets there.
        say(QStringLiteral("new credentials generated in %1; show them with: streams-engine "
                           "--show-credentials --data-dir %2")
                .arg(credentialsFile, (*engine)->dataDir()));
    } else {
        say(QStringLiteral("secrets: streams-engine --show-credentials --data-dir %1")
                .arg((*engine)->dataDir()));
    }

    return app.exec();
}
