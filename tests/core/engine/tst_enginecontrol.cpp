// The engine as a test instrument, in process: snapshots, the clock, faults on the publish
// path, and the options that seed, keep in memory and export.

#include "engine/engine.h"
#include "manualclock.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace streams;
using namespace Qt::StringLiterals;

namespace {
constexpr qint64 kStartMs = 1'795'000'000'000;

QProcessEnvironment credentialsEnvironment()
{
    QProcessEnvironment environment;
    environment.insert(u"TWILIO_ACCOUNT_SID"_s, u"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"_s);
    environment.insert(u"TWILIO_AUTH_TOKEN"_s, u"token-0123456789"_s);
    return environment;
}

template<typename T>
T ok(std::expected<T, ApiError> result)
{
    if (!result)
        qFatal("%s", qPrintable(result.error().message()));
    return std::move(*result);
}

void ok(std::expected<void, ApiError> result)
{
    if (!result)
        qFatal("%s", qPrintable(result.error().message()));
}
} // namespace

class TestEngineControl final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void snapshotRoundTripsIntoAnotherEngine();
    void importReplacesEverythingAndTellsSubscribers();
    void badSnapshotsAreRefusedAndChangeNothing_data();
    void badSnapshotsAreRefusedAndChangeNothing();
    void resetLeavesOnlyADefaultService();
    void advancingTheClockExpiresStreamsAtOnce();
    void faultsApplyOnThePublishPath();
    void restRefusalAnswersOnlyTheRequestsARuleNames();
    void stateFileSeedsAnEmptyDataDirectoryOnly();
    void inMemoryWritesNothingAndLeavesNothing();
    void exportOnExitWritesTheSnapshot();

private:
    std::unique_ptr<Engine> open(const QString &dataDir, EngineOptions options = {});

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<Engine> m_engine;
};

std::unique_ptr<Engine> TestEngineControl::open(const QString &dataDir, EngineOptions options)
{
    options.dataDir = dataDir;
    options.environment = credentialsEnvironment();
    options.clock = m_clock.get();
    auto engine = Engine::open(options);
    if (!engine)
        qFatal("%s", qPrintable(engine.error()));
    return std::move(*engine);
}

void TestEngineControl::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_clock = std::make_unique<ManualClock>(kStartMs);
    m_engine = open(m_dir->filePath(u"a"_s));
}

void TestEngineControl::cleanup()
{
    m_engine.reset();
    m_dir.reset();
}

void TestEngineControl::snapshotRoundTripsIntoAnotherEngine()
{
    ServiceFields fields;
    fields.friendlyName = u"Staging"_s;
    fields.webhookUrl = u"https://example.com/hook"_s;
    fields.aclEnabled = true;
    fields.reachabilityDebouncingWindowMs = 2500;
    const Service staging = ok(m_engine->createService(fields));
    ok(m_engine->createStream(u"default"_s, {u"orders"_s, 3600}));
    ok(m_engine->createStream(u"default"_s, {std::nullopt, std::nullopt}));
    m_clock->advanceMs(5000);
    ok(m_engine->createStream(staging.sid, {u"ünïcödé name"_s, std::nullopt, u"alice"_s}));

    const EngineSnapshot snapshot = ok(m_engine->exportState());
    QCOMPARE(snapshot.services.size(), 2);
    QCOMPARE(snapshot.streams.size(), 3);
    const QByteArray json = m_engine->snapshotJson(snapshot);

    auto other = open(m_dir->filePath(u"b"_s));
    const auto read =
        EngineSnapshot::fromJsonBytes(json, u"ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"_s, 0);
    QVERIFY2(read, qPrintable(read ? QString() : read.error().message()));
    ok(other->importState(*read));
    // Every field of every service and stream, and the order lists give them in.
    QCOMPARE(ok(other->listServices({})).items, ok(m_engine->listServices({})).items);
    for (const Service &service : snapshot.services)
        QCOMPARE(ok(other->listStreams(service.sid, {})).items,
            ok(m_engine->listStreams(service.sid, {})).items);
    QCOMPARE(ok(other->fetchStream(u"default"_s, u"orders"_s)),
        ok(m_engine->fetchStream(u"default"_s, u"orders"_s)));
    QCOMPARE(ok(other->fetchService(staging.sid)), staging);
}

