// ConnectionProbe: checking a RemoteBackend on opening, and probing it with a doubling back-off
// while a real streams-engine process is down, until the engine comes back.

#include "awaitfuture.h"
#include "backend/connectionprobe.h"
#include "backend/remotebackend.h"
#include "engineconnection.h"
#include "engineprocess.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

using namespace streams;
using namespace streams::testing;

namespace {

// Short enough for a test, far enough apart that the doubling shows.
constexpr ProbeDelays kQuick{50, 400};

QList<int> delays(const QSignalSpy &scheduled)
{
    QList<int> out;
    for (const QList<QVariant> &args : scheduled)
        out.append(args.at(0).toInt());
    return out;
}

/// A probe with quick delays, and what it said.
struct WatchedProbe
{
    explicit WatchedProbe(RemoteBackend &backend)
        : probe(backend, kQuick),
          cleared(&probe, &ConnectionProbe::problemCleared),
          found(&probe, &ConnectionProbe::problemFound),
          scheduled(&probe, &ConnectionProbe::probeScheduled)
    { }

    ConnectionProbe probe;
    QSignalSpy cleared;
    QSignalSpy found;
    QSignalSpy scheduled;
};

} // namespace

class TestConnectionProbe final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void passingCheckClearsTheProblem();
    void refusedCredentialsAreNotProbed();
    void backsOffWhileTheEngineIsDownAndRecovers();
    void destroyedWithACheckInFlight();

private:
    EngineProcess m_engine;
};

void TestConnectionProbe::initTestCase()
{
    QVERIFY(m_engine.start());
}

void TestConnectionProbe::passingCheckClearsTheProblem()
{
    RemoteBackend backend(engineConnection(m_engine));
    WatchedProbe watched(backend);
    auto &[probe, cleared, found, scheduled] = watched;
    probe.check();
    QVERIFY(cleared.wait(10000));
    QCOMPARE(backend.state(), Backend::State::Connected);
    QCOMPARE(found.size(), 0);
    QCOMPARE(scheduled.size(), 0);
    QVERIFY(!probe.isProbing());
}

void TestConnectionProbe::refusedCredentialsAreNotProbed()
{
    RemoteConnection connection = engineConnection(m_engine);
    connection.credentials.apiKeySecret = QStringLiteral("not-the-secret");
    RemoteBackend backend(connection);
    WatchedProbe watched(backend);
    auto &[probe, cleared, found, scheduled] = watched;
    probe.check();
    QVERIFY(found.wait(10000));
    QCOMPARE(found.at(0).at(0).value<ApiError>().code(), 20003);
    QCOMPARE(backend.state(), Backend::State::Failed);
    // Asking again does not fix credentials: nothing is scheduled.
    QVERIFY(!probe.isProbing());
    QCOMPARE(scheduled.size(), 0);
    QCOMPARE(cleared.size(), 0);
}

void TestConnectionProbe::backsOffWhileTheEngineIsDownAndRecovers()
{
    EngineProcess engine;
    QVERIFY(engine.start());
    RemoteBackend backend(engineConnection(engine));
    WatchedProbe watched(backend);
    auto &[probe, cleared, found, scheduled] = watched;
    probe.check();
    QVERIFY(cleared.wait(10000));
    cleared.clear();

    engine.kill(); // no goodbye
    // Something the user does finds the server gone; the probe takes over from there.
    QVERIFY(!await(backend.fetchService(QStringLiteral("default"))));
    QCOMPARE(backend.state(), Backend::State::Reconnecting);
    QTRY_VERIFY_WITH_TIMEOUT(scheduled.size() >= 5, 10000);
    QCOMPARE(delays(scheduled).first(5), (QList<int>{50, 100, 200, 400, 400}));
    QVERIFY(!found.isEmpty());
    for (const QList<QVariant> &args : found)
        QVERIFY(args.at(0).value<ApiError>().isConnectionFailure());
    QCOMPARE(cleared.size(), 0);

    // Back on the same port: the next probe finds it, with nobody else asking.
    QVERIFY(engine.restart());
    QVERIFY(cleared.wait(10000));
    QCOMPARE(backend.state(), Backend::State::Connected);
    QCOMPARE(probe.nextDelayMs(), kQuick.firstMs);
    QTRY_VERIFY(!probe.isProbing());
}

void TestConnectionProbe::destroyedWithACheckInFlight()
{
    QTcpServer silent; // accepts, never answers
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    RemoteConnection connection = engineConnection(m_engine);
    connection.endpoints = RemoteEndpoints::engine(
        QUrl(QStringLiteral("http://127.0.0.1:%1").arg(silent.serverPort())));
    connection.rest.timeoutMs = 30000;
    auto backend = std::make_unique<RemoteBackend>(connection);
    auto probe = std::make_unique<ConnectionProbe>(*backend, kQuick);
    probe->check();
    QTRY_VERIFY(silent.hasPendingConnections());
    // The order OpenConnections keeps: the probe first, then the backend settles its requests.
    probe.reset();
    backend.reset();
    QCoreApplication::processEvents();
}

QTEST_GUILESS_MAIN(TestConnectionProbe)
#include "tst_connectionprobe.moc"
