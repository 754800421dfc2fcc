// streams-cli (the built binary, a real process) facing a server that misbehaves
// (tests/reliability/faultserver.h): connection resets, garbage answers, 5xx, a server that never
// answers. The CLI must exit 1 (the service answered with an error) or 3 (no usable answer) with
// a clear `streams-cli:` message on stderr, never crash, and never hang: each run here has a
// hard limit well below the test's, and the CLI's own timeouts must end it first.

#include "clirunner.h"
#include "faultserver.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>
#include <atomic>
#include <memory>

using namespace streams::testing;

namespace {

const QByteArray kStreamJson =
    R"({"sid":"TO0123456789abcdef0123456789abcdef","unique_name":"s",)"
    R"("account_sid":"AC0123456789abcdef0123456789abcdef",)"
    R"("service_sid":"IS0123456789abcdef0123456789abcdef","created_by":"system",)"
    R"("date_expires":null,"date_created":"2026-01-01T00:00:00Z",)"
    R"("date_updated":"2026-01-01T00:00:00Z"})";

} // namespace

class TestCliFaults final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void resetOnGetExits3AfterRetries();
    void resetOnPostExits3WithoutRepeating();
    void garbageAnswerExits1_data();
    void garbageAnswerExits1();
    void serverErrorOnPostExits1();
    void proxyErrorPageOnGetExits1AfterRetries();
    void truncatedAnswerFailsClearly();
    void silentServerTimesOut();
    void timeoutOptionBoundsAGet();
    void publishFromStdinStopsOnReset();

private:
    CliRun cli(const FaultServer &server, const QStringList &arguments,
        const QByteArray &input = {}, int limitMs = 40000);

    QTemporaryDir m_home;
};

void TestCliFaults::initTestCase()
{
    QVERIFY(m_home.isValid());
}

CliRun TestCliFaults::cli(
    const FaultServer &server, const QStringList &arguments, const QByteArray &input, int limitMs)
{
    QProcessEnvironment environment =
        CliRunner::isolatedEnvironment(m_home.filePath(QStringLiteral("profiles.ini")), false);
    environment.insert(
        QStringLiteral("TWILIO_ACCOUNT_SID"), QStringLiteral("AC0123456789abcdef0123456789abcdef"));
    environment.insert(
        QStringLiteral("TWILIO_API_KEY"), QStringLiteral("SK0123456789abcdef0123456789abcdef"));
    environment.insert(QStringLiteral("TWILIO_API_SECRET"), QStringLiteral("not-a-real-secret"));
    return CliRunner::run(QStringList{QStringLiteral("--url"), server.baseUrl()} + arguments,
        environment, input, limitMs);
}

void TestCliFaults::resetOnGetExits3AfterRetries()
{
    FaultServer server([](int, const QByteArray &) { return Fault::reset(); });
    QElapsedTimer elapsed;
    elapsed.start();
    const CliRun run = cli(
        server, {QStringLiteral("streams"), QStringLiteral("fetch"), QStringLiteral("default/s")});
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(run.err.startsWith("streams-cli: connection failed: Cannot reach 127.0.0.1:"
                 + QByteArray::number(server.port())),
        run.describe().constData());
    QVERIFY(run.out.isEmpty());
    // The first try and five retries, each of which Qt's HTTP layer may re-send once.
    QVERIFY2(server.requestCount("GET") >= 6 && server.requestCount("GET") <= 12,
        QByteArray::number(server.requestCount("GET")).constData());
    QVERIFY2(elapsed.elapsed() < 30000, QByteArray::number(elapsed.elapsed()).constData());
}

void TestCliFaults::resetOnPostExits3WithoutRepeating()
{
    FaultServer server([](int, const QByteArray &) { return Fault::reset(); });
    const CliRun run = cli(server,
        {QStringLiteral("streams"), QStringLiteral("create"), QStringLiteral("default"),
            QStringLiteral("--unique-name"), QStringLiteral("orders")});
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(run.err.startsWith("streams-cli: connection failed: Cannot reach"),
        run.describe().constData());
    // A create must never be repeated, not even by Qt's HTTP layer (see tst_remotefaults).
    QCOMPARE(server.requestCount("POST"), 1);
}

void TestCliFaults::garbageAnswerExits1_data()
{
    QTest::addColumn<QByteArray>("answer");
    QTest::addColumn<QStringList>("arguments");

    const QByteArray html =
        Fault::response(200, "OK", "<html><body>captive portal</body></html>", "text/html");
    QTest::addRow("HTML, table") << html
                                 << QStringList{QStringLiteral("services"), QStringLiteral("list")};
    QTest::addRow("HTML, json") << html
                                << QStringList{QStringLiteral("-o"), QStringLiteral("json"),
                                       QStringLiteral("streams"), QStringLiteral("list"),
                                       QStringLiteral("default")};
    QTest::addRow("truncated JSON") << Fault::response(200, "OK", kStreamJson.left(30))
                                    << QStringList{QStringLiteral("streams"),
                                           QStringLiteral("fetch"), QStringLiteral("default/s")};
    QTest::addRow("JSON array") << Fault::response(200, "OK", "[]")
                                << QStringList{QStringLiteral("publish"),
                                       QStringLiteral("default/s"), QStringLiteral(R"({"n":1})")};
}

void TestCliFaults::garbageAnswerExits1()
{
    QFETCH(QByteArray, answer);
    QFETCH(QStringList, arguments);
    FaultServer server(
        [answer](int, const QByteArray &) { return Fault::raw(answer, Fault::Kind::Answer); });
    const CliRun run = cli(server, arguments);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.startsWith("streams-cli: error"), run.describe().constData());
    QVERIFY2(run.err.contains("is not a JSON object"), run.describe().constData());
    QVERIFY(run.out.isEmpty());
    QCOMPARE(server.requestCount(), 1);
}

