// RestClient and RemoteBackend facing a server that misbehaves (tests/reliability/faultserver.h):
// connection resets before and during an answer, slow and byte-by-byte answers, garbage (not
// JSON, truncated JSON, the wrong content type, the wrong JSON shape, not HTTP at all) and 5xx.
// Every call must settle with a clear ApiError in bounded time, GETs are retried (a reset or 5xx
// on a GET heals by itself), POSTs are never repeated, and nothing crashes.

#include "backend/remotebackend.h"
#include "faultserver.h"
#include "quickrest.h"
#include "remote/restclient.h"
#include "waits.h"

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QSignalSpy>
#include <QTest>
#include <optional>

using namespace streams;
using namespace streams::testing;

namespace {

const QByteArray kServiceJson =
    R"({"sid":"IS0123456789abcdef0123456789abcdef","unique_name":"default",)"
    R"("account_sid":"AC0123456789abcdef0123456789abcdef","friendly_name":"Default",)"
    R"("date_created":"2026-01-01T00:00:00Z","date_updated":"2026-01-01T00:00:00Z"})";
const QByteArray kStreamJson =
    R"({"sid":"TO0123456789abcdef0123456789abcdef","unique_name":"s",)"
    R"("account_sid":"AC0123456789abcdef0123456789abcdef",)"
    R"("service_sid":"IS0123456789abcdef0123456789abcdef","created_by":"system",)"
    R"("date_expires":null,"date_created":"2026-01-01T00:00:00Z",)"
    R"("date_updated":"2026-01-01T00:00:00Z"})";

RemoteCredentials credentials()
{
    RemoteCredentials c;
    c.accountSid = QStringLiteral("AC0123456789abcdef0123456789abcdef");
    c.apiKeySid = QStringLiteral("SK0123456789abcdef0123456789abcdef");
    c.apiKeySecret = QStringLiteral("not-a-real-secret");
    return c;
}

/// The future's result once it settles, or nullopt if it has not within `ms` (a hang).
template<typename T>
std::optional<T> settle(const QFuture<T> &future, int ms = 20000)
{
    if (!future.isFinished()) {
        QFutureWatcher<T> watcher;
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        watcher.setFuture(future);
        if (!future.isFinished() && !finished.wait(ms) && !future.isFinished())
            return std::nullopt;
    }
    return future.result();
}

/// For a failure message: the error, evaluated only when there is one.
template<typename T>
QString why(const std::expected<T, ApiError> &result)
{
    return result ? QString() : result.error().message();
}

QString describe(const ApiError &error)
{
    return QStringLiteral("code %1, HTTP %2: %3")
        .arg(error.code())
        .arg(error.httpStatus())
        .arg(error.message());
}

} // namespace

class TestRemoteFaults final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void resetGetIsRetriedUntilItWorks();
    void resetEveryTimeFailsClearly();
    void resetPostIsNotRepeated();
    void truncatedAnswerIsAnError();
    void slowAnswerWithinTheTimeoutWorks();
    void dripFedAnswerTimesOut();
    void garbageAnswers_data();
    void garbageAnswers();
    void garbageListPage();
    void wrongShapeIsAnError();
    void notHttpAtAll();
    void serverErrors_data();
    void serverErrors();
    void manyFaultsInARowAllSettle();
    void backendStateFollowsTheFaults();
    void backendReportsGarbageClearly();
};

void TestRemoteFaults::resetGetIsRetriedUntilItWorks()
{
    FaultServer server([](int index, const QByteArray &) {
        return index < 2 ? Fault::reset() : Fault::answer(200, "OK", kServiceJson);
    });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(2000, 3));
    QSignalSpy retrying(&rest, &RestClient::retrying);
    QSignalSpy lost(&rest, &RestClient::connectionLost);
    const auto service = settle(rest.fetchService(QStringLiteral("default")));
    QVERIFY(service);
    QVERIFY2(*service, qPrintable(why(*service)));
    QCOMPARE((*service)->uniqueName, QStringLiteral("default"));
    QCOMPARE(server.requestCount("GET"), 3);
    // Qt's HTTP layer itself re-sends a request once when the connection drops before the
    // answer, so RestClient sees fewer failures than the server saw resets.
    QVERIFY(!retrying.isEmpty() && retrying.size() <= 2);
    QVERIFY(retrying.at(0).at(2).value<ApiError>().isConnectionFailure());
    QCOMPARE(lost.size(), 0); // it recovered within the retries: nothing to announce
}

