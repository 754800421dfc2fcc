// RemoteBackend: the Backend seam over REST against a real streams-engine process, including
// its connection state through bad credentials and the engine being killed and restarted.

#include "awaitfuture.h"
#include "backend/remotebackend.h"
#include "controlplanechecks.h"
#include "engineconnection.h"
#include "engineprocess.h"
#include "httpclient.h"
#include "live/livesubscription.h"
#include "profiles/connectionprofile.h"
#include "waits.h"

#include <QNetworkProxy>
#include <QProcess>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSslConfiguration>
#include <QTcpServer>
#include <QTest>

using namespace streams;
using namespace streams::testing;

namespace {

QList<Backend::State> states(const QSignalSpy &spy)
{
    QList<Backend::State> out;
    for (const QList<QVariant> &args : spy)
        out.append(args.at(0).value<Backend::State>());
    return out;
}

} // namespace

class TestRemoteBackend final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void connectsOnFirstAnswer();
    void endpointAndLimits();
    void crudThroughTheSeam();
    void deleteStreamSignalsRemoval();
    void refusedCredentialsFail();
    void liveSubscriptionsExplainWhyNot();
    void reconnectsWhenTheEngineComesBack();
    void connectionFromProfile();
    void destroyedWithRequestsInFlight();
    void controlPlaneOverHttp();
    void faultMarksOverHttp();
    void twiliosCloudHasNoControlPlane();
    void twilioCloudConnectionThroughTheEnginesProxy();

private:
    EngineProcess m_engine;
    QString m_serviceSid;
};

void TestRemoteBackend::initTestCase()
{
    QVERIFY(m_engine.start({QStringLiteral("--publish-rate"), QStringLiteral("unlimited")}));
    RemoteBackend backend(engineConnection(m_engine, true));
    auto service = await(backend.fetchService(QStringLiteral("default")));
    QVERIFY2(service, qPrintable(service ? QString() : service.error().message()));
    m_serviceSid = service->sid;
}

void TestRemoteBackend::connectsOnFirstAnswer()
{
    RemoteBackend backend(engineConnection(m_engine, false));
    QCOMPARE(backend.state(), Backend::State::Connecting);
    QSignalSpy changed(&backend, &Backend::stateChanged);
    QVERIFY(await(backend.checkConnection()));
    QCOMPARE(backend.state(), Backend::State::Connected);
    QCOMPARE(states(changed), QList<Backend::State>{Backend::State::Connected});
    QVERIFY(await(backend.checkConnection()));
    QCOMPARE(changed.size(), 1); // no repeats while nothing changes
}

void TestRemoteBackend::endpointAndLimits()
{
    RemoteBackend engine(engineConnection(m_engine, true));
    const Backend::Endpoint endpoint = engine.endpoint();
    QCOMPARE(endpoint.displayName, QStringLiteral("engine under test"));
    QCOMPARE(endpoint.baseUrl, m_engine.baseUrl());
    QCOMPARE(endpoint.accountSid, m_engine.accountSid());
    QCOMPARE(endpoint.apiKeySid, m_engine.apiKeySid());
    QVERIFY(!endpoint.embedded);
    QVERIFY(!engine.publishRatePerSecond()); // an engine's --publish-rate is its own business

    RemoteConnection cloud = engineConnection(m_engine, true);
    cloud.endpoints = RemoteEndpoints::twilio();
    cloud.twilioCloud = true;
    RemoteBackend twilio(cloud);
    QCOMPARE(twilio.publishRatePerSecond(), std::optional<double>(30.0));
    QCOMPARE(twilio.endpoint().baseUrl, QStringLiteral("https://sync.twilio.com"));
    QCOMPARE(twilio.state(), Backend::State::Connecting); // nothing sent yet
}

