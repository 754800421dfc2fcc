// The streams-engine binary over real HTTP: what every client sees on the wire.

#include "engineprocess.h"
#include "httpclient.h"
#include "rawclients.h"

#include <QDateTime>
#include <QJsonArray>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTest>
#include <memory>

using namespace streams::testing;
using namespace Qt::StringLiterals;

class TestEngineHttp final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void authentication_data();
    void authentication();
    void errorsHaveTwilioShape_data();
    void errorsHaveTwilioShape();
    void methodNotAllowedListsAllowedMethods();
    void oversizedBodyIs413();
    void formDecoding();
    void urlsFollowTheHostTheClientUsed();
    void lifecycleStatusCodes();
    void publishEchoesSidAndData();
    void streamExpiresWithinASecond();
    void pagingFollowsNextPageUrl();
    void createsArrivingTogetherAreJudgedOneByOne();
    void pipelinedRequestsWaitForTheCreateBeforeThem();
    void keptAliveConnectionGetsWholePages();
    void connectionCloseIsHonoured();
    void pipelinedRequestsAnsweredInOrderWhoeverParsesThem();
    void requestHeadsArrivingInPiecesAreAnswered();
    void connectionUpgradesAfterAKeptPage();
    void bodyLikeARequestIsOnlyABody();
    void headIsAnsweredWithoutABody();

    void versionAndHelp();
    void refusesNonLoopbackWithoutFlag();
    void secondEngineOnSameDataDirIsRefused();
    void sigtermShutsDownCleanly();
    void emptyTtlMeansNeverExpires();
    void environmentSecretsAreNeverPrinted();

private:
    HttpResponse call(
        const QByteArray &method, const QByteArray &target, const QByteArray &body = {})
    {
        return httpExchange(m_engine.port(), method, target, m_engine.authorization(), body);
    }

    EngineProcess m_engine;
};

void TestEngineHttp::initTestCase()
{
    QVERIFY2(m_engine.start(), m_engine.output().constData());
}

void TestEngineHttp::cleanupTestCase()
{
    m_engine.stop();
}

void TestEngineHttp::authentication_data()
{
    QTest::addColumn<QByteArray>("authorization");
    QTest::addColumn<int>("status");
    QTest::addRow("account sid + auth token")
        << basicAuthorization(m_engine.accountSid(), m_engine.authToken()) << 200;
    QTest::addRow("api key + secret")
        << basicAuthorization(m_engine.apiKeySid(), m_engine.apiKeySecret()) << 200;
    QTest::addRow("no header") << QByteArray() << 401;
    QTest::addRow("wrong token") << basicAuthorization(m_engine.accountSid(),
        QStringLiteral("nope")) << 401;
    QTest::addRow("token with key sid")
        << basicAuthorization(m_engine.apiKeySid(), m_engine.authToken()) << 401;
    QTest::addRow("secret with account sid")
        << basicAuthorization(m_engine.accountSid(), m_engine.apiKeySecret()) << 401;
    QTest::addRow("empty password") << basicAuthorization(m_engine.accountSid(), QString()) << 401;
    QTest::addRow("not base64") << QByteArray("Basic %%%") << 401;
    QTest::addRow("no colon") << ("Basic " + m_engine.accountSid().toUtf8().toBase64()) << 401;
    QTest::addRow("bearer") << QByteArray("Bearer abc") << 401;
}

void TestEngineHttp::authentication()
{
    QFETCH(QByteArray, authorization);
    QFETCH(int, status);
    for (const QByteArray &target : {QByteArray("/v1/Services"), QByteArray("/v1/nowhere")}) {
        const HttpResponse response = httpExchange(m_engine.port(), "GET", target, authorization);
        if (status == 401) {
            // Every route, known or not, refuses first.
            QCOMPARE(response.status, 401);
            QCOMPARE(response.json().value(QStringLiteral("code")).toInt(), 20003);
            QCOMPARE(response.json().value(QStringLiteral("status")).toInt(), 401);
            QVERIFY(response.header("WWW-Authenticate").startsWith("Basic"));
            // A success resets this address's failure count, so the rows after this one are
            // not slowed down by the throttle (tst_engineauth covers that).
            QCOMPARE(call("GET", "/v1/Services").status, 200);
        } else {
            QCOMPARE(response.status, target == "/v1/Services" ? 200 : 404);
        }
    }
}

