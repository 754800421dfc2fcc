// RepeatPublisher against real embedded engines: one unlimited, one limited to 2 messages/s
// (a 20-message burst budget), where 429s must be met with back-off and retries until every
// message has arrived exactly once.

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "live/livesubscription.h"
#include "ui/stream/repeatpublisher.h"

#include <QFutureWatcher>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using streams::testing::await;
using streams::testing::startEmbeddedEngine;

namespace {

// An engine of its own, with a stream to publish to and a subscriber collecting what arrives.
struct Fixture
{
    QTemporaryDir dir;
    std::unique_ptr<LocalBackend> backend;
    QString serviceSid;
    QString streamSid;
    std::unique_ptr<LiveSubscription> subscription;
    QList<QJsonObject> received;

    QString start(std::optional<double> rate)
    {
        auto started = startEmbeddedEngine(dir.path(), rate);
        if (!started)
            return started.error();
        backend = std::move(*started);
        const auto service = await(backend->fetchService(QStringLiteral("default")));
        if (!service)
            return service.error().message();
        serviceSid = service->sid;
        const auto stream = await(backend->createStream(serviceSid, {}));
        if (!stream)
            return stream.error().message();
        streamSid = stream->sid;
        subscription = backend->subscribe(serviceSid, streamSid);
        QObject::connect(subscription.get(), &LiveSubscription::messagesReceived,
            [this](const QList<StreamMessage> &messages, quint64) {
                for (const StreamMessage &message : messages)
                    received.append(QJsonDocument::fromJson(message.data).object());
            });
        QSignalSpy active(subscription.get(), &LiveSubscription::stateChanged);
        if (subscription->state() != LiveSubscription::State::Active && !active.wait(10000))
            return QStringLiteral("subscription never became active");
        return {};
    }

    // The `n` of every received message that has one, in arrival order.
    QList<qint64> counters() const
    {
        QList<qint64> result;
        for (const QJsonObject &object : received) {
            if (object.contains(u"n"))
                result.append(qint64(object.value(u"n").toDouble()));
        }
        return result;
    }
};

QList<qint64> oneTo(qint64 n)
{
    QList<qint64> list;
    for (qint64 i = 1; i <= n; ++i)
        list.append(i);
    return list;
}

} // namespace

class TestRepeatPublisher final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void publishesAllInCounterOrderWhenUnlimited();
    void refusesWhatCannotWork_data();
    void refusesWhatCannotWork();
    void cancelStopsSending();
    void missingStreamAbortsTheRun();
    void budgetAndWarningFollowTheLimit();
    void backsOffOn429AndDeliversEveryMessage();

private:
    Fixture m_unlimited;
    Fixture m_limited;
};

void TestRepeatPublisher::initTestCase()
{
    const QString unlimited = m_unlimited.start(std::nullopt);
    QVERIFY2(unlimited.isEmpty(), qPrintable(unlimited));
    const QString limited = m_limited.start(2.0);
    QVERIFY2(limited.isEmpty(), qPrintable(limited));
    QCOMPARE(m_limited.backend->publishRatePerSecond(), std::optional<double>(2.0));
}

void TestRepeatPublisher::publishesAllInCounterOrderWhenUnlimited()
{
    m_unlimited.received.clear();
    RepeatPublisher publisher(*m_unlimited.backend);
    publisher.setStream(m_unlimited.serviceSid, m_unlimited.streamSid);
    QSignalSpy finished(&publisher, &RepeatPublisher::finished);
    QSignalSpy published(&publisher, &RepeatPublisher::messagePublished);
    QSignalSpy progress(&publisher, &RepeatPublisher::progressChanged);

    const auto started =
        publisher.start(QStringLiteral(R"({"n": {{counter}}, "at": "{{now}}"})"), 20, 50);
    QVERIFY2(started, qPrintable(started ? QString() : started.error()));
    QVERIFY(publisher.isRunning());
    QVERIFY(publisher.inFlight() <= RepeatPublisher::kMaxInFlight);

    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 10000);
    QCOMPARE(finished.first().first().toBool(), true);
    QCOMPARE(publisher.sent(), 20);
    QCOMPARE(publisher.failed(), 0);
    QCOMPARE(publisher.remaining(), 0);
    QCOMPARE(publisher.rateLimitedCount(), 0);
    QCOMPARE(published.size(), 20);
    QCOMPARE(progress.last().at(0).toInt(), 20); // sent
    QCOMPARE(progress.last().at(3).toInt(), 0); // remaining

    QTRY_COMPARE_WITH_TIMEOUT(m_unlimited.counters().size(), 20, 10000);
    QCOMPARE(m_unlimited.counters(), oneTo(20));
    for (const QJsonObject &object : std::as_const(m_unlimited.received))
        QVERIFY(object.value(u"at").toString().endsWith(u'Z'));
}

