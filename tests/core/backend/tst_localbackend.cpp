// LocalBackend: the embedded engine behind the async Backend seam, on its own thread.

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "controlplanechecks.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "host/enginehost.h"
#include "httpclient.h"
#include "live/livesubscription.h"

#include <QFutureWatcher>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <tuple>

using namespace streams;
using namespace streams::testing;

class TestLocalBackend final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void resultsArriveOnTheCallersThread();
    void crudThroughTheSeam();
    void subscriptionReceivesInProcessAndRestPublishes();
    void restDeleteEndsSubscriptionAndSignalsRemoval();
    void subscribingToAMissingStreamFails();
    void destroyingASubscriptionUnderLoadIsSafe();
    void liveConnectionLimitsReachTheEngine();
    void controlPlaneInProcess();
    void faultMarksFollowTheEngine();
    void publishFaultsRefuseInProcessPublishes();

private:
    /// The engine's own credentials, as the user's code sends them over HTTP.
    QByteArray authorization() const
    {
        return basicAuthorization(m_backend->endpoint().accountSid, m_backend->authToken());
    }

    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_backend;
    QString m_serviceSid;
};

void TestLocalBackend::initTestCase()
{
    auto backend = startEmbeddedEngine(m_dir.path());
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    m_backend = std::move(*backend);
    QVERIFY(m_backend->host().listening().port != 0);
    const auto service = await(m_backend->fetchService(QStringLiteral("default")));
    QVERIFY(service);
    m_serviceSid = service->sid;
}

void TestLocalBackend::cleanupTestCase()
{
    m_backend.reset();
}

void TestLocalBackend::resultsArriveOnTheCallersThread()
{
    QThread *engineThread = nullptr;
    m_backend->host().run([&engineThread](Engine &) { engineThread = QThread::currentThread(); });
    QThread *continuationThread = nullptr;
    bool done = false;
    m_backend->listServices({}).then(this, [&](const ApiResult<Page<Service>> &page) {
        continuationThread = QThread::currentThread();
        done = page.has_value();
    });
    QTRY_VERIFY(done);
    QCOMPARE(continuationThread, QThread::currentThread());
    QVERIFY(engineThread != nullptr);
    QVERIFY(engineThread != QThread::currentThread());
}

void TestLocalBackend::crudThroughTheSeam()
{
    auto stream = await(m_backend->createStream(m_serviceSid, {QStringLiteral("seam"), 60}));
    QVERIFY(stream);
    QCOMPARE(stream->uniqueName, QStringLiteral("seam"));
    QVERIFY(stream->dateExpires.has_value());

    auto duplicate = await(m_backend->createStream(m_serviceSid, {QStringLiteral("seam"), {}}));
    QVERIFY(!duplicate);
    QCOMPARE(duplicate.error().code(), 54301);

    auto updated = await(m_backend->updateStream(m_serviceSid, QStringLiteral("seam"), 0));
    QVERIFY(updated);
    QVERIFY(!updated->dateExpires);

    auto page = await(m_backend->listStreams(m_serviceSid, {}));
    QVERIFY(page);
    QVERIFY(std::any_of(page->items.cbegin(), page->items.cend(),
        [&](const Stream &s) { return s.sid == stream->sid; }));

    auto bad = await(m_backend->publish(m_serviceSid, stream->sid, "[1]"));
    QVERIFY(!bad);
    QCOMPARE(bad.error().code(), 54008);

    QVERIFY(await(m_backend->deleteStream(m_serviceSid, stream->sid)));
    auto gone = await(m_backend->fetchStream(m_serviceSid, stream->sid));
    QVERIFY(!gone);
    QCOMPARE(gone.error().code(), 20404);
}

