// The control plane of a real streams-engine process over HTTP: credentials, errors in Twilio's
// shape, snapshots across processes and crashes, the traffic log, and the state options.

#include "engineprocess.h"
#include "httpclient.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace streams::testing;
using namespace Qt::StringLiterals;

namespace {
QByteArray jsonBody(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

HttpResponse control(EngineProcess &engine, const QByteArray &method, const QByteArray &target,
    const QByteArray &body = {})
{
    return httpExchange(engine.port(), method, target, engine.authorization(), body,
        {{"Content-Type", "application/json"}});
}

HttpResponse rest(EngineProcess &engine, const QByteArray &method, const QByteArray &target,
    const QByteArray &body = {})
{
    return httpExchange(engine.port(), method, target, engine.authorization(), body);
}

// Streams from `engine`'s default service, by SID, as REST fetches them (urls left out: they
// name the engine's port).
QMap<QString, QJsonObject> fetchAll(EngineProcess &engine, const QStringList &sids)
{
    QMap<QString, QJsonObject> out;
    for (const QString &sid : sids) {
        QJsonObject json =
            rest(engine, "GET", "/v1/Services/default/Streams/" + sid.toLatin1()).json();
        json.remove(u"url"_s);
        json.remove(u"links"_s);
        out.insert(sid, json);
    }
    return out;
}

void verifyTwilioError(const HttpResponse &response, int status, int code)
{
    QCOMPARE(response.status, status);
    const QJsonObject json = response.json();
    QCOMPARE(json.value(u"status"_s).toInt(), status);
    QCOMPARE(json.value(u"code"_s).toInt(), code);
    QVERIFY(!json.value(u"message"_s).toString().isEmpty());
    QCOMPARE(json.value(u"more_info"_s).toString(),
        u"https://www.twilio.com/docs/errors/%1"_s.arg(code));
}
} // namespace

class TestEngineControlPlane final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void healthNeedsNoCredentialsAndTellsNoSecret();
    void everyOtherRouteNeedsCredentials_data();
    void everyOtherRouteNeedsCredentials();
    void errorsAreTwiliosShape_data();
    void errorsAreTwiliosShape();
    void snapshotMovesToAnotherEngineAndSurvivesKill9();
    void aLargeSnapshotIsAccepted();
    void restErrorAnswersInsteadOfTheEngine();
    void trafficLogsRequestsWithoutSecrets();
    void trafficBodiesOnlyWhenAsked();
    void exportOnExitAndStateAtStart();
    void inMemoryLeavesNothingBehind();

private:
    EngineProcess m_engine;
};

void TestEngineControlPlane::initTestCase()
{
    QVERIFY(m_engine.start({u"--publish-rate"_s, u"unlimited"_s}));
}

void TestEngineControlPlane::cleanupTestCase()
{
    m_engine.stop();
}

void TestEngineControlPlane::init()
{
    QCOMPARE(control(m_engine, "POST", "/_engine/reset").status, 200);
}

void TestEngineControlPlane::healthNeedsNoCredentialsAndTellsNoSecret()
{
    rest(m_engine, "POST", "/v1/Services/default/Streams", "UniqueName=one");
    const HttpResponse health = httpExchange(m_engine.port(), "GET", "/_engine/health", {});
    QCOMPARE(health.status, 200);
    const QJsonObject json = health.json();
    QCOMPARE(json.value(u"status"_s).toString(), u"ready"_s);
    QVERIFY(!json.value(u"version"_s).toString().isEmpty());
    QCOMPARE(json.value(u"services"_s).toInt(), 1);
    QCOMPARE(json.value(u"streams"_s).toInt(), 1);
    QCOMPARE(json.value(u"live_connections"_s).toInt(), 0);
    for (const QString &secret : {m_engine.authToken(), m_engine.apiKeySecret(),
             m_engine.accountSid(), m_engine.apiKeySid()})
        QVERIFY(!health.body.contains(secret.toLatin1()));
}