void TestEngineControl::importReplacesEverythingAndTellsSubscribers()
{
    const Stream gone = ok(m_engine->createStream(u"default"_s, {u"gone"_s, std::nullopt}));
    const Stream kept = ok(m_engine->createStream(u"default"_s, {u"kept"_s, std::nullopt}));
    auto goneSubscriber = ok(m_engine->subscribe(u"default"_s, gone.sid, {}));
    auto keptSubscriber = ok(m_engine->subscribe(u"default"_s, kept.sid, {}));

    EngineSnapshot snapshot = ok(m_engine->exportState());
    snapshot.streams.removeIf([&](const Stream &s) { return s.sid == gone.sid; });
    Stream added = kept;
    added.sid = u"TO0123456789abcdef0123456789abcdef"_s;
    added.uniqueName = u"added"_s;
    snapshot.streams.append(added);
    ok(m_engine->importState(snapshot));

    QVERIFY(goneSubscriber->drain().streamRemoved);
    QVERIFY(!keptSubscriber->drain().streamRemoved);
    QCOMPARE(m_engine->fetchStream(u"default"_s, u"gone"_s).error().code(), 20404);
    QCOMPARE(ok(m_engine->fetchStream(u"default"_s, u"added"_s)).sid, added.sid);
    // The kept stream still delivers to its subscriber.
    ok(m_engine->publish(u"default"_s, u"kept"_s, QByteArrayView("{\"a\":1}")));
    QCOMPARE(keptSubscriber->drain().messages.size(), 1);
}

void TestEngineControl::badSnapshotsAreRefusedAndChangeNothing_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("named");
    const QByteArray service = R"("sid":"IS00000000000000000000000000000001")";
    QTest::newRow("not JSON") << QByteArray("{\"format\":1,\n\"services\":[}") << u"line 2"_s;
    QTest::newRow("no format") << QByteArray(R"({"services":[]})") << u"format"_s;
    QTest::newRow("format 2") << QByteArray(R"({"format":2,"services":[]})") << u"format"_s;
    QTest::newRow("services not an array")
        << QByteArray(R"({"format":1,"services":{}})") << u"services"_s;
    QTest::newRow("service SID") << QByteArray(R"({"format":1,"services":[{"sid":"TO1"}]})")
                                 << u"services[0].sid"_s;
    QTest::newRow("duplicate service")
        << QByteArray(R"({"format":1,"services":[{)" + service + "},{" + service + "}]}")
        << u"services[1].sid"_s;
    QTest::newRow("bad date") << QByteArray(
        R"({"format":1,"services":[{)" + service + R"(,"date_created":"yesterday"}]})")
                              << u"services[0].date_created"_s;
    QTest::newRow("bad window") << QByteArray(
        R"({"format":1,"services":[{)" + service + R"(,"reachability_debouncing_window":5}]})")
                                << u"services[0].reachability_debouncing_window"_s;
    QTest::newRow("stream SID") << QByteArray(R"({"format":1,"services":[{)" + service
        + R"(,"streams":[{"sid":"IS00000000000000000000000000000001"}]}]})")
                                << u"services[0].streams[0].sid"_s;
    QTest::newRow("duplicate stream name") << QByteArray(R"({"format":1,"services":[{)" + service
        + R"(,"streams":[{"sid":"TO00000000000000000000000000000001","unique_name":"a"},)"
          R"({"sid":"TO00000000000000000000000000000002","unique_name":"a"}]}]})")
                                           << u"services[0].streams[1].unique_name"_s;
    QTest::newRow("expiry") << QByteArray(R"({"format":1,"services":[{)" + service
        + R"(,"streams":[{"sid":"TO00000000000000000000000000000001","date_expires":7}]}]})")
                            << u"services[0].streams[0].date_expires"_s;
}

void TestEngineControl::badSnapshotsAreRefusedAndChangeNothing()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, named);
    ok(m_engine->createStream(u"default"_s, {u"orders"_s, std::nullopt}));
    const EngineSnapshot before = ok(m_engine->exportState());
    const auto read = EngineSnapshot::fromJsonBytes(json, m_engine->credentials().accountSid, 0);
    QVERIFY(!read);
    QCOMPARE(read.error().httpStatus(), 400);
    QCOMPARE(read.error().code(), 20400);
    QVERIFY2(read.error().message().contains(named), qPrintable(read.error().message()));
    const EngineSnapshot after = ok(m_engine->exportState());
    QCOMPARE(after.services, before.services);
    QCOMPARE(after.streams, before.streams);
}

