// streams-cli with a real keychain: `profiles import` moves secrets into a throwaway
// gnome-keyring (this test runs under tests/support/with-keyring.sh), twilio-cli's file loses
// them unless --keep-source, and `--profile` then connects with the secret from the keychain
// alone, against a real streams-engine.

#include "clirunner.h"
#include "engineprocess.h"
#include "profiles/profilestore.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using namespace streams::testing;

namespace {
QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}
} // namespace

class TestCliKeychain final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();

    void importTwilioCliMovesSecretsIntoTheKeychain();
    void importTwilioCliKeepSource();
    void importEnvironmentThenUseTheProfile();

private:
    /// Turns an imported (Twilio account) profile into one for the test engine, so the secret it
    /// got from the import can be proven by connecting with it.
    void pointAtEngine(const QString &name);
    CliRun cli(const QStringList &arguments, const QProcessEnvironment &environment);
    QProcessEnvironment environment() const;
    QByteArray twilioCliConfig() const;

    EngineProcess m_engine;
    QTemporaryDir m_dir;
    QString m_profilesFile;
    QString m_configDir;
    QString m_configPath;
    int m_round = 0;
};

void TestCliKeychain::initTestCase()
{
    // Only ever against the throwaway keyring that with-keyring.sh starts, never a user's own.
    QVERIFY2(qEnvironmentVariable("STREAMS_TEST_KEYRING") == u"throwaway",
        "run this test through tests/support/with-keyring.sh (ctest does)");
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_engine.start(), m_engine.output().constData());
}

void TestCliKeychain::cleanupTestCase()
{
    QCOMPARE(m_engine.stop(), 0);
}

void TestCliKeychain::init()
{
    // A fresh profiles file and twilio-cli directory per test.
    ++m_round;
    m_profilesFile = m_dir.filePath(QStringLiteral("profiles-%1.ini").arg(m_round));
    m_configDir = m_dir.filePath(QStringLiteral("twilio-cli-%1").arg(m_round));
    QVERIFY(QDir().mkpath(m_configDir));
    m_configPath = m_configDir + QStringLiteral("/config.json");
}

QProcessEnvironment TestCliKeychain::environment() const
{
    QProcessEnvironment environment = CliRunner::isolatedEnvironment(m_profilesFile, true);
    environment.insert(QStringLiteral("TWILIO_CONFIG_DIR"), m_configDir);
    return environment;
}

CliRun TestCliKeychain::cli(const QStringList &arguments, const QProcessEnvironment &environment)
{
    CliRun run = CliRunner::run(arguments, environment);
    const QByteArray secret = m_engine.apiKeySecret().toUtf8();
    if (run.out.contains(secret) || run.err.contains(secret)) {
        run.exitCode = -2;
        run.out.clear();
        run.err = "[a secret appeared in streams-cli's output]";
    }
    return run;
}

QByteArray TestCliKeychain::twilioCliConfig() const
{
    // As twilio-cli writes it when told not to use its own keychain: secrets inline. "staging"
    // is an Account SID + Auth Token profile (twilio-cli stores the token as apiSecret).
    return "{\n"
           "  \"activeProfile\": \"main\",\n"
           "  \"profiles\": {\n"
           "    \"main\": {\n"
           "      \"accountSid\": \""
        + m_engine.accountSid().toUtf8()
        + "\",\n"
          "      \"apiKey\": \""
        + m_engine.apiKeySid().toUtf8()
        + "\",\n"
          "      \"apiSecret\": \""
        + m_engine.apiKeySecret().toUtf8()
        + "\"\n"
          "    },\n"
          "    \"staging\": {\n"
          "      \"accountSid\": \""
        + m_engine.accountSid().toUtf8()
        + "\",\n"
          "      \"apiKey\": \""
        + m_engine.accountSid().toUtf8()
        + "\",\n"
          "      \"apiSecret\": \""
        + m_engine.authToken().toUtf8()
        + "\",\n"
          "      \"region\": \"ie1\"\n"
          "    }\n"
          "  },\n"
          "  \"requireProfileInput\": true\n"
          "}\n";
}

void TestCliKeychain::pointAtEngine(const QString &name)
{
    ProfileStore store(m_profilesFile);
    auto profile = store.find(name);
    QVERIFY2(profile.has_value(), qPrintable(name));
    profile->kind = ConnectionProfile::Kind::EngineAtUrl;
    profile->engineUrl = QUrl(m_engine.baseUrl());
    profile->region.clear();
    profile->edge.clear();
    const auto saved = store.save(*profile);
    QVERIFY2(saved.has_value(), qPrintable(saved ? QString() : saved.error()));
}