void TestEngineControlPlane::everyOtherRouteNeedsCredentials_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::newRow("state") << QByteArray("GET") << QByteArray("/_engine/state");
    QTest::newRow("import") << QByteArray("PUT") << QByteArray("/_engine/state");
    QTest::newRow("reset") << QByteArray("POST") << QByteArray("/_engine/reset");
    QTest::newRow("clock") << QByteArray("GET") << QByteArray("/_engine/clock");
    QTest::newRow("advance") << QByteArray("POST") << QByteArray("/_engine/clock");
    QTest::newRow("faults") << QByteArray("GET") << QByteArray("/_engine/faults");
    QTest::newRow("add fault") << QByteArray("POST") << QByteArray("/_engine/faults");
    QTest::newRow("clear faults") << QByteArray("DELETE") << QByteArray("/_engine/faults");
    QTest::newRow("remove fault") << QByteArray("DELETE") << QByteArray("/_engine/faults/fault-1");
    QTest::newRow("traffic") << QByteArray("GET") << QByteArray("/_engine/traffic");
    QTest::newRow("unknown") << QByteArray("GET") << QByteArray("/_engine/nothing");
}

void TestEngineControlPlane::everyOtherRouteNeedsCredentials()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    const QByteArray body = R"({"advance_seconds":60,"drop":1})";
    HttpResponse response = httpExchange(m_engine.port(), method, target, {}, body);
    verifyTwilioError(response, 401, 20003);
    QVERIFY(!response.header("WWW-Authenticate").isEmpty());
    const QByteArray wrong = basicAuthorization(m_engine.accountSid(), u"not-the-token"_s);
    verifyTwilioError(httpExchange(m_engine.port(), method, target, wrong, body), 401, 20003);
    // Nothing happened.
    QCOMPARE(
        control(m_engine, "GET", "/_engine/clock").json().value(u"offset_seconds"_s).toInt(), 0);
    QCOMPARE(
        control(m_engine, "GET", "/_engine/faults").json().value(u"faults"_s).toArray().size(), 0);
}

void TestEngineControlPlane::errorsAreTwiliosShape_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("says");
    QTest::newRow("unknown route") << QByteArray("GET") << QByteArray("/_engine/stat")
                                   << QByteArray() << 404 << 20404 << u"/_engine/stat"_s;
    QTest::newRow("wrong method") << QByteArray("DELETE") << QByteArray("/_engine/clock")
                                  << QByteArray() << 405 << 20405 << u"DELETE"_s;
    QTest::newRow("not JSON") << QByteArray("POST") << QByteArray("/_engine/clock")
                              << QByteArray("{\"advance_seconds\":") << 400 << 20400
                              << u"line 1, column"_s;
    QTest::newRow("negative advance")
        << QByteArray("POST") << QByteArray("/_engine/clock")
        << QByteArray(R"({"advance_seconds":-1})") << 400 << 20400 << u"never goes back"_s;
    QTest::newRow("text advance") << QByteArray("POST") << QByteArray("/_engine/clock")
                                  << QByteArray(R"({"advance_seconds":"1h"})") << 400 << 20400
                                  << u"advance_seconds"_s;
    QTest::newRow("bad fault") << QByteArray("POST") << QByteArray("/_engine/faults")
                               << QByteArray(R"({"drop":2})") << 400 << 20400 << u"drop"_s;
    QTest::newRow("unknown fault") << QByteArray("DELETE") << QByteArray("/_engine/faults/fault-99")
                                   << QByteArray() << 404 << 20404 << u"fault-99"_s;
    QTest::newRow("bad snapshot")
        << QByteArray("PUT") << QByteArray("/_engine/state")
        << QByteArray(R"({"format":1,"services":[{"sid":"IS00000000000000000000000000000001",)"
                      R"("streams":[{"sid":"TO1"}]}]})")
        << 400 << 20400 << u"services[0].streams[0].sid"_s;
    QTest::newRow("bad traffic limit")
        << QByteArray("GET") << QByteArray("/_engine/traffic?limit=0") << QByteArray() << 400
        << 20400 << u"limit"_s;
}

void TestEngineControlPlane::errorsAreTwiliosShape()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(int, code);
    QFETCH(QString, says);
    rest(m_engine, "POST", "/v1/Services/default/Streams", "UniqueName=kept");
    const QByteArray before = control(m_engine, "GET", "/_engine/state").body;
    const HttpResponse response = control(m_engine, method, target, body);
    verifyTwilioError(response, status, code);
    const QString message = response.json().value(u"message"_s).toString();
    QVERIFY2(message.contains(says), qPrintable(message));
    if (status == 405)
        QCOMPARE(response.header("Allow"), QByteArray("GET, POST"));
    // Nothing changed (the snapshot's export time aside).
    QJsonObject after =
        QJsonDocument::fromJson(control(m_engine, "GET", "/_engine/state").body).object();
    QJsonObject was = QJsonDocument::fromJson(before).object();
    after.remove(u"exported_at"_s);
    was.remove(u"exported_at"_s);
    QCOMPARE(after, was);
}

