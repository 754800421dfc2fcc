#include "twilsock/accesstoken.h"

#include "api/jsonwriter.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <cmath>

namespace streams::twilsock {

namespace {

constexpr QByteArrayView kContentType = "twilio-fpa;v=1";

// Real tokens are well under 1 KiB; the bound keeps a hostile init frame from costing more than a
// token's worth of base64 and JSON work.
constexpr qsizetype kMaxTokenBytes = 16 * 1024;

std::optional<QCryptographicHash::Algorithm> hashFor(QByteArrayView algorithm)
{
    if (algorithm == "HS256")
        return QCryptographicHash::Sha256;
    if (algorithm == "HS384")
        return QCryptographicHash::Sha384;
    if (algorithm == "HS512")
        return QCryptographicHash::Sha512;
    return std::nullopt;
}

QByteArray base64Url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

// Strict base64url: only the URL alphabet, no padding, and the canonical encoding (no stray bits
// in the last character), so every token has exactly one spelling. Qt's decoder alone would
// accept '=' and non-canonical tails.
std::optional<QByteArray> fromBase64Url(QByteArrayView text)
{
    if (text.isEmpty() || text.size() % 4 == 1)
        return std::nullopt;
    for (const char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
            || c == '-' || c == '_';
        if (!ok)
            return std::nullopt;
    }
    const QByteArray encoded = text.toByteArray();
    auto decoded = QByteArray::fromBase64Encoding(encoded,
        QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals
            | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || base64Url(*decoded) != encoded)
        return std::nullopt;
    return std::move(*decoded);
}

std::optional<QJsonObject> jsonObjectFrom(QByteArrayView base64)
{
    const auto json = fromBase64Url(base64);
    if (!json)
        return std::nullopt;
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(*json, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return std::nullopt;
    return document.object();
}

// A NumericDate as whole seconds. RFC 7519 allows fractions, but every Twilio library writes
// integers; a fraction or a value past ±2^53 is treated as a malformed token.
std::optional<qint64> secondsOf(const QJsonValue &value)
{
    if (!value.isDouble())
        return std::nullopt;
    const double number = value.toDouble();
    constexpr double kLimit = 9007199254740992.0; // 2^53: every integer below is exact
    if (!std::isfinite(number) || std::abs(number) > kLimit || number != std::trunc(number))
        return std::nullopt;
    return qint64(number);
}

// A claim that must be a string when present; absent reads as empty.
std::optional<QString> optionalString(const QJsonObject &object, QLatin1StringView key)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined())
        return QString();
    if (!value.isString())
        return std::nullopt;
    return value.toString();
}

// Signatures are compared without an early exit so that timing does not reveal how many leading
// bytes of a forged signature were right.
bool equalInConstantTime(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false; // lengths follow from the algorithm, which is public anyway
    unsigned char difference = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        difference |= static_cast<unsigned char>(a[i] ^ b[i]);
    return difference == 0;
}

} // namespace

