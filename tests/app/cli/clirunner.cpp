#include "clirunner.h"

#include "engineprocess.h"

#include <QProcess>

namespace streams::testing {

QList<QByteArray> CliRun::outLines() const
{
    QList<QByteArray> lines = out.split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    return lines;
}

QByteArray CliRun::describe() const
{
    return "exit " + QByteArray::number(exitCode) + ", stderr: " + err;
}

QString CliRunner::binary()
{
    return QString::fromLocal8Bit(STREAMS_CLI_BINARY);
}

QProcessEnvironment CliRunner::isolatedEnvironment(const QString &profilesFile, bool keychain)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    const QStringList keys = environment.keys();
    for (const QString &key : keys) {
        if (key.startsWith(QLatin1StringView("TWILIO_")))
            environment.remove(key);
    }
    environment.insert(QStringLiteral("STREAMS_PROFILES_FILE"), profilesFile);
    if (!keychain)
        environment.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"),
            QStringLiteral("unix:path=/nonexistent/streams-cli-test-bus"));
    return environment;
}

QProcessEnvironment CliRunner::withEngineCredentials(
    QProcessEnvironment base, const EngineProcess &engine)
{
    base.insert(QStringLiteral("TWILIO_ACCOUNT_SID"), engine.accountSid());
    base.insert(QStringLiteral("TWILIO_API_KEY"), engine.apiKeySid());
    base.insert(QStringLiteral("TWILIO_API_SECRET"), engine.apiKeySecret());
    return base;
}

CliRun CliRunner::run(const QStringList &arguments, const QProcessEnvironment &environment,
    const QByteArray &input, int timeoutMs)
{
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(binary(), arguments);
    CliRun result;
    if (!process.waitForStarted(timeoutMs)) {
        result.err = "streams-cli did not start: " + process.errorString().toUtf8();
        return result;
    }
    if (!input.isEmpty())
        process.write(input);
    process.closeWriteChannel();
    const bool finished = process.waitForFinished(timeoutMs);
    if (!finished) {
        process.kill();
        process.waitForFinished(5000);
    }
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    if (finished && process.exitStatus() == QProcess::NormalExit)
        result.exitCode = process.exitCode();
    else if (!finished)
        result.err += "\n[streams-cli did not finish within the test's time limit]";
    return result;
}

} // namespace streams::testing
