// SyncLiveChannel, the twilsock subscription manager, against real streams-engine processes:
// messages published over REST and over twilsock, several subscriptions, removal, failures,
// the engine killed and restarted under a live subscription, and cancellation.

#include "api/streammessage.h"
#include "awaitfuture.h"
#include "engineprocess.h"
#include "httpclient.h"
#include "live/livesubscription.h"
#include "remote/synclivechannel.h"
#include "waits.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>
#include <memory>

using namespace streams;
using namespace streams::testing;

namespace {

constexpr int kWaitMs = 10000;

QString str(const char *text)
{
    return QString::fromLatin1(text);
}

/// Everything one subscription reported, in order.
struct Feed
{
    explicit Feed(LiveSubscription &subscription)
    {
        QObject::connect(&subscription, &LiveSubscription::messagesReceived, &subscription,
            [this](const QList<StreamMessage> &batch, quint64) {
                messages += batch;
                ++batches;
            });
    }
    QList<QByteArray> data() const
    {
        QList<QByteArray> out;
        for (const StreamMessage &message : messages)
            out.append(message.data);
        return out;
    }

    QList<StreamMessage> messages;
    int batches = 0;
};

QByteArray numbered(int n)
{
    // Keys deliberately out of order: subscribers get the publisher's text, not a re-sorted one.
    return QStringLiteral(R"({"z":"last-first","n":%1,"a":[1,2]})").arg(n).toUtf8();
}

} // namespace

class TestSyncLiveChannel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void receivesRestAndTwilsockPublishesInOrder();
    void arrivalsAreBatched();
    void severalSubscriptionsToOneStream();
    void streamRemovedEndsTheSubscription();
    void missingStreamFails();
    void publishErrors();
    void withoutApiKeyFailsAtOnce();
    void unsubscribeCancelsOnTheServer();
    void engineKilledAndRestartedMidSubscription();

private:
    std::unique_ptr<SyncLiveChannel> channel(EngineProcess &engine, const QString &serviceSid,
        TwilsockClient::Options options = {}) const;
    static QString defaultService(EngineProcess &engine);
    static QString createStream(EngineProcess &engine, const QString &serviceSid);
    static QString restPublish(EngineProcess &engine, const QString &serviceSid,
        const QString &streamSid, const QByteArray &data);
    /// Waits until the subscription is Active; fails the test otherwise.
    static bool becomesActive(LiveSubscription &subscription);

    EngineProcess m_engine;
    QString m_service;
};

void TestSyncLiveChannel::initTestCase()
{
    QVERIFY(m_engine.start());
    m_service = defaultService(m_engine);
    QVERIFY(m_service.startsWith(u"IS"));
}

void TestSyncLiveChannel::cleanupTestCase()
{
    m_engine.stop();
}

std::unique_ptr<SyncLiveChannel> TestSyncLiveChannel::channel(
    EngineProcess &engine, const QString &serviceSid, TwilsockClient::Options options) const
{
    RemoteCredentials credentials;
    credentials.accountSid = engine.accountSid();
    credentials.apiKeySid = engine.apiKeySid();
    credentials.apiKeySecret = engine.apiKeySecret();
    return std::make_unique<SyncLiveChannel>(RemoteEndpoints::engine(QUrl(engine.baseUrl())),
        credentials, serviceSid, str("live-tester"), options);
}

QString TestSyncLiveChannel::defaultService(EngineProcess &engine)
{
    const HttpResponse response =
        httpExchange(engine.port(), "GET", "/v1/Services/default", engine.authorization());
    return response.json().value(str("sid")).toString();
}

QString TestSyncLiveChannel::createStream(EngineProcess &engine, const QString &serviceSid)
{
    const HttpResponse response = httpExchange(engine.port(), "POST",
        "/v1/Services/" + serviceSid.toLatin1() + "/Streams", engine.authorization(), {});
    if (response.status != 201)
        qWarning("creating a stream failed: %d %s", response.status, response.body.constData());
    return response.json().value(str("sid")).toString();
}

QString TestSyncLiveChannel::restPublish(EngineProcess &engine, const QString &serviceSid,
    const QString &streamSid, const QByteArray &data)
{
    const HttpResponse response = httpExchange(engine.port(), "POST",
        "/v1/Services/" + serviceSid.toLatin1() + "/Streams/" + streamSid.toLatin1() + "/Messages",
        engine.authorization(), "Data=" + QUrl::toPercentEncoding(QString::fromUtf8(data)));
    if (response.status != 201)
        qWarning("REST publish failed: %d %s", response.status, response.body.constData());
    return response.json().value(str("sid")).toString();
}