void TestEngineHttp::errorsHaveTwilioShape_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<int>("code");
    QTest::addRow("unknown route")
        << QByteArray("GET") << QByteArray("/v2/Services") << QByteArray() << 404 << 20404;
    QTest::addRow("documents are not served")
        << QByteArray("GET") << QByteArray("/v1/Services/default/Documents") << QByteArray() << 404
        << 20404;
    QTest::addRow("missing service")
        << QByteArray("GET") << QByteArray("/v1/Services/IS00000000000000000000000000000000")
        << QByteArray() << 404 << 20404;
    QTest::addRow("missing stream")
        << QByteArray("GET") << QByteArray("/v1/Services/default/Streams/nope") << QByteArray()
        << 404 << 20404;
    QTest::addRow("wrong method") << QByteArray("PUT") << QByteArray("/v1/Services/default")
                                  << QByteArray() << 405 << 20405;
    QTest::addRow("malformed percent in body")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams")
        << QByteArray("UniqueName=%zz") << 400 << 20400;
    QTest::addRow("truncated percent in body")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams")
        << QByteArray("UniqueName=a%4") << 400 << 20400;
    QTest::addRow("invalid utf-8 in body")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams")
        << QByteArray("UniqueName=%C3%28") << 400 << 20400;
    QTest::addRow("invalid utf-8 in path")
        << QByteArray("GET") << QByteArray("/v1/Services/default/Streams/%FF") << QByteArray()
        << 400 << 20400;
    QTest::addRow("ttl too large")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams")
        << QByteArray("Ttl=31536001") << 400 << 54011;
    QTest::addRow("ttl negative") << QByteArray("POST")
                                  << QByteArray("/v1/Services/default/Streams")
                                  << QByteArray("Ttl=-1") << 400 << 54011;
    QTest::addRow("empty unique name")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams")
        << QByteArray("UniqueName=") << 400 << 54302;
    QTest::addRow("sid-shaped unique name")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams")
        << QByteArray("UniqueName=TO0123456789abcdef0123456789abcdef") << 400 << 54302;
    QTest::addRow("bad boolean") << QByteArray("POST") << QByteArray("/v1/Services")
                                 << QByteArray("AclEnabled=maybe") << 400 << 20400;
    QTest::addRow("debounce window low")
        << QByteArray("POST") << QByteArray("/v1/Services")
        << QByteArray("ReachabilityDebouncingWindow=999") << 400 << 20400;
    QTest::addRow("page size 0") << QByteArray("GET")
                                 << QByteArray("/v1/Services/default/Streams?PageSize=0")
                                 << QByteArray() << 400 << 20400;
    QTest::addRow("page size -5") << QByteArray("GET")
                                  << QByteArray("/v1/Services/default/Streams?PageSize=-5")
                                  << QByteArray() << 400 << 20400;
    QTest::addRow("page size 1e3")
        << QByteArray("GET") << QByteArray("/v1/Services/default/Streams?PageSize=1e3")
        << QByteArray() << 400 << 20400;
    // Digits only, as the contract's integer: no sign, no spaces (QString::toInt took both).
    QTest::addRow("page size +5") << QByteArray("GET")
                                  << QByteArray("/v1/Services/default/Streams?PageSize=%2B5")
                                  << QByteArray() << 400 << 20400;
    QTest::addRow("page size with a space")
        << QByteArray("GET") << QByteArray("/v1/Services/default/Streams?PageSize=%205")
        << QByteArray() << 400 << 20400;
    QTest::addRow("page -1") << QByteArray("GET")
                             << QByteArray("/v1/Services/default/Streams?Page=-1&PageSize=5")
                             << QByteArray() << 400 << 20400;
    QTest::addRow("bad page token")
        << QByteArray("GET") << QByteArray("/v1/Services/default/Streams?PageToken=garbage")
        << QByteArray() << 400 << 21481;
    QTest::addRow("update without ttl")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams/httpstream")
        << QByteArray() << 400 << 54010;
    QTest::addRow("data missing") << QByteArray("POST")
                                  << QByteArray("/v1/Services/default/Streams/httpstream/Messages")
                                  << QByteArray() << 400 << 54008;
    QTest::addRow("data not json")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams/httpstream/Messages")
        << QByteArray("Data=not-json") << 400 << 54008;
    QTest::addRow("data an array")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams/httpstream/Messages")
        << QByteArray("Data=%5B1%5D") << 400 << 54008;
    QTest::addRow("data too large")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams/httpstream/Messages")
        << ("Data=" + QByteArray("{\"k\":\"" + QByteArray(4090, 'x') + "\"}").toPercentEncoding())
        << 413 << 54006;
    // Half a surrogate pair is not Unicode: refused, never passed on (docs/engine.md).
    QTest::addRow("data with a lone surrogate")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams/httpstream/Messages")
        << ("Data=" + QByteArray(R"({"s":"a\ude00b","t":"\ud83d\ude00"})").toPercentEncoding())
        << 400 << 54008;
}

