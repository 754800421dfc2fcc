#include "profiles/profilestore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>
#include <QUuid>
#include <algorithm>

namespace streams {

namespace {

// The INI layout: one group per profile under [profiles] ("<id>\name=…"), and the open list at
// the top level. Kinds and methods are spelled out rather than stored as enum numbers so the
// file stays readable and survives reordering the enums.
const QString kProfilesGroup = QStringLiteral("profiles");
const QString kOpenProfilesKey = QStringLiteral("openProfiles");
const QString kFormatKey = QStringLiteral("format");
constexpr int kFormat = 1;

const QString kName = QStringLiteral("name");
const QString kKind = QStringLiteral("kind");
const QString kEngineUrl = QStringLiteral("engineUrl");
const QString kAccountSid = QStringLiteral("accountSid");
const QString kAuthMethod = QStringLiteral("authMethod");
const QString kApiKeySid = QStringLiteral("apiKeySid");
const QString kRegion = QStringLiteral("region");
const QString kEdge = QStringLiteral("edge");

using Kind = ConnectionProfile::Kind;
using AuthMethod = ConnectionProfile::AuthMethod;

QString kindToken(Kind kind)
{
    switch (kind) {
    case Kind::EngineAtUrl: return QStringLiteral("engine");
    case Kind::TwilioAccount: return QStringLiteral("twilio");
    case Kind::LocalEngine: break;
    }
    return QStringLiteral("local");
}

std::optional<Kind> kindFromToken(const QString &token)
{
    if (token == u"engine")
        return Kind::EngineAtUrl;
    if (token == u"twilio")
        return Kind::TwilioAccount;
    return std::nullopt; // "local" is never saved; anything else is from a newer version
}

/// Ids become INI group names, so they must not carry the group separator or INI syntax.
bool isValidId(const QString &id)
{
    if (id.isEmpty() || id.size() > 64)
        return false;
    return std::ranges::all_of(id, [](QChar c) {
        const char16_t u = c.unicode();
        return (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') || (u >= u'0' && u <= u'9')
            || u == u'-' || u == u'_';
    });
}

} // namespace

ProfileStore::ProfileStore(const QString &filePath, QObject *parent)
    : QObject(parent),
      m_settings(std::make_unique<QSettings>(
          filePath.isEmpty() ? defaultFilePath() : filePath, QSettings::IniFormat))
{ }

ProfileStore::~ProfileStore() = default;

QString ProfileStore::defaultFilePath()
{
    const QString overridden = qEnvironmentVariable("STREAMS_PROFILES_FILE");
    if (!overridden.isEmpty())
        return overridden;
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation)
        + QStringLiteral("/sync-streams-console/profiles.ini");
}

QString ProfileStore::filePath() const
{
    return m_settings->fileName();
}

std::optional<ConnectionProfile> ProfileStore::readProfile(const QString &id) const
{
    m_settings->beginGroup(kProfilesGroup + u'/' + id);
    const auto kind = kindFromToken(m_settings->value(kKind).toString());
    ConnectionProfile profile;
    profile.id = id;
    profile.name = m_settings->value(kName).toString();
    profile.engineUrl = QUrl(m_settings->value(kEngineUrl).toString(), QUrl::StrictMode);
    profile.accountSid = m_settings->value(kAccountSid).toString();
    profile.authMethod = m_settings->value(kAuthMethod).toString() == u"authToken"
        ? AuthMethod::AuthToken
        : AuthMethod::ApiKey;
    profile.apiKeySid = m_settings->value(kApiKeySid).toString();
    profile.region = m_settings->value(kRegion).toString();
    profile.edge = m_settings->value(kEdge).toString();
    m_settings->endGroup();
    if (!kind || profile.name.isEmpty())
        return std::nullopt;
    profile.kind = *kind;
    return profile;
}

QList<ConnectionProfile> ProfileStore::profiles() const
{
    // Picks up what another process (streams-cli, a second console) wrote meanwhile.
    m_settings->sync();
    m_settings->beginGroup(kProfilesGroup);
    const QStringList ids = m_settings->childGroups();
    m_settings->endGroup();

    QList<ConnectionProfile> saved;
    for (const QString &id : ids) {
        if (auto profile = readProfile(id))
            saved.append(std::move(*profile));
    }
    std::ranges::sort(saved, [](const ConnectionProfile &a, const ConnectionProfile &b) {
        const int byName = a.name.compare(b.name, Qt::CaseInsensitive);
        return byName != 0 ? byName < 0 : a.id < b.id;
    });
    saved.prepend(ConnectionProfile::localEngine());
    return saved;
}

std::optional<ConnectionProfile> ProfileStore::find(const QString &idOrName) const
{
    const QList<ConnectionProfile> all = profiles();
    for (const ConnectionProfile &profile : all) {
        if (profile.id == idOrName)
            return profile;
    }
    for (const ConnectionProfile &profile : all) {
        if (profile.name.compare(idOrName, Qt::CaseInsensitive) == 0)
            return profile;
    }
    return std::nullopt;
}

std::expected<ConnectionProfile, QString> ProfileStore::save(ConnectionProfile profile)
{
    const ConnectionProfile local = ConnectionProfile::localEngine();
    if (profile.kind == Kind::LocalEngine || profile.id == local.id)
        return std::unexpected(QStringLiteral("The local engine's connection cannot be changed"));
    if (!profile.id.isEmpty() && !isValidId(profile.id))
        return std::unexpected(QStringLiteral("\"%1\" is not a valid profile id").arg(profile.id));
    if (const auto problems = profile.problems(); !problems.isEmpty())
        return std::unexpected(problems.first().message);

    for (const ConnectionProfile &other : profiles()) {
        if (other.id != profile.id && other.name.compare(profile.name, Qt::CaseInsensitive) == 0)
            return std::unexpected(
                QStringLiteral("A connection named \"%1\" already exists").arg(other.name));
    }

    if (profile.id.isEmpty())
        profile.id = QUuid::createUuid().toString(QUuid::WithoutBraces);

    // Only the fields the kind uses are written, so switching a profile's kind leaves nothing
    // stale behind.
    m_settings->remove(kProfilesGroup + u'/' + profile.id);
    m_settings->beginGroup(kProfilesGroup + u'/' + profile.id);
    m_settings->setValue(kName, profile.name);
    m_settings->setValue(kKind, kindToken(profile.kind));
    if (profile.kind == Kind::EngineAtUrl)
        m_settings->setValue(kEngineUrl, profile.engineUrl.toString(QUrl::FullyEncoded));
    m_settings->setValue(kAccountSid, profile.accountSid);
    m_settings->setValue(kAuthMethod,
        profile.authMethod == AuthMethod::ApiKey ? QStringLiteral("apiKey")
                                                 : QStringLiteral("authToken"));
    if (profile.authMethod == AuthMethod::ApiKey)
        m_settings->setValue(kApiKeySid, profile.apiKeySid);
    if (profile.kind == Kind::TwilioAccount) {
        if (!profile.region.isEmpty())
            m_settings->setValue(kRegion, profile.region);
        if (!profile.edge.isEmpty())
            m_settings->setValue(kEdge, profile.edge);
    }
    m_settings->endGroup();

    if (const QString error = commit(); !error.isEmpty())
        return std::unexpected(error);
    Q_EMIT profilesChanged();
    return profile;
}

void ProfileStore::remove(const QString &id)
{
    if (id.isEmpty() || !isValidId(id) || id == ConnectionProfile::localEngine().id)
        return;
    m_settings->sync();
    const QString group = kProfilesGroup + u'/' + id;
    m_settings->beginGroup(group);
    const bool existed = !m_settings->childKeys().isEmpty();
    m_settings->endGroup();
    if (!existed)
        return;
    m_settings->remove(group);
    QStringList open = openProfileIds();
    if (open.removeAll(id) > 0)
        m_settings->setValue(kOpenProfilesKey, open);
    commit();
    Q_EMIT profilesChanged();
}

QStringList ProfileStore::openProfileIds() const
{
    return m_settings->value(kOpenProfilesKey).toStringList();
}

void ProfileStore::setOpenProfileIds(const QStringList &ids)
{
    m_settings->setValue(kOpenProfilesKey, ids);
    commit();
}

QString ProfileStore::commit()
{
    const QString path = m_settings->fileName();
    QDir().mkpath(QFileInfo(path).absolutePath());
    m_settings->setValue(kFormatKey, kFormat);
    m_settings->sync();
    if (m_settings->status() != QSettings::NoError)
        return QStringLiteral("Could not write the connection profiles to %1").arg(path);
    // QSettings replaces the file atomically and keeps an existing file's mode; a new one gets
    // the umask's. The file holds no secret, but it maps out which accounts the user reaches.
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return {};
}

} // namespace streams
