#include "twilsock/accesstoken.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QTest>

using namespace streams::twilsock;

Q_DECLARE_METATYPE(streams::twilsock::TokenError)
Q_DECLARE_METATYPE(streams::twilsock::AccessTokenClaims)

namespace {

const QString kAccount = QStringLiteral("AC00000000000000000000000000000000");
const QString kKey = QStringLiteral("SK11111111111111111111111111111111");
const QString kService = QStringLiteral("IS22222222222222222222222222222222");
const QByteArray kSecret = "reference-secret-0123456789abcdef";
constexpr qint64 kIssuedAt = 1795327506;

// Minted by the official npm `twilio` 6.2.0 AccessToken with kSecret, Date.now pinned to
// kIssuedAt: tests/core/twilsock/mint_reference_tokens.js prints them.
const QByteArray kNpmHs256 =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0."
    "eyJqdGkiOiJTSzExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExLTE3OTUzMjc1MDYiLCJncmFudHMiOnsi"
    "aWRlbnRpdHkiOiJhbGljZSIsImRhdGFfc3luYyI6eyJzZXJ2aWNlX3NpZCI6IklTMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjIyMjIyMjIifX0sImlhdCI6MTc5NTMyNzUwNiwiZXhwIjoxNzk1MzMxMTA2LCJpc3MiOiJTSzExMTEx"
    "MTExMTExMTExMTExMTExMTExMTExMTExMTExIiwic3ViIjoiQUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDAwMCJ9."
    "lNr-07CjUvinP4P8PUGjID0Es4YRUreFkj6gZjAshQA";
const QByteArray kNpmHs384EndpointNbf =
    "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0."
    "eyJqdGkiOiJTSzExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExLTE3OTUzMjc1MDYiLCJncmFudHMiOnsi"
    "aWRlbnRpdHkiOiJib2IiLCJkYXRhX3N5bmMiOnsic2VydmljZV9zaWQiOiJJUzIyMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjIyMjIyIiwiZW5kcG9pbnRfaWQiOiJib2ItZGV2aWNlLTEifX0sIm5iZiI6MTc5NTMyNzUwMSwiaWF0"
    "IjoxNzk1MzI3NTA2LCJleHAiOjE3OTUzMjgxMDYsImlzcyI6IlNLMTExMTExMTExMTExMTExMTExMTExMTExMTEx"
    "MTExMTEiLCJzdWIiOiJBQzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwIn0."
    "ts0x45QJYA_Fyl0CpEJCxwVMqA2id9Y9WHaVRfRKLFaVFuWieEEWNe1h1ND-T7YY";
const QByteArray kNpmHs512DefaultService =
    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0."
    "eyJqdGkiOiJTSzExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExLTE3OTUzMjc1MDYiLCJncmFudHMiOnsi"
    "aWRlbnRpdHkiOiJjYXJvbCIsImRhdGFfc3luYyI6e319LCJpYXQiOjE3OTUzMjc1MDYsImV4cCI6MTc5NTMzMTEw"
    "NiwiaXNzIjoiU0sxMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMSIsInN1YiI6IkFDMDAwMDAwMDAwMDAw"
    "MDAwMDAwMDAwMDAwMDAwMDAwMDAifQ."
    "Q_J08rWKL67dbSTCMJOOUpwwiZGlYafXPloIOHK7-jlXhPUCiSNqYLMS-gmhaVI68DghUSyoroKH6721w69xaQ";
const QByteArray kNpmEscapedIdentity =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0."
    "eyJqdGkiOiJTSzExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExLTE3OTUzMjc1MDYiLCJncmFudHMiOnsi"
    "aWRlbnRpdHkiOiJ6b8OrIFwicVwiIFxcIFxuXHRcdTAwMDEg4pyTIiwiZGF0YV9zeW5jIjp7InNlcnZpY2Vfc2lk"
    "IjoiSVMyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMiJ9fSwiaWF0IjoxNzk1MzI3NTA2LCJleHAiOjE3"
    "OTUzMzExMDYsImlzcyI6IlNLMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTEiLCJzdWIiOiJBQzAwMDAw"
    "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwIn0."
    "hshCRaMNHLb6a-04lu3j0M85Yrybn4WGmRdfa0dHb34";
// With options.region, which adds "twr" to the header; our mint never writes it.
const QByteArray kNpmRegion =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIiwidHdyIjoiaWUxIn0."
    "eyJqdGkiOiJTSzExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExLTE3OTUzMjc1MDYiLCJncmFudHMiOnsi"
    "aWRlbnRpdHkiOiJkYXZlIiwiZGF0YV9zeW5jIjp7InNlcnZpY2Vfc2lkIjoiSVMyMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjIyMjIyMiJ9fSwiaWF0IjoxNzk1MzI3NTA2LCJleHAiOjE3OTUzMzExMDYsImlzcyI6IlNLMTExMTEx"
    "MTExMTExMTExMTExMTExMTExMTExMTExMTEiLCJzdWIiOiJBQzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDAwIn0."
    "OzBHPG0OtxbiBvkda2VGNK61tpgfYjhaXEYHtl5DW_k";

// The tokens the official twilio-sync SDK sent in the recorded run (twilsock-frames.log, init
// frames of conn1/conn2/conn3). Their secret was not recorded; alice and bob share one, mallory's
// is a different ("wrong") one.
const QByteArray kRecordedAlice =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0."
    "eyJqdGkiOiJTSzExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExLTE3OTUzMjc1MDYiLCJncmFudHMiOnsi"
    "aWRlbnRpdHkiOiJhbGljZSIsImRhdGFfc3luYyI6eyJzZXJ2aWNlX3NpZCI6IklTMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjIyMjIyMjIifX0sImlhdCI6MTc5NTMyNzUwNiwiZXhwIjoxNzk1MzMxMTA2LCJpc3MiOiJTSzExMTEx"
    "MTExMTExMTExMTExMTExMTExMTExMTExMTExIiwic3ViIjoiQUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDAwMCJ9."
    "watdJVqw177CsNxKYdUj8Mc9f8LfQvaNADuCG7z7nfY";
const QByteArray kRecordedBob =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0."
    "eyJqdGkiOiJTSzExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExLTE3OTUzMjc1MDYiLCJncmFudHMiOnsi"
    "aWRlbnRpdHkiOiJib2IiLCJkYXRhX3N5bmMiOnsic2VydmljZV9zaWQiOiJJUzIyMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjIyMjIyIn19LCJpYXQiOjE3OTUzMjc1MDYsImV4cCI6MTc5NTMzMTEwNiwiaXNzIjoiU0sxMTExMTEx"
    "MTExMTExMTExMTExMTExMTExMTExMTExMSIsInN1YiI6IkFDMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDAifQ."
    "gbC4aCWm1Ms8evTILzIFOS-sMOrrC3d3bsL0iUsHmiY";
const QByteArray kRecordedMallory =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0."
    "eyJqdGkiOiJTSzExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExLTE3OTUzMjc1MDYiLCJncmFudHMiOnsi"
    "aWRlbnRpdHkiOiJtYWxsb3J5IiwiZGF0YV9zeW5jIjp7InNlcnZpY2Vfc2lkIjoiSVMyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjIyMjIyMjIyMiJ9fSwiaWF0IjoxNzk1MzI3NTA2LCJleHAiOjE3OTUzMzExMDYsImlzcyI6IlNLMTEx"
    "MTExMTExMTExMTExMTExMTExMTExMTExMTExMTEiLCJzdWIiOiJBQzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDAwMDAwIn0."
    "DNUcV9rKGhURNjcd3hsNkF4rDm2Yq8P2AoaJg5E-Mko";

AccessTokenClaims claimsFor(const QString &identity, qint64 issuedAt = kIssuedAt, qint64 ttl = 3600)
{
    AccessTokenClaims claims;
    claims.apiKeySid = kKey;
    claims.accountSid = kAccount;
    claims.identity = identity;
    claims.serviceSid = kService;
    claims.issuedAt = issuedAt;
    claims.expiresAt = issuedAt + ttl;
    claims.tokenId = QStringLiteral("%1-%2").arg(kKey).arg(issuedAt);
    return claims;
}

AccessToken::SecretLookup lookupReturning(const std::optional<QByteArray> &secret)
{
    return [secret](const QString &apiKeySid) -> std::optional<QByteArray> {
        return apiKeySid == kKey ? secret : std::nullopt;
    };
}

QByteArray base64Url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray hmac(const QByteArray &input, const QByteArray &secret,
    QCryptographicHash::Algorithm algorithm = QCryptographicHash::Sha256)
{
    return QMessageAuthenticationCode::hash(input, secret, algorithm);
}

// A token with exactly these header and payload bytes, signed (HS256) with `secret`: how the
// tests build what the minter would never write.
QByteArray forge(
    const QByteArray &header, const QByteArray &payload, const QByteArray &secret = kSecret)
{
    const QByteArray input = base64Url(header) + '.' + base64Url(payload);
    return input + '.' + base64Url(hmac(input, secret));
}

const QByteArray kHeader = R"({"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"})";

// A payload as the official library writes it, with `extra` spliced in before iss.
QByteArray payloadWith(
    const QByteArray &grants, const QByteArray &times, const QByteArray &extra = {})
{
    return R"({"jti":"SK11111111111111111111111111111111-1795327506","grants":)" + grants + ","
        + times + extra + R"(,"iss":"SK11111111111111111111111111111111",)"
        + R"("sub":"AC00000000000000000000000000000000"})";
}

const QByteArray kGrants =
    R"({"identity":"alice","data_sync":{"service_sid":"IS22222222222222222222222222222222"}})";
const QByteArray kTimes = R"("iat":1795327506,"exp":1795331106)";
constexpr qint64 kNow = kIssuedAt + 60;

QString describeResult(const std::expected<AccessTokenClaims, TokenError> &result)
{
    return result ? QStringLiteral("verified") : AccessToken::describe(result.error());
}

} // namespace