void TestEngineHttp::errorsHaveTwilioShape()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(int, code);
    // A stream the message rows can address.
    call("POST", "/v1/Services/default/Streams", "UniqueName=httpstream");

    const HttpResponse response = call(method, target, body);
    QCOMPARE(response.status, status);
    QVERIFY(response.header("Content-Type").startsWith("application/json"));
    const QJsonObject error = response.json();
    QCOMPARE(error.value(QStringLiteral("code")).toInt(), code);
    QCOMPARE(error.value(QStringLiteral("status")).toInt(), status);
    QCOMPARE(error.value(QStringLiteral("more_info")).toString(),
        QStringLiteral("https://www.twilio.com/docs/errors/%1").arg(code));
    QVERIFY(!error.value(QStringLiteral("message")).toString().isEmpty());
    // twilio-node switches exception class when it sees type+title.
    QVERIFY(!error.contains(QStringLiteral("type")));
    QVERIFY(!error.contains(QStringLiteral("title")));
    QCOMPARE(error.size(), 4);
}

void TestEngineHttp::methodNotAllowedListsAllowedMethods()
{
    QCOMPARE(call("DELETE", "/v1/Services").header("Allow"), QByteArray("GET, POST"));
    QCOMPARE(
        call("GET", "/v1/Services/default/Streams/x/Messages").header("Allow"), QByteArray("POST"));
    QCOMPARE(call("PATCH", "/v1/Services/default/Streams/x").header("Allow"),
        QByteArray("GET, POST, DELETE"));
}

void TestEngineHttp::oversizedBodyIs413()
{
    const QByteArray body = "FriendlyName=" + QByteArray(1024 * 1024, 'a');
    const HttpResponse response = call("POST", "/v1/Services", body);
    QCOMPARE(response.status, 413);
    QCOMPARE(response.json().value(QStringLiteral("code")).toInt(), 20413);
    // Exactly at the limit is still served.
    QCOMPARE(
        call("POST", "/v1/Services", "FriendlyName=" + QByteArray(1024 * 1024 - 13, 'a')).status,
        201);
}

void TestEngineHttp::formDecoding()
{
    // '+' and %20 are spaces, %2B is a plus, booleans in any case, unknown fields ignored.
    HttpResponse response = call("POST", "/v1/Services",
        "FriendlyName=a+b%20c%2Bd&AclEnabled=TRUE&WebhooksFromRestEnabled=True"
        "&ReachabilityDebouncingWindow=1000&Whatever=1");
    QCOMPARE(response.status, 201);
    QJsonObject service = response.json();
    QCOMPARE(service.value(QStringLiteral("friendly_name")).toString(), QStringLiteral("a b c+d"));
    QCOMPARE(service.value(QStringLiteral("acl_enabled")).toBool(), true);
    QCOMPARE(service.value(QStringLiteral("webhooks_from_rest_enabled")).toBool(), true);
    QCOMPARE(service.value(QStringLiteral("reachability_debouncing_window")).toInt(), 1000);

    // A unique name with spaces and non-ASCII, addressed through a percent-encoded path.
    response = call("POST", "/v1/Services/default/Streams", "UniqueName=a+b+%C3%BC");
    QCOMPARE(response.status, 201);
    const QString sid = response.json().value(QStringLiteral("sid")).toString();
    response = call("GET", "/v1/Services/default/Streams/a%20b%20%C3%BC");
    QCOMPARE(response.status, 200);
    QCOMPARE(response.json().value(QStringLiteral("sid")).toString(), sid);
    QCOMPARE(
        response.json().value(QStringLiteral("unique_name")).toString(), QStringLiteral("a b ü"));
}

void TestEngineHttp::urlsFollowTheHostTheClientUsed()
{
    const HttpResponse response = httpExchange(m_engine.port(), "GET", "/v1/Services/default",
        m_engine.authorization(), {}, {{"Host", "localhost:4242"}});
    QCOMPARE(response.status, 200);
    const QString url = response.json().value(QStringLiteral("url")).toString();
    QVERIFY2(
        url.startsWith(QStringLiteral("http://localhost:4242/v1/Services/IS")), qPrintable(url));
    // A Host header that could inject into URLs is not echoed.
    const HttpResponse hostile = httpExchange(m_engine.port(), "GET", "/v1/Services/default",
        m_engine.authorization(), {}, {{"Host", "evil.test/\"><x"}});
    QCOMPARE(hostile.status, 200);
    QVERIFY(hostile.json()
                .value(QStringLiteral("url"))
                .toString()
                .startsWith(QStringLiteral("http://127.0.0.1:%1/").arg(m_engine.port())));
}

