#pragma once

#include "backend/connectionprobe.h"
#include "profiles/connectionprofile.h"
#include "remote/restclient.h"
#include "remote/twilsockclient.h"

#include <QList>
#include <QObject>
#include <QStringList>
#include <memory>
#include <optional>
#include <vector>

namespace streams {

class Backend;
class ProfileStore;
class RemoteBackend;
class SecretStore;

/// The connections opened from saved profiles, and the order they were opened in, which is saved
/// (ProfileStore::setOpenProfileIds) so the next start reopens them. Opening never blocks: the
/// secret is read from the keychain asynchronously, and when there is none to read the profile is
/// queued for a secretNeeded() request that says why. Requests go out one at a time, in order —
/// restoring three profiles without a keychain asks three times rather than at once — and the
/// next goes out only once the current one is answered (provideSecret() or declineSecret()).
/// Each open connection is checked on opening and probed while its server is away
/// (ConnectionProbe). Widget-free: the window shows what the signals say.
class OpenConnections final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OpenConnections)

public:
    /// What the user chose to do with a secret they typed in.
    struct SecretChoice
    {
        bool rememberForSession = true; // held in memory until the console quits
        bool saveInKeychain = false;
    };

    /// The stores are not owned and must outlive this object.
    OpenConnections(ProfileStore &profiles, SecretStore &secrets, QObject *parent = nullptr);
    /// Closes every connection without forgetting the open order: it is what the next start
    /// restores.
    ~OpenConnections() override;

    /// Timeouts and retries for connections opened from now on (tests shorten them).
    void setRemoteOptions(const RestClient::Options &rest, const TwilsockClient::Options &live);
    /// Probe delays for connections opened from now on (tests shorten them).
    void setProbeDelays(ProbeDelays delays) { m_probeDelays = delays; }

    /// Starts opening a saved profile; opened() or openFailed() follows. Nothing happens for a
    /// profile that is open or being opened, or for the embedded engine's profile.
    void open(const QString &profileId);
    /// Opens the profiles that were open when the console last closed.
    void restore();
    /// Closes (destroys) a connection opened here and forgets it for the next start; false when
    /// `backend` is not one of these.
    bool close(Backend *backend);
    /// A profile was removed: closes its connection and drops it from the open order and from
    /// the secret requests still waiting.
    void forget(const QString &profileId);

    /// The answer to the current secretNeeded() request. An empty secret declines.
    void provideSecret(const QString &profileId, const QString &secret, SecretChoice choice);
    /// The current secretNeeded() request was refused: the profile is not opened.
    void declineSecret(const QString &profileId);

    /// The connection opened from a profile, if it is open.
    Backend *backend(const QString &profileId) const;
    /// The profile a connection was opened from; empty when it is not one of these.
    QString profileId(const Backend *backend) const;
    QList<Backend *> backends() const;
    /// Profiles open or being opened, in the order they were opened.
    QStringList openProfileIds() const { return m_openOrder; }

Q_SIGNALS:
    /// Opening a profile began (its secret is being read).
    void opening(const streams::ConnectionProfile &profile);
    /// A profile's connection exists (not owned); its first check is under way.
    void opened(streams::Backend *backend, const QString &profileId);
    /// A profile was not opened: no secret was given, or the profile is gone.
    void openFailed(const QString &profileId, const QString &reason);
    void closed(const QString &profileId);
    /// The user must give the profile's secret; `why` says why the keychain gave none.
    void secretNeeded(const streams::ConnectionProfile &profile, const QString &why);
    /// A secret the user asked to save could not be written to the keychain.
    void secretNotSaved(const QString &profileName, const QString &reason);
    /// What is wrong with an open connection, or that nothing is any more.
    void problemFound(streams::Backend *backend, const streams::ApiError &problem);
    void problemCleared(streams::Backend *backend);
    void openProfileIdsChanged(const QStringList &ids);

private:
    struct Connection;
    struct SecretRequest
    {
        ConnectionProfile profile;
        QString why;
    };

    void connectProfile(const ConnectionProfile &profile, const QString &secret);
    void requestSecret(const ConnectionProfile &profile, const QString &why);
    void requestNextSecret();
    /// Takes the current request if it is for `profileId`.
    std::optional<SecretRequest> takeRequest(const QString &profileId);
    void abandon(const QString &profileId, const QString &reason);
    void saveOpenOrder();

    ProfileStore &m_profiles;
    SecretStore &m_secrets;
    RestClient::Options m_restOptions;
    TwilsockClient::Options m_liveOptions;
    ProbeDelays m_probeDelays;
    std::vector<std::unique_ptr<Connection>> m_connections;
    QStringList m_openOrder; // open or being opened: the profiles to restore
    QList<SecretRequest> m_secretRequests; // waiting their turn
    std::optional<SecretRequest> m_asking; // sent out, not answered yet
};

} // namespace streams
