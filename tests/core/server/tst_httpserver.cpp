// HttpServer, the engine's HTTP/1.1 layer, on a real loopback port with a raw socket client, so
// every byte sent is the test's: pipelining with answers given out of order, chunked and
// 100-continue bodies, HEAD, Connection: close, the limits (413, 431, 400) and time limits (408,
// idle), absolute-form targets, and websocket handshakes handed over unread.
#include "httpclient.h"
#include "server/httpconnection.h"
#include "server/httpserver.h"
#include "waits.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>
#include <memory>

using namespace streams;
using namespace std::chrono_literals;

namespace {

// Answers at once with what it saw, as JSON; requests for /defer/... are kept for the test to
// answer when it likes.
class RecordingHandler final : public HttpHandler
{
public:
    QList<HttpRequest> requests;
    QHash<QByteArray, HttpExchange> deferred; // by path

    void handleRequest(const HttpExchange &exchange, HttpRequest request) override
    {
        requests.append(request);
        if (request.path.startsWith("/defer/")) {
            deferred.insert(request.path, exchange);
            return;
        }
        exchange.respond(answerFor(request));
    }

    static HttpResponse answerFor(const HttpRequest &request)
    {
        const QJsonObject seen{{QStringLiteral("method"), QString::fromLatin1(request.method)},
            {QStringLiteral("path"), QString::fromLatin1(request.path)},
            {QStringLiteral("query"), QString::fromLatin1(request.query)},
            {QStringLiteral("host"), QString::fromLatin1(request.host)},
            {QStringLiteral("body"), QString::fromLatin1(request.body)}};
        return HttpResponse{200, QJsonDocument(seen).toJson(QJsonDocument::Compact)};
    }
};

// A client connection that reads everything that comes.
struct RawClient
{
    QTcpSocket socket;
    QByteArray received;

    explicit RawClient(quint16 port)
    {
        QObject::connect(
            &socket, &QTcpSocket::readyRead, &socket, [this] { received += socket.readAll(); });
        socket.connectToHost(QHostAddress::LocalHost, port);
        socket.waitForConnected(5000);
    }
    void send(const QByteArray &bytes)
    {
        socket.write(bytes);
        socket.flush();
    }
    /// Sends `bytes` and returns once `server` has read them from its end of this connection
    /// (serverEnd()), so that they arrive as a piece of their own.
    bool sendAlone(const QByteArray &bytes, HttpServer &server)
    {
        QTcpSocket *end = serverEnd(server);
        if (!end)
            return false;
        QSignalSpy read(end, &QIODevice::readyRead);
        send(bytes);
        return read.wait(5000);
    }
    /// The server's end of this connection, once the server has taken it.
    QTcpSocket *serverEnd(HttpServer &server)
    {
        QTcpSocket *found = nullptr;
        (void)QTest::qWaitFor(
            [&] {
                for (const HttpConnection *connection : server.findChildren<HttpConnection *>()) {
                    if (connection->socket()
                        && connection->socket()->peerPort() == socket.localPort())
                        found = connection->socket();
                }
                return found != nullptr;
            },
            5000);
        return found;
    }
    /// The next whole response off what was received (waits up to 5 s).
    testing::HttpResponse next()
    {
        testing::HttpResponse response;
        if (!QTest::qWaitFor([&] { return testing::takeResponse(received, response); }, 5000))
            response.status = 0; // none came
        return response;
    }
    bool closedByServer()
    {
        return QTest::qWaitFor(
            [&] { return socket.state() == QAbstractSocket::UnconnectedState; }, 5000);
    }
};

QByteArray get(const QByteArray &target, const QByteArray &extra = {})
{
    return "GET " + target + " HTTP/1.1\r\nHost: h:1\r\n" + extra + "\r\n";
}

} // namespace

