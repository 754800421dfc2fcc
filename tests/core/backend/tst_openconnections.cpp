// OpenConnections: profiles opened against a real streams-engine process, their open order kept
// in a real ProfileStore file and restored, and missing secrets asked for one at a time through
// a real SecretStore — a throwaway keyring (tests/support/with-keyring.sh) or no keychain at all.

#include "awaitfuture.h"
#include "backend/openconnections.h"
#include "engineprocess.h"
#include "engineprofile.h"
#include "profiles/profilestore.h"
#include "profiles/secretstore.h"

#include <QCoreApplication>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

using namespace streams;
using namespace streams::testing;

namespace {

bool keyringMode()
{
    return qgetenv("STREAMS_TEST_KEYRING") == "throwaway";
}

/// The secretNeeded() requests as they arrive (a ConnectionProfile is no QVariant to spy on).
struct SecretRequests
{
    QStringList ids;
    QStringList whys;
};

} // namespace

class TestOpenConnections final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void opensWithTheStoredSecret();
    void openOrderIsSavedAndRestored();
    void missingSecretsAreAskedOneAtATimeInOrder();
    void declinedSecretOpensNothing();
    void forgottenProfileIsNotAskedFor();
    void removedProfileIsForgottenOnRestore();
    void refusedCredentialsAreAProblem();

private:
    QString saveProfile(const QString &name);
    void makeConnections();
    void track(SecretRequests &requests);

    EngineProcess m_engine;
    QTemporaryDir m_dir;
    std::unique_ptr<ProfileStore> m_profiles;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<OpenConnections> m_connections;
};

void TestOpenConnections::initTestCase()
{
    QVERIFY(m_engine.start());
}

void TestOpenConnections::init()
{
    const QString name = QString::fromLatin1(QTest::currentTestFunction());
    m_profiles =
        std::make_unique<ProfileStore>(m_dir.filePath(name + QStringLiteral("-profiles.ini")));
    m_secrets = std::make_unique<SecretStore>(QStringLiteral("sync-streams-console-test-%1")
                                                  .arg(QUuid::createUuid().toString(QUuid::Id128)));
    makeConnections();
}

void TestOpenConnections::makeConnections()
{
    m_connections.reset();
    m_connections = std::make_unique<OpenConnections>(*m_profiles, *m_secrets);
    RestClient::Options rest;
    rest.timeoutMs = 3000;
    rest.maxAttempts = 2;
    rest.backoffInitialMs = 50;
    rest.backoffMaxMs = 200;
    m_connections->setRemoteOptions(rest, TwilsockClient::Options{});
}

void TestOpenConnections::cleanup()
{
    m_connections.reset();
    m_secrets.reset();
    m_profiles.reset();
}

QString TestOpenConnections::saveProfile(const QString &name)
{
    const auto saved = m_profiles->save(engineProfile(m_engine, name));
    return saved ? saved->id : QString();
}

void TestOpenConnections::track(SecretRequests &requests)
{
    connect(m_connections.get(), &OpenConnections::secretNeeded, this,
        [&requests](const ConnectionProfile &profile, const QString &why) {
            requests.ids.append(profile.id);
            requests.whys.append(why);
        });
}

void TestOpenConnections::opensWithTheStoredSecret()
{
    const QString id = saveProfile(QStringLiteral("Stored"));
    QVERIFY(!id.isEmpty());
    m_secrets->rememberForSession(m_profiles->find(id)->secretKey(), m_engine.apiKeySecret());
    QSignalSpy opening(m_connections.get(), &OpenConnections::opening);
    QSignalSpy opened(m_connections.get(), &OpenConnections::opened);
    QSignalSpy cleared(m_connections.get(), &OpenConnections::problemCleared);
    SecretRequests requests;
    track(requests);

    m_connections->open(id);
    QCOMPARE(opening.size(), 1);
    QCOMPARE(m_connections->openProfileIds(), QStringList{id});
    QCOMPARE(m_profiles->openProfileIds(), QStringList{id});
    QVERIFY(opened.size() == 1 || opened.wait(10000));
    auto *backend = opened.at(0).at(0).value<Backend *>();
    QCOMPARE(opened.at(0).at(1).toString(), id);
    QCOMPARE(m_connections->backend(id), backend);
    QCOMPARE(m_connections->profileId(backend), id);
    // The first check runs by itself.
    QVERIFY(cleared.size() == 1 || cleared.wait(10000));
    QCOMPARE(cleared.at(0).at(0).value<Backend *>(), backend);
    QCOMPARE(backend->state(), Backend::State::Connected);
    QVERIFY(requests.ids.isEmpty());

    m_connections->open(id); // already open: nothing more
    QCOMPARE(opening.size(), 1);
    QCOMPARE(m_connections->backends().size(), 1);
}