void TestRemoteFaults::resetEveryTimeFailsClearly()
{
    FaultServer server([](int, const QByteArray &) { return Fault::reset(); });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(2000, 3));
    QSignalSpy lost(&rest, &RestClient::connectionLost);
    QElapsedTimer elapsed;
    elapsed.start();
    const auto streams = settle(rest.listStreams(QStringLiteral("default"), PageRequest()));
    QVERIFY(streams);
    QVERIFY(!*streams);
    const ApiError error = streams->error();
    QVERIFY2(error.isConnectionFailure(), qPrintable(describe(error)));
    QVERIFY2(error.message().startsWith(
                 QStringLiteral("Cannot reach 127.0.0.1:%1: ").arg(server.port())),
        qPrintable(error.message()));
    // Three attempts, each of which Qt may have re-sent once on its own.
    QVERIFY2(server.requestCount("GET") >= 3 && server.requestCount("GET") <= 6,
        QByteArray::number(server.requestCount("GET")).constData());
    QCOMPARE(lost.size(), 1);
    QVERIFY2(elapsed.elapsed() < 5000, qPrintable(QString::number(elapsed.elapsed())));
}

void TestRemoteFaults::resetPostIsNotRepeated()
{
    FaultServer server([](int, const QByteArray &) { return Fault::reset(); });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(2000, 3));
    QSignalSpy retrying(&rest, &RestClient::retrying);
    const auto created =
        settle(rest.createStream(QStringLiteral("default"), QStringLiteral("s"), std::nullopt));
    QVERIFY(created);
    QVERIFY(!*created);
    QVERIFY2(created->error().isConnectionFailure(), qPrintable(describe(created->error())));
    // No (wrong) retry comes; it would within the 20-100 ms back-off.
    QVERIFY(holdsFor([&] { return retrying.isEmpty() && server.requestCount("POST") == 1; }, 300));
    QCOMPARE(retrying.size(), 0); // RestClient does not repeat it, and neither does Qt's HTTP
    // layer, which re-sends a request whose body it can rewind when the connection is reset after
    // it went out: a server that crashed after committing would get the create twice.
    QCOMPARE(server.requestCount("POST"), 1);

    const int before = server.requestCount("POST");
    const auto published =
        settle(rest.publish(QStringLiteral("default"), QStringLiteral("s"), R"({"n":1})"));
    QVERIFY(published);
    QVERIFY(!*published);
    QVERIFY(published->error().isConnectionFailure());
    QVERIFY(holdsFor(
        [&] { return retrying.isEmpty() && server.requestCount("POST") - before == 1; }, 300));
    QCOMPARE(retrying.size(), 0);
    QCOMPARE(server.requestCount("POST") - before, 1);
}

void TestRemoteFaults::truncatedAnswerIsAnError()
{
    // Content-Length promises the whole stream; a third of it arrives, then a reset.
    FaultServer server([](int, const QByteArray &) {
        return Fault::truncated(kStreamJson.left(kStreamJson.size() / 3), kStreamJson.size());
    });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(2000, 3));
    const auto fetched = settle(rest.fetchStream(QStringLiteral("default"), QStringLiteral("s")));
    QVERIFY(fetched);
    QVERIFY(!*fetched);
    const ApiError error = fetched->error();
    // Half an answer is no answer: either a connection failure or a "not JSON" answer, but never
    // a stream made of the half that arrived.
    QVERIFY2(error.isConnectionFailure()
            || error.message().contains(QStringLiteral("not a JSON object")),
        qPrintable(describe(error)));
}

void TestRemoteFaults::slowAnswerWithinTheTimeoutWorks()
{
    FaultServer server([](int, const QByteArray &) {
        return Fault::answer(200, "OK", kServiceJson, "application/json", 700);
    });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(3000, 3));
    QSignalSpy retrying(&rest, &RestClient::retrying);
    const auto service = settle(rest.fetchService(QStringLiteral("default")));
    QVERIFY(service);
    QVERIFY2(*service, qPrintable(why(*service)));
    QCOMPARE(retrying.size(), 0);
    QCOMPARE(server.requestCount(), 1);
}

