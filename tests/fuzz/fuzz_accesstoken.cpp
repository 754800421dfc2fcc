// libFuzzer target: AccessToken::verify must never crash on any token. A random token can
// hardly carry a valid HMAC, so besides raw tokens the input can also be signed by the harness
// (first byte selects): that drives the fuzzer past the signature into claim parsing.
#include "require.h"
#include "twilsock/accesstoken.h"

#include <QMessageAuthenticationCode>
#include <cstdint>

using namespace streams::twilsock;

namespace {

const QString kKey = QStringLiteral("SK11111111111111111111111111111111");
const QByteArray kSecret = "fuzz-secret";
constexpr qint64 kNow = 1795327566;
const QByteArray kHeader = R"({"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"})";
const QByteArray kPayload =
    R"({"jti":"SK11111111111111111111111111111111-1795327506","grants":{"identity":"alice",)"
    R"("data_sync":{"service_sid":"IS22222222222222222222222222222222"}},"iat":1795327506,)"
    R"("exp":1795331106,"iss":"SK11111111111111111111111111111111",)"
    R"("sub":"AC00000000000000000000000000000000"})";

QByteArray base64Url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray signedToken(const QByteArray &header, const QByteArray &payload)
{
    const QByteArray input = base64Url(header) + '.' + base64Url(payload);
    return input + '.'
        + base64Url(QMessageAuthenticationCode::hash(input, kSecret, QCryptographicHash::Sha256));
}

std::optional<QByteArray> secretFor(const QString &apiKeySid)
{
    return apiKeySid == kKey ? std::optional<QByteArray>(kSecret) : std::nullopt;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const QByteArray rest(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    QByteArray token;
    switch (data[0] % 3) {
    case 0: token = rest; break; // a token as received
    case 1: token = signedToken(kHeader, rest); break; // fuzzed claims, valid signature
    default: token = signedToken(rest, kPayload); break; // fuzzed header, valid signature
    }

    const auto claims = AccessToken::verify(token, secretFor, kNow);
    if (!claims) {
        require(!AccessToken::describe(claims.error()).isEmpty(), "every error is described");
        const int code = AccessToken::errorCode(claims.error());
        require(code == 20101 || code == 20104, "error codes are twilsock's");
        return 0;
    }
    require(claims->apiKeySid == kKey, "only the known key verifies");
    require(claims->expiresAt > kNow, "a verified token has not expired");
    require(!claims->notBefore || *claims->notBefore <= kNow, "a verified token is valid now");
    require(!claims->identity.isEmpty(), "a verified token has an identity");

    // Whatever verified can be minted again and verifies to the same claims. Exceptions: an empty
    // jti (mint fills in its default), strings with lone surrogates ("\ud800" escapes, which
    // UTF-8 cannot carry) and tokens near the size bound (iat:0 may be added).
    const bool validText = claims->identity.isValidUtf16() && claims->serviceSid.isValidUtf16()
        && claims->endpointId.isValidUtf16() && claims->accountSid.isValidUtf16()
        && claims->tokenId.isValidUtf16();
    if (claims->tokenId.isEmpty() || !validText || token.size() > 8 * 1024)
        return 0;
    const auto again = AccessToken::verify(AccessToken::mint(*claims, kSecret), secretFor, kNow);
    require(again.has_value(), "a minted token verifies");
    require(again->identity == claims->identity && again->serviceSid == claims->serviceSid
            && again->endpointId == claims->endpointId && again->accountSid == claims->accountSid
            && again->tokenId == claims->tokenId && again->issuedAt == claims->issuedAt
            && again->expiresAt == claims->expiresAt && again->notBefore == claims->notBefore,
        "claims survive mint and verify");
    return 0;
}