void TestOpenConnections::openOrderIsSavedAndRestored()
{
    const QString first = saveProfile(QStringLiteral("First"));
    const QString second = saveProfile(QStringLiteral("Second"));
    for (const QString &id : {first, second})
        m_secrets->rememberForSession(m_profiles->find(id)->secretKey(), m_engine.apiKeySecret());
    QSignalSpy opened(m_connections.get(), &OpenConnections::opened);
    m_connections->open(first);
    m_connections->open(second);
    QTRY_COMPARE_WITH_TIMEOUT(opened.size(), 2, 10000);
    QCOMPARE(m_profiles->openProfileIds(), (QStringList{first, second}));

    // The console quits: the connections close, the order stays for the next start.
    m_connections.reset();
    QCOMPARE(m_profiles->openProfileIds(), (QStringList{first, second}));
    makeConnections();
    QSignalSpy restored(m_connections.get(), &OpenConnections::opened);
    m_connections->restore();
    QCOMPARE(m_connections->openProfileIds(), (QStringList{first, second}));
    QTRY_COMPARE_WITH_TIMEOUT(restored.size(), 2, 10000);
    QVERIFY(m_connections->backend(first));
    QVERIFY(m_connections->backend(second));

    // Closing one forgets it for the next start.
    QSignalSpy closed(m_connections.get(), &OpenConnections::closed);
    QVERIFY(m_connections->close(m_connections->backend(first)));
    QCOMPARE(closed.size(), 1);
    QCOMPARE(closed.at(0).at(0).toString(), first);
    QVERIFY(!m_connections->backend(first));
    QCOMPARE(m_connections->openProfileIds(), QStringList{second});
    QCOMPARE(m_profiles->openProfileIds(), QStringList{second});
    QVERIFY(!m_connections->close(nullptr));
}

void TestOpenConnections::missingSecretsAreAskedOneAtATimeInOrder()
{
    const QString first = saveProfile(QStringLiteral("Asked first"));
    const QString second = saveProfile(QStringLiteral("Asked second"));
    const QString third = saveProfile(QStringLiteral("Asked third"));
    SecretRequests requests;
    track(requests);
    QSignalSpy needed(m_connections.get(), &OpenConnections::secretNeeded);
    QSignalSpy opened(m_connections.get(), &OpenConnections::opened);
    QSignalSpy failed(m_connections.get(), &OpenConnections::openFailed);
    for (const QString &id : {first, second, third})
        m_connections->open(id);
    QCOMPARE(m_profiles->openProfileIds(), (QStringList{first, second, third}));

    QVERIFY(needed.wait(10000));
    QCOMPARE(requests.ids, QStringList{first});
    const QString why = requests.whys.constFirst();
    if (keyringMode())
        QVERIFY2(why.contains(u"No secret is stored"), qPrintable(why));
    else
        QVERIFY2(why.contains(u"no keychain"), qPrintable(why));
    // The others wait their turn, however long the first takes to answer.
    QVERIFY(!needed.wait(500));
    QCOMPARE(requests.ids, QStringList{first});

    // An answer for a profile not being asked about is no answer.
    m_connections->provideSecret(second, m_engine.apiKeySecret(), {});
    QVERIFY(opened.isEmpty());

    m_connections->provideSecret(first, m_engine.apiKeySecret(), {true, false});
    QCOMPARE(opened.size(), 1);
    QCOMPARE(opened.at(0).at(1).toString(), first);
    QVERIFY(needed.wait(10000));
    QCOMPARE(requests.ids, (QStringList{first, second}));

    m_connections->declineSecret(second);
    QCOMPARE(failed.size(), 1);
    QCOMPARE(failed.at(0).at(0).toString(), second);
    QVERIFY(needed.wait(10000));
    QCOMPARE(requests.ids, (QStringList{first, second, third}));
    m_connections->provideSecret(third, m_engine.apiKeySecret(), {true, false});
    QCOMPARE(opened.size(), 2);
    QCOMPARE(m_connections->openProfileIds(), (QStringList{first, third}));
    QCOMPARE(m_profiles->openProfileIds(), (QStringList{first, third}));

    // Remembered for the session: closed and opened again, nothing is asked.
    QVERIFY(m_connections->close(m_connections->backend(first)));
    m_connections->open(first);
    QTRY_COMPARE_WITH_TIMEOUT(opened.size(), 3, 10000);
    QCOMPARE(requests.ids.size(), 3);
}