void TestRepeatPublisher::refusesWhatCannotWork_data()
{
    QTest::addColumn<bool>("withStream");
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("count");
    QTest::addColumn<QString>("reason");

    QTest::addRow("no stream") << false << QStringLiteral(R"({"n": 1})") << 3
                               << QStringLiteral("No stream selected");
    QTest::addRow("no messages") << true << QStringLiteral(R"({"n": 1})") << 0
                                 << QStringLiteral("Count must be at least 1");
    QTest::addRow("not JSON") << true << QStringLiteral(R"({"n": )") << 3
                              << QStringLiteral("at line 1, column");
    QTest::addRow("an array") << true << QStringLiteral("[{{counter}}]") << 3
                              << QStringLiteral("Data must be a JSON object");
    QTest::addRow("unknown placeholder") << true << QStringLiteral(R"({"n": {{count}}})") << 3
                                         << QStringLiteral("Unknown placeholder {{count}}");
    // Fits for message 1, too large by message 10.
    QTest::addRow("too large at the last counter")
        << true << QStringLiteral(R"({"f": "%1", "n": {{counter}}})").arg(QString(4096 - 14, u'x'))
        << 10 << QStringLiteral("Message 10: ");
}

void TestRepeatPublisher::refusesWhatCannotWork()
{
    QFETCH(bool, withStream);
    QFETCH(QString, text);
    QFETCH(int, count);
    QFETCH(QString, reason);

    RepeatPublisher publisher(*m_unlimited.backend);
    if (withStream)
        publisher.setStream(m_unlimited.serviceSid, m_unlimited.streamSid);
    QSignalSpy running(&publisher, &RepeatPublisher::runningChanged);
    const auto started = publisher.start(text, count, 10);
    QVERIFY(!started);
    QVERIFY2(started.error().contains(reason), qPrintable(started.error()));
    QVERIFY(!publisher.isRunning());
    QCOMPARE(running.size(), 0);
}

void TestRepeatPublisher::cancelStopsSending()
{
    RepeatPublisher publisher(*m_unlimited.backend);
    publisher.setStream(m_unlimited.serviceSid, m_unlimited.streamSid);
    QSignalSpy published(&publisher, &RepeatPublisher::messagePublished);
    QSignalSpy finished(&publisher, &RepeatPublisher::finished);
    QVERIFY(publisher.start(QStringLiteral(R"({"c": {{counter}}})"), 1000, 20));
    QTRY_VERIFY_WITH_TIMEOUT(published.size() >= 3, 10000);

    publisher.cancel();
    QVERIFY(!publisher.isRunning());
    QCOMPARE(finished.size(), 1);
    QCOMPARE(finished.first().first().toBool(), false);
    const int sentAtCancel = publisher.sent();
    QVERIFY(publisher.remaining() > 0);
    // Nothing more goes out, and late answers are not counted.
    QVERIFY(!published.wait(500));
    QCOMPARE(publisher.sent(), sentAtCancel);
    QCOMPARE(publisher.sent() + publisher.failed() + publisher.remaining(), 1000);
}

void TestRepeatPublisher::missingStreamAbortsTheRun()
{
    const auto stream = await(m_unlimited.backend->createStream(m_unlimited.serviceSid, {}));
    QVERIFY(stream);
    QVERIFY(await(m_unlimited.backend->deleteStream(m_unlimited.serviceSid, stream->sid)));

    RepeatPublisher publisher(*m_unlimited.backend);
    publisher.setStream(m_unlimited.serviceSid, stream->sid);
    QSignalSpy failed(&publisher, &RepeatPublisher::messageFailed);
    QSignalSpy finished(&publisher, &RepeatPublisher::finished);
    QVERIFY(publisher.start(QStringLiteral(R"({"n": {{counter}}})"), 50, 100));
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 10000);
    QCOMPARE(finished.first().first().toBool(), false);
    QVERIFY(publisher.abortError().has_value());
    QCOMPARE(publisher.abortError()->code(), int(ApiError::NotFound));
    // Reported, not swallowed: the failure is counted and the rest is shown as not sent.
    QVERIFY(!failed.isEmpty());
    QCOMPARE(failed.first().at(1).value<ApiError>().code(), int(ApiError::NotFound));
    QCOMPARE(publisher.sent(), 0);
    QVERIFY(publisher.remaining() > 0);
}