QByteArray AccessToken::mint(
    const AccessTokenClaims &claims, QByteArrayView apiKeySecret, QByteArrayView algorithm)
{
    const auto hash = hashFor(algorithm);
    if (!hash)
        return {};

    // Written by hand rather than through QJsonObject (which sorts keys) so that the bytes match
    // what twilio/lib/jwt/AccessToken.js + jsonwebtoken produce for the same claims.
    QByteArray header;
    JsonWriter(header)
        .beginObject()
        .key(QLatin1StringView("alg"))
        .value(QLatin1StringView(algorithm.data(), algorithm.size()))
        .key(QLatin1StringView("typ"))
        .value(QLatin1StringView("JWT"))
        .key(QLatin1StringView("cty"))
        .value(QLatin1StringView(kContentType.data(), kContentType.size()))
        .endObject();

    QByteArray payload;
    JsonWriter writer(payload);
    writer.beginObject().key(QLatin1StringView("jti"));
    if (claims.tokenId.isEmpty())
        writer.value(
            QStringView(QStringLiteral("%1-%2").arg(claims.apiKeySid).arg(claims.issuedAt)));
    else
        writer.value(QStringView(claims.tokenId));
    writer.key(QLatin1StringView("grants"))
        .beginObject()
        .key(QLatin1StringView("identity"))
        .value(QStringView(claims.identity))
        .key(QLatin1StringView("data_sync"))
        .beginObject();
    // The SyncGrant leaves out what is not set; an empty grant means the account's default service.
    if (!claims.serviceSid.isEmpty())
        writer.key(QLatin1StringView("service_sid")).value(QStringView(claims.serviceSid));
    if (!claims.endpointId.isEmpty())
        writer.key(QLatin1StringView("endpoint_id")).value(QStringView(claims.endpointId));
    writer.endObject().endObject();
    // jsonwebtoken keeps a caller's nbf where AccessToken put it, before the claims it adds.
    if (claims.notBefore)
        writer.key(QLatin1StringView("nbf")).value(*claims.notBefore);
    writer.key(QLatin1StringView("iat"))
        .value(claims.issuedAt)
        .key(QLatin1StringView("exp"))
        .value(claims.expiresAt)
        .key(QLatin1StringView("iss"))
        .value(QStringView(claims.apiKeySid))
        .key(QLatin1StringView("sub"))
        .value(QStringView(claims.accountSid))
        .endObject();

    QByteArray token = base64Url(header) + '.' + base64Url(payload);
    const QByteArray signature = QMessageAuthenticationCode::hash(
        token, QByteArray(apiKeySecret.data(), apiKeySecret.size()), *hash);
    token += '.';
    token += base64Url(signature);
    return token;
}