void TestEngineHttp::lifecycleStatusCodes()
{
    static const QRegularExpression date(
        QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$"));
    HttpResponse response = call("POST", "/v1/Services", "FriendlyName=lifecycle");
    QCOMPARE(response.status, 201);
    const QByteArray service = response.json().value(QStringLiteral("sid")).toString().toLatin1();
    QVERIFY(
        date.match(response.json().value(QStringLiteral("date_created")).toString()).hasMatch());

    response = call("POST", "/v1/Services/" + service + "/Streams", "UniqueName=orders&Ttl=3600");
    QCOMPARE(response.status, 201);
    const QJsonObject stream = response.json();
    QCOMPARE(stream.value(QStringLiteral("created_by")).toString(), QStringLiteral("system"));
    const QDateTime created =
        QDateTime::fromString(stream.value(QStringLiteral("date_created")).toString(), Qt::ISODate);
    const QDateTime expires =
        QDateTime::fromString(stream.value(QStringLiteral("date_expires")).toString(), Qt::ISODate);
    QCOMPARE(created.secsTo(expires), 3600);
    QCOMPARE(stream.value(QStringLiteral("links"))
                 .toObject()
                 .value(QStringLiteral("messages"))
                 .toString(),
        stream.value(QStringLiteral("url")).toString() + QStringLiteral("/Messages"));

    QCOMPARE(call("POST", "/v1/Services/" + service + "/Streams", "UniqueName=orders").status, 409);
    response = call("POST", "/v1/Services/" + service + "/Streams/orders", "Ttl=0");
    QCOMPARE(response.status, 200);
    QVERIFY(response.json().value(QStringLiteral("date_expires")).isNull());

    response = call("DELETE", "/v1/Services/" + service + "/Streams/orders");
    QCOMPARE(response.status, 204);
    QVERIFY(response.body.isEmpty());
    QCOMPARE(call("GET", "/v1/Services/" + service + "/Streams/orders").status, 404);

    QCOMPARE(call("POST", "/v1/Services/" + service + "/Streams", "UniqueName=child").status, 201);
    QCOMPARE(call("DELETE", "/v1/Services/" + service).status, 204);
    QCOMPARE(call("GET", "/v1/Services/" + service + "/Streams/child").status, 404);
}

void TestEngineHttp::publishEchoesSidAndData()
{
    QCOMPARE(call("POST", "/v1/Services/default/Streams", "UniqueName=echo").status, 201);
    // python-twilio's json.dumps spacing, '+' for spaces.
    const HttpResponse response = call("POST", "/v1/Services/default/Streams/echo/Messages",
        "Data=%7B%22a%22%3A+1%2C+%22s%22%3A+%22%C3%BC+%26+%3D%22%7D");
    QCOMPARE(response.status, 201);
    const QJsonObject message = response.json();
    QVERIFY(QRegularExpression(QStringLiteral("^TZ[0-9a-f]{32}$"))
                .match(message.value(QStringLiteral("sid")).toString())
                .hasMatch());
    const QJsonObject data = message.value(QStringLiteral("data")).toObject();
    QCOMPARE(data.value(QStringLiteral("a")).toInt(), 1);
    QCOMPARE(data.value(QStringLiteral("s")).toString(), QStringLiteral("ü & ="));
}

void TestEngineHttp::streamExpiresWithinASecond()
{
    const HttpResponse created = call("POST", "/v1/Services/default/Streams", "Ttl=1");
    QCOMPARE(created.status, 201);
    const QByteArray url = "/v1/Services/default/Streams/"
        + created.json().value(QStringLiteral("sid")).toString().toLatin1();
    const qint64 expiresMs = QDateTime::fromString(
        created.json().value(QStringLiteral("date_expires")).toString(), Qt::ISODate)
                                 .toMSecsSinceEpoch();
    QTRY_VERIFY_WITH_TIMEOUT(call("GET", url).status == 404, 5000);
    // Gone no later than a second after date_expires.
    QVERIFY(QDateTime::currentMSecsSinceEpoch() - expiresMs < 1000);
}

void TestEngineHttp::pagingFollowsNextPageUrl()
{
    const HttpResponse service = call("POST", "/v1/Services", "FriendlyName=paging");
    const QByteArray sid = service.json().value(QStringLiteral("sid")).toString().toLatin1();
    QSet<QString> created;
    for (int i = 0; i < 7; ++i)
        created.insert(call("POST", "/v1/Services/" + sid + "/Streams", {})
                           .json()
                           .value(QStringLiteral("sid"))
                           .toString());

    QSet<QString> seen;
    QByteArray target = "/v1/Services/" + sid + "/Streams?PageSize=3";
    int pages = 0;
    while (!target.isEmpty()) {
        const HttpResponse response = call("GET", target);
        QCOMPARE(response.status, 200);
        const QJsonObject meta = response.json().value(QStringLiteral("meta")).toObject();
        QCOMPARE(meta.value(QStringLiteral("key")).toString(), QStringLiteral("streams"));
        QCOMPARE(meta.value(QStringLiteral("page")).toInt(), pages);
        QCOMPARE(meta.value(QStringLiteral("page_size")).toInt(), 3);
        QCOMPARE(meta.value(QStringLiteral("previous_page_url")).isNull(), pages == 0);
        for (const QJsonValue stream : response.json().value(QStringLiteral("streams")).toArray()) {
            const QString streamSid = stream.toObject().value(QStringLiteral("sid")).toString();
            QVERIFY2(!seen.contains(streamSid), "duplicate across pages");
            seen.insert(streamSid);
        }
        const QJsonValue next = meta.value(QStringLiteral("next_page_url"));
        target = next.isNull()
            ? QByteArray()
            : QUrl(next.toString()).toString(QUrl::RemoveScheme | QUrl::RemoveAuthority).toLatin1();
        ++pages;
    }
    QCOMPARE(seen, created);
    QCOMPARE(pages, 3);
}

// Creates that arrive in the same moment share one commit on the store's writer thread; each
// still gets its own answer, after that commit: one 201 for a unique name, 409 for the rest.
void TestEngineHttp::createsArrivingTogetherAreJudgedOneByOne()
{
    constexpr int kClients = 12;
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    for (int i = 0; i < kClients; ++i) {
        sockets.push_back(std::make_unique<QTcpSocket>());
        sockets.back()->connectToHost(QStringLiteral("127.0.0.1"), m_engine.port());
        QVERIFY(sockets.back()->waitForConnected(5000));
    }
    // Every request out before any answer is read. Every other one also creates an unnamed
    // stream, which must not be held back by the name's duplicates.
    for (int i = 0; i < kClients; ++i) {
        const QByteArray body = i % 2 == 0 ? "UniqueName=contested&Ttl=600" : "Ttl=600";
        sockets[i]->write(httpRequest(m_engine.port(), "POST", "/v1/Services/default/Streams",
            m_engine.authorization(), body));
        QVERIFY(sockets[i]->flush());
    }
    QStringList created;
    QString winner;
    int refused = 0;
    for (int i = 0; i < kClients; ++i) {
        QByteArray buffer;
        const HttpResponse response = readHttpResponse(*sockets[i], buffer);
        const QJsonObject json = response.json();
        if (response.status == 201) {
            created.append(json.value(QStringLiteral("sid")).toString());
            if (i % 2 == 0)
                winner = created.last();
        } else {
            QCOMPARE(response.status, 409);
            QCOMPARE(json.value(QStringLiteral("code")).toInt(), 54301);
            QVERIFY(i % 2 == 0);
            ++refused;
        }
    }
    QCOMPARE(refused, kClients / 2 - 1);
    QCOMPARE(created.size(), kClients / 2 + 1);
    QVERIFY(!winner.isEmpty());
    // What was acknowledged is there, the winner under its name.
    for (const QString &sid : std::as_const(created))
        QCOMPARE(call("GET", "/v1/Services/default/Streams/" + sid.toLatin1()).status, 200);
    const HttpResponse byName = call("GET", "/v1/Services/default/Streams/contested");
    QCOMPARE(byName.json().value(QStringLiteral("sid")).toString(), winner);
    QCOMPARE(call("DELETE", "/v1/Services/default/Streams/contested").status, 204);
}

// HTTP/1.1 pipelining: requests behind a create on the same connection are answered after it,
// in order, and see what it created.
void TestEngineHttp::pipelinedRequestsWaitForTheCreateBeforeThem()
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), m_engine.port());
    QVERIFY(socket.waitForConnected(5000));
    const QByteArray auth = m_engine.authorization();
    socket.write(httpRequest(m_engine.port(), "POST", "/v1/Services/default/Streams", auth,
                     "UniqueName=piped")
        + httpRequest(m_engine.port(), "GET", "/v1/Services/default/Streams/piped", auth)
        + httpRequest(
            m_engine.port(), "POST", "/v1/Services/default/Streams", auth, "UniqueName=piped")
        + httpRequest(m_engine.port(), "DELETE", "/v1/Services/default/Streams/piped", auth));
    QVERIFY(socket.flush());
    QByteArray buffer;
    const HttpResponse created = readHttpResponse(socket, buffer);
    QCOMPARE(created.status, 201);
    const HttpResponse fetched = readHttpResponse(socket, buffer);
    QCOMPARE(fetched.status, 200);
    QCOMPARE(
        fetched.json().value(QStringLiteral("sid")), created.json().value(QStringLiteral("sid")));
    const HttpResponse duplicate = readHttpResponse(socket, buffer);
    QCOMPARE(duplicate.status, 409);
    QCOMPARE(duplicate.json().value(QStringLiteral("code")).toInt(), 54301);
    QCOMPARE(readHttpResponse(socket, buffer).status, 204);
}

