#include "profilecommand.h"

#include "api/jsonwriter.h"
#include "profiles/profilestore.h"
#include "profiles/secretstore.h"

#include <QUuid>

namespace streams {

namespace {
using Command = CliInvocation::Command;

QString describeAuth(const ConnectionProfile &profile)
{
    if (profile.authMethod == ConnectionProfile::AuthMethod::ApiKey)
        return QStringLiteral("API key %1").arg(profile.apiKeySid);
    return QStringLiteral("auth token");
}

QString secretVariable(const ConnectionProfile &profile)
{
    return profile.authMethod == ConnectionProfile::AuthMethod::ApiKey
        ? QStringLiteral("TWILIO_API_SECRET")
        : QStringLiteral("TWILIO_AUTH_TOKEN");
}
} // namespace

ProfileCommand::ProfileCommand(const ResourcePrinter &printer, CliInvocation invocation,
    const QProcessEnvironment &environment, QObject *parent)
    : QObject(parent),
      m_printer(printer),
      m_invocation(std::move(invocation)),
      m_environment(environment),
      m_store(new ProfileStore(QString(), this))
{ }

ProfileCommand::~ProfileCommand() = default;

void ProfileCommand::fail(const CliFailure &failure)
{
    ResourcePrinter::notice(failure.message);
    Q_EMIT finished(failure.exitCode);
}

void ProfileCommand::start()
{
    switch (m_invocation.command) {
    case Command::ProfilesList:
        m_printer.printProfiles(m_store->profiles());
        Q_EMIT finished(ExitCode::Ok);
        return;
    case Command::ProfilesImportEnvironment: {
        const auto imported = profileimport::fromEnvironment(m_environment);
        if (!imported)
            return fail(CliFailure::usage(
                QStringLiteral("TWILIO_ACCOUNT_SID is not set: nothing to import")));
        if (imported->secret.isEmpty())
            return fail(CliFailure::usage(
                QStringLiteral("TWILIO_ACCOUNT_SID is set but no secret: set TWILIO_API_KEY and "
                               "TWILIO_API_SECRET, or TWILIO_AUTH_TOKEN")));
        return importFrom({*imported});
    }
    case Command::ProfilesImportTwilioCli: {
        m_twilioCliPath = profileimport::twilioCliConfigPath(m_environment);
        auto found = profileimport::fromTwilioCli(m_twilioCliPath);
        if (!found)
            return fail(CliFailure::usage(found.error()));
        if (found->isEmpty())
            return fail(CliFailure::usage(
                QStringLiteral("%1 holds no profiles: nothing to import").arg(m_twilioCliPath)));
        return importFrom(std::move(*found));
    }
    default: break;
    }
    fail(CliFailure::usage(QStringLiteral("internal error: not a profiles command")));
}

void ProfileCommand::importFrom(QList<ImportedProfile> found)
{
    m_queue = std::move(found);
    m_secrets = new SecretStore(QStringLiteral("sync-streams-console"), this);
    importNext();
}

void ProfileCommand::importNext()
{
    if (m_queue.isEmpty())
        return finishImport();
    Outcome outcome;
    outcome.imported = m_queue.takeFirst();
    const ConnectionProfile &profile = outcome.imported.profile;

    if (const auto problems = profile.problems(); !problems.isEmpty()) {
        QStringList messages;
        for (const auto &problem : problems)
            messages.append(problem.message);
        ResourcePrinter::notice(
            QStringLiteral("not imported: '%1' from %2: %3")
                .arg(profile.name, outcome.imported.source, messages.join(QStringLiteral("; "))));
        m_exitCode = ExitCode::ApiFailure;
        return importNext();
    }

    // Importing again refreshes the profile of the same name instead of adding a twin.
    const auto existing = m_store->find(profile.name);
    if (existing && existing->kind != ConnectionProfile::Kind::LocalEngine) {
        outcome.id = existing->id;
        outcome.updated = true;
    } else {
        outcome.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    }
    if (m_invocation.command == Command::ProfilesImportTwilioCli)
        outcome.twilioCliProfile = outcome.imported.sourceProfileId;

    if (outcome.imported.secret.isEmpty())
        return saveProfile(std::move(outcome));

    ConnectionProfile keyed = profile;
    keyed.id = outcome.id;
    // The secret goes in first: a profile is only saved once its secret is safe in the keychain.
    m_secrets->write(keyed.secretKey(), outcome.imported.secret)
        .then(
            this, [this, outcome](const std::expected<void, SecretStore::Error> &written) mutable {
                if (!written) {
                    ResourcePrinter::notice(
                        QStringLiteral("not imported: '%1': the keychain did not take its secret "
                                       "(%2), and secrets are kept nowhere else")
                            .arg(outcome.imported.profile.name, written.error().message));
                    m_exitCode = ExitCode::ConnectionFailure;
                    return importNext();
                }
                outcome.secretStored = true;
                saveProfile(std::move(outcome));
            });
}

void ProfileCommand::saveProfile(Outcome outcome)
{
    ConnectionProfile profile = outcome.imported.profile;
    profile.id = outcome.id;
    const auto saved = m_store->save(profile);
    if (!saved) {
        ResourcePrinter::notice(
            QStringLiteral("not imported: '%1': %2").arg(profile.name, saved.error()));
        m_exitCode = ExitCode::ApiFailure;
        if (outcome.secretStored && !outcome.updated) {
            // Nothing refers to the new keychain entry; take it out again.
            m_secrets->remove(profile.secretKey()).then(this, [this](const auto &) {
                importNext();
            });
            return;
        }
        return importNext();
    }
    if (outcome.secretStored && !outcome.twilioCliProfile.isEmpty())
        m_secretsToMove.append(outcome.twilioCliProfile);
    m_imported.append(std::move(outcome));
    importNext();
}

void ProfileCommand::finishImport()
{
    bool moved = false;
    if (m_invocation.command == Command::ProfilesImportTwilioCli && !m_invocation.keepSource
        && !m_secretsToMove.isEmpty()) {
        const auto removed =
            profileimport::removeSecretsFromTwilioCli(m_twilioCliPath, m_secretsToMove);
        if (removed) {
            moved = true;
        } else {
            ResourcePrinter::notice(QStringLiteral("the secrets are in the keychain now, but "
                                                   "could not be removed from %1: %2")
                                        .arg(m_twilioCliPath, removed.error()));
            m_exitCode = ExitCode::ApiFailure;
        }
    }

    if (m_printer.output() == CliInvocation::Output::Json) {
        QByteArray bytes;
        JsonWriter json(bytes);
        json.beginArray();
        for (const Outcome &outcome : std::as_const(m_imported)) {
            const bool movedOut = moved && m_secretsToMove.contains(outcome.twilioCliProfile);
            json.beginObject()
                .key(QLatin1StringView("id"))
                .value(QStringView(outcome.id))
                .key(QLatin1StringView("name"))
                .value(QStringView(outcome.imported.profile.name))
                .key(QLatin1StringView("source"))
                .value(QStringView(outcome.imported.source))
                .key(QLatin1StringView("updated"))
                .value(outcome.updated)
                .key(QLatin1StringView("secret_in_keychain"))
                .value(outcome.secretStored)
                .key(QLatin1StringView("secret_removed_from_source"))
                .value(movedOut)
                .endObject();
        }
        json.endArray();
        ResourcePrinter::writeOut(bytes + '\n');
    } else {
        QString text;
        for (const Outcome &outcome : std::as_const(m_imported)) {
            const ConnectionProfile &profile = outcome.imported.profile;
            text +=
                QStringLiteral("%1 '%2' (%3, account %4, %5) from %6\n")
                    .arg(outcome.updated ? QStringLiteral("updated") : QStringLiteral("imported"),
                        profile.name, ConnectionProfile::kindName(profile.kind), profile.accountSid,
                        describeAuth(profile), outcome.imported.source);
            if (outcome.secretStored)
                text += QStringLiteral("  secret stored in the keychain\n");
            else
                text += QStringLiteral("  no secret in the source: enter it in streams-console's "
                                       "connection manager, or set %1 when running streams-cli\n")
                            .arg(secretVariable(profile));
        }
        if (moved)
            text += QStringLiteral("moved %1 secret(s) out of %2 (only the keychain holds them "
                                   "now)\n")
                        .arg(m_secretsToMove.size())
                        .arg(m_twilioCliPath);
        else if (m_invocation.keepSource && !m_secretsToMove.isEmpty())
            text +=
                QStringLiteral("left the secrets in %1 too (--keep-source)\n").arg(m_twilioCliPath);
        ResourcePrinter::writeOut(text.toUtf8());
    }
    Q_EMIT finished(m_exitCode);
}

} // namespace streams
