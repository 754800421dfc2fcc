#include "connectionresolver.h"

#include "engine/credentials.h"
#include "host/enginecommandline.h"
#include "profiles/profileimport.h"
#include "profiles/profilestore.h"
#include "profiles/secretstore.h"
#include "resourceprinter.h"

#include <QDir>
#include <QFileInfo>
#include <QPromise>

namespace streams {

namespace {
const QString kCredentialVariables = QStringLiteral(
    "TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET (or TWILIO_AUTH_TOKEN)");

// A finished future (QtFuture::makeReadyFuture is deprecated from Qt 6.6, and its successor
// makeReadyValueFuture does not exist in 6.4).
QFuture<ConnectionResolver::Result> ready(ConnectionResolver::Result result)
{
    QPromise<ConnectionResolver::Result> promise;
    promise.start();
    promise.addResult(std::move(result));
    promise.finish();
    return promise.future();
}
} // namespace

ConnectionResolver::ConnectionResolver(const QProcessEnvironment &environment, QObject *parent)
    : QObject(parent), m_environment(environment)
{ }

ConnectionResolver::~ConnectionResolver() = default;

QUrl ConnectionResolver::localEngineUrl()
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(EngineCommandLine::kDefaultPort));
}

QFuture<ConnectionResolver::Result> ConnectionResolver::resolve(const CliInvocation &invocation)
{
    if (!invocation.url.isEmpty())
        return ready(fromUrl(invocation.url));
    if (!invocation.profile.isEmpty())
        return fromProfile(invocation.profile);
    return ready(fromCloud());
}

ConnectionResolver::Result ConnectionResolver::fromUrl(const QUrl &url) const
{
    // The same reading of the TWILIO_* variables as the connection manager's import, pointed at
    // the engine instead of Twilio.
    auto imported = profileimport::fromEnvironment(m_environment);
    if (!imported || imported->secret.isEmpty())
        return std::unexpected(CliFailure::usage(
            QStringLiteral("--url needs credentials: set %1").arg(kCredentialVariables)));
    ConnectionProfile profile = imported->profile;
    profile.name = url.toString();
    profile.kind = ConnectionProfile::Kind::EngineAtUrl;
    profile.engineUrl = url;
    profile.region.clear();
    profile.edge.clear();
    return RemoteConnection::fromProfile(profile, imported->secret);
}

ConnectionResolver::Result ConnectionResolver::fromCloud() const
{
    const auto imported = profileimport::fromEnvironment(m_environment);
    if (!imported)
        return std::unexpected(CliFailure::usage(
            QStringLiteral("say where to connect: --profile NAME, --url URL, or set %1 for "
                           "Twilio's cloud")
                .arg(kCredentialVariables)));
    if (imported->secret.isEmpty())
        return std::unexpected(CliFailure::usage(
            QStringLiteral("TWILIO_ACCOUNT_SID is set but no secret: set TWILIO_API_KEY and "
                           "TWILIO_API_SECRET, or TWILIO_AUTH_TOKEN")));
    ConnectionProfile profile = imported->profile;
    profile.name = QStringLiteral("Twilio (%1)").arg(profile.accountSid);
    return RemoteConnection::fromProfile(profile, imported->secret);
}

ConnectionResolver::Result ConnectionResolver::fromLocalEngine() const
{
    const QString dataDir = EngineCommandLine::defaultDataDir();
    const QString path = QDir(dataDir).filePath(EngineCredentials::fileName());
    // loadOrCreate() would generate credentials for an engine that has never run; checking first
    // keeps the CLI from creating them (the engine would then start with secrets nobody saw).
    if (!QFileInfo::exists(path))
        return std::unexpected(CliFailure::connection(
            QStringLiteral("the local engine is not running or has never been initialised (no "
                           "%1); start streams-console or streams-engine first")
                .arg(path)));
    // An empty environment: the file's credentials, not whatever TWILIO_* this shell has.
    const auto credentials = EngineCredentials::loadOrCreate(dataDir, QProcessEnvironment());
    if (!credentials)
        return std::unexpected(
            CliFailure::connection(QStringLiteral("cannot read the local engine's credentials: %1")
                                       .arg(credentials.error())));
    RemoteConnection connection;
    connection.displayName = ConnectionProfile::localEngine().name;
    connection.endpoints = RemoteEndpoints::engine(localEngineUrl());
    connection.credentials.accountSid = credentials->accountSid;
    connection.credentials.apiKeySid = credentials->apiKeySid;
    connection.credentials.apiKeySecret = credentials->apiKeySecret;
    return connection;
}

QFuture<ConnectionResolver::Result> ConnectionResolver::fromProfile(const QString &name)
{
    const ProfileStore store;
    const auto profile = store.find(name);
    if (!profile)
        return ready(std::unexpected(CliFailure::usage(
            QStringLiteral("no profile named '%1' in %2 (see 'streams-cli profiles list')")
                .arg(name, store.filePath()))));
    if (profile->kind == ConnectionProfile::Kind::LocalEngine)
        return ready(fromLocalEngine());

    if (!m_secrets)
        m_secrets = new SecretStore(QStringLiteral("sync-streams-console"), this);
    const ConnectionProfile &found = *profile;
    return m_secrets->read(found.secretKey())
        .then(this, [this, found](std::expected<QString, SecretStore::Error> secret) -> Result {
            if (secret && !secret->isEmpty())
                return RemoteConnection::fromProfile(found, *secret);
            const QString why =
                secret ? QStringLiteral("the keychain entry is empty") : secret.error().message;
            const QString variable = found.authMethod == ConnectionProfile::AuthMethod::ApiKey
                ? QStringLiteral("TWILIO_API_SECRET")
                : QStringLiteral("TWILIO_AUTH_TOKEN");
            if (const auto fallback = secretFromEnvironment(found)) {
                // Said once on stderr so nobody believes the keychain was used.
                ResourcePrinter::notice(QStringLiteral("profile '%1': secret taken from %2 (%3)")
                                            .arg(found.name, variable, why));
                return RemoteConnection::fromProfile(found, *fallback);
            }
            return std::unexpected(CliFailure::connection(
                QStringLiteral("no secret for profile '%1': it belongs in the keychain (service "
                               "\"sync-streams-console\", key \"%2\"; %3). Save it with "
                               "streams-console's connection manager, or set %4 for this run.")
                    .arg(found.name, found.secretKey(), why, variable)));
        });
}

std::optional<QString> ConnectionResolver::secretFromEnvironment(
    const ConnectionProfile &profile) const
{
    // A secret only counts when the variables name the same account or key as the profile: a
    // secret meant for another key would just be refused by the service.
    const auto value = [this](const char *name) {
        return m_environment.value(QLatin1StringView(name)).trimmed();
    };
    if (profile.authMethod == ConnectionProfile::AuthMethod::ApiKey) {
        const QString key = value("TWILIO_API_KEY");
        const QString secret = m_environment.value(QStringLiteral("TWILIO_API_SECRET"));
        if (!secret.isEmpty() && (key.isEmpty() || key == profile.apiKeySid))
            return secret;
        return std::nullopt;
    }
    const QString account = value("TWILIO_ACCOUNT_SID");
    const QString token = m_environment.value(QStringLiteral("TWILIO_AUTH_TOKEN"));
    if (!token.isEmpty() && (account.isEmpty() || account == profile.accountSid))
        return token;
    return std::nullopt;
}

} // namespace streams