void TestCliFaults::serverErrorOnPostExits1()
{
    FaultServer server([](int, const QByteArray &) {
        return Fault::answer(500, "Internal Server Error",
            R"({"code":20500,"message":"boom","more_info":"https://www.twilio.com/docs/errors/20500","status":500})");
    });
    const CliRun run = cli(
        server, {QStringLiteral("streams"), QStringLiteral("create"), QStringLiteral("default")});
    QCOMPARE(run.exitCode, 1);
    QCOMPARE(run.err, QByteArray("streams-cli: error 20500: boom\n"));
    QCOMPARE(server.requestCount("POST"), 1);
}

void TestCliFaults::proxyErrorPageOnGetExits1AfterRetries()
{
    FaultServer server([](int, const QByteArray &) {
        return Fault::answer(
            502, "Bad Gateway", "<html><h1>502 Bad Gateway</h1></html>", "text/html");
    });
    const CliRun run = cli(
        server, {QStringLiteral("services"), QStringLiteral("fetch"), QStringLiteral("default")});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("HTTP 502 Bad Gateway"), run.describe().constData());
    QCOMPARE(server.requestCount("GET"), 6);
}

void TestCliFaults::truncatedAnswerFailsClearly()
{
    // Half an answer and a reset: whatever the CLI makes of it, it says so and fails.
    FaultServer server([](int, const QByteArray &) {
        return Fault::truncated(kStreamJson.left(kStreamJson.size() / 2), kStreamJson.size());
    });
    const CliRun run = cli(server,
        {QStringLiteral("-o"), QStringLiteral("json"), QStringLiteral("streams"),
            QStringLiteral("fetch"), QStringLiteral("default/s")});
    QVERIFY2(run.exitCode == 1 || run.exitCode == 3, run.describe().constData());
    QVERIFY2(run.err.startsWith("streams-cli: "), run.describe().constData());
    QVERIFY(run.out.isEmpty()); // never half a stream
}

void TestCliFaults::silentServerTimesOut()
{
    // Accepts, reads, never answers. A POST is tried once, so the CLI's 15 s per-request limit
    // ends the run (a GET would be retried five times more before giving up).
    FaultServer server([](int, const QByteArray &) { return Fault::silent(); });
    QElapsedTimer elapsed;
    elapsed.start();
    const CliRun run = cli(
        server, {QStringLiteral("streams"), QStringLiteral("create"), QStringLiteral("default")});
    QCOMPARE(run.exitCode, 3);
    QCOMPARE(run.err,
        QByteArray("streams-cli: connection failed: No answer from 127.0.0.1:"
            + QByteArray::number(server.port()) + " within 15 s\n"));
    QVERIFY2(elapsed.elapsed() < 25000, QByteArray::number(elapsed.elapsed()).constData());
}

void TestCliFaults::timeoutOptionBoundsAGet()
{
    // A GET against a silent server: 6 attempts of --timeout each plus the back-off between them
    // (0.25 + 0.5 + 1 + 2 + 4 s, ±20%), instead of 6 × 15 s by default.
    FaultServer server([](int, const QByteArray &) { return Fault::silent(); });
    QElapsedTimer elapsed;
    elapsed.start();
    const CliRun run = cli(server,
        {QStringLiteral("--timeout"), QStringLiteral("0.5"), QStringLiteral("streams"),
            QStringLiteral("fetch"), QStringLiteral("default/s")});
    QCOMPARE(run.exitCode, 3);
    QCOMPARE(run.err,
        QByteArray("streams-cli: connection failed: No answer from 127.0.0.1:"
            + QByteArray::number(server.port()) + " within 0.5 s\n"));
    QCOMPARE(server.requestCount("GET"), 6);
    QVERIFY2(elapsed.elapsed() < 20000, QByteArray::number(elapsed.elapsed()).constData());

    const CliRun wrong = cli(server,
        {QStringLiteral("--timeout"), QStringLiteral("0"), QStringLiteral("services"),
            QStringLiteral("list")});
    QCOMPARE(wrong.exitCode, 2);
    QVERIFY2(
        wrong.err.startsWith("streams-cli: --timeout expects seconds from 0.1 to 3600, not '0'\n"),
        wrong.describe().constData());
}

void TestCliFaults::publishFromStdinStopsOnReset()
{
    // Two messages go through, then the server starts resetting connections.
    auto posts = std::make_shared<std::atomic<int>>(0);
    FaultServer server([posts](int, const QByteArray &request) {
        if (!request.startsWith("POST "))
            return Fault::answer(200, "OK", kStreamJson);
        const int n = (*posts)++;
        if (n < 2)
            return Fault::answer(201, "Created",
                R"({"sid":"TZ0123456789abcdef0123456789abcde)" + QByteArray::number(n)
                    + R"(","data":{"n":1}})");
        return Fault::reset();
    });
    const CliRun run = cli(server, {QStringLiteral("publish"), QStringLiteral("default/s")},
        "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n");
    QVERIFY2(run.exitCode == 3, run.describe().constData());
    QVERIFY2(run.outLines().size() == 2, run.out.constData());
    QVERIFY2(run.err.contains("connection failed: Cannot reach"), run.describe().constData());
    QVERIFY2(run.err.contains("2"), run.describe().constData()); // how many were published
    // The failed one must not be repeated.
    QCOMPARE(server.requestCount("POST"), 3);
}

QTEST_GUILESS_MAIN(TestCliFaults)
#include "tst_clifaults.moc"