class TestAccessToken final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mintMatchesOfficialLibrary_data();
    void mintMatchesOfficialLibrary();
    void verifyOfficialTokens_data();
    void verifyOfficialTokens();
    void recordedTokens_data();
    void recordedTokens();
    void mintVerifyRoundTrip_data();
    void mintVerifyRoundTrip();
    void mintDefaultsTokenId();
    void mintRefusesOtherAlgorithms();
    void verifyAccepts_data();
    void verifyAccepts();
    void verifyRejects_data();
    void verifyRejects();
    void errorCode_data();
    void errorCode();
};

void TestAccessToken::mintMatchesOfficialLibrary_data()
{
    QTest::addColumn<AccessTokenClaims>("claims");
    QTest::addColumn<QByteArray>("algorithm");
    QTest::addColumn<QByteArray>("official");

    QTest::addRow("hs256") << claimsFor(QStringLiteral("alice")) << QByteArray("HS256")
                           << kNpmHs256;
    AccessTokenClaims bob = claimsFor(QStringLiteral("bob"), kIssuedAt, 600);
    bob.endpointId = QStringLiteral("bob-device-1");
    bob.notBefore = kIssuedAt - 5;
    QTest::addRow("hs384, endpoint id, nbf") << bob << QByteArray("HS384") << kNpmHs384EndpointNbf;
    AccessTokenClaims carol = claimsFor(QStringLiteral("carol"));
    carol.serviceSid.clear();
    QTest::addRow("hs512, default service")
        << carol << QByteArray("HS512") << kNpmHs512DefaultService;
    QTest::addRow("escaped identity") << claimsFor(QStringLiteral("zoë \"q\" \\ \n\t\u0001 ✓"))
                                      << QByteArray("HS256") << kNpmEscapedIdentity;
}

