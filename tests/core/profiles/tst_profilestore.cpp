// ProfileStore on a real INI file in a temporary directory.

#include "profiles/profilestore.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;

using Kind = ConnectionProfile::Kind;
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
const QString kApiKeySid = QStringLiteral("SKfedcba9876543210fedcba9876543210");

ConnectionProfile twilioProfile(const QString &name)
{
    ConnectionProfile profile;
    profile.name = name;
    profile.kind = Kind::TwilioAccount;
    profile.accountSid = kAccountSid;
    profile.authMethod = AuthMethod::ApiKey;
    profile.apiKeySid = kApiKeySid;
    profile.region = QStringLiteral("ie1");
    profile.edge = QStringLiteral("dublin");
    return profile;
}

ConnectionProfile engineProfile(const QString &name)
{
    ConnectionProfile profile;
    profile.name = name;
    profile.kind = Kind::EngineAtUrl;
    profile.engineUrl = QUrl(QStringLiteral("http://127.0.0.1:8080"));
    profile.accountSid = kAccountSid;
    profile.authMethod = AuthMethod::AuthToken;
    return profile;
}

QStringList names(const QList<ConnectionProfile> &profiles)
{
    QStringList out;
    for (const auto &profile : profiles)
        out << profile.name;
    return out;
}

} // namespace

class TestProfileStore final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void emptyStoreListsOnlyTheLocalEngine();
    void roundTripThroughTheFile();
    void localFirstThenByName();
    void findByIdOrName();
    void updateKeepsTheIdAndDropsStaleFields();
    void duplicateNamesAreRefused();
    void invalidAndLocalProfilesAreRefused();
    void removeDeletesAndForgetsOpenState();
    void openProfileIdsPersist();
    void anotherProcessesChangesAreSeen();
    void fileIsPrivateToTheUser();
    void fileNeverHoldsASecret();
    void defaultFilePathHonoursTheEnvironment();

private:
    QString path() const { return m_dir->filePath(QStringLiteral("config/profiles.ini")); }

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestProfileStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestProfileStore::emptyStoreListsOnlyTheLocalEngine()
{
    ProfileStore store(path());
    QCOMPARE(store.filePath(), path());
    const auto profiles = store.profiles();
    QCOMPARE(profiles.size(), 1);
    QVERIFY(profiles.first() == ConnectionProfile::localEngine());
    QVERIFY(store.openProfileIds().isEmpty());
}

void TestProfileStore::roundTripThroughTheFile()
{
    ConnectionProfile twilio;
    ConnectionProfile engine;
    {
        ProfileStore store(path());
        QSignalSpy changed(&store, &ProfileStore::profilesChanged);
        const auto savedTwilio = store.save(twilioProfile(QStringLiteral("Production")));
        QVERIFY2(savedTwilio, qPrintable(whyNot(savedTwilio)));
        const auto savedEngine = store.save(engineProfile(QStringLiteral("Staging")));
        QVERIFY2(savedEngine, qPrintable(whyNot(savedEngine)));
        QCOMPARE(changed.count(), 2);
        twilio = *savedTwilio;
        engine = *savedEngine;
    }
    // Fresh UUIDs without braces.
    QCOMPARE(twilio.id.size(), 36);
    QVERIFY(!twilio.id.contains(u'{'));
    QVERIFY(twilio.id != engine.id);
    QCOMPARE(twilio.secretKey(), QStringLiteral("profile/") + twilio.id);

    ProfileStore reopened(path());
    const auto profiles = reopened.profiles();
    QCOMPARE(profiles.size(), 3);
    QVERIFY(profiles.contains(twilio));
    QVERIFY(profiles.contains(engine));
    const auto found = reopened.find(twilio.id);
    QVERIFY(found);
    QCOMPARE(found->name, QStringLiteral("Production"));
    QCOMPARE(found->kind, Kind::TwilioAccount);
    QCOMPARE(found->accountSid, kAccountSid);
    QCOMPARE(found->authMethod, AuthMethod::ApiKey);
    QCOMPARE(found->apiKeySid, kApiKeySid);
    QCOMPARE(found->region, QStringLiteral("ie1"));
    QCOMPARE(found->edge, QStringLiteral("dublin"));
    const auto foundEngine = reopened.find(engine.id);
    QVERIFY(foundEngine);
    QCOMPARE(foundEngine->engineUrl, QUrl(QStringLiteral("http://127.0.0.1:8080")));
    QCOMPARE(foundEngine->authMethod, AuthMethod::AuthToken);
}