void TestEngineControlPlane::snapshotMovesToAnotherEngineAndSurvivesKill9()
{
    QStringList sids;
    for (const QByteArray &body : {QByteArray("UniqueName=orders&Ttl=3600"),
             QByteArray("UniqueName=caf%C3%A9"), QByteArray("Ttl=60"), QByteArray()}) {
        const HttpResponse created = rest(m_engine, "POST", "/v1/Services/default/Streams", body);
        QCOMPARE(created.status, 201);
        sids.append(created.json().value(u"sid"_s).toString());
    }
    const HttpResponse exported = control(m_engine, "GET", "/_engine/state");
    QCOMPARE(exported.status, 200);
    QCOMPARE(exported.json().value(u"format"_s).toInt(), 1);

    EngineProcess other;
    QVERIFY(other.start());
    // Something of its own, which the import replaces.
    rest(other, "POST", "/v1/Services/default/Streams", "UniqueName=replaced");
    const HttpResponse imported = control(other, "PUT", "/_engine/state", exported.body);
    QCOMPARE(imported.status, 200);
    QCOMPARE(imported.json().value(u"streams"_s).toInt(), 4);
    // Acknowledged, then a crash: nothing is lost.
    other.kill();
    QVERIFY(other.restart());
    QCOMPARE(fetchAll(other, sids), fetchAll(m_engine, sids));
    QCOMPARE(rest(other, "GET", "/v1/Services/default/Streams/replaced").status, 404);
    // The list comes out in the same order, with the same default service.
    QCOMPARE(rest(other, "GET", "/v1/Services/default/Streams")
                 .json()
                 .value(u"streams"_s)
                 .toArray()
                 .size(),
        4);
    QCOMPARE(rest(other, "GET", "/v1/Services/default").json().value(u"sid"_s),
        rest(m_engine, "GET", "/v1/Services/default").json().value(u"sid"_s));
}

void TestEngineControlPlane::aLargeSnapshotIsAccepted()
{
    // 6,000 streams: several MiB, past the 1 MiB of a REST body.
    QJsonArray streams;
    for (int i = 0; i < 6000; ++i)
        streams.append(QJsonObject{{u"sid"_s, u"TO%1"_s.arg(i, 32, 16, QLatin1Char('0'))},
            {u"unique_name"_s, u"stream-%1-%2"_s.arg(i).arg(QString(200, u'x'))}});
    const QJsonObject snapshot{{u"format"_s, 1},
        {u"services"_s,
            QJsonArray{QJsonObject{{u"sid"_s, u"IS00000000000000000000000000000abc"_s},
                {u"unique_name"_s, u"default"_s}, {u"streams"_s, streams}}}}};
    const QByteArray body = jsonBody(snapshot);
    QVERIFY(body.size() > 1024 * 1024);
    const HttpResponse imported = control(m_engine, "PUT", "/_engine/state", body);
    QCOMPARE(imported.status, 200);
    const QJsonObject health = httpExchange(m_engine.port(), "GET", "/_engine/health", {}).json();
    QCOMPARE(health.value(u"streams"_s).toInt(), 6000);
}

void TestEngineControlPlane::restErrorAnswersInsteadOfTheEngine()
{
    rest(m_engine, "POST", "/v1/Services/default/Streams", "UniqueName=orders");
    const HttpResponse added = control(m_engine, "POST", "/_engine/faults",
        R"({"service":"default","stream":"orders","rest_error":{"status":429,"code":54009,)"
        R"("count":3,"method":"POST","on":"messages"}})");
    QCOMPARE(added.status, 201);
    const QString id = added.json().value(u"id"_s).toString();
    for (int i = 0; i < 3; ++i) {
        const HttpResponse refused = rest(m_engine, "POST",
            "/v1/Services/default/Streams/orders/Messages", "Data=%7B%22n%22%3A1%7D");
        verifyTwilioError(refused, 429, 54009);
        QCOMPARE(refused.header("Retry-After"), QByteArray("1"));
    }
    // Fetches are not publishes; after three refusals the rule stops answering.
    QCOMPARE(rest(m_engine, "GET", "/v1/Services/default/Streams/orders").status, 200);
    QCOMPARE(rest(m_engine, "POST", "/v1/Services/default/Streams/orders/Messages",
                 "Data=%7B%22n%22%3A1%7D")
                 .status,
        201);
    const QJsonObject rule = control(m_engine, "GET", "/_engine/faults")
                                 .json()
                                 .value(u"faults"_s)
                                 .toArray()
                                 .first()
                                 .toObject();
    QCOMPARE(rule.value(u"id"_s).toString(), id);
    QCOMPARE(rule.value(u"acted"_s).toObject().value(u"rest_errors"_s).toInt(), 3);
    QCOMPARE(control(m_engine, "DELETE", "/_engine/faults/" + id.toLatin1()).status, 204);
    QCOMPARE(
        control(m_engine, "GET", "/_engine/faults").json().value(u"faults"_s).toArray().size(), 0);
}