void TestAccessToken::mintMatchesOfficialLibrary()
{
    QFETCH(AccessTokenClaims, claims);
    QFETCH(QByteArray, algorithm);
    QFETCH(QByteArray, official);
    // Byte for byte, signature included: same JSON, same key order, same escaping.
    QCOMPARE(AccessToken::mint(claims, kSecret, algorithm), official);
}

void TestAccessToken::verifyOfficialTokens_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<AccessTokenClaims>("expected");

    QTest::addRow("hs256") << kNpmHs256 << claimsFor(QStringLiteral("alice"));
    AccessTokenClaims bob = claimsFor(QStringLiteral("bob"), kIssuedAt, 600);
    bob.endpointId = QStringLiteral("bob-device-1");
    bob.notBefore = kIssuedAt - 5;
    QTest::addRow("hs384, endpoint id, nbf") << kNpmHs384EndpointNbf << bob;
    AccessTokenClaims carol = claimsFor(QStringLiteral("carol"));
    carol.serviceSid.clear();
    QTest::addRow("hs512, default service") << kNpmHs512DefaultService << carol;
    QTest::addRow("escaped identity")
        << kNpmEscapedIdentity << claimsFor(QStringLiteral("zoë \"q\" \\ \n\t\u0001 ✓"));
    QTest::addRow("region header") << kNpmRegion << claimsFor(QStringLiteral("dave"));
}