void TestProfileStore::localFirstThenByName()
{
    ProfileStore store(path());
    for (const char *name : {"zeta", "Alpha", "beta", "Gamma"})
        QVERIFY(store.save(engineProfile(QString::fromLatin1(name))));
    QCOMPARE(names(store.profiles()),
        (QStringList{QStringLiteral("Local engine"), QStringLiteral("Alpha"),
            QStringLiteral("beta"), QStringLiteral("Gamma"), QStringLiteral("zeta")}));
}

void TestProfileStore::findByIdOrName()
{
    ProfileStore store(path());
    const auto saved = store.save(twilioProfile(QStringLiteral("Production")));
    QVERIFY(saved);

    QCOMPARE(store.find(saved->id)->name, QStringLiteral("Production"));
    QCOMPARE(store.find(QStringLiteral("Production"))->id, saved->id);
    QCOMPARE(store.find(QStringLiteral("PRODUCTION"))->id, saved->id);
    QCOMPARE(store.find(QStringLiteral("local"))->kind, Kind::LocalEngine);
    QCOMPARE(store.find(QStringLiteral("local engine"))->kind, Kind::LocalEngine);
    QVERIFY(!store.find(QStringLiteral("Prod")));
    QVERIFY(!store.find(QString()));
}

void TestProfileStore::updateKeepsTheIdAndDropsStaleFields()
{
    ProfileStore store(path());
    auto saved = store.save(twilioProfile(QStringLiteral("Account")));
    QVERIFY(saved);

    // Switch the same profile to an engine with an Auth Token: region, edge and key SID go.
    ConnectionProfile changed = engineProfile(QStringLiteral("Account renamed"));
    changed.id = saved->id;
    changed.region = QStringLiteral("ie1");
    changed.apiKeySid = kApiKeySid;
    const auto updated = store.save(changed);
    QVERIFY2(updated, qPrintable(whyNot(updated)));
    QCOMPARE(updated->id, saved->id);

    ProfileStore reopened(path());
    QCOMPARE(reopened.profiles().size(), 2);
    const auto found = reopened.find(saved->id);
    QVERIFY(found);
    QCOMPARE(found->name, QStringLiteral("Account renamed"));
    QCOMPARE(found->kind, Kind::EngineAtUrl);
    QVERIFY(found->region.isEmpty());
    QVERIFY(found->edge.isEmpty());
    QVERIFY(found->apiKeySid.isEmpty());

    // A profile may keep its own name when saved again, in any case.
    changed.name = QStringLiteral("ACCOUNT RENAMED");
    QVERIFY(store.save(changed));
}

void TestProfileStore::duplicateNamesAreRefused()
{
    ProfileStore store(path());
    QVERIFY(store.save(twilioProfile(QStringLiteral("Production"))));
    QSignalSpy changed(&store, &ProfileStore::profilesChanged);

    const auto duplicate = store.save(engineProfile(QStringLiteral("production")));
    QVERIFY(!duplicate);
    QCOMPARE(duplicate.error(), QStringLiteral("A connection named \"Production\" already exists"));

    const auto local = store.save(engineProfile(QStringLiteral("Local Engine")));
    QVERIFY(!local);
    QCOMPARE(local.error(), QStringLiteral("A connection named \"Local engine\" already exists"));

    QCOMPARE(changed.count(), 0);
    QCOMPARE(store.profiles().size(), 2);
}

void TestProfileStore::invalidAndLocalProfilesAreRefused()
{
    ProfileStore store(path());
    auto invalid = twilioProfile(QStringLiteral("Broken"));
    invalid.accountSid = QStringLiteral("AC123");
    const auto refused = store.save(invalid);
    QVERIFY(!refused);
    QVERIFY2(refused.error().startsWith(u"Account SID must be AC"), qPrintable(refused.error()));

    const auto local = store.save(ConnectionProfile::localEngine());
    QVERIFY(!local);
    auto posingAsLocal = engineProfile(QStringLiteral("Sneaky"));
    posingAsLocal.id = QStringLiteral("local");
    QVERIFY(!store.save(posingAsLocal));

    auto badId = engineProfile(QStringLiteral("Bad id"));
    badId.id = QStringLiteral("a/b");
    const auto refusedId = store.save(badId);
    QVERIFY(!refusedId);
    QCOMPARE(refusedId.error(), QStringLiteral("\"a/b\" is not a valid profile id"));

    QCOMPARE(store.profiles().size(), 1);
    QVERIFY(!QFile::exists(path())); // nothing was written
}

