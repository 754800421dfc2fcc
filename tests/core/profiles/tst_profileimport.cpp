// profileimport: TWILIO_* variables and twilio-cli's config.json, written here as fixtures in
// the shapes @twilio/cli-core reads and writes.

#include "profiles/profileimport.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using namespace streams::profileimport;

using AuthMethod = ConnectionProfile::AuthMethod;

namespace {

/// The error to print when a result that should have succeeded did not (QVERIFY2 evaluates its
/// message even when the check passes, so error() must not be called on a value).
template<typename T>
QString whyNot(const std::expected<T, QString> &result)
{
    return result ? QString() : result.error();
}

const QString kAccountSid = QStringLiteral("AC0123456789abcdef0123456789abcdef");
const QString kOtherAccountSid = QStringLiteral("AC11111111111111111111111111111111");
const QString kApiKeySid = QStringLiteral("SKfedcba9876543210fedcba9876543210");
const QString kOtherApiKeySid = QStringLiteral("SK22222222222222222222222222222222");

QProcessEnvironment environment(const QList<std::pair<const char *, QString>> &variables)
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("PATH"), QStringLiteral("/usr/bin")); // unrelated noise
    for (const auto &[name, value] : variables)
        env.insert(QString::fromLatin1(name), value);
    return env;
}

bool writeFile(const QString &path, const QByteArray &bytes,
    QFileDevice::Permissions permissions = QFileDevice::ReadOwner | QFileDevice::WriteOwner)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    const bool written = file.write(bytes) == bytes.size();
    file.close();
    return written && QFile::setPermissions(path, permissions);
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

/// A config.json as twilio-cli 5 writes it (fs.writeJSON: compact, keys in insertion order),
/// with a profile made by `twilio login`, one made from an Auth Token, and a legacy project.
QByteArray cliConfig()
{
    return QByteArrayLiteral(
        R"({"edge":"sydney","email":{},"requireProfileInput":false,)"
        R"("prompts":{"ack":{"acked":true}},)"
        R"("projects":[{"id":"old","accountSid":"AC33333333333333333333333333333333","region":"au1"}],)"
        R"("profiles":{"work":{"accountSid":"AC0123456789abcdef0123456789abcdef",)"
        R"("region":"ie1","edge":"dublin","apiKey":"SKfedcba9876543210fedcba9876543210",)"
        R"("apiSecret":"work-secret-4b1f"},)"
        R"("token":{"accountSid":"AC11111111111111111111111111111111",)"
        R"("apiKey":"AC11111111111111111111111111111111","apiSecret":"token-secret-9e2a"},)"
        R"("keyonly":{"accountSid":"AC11111111111111111111111111111111",)"
        R"("apiKey":"SK22222222222222222222222222222222"}},)"
        R"("activeProject":"work"})");
}

const ImportedProfile *byName(const QList<ImportedProfile> &profiles, const QString &name)
{
    for (const auto &imported : profiles) {
        if (imported.profile.name == name)
            return &imported;
    }
    return nullptr;
}

} // namespace

class TestProfileImport final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void environmentWithApiKey();
    void environmentWithAuthToken();
    void environmentPrefersTheApiKey();
    void environmentKeyWithoutSecretFallsBackToTheToken();
    void environmentWithoutCredentials();
    void environmentWithoutAccountSid();
    void cliConfigPath_data();
    void cliConfigPath();
    void cliProfiles();
    void cliLegacyProjects();
    void cliMissingOrBrokenFiles();
    void removeSecretsLeavesEverythingElse();
    void removeSecretsOfSeveralProfiles();
    void removeSecretsFromPrettyPrintedFile();
    void removeSecretsWhenThereAreNone();
    void removeSecretsFromAMissingFile();