// A page asked for again and again on one connection (pipelined): every answer whole and alike,
// the kept page and the one it was made from.
void TestEngineHttp::keptAliveConnectionGetsWholePages()
{
    for (int i = 0; i < 3; ++i)
        QCOMPARE(call("POST", "/v1/Services/default/Streams", "Ttl=600").status, 201);
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), m_engine.port());
    QVERIFY(socket.waitForConnected(5000));
    QByteArray requests;
    for (int i = 0; i < 4; ++i)
        requests += httpRequest(m_engine.port(), "GET", "/v1/Services/default/Streams?PageSize=2",
            m_engine.authorization());
    socket.write(requests);
    QVERIFY(socket.flush());
    QByteArray buffer;
    const HttpResponse first = readHttpResponse(socket, buffer);
    QCOMPARE(first.status, 200);
    QCOMPARE(first.json().value(QStringLiteral("streams")).toArray().size(), 2);
    for (int i = 1; i < 4; ++i) {
        const HttpResponse next = readHttpResponse(socket, buffer);
        QCOMPARE(next.status, 200);
        QCOMPARE(next.header("Content-Length"), QByteArray::number(first.body.size()));
        QCOMPARE(next.body, first.body);
    }
    QVERIFY(buffer.isEmpty());
    QCOMPARE(socket.state(), QAbstractSocket::ConnectedState);
}

