// StreamReplay and MessageRecording: recordings as the live view and `streams-cli subscribe` write
// them are read whole (errors name the line) and published into a real embedded engine, in order,
// at the recorded pace or as fast as the stream's rate limit allows, through its 429s (the
// embedded engine's own limit, and an engine at a URL refusing publishes by a fault rule).

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "backend/messagerecording.h"
#include "backend/remotebackend.h"
#include "backend/streamreplay.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "engineprocess.h"
#include "engineprofile.h"
#include "live/livesubscription.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using namespace streams::testing;
using namespace Qt::StringLiterals;

class TestStreamReplay final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void parse_data();
    void parse();
    void readsALargeFileOnAWorker();
    void recordedPaceTenTimesKeepsOrderAndGaps();
    void asFastAsAllowedRetriesRateLimitedMessages();
    void cancelStopsMidway();
    void otherErrorsStopAtTheLine();
    void nothingToReplayCompletes();
    void remoteRefusalsAreSentAgain();

private:
    /// An engine whose streams allow `rate` publishes per second (none: unlimited), a stream
    /// on it, and a live subscription to that stream that records arrivals.
    void startEngine(std::optional<double> rate);
    /// Records what `subscription` delivers in m_received.
    void recordArrivals(LiveSubscription *subscription);
    /// The `n` member of each replayed message received so far.
    QList<int> receivedNumbers() const;
    /// Runs `replay` to its end and gives its result.
    void run(StreamReplay &replay, StreamReplay::Result &result);

    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_backend;
    std::unique_ptr<LiveSubscription> m_subscription;
    QString m_serviceSid;
    QString m_streamSid;
    QElapsedTimer m_clock;
    QList<std::pair<qint64, QByteArray>> m_received; // (ms on m_clock, data)
};

void TestStreamReplay::init()
{
    m_received.clear();
    m_clock.start();
}

void TestStreamReplay::cleanup()
{
    m_subscription.reset();
    m_backend.reset();
}

void TestStreamReplay::startEngine(std::optional<double> rate)
{
    auto backend = startEmbeddedEngine(
        m_dir.filePath(QString::fromLatin1(QTest::currentTestFunction())), rate);
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    m_backend = std::move(*backend);
    const auto service = await(m_backend->fetchService(u"default"_s));
    QVERIFY(service);
    m_serviceSid = service->sid;
    const auto stream = await(m_backend->createStream(m_serviceSid, {u"replayed"_s, {}}));
    QVERIFY(stream);
    m_streamSid = stream->sid;
    m_subscription = m_backend->subscribe(m_serviceSid, m_streamSid);
    recordArrivals(m_subscription.get());
    QTRY_COMPARE(m_subscription->state(), LiveSubscription::State::Active);
}

void TestStreamReplay::recordArrivals(LiveSubscription *subscription)
{
    connect(subscription, &LiveSubscription::messagesReceived, this,
        [this](const QList<StreamMessage> &messages, quint64 dropped) {
            QCOMPARE(dropped, 0u);
            for (const StreamMessage &message : messages)
                m_received.append({m_clock.elapsed(), message.data});
        });
}

QList<int> TestStreamReplay::receivedNumbers() const
{
    QList<int> numbers;
    for (const auto &[at, data] : m_received) {
        const QJsonObject object = QJsonDocument::fromJson(data).object();
        if (object.contains(u"n"_s))
            numbers.append(object.value(u"n"_s).toInt());
    }
    return numbers;
}

