#include "host/secretredactor.h"

#include "engine/credentials.h"

#include <QReadWriteLock>
#include <QRegularExpression>
#include <QtGlobal>

namespace streams {

namespace {
// Messages come from any thread; install() may run again (one engine after another in a
// process, each adding its secrets) while they do.
QReadWriteLock g_lock;
QByteArrayList g_secrets;
QtMessageHandler g_previous = nullptr;

void redactingHandler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    QReadLocker lock(&g_lock);
    const QString clean = SecretRedactor::redact(message, g_secrets);
    if (g_previous)
        g_previous(type, context, clean);
}
} // namespace

QByteArrayList SecretRedactor::secretsOf(const EngineCredentials &credentials)
{
    QByteArrayList secrets;
    for (const QString &secret : {credentials.authToken, credentials.apiKeySecret}) {
        if (!secret.isEmpty())
            secrets.append(secret.toUtf8());
    }
    // The Authorization header values, should a client put one somewhere that is logged.
    secrets.append((credentials.accountSid + u':' + credentials.authToken).toUtf8().toBase64());
    secrets.append((credentials.apiKeySid + u':' + credentials.apiKeySecret).toUtf8().toBase64());
    return secrets;
}

QString SecretRedactor::redact(QString message, const QByteArrayList &secrets)
{
    static const QString kRedacted = QStringLiteral("[redacted]");
    for (const QByteArray &secret : secrets) {
        if (!secret.isEmpty())
            message.replace(QString::fromUtf8(secret), kRedacted);
    }
    // Access tokens are bearer credentials too: base64url JSON header, payload, signature.
    if (message.contains(u"eyJ")) {
        static const QRegularExpression jwt(
            QStringLiteral("eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*"));
        message.replace(jwt, kRedacted);
    }
    return message;
}

void SecretRedactor::install(const EngineCredentials &credentials)
{
    QWriteLocker lock(&g_lock);
    for (const QByteArray &secret : secretsOf(credentials)) {
        if (!g_secrets.contains(secret))
            g_secrets.append(secret);
    }
    QtMessageHandler previous = qInstallMessageHandler(redactingHandler);
    // Installing twice must not make the handler call itself.
    if (previous != redactingHandler)
        g_previous = previous;
}

} // namespace streams