// "Connection: close" (RFC 9112, 9.6): the reply says so and the engine ends the connection, for
// a kept page as for anything else.
void TestEngineHttp::connectionCloseIsHonoured()
{
    for (const QByteArray &target :
        {QByteArray("/v1/Services/default/Streams?PageSize=3"), QByteArray("/v1/Services/nope")}) {
        call("GET", target); // a page is kept from here on
        QTcpSocket socket;
        socket.connectToHost(QStringLiteral("127.0.0.1"), m_engine.port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write(httpRequest(m_engine.port(), "GET", target, m_engine.authorization(), {},
            {{"Connection", "close"}}));
        QVERIFY(socket.flush());
        QByteArray buffer;
        const HttpResponse reply = readHttpResponse(socket, buffer);
        QVERIFY2(reply.status == 200 || reply.status == 404, target.constData());
        QCOMPARE(reply.header("Connection"), QByteArray("close"));
        QVERIFY(socket.state() == QAbstractSocket::UnconnectedState
            || socket.waitForDisconnected(5000));
    }
}

// Pipelined requests of every kind (kept pages, creates answered after their batch commits, a
// percent-encoded target) each get their answer, in the order they were sent.
void TestEngineHttp::pipelinedRequestsAnsweredInOrderWhoeverParsesThem()
{
    const QByteArray list = "/v1/Services/default/Streams?PageSize=4";
    const QByteArray auth = m_engine.authorization();
    const quint16 port = m_engine.port();
    const HttpResponse page = call("GET", list); // kept from here on, within its second
    QCOMPARE(page.status, 200);
    const QString firstSid = page.json()
                                 .value(QStringLiteral("streams"))
                                 .toArray()
                                 .first()
                                 .toObject()
                                 .value(QStringLiteral("sid"))
                                 .toString();
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    QVERIFY(socket.waitForConnected(5000));
    socket.write(httpRequest(port, "GET", list, auth)
        + httpRequest(port, "GET", "/v1/Services/default/Streams/" + firstSid.toUtf8(), auth)
        + httpRequest(port, "GET", "/v1/Services/default/Streams/no%20such%20stream", auth)
        + httpRequest(port, "GET", list, auth)
        + httpRequest(port, "GET", list, basicAuthorization(u"ACnobody"_s, u"wrong"_s))
        + httpRequest(port, "POST", "/v1/Services/default/Streams", auth, "Ttl=600")
        + httpRequest(port, "GET", list, auth));
    QVERIFY(socket.flush());
    QByteArray buffer;
    const HttpResponse kept = readHttpResponse(socket, buffer);
    QCOMPARE(kept.status, 200);
    QCOMPARE(kept.body, page.body);
    const HttpResponse fetched = readHttpResponse(socket, buffer);
    QCOMPARE(fetched.status, 200);
    QCOMPARE(fetched.json().value(QStringLiteral("sid")).toString(), firstSid);
    const HttpResponse missing = readHttpResponse(socket, buffer);
    QCOMPARE(missing.status, 404);
    QVERIFY(
        missing.json().value(QStringLiteral("message")).toString().contains(u"no such stream"_s));
    const HttpResponse keptAgain = readHttpResponse(socket, buffer);
    QCOMPARE(keptAgain.status, 200);
    QCOMPARE(keptAgain.body, page.body);
    // A kept page needs credentials like any other.
    const HttpResponse refused = readHttpResponse(socket, buffer);
    QCOMPARE(refused.status, 401);
    QCOMPARE(refused.json().value(QStringLiteral("code")).toInt(), 20003);
    const HttpResponse created = readHttpResponse(socket, buffer);
    QCOMPARE(created.status, 201);
    // The create changed the list, so the page after it is made anew.
    const HttpResponse after = readHttpResponse(socket, buffer);
    QCOMPARE(after.status, 200);
    QCOMPARE(after.json().value(QStringLiteral("streams")).toArray().size(), 4);
    QVERIFY(buffer.isEmpty());
}

// A request head that arrives in pieces is read once it is whole, however it was cut (the parser
// takes the request line before the headers have come); the requests after it on the connection
// are answered as usual.
void TestEngineHttp::requestHeadsArrivingInPiecesAreAnswered()
{
    const QByteArray list = "/v1/Services/default/Streams?PageSize=3";
    const HttpResponse page = call("GET", list);
    QCOMPARE(page.status, 200);
    const QByteArray request = httpRequest(m_engine.port(), "GET", list, m_engine.authorization());
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), m_engine.port());
    QVERIFY(socket.waitForConnected(5000));
    QByteArray buffer;
    // Cut within the request line, within a header, between the last CRLF's two bytes, and
    // just before the end; then the request whole, on the same connection.
    for (const qsizetype cut :
        {qsizetype(10), qsizetype(60), request.size() - 1, request.size() - 3}) {
        socket.write(request.first(cut));
        QVERIFY(socket.flush());
        // Not answered while it is not whole (the wait also lets the engine read the first
        // piece alone).
        QVERIFY2(!socket.waitForReadyRead(50), qPrintable(u"answered at %1 bytes"_s.arg(cut)));
        socket.write(request.sliced(cut));
        QVERIFY(socket.flush());
        const HttpResponse reply = readHttpResponse(socket, buffer);
        QVERIFY2(reply.status == 200, qPrintable(QString::number(cut)));
        QCOMPARE(reply.body, page.body);
    }
    socket.write(request);
    QVERIFY(socket.flush());
    QCOMPARE(readHttpResponse(socket, buffer).body, page.body);
    QVERIFY(buffer.isEmpty());
}

