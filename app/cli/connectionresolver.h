#pragma once

#include "backend/remotebackend.h"
#include "clicommandline.h"
#include "clifailure.h"

#include <QFuture>
#include <QObject>
#include <QProcessEnvironment>
#include <QUrl>
#include <expected>

namespace streams {

class SecretStore;

/// Works out where streams-cli connects and as whom:
/// - `--url URL`: the streams-engine at URL, with TWILIO_ACCOUNT_SID and TWILIO_API_KEY +
///   TWILIO_API_SECRET (or TWILIO_AUTH_TOKEN);
/// - `--profile NAME`: a saved profile (ProfileStore, so STREAMS_PROFILES_FILE is honoured) with
///   its secret from the keychain, or from the TWILIO_* secret variables when the keychain has
///   none; the "Local engine" profile is http://127.0.0.1:18080 with the credentials in the
///   engine's default data directory;
/// - neither: Twilio's cloud with the TWILIO_* variables (TWILIO_REGION, TWILIO_EDGE too).
class ConnectionResolver final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionResolver)

public:
    using Result = std::expected<RemoteConnection, CliFailure>;

    explicit ConnectionResolver(const QProcessEnvironment &environment, QObject *parent = nullptr);
    ~ConnectionResolver() override;

    /// Where the Local engine profile points: the port streams-console's embedded engine and a
    /// plain `streams-engine` listen on by default.
    static QUrl localEngineUrl();

    /// Finishes on this object's thread (the keychain answers asynchronously).
    QFuture<Result> resolve(const CliInvocation &invocation);

private:
    Result fromUrl(const QUrl &url) const;
    Result fromCloud() const;
    Result fromLocalEngine() const;
    QFuture<Result> fromProfile(const QString &name);
    /// The profile's secret from TWILIO_API_SECRET / TWILIO_AUTH_TOKEN, when those belong to it.
    std::optional<QString> secretFromEnvironment(const ConnectionProfile &profile) const;

    QProcessEnvironment m_environment;
    SecretStore *m_secrets = nullptr;
};

} // namespace streams