class TestHttpServer final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void pipelinedAnswersKeepRequestOrder();
    void chunkedBodyIsDecoded();
    void expectContinueGetsAnInterimAnswer();
    void otherExpectationsAre417();
    void oversizedBodyIs413BeforeItIsSent();
    void refusedBodyIsReadAwaySoTheAnswerArrives();
    void oversizedHeadIs431();
    void refusals_data();
    void refusals();
    void headIsAnsweredWithoutABody();
    void connectionCloseEndsAfterItsAnswer();
    void http10ClosesUnlessKeptAlive();
    void absoluteFormTargetNamesTheHost();
    void requestSplitAtEveryByteIsOneRequest();
    void requestLineBeforeTheRestOfTheHead();
    void idleConnectionIsClosed();
    void drippingRequestIs408();
    void websocketHandshakeIsHandedOverUnread();
    void refusedHandshakeIsAnswered();

private:
    void startServer(HttpServerOptions options = {});

    std::unique_ptr<RecordingHandler> m_handler;
    std::unique_ptr<HttpServer> m_server;
    quint16 m_port = 0;
};

void TestHttpServer::init()
{
    startServer();
}

void TestHttpServer::startServer(HttpServerOptions options)
{
    m_server.reset();
    m_handler = std::make_unique<RecordingHandler>();
    m_server = std::make_unique<HttpServer>(*m_handler, options);
    QString error;
    m_port = m_server->listen(QHostAddress::LocalHost, 0, &error);
    QVERIFY2(m_port != 0, qPrintable(error));
}

void TestHttpServer::cleanup()
{
    m_server.reset();
    m_handler.reset();
}

void TestHttpServer::pipelinedAnswersKeepRequestOrder()
{
    RawClient client(m_port);
    client.send(get("/defer/a") + get("/now/b") + get("/defer/c"));
    QTRY_COMPARE(m_handler->requests.size(), 3);
    // The last one answered first, then the first: answers still go out in request order.
    m_handler->deferred.value("/defer/c").respond({200, "\"c\""});
    // Nothing may arrive while the first is unanswered.
    QVERIFY(testing::holdsFor([&] { return client.received.isEmpty(); }, 50));
    m_handler->deferred.value("/defer/a").respond({200, "\"a\""});
    QCOMPARE(client.next().body, QByteArray("\"a\""));
    QCOMPARE(client.next().json().value(u"path").toString(), QStringLiteral("/now/b"));
    QCOMPARE(client.next().body, QByteArray("\"c\""));
    // Answering twice changes nothing.
    m_handler->deferred.value("/defer/a").respond({500, "\"again\""});
    client.send(get("/now/d"));
    QCOMPARE(client.next().json().value(u"path").toString(), QStringLiteral("/now/d"));
}

void TestHttpServer::chunkedBodyIsDecoded()
{
    RawClient client(m_port);
    client.send("POST /form HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5\r\nData=\r\n3;ext=1\r\nabc\r\n0\r\n\r\n");
    const testing::HttpResponse response = client.next();
    QCOMPARE(response.status, 200);
    QCOMPARE(response.json().value(u"body").toString(), QStringLiteral("Data=abc"));
}

