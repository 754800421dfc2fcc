// ConnectionProfile: field checks a dialog shows next to each field, endpoints and credentials.

#include "profiles/connectionprofile.h"

#include <QTest>

using namespace streams;

using Kind = ConnectionProfile::Kind;
using AuthMethod = ConnectionProfile::AuthMethod;
using Field = ConnectionProfile::Problem::Field;

Q_DECLARE_METATYPE(streams::ConnectionProfile)

namespace {

const QString kHex32 = QStringLiteral("0123456789abcdef0123456789abcdef");
const QString kAccountSid = QStringLiteral("AC") + kHex32;
const QString kApiKeySid = QStringLiteral("SK") + kHex32;

ConnectionProfile twilioProfile()
{
    ConnectionProfile profile;
    profile.id = QStringLiteral("3f2c8a4e-0000-4000-8000-000000000001");
    profile.name = QStringLiteral("Production");
    profile.kind = Kind::TwilioAccount;
    profile.accountSid = kAccountSid;
    profile.authMethod = AuthMethod::ApiKey;
    profile.apiKeySid = kApiKeySid;
    return profile;
}

ConnectionProfile engineProfile()
{
    ConnectionProfile profile;
    profile.id = QStringLiteral("3f2c8a4e-0000-4000-8000-000000000002");
    profile.name = QStringLiteral("Staging engine");
    profile.kind = Kind::EngineAtUrl;
    profile.engineUrl = QUrl(QStringLiteral("http://127.0.0.1:8080"));
    profile.accountSid = kAccountSid;
    profile.authMethod = AuthMethod::AuthToken;
    return profile;
}

QString fieldName(Field field)
{
    switch (field) {
    case Field::Name: return QStringLiteral("name");
    case Field::EngineUrl: return QStringLiteral("engineUrl");
    case Field::AccountSid: return QStringLiteral("accountSid");
    case Field::ApiKeySid: return QStringLiteral("apiKeySid");
    case Field::Region: return QStringLiteral("region");
    case Field::Edge: return QStringLiteral("edge");
    case Field::Secret: return QStringLiteral("secret");
    }
    return {};
}

/// Problems as "field: message" lines, so a failing row prints what was found.
QStringList describe(const QList<ConnectionProfile::Problem> &problems)
{
    QStringList lines;
    for (const auto &problem : problems)
        lines << fieldName(problem.field) + QStringLiteral(": ") + problem.message;
    return lines;
}

template<typename Edit>
ConnectionProfile with(ConnectionProfile profile, Edit edit)
{
    edit(profile);
    return profile;
}

} // namespace

class TestConnectionProfile final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void problems_data();
    void problems();
    void urlProblemsNeverEchoAPassword();
    void endpoints_data();
    void endpoints();
    void localEngineHasNoEndpoints();
    void credentials();
    void secretKey();
    void localEngine();
    void kindName();
};

