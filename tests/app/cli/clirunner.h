#pragma once

#include <QByteArray>
#include <QProcessEnvironment>
#include <QStringList>

namespace streams::testing {

class EngineProcess;

/// What one streams-cli run left behind.
struct CliRun
{
    int exitCode = -1; // -1: crashed or did not finish in time
    QByteArray out;
    QByteArray err;

    QList<QByteArray> outLines() const;
    /// For QVERIFY2: the run's stderr, readable in a failure message.
    QByteArray describe() const;
};

/// Runs the built streams-cli as a real process. Every run gets an environment of its own:
/// nothing of the caller's TWILIO_* variables, its keychain or its profiles leaks in.
class CliRunner final
{
public:
    /// Where the built streams-cli is (STREAMS_CLI_BINARY, set by CMake).
    static QString binary();

    /// The process environment minus TWILIO_*, with STREAMS_PROFILES_FILE set to
    /// `profilesFile`. With `keychain` false, D-Bus points at a socket that cannot exist, so the
    /// keychain is unreachable as on a headless server.
    static QProcessEnvironment isolatedEnvironment(const QString &profilesFile, bool keychain);
    /// `base` plus the engine's Account SID and API key (SID + secret).
    static QProcessEnvironment withEngineCredentials(
        QProcessEnvironment base, const EngineProcess &engine);

    /// Runs `streams-cli arguments…`, writes `input` to its stdin and closes it.
    static CliRun run(const QStringList &arguments, const QProcessEnvironment &environment,
        const QByteArray &input = {}, int timeoutMs = 60000);
};

} // namespace streams::testing
