#include "engine/credentials.h"

#include "api/sid.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSaveFile>

namespace streams {

namespace {
bool equalInConstantTime(QByteArrayView a, QByteArrayView b)
{
    // The length is not secret (SIDs and tokens have fixed shapes); the bytes are.
    if (a.size() != b.size())
        return false;
    unsigned char difference = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        difference |= static_cast<unsigned char>(a[i] ^ b[i]);
    return difference == 0;
}

QString randomSecret()
{
    quint32 words[4];
    QRandomGenerator::system()->fillRange(words);
    return QString::fromLatin1(
        QByteArray::fromRawData(reinterpret_cast<const char *>(words), sizeof words).toHex());
}
} // namespace

QString EngineCredentials::fileName()
{
    return QStringLiteral("credentials.json");
}

bool EngineCredentials::accepts(QByteArrayView user, QByteArrayView password) const
{
    const QByteArray account = accountSid.toUtf8(), token = authToken.toUtf8();
    const QByteArray key = apiKeySid.toUtf8(), secret = apiKeySecret.toUtf8();
    // Evaluate both pairs every time so timing does not reveal which one matched.
    const bool accountMatches = equalInConstantTime(user, account);
    const bool tokenMatches = equalInConstantTime(password, token);
    const bool keyMatches = equalInConstantTime(user, key);
    const bool secretMatches = equalInConstantTime(password, secret);
    const bool byToken = accountMatches & tokenMatches;
    const bool byKey = keyMatches & secretMatches;
    return (byToken | byKey) && !token.isEmpty() && !secret.isEmpty();
}

std::expected<EngineCredentials, QString> EngineCredentials::loadOrCreate(
    const QString &dataDir, const QProcessEnvironment &environment, bool *generated)
{
    if (generated)
        *generated = false;
    const QString path = QDir(dataDir).filePath(fileName());
    EngineCredentials stored;
    QFile file(path);
    if (file.exists()) {
        if (!file.open(QIODevice::ReadOnly))
            return std::unexpected(
                QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
        QJsonParseError error;
        const QJsonObject json = QJsonDocument::fromJson(file.readAll(), &error).object();
        if (error.error != QJsonParseError::NoError)
            return std::unexpected(
                QStringLiteral("%1 is not valid JSON: %2").arg(path, error.errorString()));
        stored.accountSid = json.value(QStringLiteral("account_sid")).toString();
        stored.authToken = json.value(QStringLiteral("auth_token")).toString();
        stored.apiKeySid = json.value(QStringLiteral("api_key_sid")).toString();
        stored.apiKeySecret = json.value(QStringLiteral("api_key_secret")).toString();
        if (!sid::isValid(stored.accountSid, SidKind::Account) || stored.authToken.isEmpty()
            || !sid::isValid(stored.apiKeySid, SidKind::ApiKey) || stored.apiKeySecret.isEmpty())
            return std::unexpected(
                QStringLiteral("%1 is incomplete; delete it to generate new credentials")
                    .arg(path));
    } else {
        stored = {sid::generate(SidKind::Account), randomSecret(), sid::generate(SidKind::ApiKey),
            randomSecret()};
        QSaveFile out(path);
        if (!out.open(QIODevice::WriteOnly))
            return std::unexpected(
                QStringLiteral("cannot write %1: %2").arg(path, out.errorString()));
        // Restrict before any secret byte is written.
        out.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        const QJsonObject json{{QStringLiteral("account_sid"), stored.accountSid},
            {QStringLiteral("auth_token"), stored.authToken},
            {QStringLiteral("api_key_sid"), stored.apiKeySid},
            {QStringLiteral("api_key_secret"), stored.apiKeySecret}};
        out.write(QJsonDocument(json).toJson());
        if (!out.commit())
            return std::unexpected(
                QStringLiteral("cannot write %1: %2").arg(path, out.errorString()));
        if (generated)
            *generated = true;
    }

    EngineCredentials result = stored;
    const auto fromEnvironment = [&](const char *name, QString &field) {
        const QString value = environment.value(QString::fromLatin1(name));
        if (!value.isEmpty())
            field = value;
    };
    fromEnvironment("TWILIO_ACCOUNT_SID", result.accountSid);
    fromEnvironment("TWILIO_AUTH_TOKEN", result.authToken);
    fromEnvironment("TWILIO_API_KEY", result.apiKeySid);
    fromEnvironment("TWILIO_API_SECRET", result.apiKeySecret);
    // Secrets from the environment are the user's own; only freshly generated ones in effect are
    // news to them.
    if (generated
        && (result.authToken != stored.authToken || result.apiKeySecret != stored.apiKeySecret))
        *generated = false;
    if (!sid::isValid(result.accountSid, SidKind::Account))
        return std::unexpected(
            QStringLiteral("TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits"));
    if (!sid::isValid(result.apiKeySid, SidKind::ApiKey))
        return std::unexpected(
            QStringLiteral("TWILIO_API_KEY must be SK followed by 32 hex digits"));
    return result;
}

} // namespace streams