bool TestSyncLiveChannel::becomesActive(LiveSubscription &subscription)
{
    return QTest::qWaitFor(
        [&] { return subscription.state() == LiveSubscription::State::Active; }, kWaitMs);
}

void TestSyncLiveChannel::receivesRestAndTwilsockPublishesInOrder()
{
    const QString stream = createStream(m_engine, m_service);
    QVERIFY(stream.startsWith(u"TO"));
    auto publisher = channel(m_engine, m_service);
    auto watcher = channel(m_engine, m_service); // another connection: sees publishes as events
    auto own = publisher->subscribe(stream);
    auto other = watcher->subscribe(stream);
    QCOMPARE(own->state(), LiveSubscription::State::Subscribing);
    QCOMPARE(own->serviceSid(), m_service);
    QCOMPARE(own->streamSid(), stream);
    QSignalSpy ownStates(own.get(), &LiveSubscription::stateChanged);
    Feed ownFeed(*own);
    Feed otherFeed(*other);
    QVERIFY(becomesActive(*own));
    QVERIFY(becomesActive(*other));
    QCOMPARE(ownStates.size(), 1);
    QCOMPARE(publisher->client().state(), TwilsockClient::State::Connected);

    QStringList sids;
    sids << restPublish(m_engine, m_service, stream, numbered(1));
    sids << restPublish(m_engine, m_service, stream, numbered(2));
    // Two over twilsock back to back, then REST once both were accepted.
    auto third = publisher->publish(stream, numbered(3));
    auto fourth = publisher->publish(stream, numbered(4));
    const auto thirdSid = await(third);
    const auto fourthSid = await(fourth);
    QVERIFY2(thirdSid.has_value(), qPrintable(thirdSid ? QString() : thirdSid.error().message()));
    QVERIFY(fourthSid.has_value());
    QVERIFY(thirdSid->startsWith(u"TZ"));
    sids << *thirdSid << *fourthSid;
    sids << restPublish(m_engine, m_service, stream, numbered(5));

    const QList<QByteArray> expected{
        numbered(1), numbered(2), numbered(3), numbered(4), numbered(5)};
    QTRY_COMPARE_WITH_TIMEOUT(ownFeed.messages.size(), 5, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(otherFeed.messages.size(), 5, kWaitMs);
    QCOMPARE(ownFeed.data(), expected);
    QCOMPARE(otherFeed.data(), expected);
    for (int i = 0; i < 5; ++i) {
        QCOMPARE(ownFeed.messages[i].sid, sids[i]);
        QCOMPARE(otherFeed.messages[i].sid, sids[i]);
        QCOMPARE(otherFeed.messages[i].streamSid, stream);
        QCOMPARE(otherFeed.messages[i].serviceSid, m_service);
    }
    // Nothing more (the publisher's own messages are not delivered twice): a message published
    // after them all is the next one both receive.
    const QString lastSid = restPublish(m_engine, m_service, stream, numbered(6));
    QTRY_COMPARE_WITH_TIMEOUT(ownFeed.messages.size(), 6, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(otherFeed.messages.size(), 6, kWaitMs);
    QCOMPARE(ownFeed.messages.last().sid, lastSid);
    QCOMPARE(otherFeed.messages.last().sid, lastSid);
}

void TestSyncLiveChannel::arrivalsAreBatched()
{
    const QString stream = createStream(m_engine, m_service);
    auto live = channel(m_engine, m_service);
    auto subscription = live->subscribe(stream);
    Feed feed(*subscription);
    QVERIFY(becomesActive(*subscription));
    // Published while this thread is blocked in the REST calls: the notifications wait in the
    // socket and arrive in one pass of the event loop, so they come as few batches.
    constexpr int kCount = 10;
    for (int i = 0; i < kCount; ++i)
        QVERIFY(!restPublish(m_engine, m_service, stream, numbered(i)).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(feed.messages.size(), kCount, kWaitMs);
    QVERIFY2(feed.batches < kCount, qPrintable(QString::number(feed.batches)));
    for (int i = 0; i < kCount; ++i)
        QCOMPARE(feed.messages[i].data, numbered(i));
}

void TestSyncLiveChannel::severalSubscriptionsToOneStream()
{
    const QString stream = createStream(m_engine, m_service);
    auto live = channel(m_engine, m_service);
    auto first = live->subscribe(stream);
    auto second = live->subscribe(stream);
    Feed firstFeed(*first);
    Feed secondFeed(*second);
    QVERIFY(becomesActive(*first));
    QVERIFY(becomesActive(*second));
    // One more on a stream already established is active at once.
    auto third = live->subscribe(stream);
    Feed thirdFeed(*third);
    QVERIFY(becomesActive(*third));

    restPublish(m_engine, m_service, stream, numbered(1));
    QTRY_COMPARE_WITH_TIMEOUT(firstFeed.messages.size(), 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(secondFeed.messages.size(), 1, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(thirdFeed.messages.size(), 1, kWaitMs);

    // Dropping one leaves the others subscribed (no cancel while any remains).
    first.reset();
    third.reset();
    restPublish(m_engine, m_service, stream, numbered(2));
    QTRY_COMPARE_WITH_TIMEOUT(secondFeed.messages.size(), 2, kWaitMs);
    QCOMPARE(secondFeed.messages.last().data, numbered(2));
}

void TestSyncLiveChannel::streamRemovedEndsTheSubscription()
{
    const QString stream = createStream(m_engine, m_service);
    auto live = channel(m_engine, m_service);
    auto subscription = live->subscribe(stream);
    QSignalSpy removed(subscription.get(), &LiveSubscription::streamRemoved);
    QSignalSpy failed(subscription.get(), &LiveSubscription::failed);
    QVERIFY(becomesActive(*subscription));

    const HttpResponse deleted = httpExchange(m_engine.port(), "DELETE",
        "/v1/Services/" + m_service.toLatin1() + "/Streams/" + stream.toLatin1(),
        m_engine.authorization());
    QCOMPARE(deleted.status, 204);
    QVERIFY(removed.wait(kWaitMs));
    QCOMPARE(subscription->state(), LiveSubscription::State::Ended);
    QCOMPARE(failed.size(), 0);
}

void TestSyncLiveChannel::missingStreamFails()
{
    auto live = channel(m_engine, m_service);
    const QString missing = str("TO") + QString(32, u'0');
    auto subscription = live->subscribe(missing);
    QSignalSpy failed(subscription.get(), &LiveSubscription::failed);
    QVERIFY(failed.wait(kWaitMs));
    QCOMPARE(subscription->state(), LiveSubscription::State::Ended);
    const ApiError error = failed.at(0).at(0).value<ApiError>();
    QCOMPARE(error.httpStatus(), 404);
    QCOMPARE(error.code(), 20404);
    QVERIFY2(error.message().contains(missing) && error.message().contains(u"not found"),
        qPrintable(error.message()));

    // The channel itself is fine: another subscription on it works.
    const QString stream = createStream(m_engine, m_service);
    auto fine = live->subscribe(stream);
    QVERIFY(becomesActive(*fine));
}

void TestSyncLiveChannel::publishErrors()
{
    auto live = channel(m_engine, m_service);
    const auto notJson = await(live->publish(createStream(m_engine, m_service), "{not json"));
    QVERIFY(!notJson.has_value());
    QCOMPARE(notJson.error().code(), int(ApiError::InvalidJson));

    const auto missing =
        await(live->publish(str("TO") + QString(32, u'1'), QByteArrayLiteral(R"({"a":1})")));
    QVERIFY(!missing.has_value());
    QCOMPARE(missing.error().httpStatus(), 404);
    QCOMPARE(missing.error().code(), 20404);
}

void TestSyncLiveChannel::withoutApiKeyFailsAtOnce()
{
    RemoteCredentials credentials;
    credentials.accountSid = m_engine.accountSid();
    credentials.authToken = m_engine.authToken();
    SyncLiveChannel live(RemoteEndpoints::engine(QUrl(m_engine.baseUrl())), credentials, m_service);
    auto subscription = live.subscribe(createStream(m_engine, m_service));
    QCOMPARE(subscription->state(), LiveSubscription::State::Ended);
    QSignalSpy failed(subscription.get(), &LiveSubscription::failed);
    QVERIFY(failed.wait(kWaitMs));
    const ApiError error = failed.at(0).at(0).value<ApiError>();
    QVERIFY2(error.message().contains(u"need an API key"), qPrintable(error.message()));
    // Nothing was attempted on the wire.
    QCOMPARE(live.client().state(), TwilsockClient::State::Disconnected);

    const auto published = await(live.publish(str("TO") + QString(32, u'1'), "{}"));
    QVERIFY(!published.has_value());
    QVERIFY(published.error().message().contains(u"need an API key"));
}

void TestSyncLiveChannel::unsubscribeCancelsOnTheServer()
{
    const QString cancelled = createStream(m_engine, m_service);
    const QString kept = createStream(m_engine, m_service);
    auto live = channel(m_engine, m_service);
    QList<QJsonObject> events;
    QObject::connect(&live->client(), &TwilsockClient::notificationReceived, live.get(),
        [&](const QString &, const QByteArray &payload) {
            events.append(QJsonDocument::fromJson(payload).object());
        });
    const auto eventsOf = [&](const QString &type, const QString &sid) {
        return std::count_if(events.cbegin(), events.cend(), [&](const QJsonObject &event) {
            if (event.value(str("event_type")).toString() != type)
                return false;
            const QJsonObject single = event.value(str("event")).toObject();
            if (single.value(str("stream_sid")).toString() == sid)
                return true;
            const QJsonArray many = event.value(str("events")).toArray();
            return std::any_of(many.cbegin(), many.cend(), [&](const QJsonValue &value) {
                return value.toObject().value(str("object_sid")).toString() == sid;
            });
        });
    };

    auto toCancel = live->subscribe(cancelled);
    auto toKeep = live->subscribe(kept);
    Feed keptFeed(*toKeep);
    QVERIFY(becomesActive(*toCancel));
    QVERIFY(becomesActive(*toKeep));
    restPublish(m_engine, m_service, cancelled, numbered(1));
    QTRY_COMPARE_WITH_TIMEOUT(eventsOf(str("stream_message_published"), cancelled), 1, kWaitMs);

    toCancel.reset();
    // The engine confirms the cancel, and from then on sends nothing for that stream: a message
    // to the kept stream published after one to the cancelled stream arrives alone.
    QTRY_COMPARE_WITH_TIMEOUT(eventsOf(str("subscription_canceled"), cancelled), 1, kWaitMs);
    restPublish(m_engine, m_service, cancelled, numbered(2));
    restPublish(m_engine, m_service, kept, numbered(3));
    QTRY_COMPARE_WITH_TIMEOUT(keptFeed.messages.size(), 1, kWaitMs);
    QCOMPARE(eventsOf(str("stream_message_published"), cancelled), 1);
    QCOMPARE(eventsOf(str("subscription_canceled"), kept), 0);
}

void TestSyncLiveChannel::engineKilledAndRestartedMidSubscription()
{
    EngineProcess engine;
    QVERIFY(engine.start());
    const QString service = defaultService(engine);
    const QString stream = createStream(engine, service);
    QVERIFY(stream.startsWith(u"TO"));

    TwilsockClient::Options options;
    options.backoffInitialMs = 100;
    options.backoffMaxMs = 400;
    auto live = channel(engine, service, options);
    auto subscription = live->subscribe(stream);
    Feed feed(*subscription);
    QSignalSpy interrupted(subscription.get(), &LiveSubscription::interrupted);
    QSignalSpy resumed(subscription.get(), &LiveSubscription::resumed);
    QSignalSpy failed(subscription.get(), &LiveSubscription::failed);
    QSignalSpy clientDrops(&live->client(), &TwilsockClient::disconnected);
    QVERIFY(becomesActive(*subscription));
    QVERIFY(!restPublish(engine, service, stream, numbered(1)).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(feed.messages.size(), 1, kWaitMs);

    const QDateTime beforeKill = QDateTime::currentDateTimeUtc();
    engine.kill();
    QVERIFY(interrupted.wait(kWaitMs));
    QCOMPARE(subscription->state(), LiveSubscription::State::Subscribing);
    QVERIFY(interrupted.at(0).at(0).value<ApiError>().isConnectionFailure());
    // Let it fail to reconnect a few times (refused) before the engine is back.
    QTRY_VERIFY_WITH_TIMEOUT(clientDrops.size() >= 3, kWaitMs);
    QCOMPARE(live->client().state(), TwilsockClient::State::Reconnecting);

    QVERIFY(engine.restart());
    QVERIFY(resumed.wait(kWaitMs));
    QCOMPARE(subscription->state(), LiveSubscription::State::Active);
    QCOMPARE(interrupted.size(), 1); // one gap, however many attempts it took
    const QDateTime gapStart = resumed.at(0).at(0).toDateTime();
    const QDateTime gapEnd = resumed.at(0).at(1).toDateTime();
    QVERIFY(gapStart.isValid() && gapEnd.isValid());
    QVERIFY(gapStart >= beforeKill.addMSecs(-1000));
    QVERIFY(gapStart < gapEnd);

    // Published after the resume, over REST and over twilsock (the cached descriptor is still
    // right: same port, same stored stream).
    QVERIFY(!restPublish(engine, service, stream, numbered(2)).isEmpty());
    const auto overTwilsock = await(live->publish(stream, numbered(3)));
    QVERIFY2(overTwilsock.has_value(),
        qPrintable(overTwilsock ? QString() : overTwilsock.error().message()));
    QTRY_COMPARE_WITH_TIMEOUT(feed.messages.size(), 3, kWaitMs);
    QCOMPARE(feed.data(), (QList<QByteArray>{numbered(1), numbered(2), numbered(3)}));
    QCOMPARE(failed.size(), 0);
    engine.stop();
}

QTEST_GUILESS_MAIN(TestSyncLiveChannel)
#include "tst_synclivechannel.moc"
