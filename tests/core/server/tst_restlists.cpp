// RestApi's list pages are kept between requests (a page of 50 streams costs more to build
// than anything else the engine answers); a kept page must never be served once anything it shows
// has changed: a stream or service created, updated, deleted or expired, or another base URL.

#include "engine/engine.h"
#include "httpclient.h"
#include "manualclock.h"
#include "server/restapi.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using streams::testing::basicAuthorization;

class TestRestLists final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void streamChangesShowAtOnce();
    void expiryShowsWithinTheSecond();
    void serviceChangesShowAtOnce();
    void baseUrlAndQueryAreTheirOwnPages();
    void keptPageIsWholeAndNeedsCredentials();
    void pageSizePastTheMaximumIsAFullPage_data();
    void pageSizePastTheMaximumIsAFullPage();

private:
    RestReply get(const QByteArray &path, const QByteArray &query = "PageSize=50",
        const QString &base = QStringLiteral("http://127.0.0.1:1"));
    RestReply post(const QByteArray &path, const QByteArray &body);
    /// The `key` array's items' `field` values of a 200 list reply.
    static QStringList column(const RestReply &reply, const char *key, const char *field);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<RestApi> m_server;
    QByteArray m_auth;
};

void TestRestLists::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_clock = std::make_unique<ManualClock>(1'795'000'000'000);
    EngineOptions options;
    options.dataDir = m_dir->path();
    options.environment = QProcessEnvironment();
    options.clock = m_clock.get();
    auto engine = Engine::open(options);
    QVERIFY2(engine, qPrintable(engine ? QString() : engine.error()));
    m_engine = std::move(*engine);
    m_server = std::make_unique<RestApi>(*m_engine);
    const EngineCredentials &credentials = m_engine->credentials();
    m_auth = basicAuthorization(credentials.accountSid, credentials.authToken);
}

void TestRestLists::cleanup()
{
    m_server.reset();
    m_engine.reset();
    m_clock.reset();
    m_dir.reset();
}

RestReply TestRestLists::get(const QByteArray &path, const QByteArray &query, const QString &base)
{
    return m_server->handle("GET", path, query, m_auth, {}, base);
}

RestReply TestRestLists::post(const QByteArray &path, const QByteArray &body)
{
    return m_server->handle("POST", path, {}, m_auth, body, QStringLiteral("http://127.0.0.1:1"));
}

QStringList TestRestLists::column(const RestReply &reply, const char *key, const char *field)
{
    QStringList values;
    const QJsonArray items =
        QJsonDocument::fromJson(reply.body).object().value(QLatin1StringView(key)).toArray();
    for (const QJsonValue &item : items)
        values.append(item.toObject().value(QLatin1StringView(field)).toVariant().toString());
    return values;
}

void TestRestLists::streamChangesShowAtOnce()
{
    const QByteArray streams = "/v1/Services/default/Streams";
    QCOMPARE(column(get(streams), "streams", "unique_name"), QStringList());
    QCOMPARE(post(streams, "UniqueName=a&Ttl=100").status, 201);
    QCOMPARE(column(get(streams), "streams", "unique_name"), QStringList{QStringLiteral("a")});
    QCOMPARE(post(streams, "UniqueName=b").status, 201);
    QCOMPARE(column(get(streams), "streams", "unique_name"),
        (QStringList{QStringLiteral("a"), QStringLiteral("b")}));

    // Same second, new TTL: the page shows the new expiry.
    const QString before = column(get(streams), "streams", "date_expires").constFirst();
    QCOMPARE(post(streams + "/a", "Ttl=5000").status, 200);
    const QString after = column(get(streams), "streams", "date_expires").constFirst();
    QVERIFY2(before != after, qPrintable(before + u' ' + after));

    QCOMPARE(
        m_server
            ->handle("DELETE", streams + "/a", {}, m_auth, {}, QStringLiteral("http://127.0.0.1:1"))
            .status,
        204);
    QCOMPARE(column(get(streams), "streams", "unique_name"), QStringList{QStringLiteral("b")});
}

void TestRestLists::expiryShowsWithinTheSecond()
{
    const QByteArray streams = "/v1/Services/default/Streams";
    QCOMPARE(post(streams, "UniqueName=short&Ttl=1").status, 201);
    QCOMPARE(column(get(streams), "streams", "unique_name"), QStringList{QStringLiteral("short")});
    // No event loop runs here, so the expiry timer has not swept it: the page must still not
    // be the one kept from before its expiry.
    m_clock->advanceMs(1000);
    QCOMPARE(column(get(streams), "streams", "unique_name"), QStringList());
}

void TestRestLists::serviceChangesShowAtOnce()
{
    const QByteArray services = "/v1/Services";
    QCOMPARE(
        column(get(services), "services", "unique_name"), QStringList{QStringLiteral("default")});
    const RestReply created = post(services, "FriendlyName=Staging");
    QCOMPARE(created.status, 201);
    const QByteArray sid =
        QJsonDocument::fromJson(created.body).object().value(u"sid").toString().toLatin1();
    QCOMPARE(column(get(services), "services", "friendly_name").size(), 2);
    QCOMPARE(column(get("/v1/Services/" + sid + "/Streams"), "streams", "sid"), QStringList());

    QCOMPARE(post(services + '/' + sid, "FriendlyName=Production").status, 200);
    QVERIFY(
        column(get(services), "services", "friendly_name").contains(QStringLiteral("Production")));

    QCOMPARE(m_server
                 ->handle("DELETE", services + '/' + sid, {}, m_auth, {},
                     QStringLiteral("http://127.0.0.1:1"))
                 .status,
        204);
    QCOMPARE(column(get(services), "services", "friendly_name").size(), 1);
    // The deleted service's (empty) page is not served from before: it is gone.
    QCOMPARE(get("/v1/Services/" + sid + "/Streams").status, 404);
}