void TestAccessToken::verifyOfficialTokens()
{
    QFETCH(QByteArray, token);
    QFETCH(AccessTokenClaims, expected);

    const auto claims = AccessToken::verify(token, lookupReturning(kSecret), kNow);
    QVERIFY2(claims, qPrintable(describeResult(claims)));
    QCOMPARE(claims->apiKeySid, expected.apiKeySid);
    QCOMPARE(claims->accountSid, expected.accountSid);
    QCOMPARE(claims->identity, expected.identity);
    QCOMPARE(claims->serviceSid, expected.serviceSid);
    QCOMPARE(claims->endpointId, expected.endpointId);
    QCOMPARE(claims->tokenId, expected.tokenId);
    QCOMPARE(claims->issuedAt, expected.issuedAt);
    QCOMPARE(claims->expiresAt, expected.expiresAt);
    QCOMPARE(claims->notBefore, expected.notBefore);
}

void TestAccessToken::recordedTokens_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<QString>("identity");
    QTest::addRow("alice") << kRecordedAlice << QStringLiteral("alice");
    QTest::addRow("bob") << kRecordedBob << QStringLiteral("bob");
    QTest::addRow("mallory") << kRecordedMallory << QStringLiteral("mallory");
}

void TestAccessToken::recordedTokens()
{
    QFETCH(QByteArray, token);
    QFETCH(QString, identity);

    // The SDK sent what our minter writes for the same claims: header and payload are identical,
    // only the signature (secret unknown) can differ.
    const QByteArray ours = AccessToken::mint(claimsFor(identity), "any secret");
    const qsizetype signatureStart = token.lastIndexOf('.');
    QCOMPARE(ours.first(ours.lastIndexOf('.')), token.first(signatureStart));

    // Without the secret the signature cannot match, and verification says so before looking
    // at anything else: not Expired (a year later), not UnknownKey.
    const auto wrongSecret = lookupReturning(QByteArray("not the recorded secret"));
    QCOMPARE(AccessToken::verify(token, wrongSecret, kNow).error(), TokenError::BadSignature);
    QCOMPARE(AccessToken::verify(token, wrongSecret, kNow + 365 * 86400).error(),
        TokenError::BadSignature);
    QCOMPARE(AccessToken::verify(token, lookupReturning(std::nullopt), kNow).error(),
        TokenError::UnknownKey);

    // Re-signed with a secret we know, the recorded bytes verify to the recorded claims.
    const QByteArray resigned =
        token.first(signatureStart) + '.' + base64Url(hmac(token.first(signatureStart), kSecret));
    const auto claims = AccessToken::verify(resigned, lookupReturning(kSecret), kNow);
    QVERIFY2(claims, qPrintable(describeResult(claims)));
    QCOMPARE(claims->identity, identity);
    QCOMPARE(claims->serviceSid, kService);
    QCOMPARE(claims->accountSid, kAccount);
    QCOMPARE(claims->apiKeySid, kKey);
    QCOMPARE(claims->issuedAt, kIssuedAt);
    QCOMPARE(claims->expiresAt, kIssuedAt + 3600);
    QVERIFY(!claims->notBefore);
}