void TestRemoteBackend::crudThroughTheSeam()
{
    RemoteBackend backend(engineConnection(m_engine, true));
    Backend &seam = backend;

    ServiceFields fields;
    fields.friendlyName = QStringLiteral("remote seam");
    auto service = await(seam.createService(fields));
    QVERIFY(service);
    QCOMPARE(service->friendlyName, QStringLiteral("remote seam"));
    QCOMPARE(seam.state(), Backend::State::Connected);

    ServiceFields rename;
    rename.friendlyName = QStringLiteral("renamed");
    auto updated = await(seam.updateService(service->sid, rename));
    QVERIFY(updated);
    QCOMPARE(updated->friendlyName, QStringLiteral("renamed"));
    auto fetched = await(seam.fetchService(service->sid));
    QVERIFY(fetched);
    QCOMPARE(*fetched, *updated);
    auto services = await(seam.listServices({}));
    QVERIFY(services);
    QVERIFY(std::any_of(services->items.cbegin(), services->items.cend(),
        [&](const Service &s) { return s.sid == service->sid; }));

    auto stream = await(seam.createStream(service->sid, {QStringLiteral("seam"), 60}));
    QVERIFY(stream);
    QCOMPARE(stream->uniqueName, QStringLiteral("seam"));
    QVERIFY(stream->dateExpires);
    auto duplicate = await(seam.createStream(service->sid, {QStringLiteral("seam"), {}}));
    QVERIFY(!duplicate);
    QCOMPARE(duplicate.error().code(), 54301);
    QCOMPARE(seam.state(), Backend::State::Connected); // an API error is still an answer

    auto noExpiry = await(seam.updateStream(service->sid, QStringLiteral("seam"), 0));
    QVERIFY(noExpiry);
    QVERIFY(!noExpiry->dateExpires);
    auto byName = await(seam.fetchStream(service->sid, QStringLiteral("seam")));
    QVERIFY(byName);
    QCOMPARE(byName->sid, stream->sid);
    auto streams = await(seam.listStreams(service->sid, {}));
    QVERIFY(streams);
    QCOMPARE(streams->items.size(), 1);
    QCOMPARE(streams->items.constFirst().sid, stream->sid);

    auto message = await(seam.publish(service->sid, stream->sid, R"({"b":2,"a":1})"));
    QVERIFY(message);
    QVERIFY(message->sid.startsWith(u"TZ"));
    QCOMPARE(message->data, QByteArray(R"({"b":2,"a":1})"));
    auto bad = await(seam.publish(service->sid, stream->sid, "[1]"));
    QVERIFY(!bad);
    QCOMPARE(bad.error().code(), 54008);

    QVERIFY(await(seam.deleteService(service->sid)));
    auto gone = await(seam.fetchService(service->sid));
    QVERIFY(!gone);
    QCOMPARE(gone.error().code(), 20404);
}

void TestRemoteBackend::deleteStreamSignalsRemoval()
{
    RemoteBackend backend(engineConnection(m_engine, false));
    auto stream = await(backend.createStream(m_serviceSid, {}));
    QVERIFY(stream);
    QSignalSpy removed(&backend, &Backend::streamRemoved);
    QVERIFY(await(backend.deleteStream(m_serviceSid, stream->sid)));
    QTRY_COMPARE(removed.size(), 1);
    QCOMPARE(removed.at(0).at(0).toString(), m_serviceSid);
    QCOMPARE(removed.at(0).at(1).toString(), stream->sid);

    // A failed delete removes nothing: no second signal comes.
    QVERIFY(!await(backend.deleteStream(m_serviceSid, stream->sid)));
    QVERIFY(noSignalFor(removed, 50));
}

void TestRemoteBackend::refusedCredentialsFail()
{
    RemoteConnection connection = engineConnection(m_engine, true);
    connection.credentials.apiKeySecret = QStringLiteral("not-the-secret");
    RemoteBackend backend(connection);
    QSignalSpy changed(&backend, &Backend::stateChanged);
    auto checked = await(backend.checkConnection());
    QVERIFY(!checked);
    QCOMPARE(checked.error().code(), 20003);
    QCOMPARE(backend.state(), Backend::State::Failed);
    QVERIFY(!await(backend.publish(m_serviceSid, QStringLiteral("x"), "{}")));
    QCOMPARE(backend.state(), Backend::State::Failed);
    QCOMPARE(states(changed), QList<Backend::State>{Backend::State::Failed});
}

