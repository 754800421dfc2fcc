#include "backend/openconnections.h"

#include "backend/remotebackend.h"
#include "profiles/profilestore.h"
#include "profiles/secretstore.h"

#include <QPointer>
#include <QTimer>
#include <algorithm>

namespace streams {

/// A connection opened from a profile. The probe is declared last so it goes first: the backend
/// settles its requests as it is destroyed, and the probe must not hear of them.
struct OpenConnections::Connection
{
    QString profileId;
    std::unique_ptr<RemoteBackend> backend;
    std::unique_ptr<ConnectionProbe> probe;
};

OpenConnections::OpenConnections(ProfileStore &profiles, SecretStore &secrets, QObject *parent)
    : QObject(parent), m_profiles(profiles), m_secrets(secrets)
{ }

OpenConnections::~OpenConnections()
{
    // The connections leave the list before they are destroyed: anything their settling
    // requests look up must already find them gone.
    auto closing = std::move(m_connections);
    m_connections.clear();
    m_openOrder.clear();
    m_secretRequests.clear();
    m_asking.reset();
    closing.clear();
}

void OpenConnections::setRemoteOptions(
    const RestClient::Options &rest, const TwilsockClient::Options &live)
{
    m_restOptions = rest;
    m_liveOptions = live;
}

Backend *OpenConnections::backend(const QString &profileId) const
{
    for (const auto &connection : m_connections) {
        if (connection->profileId == profileId)
            return connection->backend.get();
    }
    return nullptr;
}

QString OpenConnections::profileId(const Backend *backend) const
{
    for (const auto &connection : m_connections) {
        if (backend && connection->backend.get() == backend)
            return connection->profileId;
    }
    return {};
}

QList<Backend *> OpenConnections::backends() const
{
    QList<Backend *> out;
    for (const auto &connection : m_connections)
        out.append(connection->backend.get());
    return out;
}

void OpenConnections::saveOpenOrder()
{
    m_profiles.setOpenProfileIds(m_openOrder);
    Q_EMIT openProfileIdsChanged(m_openOrder);
}

void OpenConnections::restore()
{
    for (const QString &id : m_profiles.openProfileIds())
        open(id);
}

void OpenConnections::open(const QString &profileId)
{
    if (m_openOrder.contains(profileId))
        return; // open, or its secret is being read or asked for
    const std::optional<ConnectionProfile> profile = m_profiles.find(profileId);
    if (!profile) {
        // A profile removed since it was saved as open: forget it without asking anything.
        saveOpenOrder();
        Q_EMIT openFailed(profileId, tr("There is no saved connection “%1”.").arg(profileId));
        return;
    }
    if (profile->kind == ConnectionProfile::Kind::LocalEngine)
        return; // always open, and not ours
    m_openOrder.append(profile->id);
    saveOpenOrder();
    Q_EMIT opening(*profile);
    // No context object on SecretStore futures: they finish on this thread, and may do so while
    // this object or the store is being torn down (Qt 6.4 asserts when a context dies first). A
    // QPointer says whether to go on.
    m_secrets.read(profile->secretKey())
        .then([guard = QPointer(this), opening = *profile](
                  const std::expected<QString, SecretStore::Error> &secret) {
            if (!guard || !guard->m_openOrder.contains(opening.id))
                return; // gone, or given up meanwhile
            if (secret && !secret->isEmpty()) {
                guard->connectProfile(opening, *secret);
                return;
            }
            QString why;
            if (secret) {
                why = tr("The keychain holds an empty secret for this connection.");
            } else {
                switch (secret.error().kind) {
                case SecretStore::Error::Kind::NotFound:
                    why = tr("No secret is stored for this connection yet.");
                    break;
                case SecretStore::Error::Kind::NoKeychain:
                    why = tr("There is no keychain on this system (%1), so secrets are never "
                             "saved: enter it for this session.")
                              .arg(secret.error().message);
                    break;
                case SecretStore::Error::Kind::AccessDenied:
                    why = tr("The keychain refused access to it: %1.").arg(secret.error().message);
                    break;
                case SecretStore::Error::Kind::Other:
                    why = tr("The keychain could not be read: %1.").arg(secret.error().message);
                    break;
                }
            }
            guard->requestSecret(opening, why);
        });
}

void OpenConnections::requestSecret(const ConnectionProfile &profile, const QString &why)
{
    m_secretRequests.append({profile, why});
    requestNextSecret();
}

void OpenConnections::requestNextSecret()
{
    if (m_asking || m_secretRequests.isEmpty())
        return;
    m_asking = m_secretRequests.takeFirst();
    Q_EMIT secretNeeded(m_asking->profile, m_asking->why);
}

std::optional<OpenConnections::SecretRequest> OpenConnections::takeRequest(const QString &profileId)
{
    if (!m_asking || m_asking->profile.id != profileId)
        return std::nullopt;
    std::optional<SecretRequest> answered = std::exchange(m_asking, std::nullopt);
    // Queued: whoever answered (a dialog's finished handler) is done before the next request
    // reaches it.
    QTimer::singleShot(0, this, [this] { requestNextSecret(); });
    return answered;
}

void OpenConnections::provideSecret(
    const QString &profileId, const QString &secret, SecretChoice choice)
{
    if (secret.isEmpty()) {
        declineSecret(profileId);
        return;
    }
    const std::optional<SecretRequest> request = takeRequest(profileId);
    if (!request)
        return;
    const ConnectionProfile &profile = request->profile;
    if (choice.rememberForSession)
        m_secrets.rememberForSession(profile.secretKey(), secret);
    if (choice.saveInKeychain) {
        m_secrets.write(profile.secretKey(), secret)
            .then([guard = QPointer(this), name = profile.name](
                      const std::expected<void, SecretStore::Error> &written) {
                if (guard && !written)
                    Q_EMIT guard->secretNotSaved(name, written.error().message);
            });
    }
    if (m_openOrder.contains(profile.id))
        connectProfile(profile, secret);
}

void OpenConnections::declineSecret(const QString &profileId)
{
    const std::optional<SecretRequest> request = takeRequest(profileId);
    if (!request)
        return;
    abandon(profileId, tr("“%1” was not opened: no secret given.").arg(request->profile.name));
}

void OpenConnections::abandon(const QString &profileId, const QString &reason)
{
    m_openOrder.removeAll(profileId);
    saveOpenOrder();
    Q_EMIT openFailed(profileId, reason);
}

void OpenConnections::connectProfile(const ConnectionProfile &profile, const QString &secret)
{
    RemoteConnection remote = RemoteConnection::fromProfile(profile, secret);
    remote.rest = m_restOptions;
    remote.twilsock = m_liveOptions;
    auto connection = std::make_unique<Connection>();
    connection->profileId = profile.id;
    connection->backend = std::make_unique<RemoteBackend>(std::move(remote));
    connection->probe = std::make_unique<ConnectionProbe>(*connection->backend, m_probeDelays);
    RemoteBackend *backend = connection->backend.get();
    ConnectionProbe *probe = connection->probe.get();
    m_connections.push_back(std::move(connection));

    connect(probe, &ConnectionProbe::problemFound, this,
        [this, backend](const ApiError &problem) { Q_EMIT problemFound(backend, problem); });
    connect(probe, &ConnectionProbe::problemCleared, this,
        [this, backend] { Q_EMIT problemCleared(backend); });
    Q_EMIT opened(backend, profile.id);
    probe->check();
}

bool OpenConnections::close(Backend *backend)
{
    const auto it = std::find_if(m_connections.begin(), m_connections.end(),
        [backend](const auto &connection) { return connection->backend.get() == backend; });
    if (it == m_connections.end())
        return false;
    std::unique_ptr<Connection> closing = std::move(*it);
    m_connections.erase(it);
    const QString id = closing->profileId;
    m_openOrder.removeAll(id);
    saveOpenOrder();
    closing.reset();
    Q_EMIT closed(id);
    return true;
}

void OpenConnections::forget(const QString &profileId)
{
    if (Backend *open = backend(profileId))
        close(open);
    m_secretRequests.removeIf(
        [&profileId](const SecretRequest &request) { return request.profile.id == profileId; });
    m_openOrder.removeAll(profileId);
    saveOpenOrder();
}

} // namespace streams
