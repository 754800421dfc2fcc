#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

namespace streams::testing {

/// A real `streams-engine` process on a free loopback port, for tests that must cross a real
/// socket. Credentials are fixed per instance and passed through TWILIO_* variables.
class EngineProcess final
{
public:
    /// `dataDir` empty: a fresh temporary directory owned by this object.
    explicit EngineProcess(QString dataDir = {});
    ~EngineProcess();

    /// Starts the engine and waits for its "listening on" line. Extra arguments are appended.
    bool start(const QStringList &extraArguments = {}, int timeoutMs = 15000);
    /// SIGTERM and wait; returns the exit code (or -1).
    int stop(int timeoutMs = 10000);
    /// SIGKILL, no clean-up: what a crash looks like.
    void kill();
    /// Starts the engine again after stop()/kill(): same port, data directory, credentials and
    /// extra arguments, so clients find it where it was (a restart after a crash).
    bool restart(int timeoutMs = 15000);

    QString baseUrl() const { return m_baseUrl; }
    quint16 port() const { return m_port; }
    QString dataDir() const { return m_dataDir; }
    QProcess &process() { return m_process; }
    /// Everything the engine printed so far (reads what is pending).
    QByteArray output();

    QString accountSid() const { return m_accountSid; }
    QString authToken() const { return m_authToken; }
    QString apiKeySid() const { return m_apiKeySid; }
    QString apiKeySecret() const { return m_apiKeySecret; }
    /// "Basic base64(account:token)".
    QByteArray authorization() const;

    /// Where the built streams-engine is (STREAMS_ENGINE_BINARY, set by CMake).
    static QString binary();

private:
    bool launch(const QString &listen, int timeoutMs);

    QTemporaryDir m_tempDir;
    QStringList m_extraArguments;
    QString m_dataDir;
    QProcess m_process;
    QByteArray m_output;
    QString m_baseUrl;
    quint16 m_port = 0;
    QString m_accountSid, m_authToken, m_apiKeySid, m_apiKeySecret;
};

} // namespace streams::testing
