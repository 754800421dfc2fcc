#include "profiles/profileimport.h"

#include "api/sid.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <ranges>

namespace streams::profileimport {

namespace {

using AuthMethod = ConnectionProfile::AuthMethod;

const QString kProfilesKey = QStringLiteral("profiles");
const QString kProjectsKey = QStringLiteral("projects");
const QString kApiSecretKey = QStringLiteral("apiSecret");

QString cliProfileName(const QString &cliId)
{
    return QStringLiteral("twilio-cli: %1").arg(cliId);
}

std::expected<QJsonObject, QString> readConfig(const QString &configPath, QByteArray *raw = nullptr)
{
    QFile file(configPath);
    if (!file.exists())
        return std::unexpected(QStringLiteral("No twilio-cli configuration at %1").arg(configPath));
    if (!file.open(QIODevice::ReadOnly))
        return std::unexpected(
            QStringLiteral("Could not read %1: %2").arg(configPath, file.errorString()));
    const QByteArray bytes = file.readAll();
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(bytes, &error);
    if (error.error != QJsonParseError::NoError)
        return std::unexpected(QStringLiteral("%1 is not valid JSON: %2 at offset %3")
                                   .arg(configPath, error.errorString())
                                   .arg(error.offset));
    if (!document.isObject())
        return std::unexpected(QStringLiteral("%1 does not hold a JSON object").arg(configPath));
    if (raw)
        *raw = bytes;
    return document.object();
}

// A minimal JSON scanner that records where each member of an object sits in the text, so a
// member can be cut out while every other byte of the file — its order, spacing and keys
// QJsonObject would re-sort — stays as twilio-cli (or the user) wrote it. The input has already
// been parsed successfully by QJsonDocument, so the scanner only has to be right on valid JSON.
struct Member
{
    QString key;
    qsizetype keyBegin = 0;
    qsizetype valueBegin = 0;
    qsizetype valueEnd = 0; // one past the value
};

class JsonSpans
{
public:
    explicit JsonSpans(const QByteArray &text) : m_text(text) { }

    qsizetype skipSpace(qsizetype at) const
    {
        while (at < m_text.size()
            && (m_text[at] == ' ' || m_text[at] == '\t' || m_text[at] == '\n'
                || m_text[at] == '\r'))
            ++at;
        return at;
    }

    /// One past the value that starts at `at` (after whitespace), or -1.
    qsizetype valueEnd(qsizetype at) const
    {
        at = skipSpace(at);
        if (at >= m_text.size())
            return -1;
        const char c = m_text[at];
        if (c == '"')
            return stringEnd(at);
        if (c == '{' || c == '[') {
            const char close = c == '{' ? '}' : ']';
            qsizetype next = skipSpace(at + 1);
            if (next < m_text.size() && m_text[next] == close)
                return next + 1;
            while (next < m_text.size()) {
                if (c == '{') {
                    next = stringEnd(skipSpace(next));
                    if (next < 0)
                        return -1;
                    next = skipSpace(next);
                    if (next >= m_text.size() || m_text[next] != ':')
                        return -1;
                    ++next;
                }
                next = valueEnd(next);
                if (next < 0)
                    return -1;
                next = skipSpace(next);
                if (next >= m_text.size())
                    return -1;
                if (m_text[next] == close)
                    return next + 1;
                if (m_text[next] != ',')
                    return -1;
                ++next;
            }
            return -1;
        }
        // A number, true, false or null: runs to the next delimiter.
        while (at < m_text.size() && !QByteArrayView(",}] \t\r\n").contains(m_text[at]))
            ++at;
        return at;
    }

    /// The members of the object that starts at `at` (after whitespace), in text order.
    std::optional<QList<Member>> members(qsizetype at) const
    {
        at = skipSpace(at);
        if (at >= m_text.size() || m_text[at] != '{')
            return std::nullopt;
        QList<Member> found;
        qsizetype next = skipSpace(at + 1);
        if (next < m_text.size() && m_text[next] == '}')
            return found;
        while (next < m_text.size()) {
            Member member;
            member.keyBegin = skipSpace(next);
            const qsizetype keyEnd = stringEnd(member.keyBegin);
            if (keyEnd < 0)
                return std::nullopt;
            member.key = decodeString(member.keyBegin, keyEnd);
            next = skipSpace(keyEnd);
            if (next >= m_text.size() || m_text[next] != ':')
                return std::nullopt;
            member.valueBegin = skipSpace(next + 1);
            member.valueEnd = valueEnd(member.valueBegin);
            if (member.valueEnd < 0)
                return std::nullopt;
            found.append(member);
            next = skipSpace(member.valueEnd);
            if (next >= m_text.size())
                return std::nullopt;
            if (m_text[next] == '}')
                return found;
            if (m_text[next] != ',')
                return std::nullopt;
            ++next;
        }
        return std::nullopt;
    }

private:
    qsizetype stringEnd(qsizetype at) const
    {
        if (at >= m_text.size() || m_text[at] != '"')
            return -1;
        for (qsizetype i = at + 1; i < m_text.size(); ++i) {
            if (m_text[i] == '\\')
                ++i;
            else if (m_text[i] == '"')
                return i + 1;
        }
        return -1;
    }

