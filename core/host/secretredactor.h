#pragma once

#include <QByteArrayList>
#include <QString>

namespace streams {

struct EngineCredentials;

/// Keeps the engine's secrets out of its log output, whatever ends up in a message: a client can
/// send its credentials anywhere (a URL path, a frame's method name) and the engine logs some
/// client input on purpose. Once installed, every Qt message (qDebug/qWarning/qCInfo…) has the
/// Auth Token, the API key secret, their HTTP Basic forms and anything shaped like a JWT replaced
/// by "[redacted]" before it reaches the previous handler. Process-wide: install it once the
/// credentials are known and before serving; installing again (another engine in the same
/// process) adds that engine's secrets. Thread-safe.
class SecretRedactor final
{
public:
    static void install(const EngineCredentials &credentials);
    /// What install() makes of one message (exposed for tests).
    static QString redact(QString message, const QByteArrayList &secrets);
    static QByteArrayList secretsOf(const EngineCredentials &credentials);
};

} // namespace streams