void TestAccessToken::mintVerifyRoundTrip_data()
{
    QTest::addColumn<QByteArray>("algorithm");
    QTest::addColumn<AccessTokenClaims>("claims");

    const AccessTokenClaims plain = claimsFor(QStringLiteral("alice"));
    QTest::addRow("HS256") << QByteArray("HS256") << plain;
    QTest::addRow("HS384") << QByteArray("HS384") << plain;
    QTest::addRow("HS512") << QByteArray("HS512") << plain;
    AccessTokenClaims full = claimsFor(QStringLiteral("Zoë ✓ 😀"));
    full.endpointId = QStringLiteral("device/1");
    full.notBefore = kNow;
    full.tokenId = QStringLiteral("custom-jti");
    QTest::addRow("every claim") << QByteArray("HS256") << full;
}

void TestAccessToken::mintVerifyRoundTrip()
{
    QFETCH(QByteArray, algorithm);
    QFETCH(AccessTokenClaims, claims);

    const QByteArray token = AccessToken::mint(claims, kSecret, algorithm);
    const QJsonObject header = QJsonDocument::fromJson(
        QByteArray::fromBase64(token.first(token.indexOf('.')), QByteArray::Base64UrlEncoding))
                                   .object();
    QCOMPARE(header.value(u"alg").toString().toLatin1(), algorithm);
    const auto verified = AccessToken::verify(token, lookupReturning(kSecret), kNow);
    QVERIFY2(verified, qPrintable(describeResult(verified)));
    QCOMPARE(verified->identity, claims.identity);
    QCOMPARE(verified->endpointId, claims.endpointId);
    QCOMPARE(verified->tokenId, claims.tokenId);
    QCOMPARE(verified->notBefore, claims.notBefore);
    QCOMPARE(verified->expiresAt, claims.expiresAt);
    QCOMPARE(AccessToken::verify(token, lookupReturning("other secret"), kNow).error(),
        TokenError::BadSignature);
}

void TestAccessToken::mintDefaultsTokenId()
{
    AccessTokenClaims claims = claimsFor(QStringLiteral("alice"));
    claims.tokenId.clear();
    const auto verified =
        AccessToken::verify(AccessToken::mint(claims, kSecret), lookupReturning(kSecret), kNow);
    QVERIFY(verified);
    QCOMPARE(verified->tokenId, QStringLiteral("SK11111111111111111111111111111111-1795327506"));
}

void TestAccessToken::mintRefusesOtherAlgorithms()
{
    const AccessTokenClaims claims = claimsFor(QStringLiteral("alice"));
    QVERIFY(AccessToken::mint(claims, kSecret, "none").isEmpty());
    QVERIFY(AccessToken::mint(claims, kSecret, "RS256").isEmpty());
    QVERIFY(AccessToken::mint(claims, kSecret, "hs256").isEmpty());
}

void TestAccessToken::verifyAccepts_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<qint64>("now");

    QTest::addRow("expires in 1 s")
        << forge(kHeader, payloadWith(kGrants, kTimes)) << qint64(kIssuedAt + 3599);
    QTest::addRow("nbf is now") << forge(
        kHeader, payloadWith(kGrants, R"("nbf":1795327566,)" + kTimes))
                                << kNow;
    QTest::addRow("no iat") << forge(kHeader, payloadWith(kGrants, R"("exp":1795331106)")) << kNow;
    QTest::addRow("unknown header fields") << forge(
        R"({"alg":"HS256","cty":"twilio-fpa;v=1","kid":"x","twr":"us1"})",
        payloadWith(kGrants, kTimes)) << kNow;
    QTest::addRow("no typ") << forge(
        R"({"alg":"HS256","cty":"twilio-fpa;v=1"})", payloadWith(kGrants, kTimes))
                            << kNow;
    QTest::addRow("other grants beside sync") << forge(kHeader,
        payloadWith(R"({"identity":"alice","chat":{"service_sid":"IS1"},)"
                    R"("data_sync":{}})",
            kTimes)) << kNow;
    QTest::addRow("exp written as a float with no fraction")
        << forge(kHeader, payloadWith(kGrants, R"("iat":1795327506,"exp":1795331106.0)")) << kNow;
}