void TestRepeatPublisher::budgetAndWarningFollowTheLimit()
{
    RepeatPublisher unlimited(*m_unlimited.backend);
    QCOMPARE(unlimited.limitRate(), std::nullopt);
    QCOMPARE(unlimited.budgetText(), QStringLiteral("budget: unlimited"));
    QVERIFY(unlimited.rateWarning(1000).isEmpty());

    RepeatPublisher limited(*m_limited.backend);
    limited.setStream(m_limited.serviceSid, QStringLiteral("budget-probe"));
    QCOMPARE(limited.limitRate(), std::optional<double>(2.0));
    QCOMPARE(limited.budgetCapacity(), 20.0);
    QCOMPARE(limited.budgetText(), QStringLiteral("budget: 20/20, refills 2/s"));
    QVERIFY(limited.rateWarning(2).isEmpty());
    QVERIFY(limited.rateWarning(1.5).isEmpty());
    const QString warning = limited.rateWarning(50);
    QVERIFY2(warning.contains(QStringLiteral("50/s")) && warning.contains(QStringLiteral("2/s")),
        qPrintable(warning));

    // Publishes from elsewhere (the Publish button) draw on the same estimate...
    QSignalSpy budget(&limited, &RepeatPublisher::budgetChanged);
    limited.noteExternalPublish(false);
    QVERIFY(limited.budgetAvailable() < 19.5);
    QVERIFY(!budget.isEmpty());
    // ...and a 429 empties it, after which it refills at the stream's rate.
    limited.noteExternalPublish(true);
    QVERIFY(limited.budgetAvailable() < 1.0);
    QTRY_VERIFY_WITH_TIMEOUT(limited.budgetAvailable() >= 1.0, 5000);
}

void TestRepeatPublisher::backsOffOn429AndDeliversEveryMessage()
{
    // Someone else has used 15 of the stream's 20-message budget, so the publisher's estimate
    // (a full bucket) is wrong and the service answers 429 soon into the run.
    for (int i = 0; i < 15; ++i) {
        const auto other = await(m_limited.backend->publish(m_limited.serviceSid,
            m_limited.streamSid, QByteArray(R"({"other":)") + QByteArray::number(i) + '}'));
        QVERIFY2(other, qPrintable(other ? QString() : other.error().message()));
    }
    m_limited.received.clear();

    RepeatPublisher publisher(*m_limited.backend);
    publisher.setStream(m_limited.serviceSid, m_limited.streamSid);
    QSignalSpy backingOff(&publisher, &RepeatPublisher::backingOff);
    QSignalSpy failed(&publisher, &RepeatPublisher::messageFailed);
    QSignalSpy finished(&publisher, &RepeatPublisher::finished);
    int maxInFlight = 0;
    connect(&publisher, &RepeatPublisher::progressChanged, this,
        [&] { maxInFlight = qMax(maxInFlight, publisher.inFlight()); });

    QVERIFY(publisher.start(QStringLiteral(R"({"n": {{counter}}})"), 30, 100));
    // 30 messages at 2/s once the budget is gone: about 13 s, plus back-off slack.
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 90000);
    QCOMPARE(finished.first().first().toBool(), true);
    QCOMPARE(failed.size(), 0);
    QCOMPARE(publisher.sent(), 30);
    QCOMPARE(publisher.failed(), 0);
    QVERIFY2(publisher.rateLimitedCount() > 0, "the engine never said 429");
    QVERIFY(publisher.retried() > 0);
    QVERIFY(!backingOff.isEmpty());
    const int firstDelay = backingOff.first().first().toInt();
    QVERIFY2(firstDelay >= RepeatPublisher::kInitialBackoffMs / 2
            && firstDelay <= RepeatPublisher::kInitialBackoffMs,
        qPrintable(QString::number(firstDelay)));
    for (const QList<QVariant> &args : std::as_const(backingOff))
        QVERIFY(args.first().toInt() <= RepeatPublisher::kMaxBackoffMs);
    QVERIFY(maxInFlight <= RepeatPublisher::kMaxInFlight);

    // Every counter exactly once.
    QTRY_COMPARE_WITH_TIMEOUT(m_limited.counters().size(), 30, 10000);
    QList<qint64> counters = m_limited.counters();
    std::sort(counters.begin(), counters.end());
    QCOMPARE(counters, oneTo(30));
}

QTEST_MAIN(TestRepeatPublisher)
#include "tst_repeatpublisher.moc"