void TestEngineControl::resetLeavesOnlyADefaultService()
{
    const Service defaultBefore = ok(m_engine->fetchService(u"default"_s));
    ok(m_engine->createService({}));
    ok(m_engine->createStream(u"default"_s, {u"orders"_s, std::nullopt}));
    m_engine->addFault(*FaultRule::fromJson(QJsonObject{{u"drop"_s, 1}}));
    ok(m_engine->reset());
    const auto services = ok(m_engine->listServices({})).items;
    QCOMPARE(services.size(), 1);
    QCOMPARE(services.first().uniqueName, u"default"_s);
    QVERIFY(services.first().sid != defaultBefore.sid);
    QCOMPARE(m_engine->fetchStream(u"default"_s, u"orders"_s).error().code(), 20404);
    QVERIFY(m_engine->faults().rules().isEmpty());
}

void TestEngineControl::advancingTheClockExpiresStreamsAtOnce()
{
    const Stream stream = ok(m_engine->createStream(u"default"_s, {u"short"_s, 3600}));
    ok(m_engine->createStream(u"default"_s, {u"long"_s, 7200}));
    auto subscriber = ok(m_engine->subscribe(u"default"_s, stream.sid, {}));
    QCOMPARE(m_engine->advanceClock(3600'000 - 1000), 0);
    QVERIFY(m_engine->fetchStream(u"default"_s, u"short"_s));
    QCOMPARE(m_engine->advanceClock(1001), 1);
    QCOMPARE(m_engine->fetchStream(u"default"_s, u"short"_s).error().code(), 20404);
    QVERIFY(subscriber->drain().streamRemoved);
    QVERIFY(m_engine->fetchStream(u"default"_s, u"long"_s));
    QCOMPARE(m_engine->clockOffsetMs(), 3600'001);
    // Dates written afterwards use the engine's time; it never goes back.
    const Stream later = ok(m_engine->createStream(u"default"_s, {u"later"_s, std::nullopt}));
    QCOMPARE(later.dateCreated, kStartMs / 1000 + 3600);
    m_engine->advanceClock(-5000);
    QCOMPARE(m_engine->clockOffsetMs(), 3600'001);
    // Access tokens are checked on the clock without the offset.
    QCOMPARE(m_engine->tokenClock().nowMs(), kStartMs);
}

void TestEngineControl::faultsApplyOnThePublishPath()
{
    ok(m_engine->createStream(u"default"_s, {u"orders"_s, std::nullopt}));
    ok(m_engine->createStream(u"default"_s, {u"other"_s, std::nullopt}));
    auto orders = ok(m_engine->subscribe(u"default"_s, u"orders"_s, {}));
    auto other = ok(m_engine->subscribe(u"default"_s, u"other"_s, {}));
    const FaultRule rule = m_engine->addFault(
        *FaultRule::fromJson(QJsonObject{{u"stream"_s, u"orders"_s}, {u"drop"_s, 1}}));
    for (int i = 0; i < 5; ++i) {
        // The publisher is acknowledged: the loss is on the way to subscribers.
        ok(m_engine->publish(u"default"_s, u"orders"_s, QByteArrayView("{\"a\":1}")));
        ok(m_engine->publish(u"default"_s, u"other"_s, QByteArrayView("{\"a\":1}")));
    }
    QCOMPARE(orders->drain().messages.size(), 0);
    QCOMPARE(other->drain().messages.size(), 5);
    QCOMPARE(m_engine->faults().rules().first().acted.dropped, 5u);
    QVERIFY(m_engine->faults().remove(rule.id));
    ok(m_engine->publish(u"default"_s, u"orders"_s, QByteArrayView("{\"a\":1}")));
    QCOMPARE(orders->drain().messages.size(), 1);
}

void TestEngineControl::restRefusalAnswersOnlyTheRequestsARuleNames()
{
    const Stream orders = ok(m_engine->createStream(u"default"_s, {u"orders"_s, std::nullopt}));
    ok(m_engine->createStream(u"default"_s, {u"other"_s, std::nullopt}));
    QVERIFY(!m_engine->restRefusal("POST", FaultScope::Messages, u"default", u"orders"));
    const FaultRule rule =
        m_engine->addFault(*FaultRule::fromJson(QJsonObject{{u"stream"_s, u"orders"_s},
            {u"rest_error"_s,
                QJsonObject{{u"status"_s, 503}, {u"method"_s, u"POST"_s}, {u"on"_s, u"messages"_s},
                    {u"count"_s, 1}}}}));
    QVERIFY(!m_engine->restRefusal("GET", FaultScope::Messages, u"default", u"orders"));
    QVERIFY(!m_engine->restRefusal("POST", FaultScope::Streams, u"default", u"orders"));
    QVERIFY(!m_engine->restRefusal("POST", FaultScope::Messages, u"default", u"other"));
    // The stream named by its SID is the same stream.
    const auto refusal =
        m_engine->restRefusal("POST", FaultScope::Messages, u"default", orders.sid);
    QVERIFY(refusal);
    QCOMPARE(refusal->ruleId, rule.id);
    QCOMPARE(refusal->error.httpStatus(), 503);
    QCOMPARE(refusal->error.code(), 20503);
    // Its one refusal is spent.
    QVERIFY(!m_engine->restRefusal("POST", FaultScope::Messages, u"default", u"orders"));
}

void TestEngineControl::stateFileSeedsAnEmptyDataDirectoryOnly()
{
    ok(m_engine->createStream(u"default"_s, {u"orders"_s, 60}));
    QFile file(m_dir->filePath(u"seed.json"_s));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(m_engine->snapshotJson(ok(m_engine->exportState())));
    file.close();

    EngineOptions options;
    options.stateFile = file.fileName();
    auto seeded = open(m_dir->filePath(u"seeded"_s), options);
    QCOMPARE(ok(seeded->fetchStream(u"default"_s, u"orders"_s)),
        ok(m_engine->fetchStream(u"default"_s, u"orders"_s)));
    seeded.reset();

    // A data directory that already holds an engine's data is not overwritten.
    options.dataDir = m_dir->filePath(u"seeded"_s);
    options.environment = credentialsEnvironment();
    const auto refused = Engine::open(options);
    QVERIFY(!refused);
    QVERIFY2(refused.error().contains(u"already holds"_s), qPrintable(refused.error()));

    // A bad snapshot stops the start, names the field and leaves the directory usable.
    QFile bad(m_dir->filePath(u"bad.json"_s));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write(R"({"format":1,"services":[{"sid":"nope"}]})");
    bad.close();
    options.dataDir = m_dir->filePath(u"fresh"_s);
    options.stateFile = bad.fileName();
    const auto invalid = Engine::open(options);
    QVERIFY(!invalid);
    QVERIFY2(invalid.error().contains(u"services[0].sid"_s), qPrintable(invalid.error()));
    options.stateFile = file.fileName();
    QVERIFY(Engine::open(options));
}

void TestEngineControl::inMemoryWritesNothingAndLeavesNothing()
{
    EngineOptions options;
    options.inMemory = true;
    const QString unused = m_dir->filePath(u"unused"_s);
    auto engine = open(unused, options);
    const QString working = engine->dataDir();
    QVERIFY2(working.startsWith(u"/dev/shm/"_s) || working.startsWith(u"/run/"_s)
            || working.contains(u"runtime"_s),
        qPrintable(working));
    ok(engine->createStream(u"default"_s, {u"orders"_s, std::nullopt}));
    QVERIFY(!QFileInfo::exists(unused));
    QVERIFY(QFileInfo::exists(working));
    engine.reset();
    QVERIFY(!QFileInfo::exists(working));
}

void TestEngineControl::exportOnExitWritesTheSnapshot()
{
    const QString path = m_dir->filePath(u"exported.json"_s);
    EngineOptions options;
    options.exportStateOnExit = path;
    auto engine = open(m_dir->filePath(u"exporting"_s), options);
    const Stream stream = ok(engine->createStream(u"default"_s, {u"orders"_s, 600}));
    QVERIFY(!QFileInfo::exists(path));
    engine.reset();
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const auto read = EngineSnapshot::fromJsonBytes(file.readAll(), {}, 0);
    QVERIFY(read);
    QCOMPARE(read->streams.size(), 1);
    QCOMPARE(read->streams.first(), stream);
}

QTEST_GUILESS_MAIN(TestEngineControl)
#include "tst_enginecontrol.moc"