    QString decodeString(qsizetype begin, qsizetype end) const
    {
        // QJsonDocument decodes the escapes; wrapping the token in an array makes it a document.
        const QByteArray wrapped = '[' + m_text.mid(begin, end - begin) + ']';
        return QJsonDocument::fromJson(wrapped).array().first().toString();
    }

    const QByteArray &m_text;
};

/// Removes the members at `indexes` (ascending) of one object from `text`, with the commas that
/// separated them, working backwards so earlier offsets stay valid.
void cutMembers(QByteArray &text, const QList<Member> &members, const QList<qsizetype> &indexes)
{
    for (const qsizetype i : std::views::reverse(indexes)) {
        qsizetype begin = 0;
        qsizetype end = 0;
        if (i + 1 < members.size()) {
            // Up to the next member's key: takes this member's trailing comma.
            begin = members[i].keyBegin;
            end = members[i + 1].keyBegin;
        } else if (i > 0) {
            // The last member: from the end of the previous value, taking the comma before it.
            begin = members[i - 1].valueEnd;
            end = members[i].valueEnd;
        } else {
            begin = members[i].keyBegin;
            end = members[i].valueEnd;
        }
        text.remove(begin, end - begin);
    }
}

} // namespace

std::optional<ImportedProfile> fromEnvironment(const QProcessEnvironment &environment)
{
    const auto value = [&environment](
                           const char *name) { return environment.value(QLatin1StringView(name)); };
    const QString accountSid = value("TWILIO_ACCOUNT_SID").trimmed();
    if (accountSid.isEmpty())
        return std::nullopt;

    ImportedProfile imported;
    imported.source = QStringLiteral("environment");
    ConnectionProfile &profile = imported.profile;
    profile.name = QStringLiteral("Environment (TWILIO_*)");
    profile.kind = ConnectionProfile::Kind::TwilioAccount;
    profile.accountSid = accountSid;
    profile.region = value("TWILIO_REGION").trimmed();
    profile.edge = value("TWILIO_EDGE").trimmed();

    // As twilio-cli and the helper libraries do: an API key with its secret wins over the Auth
    // Token, since only a key can sign the access tokens live subscriptions need.
    const QString apiKey = value("TWILIO_API_KEY").trimmed();
    const QString apiSecret = value("TWILIO_API_SECRET");
    const QString authToken = value("TWILIO_AUTH_TOKEN");
    if (!apiKey.isEmpty() && (!apiSecret.isEmpty() || authToken.isEmpty())) {
        profile.authMethod = AuthMethod::ApiKey;
        profile.apiKeySid = apiKey;
        imported.secret = apiSecret;
    } else {
        profile.authMethod = AuthMethod::AuthToken;
        imported.secret = authToken;
    }
    return imported;
}

QString twilioCliConfigPath(const QProcessEnvironment &environment)
{
    // twilio-cli-core's configureEnv(): TWILIO_CONFIG_DIR (oclif's variable for the "twilio"
    // binary) when set, else ~/.twilio-cli, with HOME, then USERPROFILE, naming home.
    QString directory = environment.value(QStringLiteral("TWILIO_CONFIG_DIR"));
    if (directory.isEmpty()) {
        QString home = environment.value(QStringLiteral("HOME"));
        if (home.isEmpty())
            home = environment.value(QStringLiteral("USERPROFILE"));
        if (home.isEmpty())
            home = QDir::homePath();
        directory = home + QStringLiteral("/.twilio-cli");
    }
    return QDir::cleanPath(directory + QStringLiteral("/config.json"));
}

std::expected<QList<ImportedProfile>, QString> fromTwilioCli(const QString &configPath)
{
    const auto config = readConfig(configPath);
    if (!config)
        return std::unexpected(config.error());

    // twilio-cli's config.json (cli-core's Config): "profiles" is an object keyed by profile id
    // with accountSid, apiKey, apiSecret, region and edge; the historical "projects" array holds
    // {id, accountSid, region} whose key and secret live in the OS keychain through keytar; a
    // top-level "edge" is the default for every profile.
    const QString globalEdge = config->value(QStringLiteral("edge")).toString().trimmed();
    const QJsonObject cliProfiles = config->value(kProfilesKey).toObject();

    QList<ImportedProfile> found;
    for (auto it = cliProfiles.constBegin(); it != cliProfiles.constEnd(); ++it) {
        if (!it->isObject())
            continue;
        const QJsonObject entry = it->toObject();
        const auto text = [&entry](const char *key) {
            return entry.value(QLatin1StringView(key)).toString();
        };
        ImportedProfile imported;
        imported.source = QStringLiteral("%1 (profile \"%2\")").arg(configPath, it.key());
        imported.sourceProfileId = it.key();
        ConnectionProfile &profile = imported.profile;
        profile.name = cliProfileName(it.key().trimmed());
        profile.kind = ConnectionProfile::Kind::TwilioAccount;
        profile.accountSid = text("accountSid").trimmed();
        profile.region = text("region").trimmed();
        profile.edge = text("edge").trimmed();
        if (profile.edge.isEmpty())
            profile.edge = globalEdge;
        const QString apiKey = text("apiKey").trimmed();
        imported.secret = text("apiSecret");
        // Profiles made from TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN carry the Account SID as
        // their "apiKey" and the Auth Token as their "apiSecret".
        if (!apiKey.isEmpty() && sid::isValid(apiKey, SidKind::Account)) {
            profile.authMethod = AuthMethod::AuthToken;
        } else {
            profile.authMethod = AuthMethod::ApiKey;
            profile.apiKeySid = apiKey;
        }
        found.append(std::move(imported));
    }

    const QJsonArray projects = config->value(kProjectsKey).toArray();
    for (const QJsonValue &value : projects) {
        const QJsonObject project = value.toObject();
        const QString id = project.value(QStringLiteral("id")).toString().trimmed();
        // cli-core prefers a profile over a project of the same id.
        if (id.isEmpty() || cliProfiles.contains(id))
            continue;
        ImportedProfile imported;
        imported.source = QStringLiteral("%1 (project \"%2\"; its API key is in twilio-cli's "
                                         "keychain entry, so enter the key and its secret)")
                              .arg(configPath, id);
        imported.sourceProfileId = id;
        imported.profile.name = cliProfileName(id);
        imported.profile.kind = ConnectionProfile::Kind::TwilioAccount;
        imported.profile.authMethod = AuthMethod::ApiKey;
        imported.profile.accountSid =
            project.value(QStringLiteral("accountSid")).toString().trimmed();
        imported.profile.region = project.value(QStringLiteral("region")).toString().trimmed();
        imported.profile.edge = globalEdge;
        found.append(std::move(imported));
    }
    return found;
}

std::expected<void, QString> removeSecretsFromTwilioCli(
    const QString &configPath, const QStringList &profileNames)
{
    QStringList ids = profileNames;
    const QString importedPrefix = cliProfileName(QString());
    for (const QString &name : profileNames) {
        if (name.startsWith(importedPrefix))
            ids.append(name.mid(importedPrefix.size()));
    }

    QByteArray text;
    const auto config = readConfig(configPath, &text);
    if (!config)
        return std::unexpected(config.error());

    const JsonSpans spans(text);
    const auto top = spans.members(0);
    if (!top)
        return std::unexpected(
            QStringLiteral("Could not follow the structure of %1").arg(configPath));

    // Cut from the end of the file backwards so that earlier offsets stay valid: profiles in
    // reverse text order, and inside each the apiSecret members in reverse.
    QByteArray edited = text;
    QJsonObject expected = *config;
    bool changed = false;
    for (auto topMember = top->crbegin(); topMember != top->crend(); ++topMember) {
        if (topMember->key != kProfilesKey)
            continue;
        const auto entries = spans.members(topMember->valueBegin);
        if (!entries)
            continue; // "profiles" is not an object: nothing of ours in it
        for (auto entry = entries->crbegin(); entry != entries->crend(); ++entry) {
            if (!ids.contains(entry->key))
                continue;
            const auto fields = spans.members(entry->valueBegin);
            if (!fields)
                continue;
            QList<qsizetype> secretIndexes;
            for (qsizetype i = 0; i < fields->size(); ++i) {
                if ((*fields)[i].key == kApiSecretKey)
                    secretIndexes.append(i);
            }
            if (secretIndexes.isEmpty())
                continue;
            cutMembers(edited, *fields, secretIndexes);
            changed = true;
        }
    }
    // The same edit done on the parsed document, to check the text edit against.
    QJsonObject profiles = expected.value(kProfilesKey).toObject();
    for (const QString &name : std::as_const(ids)) {
        if (!profiles.value(name).isObject())
            continue;
        QJsonObject entry = profiles.value(name).toObject();
        entry.remove(kApiSecretKey);
        profiles.insert(name, entry);
    }
    if (expected.contains(kProfilesKey) && expected.value(kProfilesKey).isObject())
        expected.insert(kProfilesKey, profiles);

    if (!changed)
        return {};
    const QJsonDocument check = QJsonDocument::fromJson(edited);
    if (!check.isObject() || check.object() != expected)
        return std::unexpected(
            QStringLiteral("Could not remove the secrets from %1 safely; it was left unchanged")
                .arg(configPath));

    QSaveFile file(configPath);
    const QFileDevice::Permissions permissions = QFileInfo(configPath).permissions();
    if (!file.open(QIODevice::WriteOnly))
        return std::unexpected(
            QStringLiteral("Could not rewrite %1: %2").arg(configPath, file.errorString()));
    file.setPermissions(permissions);
    file.write(edited);
    if (!file.commit())
        return std::unexpected(
            QStringLiteral("Could not rewrite %1: %2").arg(configPath, file.errorString()));
    return {};
}

} // namespace streams::profileimport