void TestStreamReplay::run(StreamReplay &replay, StreamReplay::Result &result)
{
    bool finished = false;
    connect(&replay, &StreamReplay::finished, this, [&](const StreamReplay::Result &r) {
        result = r;
        finished = true;
    });
    // QSignalSpy::wait() runs a real event loop; QTRY_* would sleep 10 ms between its turns,
    // and a replay takes a turn per message.
    QSignalSpy spy(&replay, &StreamReplay::finished);
    replay.start();
    // Generous: the rate-limited case takes a few seconds by design.
    QVERIFY(finished || spy.wait(600'000));
}

namespace {
QList<MessageRecording::Record> numbered(int count, qint64 gapMs)
{
    QList<MessageRecording::Record> records;
    for (int n = 0; n < count; ++n)
        records.append({n + 1, 1'714'564'800'000 + n * gapMs, u"{\"n\":%1}"_s.arg(n).toUtf8()});
    return records;
}
} // namespace

void TestStreamReplay::parse_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<qint64>>("lines"); // of the records read, when valid
    QTest::addColumn<QByteArray>("firstData");
    QTest::addColumn<qint64>("firstReceivedMs");
    QTest::addColumn<QString>("problem"); // Problem::text(), when not

    const qint64 at = 1'714'564'800'123; // 2024-05-01T12:00:00.123Z
    QTest::addRow("live view export")
        << R"({"sid":"TZ1","received":"2024-05-01T12:00:00.123Z","data":{"b":1,"a":2.50}})"
           "\n"
           R"({"sid":"TZ2","received":"2024-05-01T12:00:01.000Z","data":{}})"
           "\n"_ba
        << QList<qint64>{1, 2} << R"({"b":1,"a":2.50})"_ba << at << QString();
    QTest::addRow("streams-cli subscribe")
        << R"({"sid":"TZ1","received_at":"2024-05-01T12:00:00Z","data":{"x":"é"}})"
           "\n"_ba
        << QList<qint64>{1} << R"({"x":"é"})"_ba << at - 123 << QString();
    QTest::addRow("blank lines, CRLF, no final newline, BOM")
        << "\xEF\xBB\xBF\r\n{\"data\":{\"n\":1}}\r\n\n  \n{\"data\": { \"n\" : 2 }}"_ba
        << QList<qint64>{2, 5} << R"({"n":1})"_ba << qint64(-1) << QString();
    QTest::addRow("bad json names line and column")
        << "{\"data\":{}}\n\n{\"data\":{\"a\":1,}}\n"_ba << QList<qint64>{} << QByteArray()
        << qint64(-1) << u"line 3, column 17: "_s;
    QTest::addRow("data not an object")
        << "{\"data\":{}}\n{\"data\":\"text\"}\n"_ba << QList<qint64>{} << QByteArray()
        << qint64(-1) << u"line 2: \"data\" must be a JSON object"_s;
    QTest::addRow("no data") << "{\"sid\":\"TZ1\"}\n"_ba << QList<qint64>{} << QByteArray()
                             << qint64(-1) << u"line 1: no \"data\" member"_s;
    QTest::addRow("line not an object") << "[1]\n"_ba << QList<qint64>{} << QByteArray()
                                        << qint64(-1) << u"line 1: not a JSON object"_s;
    QTest::addRow("data too large")
        << (R"({"data":{"s":")" + QByteArray(5000, 'x') + "\"}}\n") << QList<qint64>{}
        << QByteArray() << qint64(-1) << u"line 1: data: "_s;
    QTest::addRow("bad time") << "{\"received\":\"yesterday\",\"data\":{}}\n"_ba << QList<qint64>{}
                              << QByteArray() << qint64(-1) << u"line 1: \"received\" must be"_s;
    QTest::addRow("empty") << "\n\n"_ba << QList<qint64>{} << QByteArray() << qint64(-1)
                           << u"no messages in the file"_s;
}

void TestStreamReplay::parse()
{
    QFETCH(QByteArray, text);
    QFETCH(QList<qint64>, lines);
    QFETCH(QByteArray, firstData);
    QFETCH(qint64, firstReceivedMs);
    QFETCH(QString, problem);

    const MessageRecording::Result result = MessageRecording::parse(text);
    if (!problem.isEmpty()) {
        QVERIFY(!result);
        QVERIFY2(result.error().text().startsWith(problem), qPrintable(result.error().text()));
        return;
    }
    QVERIFY2(result, qPrintable(result ? QString() : result.error().text()));
    QList<qint64> read;
    for (const MessageRecording::Record &record : *result)
        read.append(record.line);
    QCOMPARE(read, lines);
    QCOMPARE(result->first().data, firstData);
    QCOMPARE(result->first().receivedMs, firstReceivedMs);
}

void TestStreamReplay::readsALargeFileOnAWorker()
{
    const QString path = m_dir.filePath(u"large.ndjson"_s);
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    constexpr int kLines = 100'000;
    QByteArray chunk;
    for (int n = 0; n < kLines; ++n) {
        chunk += R"({"sid":"TZ1","received":"2024-05-01T12:00:00.123Z","data":{"n":)"
            + QByteArray::number(n) + "}}\n";
        if (chunk.size() > 1 << 20) {
            QCOMPARE(file.write(chunk), chunk.size());
            chunk.clear();
        }
    }
    // A bad last line: the whole file is read before anything could be published.
    chunk += "{\"data\":{\"n\":}}\n";
    QCOMPARE(file.write(chunk), chunk.size());
    file.close();

    QFuture<MessageRecording::Result> future = MessageRecording::read(path);
    const MessageRecording::Result result = await(future);
    QVERIFY(!result);
    QCOMPARE(result.error().line, kLines + 1);
    QCOMPARE(result.error().column, 15); // where Qt stops, as the composer shows it

    const auto missing = await(MessageRecording::read(m_dir.filePath(u"missing.ndjson"_s)));
    QVERIFY(!missing);
    QCOMPARE(missing.error().line, 0);
    QVERIFY(!missing.error().message.isEmpty());
}