void TestProfileStore::removeDeletesAndForgetsOpenState()
{
    ProfileStore store(path());
    const auto a = store.save(engineProfile(QStringLiteral("A")));
    const auto b = store.save(engineProfile(QStringLiteral("B")));
    QVERIFY(a && b);
    store.setOpenProfileIds({QStringLiteral("local"), a->id, b->id});

    QSignalSpy changed(&store, &ProfileStore::profilesChanged);
    store.remove(a->id);
    QCOMPARE(changed.count(), 1);
    QVERIFY(!store.find(a->id));
    QCOMPARE(store.openProfileIds(), (QStringList{QStringLiteral("local"), b->id}));

    // Unknown ids and the local engine are left alone, silently.
    store.remove(a->id);
    store.remove(QStringLiteral("local"));
    store.remove(QStringLiteral("no-such-id"));
    QCOMPARE(changed.count(), 1);

    ProfileStore reopened(path());
    QCOMPARE(names(reopened.profiles()),
        (QStringList{QStringLiteral("Local engine"), QStringLiteral("B")}));
}

void TestProfileStore::openProfileIdsPersist()
{
    const QStringList ids{
        QStringLiteral("local"), QStringLiteral("8d0f1c2e-aaaa-4bbb-8ccc-000000000000")};
    {
        ProfileStore store(path());
        QSignalSpy changed(&store, &ProfileStore::profilesChanged);
        store.setOpenProfileIds(ids);
        QCOMPARE(changed.count(), 0); // which are open is not a change to the profiles
    }
    ProfileStore reopened(path());
    QCOMPARE(reopened.openProfileIds(), ids);
    reopened.setOpenProfileIds({});
    QVERIFY(ProfileStore(path()).openProfileIds().isEmpty());
}

void TestProfileStore::anotherProcessesChangesAreSeen()
{
    // The console and streams-cli share the file; each sees what the other saved.
    ProfileStore console(path());
    ProfileStore cli(path());
    QCOMPARE(console.profiles().size(), 1);
    const auto saved = cli.save(engineProfile(QStringLiteral("From the CLI")));
    QVERIFY(saved);
    QVERIFY(console.find(QStringLiteral("From the CLI")));
    // Both keep what the other wrote when they write themselves.
    QVERIFY(console.save(engineProfile(QStringLiteral("From the console"))));
    QCOMPARE(ProfileStore(path()).profiles().size(), 3);
    // And a duplicate made elsewhere is caught.
    QVERIFY(!console.save(engineProfile(QStringLiteral("from the cli"))));
}

void TestProfileStore::fileIsPrivateToTheUser()
{
    ProfileStore store(path());
    QVERIFY(store.save(engineProfile(QStringLiteral("One"))));
    const auto privateMode = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
    const auto groupOrOther = QFileDevice::ReadGroup | QFileDevice::WriteGroup
        | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::WriteOther
        | QFileDevice::ExeOther;
    QCOMPARE(QFile::permissions(path()) & (privateMode | groupOrOther), privateMode);

    // Still private after later writes replace the file.
    QVERIFY(store.save(engineProfile(QStringLiteral("Two"))));
    store.setOpenProfileIds({QStringLiteral("local")});
    QCOMPARE(QFile::permissions(path()) & (privateMode | groupOrOther), privateMode);
}

void TestProfileStore::fileNeverHoldsASecret()
{
    // ConnectionProfile has no field for a secret; this checks nothing smuggles one in (the
    // URL user-info is refused, see connectionprofile tests) and that what is written is only
    // the profile fields.
    const QString secret = QStringLiteral("my-auth-token-7c1d");
    ProfileStore store(path());
    auto profile = engineProfile(QStringLiteral("Engine"));
    profile.engineUrl = QUrl(QStringLiteral("http://AC1:%1@127.0.0.1:8080").arg(secret));
    QVERIFY(!store.save(profile));
    QVERIFY(store.save(twilioProfile(QStringLiteral("Twilio"))));
    QVERIFY(store.save(engineProfile(QStringLiteral("Engine"))));

    QFile file(path());
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray contents = file.readAll();
    QVERIFY(!contents.contains(secret.toUtf8()));
    for (const QByteArray &line : contents.split('\n')) {
        const QByteArray key = line.left(line.indexOf('=')).toLower();
        QVERIFY2(!key.contains("secret") && !key.contains("token") && !key.contains("password"),
            line.constData());
    }
}

void TestProfileStore::defaultFilePathHonoursTheEnvironment()
{
    const QString custom = m_dir->filePath(QStringLiteral("elsewhere.ini"));
    qputenv("STREAMS_PROFILES_FILE", custom.toLocal8Bit());
    QCOMPARE(ProfileStore::defaultFilePath(), custom);
    {
        ProfileStore store;
        QCOMPARE(store.filePath(), custom);
        QVERIFY(store.save(engineProfile(QStringLiteral("Env"))));
    }
    QVERIFY(QFile::exists(custom));
    qunsetenv("STREAMS_PROFILES_FILE");
    QVERIFY(ProfileStore::defaultFilePath().endsWith(u"/sync-streams-console/profiles.ini"));
}

QTEST_GUILESS_MAIN(TestProfileStore)

#include "tst_profilestore.moc"