private:
    QString configPath() const { return m_dir->filePath(QStringLiteral("config.json")); }
    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestProfileImport::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestProfileImport::environmentWithApiKey()
{
    const auto imported = fromEnvironment(environment({{"TWILIO_ACCOUNT_SID", kAccountSid},
        {"TWILIO_API_KEY", kApiKeySid}, {"TWILIO_API_SECRET", QStringLiteral("key-secret")},
        {"TWILIO_REGION", QStringLiteral("ie1")}, {"TWILIO_EDGE", QStringLiteral("dublin")}}));
    QVERIFY(imported);
    QCOMPARE(imported->source, QStringLiteral("environment"));
    const ConnectionProfile &profile = imported->profile;
    QVERIFY(profile.id.isEmpty());
    QCOMPARE(profile.name, QStringLiteral("Environment (TWILIO_*)"));
    QCOMPARE(profile.kind, ConnectionProfile::Kind::TwilioAccount);
    QCOMPARE(profile.accountSid, kAccountSid);
    QCOMPARE(profile.authMethod, AuthMethod::ApiKey);
    QCOMPARE(profile.apiKeySid, kApiKeySid);
    QCOMPARE(profile.region, QStringLiteral("ie1"));
    QCOMPARE(profile.edge, QStringLiteral("dublin"));
    QVERIFY(imported->secret == QStringLiteral("key-secret"));
    QVERIFY(profile.problems().isEmpty());
}

void TestProfileImport::environmentWithAuthToken()
{
    const auto imported = fromEnvironment(environment(
        {{"TWILIO_ACCOUNT_SID", kAccountSid}, {"TWILIO_AUTH_TOKEN", QStringLiteral("token")}}));
    QVERIFY(imported);
    QCOMPARE(imported->profile.authMethod, AuthMethod::AuthToken);
    QVERIFY(imported->profile.apiKeySid.isEmpty());
    QVERIFY(imported->secret == QStringLiteral("token"));
    QVERIFY(imported->profile.region.isEmpty());
    QVERIFY(imported->profile.edge.isEmpty());
    QVERIFY(imported->profile.problems().isEmpty());
}

void TestProfileImport::environmentPrefersTheApiKey()
{
    const auto imported = fromEnvironment(environment(
        {{"TWILIO_ACCOUNT_SID", kAccountSid}, {"TWILIO_AUTH_TOKEN", QStringLiteral("token")},
            {"TWILIO_API_KEY", kApiKeySid}, {"TWILIO_API_SECRET", QStringLiteral("key-secret")}}));
    QVERIFY(imported);
    QCOMPARE(imported->profile.authMethod, AuthMethod::ApiKey);
    QCOMPARE(imported->profile.apiKeySid, kApiKeySid);
    QVERIFY(imported->secret == QStringLiteral("key-secret"));
}

void TestProfileImport::environmentKeyWithoutSecretFallsBackToTheToken()
{
    const auto imported = fromEnvironment(environment({{"TWILIO_ACCOUNT_SID", kAccountSid},
        {"TWILIO_AUTH_TOKEN", QStringLiteral("token")}, {"TWILIO_API_KEY", kApiKeySid}}));
    QVERIFY(imported);
    QCOMPARE(imported->profile.authMethod, AuthMethod::AuthToken);
    QVERIFY(imported->secret == QStringLiteral("token"));
}

void TestProfileImport::environmentWithoutCredentials()
{
    // The account alone is still worth offering; the user types the secret.
    const auto bare = fromEnvironment(environment({{"TWILIO_ACCOUNT_SID", kAccountSid}}));
    QVERIFY(bare);
    QCOMPARE(bare->profile.accountSid, kAccountSid);
    QCOMPARE(bare->profile.authMethod, AuthMethod::AuthToken);
    QVERIFY(bare->secret.isEmpty());

    const auto keyOnly = fromEnvironment(
        environment({{"TWILIO_ACCOUNT_SID", kAccountSid}, {"TWILIO_API_KEY", kApiKeySid}}));
    QVERIFY(keyOnly);
    QCOMPARE(keyOnly->profile.authMethod, AuthMethod::ApiKey);
    QCOMPARE(keyOnly->profile.apiKeySid, kApiKeySid);
    QVERIFY(keyOnly->secret.isEmpty());
}

