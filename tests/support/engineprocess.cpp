#include "engineprocess.h"

#include "api/sid.h"
#include "httpclient.h"

#include <QDeadlineTimer>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QThread>

namespace streams::testing {

EngineProcess::EngineProcess(QString dataDir)
    : m_dataDir(dataDir.isEmpty() ? m_tempDir.path() : std::move(dataDir)),
      m_accountSid(sid::generate(SidKind::Account)),
      m_authToken(sid::generate(SidKind::RequestId).mid(2)),
      m_apiKeySid(sid::generate(SidKind::ApiKey)),
      m_apiKeySecret(sid::generate(SidKind::RequestId).mid(2))
{
    m_process.setProcessChannelMode(QProcess::MergedChannels);
}

EngineProcess::~EngineProcess()
{
    if (m_process.state() != QProcess::NotRunning)
        kill();
}

QString EngineProcess::binary()
{
    return QString::fromLocal8Bit(STREAMS_ENGINE_BINARY);
}

QByteArray EngineProcess::output()
{
    if (m_process.state() != QProcess::NotRunning)
        m_output += m_process.readAll();
    return m_output;
}

QByteArray EngineProcess::authorization() const
{
    return basicAuthorization(m_accountSid, m_authToken);
}

bool EngineProcess::start(const QStringList &extraArguments, int timeoutMs)
{
    m_extraArguments = extraArguments;
    return launch(QStringLiteral("127.0.0.1:0"), timeoutMs);
}

bool EngineProcess::restart(int timeoutMs)
{
    if (m_port == 0 || m_process.state() != QProcess::NotRunning)
        return false;
    // The port was just released by the previous process; the engine's listener reuses the
    // address (SO_REUSEADDR), but a kernel still tearing the old socket down can refuse it for
    // a moment, so a failed bind is retried briefly.
    const QString listen = QStringLiteral("127.0.0.1:%1").arg(m_port);
    QDeadlineTimer deadline(timeoutMs);
    while (true) {
        if (launch(listen, int(qMax<qint64>(1000, deadline.remainingTime()))))
            return true;
        if (deadline.hasExpired())
            return false;
        QThread::msleep(100);
    }
}

bool EngineProcess::launch(const QString &listen, int timeoutMs)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("TWILIO_ACCOUNT_SID"), m_accountSid);
    environment.insert(QStringLiteral("TWILIO_AUTH_TOKEN"), m_authToken);
    environment.insert(QStringLiteral("TWILIO_API_KEY"), m_apiKeySid);
    environment.insert(QStringLiteral("TWILIO_API_SECRET"), m_apiKeySecret);
    m_process.setProcessEnvironment(environment);
    m_output.clear();
    m_process.start(binary(),
        QStringList{QStringLiteral("--listen"), listen, QStringLiteral("--data-dir"), m_dataDir}
            + m_extraArguments);
    if (!m_process.waitForStarted(timeoutMs))
        return false;
    static const QRegularExpression listening(
        QStringLiteral("listening on (http://[^\\s:]+:(\\d+))"));
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        if (!m_process.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())))) {
            if (m_process.state() == QProcess::NotRunning)
                break;
            continue;
        }
        m_output += m_process.readAll();
        const auto match = listening.match(QString::fromUtf8(m_output));
        if (match.hasMatch()) {
            m_baseUrl = match.captured(1);
            m_port = quint16(match.captured(2).toUInt());
            return true;
        }
    }
    m_output += m_process.readAll();
    qWarning("streams-engine did not start: %s", m_output.constData());
    return false;
}

int EngineProcess::stop(int timeoutMs)
{
    if (m_process.state() == QProcess::NotRunning)
        return m_process.exitCode();
    m_process.terminate();
    if (!m_process.waitForFinished(timeoutMs)) {
        kill();
        return -1;
    }
    m_output += m_process.readAll();
    return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
}

void EngineProcess::kill()
{
    m_process.kill();
    m_process.waitForFinished(5000);
}

} // namespace streams::testing
