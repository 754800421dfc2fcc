#pragma once

#include "profiles/connectionprofile.h"

#include <QList>
#include <QObject>
#include <expected>
#include <memory>
#include <optional>

class QSettings;

namespace streams {

/// The saved profiles, in an INI file shared by the console and streams-cli (default
/// `~/.config/sync-streams-console/profiles.ini`, or STREAMS_PROFILES_FILE). Never holds a secret.
/// The embedded engine's profile is always listed first and cannot be removed.
class ProfileStore final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProfileStore)

public:
    explicit ProfileStore(const QString &filePath = {}, QObject *parent = nullptr);
    ~ProfileStore() override;

    static QString defaultFilePath();
    QString filePath() const;

    QList<ConnectionProfile> profiles() const;
    /// By id, or else by name (case-insensitive).
    std::optional<ConnectionProfile> find(const QString &idOrName) const;
    /// Adds or replaces (by id; a new id is made when empty). Returns the saved profile, or why
    /// it was refused: a name another profile already has (compared case-insensitively, since
    /// --profile NAME matches that way), a profile with problems(), the embedded engine's profile,
    /// or a file that could not be written.
    std::expected<ConnectionProfile, QString> save(ConnectionProfile profile);
    /// Removes the profile (not its keychain secret: SecretStore::remove(profile.secretKey())).
    void remove(const QString &id);

    /// Ids of the profiles open in the console when it last closed.
    QStringList openProfileIds() const;
    void setOpenProfileIds(const QStringList &ids);

Q_SIGNALS:
    void profilesChanged();

private:
    std::optional<ConnectionProfile> readProfile(const QString &id) const;
    /// Writes pending changes and keeps the file private to the user; empty on success.
    QString commit();

    std::unique_ptr<QSettings> m_settings;
};

} // namespace streams