void TestRemoteFaults::dripFedAnswerTimesOut()
{
    // One byte every 50 ms: never idle long enough for an inactivity timeout, and the whole
    // answer would take minutes. The per-attempt limit must end it.
    FaultServer server([](int, const QByteArray &) {
        return Fault::drip(Fault::response(200, "OK", kServiceJson.repeated(20)), 50);
    });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(800, 2));
    QElapsedTimer elapsed;
    elapsed.start();
    const auto service = settle(rest.fetchService(QStringLiteral("default")));
    QVERIFY2(service, "the request never settled");
    QVERIFY(!*service);
    QVERIFY(service->error().isConnectionFailure());
    QCOMPARE(service->error().message(),
        QStringLiteral("No answer from 127.0.0.1:%1 within 0.8 s").arg(server.port()));
    QCOMPARE(server.requestCount("GET"), 2);
    QVERIFY2(elapsed.elapsed() < 5000, qPrintable(QString::number(elapsed.elapsed())));
}

void TestRemoteFaults::garbageAnswers_data()
{
    QTest::addColumn<QByteArray>("answer");
    QTest::addColumn<QString>("expected"); // in the error message

    QTest::addRow("HTML page") << Fault::response(
        200, "OK", "<html><body>Welcome to nginx!</body></html>", "text/html")
                               << QStringLiteral("is not a JSON object");
    QTest::addRow("truncated JSON") << Fault::response(200, "OK", kStreamJson.left(40))
                                    << QStringLiteral("is not a JSON object");
    QTest::addRow("JSON array") << Fault::response(200, "OK", "[1,2,3]")
                                << QStringLiteral("is not a JSON object");
    QTest::addRow("empty body") << Fault::response(200, "OK", "")
                                << QStringLiteral("is not a JSON object");
    QTest::addRow("binary") << Fault::response(
        200, "OK", QByteArray("\x00\xff\xfe\x01garbage", 11), "application/octet-stream")
                            << QStringLiteral("is not a JSON object");
    QTest::addRow("error page with a 200")
        << Fault::response(200, "OK", "Internal error, try later", "text/plain")
        << QStringLiteral("is not a JSON object");
}

void TestRemoteFaults::garbageAnswers()
{
    QFETCH(QByteArray, answer);
    QFETCH(QString, expected);
    FaultServer server(
        [answer](int, const QByteArray &) { return Fault::raw(answer, Fault::Kind::Answer); });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(2000, 3));
    const auto fetched = settle(rest.fetchStream(QStringLiteral("default"), QStringLiteral("s")));
    QVERIFY(fetched);
    QVERIFY(!*fetched);
    const ApiError error = fetched->error();
    QVERIFY2(error.message().contains(expected), qPrintable(describe(error)));
    QVERIFY2(error.message().contains(QStringLiteral("HTTP 200")), qPrintable(describe(error)));
    QVERIFY(!error.isConnectionFailure()); // the server did answer
    QCOMPARE(server.requestCount(), 1); // an answer, however wrong, is not retried

    const auto published =
        settle(rest.publish(QStringLiteral("default"), QStringLiteral("s"), R"({"n":1})"));
    QVERIFY(published);
    QVERIFY(!*published);
    QVERIFY2(
        published->error().message().contains(expected), qPrintable(describe(published->error())));
}

void TestRemoteFaults::garbageListPage()
{
    FaultServer server([](int, const QByteArray &) {
        return Fault::answer(200, "OK", R"({"streams":"not a list","meta":{}})");
    });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(2000, 3));
    const auto page = settle(rest.listStreams(QStringLiteral("default"), PageRequest()));
    QVERIFY(page);
    QVERIFY(!*page);
    QVERIFY2(page->error().message().contains(QStringLiteral("has no 'streams' array")),
        qPrintable(describe(page->error())));
    const auto all = settle(rest.listAllStreams(QStringLiteral("default")));
    QVERIFY(all);
    QVERIFY(!*all);
    QVERIFY2(all->error().message().contains(QStringLiteral("has no 'streams' array")),
        qPrintable(describe(all->error())));
}