void TestRemoteBackend::liveSubscriptionsExplainWhyNot()
{
    RemoteBackend withToken(engineConnection(m_engine, false));
    QVERIFY(withToken.liveUnavailableReason().contains(u"API key"));
    auto subscription = withToken.subscribe(m_serviceSid, QStringLiteral("s"));
    QSignalSpy failed(subscription.get(), &LiveSubscription::failed);
    QTRY_COMPARE(failed.size(), 1);
    QCOMPARE(failed.at(0).at(0).value<ApiError>().message(), withToken.liveUnavailableReason());
    QCOMPARE(subscription->state(), LiveSubscription::State::Ended);

    RemoteBackend withKey(engineConnection(m_engine, true));
    QVERIFY(withKey.liveUnavailableReason().isEmpty());
    // Until SyncLiveChannel is wired in, a subscription ends with a clear error, not silence.
    auto pending = withKey.subscribe(m_serviceSid, QStringLiteral("s"));
    QSignalSpy pendingFailed(pending.get(), &LiveSubscription::failed);
    QTRY_COMPARE(pendingFailed.size(), 1);
    QVERIFY(!pendingFailed.at(0).at(0).value<ApiError>().message().isEmpty());
}

void TestRemoteBackend::reconnectsWhenTheEngineComesBack()
{
    EngineProcess engine;
    QVERIFY(engine.start());
    const quint16 port = engine.port();
    RemoteBackend backend(engineConnection(engine, true));
    QSignalSpy changed(&backend, &Backend::stateChanged);
    auto stream =
        await(backend.createStream(QStringLiteral("default"), {QStringLiteral("kept"), {}}));
    QVERIFY(stream);
    QCOMPARE(backend.state(), Backend::State::Connected);

    engine.kill(); // what a crash looks like: no goodbye
    auto lost = await(backend.fetchStream(QStringLiteral("default"), stream->sid));
    QVERIFY(!lost);
    QVERIFY(lost.error().isConnectionFailure());
    QCOMPARE(backend.state(), Backend::State::Reconnecting);
    auto stillLost = await(backend.checkConnection());
    QVERIFY(!stillLost);
    QCOMPARE(backend.state(), Backend::State::Reconnecting);

    // Same object: same credentials and data directory; the later --listen wins.
    QVERIFY(engine.start({QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(port)}));
    QCOMPARE(engine.port(), port);
    auto back = await(backend.fetchStream(QStringLiteral("default"), stream->sid));
    QVERIFY2(back, qPrintable(back ? QString() : back.error().message()));
    QCOMPARE(back->uniqueName, QStringLiteral("kept")); // acknowledged before the kill: kept
    QCOMPARE(backend.state(), Backend::State::Connected);
    QCOMPARE(states(changed),
        (QList<Backend::State>{
            Backend::State::Connected, Backend::State::Reconnecting, Backend::State::Connected}));
}

void TestRemoteBackend::connectionFromProfile()
{
    ConnectionProfile profile;
    profile.name = QStringLiteral("engine profile");
    profile.kind = ConnectionProfile::Kind::EngineAtUrl;
    profile.engineUrl = QUrl(m_engine.baseUrl());
    profile.accountSid = m_engine.accountSid();
    profile.authMethod = ConnectionProfile::AuthMethod::ApiKey;
    profile.apiKeySid = m_engine.apiKeySid();
    const RemoteConnection connection =
        RemoteConnection::fromProfile(profile, m_engine.apiKeySecret());
    QCOMPARE(connection.displayName, profile.name);
    QVERIFY(!connection.twilioCloud);
    QVERIFY(connection.credentials.hasApiKey());
    RemoteBackend backend(connection);
    QVERIFY(await(backend.checkConnection()));
    QCOMPARE(backend.state(), Backend::State::Connected);
    QCOMPARE(backend.endpoint().displayName, profile.name);

    ConnectionProfile cloud;
    cloud.name = QStringLiteral("cloud");
    cloud.kind = ConnectionProfile::Kind::TwilioAccount;
    cloud.accountSid = m_engine.accountSid();
    cloud.authMethod = ConnectionProfile::AuthMethod::AuthToken;
    cloud.region = QStringLiteral("ie1");
    const RemoteConnection twilio = RemoteConnection::fromProfile(cloud, QStringLiteral("token"));
    QVERIFY(twilio.twilioCloud);
    QVERIFY(!twilio.credentials.hasApiKey());
    QVERIFY(twilio.credentials.basicPassword() == QStringLiteral("token"));
    QCOMPARE(twilio.endpoints.restBase.toString(), QStringLiteral("https://sync.ie1.twilio.com"));
}