void TestConnectionProfile::problems_data()
{
    QTest::addColumn<ConnectionProfile>("profile");
    QTest::addColumn<QStringList>("expected");

    const QString sidRule = QStringLiteral("must be AC followed by 32 hexadecimal digits");
    const QString keyRule = QStringLiteral("must be SK followed by 32 hexadecimal digits");

    QTest::addRow("twilio with api key") << twilioProfile() << QStringList();
    QTest::addRow("twilio with auth token ignores the key sid") << with(
        twilioProfile(), [](auto &p) {
            p.authMethod = AuthMethod::AuthToken;
            p.apiKeySid.clear();
        }) << QStringList();
    QTest::addRow("engine") << engineProfile() << QStringList();
    QTest::addRow("engine https, port, trailing slash") << with(engineProfile(), [](auto &p) {
        p.engineUrl = QUrl(QStringLiteral("https://sync.example.org:8443/"));
    }) << QStringList();
    QTest::addRow("engine with api key") << with(engineProfile(), [](auto &p) {
        p.authMethod = AuthMethod::ApiKey;
        p.apiKeySid = kApiKeySid;
    }) << QStringList();
    QTest::addRow("local engine") << ConnectionProfile::localEngine() << QStringList();
    QTest::addRow("uppercase hex is accepted") << with(twilioProfile(), [](auto &p) {
        p.accountSid = QStringLiteral("AC") + kHex32.toUpper();
    }) << QStringList();
    QTest::addRow("region and edge") << with(twilioProfile(), [](auto &p) {
        p.region = QStringLiteral("ie1");
        p.edge = QStringLiteral("dublin");
    }) << QStringList();
    QTest::addRow("name of 64 characters")
        << with(twilioProfile(), [](auto &p) { p.name = QString(64, u'n'); }) << QStringList();

    // Name
    QTest::addRow("empty name") << with(twilioProfile(), [](auto &p) { p.name.clear(); })
                                << QStringList{QStringLiteral("name: Name is required")};
    QTest::addRow("blank name") << with(twilioProfile(), [](auto &p) {
        p.name = QStringLiteral("  ");
    }) << QStringList{QStringLiteral("name: Name is required")};
    QTest::addRow("name of 65 characters")
        << with(twilioProfile(), [](auto &p) { p.name = QString(65, u'n'); })
        << QStringList{QStringLiteral("name: Name must be at most 64 characters (got 65)")};
    QTest::addRow("name with a trailing space")
        << with(twilioProfile(), [](auto &p) { p.name = QStringLiteral("Prod "); })
        << QStringList{QStringLiteral("name: Name must not start or end with spaces")};
    QTest::addRow("local engine still needs its name") << with(ConnectionProfile::localEngine(),
        [](auto &p) { p.name.clear(); }) << QStringList{QStringLiteral("name: Name is required")};

    // Account SID
    QTest::addRow("account sid missing")
        << with(twilioProfile(), [](auto &p) { p.accountSid.clear(); })
        << QStringList{QStringLiteral("accountSid: Account SID is required")};
    QTest::addRow("account sid one digit short")
        << with(twilioProfile(), [](auto &p) { p.accountSid.chop(1); })
        << QStringList{
               QStringLiteral("accountSid: Account SID %1 (got 33 characters)").arg(sidRule)};
    QTest::addRow("account sid one digit long")
        << with(twilioProfile(), [](auto &p) { p.accountSid += u'0'; })
        << QStringList{
               QStringLiteral("accountSid: Account SID %1 (got 35 characters)").arg(sidRule)};
    QTest::addRow("api key sid in the account field")
        << with(twilioProfile(), [](auto &p) { p.accountSid = kApiKeySid; })
        << QStringList{
               QStringLiteral("accountSid: Account SID %1 (it starts with \"SK\")").arg(sidRule)};
    QTest::addRow("lowercase prefix")
        << with(twilioProfile(), [](auto &p) { p.accountSid = QStringLiteral("ac") + kHex32; })
        << QStringList{
               QStringLiteral("accountSid: Account SID %1 (it starts with \"ac\")").arg(sidRule)};
    QTest::addRow("account sid with a non-hex digit")
        << with(twilioProfile(), [](auto &p) { p.accountSid[9] = u'g'; })
        << QStringList{QStringLiteral(
               "accountSid: Account SID %1 (character 10, \"g\", is not hexadecimal)")
                           .arg(sidRule)};
    QTest::addRow("engine needs an account sid too")
        << with(engineProfile(), [](auto &p) { p.accountSid.clear(); })
        << QStringList{QStringLiteral("accountSid: Account SID is required")};

    // API key SID
    QTest::addRow("api key sid missing")
        << with(twilioProfile(), [](auto &p) { p.apiKeySid.clear(); })
        << QStringList{QStringLiteral("apiKeySid: API Key SID is required")};
    QTest::addRow("account sid in the api key field")
        << with(twilioProfile(), [](auto &p) { p.apiKeySid = kAccountSid; })
        << QStringList{
               QStringLiteral("apiKeySid: API Key SID %1 (it starts with \"AC\")").arg(keyRule)};
    QTest::addRow("api key sid with a space") << with(twilioProfile(), [](auto &p) {
        p.apiKeySid = QStringLiteral(" ") + kApiKeySid;
    }) << QStringList{QStringLiteral("apiKeySid: API Key SID %1 (got 35 characters)").arg(keyRule)};

    // Engine URL
    QTest::addRow("engine url missing")
        << with(engineProfile(), [](auto &p) { p.engineUrl.clear(); })
        << QStringList{QStringLiteral("engineUrl: Engine URL is required")};
    QTest::addRow("engine url ftp")
        << with(engineProfile(), [](auto &p) { p.engineUrl = QUrl(QStringLiteral("ftp://host")); })
        << QStringList{QStringLiteral(
               "engineUrl: Engine URL must start with http:// or https:// (got \"ftp:\")")};
    QTest::addRow("engine url websocket")
        << with(engineProfile(),
               [](auto &p) { p.engineUrl = QUrl(QStringLiteral("ws://host:8080")); })
        << QStringList{QStringLiteral(
               "engineUrl: Engine URL must start with http:// or https:// (got \"ws:\")")};
    QTest::addRow("engine url without scheme")
        << with(engineProfile(), [](auto &p) { p.engineUrl = QUrl(QStringLiteral("//host:8080")); })
        << QStringList{QStringLiteral("engineUrl: Engine URL must start with http:// or https://")};
    QTest::addRow("engine url without host")
        << with(engineProfile(), [](auto &p) { p.engineUrl = QUrl(QStringLiteral("http:///v1")); })
        << QStringList{QStringLiteral(
               "engineUrl: Engine URL must name a host (e.g. http://127.0.0.1:8080)")};
    QTest::addRow("engine url with a path")
        << with(engineProfile(),
               [](auto &p) { p.engineUrl = QUrl(QStringLiteral("http://127.0.0.1:8080/v1")); })
        << QStringList{QStringLiteral(
               "engineUrl: Engine URL must not have a path (got \"/v1\"); the engine answers at "
               "the root of its address")};
    QTest::addRow("engine url with a query") << with(engineProfile(), [](auto &p) {
        p.engineUrl = QUrl(QStringLiteral("http://127.0.0.1:8080?a=b"));
    }) << QStringList{QStringLiteral("engineUrl: Engine URL must not have a query (\"?…\")")};
    QTest::addRow("engine url with a fragment") << with(engineProfile(), [](auto &p) {
        p.engineUrl = QUrl(QStringLiteral("http://127.0.0.1:8080#x"));
    }) << QStringList{QStringLiteral("engineUrl: Engine URL must not have a fragment (\"#…\")")};
    const QString noUserInfo = QStringLiteral(
        "engineUrl: Engine URL must not contain a user name or password: credentials go in the "
        "profile's fields, and its secret in the keychain");
    QTest::addRow("engine url with user and password") << with(engineProfile(), [](auto &p) {
        p.engineUrl = QUrl(QStringLiteral("http://AC1:hunter2@127.0.0.1:8080"));
    }) << QStringList{noUserInfo};
    QTest::addRow("engine url with a user only") << with(engineProfile(), [](auto &p) {
        p.engineUrl = QUrl(QStringLiteral("https://me@127.0.0.1"));
    }) << QStringList{noUserInfo};

    // Region and edge
    QTest::addRow("uppercase region")
        << with(twilioProfile(), [](auto &p) { p.region = QStringLiteral("US1"); })
        << QStringList{QStringLiteral("region: Region may contain only lowercase letters, digits "
                                      "and hyphens (got \"US1\")")};
    QTest::addRow("edge with a dot")
        << with(twilioProfile(), [](auto &p) { p.edge = QStringLiteral("sydney.au1"); })
        << QStringList{QStringLiteral("edge: Edge may contain only lowercase letters, digits and "
                                      "hyphens (got \"sydney.au1\")")};
    QTest::addRow("region with a leading hyphen")
        << with(twilioProfile(), [](auto &p) { p.region = QStringLiteral("-us1"); })
        << QStringList{
               QStringLiteral("region: Region must not start or end with a hyphen (got \"-us1\")")};
    QTest::addRow("edge too long")
        << with(twilioProfile(), [](auto &p) { p.edge = QString(64, u'e'); })
        << QStringList{QStringLiteral("edge: Edge must be at most 63 characters (got 64)")};
    QTest::addRow("region is not checked for an engine")
        << with(engineProfile(), [](auto &p) { p.region = QStringLiteral("NOT CHECKED"); })
        << QStringList();

    QTest::addRow("several problems, in field order")
        << with(twilioProfile(),
               [](auto &p) {
                   p.name.clear();
                   p.accountSid.clear();
                   p.apiKeySid = QStringLiteral("SK");
                   p.region = QStringLiteral("Ireland");
               })
        << QStringList{QStringLiteral("name: Name is required"),
               QStringLiteral("accountSid: Account SID is required"),
               QStringLiteral("apiKeySid: API Key SID %1 (got 2 characters)").arg(keyRule),
               QStringLiteral("region: Region may contain only lowercase letters, digits and "
                              "hyphens (got \"Ireland\")")};
}