std::expected<AccessTokenClaims, TokenError> AccessToken::verify(
    QByteArrayView token, const SecretLookup &secretFor, qint64 nowSeconds)
{
    using std::unexpected;
    if (token.isEmpty() || token.size() > kMaxTokenBytes)
        return unexpected(TokenError::Malformed);

    const qsizetype firstDot = token.indexOf('.');
    const qsizetype secondDot = firstDot < 0 ? -1 : token.indexOf('.', firstDot + 1);
    if (secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0)
        return unexpected(TokenError::Malformed);
    const QByteArrayView signingInput = token.first(secondDot);
    const auto header = jsonObjectFrom(token.first(firstDot));
    if (!header)
        return unexpected(TokenError::Malformed);

    // Only the algorithms the official libraries sign with: "none" or an asymmetric alg must
    // never reach the HMAC below. cty is required too: every Twilio helper library sets it and
    // Twilio documents it as required, so a token a generic JWT library made without it is
    // refused here as it would be by Twilio, not accepted locally and rejected in production.
    const auto hash = hashFor(header->value(QLatin1StringView("alg")).toString().toLatin1());
    if (!hash)
        return unexpected(TokenError::UnsupportedAlgorithm);
    const QJsonValue contentType = header->value(QLatin1StringView("cty"));
    if (!contentType.isString() || contentType.toString().toLatin1() != kContentType)
        return unexpected(TokenError::UnsupportedAlgorithm);

    // After the algorithm check, so that an unsigned "alg":"none" token (empty third part) is
    // reported as what it is.
    const auto payload = jsonObjectFrom(token.sliced(firstDot + 1, secondDot - firstDot - 1));
    const auto signature = fromBase64Url(token.sliced(secondDot + 1));
    if (!payload || !signature)
        return unexpected(TokenError::Malformed);

    // iss is read before the signature is checked only to pick the key; nothing else is trusted
    // until the signature matches.
    const QJsonValue issuer = payload->value(QLatin1StringView("iss"));
    if (!issuer.isString() || issuer.toString().isEmpty())
        return unexpected(TokenError::Malformed);
    const std::optional<QByteArray> secret =
        secretFor ? secretFor(issuer.toString()) : std::nullopt;
    if (!secret)
        return unexpected(TokenError::UnknownKey);
    const QByteArray expected =
        QMessageAuthenticationCode::hash(signingInput.toByteArray(), *secret, *hash);
    if (!equalInConstantTime(expected, *signature))
        return unexpected(TokenError::BadSignature);

    AccessTokenClaims claims;
    claims.apiKeySid = issuer.toString();
    const auto issuedAt = payload->contains(QLatin1StringView("iat"))
        ? secondsOf(payload->value(QLatin1StringView("iat")))
        : std::optional<qint64>(0);
    const auto expiresAt = secondsOf(payload->value(QLatin1StringView("exp")));
    const auto accountSid = optionalString(*payload, QLatin1StringView("sub"));
    const auto tokenId = optionalString(*payload, QLatin1StringView("jti"));
    if (!issuedAt || !expiresAt || !accountSid || !tokenId)
        return unexpected(TokenError::Malformed); // exp is required: a token must expire
    claims.issuedAt = *issuedAt;
    claims.expiresAt = *expiresAt;
    claims.accountSid = *accountSid;
    claims.tokenId = *tokenId;
    if (payload->contains(QLatin1StringView("nbf"))) {
        claims.notBefore = secondsOf(payload->value(QLatin1StringView("nbf")));
        if (!claims.notBefore)
            return unexpected(TokenError::Malformed);
    }

    // As jsonwebtoken decides: valid from nbf inclusive, expired at exp inclusive.
    if (claims.notBefore && *claims.notBefore > nowSeconds)
        return unexpected(TokenError::NotYetValid);
    if (claims.expiresAt <= nowSeconds)
        return unexpected(TokenError::Expired);

    const QJsonObject grants = payload->value(QLatin1StringView("grants")).toObject();
    const QJsonValue identity = grants.value(QLatin1StringView("identity"));
    const QJsonValue sync = grants.value(QLatin1StringView("data_sync"));
    if (!identity.isString() || identity.toString().isEmpty() || !sync.isObject())
        return unexpected(TokenError::NoSyncGrant);
    claims.identity = identity.toString();
    const auto serviceSid = optionalString(sync.toObject(), QLatin1StringView("service_sid"));
    const auto endpointId = optionalString(sync.toObject(), QLatin1StringView("endpoint_id"));
    if (!serviceSid || !endpointId)
        return unexpected(TokenError::NoSyncGrant);
    claims.serviceSid = *serviceSid;
    claims.endpointId = *endpointId;
    return claims;
}

int AccessToken::errorCode(TokenError error)
{
    // 20104 makes the SDK emit tokenExpired (so the app can refresh); everything else is 20101
    // "Invalid Access Token", as Twilio answers.
    return error == TokenError::Expired ? 20104 : 20101;
}

QString AccessToken::describe(TokenError error)
{
    switch (error) {
    case TokenError::Malformed:
        return QStringLiteral("Invalid Access Token: not a JWT of three base64url JSON parts");
    case TokenError::UnsupportedAlgorithm:
        return QStringLiteral("Invalid Access Token: the algorithm is not HS256/HS384/HS512 or "
                              "the content type is not twilio-fpa;v=1");
    case TokenError::UnknownKey:
        return QStringLiteral("Invalid Access Token: issuer is not a known API key");
    case TokenError::BadSignature:
        return QStringLiteral("Invalid Access Token: signature verification failed");
    case TokenError::NotYetValid:
        return QStringLiteral("Invalid Access Token: not valid yet (nbf is in the future)");
    case TokenError::Expired:
        return QStringLiteral("Access Token expired or expiration date invalid");
    case TokenError::NoSyncGrant:
        return QStringLiteral("Invalid Access Token: no Sync grant with an identity");
    }
    return QStringLiteral("Invalid Access Token");
}

} // namespace streams::twilsock
