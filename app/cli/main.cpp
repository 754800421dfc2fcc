// streams-cli: Twilio Sync Streams from the shell. The commands live in CliApplication and the
// classes next to it; this only hands them the process and the event loop.

#include "cliapplication.h"

#include <QCoreApplication>
#include <QProcessEnvironment>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("streams-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral(STREAMS_VERSION));

    streams::CliApplication cli(app.arguments(), QProcessEnvironment::systemEnvironment());
    // Queued both ways: the run starts inside exec(), and an exit requested from within run()
    // reaches a loop that is already running.
    QObject::connect(
        &cli, &streams::CliApplication::finished, &app,
        [](int exitCode) { QCoreApplication::exit(exitCode); }, Qt::QueuedConnection);
    QMetaObject::invokeMethod(&cli, &streams::CliApplication::run, Qt::QueuedConnection);
    return app.exec();
}