// The twilsock endpoint shares the REST port: a connection that asked for pages may still
// become a websocket, its upgrade request arriving in pieces.
void TestEngineHttp::connectionUpgradesAfterAKeptPage()
{
    const QByteArray list = "/v1/Services/default/Streams?PageSize=2";
    QCOMPARE(call("GET", list).status, 200);
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), m_engine.port());
    QVERIFY(socket.waitForConnected(5000));
    QByteArray buffer;
    for (int i = 0; i < 2; ++i) {
        socket.write(httpRequest(m_engine.port(), "GET", list, m_engine.authorization()));
        QVERIFY(socket.flush());
        QCOMPARE(readHttpResponse(socket, buffer).status, 200);
    }
    // In two pieces, the first with the whole request line: the parser takes that line, but the
    // handshake must reach Qt WebSockets whole (it rereads it from the socket).
    const QByteArray upgrade = upgradeRequest("/v3/wsconnect", m_engine.port());
    socket.write(upgrade.first(40));
    QVERIFY(socket.flush());
    // Not answered while it is not whole (the wait also lets the engine read the first piece
    // alone).
    QVERIFY(!socket.waitForReadyRead(50));
    socket.write(upgrade.sliced(40));
    QVERIFY(socket.flush());
    QVERIFY(QTest::qWaitFor(
        [&] {
            socket.waitForReadyRead(100);
            buffer += socket.readAll();
            return buffer.contains("\r\n\r\n");
        },
        10000));
    QVERIFY2(buffer.startsWith("HTTP/1.1 101"), buffer.constData());
    QVERIFY(buffer.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
}

// A body that arrives after its head is the body, whatever it looks like: here a GET of a kept
// page, which must not be answered as one.
void TestEngineHttp::bodyLikeARequestIsOnlyABody()
{
    const QByteArray list = "/v1/Services/default/Streams?PageSize=2";
    QCOMPARE(call("GET", list).status, 200);
    const QByteArray smuggled = httpRequest(m_engine.port(), "GET", list, m_engine.authorization());
    const QByteArray post = httpRequest(m_engine.port(), "POST", "/v1/Services/default/Streams",
        m_engine.authorization(), smuggled);
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), m_engine.port());
    QVERIFY(socket.waitForConnected(5000));
    socket.write(post.first(post.size() - smuggled.size())); // the head
    QVERIFY(socket.flush());
    // Not answered before its body (the wait also lets the engine read the head alone).
    QVERIFY(!socket.waitForReadyRead(50));
    socket.write(smuggled);
    QVERIFY(socket.flush());
    QByteArray buffer;
    QCOMPARE(readHttpResponse(socket, buffer).status, 201); // a create, its body a form
    QVERIFY(!socket.waitForReadyRead(300));
    QVERIFY2(buffer.isEmpty() && socket.bytesAvailable() == 0, buffer.constData());
}