void TestEngineControlPlane::trafficLogsRequestsWithoutSecrets()
{
    const quint64 after = quint64(
        control(m_engine, "GET", "/_engine/traffic?limit=1").json().value(u"last_id"_s).toDouble());
    rest(m_engine, "POST", "/v1/Services/default/Streams", "UniqueName=logged");
    rest(m_engine, "GET", "/v1/Services/default/Streams/missing");
    const QByteArray wrong = basicAuthorization(m_engine.apiKeySid(), m_engine.authToken());
    httpExchange(m_engine.port(), "GET", "/v1/Services", wrong);
    const HttpResponse traffic =
        control(m_engine, "GET", "/_engine/traffic?after=" + QByteArray::number(after));
    QCOMPARE(traffic.status, 200);
    const QJsonArray entries = traffic.json().value(u"entries"_s).toArray();
    QCOMPARE(entries.size(), 3); // the control plane's own requests are not in it
    const QJsonObject created = entries.at(0).toObject();
    QCOMPARE(created.value(u"kind"_s).toString(), u"rest"_s);
    QCOMPARE(created.value(u"method"_s).toString(), u"POST"_s);
    QCOMPARE(created.value(u"path"_s).toString(), u"/v1/Services/default/Streams"_s);
    QCOMPARE(created.value(u"status"_s).toInt(), 201);
    QVERIFY(created.value(u"code"_s).isNull());
    QCOMPARE(created.value(u"who"_s).toString(), m_engine.accountSid());
    QVERIFY(created.value(u"bytes_in"_s).toInt() > 0);
    QVERIFY(created.value(u"bytes_out"_s).toInt() > 0);
    QVERIFY(created.value(u"duration_ms"_s).toDouble() >= 0);
    QVERIFY(!created.contains(u"body"_s));
    QCOMPARE(entries.at(1).toObject().value(u"code"_s).toInt(), 20404);
    QCOMPARE(entries.at(2).toObject().value(u"status"_s).toInt(), 401);
    QCOMPARE(entries.at(2).toObject().value(u"who"_s).toString(), m_engine.apiKeySid());
    QVERIFY(entries.at(0).toObject().value(u"id"_s).toDouble() == double(after + 1));
    for (const QString &secret : {m_engine.authToken(), m_engine.apiKeySecret()})
        QVERIFY(!traffic.body.contains(secret.toLatin1()));
    // Paging: limit and after.
    const QJsonObject page =
        control(m_engine, "GET", "/_engine/traffic?limit=2&after=" + QByteArray::number(after))
            .json();
    QCOMPARE(page.value(u"entries"_s).toArray().size(), 2);
    QCOMPARE(page.value(u"dropped"_s).toInt(), 0);
}

void TestEngineControlPlane::trafficBodiesOnlyWhenAsked()
{
    EngineProcess engine;
    QVERIFY(engine.start({u"--traffic-bodies"_s}));
    rest(engine, "POST", "/v1/Services/default/Streams", "UniqueName=orders");
    rest(engine, "POST", "/v1/Services/default/Streams/orders/Messages",
        "Data=%7B%22card%22%3A%224111%22%7D");
    const QJsonArray entries =
        control(engine, "GET", "/_engine/traffic").json().value(u"entries"_s).toArray();
    QCOMPARE(entries.size(), 2);
    QCOMPARE(entries.at(1).toObject().value(u"body"_s).toString(),
        u"Data=%7B%22card%22%3A%224111%22%7D"_s);
    QVERIFY(!control(m_engine, "GET", "/_engine/traffic").body.contains("card"));
}