void TestProfileImport::environmentWithoutAccountSid()
{
    QVERIFY(!fromEnvironment(QProcessEnvironment()));
    QVERIFY(!fromEnvironment(environment({{"TWILIO_AUTH_TOKEN", QStringLiteral("token")},
        {"TWILIO_API_KEY", kApiKeySid}, {"TWILIO_API_SECRET", QStringLiteral("secret")}})));
    QVERIFY(!fromEnvironment(environment({{"TWILIO_ACCOUNT_SID", QStringLiteral("  ")}})));
}

void TestProfileImport::cliConfigPath_data()
{
    QTest::addColumn<QProcessEnvironment>("env");
    QTest::addColumn<QString>("expected");
    QTest::addRow("home") << environment({{"HOME", QStringLiteral("/home/ada")}})
                          << QStringLiteral("/home/ada/.twilio-cli/config.json");
    QTest::addRow("TWILIO_CONFIG_DIR wins") << environment({{"HOME", QStringLiteral("/home/ada")},
        {"TWILIO_CONFIG_DIR", QStringLiteral("/etc/twilio/")}})
                                            << QStringLiteral("/etc/twilio/config.json");
    QTest::addRow("USERPROFILE without HOME")
        << environment({{"USERPROFILE", QStringLiteral("/users/ada")}})
        << QStringLiteral("/users/ada/.twilio-cli/config.json");
}

void TestProfileImport::cliConfigPath()
{
    QFETCH(QProcessEnvironment, env);
    QFETCH(QString, expected);
    QCOMPARE(twilioCliConfigPath(env), expected);
}

void TestProfileImport::cliProfiles()
{
    QVERIFY(writeFile(configPath(), cliConfig()));
    const auto imported = fromTwilioCli(configPath());
    QVERIFY2(imported, qPrintable(whyNot(imported)));
    QCOMPARE(imported->size(), 4); // three profiles and the legacy project

    const ImportedProfile *work = byName(*imported, QStringLiteral("twilio-cli: work"));
    QVERIFY(work);
    QVERIFY(work->source.contains(configPath()));
    QVERIFY(work->source.contains(u"\"work\""));
    QCOMPARE(work->profile.kind, ConnectionProfile::Kind::TwilioAccount);
    QVERIFY(work->profile.id.isEmpty());
    QCOMPARE(work->profile.accountSid, kAccountSid);
    QCOMPARE(work->profile.authMethod, AuthMethod::ApiKey);
    QCOMPARE(work->profile.apiKeySid, kApiKeySid);
    QCOMPARE(work->profile.region, QStringLiteral("ie1"));
    QCOMPARE(work->profile.edge, QStringLiteral("dublin")); // its own edge over the global one
    QVERIFY(work->secret == QStringLiteral("work-secret-4b1f"));
    QVERIFY(work->profile.problems().isEmpty());

    // A profile made from an Auth Token stores the Account SID as its "apiKey".
    const ImportedProfile *token = byName(*imported, QStringLiteral("twilio-cli: token"));
    QVERIFY(token);
    QCOMPARE(token->profile.accountSid, kOtherAccountSid);
    QCOMPARE(token->profile.authMethod, AuthMethod::AuthToken);
    QVERIFY(token->profile.apiKeySid.isEmpty());
    QVERIFY(token->secret == QStringLiteral("token-secret-9e2a"));
    QCOMPARE(token->profile.edge, QStringLiteral("sydney")); // the global edge
    QVERIFY(token->profile.problems().isEmpty());

    // A secret already moved out of the file: the key is imported, the secret is asked for.
    const ImportedProfile *keyOnly = byName(*imported, QStringLiteral("twilio-cli: keyonly"));
    QVERIFY(keyOnly);
    QCOMPARE(keyOnly->profile.authMethod, AuthMethod::ApiKey);
    QCOMPARE(keyOnly->profile.apiKeySid, kOtherApiKeySid);
    QVERIFY(keyOnly->secret.isEmpty());
}