void TestHttpServer::expectContinueGetsAnInterimAnswer()
{
    RawClient client(m_port);
    client.send("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                "Expect: 100-continue\r\n\r\n");
    QTRY_COMPARE(client.received, QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
    client.received.clear();
    client.send("a=b&c");
    const testing::HttpResponse response = client.next();
    QCOMPARE(response.status, 200);
    QCOMPARE(response.json().value(u"body").toString(), QStringLiteral("a=b&c"));
}

void TestHttpServer::otherExpectationsAre417()
{
    RawClient client(m_port);
    client.send("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: magic\r\n\r\nx");
    const testing::HttpResponse response = client.next();
    QCOMPARE(response.status, 417);
    QCOMPARE(response.json().value(u"code").toInt(), 20417);
    QVERIFY(client.closedByServer());
}

void TestHttpServer::oversizedBodyIs413BeforeItIsSent()
{
    RawClient client(m_port);
    // Only the head: the answer comes without waiting for the 2 MB it announces.
    client.send("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n");
    const testing::HttpResponse response = client.next();
    QCOMPARE(response.status, 413);
    const QJsonObject error = response.json();
    QCOMPARE(error.value(u"code").toInt(), 20413);
    QCOMPARE(error.value(u"status").toInt(), 413);
    QCOMPARE(error.value(u"more_info").toString(),
        QStringLiteral("https://www.twilio.com/docs/errors/20413"));
    QVERIFY(client.closedByServer());
    QVERIFY(m_handler->requests.isEmpty());
}

// The client sends the whole refused body anyway (as QNetworkAccessManager and most clients do):
// the engine reads it away after its answer instead of closing on unread bytes, which would
// reset the connection and could take the answer with it.
void TestHttpServer::refusedBodyIsReadAwaySoTheAnswerArrives()
{
    for (int attempt = 0; attempt < 5; ++attempt) {
        RawClient client(m_port);
        client.send("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 4000000\r\n\r\n"
            + QByteArray(4'000'000, 'x'));
        const testing::HttpResponse response = client.next();
        QCOMPARE(response.status, 413);
        QVERIFY(client.closedByServer());
        QCOMPARE(client.socket.error(), QAbstractSocket::RemoteHostClosedError);
    }
    QTRY_COMPARE(m_server->connectionCount(), 0);
    QVERIFY(m_handler->requests.isEmpty());
}

void TestHttpServer::oversizedHeadIs431()
{
    RawClient client(m_port);
    client.send("GET / HTTP/1.1\r\nHost: h\r\nX-Filler: " + QByteArray(20'000, 'x') + "\r\n\r\n");
    const testing::HttpResponse response = client.next();
    QCOMPARE(response.status, 431);
    QCOMPARE(response.json().value(u"code").toInt(), 20431);
    QVERIFY(client.closedByServer());
    QVERIFY(m_handler->requests.isEmpty());
}

void TestHttpServer::refusals_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");

    QTest::addRow("not HTTP") << QByteArray("HELLO\r\n\r\n") << 400;
    QTest::addRow("no version") << QByteArray("GET /\r\nHost: h\r\n\r\n") << 400;
    QTest::addRow("HTTP/2 preface") << QByteArray("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") << 400;
    QTest::addRow("space in the target")
        << QByteArray("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n") << 400;
    QTest::addRow("no Host in HTTP/1.1") << QByteArray("GET / HTTP/1.1\r\n\r\n") << 400;
    QTest::addRow("two Hosts") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") << 400;
    QTest::addRow("two Authorizations")
        << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: x\r\nAuthorization: y\r\n\r\n")
        << 400;
    QTest::addRow("two Content-Lengths") << QByteArray(
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
                                         << 400;
    QTest::addRow("Content-Length not a number")
        << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\nab") << 400;
    QTest::addRow("bad chunk size")
        << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        << 400;
    QTest::addRow("asterisk target") << QByteArray("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n") << 400;
}

// A malformed request is answered with Twilio's error JSON, and the connection ends: nothing
// after it is read.
void TestHttpServer::refusals()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    RawClient client(m_port);
    client.send(get("/first") + request + get("/after"));
    QCOMPARE(client.next().json().value(u"path").toString(), QStringLiteral("/first"));
    const testing::HttpResponse refusal = client.next();
    QCOMPARE(refusal.status, status);
    QCOMPARE(refusal.json().value(u"code").toInt(), 20000 + status);
    QVERIFY(!refusal.json().value(u"message").toString().isEmpty());
    QCOMPARE(refusal.header("Connection"), QByteArray("close"));
    QVERIFY(client.closedByServer());
    QCOMPARE(m_handler->requests.size(), 1);
}

void TestHttpServer::headIsAnsweredWithoutABody()
{
    RawClient client(m_port);
    client.send("HEAD /thing HTTP/1.1\r\nHost: h\r\n\r\n" + get("/next"));
    QTRY_COMPARE(m_handler->requests.size(), 2);
    const QByteArray getBody = RecordingHandler::answerFor(m_handler->requests.at(0)).body;
    // The HEAD's answer: headers only, with the length the body would have.
    QTRY_VERIFY(client.received.contains("\r\n\r\nHTTP/1.1 200 OK"));
    const qsizetype end = client.received.indexOf("\r\n\r\n") + 4;
    const QByteArray head = client.received.first(end);
    QVERIFY(head.startsWith("HTTP/1.1 200 OK\r\n"));
    QVERIFY(head.contains("Content-Length: " + QByteArray::number(getBody.size()) + "\r\n"));
    client.received.remove(0, end);
    QCOMPARE(client.next().json().value(u"path").toString(), QStringLiteral("/next"));
}

void TestHttpServer::connectionCloseEndsAfterItsAnswer()
{
    RawClient client(m_port);
    client.send(get("/last", "Connection: close\r\n") + get("/never"));
    const testing::HttpResponse response = client.next();
    QCOMPARE(response.json().value(u"path").toString(), QStringLiteral("/last"));
    QCOMPARE(response.header("Connection"), QByteArray("close"));
    QVERIFY(client.closedByServer());
    QCOMPARE(m_handler->requests.size(), 1);
}

void TestHttpServer::http10ClosesUnlessKeptAlive()
{
    RawClient kept(m_port);
    kept.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
    QCOMPARE(kept.next().json().value(u"path").toString(), QStringLiteral("/a"));
    QCOMPARE(kept.next().json().value(u"path").toString(), QStringLiteral("/b"));
    QVERIFY(kept.closedByServer());
}

void TestHttpServer::absoluteFormTargetNamesTheHost()
{
    RawClient client(m_port);
    client.send("GET http://sync.example:8443/v1/Services?PageSize=2 HTTP/1.1\r\n"
                "Host: other\r\n\r\n");
    const QJsonObject seen = client.next().json();
    QCOMPARE(seen.value(u"path").toString(), QStringLiteral("/v1/Services"));
    QCOMPARE(seen.value(u"query").toString(), QStringLiteral("PageSize=2"));
    QCOMPARE(seen.value(u"host").toString(), QStringLiteral("sync.example:8443"));
}

// However the bytes of a request arrive, it is one request with one answer.
void TestHttpServer::requestSplitAtEveryByteIsOneRequest()
{
    const QByteArray request = "POST /split?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\n"
                               "a=b&c=d";
    RawClient client(m_port);
    for (const char c : request)
        QVERIFY(client.sendAlone(QByteArray(1, c), *m_server));
    const QJsonObject seen = client.next().json();
    QCOMPARE(seen.value(u"body").toString(), QStringLiteral("a=b&c=d"));
    QCOMPARE(m_handler->requests.size(), 1);
}

// A first piece that holds the whole request line and part of the headers: the parser takes the
// line before the rest has come, and the head is still read once, whole; a websocket handshake
// arriving so is still handed over whole.
void TestHttpServer::requestLineBeforeTheRestOfTheHead()
{
    RawClient client(m_port);
    QVERIFY(client.sendAlone("GET /first?a=1 HTTP/1.1\r\nHo", *m_server));
    client.send("st: h:1\r\n\r\n" + get("/second"));
    QCOMPARE(client.next().json().value(u"path").toString(), QStringLiteral("/first"));
    QCOMPARE(client.next().json().value(u"path").toString(), QStringLiteral("/second"));

    QList<QByteArray> handedOver;
    m_server->addUpgrade("/ws",
        {[](const HttpRequest &, const QHostAddress &) { return std::optional<HttpResponse>(); },
            [&](QTcpSocket *socket) {
                handedOver.append(socket->readAll());
                socket->deleteLater();
            }});
    const QByteArray handshake = get("/ws", "Connection: Upgrade\r\nUpgrade: websocket\r\n");
    RawClient upgrading(m_port);
    QVERIFY(upgrading.sendAlone(handshake.first(30), *m_server));
    upgrading.send(handshake.sliced(30));
    QTRY_COMPARE(handedOver.size(), 1);
    QCOMPARE(handedOver.at(0), handshake);
}

void TestHttpServer::idleConnectionIsClosed()
{
    HttpServerOptions options;
    options.idleTimeout = 300ms;
    startServer(options);
    RawClient client(m_port);
    client.send(get("/one"));
    QCOMPARE(client.next().status, 200);
    QVERIFY(client.closedByServer());
    QTRY_COMPARE(m_server->connectionCount(), 0);
}

void TestHttpServer::drippingRequestIs408()
{
    HttpServerOptions options;
    options.requestTimeout = 300ms;
    startServer(options);
    RawClient client(m_port);
    client.send("GET /slow HTTP/1.1\r\nHo");
    const testing::HttpResponse response = client.next();
    QCOMPARE(response.status, 408);
    QCOMPARE(response.json().value(u"code").toInt(), 20408);
    QVERIFY(client.closedByServer());
    QVERIFY(m_handler->requests.isEmpty());
}

// The handshake goes to QWebSocketServer::handleConnection() unread, after the answers to what
// was pipelined before it; QWebSocketServer completes it.
void TestHttpServer::websocketHandshakeIsHandedOverUnread()
{
    QWebSocketServer websockets(QStringLiteral("test"), QWebSocketServer::NonSecureMode);
    QList<QByteArray> handedOver;
    m_server->addUpgrade("/ws",
        {[](const HttpRequest &, const QHostAddress &) { return std::optional<HttpResponse>(); },
            [&](QTcpSocket *socket) {
                handedOver.append(socket->peek(socket->bytesAvailable()));
                socket->setParent(&websockets);
                websockets.handleConnection(socket);
            }});
    QWebSocket client;
    QSignalSpy connected(&client, &QWebSocket::connected);
    client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(m_port)));
    QVERIFY(connected.wait(5000));
    QCOMPARE(handedOver.size(), 1);
    QVERIFY(handedOver.at(0).startsWith("GET /ws HTTP/1.1\r\n"));
    QVERIFY(handedOver.at(0).endsWith("\r\n\r\n"));
    QVERIFY(m_handler->requests.isEmpty());
    QTRY_VERIFY(websockets.hasPendingConnections());
    std::unique_ptr<QWebSocket> server(websockets.nextPendingConnection());
    QSignalSpy echoed(&client, &QWebSocket::textMessageReceived);
    connect(server.get(), &QWebSocket::textMessageReceived, server.get(),
        [&](const QString &text) { server->sendTextMessage(text); });
    client.sendTextMessage(QStringLiteral("ping"));
    QVERIFY(echoed.wait(5000));
    QCOMPARE(echoed.at(0).at(0).toString(), QStringLiteral("ping"));

    // Behind an unanswered request, the handshake waits for its answer.
    RawClient raw(m_port);
    raw.send(get("/defer/first")
        + get("/ws",
            "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
    QTRY_COMPARE(m_handler->requests.size(), 1);
    // Not handed over while the request before it is unanswered.
    QVERIFY(testing::holdsFor([&] { return handedOver.size() == 1; }, 50));
    m_handler->deferred.value("/defer/first").respond({200, "\"first\""});
    QCOMPARE(raw.next().body, QByteArray("\"first\""));
    QTRY_COMPARE(handedOver.size(), 2);
    QTRY_VERIFY(raw.received.startsWith("HTTP/1.1 101 Switching Protocols\r\n"));
}

void TestHttpServer::refusedHandshakeIsAnswered()
{
    bool taken = false;
    m_server->addUpgrade("/ws",
        {[](const HttpRequest &, const QHostAddress &) {
             return std::optional<HttpResponse>(HttpResponse{403, "{\"code\":20403}"});
         },
            [&](QTcpSocket *) { taken = true; }});
    RawClient raw(m_port);
    raw.send(get("/ws", "Connection: Upgrade\r\nUpgrade: websocket\r\n"));
    const testing::HttpResponse response = raw.next();
    QCOMPARE(response.status, 403);
    QVERIFY(raw.closedByServer());
    QVERIFY(!taken);
    // An upgrade to another path is an ordinary request, and the connection's last: its client
    // waits for a 101 or the end.
    RawClient other(m_port);
    other.send(get("/elsewhere", "Connection: Upgrade\r\nUpgrade: websocket\r\n") + get("/more"));
    QCOMPARE(other.next().json().value(u"path").toString(), QStringLiteral("/elsewhere"));
    QVERIFY(other.closedByServer());
    QCOMPARE(m_handler->requests.size(), 1);
}

QTEST_GUILESS_MAIN(TestHttpServer)
#include "tst_httpserver.moc"
