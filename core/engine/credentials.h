#pragma once

#include <QProcessEnvironment>
#include <QString>
#include <expected>

namespace streams {

/// The engine's account: an Account SID with its Auth Token, and one API key (SID + secret) for
/// HTTP Basic auth and for signing/verifying twilsock access tokens.
struct EngineCredentials
{
    QString accountSid;
    QString authToken;
    QString apiKeySid;
    QString apiKeySecret;

    /// True when (user, password) is the account SID + auth token or the API key SID + secret.
    /// Compares in constant time so a caller cannot learn a secret byte by byte.
    bool accepts(QByteArrayView user, QByteArrayView password) const;

    /// TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN and TWILIO_API_KEY/TWILIO_API_SECRET from
    /// `environment` win when set (and are never written to disk). Otherwise the pair is read from
    /// `<dataDir>/credentials.json`, or generated and stored there readable only by the user.
    /// `generated` is set when secrets were generated this time and are the ones in effect (not
    /// replaced by the environment), i.e. when the user has never seen them.
    static std::expected<EngineCredentials, QString> loadOrCreate(
        const QString &dataDir, const QProcessEnvironment &environment, bool *generated = nullptr);

    static QString fileName();
};

} // namespace streams