void TestRemoteFaults::wrongShapeIsAnError()
{
    // JSON, an object, 200 — but not a stream: it has no SID at all.
    FaultServer server([](int, const QByteArray &) {
        return Fault::answer(200, "OK", R"({"welcome":"to some other API"})");
    });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(2000, 3));
    const auto fetched = settle(rest.fetchStream(QStringLiteral("default"), QStringLiteral("s")));
    QVERIFY(fetched);
    QVERIFY(!*fetched);
    QVERIFY2(fetched->error().message().contains(QStringLiteral("has no 'sid'")),
        qPrintable(describe(fetched->error())));
}

void TestRemoteFaults::notHttpAtAll()
{
    // Something else listens on the port (an SSH server, say): it greets and hangs up.
    FaultServer server([](int, const QByteArray &) {
        return Fault::raw("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\nProtocol mismatch.\r\n");
    });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(2000, 3));
    const auto fetched = settle(rest.fetchService(QStringLiteral("default")));
    QVERIFY(fetched);
    QVERIFY(!*fetched);
    QVERIFY2(fetched->error().isConnectionFailure(), qPrintable(describe(fetched->error())));
    QVERIFY2(fetched->error().message().startsWith(
                 QStringLiteral("Cannot reach 127.0.0.1:%1").arg(server.port())),
        qPrintable(fetched->error().message()));
    // No answer is retried for a GET: three attempts, each of which Qt may re-send once.
    QVERIFY2(server.requestCount("GET") >= 3 && server.requestCount("GET") <= 6,
        QByteArray::number(server.requestCount("GET")).constData());
}