void TestOpenConnections::declinedSecretOpensNothing()
{
    const QString id = saveProfile(QStringLiteral("Declined"));
    QSignalSpy needed(m_connections.get(), &OpenConnections::secretNeeded);
    QSignalSpy failed(m_connections.get(), &OpenConnections::openFailed);
    m_connections->open(id);
    QVERIFY(needed.wait(10000));
    m_connections->provideSecret(id, QString(), {}); // an empty secret declines
    QCOMPARE(failed.size(), 1);
    QCOMPARE(failed.at(0).at(0).toString(), id);
    QVERIFY(failed.at(0).at(1).toString().contains(u"Declined"));
    QVERIFY(m_connections->openProfileIds().isEmpty());
    QVERIFY(m_profiles->openProfileIds().isEmpty());
    QVERIFY(m_connections->backends().isEmpty());
}

void TestOpenConnections::forgottenProfileIsNotAskedFor()
{
    const QString first = saveProfile(QStringLiteral("Kept"));
    const QString second = saveProfile(QStringLiteral("Removed"));
    SecretRequests requests;
    track(requests);
    QSignalSpy needed(m_connections.get(), &OpenConnections::secretNeeded);
    m_connections->open(first);
    m_connections->open(second);
    QVERIFY(needed.wait(10000));
    // Wait until the second read is answered and queued behind the first.
    QVERIFY(!needed.wait(500));
    m_profiles->remove(second);
    m_connections->forget(second);
    QCOMPARE(m_profiles->openProfileIds(), QStringList{first});
    m_connections->declineSecret(first);
    QVERIFY(!needed.wait(500));
    QCOMPARE(requests.ids, QStringList{first});
    QVERIFY(m_profiles->openProfileIds().isEmpty());
}

void TestOpenConnections::removedProfileIsForgottenOnRestore()
{
    const QString kept = saveProfile(QStringLiteral("Still here"));
    m_secrets->rememberForSession(m_profiles->find(kept)->secretKey(), m_engine.apiKeySecret());
    m_profiles->setOpenProfileIds({QStringLiteral("gone"), kept});
    QSignalSpy failed(m_connections.get(), &OpenConnections::openFailed);
    QSignalSpy opened(m_connections.get(), &OpenConnections::opened);
    m_connections->restore();
    QCOMPARE(failed.size(), 1);
    QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("gone"));
    QCOMPARE(m_profiles->openProfileIds(), QStringList{kept});
    QVERIFY(opened.size() == 1 || opened.wait(10000));
}

void TestOpenConnections::refusedCredentialsAreAProblem()
{
    const QString id = saveProfile(QStringLiteral("Wrong secret"));
    m_secrets->rememberForSession(m_profiles->find(id)->secretKey(), QStringLiteral("not-it"));
    QSignalSpy found(m_connections.get(), &OpenConnections::problemFound);
    m_connections->open(id);
    QVERIFY(found.wait(10000));
    QCOMPARE(found.at(0).at(0).value<Backend *>(), m_connections->backend(id));
    QCOMPARE(found.at(0).at(1).value<ApiError>().code(), 20003);
    QCOMPARE(m_connections->backend(id)->state(), Backend::State::Failed);
}

int main(int argc, char *argv[])
{
    // Never the user's own keyring: only a throwaway one (tests/support/with-keyring.sh), or
    // none at all.
    if (!keyringMode())
        qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/streams-test-bus");
    QCoreApplication app(argc, argv);
    TestOpenConnections test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_openconnections.moc"
