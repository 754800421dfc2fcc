#pragma once

#include "profiles/connectionprofile.h"

#include <QObject>
#include <memory>

namespace streams {

class RemoteBackend;

/// One "Test connection" run for the connection manager and the profile editor: a real
/// RemoteBackend made from the profile (RemoteConnection::fromProfile), checkConnection(), then
/// one page of services to say how many there are. Asynchronous all the way; a short retry budget
/// because a person is waiting. Starting a new run abandons the previous one.
class ConnectionTest final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionTest)

public:
    explicit ConnectionTest(QObject *parent = nullptr);
    ~ConnectionTest() override;

    void start(const ConnectionProfile &profile, const QString &secret);
    bool isRunning() const { return m_running; }
    /// The last result's words ("OK: 3 services." or "Failed: …").
    QString resultText() const { return m_result; }

Q_SIGNALS:
    void finished(bool ok, const QString &message);

private:
    void finish(quint64 generation, bool ok, const QString &message);

    std::unique_ptr<RemoteBackend> m_backend;
    quint64 m_generation = 0;
    bool m_running = false;
    QString m_result;
};

} // namespace streams