// HEAD is not a method of the API (405), and its answer has headers only (RFC 9110, 9.3.2):
// the answer after it on the same connection must not be taken for a body.
void TestEngineHttp::headIsAnsweredWithoutABody()
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), m_engine.port());
    QVERIFY(socket.waitForConnected(5000));
    const QByteArray auth = m_engine.authorization();
    socket.write(httpRequest(m_engine.port(), "HEAD", "/v1/Services/default/Streams", auth)
        + httpRequest(m_engine.port(), "GET", "/v1/Services/default", auth));
    QVERIFY(socket.flush());
    QByteArray received;
    QVERIFY(QTest::qWaitFor(
        [&] {
            socket.waitForReadyRead(100);
            received += socket.readAll();
            return received.count("\r\n\r\n") >= 2 && received.endsWith('}');
        },
        10000));
    const qsizetype headEnd = received.indexOf("\r\n\r\n") + 4;
    const QByteArray head = received.first(headEnd);
    QVERIFY2(head.startsWith("HTTP/1.1 405 "), head.constData());
    QVERIFY(head.contains("Allow: "));
    QByteArray rest = received.sliced(headEnd);
    HttpResponse fetched;
    QVERIFY2(takeResponse(rest, fetched), received.constData());
    QCOMPARE(fetched.status, 200);
    QVERIFY(fetched.json().value(QStringLiteral("sid")).toString().startsWith(u"IS"_s));
    QVERIFY(rest.isEmpty());
}

void TestEngineHttp::versionAndHelp()
{
    QProcess process;
    process.start(EngineProcess::binary(), {QStringLiteral("--version")});
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 0);
    QVERIFY(process.readAllStandardOutput().contains(STREAMS_VERSION));

    process.start(EngineProcess::binary(), {QStringLiteral("--help")});
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 0);
    const QByteArray help = process.readAllStandardOutput();
    for (const char *option : {"--listen", "--data-dir", "--publish-rate", "--allow-remote"})
        QVERIFY2(help.contains(option), option);
}

void TestEngineHttp::refusesNonLoopbackWithoutFlag()
{
    EngineProcess engine;
    QProcess &process = engine.process();
    process.start(EngineProcess::binary(),
        {QStringLiteral("--listen"), QStringLiteral("0.0.0.0:0"), QStringLiteral("--data-dir"),
            engine.dataDir()});
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 2);
    QVERIFY(process.readAll().contains("--allow-remote"));
}

void TestEngineHttp::secondEngineOnSameDataDirIsRefused()
{
    EngineProcess second(m_engine.dataDir());
    QVERIFY(!second.start());
    QVERIFY2(second.output().contains("another engine"), second.output().constData());
}

void TestEngineHttp::sigtermShutsDownCleanly()
{
    EngineProcess engine;
    QVERIFY(engine.start());
    QCOMPARE(engine.stop(), 0);
    QVERIFY(engine.output().contains("shutting down"));
}

void TestEngineHttp::emptyTtlMeansNeverExpires()
{
    // 54011: "must either be empty or an integer between 0 and 31 536 000".
    HttpResponse response =
        call("POST", "/v1/Services/default/Streams", "UniqueName=emptyttl&Ttl=");
    QCOMPARE(response.status, 201);
    QVERIFY(response.json().value(QStringLiteral("date_expires")).isNull());
    QCOMPARE(call("POST", "/v1/Services/default/Streams/emptyttl", "Ttl=60").status, 200);
    response = call("POST", "/v1/Services/default/Streams/emptyttl", "Ttl=");
    QCOMPARE(response.status, 200);
    QVERIFY(response.json().value(QStringLiteral("date_expires")).isNull());
}

void TestEngineHttp::environmentSecretsAreNeverPrinted()
{
    // The secrets came from TWILIO_* variables on a fresh data directory: never echo them.
    // The start-up report follows the "listening" line; wait for all of it.
    QTRY_VERIFY(m_engine.output().contains("account SID"));
    const QByteArray output = m_engine.output();
    QVERIFY(output.contains(m_engine.accountSid().toLatin1()));
    QVERIFY(!output.contains(m_engine.authToken().toLatin1()));
    QVERIFY(!output.contains(m_engine.apiKeySecret().toLatin1()));
    QVERIFY(!output.contains("new credentials"));
}

QTEST_GUILESS_MAIN(TestEngineHttp)
#include "tst_enginehttp.moc"