void TestAccessToken::verifyAccepts()
{
    QFETCH(QByteArray, token);
    QFETCH(qint64, now);
    const auto claims = AccessToken::verify(token, lookupReturning(kSecret), now);
    QVERIFY2(claims, qPrintable(describeResult(claims)));
}

void TestAccessToken::verifyRejects_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<qint64>("now");
    QTest::addColumn<TokenError>("error");

    const QByteArray valid = forge(kHeader, payloadWith(kGrants, kTimes));
    const QList<QByteArray> parts = valid.split('.');
    const QByteArray input = parts[0] + '.' + parts[1];

    QTest::addRow("wrong secret") << forge(kHeader, payloadWith(kGrants, kTimes), "wrong") << kNow
                                  << TokenError::BadSignature;
    QTest::addRow("tampered payload") << base64Url(kHeader) + '.'
            + base64Url(payloadWith(R"({"identity":"mallory","data_sync":{}})", kTimes)) + '.'
            + parts[2] << kNow << TokenError::BadSignature;
    QTest::addRow("HS256 signature under an HS512 header")
        << base64Url(R"({"alg":"HS512","typ":"JWT","cty":"twilio-fpa;v=1"})") + '.' + parts[1] + '.'
            + base64Url(hmac(base64Url(R"({"alg":"HS512","typ":"JWT",)"
                                       R"("cty":"twilio-fpa;v=1"})")
                    + '.' + parts[1],
                kSecret))
        << kNow << TokenError::BadSignature;
    QTest::addRow("truncated signature") << input + '.' + base64Url(hmac(input, kSecret).first(16))
                                         << kNow << TokenError::BadSignature;
    QTest::addRow("expired and wrong secret") << forge(kHeader, payloadWith(kGrants, kTimes),
        "wrong") << qint64(kIssuedAt + 7200) << TokenError::BadSignature;

    QTest::addRow("unknown key") << forge(kHeader,
        R"({"grants":{"identity":"a","data_sync":{}},"exp":1795331106,)"
        R"("iss":"SK99999999999999999999999999999999"})")
                                 << kNow << TokenError::UnknownKey;

    QTest::addRow("alg none, no signature")
        << base64Url(R"({"alg":"none","typ":"JWT","cty":"twilio-fpa;v=1"})") + '.' + parts[1] + '.'
        << kNow << TokenError::UnsupportedAlgorithm;
    QTest::addRow("alg none, signed anyway") << forge(
        R"({"alg":"none","typ":"JWT","cty":"twilio-fpa;v=1"})", payloadWith(kGrants, kTimes))
                                             << kNow << TokenError::UnsupportedAlgorithm;
    QTest::addRow("alg RS256") << forge(
        R"({"alg":"RS256","typ":"JWT","cty":"twilio-fpa;v=1"})", payloadWith(kGrants, kTimes))
                               << kNow << TokenError::UnsupportedAlgorithm;
    QTest::addRow("alg lower case") << forge(
        R"({"alg":"hs256","typ":"JWT","cty":"twilio-fpa;v=1"})", payloadWith(kGrants, kTimes))
                                    << kNow << TokenError::UnsupportedAlgorithm;
    QTest::addRow("alg missing") << forge(
        R"({"typ":"JWT","cty":"twilio-fpa;v=1"})", payloadWith(kGrants, kTimes))
                                 << kNow << TokenError::UnsupportedAlgorithm;
    QTest::addRow("alg not a string")
        << forge(R"({"alg":256,"typ":"JWT","cty":"twilio-fpa;v=1"})", payloadWith(kGrants, kTimes))
        << kNow << TokenError::UnsupportedAlgorithm;
    QTest::addRow("cty missing") << forge(
        R"({"alg":"HS256","typ":"JWT"})", payloadWith(kGrants, kTimes))
                                 << kNow << TokenError::UnsupportedAlgorithm;
    QTest::addRow("cty other version") << forge(
        R"({"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=2"})", payloadWith(kGrants, kTimes))
                                       << kNow << TokenError::UnsupportedAlgorithm;

    QTest::addRow("expired by 1 s") << valid << qint64(kIssuedAt + 3601) << TokenError::Expired;
    QTest::addRow("expires this second")
        << valid << qint64(kIssuedAt + 3600) << TokenError::Expired;
    QTest::addRow("nbf 1 s in the future")
        << forge(kHeader, payloadWith(kGrants, R"("nbf":1795327567,)" + kTimes)) << kNow
        << TokenError::NotYetValid;

    QTest::addRow("no sync grant")
        << forge(kHeader, payloadWith(R"({"identity":"alice","chat":{}})", kTimes)) << kNow
        << TokenError::NoSyncGrant;
    QTest::addRow("no identity") << forge(kHeader, payloadWith(R"({"data_sync":{}})", kTimes))
                                 << kNow << TokenError::NoSyncGrant;
    QTest::addRow("empty identity")
        << forge(kHeader, payloadWith(R"({"identity":"","data_sync":{}})", kTimes)) << kNow
        << TokenError::NoSyncGrant;
    QTest::addRow("numeric identity")
        << forge(kHeader, payloadWith(R"({"identity":7,"data_sync":{}})", kTimes)) << kNow
        << TokenError::NoSyncGrant;
    QTest::addRow("sync grant not an object")
        << forge(kHeader, payloadWith(R"({"identity":"a","data_sync":"IS1"})", kTimes)) << kNow
        << TokenError::NoSyncGrant;
    QTest::addRow("service sid not a string")
        << forge(kHeader, payloadWith(R"({"identity":"a","data_sync":{"service_sid":1}})", kTimes))
        << kNow << TokenError::NoSyncGrant;
    QTest::addRow("no grants") << forge(
        kHeader, R"({"exp":1795331106,"iss":"SK11111111111111111111111111111111"})")
                               << kNow << TokenError::NoSyncGrant;

    QTest::addRow("empty") << QByteArray() << kNow << TokenError::Malformed;
    QTest::addRow("garbage") << QByteArray("garbage") << kNow << TokenError::Malformed;
    QTest::addRow("dots only") << QByteArray("..") << kNow << TokenError::Malformed;
    QTest::addRow("three parts, not base64 json")
        << QByteArray("a.b.c") << kNow << TokenError::Malformed;
    QTest::addRow("two parts") << input << kNow << TokenError::Malformed;
    QTest::addRow("extra dot") << valid + '.' << kNow << TokenError::Malformed;
    QTest::addRow("four parts") << valid + ".e30" << kNow << TokenError::Malformed;
    QTest::addRow("leading dot") << '.' + valid << kNow << TokenError::Malformed;
    QTest::addRow("double dot") << parts[0] + ".." + parts[1] + '.' + parts[2] << kNow
                                << TokenError::Malformed;
    QTest::addRow("empty signature") << input + '.' << kNow << TokenError::Malformed;
    QTest::addRow("padded signature") << valid + '=' << kNow << TokenError::Malformed;
    // Exactly the padding standard base64 would add, so only the '=' itself is wrong.
    const QByteArray padding((4 - parts[0].size() % 4) % 4, '=');
    QVERIFY(!padding.isEmpty());
    QTest::addRow("padded header")
        << parts[0] + padding + '.' + parts[1] + '.' + parts[2] << kNow << TokenError::Malformed;
    QTest::addRow("padding inside the payload")
        << parts[0] + '.' + parts[1].first(8) + "==" + parts[1].sliced(8) + '.' + parts[2] << kNow
        << TokenError::Malformed;
    QTest::addRow("standard base64 alphabet")
        << QByteArray(valid).replace('-', '+').replace('_', '/') + "+/" << kNow
        << TokenError::Malformed;
    QTest::addRow("trailing newline") << valid + '\n' << kNow << TokenError::Malformed;
    QTest::addRow("inner space") << parts[0] + '.' + parts[1].first(10) + ' ' + parts[1].sliced(10)
            + '.'
            + parts[2] << kNow << TokenError::Malformed;
    // 32 bytes in 43 characters leave 2 spare bits in the last one; setting one decodes to the
    // same bytes but is not the canonical spelling.
    QByteArray nonCanonical = valid;
    const char last = nonCanonical.back();
    QVERIFY(QByteArrayView("AEIMQUYcgkosw048").contains(last));
    nonCanonical.back() = char(last + 1);
    QTest::addRow("non-canonical base64 tail") << nonCanonical << kNow << TokenError::Malformed;
    QTest::addRow("header not json")
        << base64Url("not json") + '.' + parts[1] + '.' + parts[2] << kNow << TokenError::Malformed;
    QTest::addRow("payload an array") << forge(kHeader, "[1,2,3]") << kNow << TokenError::Malformed;
    QTest::addRow("no iss") << forge(kHeader,
        R"({"grants":{"identity":"a","data_sync":{}},)"
        R"("exp":1795331106})")
                            << kNow << TokenError::Malformed;
    QTest::addRow("no exp") << forge(kHeader, payloadWith(kGrants, R"("iat":1795327506)")) << kNow
                            << TokenError::Malformed;
    QTest::addRow("exp a string") << forge(
        kHeader, payloadWith(kGrants, R"("iat":1795327506,"exp":"1795331106")"))
                                  << kNow << TokenError::Malformed;
    QTest::addRow("fractional exp")
        << forge(kHeader, payloadWith(kGrants, R"("iat":1795327506,"exp":1795331106.5)")) << kNow
        << TokenError::Malformed;
    QTest::addRow("nbf a string") << forge(kHeader, payloadWith(kGrants, R"("nbf":"0",)" + kTimes))
                                  << kNow << TokenError::Malformed;
    QTest::addRow("sub not a string") << forge(kHeader,
        R"({"grants":{"identity":"a","data_sync":{}},"exp":1795331106,)"
        R"("iss":"SK11111111111111111111111111111111","sub":1})")
                                      << kNow << TokenError::Malformed;
    QTest::addRow("oversized") << forge(
        kHeader, payloadWith(kGrants, kTimes, ",\"pad\":\"" + QByteArray(16 * 1024, 'x') + '"'))
                               << kNow << TokenError::Malformed;
}

