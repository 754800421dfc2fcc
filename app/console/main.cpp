// streams-console: the desktop console, on the embedded engine and any saved connections.

#include "backend/localbackend.h"
#include "engine/engine.h"
#include "host/enginecommandline.h"
#include "host/shutdownsignals.h"
#include "profiles/profilestore.h"
#include "profiles/secretstore.h"
#include "ui/common/consolesettings.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QMessageBox>
#include <QStatusBar>
#include <QTimer>

using namespace streams;

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("streams-console"));
    QApplication::setApplicationDisplayName(QStringLiteral("Sync Streams Console"));
    QApplication::setApplicationVersion(QStringLiteral(STREAMS_VERSION));
    // The reverse-DNS id of the .desktop file and AppStream metainfo (resources/), so a Wayland
    // compositor matches the window to its menu entry, and the installed hicolor icon.
    const QString appId = QStringLiteral("io.github.sync_streams_console.StreamsConsole");
    QApplication::setDesktopFileName(appId);
    QApplication::setWindowIcon(QIcon::fromTheme(appId));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Desktop console for Twilio Sync Streams. Starts the local engine in process; it also "
        "listens on loopback so your own code can use it while you watch."));
    parser.addHelpOption();
    parser.addVersionOption();
    EngineCommandLine::addOptions(parser);
    const QCommandLineOption streamOption(QStringLiteral("stream"),
        QStringLiteral("Open this stream's page with its live view on start (SID or unique name "
                       "for both)."),
        QStringLiteral("SERVICE/STREAM"));
    const QCommandLineOption settingsOption(QStringLiteral("settings"),
        QStringLiteral("Use this settings file instead of the default."), QStringLiteral("FILE"));
    const QCommandLineOption profilesOption(QStringLiteral("profiles"),
        QStringLiteral("Use this connection profiles file instead of the default (also "
                       "STREAMS_PROFILES_FILE). It holds no secrets: those are in the keychain."),
        QStringLiteral("FILE"));
    parser.addOption(streamOption);
    parser.addOption(settingsOption);
    parser.addOption(profilesOption);
    parser.process(app);

    auto settings = EngineCommandLine::read(parser);
    if (!settings) {
        QMessageBox::critical(nullptr, QStringLiteral("Sync Streams Console"), settings.error());
        return 2;
    }
    QString serviceId, streamId;
    if (parser.isSet(streamOption)) {
        const QString value = parser.value(streamOption);
        const qsizetype slash = value.indexOf(u'/');
        if (slash <= 0 || slash == value.size() - 1) {
            QMessageBox::critical(nullptr, QStringLiteral("Sync Streams Console"),
                QStringLiteral("--stream takes SERVICE/STREAM, e.g. default/orders"));
            return 2;
        }
        serviceId = value.left(slash);
        streamId = value.mid(slash + 1);
    }

    auto backend = LocalBackend::start(
        settings->engine, settings->address, settings->port, settings->twilsock);
    QString portNote;
    if (!backend && !parser.isSet(QStringLiteral("listen"))) {
        // The default port is taken (another engine, say): carry on with a free one.
        backend = LocalBackend::start(settings->engine, settings->address, 0, settings->twilsock);
        if (backend)
            portNote = QStringLiteral("Port %1 was busy; the engine listens on %2 instead.")
                           .arg(settings->port)
                           .arg((*backend)->endpoint().baseUrl);
    }
    if (!backend) {
        QMessageBox::critical(nullptr, QStringLiteral("Sync Streams Console"),
            QStringLiteral("The local engine could not start:\n%1").arg(backend.error()));
        return 1;
    }

    ConsoleSettings consoleSettings(parser.value(settingsOption));
    ProfileStore profiles(parser.value(profilesOption));
    SecretStore secrets;
    MainWindow window(consoleSettings);
    // SIGTERM and SIGINT end the console as closing its window does, so the embedded engine
    // stops cleanly: --export-state-on-exit writes its snapshot, --in-memory leaves nothing.
    ShutdownSignals shutdownSignals;
    QObject::connect(&shutdownSignals, &ShutdownSignals::shutdownRequested, &app, [&window] {
        window.close();
        QApplication::quit();
    });
    window.setProfileStores(profiles, secrets);
    window.addConnection(backend->get());
    window.show();
    // After show: secrets are read asynchronously, so the window is usable while the
    // connections open last time come back (or ask for their secret).
    window.restoreOpenProfiles();
    if (!portNote.isEmpty())
        window.statusBar()->showMessage(portNote, 15000);
    if (!streamId.isEmpty())
        window.openStream(backend->get(), serviceId, streamId);
    const int code = app.exec();
    return code;
}