void TestStreamReplay::recordedPaceTenTimesKeepsOrderAndGaps()
{
    startEngine(std::nullopt);
    // Recorded 500 ms apart, with an out-of-order time that must not run the schedule backwards.
    QList<MessageRecording::Record> records = numbered(8, 500);
    records[5].receivedMs = records[4].receivedMs - 10'000;
    const qint64 startedAt = m_clock.elapsed();
    StreamReplay replay(
        *m_backend, m_serviceSid, m_streamSid, records, StreamReplay::Pace::RecordedTenTimes);
    StreamReplay::Result result;
    run(replay, result);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(result.outcome, StreamReplay::Result::Outcome::Completed);
    QCOMPARE(result.published, 8);
    QTRY_COMPARE(m_received.size(), 8);
    QCOMPARE(receivedNumbers(), (QList<int>{0, 1, 2, 3, 4, 5, 6, 7}));
    // Lower bounds only: message n is not published before n × 50 ms (message 5 goes with 4,
    // and 6 keeps its own recorded time).
    const QList<qint64> earliest{0, 50, 100, 150, 200, 200, 300, 350};
    for (int n = 0; n < 8; ++n)
        QVERIFY2(m_received.at(n).first - startedAt >= earliest.at(n),
            qPrintable(u"message %1 after %2 ms"_s.arg(n).arg(m_received.at(n).first - startedAt)));
}

void TestStreamReplay::asFastAsAllowedRetriesRateLimitedMessages()
{
    constexpr double kRate = 5;
    startEngine(kRate);
    // Spend the stream's whole burst budget, so the replay starts against an empty bucket.
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const auto published = await(m_backend->publish(m_serviceSid, m_streamSid, "{}"));
        if (!published) {
            QCOMPARE(published.error().code(), int(ApiError::RateLimitExceeded));
            break;
        }
    }
    constexpr int kCount = 12;
    StreamReplay replay(*m_backend, m_serviceSid, m_streamSid, numbered(kCount, 0),
        StreamReplay::Pace::AsFastAsAllowed);
    int backoffs = 0;
    connect(&replay, &StreamReplay::backingOff, this, [&backoffs] { ++backoffs; });
    QList<qsizetype> progress;
    connect(&replay, &StreamReplay::progress, this,
        [&progress, count = kCount](qsizetype published, qsizetype total, double, qint64 msLeft) {
            QCOMPARE(total, count);
            QVERIFY(msLeft >= -1);
            progress.append(published);
        });
    StreamReplay::Result result;
    run(replay, result);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(result.outcome, StreamReplay::Result::Outcome::Completed);
    QCOMPARE(result.published, kCount);
    QVERIFY(result.rateLimited >= 1);
    QCOMPARE(backoffs, result.rateLimited);
    QVERIFY(!progress.isEmpty());
    QCOMPARE(progress.last(), kCount);
    QVERIFY(std::is_sorted(progress.begin(), progress.end()));

    // Every message exactly once, in the recording's order.
    QList<int> expected;
    for (int n = 0; n < kCount; ++n)
        expected.append(n);
    QTRY_COMPARE(receivedNumbers().size(), kCount);
    QCOMPARE(receivedNumbers(), expected);
}