void TestEngineControlPlane::exportOnExitAndStateAtStart()
{
    QTemporaryDir dir;
    const QString exported = dir.filePath(u"state.json"_s);
    EngineProcess first;
    QVERIFY(first.start({u"--export-state-on-exit"_s, exported}));
    const QString sid =
        rest(first, "POST", "/v1/Services/default/Streams", "UniqueName=kept&Ttl=600")
            .json()
            .value(u"sid"_s)
            .toString();
    QVERIFY(!QFileInfo::exists(exported));
    QCOMPARE(first.stop(), 0); // SIGTERM: a clean exit
    QVERIFY(QFileInfo::exists(exported));

    EngineProcess seeded;
    QVERIFY(seeded.start({u"--state"_s, exported}));
    QCOMPARE(
        rest(seeded, "GET", "/v1/Services/default/Streams/kept").json().value(u"sid"_s).toString(),
        sid);

    // Into a data directory that already holds data: refused, clearly.
    QCOMPARE(seeded.stop(), 0);
    QProcess refused;
    refused.setProcessChannelMode(QProcess::MergedChannels);
    refused.start(EngineProcess::binary(),
        {u"--listen"_s, u"127.0.0.1:0"_s, u"--data-dir"_s, seeded.dataDir(), u"--state"_s,
            exported});
    QVERIFY(refused.waitForFinished(15000));
    QCOMPARE(refused.exitCode(), 1);
    QVERIFY2(refused.readAll().contains("already holds"), "no reason given");
}

namespace {
// Starts `streams-engine --in-memory` with HOME pointed at `home`; returns its working
// directory in RAM, from the line it prints (empty if it did not start).
QString startInMemory(QProcess &engine, const QString &home, const EngineProcess &credentials)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"HOME"_s, home);
    environment.insert(u"XDG_DATA_HOME"_s, home + u"/data"_s);
    environment.insert(u"TWILIO_ACCOUNT_SID"_s, credentials.accountSid());
    environment.insert(u"TWILIO_AUTH_TOKEN"_s, credentials.authToken());
    engine.setProcessEnvironment(environment);
    engine.start(EngineProcess::binary(), {u"--in-memory"_s, u"--listen"_s, u"127.0.0.1:0"_s});
    QByteArray output;
    const QByteArray marker = "working files in ";
    if (!QTest::qWaitFor(
            [&] { return (output += engine.readAllStandardOutput()).contains(" removed at exit"); },
            15000))
        return {};
    const qsizetype from = output.indexOf(marker) + marker.size();
    return QString::fromLocal8Bit(output.mid(from, output.indexOf(',', from) - from));
}
} // namespace

void TestEngineControlPlane::inMemoryLeavesNothingBehind()
{
    QTemporaryDir home;
    QProcess engine;
    const QString working = startInMemory(engine, home.path(), m_engine);
    QVERIFY2(working.startsWith(u"/dev/shm/streams-engine-"_s), qPrintable(working));
    QVERIFY(QFileInfo(working + u"/streams.sqlite"_s).exists());
    engine.terminate();
    QVERIFY(engine.waitForFinished(15000));
    QCOMPARE(engine.exitCode(), 0);
    QVERIFY(!QFileInfo::exists(working));
    // Nothing under the home directory either (the default data directory lives there).
    QCOMPARE(QDir(home.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
        QStringList());

    // What a killed engine leaves in RAM goes when the next one starts; a running engine's
    // directory stays.
    QProcess killed;
    const QString left = startInMemory(killed, home.path(), m_engine);
    QVERIFY(!left.isEmpty());
    killed.kill();
    QVERIFY(killed.waitForFinished(15000));
    QVERIFY(QFileInfo::exists(left));
    QProcess running;
    const QString kept = startInMemory(running, home.path(), m_engine);
    QProcess next;
    const QString fresh = startInMemory(next, home.path(), m_engine);
    QVERIFY(!fresh.isEmpty());
    QVERIFY(!QFileInfo::exists(left));
    QVERIFY(QFileInfo::exists(kept));
    for (QProcess *process : {&running, &next}) {
        process->terminate();
        QVERIFY(process->waitForFinished(15000));
    }
    QVERIFY(!QFileInfo::exists(kept));
    QVERIFY(!QFileInfo::exists(fresh));
}

QTEST_GUILESS_MAIN(TestEngineControlPlane)
#include "tst_enginecontrolplane.moc"
