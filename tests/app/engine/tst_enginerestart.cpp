// Durability of the streams-engine binary: every acknowledged stream survives a clean stop and a
// kill -9 with the same SID, unique name and expiry, and TTLs that ran out while the engine was
// down are honoured when it comes back.

#include "engineprocess.h"
#include "httpclient.h"

#include <QDateTime>
#include <QJsonArray>
#include <QTest>

using namespace streams::testing;

namespace {
struct Acknowledged
{
    QString sid;
    QString uniqueName;
    QJsonValue dateExpires;
};
} // namespace

class TestEngineRestart final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void acknowledgedStreamsSurvive_data();
    void acknowledgedStreamsSurvive();
    void expiryFiresForStreamsThatExpiredWhileDown();

private:
    static QList<Acknowledged> createStreams(
        EngineProcess &engine, int count, const QByteArray &prefix = "restart-");
    static void verifyAllPresent(EngineProcess &engine, const QList<Acknowledged> &streams);
};

QList<Acknowledged> TestEngineRestart::createStreams(
    EngineProcess &engine, int count, const QByteArray &prefix)
{
    QList<Acknowledged> acknowledged;
    for (int i = 0; i < count; ++i) {
        // A mix of named and anonymous streams, with and without TTLs.
        QByteArray body;
        if (i % 2 == 0)
            body += "UniqueName=" + prefix + QByteArray::number(i) + "-%C3%BC";
        if (i % 3 == 0)
            body += QByteArray(body.isEmpty() ? "" : "&") + "Ttl=" + QByteArray::number(3600 + i);
        const HttpResponse response = httpExchange(
            engine.port(), "POST", "/v1/Services/default/Streams", engine.authorization(), body);
        if (response.status != 201)
            continue; // not acknowledged: nothing is promised
        const QJsonObject json = response.json();
        acknowledged.append({json.value(QStringLiteral("sid")).toString(),
            json.value(QStringLiteral("unique_name")).toString(),
            json.value(QStringLiteral("date_expires"))});
    }
    return acknowledged;
}

void TestEngineRestart::verifyAllPresent(EngineProcess &engine, const QList<Acknowledged> &streams)
{
    for (const Acknowledged &stream : streams) {
        const HttpResponse bySid = httpExchange(engine.port(), "GET",
            "/v1/Services/default/Streams/" + stream.sid.toLatin1(), engine.authorization());
        QCOMPARE(bySid.status, 200);
        const QJsonObject json = bySid.json();
        QCOMPARE(json.value(QStringLiteral("unique_name")).toString(), stream.uniqueName);
        QCOMPARE(json.value(QStringLiteral("date_expires")), stream.dateExpires);
        if (!stream.uniqueName.isEmpty()) {
            const HttpResponse byName = httpExchange(engine.port(), "GET",
                "/v1/Services/default/Streams/" + QUrl::toPercentEncoding(stream.uniqueName),
                engine.authorization());
            QCOMPARE(byName.status, 200);
            QCOMPARE(byName.json().value(QStringLiteral("sid")).toString(), stream.sid);
        }
    }
}

void TestEngineRestart::acknowledgedStreamsSurvive_data()
{
    QTest::addColumn<bool>("crash");
    QTest::addRow("SIGTERM") << false;
    QTest::addRow("kill -9") << true;
}

void TestEngineRestart::acknowledgedStreamsSurvive()
{
    QFETCH(bool, crash);
    EngineProcess engine;
    QVERIFY(engine.start());
    const QString serviceSid =
        httpExchange(engine.port(), "GET", "/v1/Services/default", engine.authorization())
            .json()
            .value(QStringLiteral("sid"))
            .toString();
    const QList<Acknowledged> streams = createStreams(engine, 60);
    QCOMPARE(streams.size(), 60);
    if (crash)
        engine.kill();
    else
        QCOMPARE(engine.stop(), 0);

    QVERIFY2(engine.start(), engine.output().constData());
    // The default service is the same one, not a new one.
    QCOMPARE(httpExchange(engine.port(), "GET", "/v1/Services/default", engine.authorization())
                 .json()
                 .value(QStringLiteral("sid"))
                 .toString(),
        serviceSid);
    verifyAllPresent(engine, streams);
    // And it keeps accepting writes.
    QCOMPARE(createStreams(engine, 3, "after-restart-").size(), 3);
    QCOMPARE(engine.stop(), 0);
}

void TestEngineRestart::expiryFiresForStreamsThatExpiredWhileDown()
{
    EngineProcess engine;
    QVERIFY(engine.start());
    const HttpResponse created = httpExchange(engine.port(), "POST", "/v1/Services/default/Streams",
        engine.authorization(), "UniqueName=short&Ttl=1");
    QCOMPARE(created.status, 201);
    const QList<Acknowledged> durable = createStreams(engine, 4);
    const qint64 expiresMs = QDateTime::fromString(
        created.json().value(QStringLiteral("date_expires")).toString(), Qt::ISODate)
                                 .toMSecsSinceEpoch();
    engine.kill();
    // Wait, with the engine down, until the stream's expiry has passed.
    QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentMSecsSinceEpoch() > expiresMs + 200, 5000);

    QVERIFY(engine.start());
    QCOMPARE(httpExchange(
                 engine.port(), "GET", "/v1/Services/default/Streams/short", engine.authorization())
                 .status,
        404);
    const HttpResponse list = httpExchange(
        engine.port(), "GET", "/v1/Services/default/Streams?PageSize=100", engine.authorization());
    QCOMPARE(list.json().value(QStringLiteral("streams")).toArray().size(), durable.size());
    // Its unique name is free again.
    QCOMPARE(httpExchange(engine.port(), "POST", "/v1/Services/default/Streams",
                 engine.authorization(), "UniqueName=short")
                 .status,
        201);
    verifyAllPresent(engine, durable);
}

QTEST_GUILESS_MAIN(TestEngineRestart)
#include "tst_enginerestart.moc"