void TestRestLists::baseUrlAndQueryAreTheirOwnPages()
{
    const QByteArray streams = "/v1/Services/default/Streams";
    for (int i = 0; i < 3; ++i)
        QCOMPARE(post(streams, "UniqueName=s" + QByteArray::number(i)).status, 201);
    const RestReply local = get(streams);
    const RestReply other = get(streams, "PageSize=50", QStringLiteral("http://host:9"));
    QVERIFY(local.body.contains("http://127.0.0.1:1/v1/Services/"));
    QVERIFY(other.body.contains("http://host:9/v1/Services/"));
    QVERIFY(!other.body.contains("127.0.0.1:1"));
    QCOMPARE(column(get(streams, "PageSize=2"), "streams", "unique_name").size(), 2);
    QCOMPARE(column(get(streams, "PageSize=50"), "streams", "unique_name").size(), 3);
    // An error is never kept: the same bad query stays an error, a good one a page.
    QCOMPARE(get(streams, "PageSize=0").status, 400);
    QCOMPARE(get(streams, "PageSize=0").status, 400);
}

// A kept page is answered before routing, as the whole HTTP message it was sent as; the
// credentials are still checked first.
void TestRestLists::keptPageIsWholeAndNeedsCredentials()
{
    const QByteArray streams = "/v1/Services/default/Streams";
    QCOMPARE(post(streams, "UniqueName=kept").status, 201);
    const RestReply made = get(streams);
    QCOMPARE(made.status, 200);
    const RestReply again = get(streams);
    QCOMPARE(again.body, made.body);
    QVERIFY(again.message.startsWith("HTTP/1.1 200 OK\r\n"));
    QVERIFY(again.message.contains("\r\nContent-Type: application/json; charset=utf-8\r\n"));
    QVERIFY(again.message.contains(
        "\r\nContent-Length: " + QByteArray::number(made.body.size()) + "\r\n\r\n"));
    QVERIFY(again.message.endsWith("\r\n\r\n" + made.body));
    QVERIFY(!again.message.contains("Connection: close"));
    // The same page with a trailing slash: the same list URL, so the same page.
    QCOMPARE(get(streams + '/').body, made.body);

    const QString base = QStringLiteral("http://127.0.0.1:1");
    const RestReply wrongToken = m_server->handle("GET", streams, "PageSize=50",
        basicAuthorization(QStringLiteral("AC00"), QStringLiteral("nope")), {}, base);
    QCOMPARE(wrongToken.status, 401);
    QVERIFY(!wrongToken.body.contains("kept"));
    QCOMPARE(m_server->handle("GET", streams, "PageSize=50", {}, {}, base).status, 401);
    // Other methods on the page's URL are routed as ever.
    QCOMPARE(m_server->handle("PUT", streams, "PageSize=50", m_auth, {}, base).status, 405);
}

void TestRestLists::pageSizePastTheMaximumIsAFullPage_data()
{
    QTest::addColumn<QByteArray>("pageSize");
    QTest::addRow("1000") << QByteArray("1000");
    QTest::addRow("1001") << QByteArray("1001");
    // What npm twilio sends for list({limit: 5000}), and python-twilio for list(limit=5000).
    QTest::addRow("5000") << QByteArray("5000");
    QTest::addRow("past 64 bits") << QByteArray("99999999999999999999999");
}

// Any positive PageSize is served; a page holds at most 1000 and says so in its meta and its
// next page's URL, which the official clients follow verbatim.
void TestRestLists::pageSizePastTheMaximumIsAFullPage()
{
    QFETCH(QByteArray, pageSize);
    const QByteArray streams = "/v1/Services/default/Streams";
    constexpr int kStreams = 1003;
    for (int i = 0; i < kStreams; ++i)
        QCOMPARE(post(streams, "UniqueName=p" + QByteArray::number(i)).status, 201);

    QStringList names;
    QByteArray query = "PageSize=" + pageSize;
    for (int page = 0; page < 2; ++page) {
        const RestReply reply = get(streams, query);
        QCOMPARE(reply.status, 200);
        // Asked again, it is the kept page, which says the same.
        QCOMPARE(get(streams, query).body, reply.body);
        const QJsonObject meta =
            QJsonDocument::fromJson(reply.body).object().value(u"meta").toObject();
        QCOMPARE(meta.value(u"page_size").toInt(), 1000);
        QCOMPARE(meta.value(u"page").toInt(), page);
        QVERIFY(meta.value(u"url").toString().contains(u"PageSize=1000&Page="));
        names += column(reply, "streams", "unique_name");
        const QString next = meta.value(u"next_page_url").toString();
        if (page == 0) {
            QVERIFY2(next.startsWith(QStringLiteral(
                         "http://127.0.0.1:1/v1/Services/default/Streams?PageSize=1000&Page=1"
                         "&PageToken=")),
                qPrintable(next));
            query = next.sliced(next.indexOf(u'?') + 1).toUtf8();
        } else {
            QVERIFY(meta.value(u"next_page_url").isNull());
        }
    }
    QCOMPARE(names.size(), kStreams);
    QCOMPARE(QSet<QString>(names.cbegin(), names.cend()).size(), kStreams);
    const RestReply services = get("/v1/Services", "PageSize=" + pageSize);
    QCOMPARE(services.status, 200);
    QCOMPARE(column(services, "services", "unique_name").size(), 1);
}

QTEST_GUILESS_MAIN(TestRestLists)
#include "tst_restlists.moc"