void TestLocalBackend::subscriptionReceivesInProcessAndRestPublishes()
{
    auto stream = await(m_backend->createStream(m_serviceSid, {QStringLiteral("live"), {}}));
    QVERIFY(stream);
    auto subscription = m_backend->subscribe(m_serviceSid, stream->sid);
    QSignalSpy received(subscription.get(), &LiveSubscription::messagesReceived);
    QTRY_COMPARE(subscription->state(), LiveSubscription::State::Active);

    QVERIFY(await(m_backend->publish(m_serviceSid, stream->sid, R"({"from":"seam"})")));

    // The engine also listens on loopback: a publish from "the user's code" reaches the console.
    const HttpResponse rest = httpExchange(m_backend->host().listening().port, "POST",
        "/v1/Services/default/Streams/live/Messages", authorization(),
        "Data=%7B%22from%22%3A%22rest%22%7D");
    QCOMPARE(rest.status, 201);

    QList<StreamMessage> messages;
    QTRY_VERIFY([&] {
        for (const QList<QVariant> &args : std::as_const(received))
            messages += args.at(0).value<QList<StreamMessage>>();
        received.clear();
        return messages.size() >= 2;
    }());
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(0).data, QByteArray(R"({"from":"seam"})"));
    QCOMPARE(messages.at(1).data, QByteArray(R"({"from":"rest"})"));
    QCOMPARE(messages.at(1).sid, rest.json().value(QStringLiteral("sid")).toString());
}

void TestLocalBackend::restDeleteEndsSubscriptionAndSignalsRemoval()
{
    auto stream = await(m_backend->createStream(m_serviceSid, {QStringLiteral("doomed"), {}}));
    QVERIFY(stream);
    auto subscription = m_backend->subscribe(m_serviceSid, stream->sid);
    QSignalSpy ended(subscription.get(), &LiveSubscription::streamRemoved);
    QSignalSpy removed(m_backend.get(), &Backend::streamRemoved);
    QTRY_COMPARE(subscription->state(), LiveSubscription::State::Active);

    QCOMPARE(httpExchange(m_backend->host().listening().port, "DELETE",
                 "/v1/Services/default/Streams/doomed", authorization())
                 .status,
        204);
    QTRY_COMPARE(ended.size(), 1);
    QTRY_COMPARE(removed.size(), 1);
    QCOMPARE(removed.at(0).at(1).toString(), stream->sid);
    QCOMPARE(subscription->state(), LiveSubscription::State::Ended);
}

void TestLocalBackend::subscribingToAMissingStreamFails()
{
    auto subscription =
        m_backend->subscribe(m_serviceSid, QStringLiteral("TO00000000000000000000000000000000"));
    QSignalSpy failed(subscription.get(), &LiveSubscription::failed);
    QTRY_COMPARE(failed.size(), 1);
    QCOMPARE(failed.at(0).at(0).value<ApiError>().code(), 20404);
}

void TestLocalBackend::destroyingASubscriptionUnderLoadIsSafe()
{
    auto stream = await(m_backend->createStream(m_serviceSid, {QStringLiteral("churn"), {}}));
    QVERIFY(stream);
    // Publish continuously on the engine thread while subscriptions come and go here. The pump
    // re-queues itself until told to stop, and says when it has.
    struct Pump
    {
        std::atomic<bool> stop = false;
        std::atomic<bool> stopped = false;
        std::function<void(Engine &)> step;
    };
    auto pump = std::make_shared<Pump>();
    EngineHost &host = m_backend->host();
    const QString service = m_serviceSid, streamSid = stream->sid;
    pump->step = [weak = std::weak_ptr<Pump>(pump), &host, service, streamSid](Engine &engine) {
        const auto self = weak.lock();
        if (!self)
            return;
        for (int i = 0; i < 200; ++i) // a flood: the ones the rate limit refuses do not matter
            std::ignore = engine.publish(service, streamSid, QByteArrayView(R"({"n":1})"));
        if (self->stop)
            self->stopped = true;
        else
            host.run(self->step);
    };
    host.run(pump->step);
    for (int round = 0; round < 50; ++round) {
        auto subscription = m_backend->subscribe(m_serviceSid, stream->sid);
        // Destroyed once wake-ups reach it: the first batch of messages has come, and more are
        // queued against it.
        QSignalSpy received(subscription.get(), &LiveSubscription::messagesReceived);
        QVERIFY(received.wait(10000));
    }
    pump->stop = true;
    QTRY_VERIFY(pump->stopped);
    QTRY_COMPARE(m_backend->host().hub().subscriberCount(stream->sid), 0);
}