void TestRemoteBackend::destroyedWithRequestsInFlight()
{
    QTcpServer silent; // accepts, never answers
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    RemoteConnection connection = engineConnection(m_engine, true);
    connection.endpoints = RemoteEndpoints::engine(
        QUrl(QStringLiteral("http://127.0.0.1:%1").arg(silent.serverPort())));
    connection.rest.timeoutMs = 30000;
    auto backend = std::make_unique<RemoteBackend>(connection);
    auto fetch = backend->fetchService(m_serviceSid);
    auto remove = backend->deleteStream(m_serviceSid, QStringLiteral("s"));
    QTRY_VERIFY(silent.hasPendingConnections());
    backend.reset();
    // Settled with an error, never left hanging.
    QTRY_VERIFY(fetch.isFinished());
    QTRY_VERIFY(remove.isFinished());
    QCOMPARE(fetch.resultCount(), 1);
    QVERIFY(!fetch.result());
    QVERIFY(fetch.result().error().isConnectionFailure());
    QCOMPARE(remove.resultCount(), 1);
    QVERIFY(!remove.result());
}

void TestRemoteBackend::controlPlaneOverHttp()
{
    RemoteBackend backend(engineConnection(m_engine, true));
    checkControlPlane(backend);
    // Moved on by someone else (CI, streams-cli): the backend learns it when it asks.
    const qint64 before = backend.clockOffsetMs();
    QCOMPARE(httpExchange(m_engine.port(), "POST", "/_engine/clock", m_engine.authorization(),
                 R"({"advance_seconds":120})")
                 .status,
        200);
    QCOMPARE(backend.clockOffsetMs(), before);
    QSignalSpy changed(&backend, &Backend::clockOffsetChanged);
    backend.refreshClockOffset();
    QTRY_COMPARE(backend.clockOffsetMs(), before + 120'000);
    QCOMPARE(changed.size(), 1);
}

void TestRemoteBackend::faultMarksOverHttp()
{
    RemoteBackend backend(engineConnection(m_engine, true));
    checkFaultMarks(backend, [this](const QString &streamSid) {
        return httpExchange(m_engine.port(), "POST",
            "/v1/Services/default/Streams/" + streamSid.toLatin1() + "/Messages",
            m_engine.authorization(), "Data=%7B%7D")
            .status;
    });
    // Set by someone else: learnt when the backend asks (the faults page polls; so does a refresh).
    QCOMPARE(httpExchange(m_engine.port(), "POST", "/_engine/faults", m_engine.authorization(),
                 R"({"drop":1})")
                 .status,
        201);
    QCOMPARE(backend.faultMarks().size(), 0);
    backend.refreshFaultMarks();
    QTRY_COMPARE(backend.faultMarks().size(), 1);
    QCOMPARE(backend.faultMarks().front().summary, QStringLiteral("drop 100%"));
    QVERIFY(await(backend.control("DELETE", QStringLiteral("/_engine/faults"))));
    QTRY_COMPARE(backend.faultMarks().size(), 0);
}

void TestRemoteBackend::twiliosCloudHasNoControlPlane()
{
    RemoteConnection cloud = engineConnection(m_engine, true);
    cloud.endpoints = RemoteEndpoints::twilio();
    cloud.twilioCloud = true;
    RemoteBackend twilio(cloud);
    QVERIFY(!twilio.hasControlPlane());
    const auto refused = await(twilio.control("GET", QStringLiteral("/_engine/health")));
    QVERIFY(!refused);
    QCOMPARE(refused.error().code(), 20404);
    QVERIFY(refused.error().message().contains(QStringLiteral("no engine control plane")));
}

void TestRemoteBackend::twilioCloudConnectionThroughTheEnginesProxy()
{
    // Zero-change mode for the console itself: a "Twilio account" connection, REST at
    // https://sync.twilio.com and live delivery at wss://tsock.us1.twilio.com, reaches an engine
    // only because this process's proxy is that engine and its CA is trusted (what HTTPS_PROXY
    // and a CA variable do for Twilio's other clients). The websocket runs inside the tunnel.
    EngineProcess engine;
    QVERIFY2(engine.start(), engine.output().constData());
    // The CA as a user gets it: --show-proxy-env makes it next to the running engine.
    QProcess show;
    show.start(EngineProcess::binary(),
        {QStringLiteral("--show-proxy-env"), QStringLiteral("--data-dir"), engine.dataDir()});
    QVERIFY(show.waitForFinished(15000));
    QCOMPARE(show.exitCode(), 0);
    const auto authority =
        QSslCertificate::fromPath(engine.dataDir() + QStringLiteral("/proxy-ca.pem"));
    QCOMPARE(authority.size(), 1);

    const QNetworkProxy proxyBefore = QNetworkProxy::applicationProxy();
    const QSslConfiguration sslBefore = QSslConfiguration::defaultConfiguration();
    const auto restore = qScopeGuard([&] {
        QNetworkProxy::setApplicationProxy(proxyBefore);
        QSslConfiguration::setDefaultConfiguration(sslBefore);
    });
    QNetworkProxy::setApplicationProxy(QNetworkProxy(
        QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"), quint16(engine.port())));
    QSslConfiguration ssl = sslBefore;
    ssl.addCaCertificates(authority);
    QSslConfiguration::setDefaultConfiguration(ssl);

    RemoteConnection cloud = engineConnection(engine, true);
    cloud.endpoints = RemoteEndpoints::twilio();
    cloud.twilioCloud = true;
    cloud.rest.timeoutMs = 10000;
    RemoteBackend twilio(cloud);
    QVERIFY(twilio.liveUnavailableReason().isEmpty());

    const auto created = await(twilio.createStream(QStringLiteral("default"),
        StreamCreate{QStringLiteral("through-the-proxy"), std::nullopt}));
    QVERIFY2(created, qPrintable(created ? QString() : created.error().message()));
    QCOMPARE(twilio.state(), Backend::State::Connected);

    auto subscription = twilio.subscribe(created->serviceSid, created->sid);
    QSignalSpy failed(subscription.get(), &LiveSubscription::failed);
    QTRY_VERIFY_WITH_TIMEOUT(
        subscription->state() == LiveSubscription::State::Active || !failed.isEmpty(), 15000);
    QVERIFY2(failed.isEmpty(),
        failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).value<ApiError>().message()));
    QSignalSpy received(subscription.get(), &LiveSubscription::messagesReceived);
    const auto published = await(twilio.publish(
        created->serviceSid, created->sid, QByteArrayLiteral(R"({"via":"tsock.us1.twilio.com"})")));
    QVERIFY2(published, qPrintable(published ? QString() : published.error().message()));
    QTRY_VERIFY_WITH_TIMEOUT(!received.isEmpty(), 10000);
    const auto messages = received.at(0).at(0).value<QList<StreamMessage>>();
    QCOMPARE(messages.size(), 1);
    QCOMPARE(messages.at(0).sid, published->sid);
    QCOMPARE(messages.at(0).data, QByteArray(R"({"via":"tsock.us1.twilio.com"})"));
}

QTEST_GUILESS_MAIN(TestRemoteBackend)
#include "tst_remotebackend.moc"