void TestProfileImport::cliLegacyProjects()
{
    QVERIFY(writeFile(configPath(), cliConfig()));
    const auto imported = fromTwilioCli(configPath());
    QVERIFY(imported);
    const ImportedProfile *project = byName(*imported, QStringLiteral("twilio-cli: old"));
    QVERIFY(project);
    QCOMPARE(project->profile.accountSid, QStringLiteral("AC33333333333333333333333333333333"));
    QCOMPARE(project->profile.region, QStringLiteral("au1"));
    QCOMPARE(project->profile.authMethod, AuthMethod::ApiKey);
    QVERIFY(project->profile.apiKeySid.isEmpty()); // in twilio-cli's keychain entry
    QVERIFY(project->secret.isEmpty());
    QVERIFY(project->source.contains(u"project \"old\""));

    // A project shadowed by a profile of the same id is not offered twice.
    QVERIFY(writeFile(configPath(),
        QByteArrayLiteral(
            R"({"projects":[{"id":"same","accountSid":"AC33333333333333333333333333333333"}],)"
            R"("profiles":{"same":{"accountSid":"AC0123456789abcdef0123456789abcdef"}}})")));
    const auto shadowed = fromTwilioCli(configPath());
    QVERIFY(shadowed);
    QCOMPARE(shadowed->size(), 1);
    QCOMPARE(shadowed->first().profile.accountSid, kAccountSid);
}

void TestProfileImport::cliMissingOrBrokenFiles()
{
    const auto missing = fromTwilioCli(configPath());
    QVERIFY(!missing);
    QCOMPARE(
        missing.error(), QStringLiteral("No twilio-cli configuration at %1").arg(configPath()));

    QVERIFY(writeFile(configPath(), QByteArrayLiteral(R"({"profiles": {)")));
    const auto broken = fromTwilioCli(configPath());
    QVERIFY(!broken);
    QVERIFY2(broken.error().startsWith(configPath() + QStringLiteral(" is not valid JSON: ")),
        qPrintable(broken.error()));

    QVERIFY(writeFile(configPath(), QByteArrayLiteral("[1, 2]")));
    const auto array = fromTwilioCli(configPath());
    QVERIFY(!array);
    QCOMPARE(array.error(), QStringLiteral("%1 does not hold a JSON object").arg(configPath()));

    QVERIFY(writeFile(configPath(), QByteArrayLiteral(R"({"email":{}})")));
    const auto empty = fromTwilioCli(configPath());
    QVERIFY(empty);
    QVERIFY(empty->isEmpty());
}

void TestProfileImport::removeSecretsLeavesEverythingElse()
{
    QVERIFY(writeFile(configPath(), cliConfig()));
    const auto removed = removeSecretsFromTwilioCli(configPath(), {QStringLiteral("work")});
    QVERIFY2(removed, qPrintable(whyNot(removed)));

    // Byte for byte the same file, less exactly `,"apiSecret":"work-secret-4b1f"`.
    QByteArray expected = cliConfig();
    expected.replace(QByteArrayLiteral(R"(,"apiSecret":"work-secret-4b1f")"), QByteArray());
    QCOMPARE(readFile(configPath()), expected);
    QCOMPARE(QFile::permissions(configPath()) & 0x7777,
        QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser
            | QFileDevice::WriteUser);

    // twilio-cli reads it as before, the other profile's secret untouched.
    const auto reread = fromTwilioCli(configPath());
    QVERIFY(reread);
    QVERIFY(byName(*reread, QStringLiteral("twilio-cli: work"))->secret.isEmpty());
    QVERIFY(byName(*reread, QStringLiteral("twilio-cli: token"))->secret
        == QStringLiteral("token-secret-9e2a"));
}