void TestAccessToken::verifyRejects()
{
    QFETCH(QByteArray, token);
    QFETCH(qint64, now);
    QFETCH(TokenError, error);

    const auto claims = AccessToken::verify(token, lookupReturning(kSecret), now);
    QVERIFY2(!claims, "verified what should have been rejected");
    QCOMPARE(claims.error(), error);
}

void TestAccessToken::errorCode_data()
{
    QTest::addColumn<TokenError>("error");
    QTest::addColumn<int>("code");
    QTest::addRow("malformed") << TokenError::Malformed << 20101;
    QTest::addRow("unsupported algorithm") << TokenError::UnsupportedAlgorithm << 20101;
    QTest::addRow("unknown key") << TokenError::UnknownKey << 20101;
    QTest::addRow("bad signature") << TokenError::BadSignature << 20101;
    QTest::addRow("not yet valid") << TokenError::NotYetValid << 20101;
    QTest::addRow("expired") << TokenError::Expired << 20104;
    QTest::addRow("no sync grant") << TokenError::NoSyncGrant << 20101;
}

void TestAccessToken::errorCode()
{
    QFETCH(TokenError, error);
    QFETCH(int, code);
    QCOMPARE(AccessToken::errorCode(error), code);
    QVERIFY(!AccessToken::describe(error).isEmpty());
}

QTEST_GUILESS_MAIN(TestAccessToken)
#include "tst_accesstoken.moc"
