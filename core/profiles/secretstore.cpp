#include "profiles/secretstore.h"

#include <QPromise>
#include <memory>
#include <qt6keychain/keychain.h>

#if defined(Q_OS_UNIX) && !defined(Q_OS_DARWIN) && !defined(Q_OS_ANDROID)
#define STREAMS_KEYCHAIN_OVER_DBUS 1
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#endif

namespace streams {

namespace {

template<typename T>
using Result = std::expected<T, SecretStore::Error>;

template<typename T>
std::pair<std::shared_ptr<QPromise<Result<T>>>, QFuture<Result<T>>> makePromise()
{
    auto promise = std::make_shared<QPromise<Result<T>>>();
    promise->start();
    return {promise, promise->future()};
}

template<typename T>
void resolve(const std::shared_ptr<QPromise<Result<T>>> &promise, Result<T> result)
{
    promise->addResult(std::move(result));
    promise->finish();
}

QString unreachableReason(const QString &why)
{
    return QStringLiteral(
        "No OS keychain is reachable (%1): secrets are kept for this session only")
        .arg(why);
}

/// Every job refuses QtKeychain's plaintext fallback explicitly (it is off by default, but a
/// default can change): without a keychain a secret lives in memory only.
template<typename Job>
Job *makeJob(const QString &service, const QString &key)
{
    // No parent: with the libsecret backend a job deleted while its D-Bus call is pending would
    // be called back after free, so jobs always run to the end and delete themselves.
    auto *job = new Job(service);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(key);
    return job;
}

} // namespace

SecretStore::SecretStore(QString serviceName, QObject *parent)
    : QObject(parent), m_serviceName(std::move(serviceName))
{ }

SecretStore::~SecretStore() = default;

QFuture<std::expected<QString, SecretStore::Error>> SecretStore::read(const QString &key)
{
    auto [promise, future] = makePromise<QString>();
    if (const auto session = m_session.constFind(key); session != m_session.cend()) {
        resolve<QString>(promise, *session);
        return future;
    }
    auto *job = makeJob<QKeychain::ReadPasswordJob>(m_serviceName, key);
    connect(job, &QKeychain::Job::finished, this, [this, promise](QKeychain::Job *finished) {
        if (finished->error() == QKeychain::NoError) {
            setKeychainReachable();
            resolve<QString>(
                promise, static_cast<QKeychain::ReadPasswordJob *>(finished)->textData());
            return;
        }
        classifyFailure(finished->error(), finished->errorString(),
            [promise](const Error &error) { resolve<QString>(promise, std::unexpected(error)); });
    });
    job->start();
    return future;
}

QFuture<std::expected<void, SecretStore::Error>> SecretStore::write(
    const QString &key, const QString &secret)
{
    auto [promise, future] = makePromise<void>();
    auto *job = makeJob<QKeychain::WritePasswordJob>(m_serviceName, key);
    job->setTextData(secret);
    connect(job, &QKeychain::Job::finished, this,
        [this, promise, key, secret](QKeychain::Job *finished) {
            if (finished->error() == QKeychain::NoError) {
                setKeychainReachable();
                // The keychain now holds the current secret; a session copy would shadow it.
                m_session.remove(key);
                resolve<void>(promise, {});
                return;
            }
            classifyFailure(finished->error(), finished->errorString(),
                [this, promise, key, secret](const Error &error) {
                    if (error.kind == Error::Kind::NoKeychain)
                        m_session.insert(key, secret);
                    resolve<void>(promise, std::unexpected(error));
                });
        });
    job->start();
    return future;
}

QFuture<std::expected<void, SecretStore::Error>> SecretStore::remove(const QString &key)
{
    auto [promise, future] = makePromise<void>();
    m_session.remove(key);
    auto *job = makeJob<QKeychain::DeletePasswordJob>(m_serviceName, key);
    connect(job, &QKeychain::Job::finished, this, [this, promise](QKeychain::Job *finished) {
        if (finished->error() == QKeychain::NoError) {
            setKeychainReachable();
            resolve<void>(promise, {});
            return;
        }
        classifyFailure(finished->error(), finished->errorString(), [promise](const Error &error) {
            // Removing what is not there leaves the keychain as the caller wants it.
            if (error.kind == Error::Kind::NotFound)
                resolve<void>(promise, {});
            else
                resolve<void>(promise, std::unexpected(error));
        });
    });
    job->start();
    return future;
}

void SecretStore::rememberForSession(const QString &key, const QString &secret)
{
    m_session.insert(key, secret);
}

void SecretStore::classifyFailure(
    int keychainError, const QString &keychainMessage, std::function<void(Error)> done)
{
    switch (static_cast<QKeychain::Error>(keychainError)) {
    case QKeychain::NoError: break;
    case QKeychain::EntryNotFound:
        setKeychainReachable(); // it answered
        done(Error{Error::Kind::NotFound, QStringLiteral("No secret is stored in the keychain")});
        return;
    case QKeychain::AccessDenied:
    case QKeychain::AccessDeniedByUser:
        done(Error{Error::Kind::AccessDenied,
            QStringLiteral("The keychain refused access (%1)").arg(keychainMessage)});
        return;
    case QKeychain::NoBackendAvailable:
    case QKeychain::NotImplemented:
        setKeychainUnreachable(keychainMessage);
        done(Error{Error::Kind::NoKeychain, m_unavailableReason});
        return;
    case QKeychain::CouldNotDeleteEntry:
    case QKeychain::OtherError: break;
    }

    const Error other{
        Error::Kind::Other, QStringLiteral("Keychain error: %1").arg(keychainMessage)};
#ifdef STREAMS_KEYCHAIN_OVER_DBUS
    // The libsecret backend reports a missing bus or a missing Secret Service as OtherError with
    // GLib's message, so the bus itself is asked: is it there, and does anyone own the name?
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected()) {
        const QString detail = bus.lastError().message();
        setKeychainUnreachable(detail.isEmpty()
                ? QStringLiteral("no D-Bus session bus")
                : QStringLiteral("no D-Bus session bus: %1").arg(detail));
        done(Error{Error::Kind::NoKeychain, m_unavailableReason});
        return;
    }
    const QDBusMessage call =
        QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.DBus"),
            QStringLiteral("/org/freedesktop/DBus"), QStringLiteral("org.freedesktop.DBus"),
            QStringLiteral("NameHasOwner"))
        << QStringLiteral("org.freedesktop.secrets");
    auto *watcher = new QDBusPendingCallWatcher(bus.asyncCall(call), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this,
        [this, done = std::move(done), other](QDBusPendingCallWatcher *answered) {
            answered->deleteLater();
            const QDBusPendingReply<bool> reply = *answered;
            if (reply.isValid() && !reply.value()) {
                setKeychainUnreachable(QStringLiteral(
                    "nothing provides the Secret Service on the D-Bus session bus; is "
                    "gnome-keyring or KWallet running?"));
                done(Error{Error::Kind::NoKeychain, m_unavailableReason});
                return;
            }
            done(other);
        });
#else
    done(other);
#endif
}

void SecretStore::setKeychainReachable()
{
    if (m_keychainAvailable)
        return;
    m_keychainAvailable = true;
    m_unavailableReason.clear();
    Q_EMIT keychainAvailabilityChanged(true);
}

void SecretStore::setKeychainUnreachable(const QString &why)
{
    m_unavailableReason = unreachableReason(why);
    if (!m_keychainAvailable)
        return;
    m_keychainAvailable = false;
    Q_EMIT keychainAvailabilityChanged(false);
}

} // namespace streams