void TestConnectionProfile::problems()
{
    QFETCH(ConnectionProfile, profile);
    QFETCH(QStringList, expected);
    QCOMPARE(describe(profile.problems()), expected);
}

void TestConnectionProfile::urlProblemsNeverEchoAPassword()
{
    auto profile = engineProfile();
    profile.engineUrl = QUrl(QStringLiteral("http://AC1:correct-horse-battery@127.0.0.1:8080/v1"));
    const QStringList lines = describe(profile.problems());
    QVERIFY(!lines.isEmpty());
    QVERIFY(!lines.join(u'\n').contains(u"correct-horse-battery"));
}

void TestConnectionProfile::endpoints_data()
{
    QTest::addColumn<ConnectionProfile>("profile");
    QTest::addColumn<QUrl>("restBase");
    QTest::addColumn<QUrl>("twilsockUrl");

    QTest::addRow("twilio default")
        << twilioProfile() << QUrl(QStringLiteral("https://sync.twilio.com"))
        << QUrl(QStringLiteral("wss://tsock.us1.twilio.com/v3/wsconnect"));
    QTest::addRow("twilio region and edge")
        << with(twilioProfile(),
               [](auto &p) {
                   p.region = QStringLiteral("ie1");
                   p.edge = QStringLiteral("dublin");
               })
        << QUrl(QStringLiteral("https://sync.dublin.ie1.twilio.com"))
        << QUrl(QStringLiteral("wss://tsock.ie1.twilio.com/v3/wsconnect"));
    QTest::addRow("twilio edge only")
        << with(twilioProfile(), [](auto &p) { p.edge = QStringLiteral("sydney"); })
        << QUrl(QStringLiteral("https://sync.sydney.us1.twilio.com"))
        << QUrl(QStringLiteral("wss://tsock.us1.twilio.com/v3/wsconnect"));
    QTest::addRow("engine over http")
        << engineProfile() << QUrl(QStringLiteral("http://127.0.0.1:8080"))
        << QUrl(QStringLiteral("ws://127.0.0.1:8080/v3/wsconnect"));
    QTest::addRow("engine over https")
        << with(engineProfile(),
               [](auto &p) { p.engineUrl = QUrl(QStringLiteral("https://sync.example.org:8443")); })
        << QUrl(QStringLiteral("https://sync.example.org:8443"))
        << QUrl(QStringLiteral("wss://sync.example.org:8443/v3/wsconnect"));
}