void TestCliKeychain::importTwilioCliMovesSecretsIntoTheKeychain()
{
    QVERIFY(writeFile(m_configPath, twilioCliConfig()));
    const CliRun run =
        cli({QStringLiteral("profiles"), QStringLiteral("import"), QStringLiteral("twilio-cli")},
            environment());
    QVERIFY2(run.exitCode == 0, run.describe().constData());
    QVERIFY2(run.out.contains("imported 'twilio-cli: main'"), run.out.constData());
    QVERIFY2(run.out.contains("imported 'twilio-cli: staging'"), run.out.constData());
    QCOMPARE(run.out.count("secret stored in the keychain"), 2);
    QVERIFY2(
        run.out.contains("moved 2 secret(s) out of " + m_configPath.toUtf8()), run.out.constData());

    // The file lost its secrets and nothing else.
    const QByteArray after = readFile(m_configPath);
    QVERIFY(!after.contains("apiSecret"));
    QVERIFY(!after.contains(m_engine.apiKeySecret().toUtf8()));
    QVERIFY(!after.contains(m_engine.authToken().toUtf8()));
    QJsonObject expected = QJsonDocument::fromJson(twilioCliConfig()).object();
    QJsonObject profiles = expected.value(u"profiles").toObject();
    for (const QString &id : {QStringLiteral("main"), QStringLiteral("staging")}) {
        QJsonObject entry = profiles.value(id).toObject();
        entry.remove(QStringLiteral("apiSecret"));
        profiles.insert(id, entry);
    }
    expected.insert(QStringLiteral("profiles"), profiles);
    QCOMPARE(QJsonDocument::fromJson(after).object(), expected);

    // The profiles file holds no secret either.
    const QByteArray ini = readFile(m_profilesFile);
    QVERIFY(ini.contains("twilio-cli: main"));
    QVERIFY(!ini.contains(m_engine.apiKeySecret().toUtf8()));
    QVERIFY(!ini.contains(m_engine.authToken().toUtf8()));

    // The secrets are in the keychain: with no TWILIO_* at all, both profiles connect.
    pointAtEngine(QStringLiteral("twilio-cli: main"));
    pointAtEngine(QStringLiteral("twilio-cli: staging"));
    for (const QString &name :
        {QStringLiteral("twilio-cli: main"), QStringLiteral("twilio-cli: staging")}) {
        const CliRun use =
            cli({QStringLiteral("--profile"), name, QStringLiteral("-o"), QStringLiteral("json"),
                    QStringLiteral("services"), QStringLiteral("fetch"), QStringLiteral("default")},
                environment());
        QVERIFY2(use.exitCode == 0, use.describe().constData());
        QCOMPARE(QJsonDocument::fromJson(use.out).object().value(u"unique_name").toString(),
            QStringLiteral("default"));
        QVERIFY2(!use.err.contains("TWILIO_"), use.err.constData()); // not the fallback
    }

    // Importing again (the file has no secrets now) refreshes the profiles and keeps the
    // keychain's secrets.
    const CliRun again =
        cli({QStringLiteral("-o"), QStringLiteral("json"), QStringLiteral("profiles"),
                QStringLiteral("import"), QStringLiteral("twilio-cli")},
            environment());
    QVERIFY2(again.exitCode == 0, again.describe().constData());
    const QJsonArray outcomes = QJsonDocument::fromJson(again.out).array();
    QCOMPARE(outcomes.size(), 2);
    for (const QJsonValue &value : outcomes) {
        QCOMPARE(value.toObject().value(u"updated").toBool(), true);
        QCOMPARE(value.toObject().value(u"secret_in_keychain").toBool(), false);
    }
    QVERIFY(again.err.isEmpty());
}

void TestCliKeychain::importTwilioCliKeepSource()
{
    const QByteArray config = twilioCliConfig();
    QVERIFY(writeFile(m_configPath, config));
    const CliRun run = cli({QStringLiteral("--output"), QStringLiteral("json"),
                               QStringLiteral("profiles"), QStringLiteral("import"),
                               QStringLiteral("twilio-cli"), QStringLiteral("--keep-source")},
        environment());
    QVERIFY2(run.exitCode == 0, run.describe().constData());
    const QJsonArray outcomes = QJsonDocument::fromJson(run.out).array();
    QCOMPARE(outcomes.size(), 2);
    for (const QJsonValue &value : outcomes) {
        const QJsonObject outcome = value.toObject();
        QCOMPARE(outcome.value(u"secret_in_keychain").toBool(), true);
        QCOMPARE(outcome.value(u"secret_removed_from_source").toBool(), false);
        QVERIFY(outcome.value(u"source").toString().contains(m_configPath));
    }
    QVERIFY(readFile(m_configPath) == config); // byte for byte

    pointAtEngine(QStringLiteral("twilio-cli: main"));
    const CliRun use =
        cli({QStringLiteral("--profile"), QStringLiteral("twilio-cli: main"),
                QStringLiteral("streams"), QStringLiteral("list"), QStringLiteral("default")},
            environment());
    QVERIFY2(use.exitCode == 0, use.describe().constData());
}

void TestCliKeychain::importEnvironmentThenUseTheProfile()
{
    const QProcessEnvironment withCredentials =
        CliRunner::withEngineCredentials(environment(), m_engine);
    const CliRun run =
        cli({QStringLiteral("profiles"), QStringLiteral("import"), QStringLiteral("env")},
            withCredentials);
    QVERIFY2(run.exitCode == 0, run.describe().constData());
    QVERIFY2(run.out.contains("imported 'Environment (TWILIO_*)'"), run.out.constData());
    QVERIFY(run.out.contains("secret stored in the keychain"));
    QVERIFY(!readFile(m_profilesFile).contains(m_engine.apiKeySecret().toUtf8()));

    pointAtEngine(QStringLiteral("Environment (TWILIO_*)"));
    const CliRun use = cli({QStringLiteral("--profile"), QStringLiteral("Environment (TWILIO_*)"),
                               QStringLiteral("publish"), QStringLiteral("default/keychain"),
                               QStringLiteral("{\"ok\":true}")},
        environment());
    // The stream does not exist: the secret worked (no 20003), the service answered 404.
    QVERIFY2(use.exitCode == 1, use.describe().constData());
    QVERIFY2(use.err.contains("error 20404"), use.err.constData());

    const CliRun again =
        cli({QStringLiteral("profiles"), QStringLiteral("import"), QStringLiteral("env")},
            withCredentials);
    QVERIFY2(again.exitCode == 0, again.describe().constData());
    QVERIFY2(again.out.contains("updated 'Environment (TWILIO_*)'"), again.out.constData());
    QCOMPARE(ProfileStore(m_profilesFile).profiles().size(), 2); // Local engine + this one
}

QTEST_GUILESS_MAIN(TestCliKeychain)
#include "tst_clikeychain.moc"
