#pragma once

#include <QFuture>
#include <QHash>
#include <QObject>
#include <QString>
#include <expected>
#include <functional>

namespace streams {

/// Profile secrets in the OS keychain through QtKeychain (Secret Service/gnome-keyring or
/// KWallet on Linux, Keychain on macOS, Credential Manager on Windows), keyed "profile/<id>"
/// under the service "sync-streams-console". Asynchronous: the futures finish on this object's
/// thread. When no keychain is reachable, secrets are held in memory for this session only
/// (rememberForSession) and never written anywhere; keychainAvailable() turns false with the
/// reason so the UI can say why it asks again next time.
class SecretStore final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SecretStore)

public:
    struct Error
    {
        enum class Kind {
            NotFound,
            NoKeychain,
            AccessDenied,
            Other
        };
        Kind kind = Kind::Other;
        QString message;
    };

    explicit SecretStore(
        QString serviceName = QStringLiteral("sync-streams-console"), QObject *parent = nullptr);
    ~SecretStore() override;

    /// The session copy when there is one, else the keychain's.
    QFuture<std::expected<QString, Error>> read(const QString &key);
    /// Into the keychain; on NoKeychain the secret is kept for this session only and the
    /// error is still returned so the caller can tell the user.
    QFuture<std::expected<void, Error>> write(const QString &key, const QString &secret);
    QFuture<std::expected<void, Error>> remove(const QString &key);

    void rememberForSession(const QString &key, const QString &secret);
    bool keychainAvailable() const { return m_keychainAvailable; }
    QString unavailableReason() const { return m_unavailableReason; }

Q_SIGNALS:
    void keychainAvailabilityChanged(bool available);

private:
    /// Turns a failed QtKeychain job into an Error, asking D-Bus first when the keychain's own
    /// answer is too vague to tell "no keychain here" from other failures; `done` runs on this
    /// object's thread.
    void classifyFailure(
        int keychainError, const QString &keychainMessage, std::function<void(Error)> done);
    void setKeychainReachable();
    void setKeychainUnreachable(const QString &why);

    QString m_serviceName;
    QHash<QString, QString> m_session;
    bool m_keychainAvailable = true;
    QString m_unavailableReason;
};

} // namespace streams