void TestConnectionProfile::endpoints()
{
    QFETCH(ConnectionProfile, profile);
    QFETCH(QUrl, restBase);
    QFETCH(QUrl, twilsockUrl);
    const RemoteEndpoints endpoints = profile.endpoints();
    QCOMPARE(endpoints.restBase, restBase);
    QCOMPARE(endpoints.twilsockUrl, twilsockUrl);
    QVERIFY(endpoints.cdsBase.isValid());

    // The profile adds nothing of its own: it is the same address RemoteEndpoints builds.
    const RemoteEndpoints direct = profile.kind == Kind::TwilioAccount
        ? RemoteEndpoints::twilio(profile.region, profile.edge)
        : RemoteEndpoints::engine(profile.engineUrl);
    QCOMPARE(endpoints.cdsBase, direct.cdsBase);
}

void TestConnectionProfile::localEngineHasNoEndpoints()
{
    const RemoteEndpoints endpoints = ConnectionProfile::localEngine().endpoints();
    QVERIFY(endpoints.restBase.isEmpty());
    QVERIFY(endpoints.twilsockUrl.isEmpty());
    QVERIFY(endpoints.cdsBase.isEmpty());
}

void TestConnectionProfile::credentials()
{
    const QString secret = QStringLiteral("not-a-real-secret");

    const RemoteCredentials withKey = twilioProfile().credentials(secret);
    QCOMPARE(withKey.accountSid, kAccountSid);
    QCOMPARE(withKey.apiKeySid, kApiKeySid);
    QVERIFY(withKey.apiKeySecret == secret);
    QVERIFY(withKey.authToken.isEmpty());
    QVERIFY(withKey.hasApiKey());
    QCOMPARE(withKey.basicUser(), kApiKeySid);

    // An API key SID left over from editing is not used once the method is Auth Token.
    auto tokenProfile = twilioProfile();
    tokenProfile.authMethod = AuthMethod::AuthToken;
    const RemoteCredentials withToken = tokenProfile.credentials(secret);
    QCOMPARE(withToken.accountSid, kAccountSid);
    QVERIFY(withToken.authToken == secret);
    QVERIFY(withToken.apiKeySid.isEmpty());
    QVERIFY(withToken.apiKeySecret.isEmpty());
    QVERIFY(!withToken.hasApiKey());
    QCOMPARE(withToken.basicUser(), kAccountSid);
    QVERIFY(withToken.basicPassword() == secret);
}

void TestConnectionProfile::secretKey()
{
    QCOMPARE(twilioProfile().secretKey(),
        QStringLiteral("profile/3f2c8a4e-0000-4000-8000-000000000001"));
    QCOMPARE(ConnectionProfile::localEngine().secretKey(), QStringLiteral("profile/local"));
}

void TestConnectionProfile::localEngine()
{
    const ConnectionProfile local = ConnectionProfile::localEngine();
    QCOMPARE(local.id, QStringLiteral("local"));
    QCOMPARE(local.name, QStringLiteral("Local engine"));
    QCOMPARE(local.kind, Kind::LocalEngine);
    QVERIFY(local.engineUrl.isEmpty());
    QVERIFY(local.accountSid.isEmpty());
}

void TestConnectionProfile::kindName()
{
    QCOMPARE(ConnectionProfile::kindName(Kind::LocalEngine), QStringLiteral("Local engine"));
    QCOMPARE(ConnectionProfile::kindName(Kind::EngineAtUrl), QStringLiteral("Engine at URL"));
    QCOMPARE(ConnectionProfile::kindName(Kind::TwilioAccount), QStringLiteral("Twilio account"));
}

QTEST_GUILESS_MAIN(TestConnectionProfile)

#include "tst_connectionprofile.moc"
