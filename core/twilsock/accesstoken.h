#pragma once

#include <QByteArray>
#include <QString>
#include <expected>
#include <functional>
#include <optional>

namespace streams::twilsock {

/// What a Twilio access token with a Sync grant says (twilio/lib/jwt/AccessToken.js):
/// header {"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}, payload {jti, grants: {identity,
/// data_sync: {service_sid, endpoint_id?}}, iat, exp, nbf?, iss: API key SID, sub: account SID}.
struct AccessTokenClaims
{
    QString apiKeySid; // iss
    QString accountSid; // sub
    QString identity; // grants.identity
    QString serviceSid; // grants.data_sync.service_sid
    QString endpointId; // grants.data_sync.endpoint_id (optional)
    QString tokenId; // jti
    qint64 issuedAt = 0;
    qint64 expiresAt = 0;
    std::optional<qint64> notBefore;
};

enum class TokenError {
    Malformed, // not three base64url parts of JSON
    UnsupportedAlgorithm, // alg is not HS256/HS384/HS512, or cty is not twilio-fpa;v=1
    UnknownKey, // iss names no API key we know
    BadSignature,
    NotYetValid, // nbf in the future
    Expired, // exp passed: twilsock error 20104
    NoSyncGrant, // no grants.data_sync or no identity
};

/// Mints and verifies access tokens (JWT, HMAC-SHA256/384/512 with an API key secret).
class AccessToken final
{
public:
    /// `HS256` unless told otherwise; iat/exp are taken from the claims. The bytes match what the
    /// npm `twilio` AccessToken writes for the same claims; jti defaults to `<iss>-<iat>`, empty
    /// serviceSid/endpointId are left out. Returns an empty array for any other algorithm.
    static QByteArray mint(const AccessTokenClaims &claims, QByteArrayView apiKeySecret,
        QByteArrayView algorithm = "HS256");

    /// Returns the secret of an API key SID, or nothing for an unknown key.
    using SecretLookup = std::function<std::optional<QByteArray>(const QString &apiKeySid)>;

    /// Checks shape, algorithm, signature (constant time), nbf and exp against `nowSeconds`, and
    /// that there is a Sync grant. Account and service checks are the caller's: they depend on
    /// what the server serves. cty must be present and `twilio-fpa;v=1` (every official library
    /// sets it). A grant without service_sid (the account's default service) gives an empty
    /// serviceSid; a token without sub gives an empty accountSid.
    static std::expected<AccessTokenClaims, TokenError> verify(
        QByteArrayView token, const SecretLookup &secretFor, qint64 nowSeconds);

    /// The twilsock errorCode for a verification failure: 20104 for Expired, 20101 otherwise.
    static int errorCode(TokenError error);
    static QString describe(TokenError error);
};

} // namespace streams::twilsock