void TestLocalBackend::liveConnectionLimitsReachTheEngine()
{
    // The console's --subscriber-buffer, --slow-subscriber-timeout and --subscriber-queue go
    // through LocalBackend::start to the engine's twilsock server.
    QTemporaryDir dir;
    EngineOptions options;
    options.dataDir = dir.path();
    options.environment = QProcessEnvironment();
    TwilsockOptions limits;
    limits.sendBufferLimit = 64 * 1024;
    limits.stallTimeout = std::chrono::milliseconds(1500);
    limits.maxUnsentBytes = 1024 * 1024;
    auto backend = LocalBackend::start(options, QHostAddress::LocalHost, 0, limits);
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    const TwilsockOptions &used = (*backend)->host().twilsockOptions();
    QCOMPARE(used.sendBufferLimit, limits.sendBufferLimit);
    QCOMPARE(used.stallTimeout, limits.stallTimeout);
    QCOMPARE(used.maxUnsentBytes, limits.maxUnsentBytes);
}

void TestLocalBackend::controlPlaneInProcess()
{
    // Answered on the engine's thread without HTTP, as the same JSON an HTTP client gets.
    checkControlPlane(*m_backend);
}

void TestLocalBackend::faultMarksFollowTheEngine()
{
    const quint16 port = m_backend->host().listening().port;
    checkFaultMarks(*m_backend, [&](const QString &streamSid) {
        return httpExchange(port, "POST",
            "/v1/Services/default/Streams/" + streamSid.toLatin1() + "/Messages", authorization(),
            "Data=%7B%7D")
            .status;
    });
    // Rules set by anyone else (CI over HTTP, streams-cli) reach the embedded engine's backend
    // without asking.
    QSignalSpy changed(m_backend.get(), &Backend::faultMarksChanged);
    const HttpResponse added = httpExchange(m_backend->host().listening().port, "POST",
        "/_engine/faults", authorization(), R"({"stream":"*","reorder_window":4})");
    QCOMPARE(added.status, 201);
    QTRY_COMPARE(m_backend->faultMarks().size(), 1);
    QCOMPARE(m_backend->faultMarks().front().summary, QStringLiteral("reorder 4"));
    QCOMPARE(changed.size(), 1);
    QCOMPARE(httpExchange(
                 m_backend->host().listening().port, "DELETE", "/_engine/faults", authorization())
                 .status,
        204);
    QTRY_COMPARE(m_backend->faultMarks().size(), 0);
}

void TestLocalBackend::publishFaultsRefuseInProcessPublishes()
{
    // "Fail the next N publishes" means the console's own too, not only the user's code's.
    const auto stream =
        await(m_backend->createStream(QStringLiteral("default"), {QStringLiteral("refusing"), {}}));
    QVERIFY(stream);
    QVERIFY(await(m_backend->control("POST", QStringLiteral("/_engine/faults"),
        R"({"stream":"refusing","rest_error":{"status":429,"code":54009,"count":2,"method":"POST","on":"messages"}})")));
    for (int i = 0; i < 2; ++i) {
        const auto refused =
            await(m_backend->publish(QStringLiteral("default"), stream->sid, R"({"n":1})"));
        QVERIFY(!refused);
        QCOMPARE(refused.error().httpStatus(), 429);
        QCOMPARE(refused.error().code(), 54009);
    }
    QVERIFY(await(m_backend->publish(QStringLiteral("default"), stream->sid, R"({"n":2})")));
    // A rule on streams only leaves publishes alone.
    QVERIFY(await(m_backend->control("POST", QStringLiteral("/_engine/faults"),
        R"({"stream":"refusing","rest_error":{"status":503,"on":"streams"}})")));
    QVERIFY(await(m_backend->publish(QStringLiteral("default"), stream->sid, R"({"n":3})")));
    QVERIFY(await(m_backend->control("DELETE", QStringLiteral("/_engine/faults"))));
}

QTEST_GUILESS_MAIN(TestLocalBackend)
#include "tst_localbackend.moc"