void TestProfileImport::removeSecretsOfSeveralProfiles()
{
    // Other modes are kept too (twilio-cli's own files are usually 0644).
    const auto mode = QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser
        | QFileDevice::WriteUser | QFileDevice::ReadGroup | QFileDevice::ReadOther;
    QVERIFY(writeFile(configPath(), cliConfig(), mode));
    // Twilio-cli ids and the names the import gave them both work.
    const auto removed = removeSecretsFromTwilioCli(configPath(),
        {QStringLiteral("work"), QStringLiteral("twilio-cli: token"), QStringLiteral("keyonly"),
            QStringLiteral("absent")});
    QVERIFY2(removed, qPrintable(whyNot(removed)));

    const QByteArray after = readFile(configPath());
    QVERIFY(!after.contains("work-secret-4b1f"));
    QVERIFY(!after.contains("token-secret-9e2a"));
    QVERIFY(!after.contains("apiSecret"));
    QByteArray expected = cliConfig();
    expected.replace(QByteArrayLiteral(R"(,"apiSecret":"work-secret-4b1f")"), QByteArray());
    expected.replace(QByteArrayLiteral(R"(,"apiSecret":"token-secret-9e2a")"), QByteArray());
    QCOMPARE(after, expected);
    QCOMPARE(QFile::permissions(configPath()) & 0x7777, mode);
}

void TestProfileImport::removeSecretsFromPrettyPrintedFile()
{
    // Hand-edited or pretty-printed files: the secret first, last and alone in its object, and
    // a key with an escape in it.
    const QByteArray pretty = QByteArrayLiteral(R"({
  "profiles": {
    "first": {
      "apiSecret": "s1",
      "accountSid": "AC0123456789abcdef0123456789abcdef",
      "apiKey": "SKfedcba9876543210fedcba9876543210"
    },
    "last": {
      "accountSid": "AC0123456789abcdef0123456789abcdef",
      "apiSecret": "s2"
    },
    "alone": { "apiSecret" : "s3" },
    "quo\"ted": {"apiSecret": "s4", "note": "a \"}\" in a string"}
  },
  "activeProject": "first"
}
)");
    QVERIFY(writeFile(configPath(), pretty));
    const auto removed = removeSecretsFromTwilioCli(configPath(),
        {QStringLiteral("first"), QStringLiteral("last"), QStringLiteral("alone"),
            QStringLiteral("quo\"ted")});
    QVERIFY2(removed, qPrintable(whyNot(removed)));
    const QByteArray expected = QByteArrayLiteral(R"({
  "profiles": {
    "first": {
      "accountSid": "AC0123456789abcdef0123456789abcdef",
      "apiKey": "SKfedcba9876543210fedcba9876543210"
    },
    "last": {
      "accountSid": "AC0123456789abcdef0123456789abcdef"
    },
    "alone": {  },
    "quo\"ted": {"note": "a \"}\" in a string"}
  },
  "activeProject": "first"
}
)");
    QCOMPARE(readFile(configPath()), expected);
}

void TestProfileImport::removeSecretsWhenThereAreNone()
{
    const QByteArray config = QByteArrayLiteral(R"({"profiles":{"keyonly":{"apiKey":"SK1"}}})");
    QVERIFY(writeFile(configPath(), config));
    QVERIFY(removeSecretsFromTwilioCli(configPath(), {QStringLiteral("keyonly")}));
    QCOMPARE(readFile(configPath()), config);
    QVERIFY(removeSecretsFromTwilioCli(configPath(), {}));
    QCOMPARE(readFile(configPath()), config);
}

void TestProfileImport::removeSecretsFromAMissingFile()
{
    const auto removed = removeSecretsFromTwilioCli(configPath(), {QStringLiteral("work")});
    QVERIFY(!removed);
    QVERIFY(!QFile::exists(configPath())); // and it is not created
}

QTEST_GUILESS_MAIN(TestProfileImport)

#include "tst_profileimport.moc"