void TestRemoteFaults::serverErrors_data()
{
    QTest::addColumn<QByteArray>("answer");
    QTest::addColumn<int>("code");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("message");

    QTest::addRow("Twilio 500") << Fault::response(500, "Internal Server Error",
        R"({"code":20500,"message":"Internal Server Error","more_info":"https://www.twilio.com/docs/errors/20500","status":500})")
                                << 20500 << 500 << QStringLiteral("Internal Server Error");
    QTest::addRow("engine disk full") << Fault::response(503, "Service Unavailable",
        R"({"code":20503,"message":"Storage full: the disk holding the data directory /x has no space left","more_info":"https://www.twilio.com/docs/errors/20503","status":503})")
                                      << 20503 << 503 << QStringLiteral("Storage full");
    QTest::addRow("proxy 502 page") << Fault::response(
        502, "Bad Gateway", "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
                                    << 502 << 502 << QStringLiteral("HTTP 502 Bad Gateway");
    QTest::addRow("empty 503") << Fault::response(503, "Service Unavailable", "") << 503 << 503
                               << QStringLiteral("HTTP 503 Service Unavailable");
}

void TestRemoteFaults::serverErrors()
{
    QFETCH(QByteArray, answer);
    QFETCH(int, code);
    QFETCH(int, status);
    QFETCH(QString, message);
    FaultServer server(
        [answer](int, const QByteArray &) { return Fault::raw(answer, Fault::Kind::Answer); });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(2000, 3));
    QSignalSpy lost(&rest, &RestClient::connectionLost);

    const auto fetched = settle(rest.fetchStream(QStringLiteral("default"), QStringLiteral("s")));
    QVERIFY(fetched);
    QVERIFY(!*fetched);
    QCOMPARE(fetched->error().code(), code);
    QCOMPARE(fetched->error().httpStatus(), status);
    QVERIFY2(fetched->error().message().contains(message), qPrintable(describe(fetched->error())));
    QCOMPARE(server.requestCount("GET"), 3); // a GET is retried through 5xx

    const auto created =
        settle(rest.createStream(QStringLiteral("default"), std::nullopt, std::nullopt));
    QVERIFY(created);
    QVERIFY(!*created);
    QCOMPARE(created->error().code(), code);
    QCOMPARE(server.requestCount("POST"), 1); // a POST is not
    QCOMPARE(lost.size(), 0); // the server answers: the connection is fine
}

void TestRemoteFaults::manyFaultsInARowAllSettle()
{
    // Every kind of fault in turn, many requests in flight at once.
    FaultServer server([](int index, const QByteArray &) {
        switch (index % 6) {
        case 0: return Fault::reset();
        case 1: return Fault::answer(200, "OK", kStreamJson);
        case 2: return Fault::answer(500, "Internal Server Error", "oops", "text/plain");
        case 3: return Fault::truncated(kStreamJson.left(10), kStreamJson.size());
        case 4: return Fault::raw("garbage\r\n\r\n");
        default: return Fault::answer(200, "OK", "<html>", "text/html", 30);
        }
    });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(), quickRest(2000, 2));
    QList<QFuture<RestClient::Result<Stream>>> futures;
    for (int i = 0; i < 120; ++i) {
        futures.append(i % 2 == 0
                ? rest.fetchStream(QStringLiteral("default"), QStringLiteral("s"))
                : rest.createStream(QStringLiteral("default"), std::nullopt, std::nullopt));
    }
    int succeeded = 0, failed = 0;
    for (const auto &future : futures) {
        const auto result = settle(future, 30000);
        QVERIFY2(result, "a request never settled");
        if (*result) {
            QCOMPARE((*result)->sid, QStringLiteral("TO0123456789abcdef0123456789abcdef"));
            ++succeeded;
        } else {
            QVERIFY(!result->error().message().isEmpty());
            ++failed;
        }
    }
    QCOMPARE(succeeded + failed, 120);
    QVERIFY(succeeded > 0);
    QVERIFY(failed > 0);
}

void TestRemoteFaults::backendStateFollowsTheFaults()
{
    FaultServer server([](int, const QByteArray &) { return Fault::reset(); });
    RemoteConnection connection;
    connection.displayName = QStringLiteral("faulty");
    connection.endpoints = RemoteEndpoints::engine(QUrl(server.baseUrl()));
    connection.credentials = credentials();
    connection.rest = quickRest(2000, 2);
    RemoteBackend backend(connection);
    QSignalSpy states(&backend, &Backend::stateChanged);

    const auto failed = settle(backend.fetchStream(QStringLiteral("default"), QStringLiteral("s")));
    QVERIFY(failed);
    QVERIFY(!*failed);
    QVERIFY(failed->error().isConnectionFailure());
    QTRY_COMPARE(backend.state(), Backend::State::Reconnecting);

    // A 500 is an answer: the backend is connected, and the error comes through as sent.
    server.setScript([](int, const QByteArray &) {
        return Fault::answer(500, "Internal Server Error",
            R"({"code":20500,"message":"boom","more_info":"x","status":500})");
    });
    const auto fiveHundred = settle(backend.createStream(QStringLiteral("default"), {}));
    QVERIFY(fiveHundred);
    QVERIFY(!*fiveHundred);
    QCOMPARE(fiveHundred->error().code(), 20500);
    QCOMPARE(fiveHundred->error().message(), QStringLiteral("boom"));
    QTRY_COMPARE(backend.state(), Backend::State::Connected);

    // Healed.
    server.setScript([](int, const QByteArray &) { return Fault::answer(200, "OK", kStreamJson); });
    const auto fetched =
        settle(backend.fetchStream(QStringLiteral("default"), QStringLiteral("s")));
    QVERIFY(fetched);
    QVERIFY2(*fetched, qPrintable(why(*fetched)));
    QCOMPARE(backend.state(), Backend::State::Connected);
    QVERIFY(states.size() >= 2);
}

void TestRemoteFaults::backendReportsGarbageClearly()
{
    FaultServer server([](int, const QByteArray &) {
        return Fault::answer(200, "OK", "<html>captive portal</html>", "text/html");
    });
    RemoteConnection connection;
    connection.endpoints = RemoteEndpoints::engine(QUrl(server.baseUrl()));
    connection.credentials = credentials();
    connection.rest = quickRest(2000, 3);
    RemoteBackend backend(connection);
    const auto checked = settle(backend.checkConnection());
    QVERIFY(checked);
    QVERIFY(!*checked);
    QVERIFY2(checked->error().message().contains(QStringLiteral("is not a JSON object")),
        qPrintable(describe(checked->error())));
    QVERIFY(backend.state() != Backend::State::Failed); // not a credentials problem
}

QTEST_GUILESS_MAIN(TestRemoteFaults)
#include "tst_remotefaults.moc"