void TestStreamReplay::cancelStopsMidway()
{
    startEngine(std::nullopt);
    StreamReplay replay(
        *m_backend, m_serviceSid, m_streamSid, numbered(50, 100), StreamReplay::Pace::Recorded);
    std::optional<StreamReplay::Result> result;
    connect(&replay, &StreamReplay::finished, this,
        [&result](const StreamReplay::Result &r) { result = r; });
    replay.start();
    QTRY_VERIFY(replay.published() >= 3);
    replay.cancel();
    QVERIFY(result.has_value()); // at once, not after the next answer
    QVERIFY(!replay.isRunning());
    QCOMPARE(result->outcome, StreamReplay::Result::Outcome::Cancelled);
    QVERIFY(result->published >= 3 && result->published < 50);
    QVERIFY(result->text().startsWith(u"Cancelled after %1 of 50"_s.arg(result->published)));
    replay.cancel(); // harmless

    // What the subscriber got is what was published, and nothing follows: a marker published
    // after the cancel arrives right after the replayed messages.
    QVERIFY(await(m_backend->publish(m_serviceSid, m_streamSid, R"({"n":-1})")));
    QTRY_VERIFY(receivedNumbers().contains(-1));
    const QList<int> numbers = receivedNumbers();
    const qsizetype replayed = numbers.size() - 1;
    QVERIFY(replayed == result->published
        || (result->unconfirmed && replayed == result->published + 1));
    for (int n = 0; n < replayed; ++n)
        QCOMPARE(numbers.at(n), n);
}

void TestStreamReplay::otherErrorsStopAtTheLine()
{
    startEngine(std::nullopt);
    QList<MessageRecording::Record> records = numbered(3, 0);
    for (MessageRecording::Record &record : records)
        record.line += 10; // lines of a file with a header of blank lines
    QVERIFY(await(m_backend->deleteStream(m_serviceSid, m_streamSid)));
    StreamReplay replay(
        *m_backend, m_serviceSid, m_streamSid, records, StreamReplay::Pace::AsFastAsAllowed);
    StreamReplay::Result result;
    run(replay, result);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(result.outcome, StreamReplay::Result::Outcome::Failed);
    QCOMPARE(result.published, 0);
    QCOMPARE(result.failedLine, 11);
    QVERIFY(result.error);
    QCOMPARE(result.error->code(), int(ApiError::NotFound));
    QVERIFY2(result.text().startsWith(u"Line 11 was not published: "_s), qPrintable(result.text()));
}

void TestStreamReplay::nothingToReplayCompletes()
{
    startEngine(std::nullopt);
    StreamReplay replay(*m_backend, m_serviceSid, m_streamSid, {}, StreamReplay::Pace::Recorded);
    StreamReplay::Result result;
    run(replay, result);
    QCOMPARE(result.outcome, StreamReplay::Result::Outcome::Completed);
    QCOMPARE(result.published, 0);
    QCOMPARE(result.total, 0);
}

void TestStreamReplay::remoteRefusalsAreSentAgain()
{
    // An engine at a URL, its next 3 publishes to the stream refused with 429 by a fault rule
    // (docs/engine.md, "Fault rules"), and a RestClient that does not retry them itself: the
    // replay meets every 429 and sends the same message again.
    EngineProcess engine;
    QVERIFY(engine.start({u"--publish-rate"_s, u"unlimited"_s}));
    RemoteConnection connection = RemoteConnection::fromProfile(
        engineProfile(engine, u"engine under test"_s), engine.apiKeySecret());
    connection.rest.maxAttempts = 1;
    RemoteBackend backend(connection);
    const auto stream = await(backend.createStream(u"default"_s, {u"replayed"_s, {}}));
    QVERIFY2(stream, qPrintable(stream ? QString() : stream.error().message()));
    const auto fault = await(backend.control("POST", u"/_engine/faults"_s,
        R"({"stream":"replayed","rest_error":{"status":429,"code":54009,"count":3,)"
        R"("method":"POST","on":"messages"}})"));
    QVERIFY2(fault, qPrintable(fault ? QString() : fault.error().message()));
    const std::unique_ptr<LiveSubscription> subscription =
        backend.subscribe(stream->serviceSid, stream->sid);
    recordArrivals(subscription.get());
    QTRY_COMPARE_WITH_TIMEOUT(subscription->state(), LiveSubscription::State::Active, 10'000);

    constexpr int kCount = 10;
    StreamReplay replay(backend, stream->serviceSid, stream->sid, numbered(kCount, 0),
        StreamReplay::Pace::AsFastAsAllowed);
    StreamReplay::Result result;
    run(replay, result);
    QCOMPARE(result.outcome, StreamReplay::Result::Outcome::Completed);
    QCOMPARE(result.published, kCount);
    QCOMPARE(result.rateLimited, 3);
    QList<int> expected;
    for (int n = 0; n < kCount; ++n)
        expected.append(n);
    QTRY_COMPARE(receivedNumbers().size(), kCount);
    QCOMPARE(receivedNumbers(), expected);
}

QTEST_GUILESS_MAIN(TestStreamReplay)
#include "tst_streamreplay.moc"
