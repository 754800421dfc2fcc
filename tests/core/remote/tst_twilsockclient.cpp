// TwilsockClient against a real streams-engine process on loopback (the same bytes it exchanges
// with Twilio's cloud), and against QWebSocketServers in this test for what a healthy engine
// never does: a server that accepts and then says nothing, pings and notifications on demand,
// and server `close` codes.

#include "awaitfuture.h"
#include "engineprocess.h"
#include "remote/twilsockclient.h"
#include "twilsock/accesstoken.h"
#include "twilsock/framecodec.h"
#include "waits.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>
#include <memory>

using namespace streams;
using namespace streams::testing;
using twilsock::AccessToken;
using twilsock::AccessTokenClaims;
using twilsock::Frame;
using twilsock::FrameCodec;

namespace {

constexpr int kWaitMs = 10000;

QString str(const char *text)
{
    return QString::fromLatin1(text);
}

/// A websocket server in this process that speaks just enough twilsock to misbehave on purpose.
class FakeTwilsockServer final
{
    Q_DISABLE_COPY_MOVE(FakeTwilsockServer)

public:
    /// `answerInit`: reply 200 to `init`; otherwise accept the socket and never say a word.
    explicit FakeTwilsockServer(bool answerInit)
        : m_server(str("fake twilsock"), QWebSocketServer::NonSecureMode), m_answerInit(answerInit)
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        QObject::connect(&m_server, &QWebSocketServer::newConnection, &m_server, [this] {
            while (QWebSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(&m_server);
                m_sockets.append(socket);
                QObject::connect(socket, &QWebSocket::binaryMessageReceived, socket,
                    [this, socket](const QByteArray &bytes) { onFrame(socket, bytes); });
            }
        });
    }

    QUrl url() const
    {
        return QUrl(QStringLiteral("ws://127.0.0.1:%1/v3/wsconnect").arg(m_server.serverPort()));
    }
    qsizetype accepted() const { return m_sockets.size(); }
    QWebSocket *last() const { return m_sockets.isEmpty() ? nullptr : m_sockets.last(); }
    const QList<Frame> &frames() const { return m_frames; }
    qsizetype count(const QString &method) const
    {
        return std::count_if(m_frames.cbegin(), m_frames.cend(),
            [&](const Frame &frame) { return frame.method() == method; });
    }
    bool hasReplyTo(const QString &id) const
    {
        return std::any_of(m_frames.cbegin(), m_frames.cend(), [&](const Frame &frame) {
            return frame.method() == u"reply" && frame.id() == id
                && frame.header.value(str("status")).toObject().value(str("code")).toInt() == 200;
        });
    }

    /// The replies to the next inits, in order (status object, payload); 200 once used up.
    void scriptInits(QList<std::pair<QJsonObject, QByteArray>> replies)
    {
        m_initReplies = std::move(replies);
    }

    void send(const QJsonObject &header, const QByteArray &payload = {})
    {
        if (QWebSocket *socket = last())
            socket->sendBinaryMessage(FrameCodec::encode(header, payload));
    }

private:
    void onFrame(QWebSocket *socket, const QByteArray &bytes)
    {
        auto frame = FrameCodec::decode(bytes);
        if (!frame)
            return;
        m_frames.append(*frame);
        if (!m_answerInit || frame->method() != u"init")
            return;
        auto [status, payload] = m_initReplies.isEmpty()
            ? std::pair{QJsonObject{{str("code"), 200}, {str("status"), str("OK")}}, QByteArray()}
            : m_initReplies.takeFirst();
        socket->sendBinaryMessage(
            FrameCodec::encode(QJsonObject{{str("method"), str("reply")}, {str("id"), frame->id()},
                                   {str("status"), status}},
                payload));
    }

    QWebSocketServer m_server;
    bool m_answerInit = false;
    QList<QWebSocket *> m_sockets;
    QList<Frame> m_frames;
    QList<std::pair<QJsonObject, QByteArray>> m_initReplies;
};

} // namespace

class TestTwilsockClient final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void connectsAndInitialises();
    void upstreamRoundTrip();
    void deniedWithWrongSecret();
    void expiredTokenIsRetriedOnce();
    void expiredTokenTwiceIsDenied();
    void brokenTokenSourceFails();

    void requestTimesOutAndWatchdogReconnects();
    void initWithoutAnswerTimesOut();
    void acknowledgesEveryServerFrame();
    void initRefusals_data();
    void initRefusals();
    void serverClose_data();
    void serverClose();
    void closeSaysGoodbye();
    void unreachableHostBacksOff();

    void tokenRefreshKeepsTheConnection();
    void staleTokenGetsClose410AndReconnects();

private:
    QUrl wsUrl() const;
    QUrl cds(const QString &path) const;
    AccessTokenClaims claims(qint64 issuedAt, qint64 lifetimeSeconds) const;
    /// Fresh tokens for the engine's API key, counting the calls.
    TwilsockClient::TokenSource freshTokens(
        int lifetimeSeconds = 3600, const std::shared_ptr<int> &calls = {}) const;
    /// Any syntactically fine token (for servers that do not check).
    static TwilsockClient::TokenSource dummyTokens();

    EngineProcess m_engine;
};

void TestTwilsockClient::initTestCase()
{
    QVERIFY(m_engine.start());
}

void TestTwilsockClient::cleanupTestCase()
{
    m_engine.stop();
}

QUrl TestTwilsockClient::wsUrl() const
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1/v3/wsconnect").arg(m_engine.port()));
}

QUrl TestTwilsockClient::cds(const QString &path) const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_engine.port()).arg(path));
}

AccessTokenClaims TestTwilsockClient::claims(qint64 issuedAt, qint64 lifetimeSeconds) const
{
    AccessTokenClaims c;
    c.apiKeySid = m_engine.apiKeySid();
    c.accountSid = m_engine.accountSid();
    c.identity = str("tester");
    c.issuedAt = issuedAt;
    c.expiresAt = issuedAt + lifetimeSeconds; // no service: the account's default service
    return c;
}

TwilsockClient::TokenSource TestTwilsockClient::freshTokens(
    int lifetimeSeconds, const std::shared_ptr<int> &calls) const
{
    return [this, lifetimeSeconds, calls]() -> std::expected<TwilsockClient::Token, QString> {
        if (calls)
            ++*calls;
        const AccessTokenClaims c = claims(QDateTime::currentSecsSinceEpoch(), lifetimeSeconds);
        return TwilsockClient::Token{
            AccessToken::mint(c, m_engine.apiKeySecret().toUtf8()), c.expiresAt};
    };
}

TwilsockClient::TokenSource TestTwilsockClient::dummyTokens()
{
    return []() -> std::expected<TwilsockClient::Token, QString> {
        return TwilsockClient::Token{QByteArrayLiteral("header.payload.signature"),
            QDateTime::currentSecsSinceEpoch() + 3600};
    };
}

void TestTwilsockClient::connectsAndInitialises()
{
    TwilsockClient client(wsUrl(), freshTokens());
    QSignalSpy states(&client, &TwilsockClient::stateChanged);
    QSignalSpy connected(&client, &TwilsockClient::connected);
    QCOMPARE(client.state(), TwilsockClient::State::Disconnected);
    client.open();
    QCOMPARE(client.state(), TwilsockClient::State::Connecting);
    QVERIFY(connected.wait(kWaitMs));
    QCOMPARE(client.state(), TwilsockClient::State::Connected);
    QCOMPARE(states.size(), 2);
    QCOMPARE(states.at(1).at(0).value<TwilsockClient::State>(), TwilsockClient::State::Connected);
    QVERIFY(client.lastError().message().isEmpty());

    client.close();
    QCOMPARE(client.state(), TwilsockClient::State::Disconnected);
    // Closed means closed: nothing reconnects behind the caller's back.
    QVERIFY(noSignalFor(states, 300));
    QCOMPARE(client.state(), TwilsockClient::State::Disconnected);
    QCOMPARE(connected.size(), 1);
}

void TestTwilsockClient::upstreamRoundTrip()
{
    TwilsockClient client(wsUrl(), freshTokens());
    client.open();
    // Issued before init completed: it waits for the connection instead of failing.
    auto missing = client.sendUpstream("GET", cds(str("/v3/Streams/no-such-stream")));
    const auto reply = await(missing);
    QVERIFY2(reply.has_value(), qPrintable(reply ? QString() : reply.error().message()));
    QCOMPARE(reply->httpStatus, 404);
    const QJsonObject error = QJsonDocument::fromJson(reply->body).object();
    QCOMPARE(error.value(str("code")).toInt(), 20404);
    QCOMPARE(client.state(), TwilsockClient::State::Connected);

    const QString name = QStringLiteral("round-trip-%1").arg(QDateTime::currentMSecsSinceEpoch());
    const auto created = await(client.sendUpstream("POST", cds(str("/v3/Streams")),
        QJsonDocument(QJsonObject{{str("unique_name"), name}}).toJson(QJsonDocument::Compact)));
    QVERIFY(created.has_value());
    QCOMPARE(created->httpStatus, 201);
    const QJsonObject descriptor = QJsonDocument::fromJson(created->body).object();
    QVERIFY(descriptor.value(str("sid")).toString().startsWith(u"TO"));
    QCOMPARE(descriptor.value(str("unique_name")).toString(), name);

    // By unique name, and a query string travels in `params` without breaking the route.
    const auto fetched =
        await(client.sendUpstream("GET", cds(QStringLiteral("/v3/Streams/%1?x=1").arg(name))));
    QVERIFY(fetched.has_value());
    QCOMPARE(fetched->httpStatus, 200);
    QCOMPARE(QJsonDocument::fromJson(fetched->body).object().value(str("sid")),
        descriptor.value(str("sid")));
}

void TestTwilsockClient::deniedWithWrongSecret()
{
    TwilsockClient::TokenSource wrongSecret =
        [this]() -> std::expected<TwilsockClient::Token, QString> {
        const AccessTokenClaims c = claims(QDateTime::currentSecsSinceEpoch(), 3600);
        return TwilsockClient::Token{AccessToken::mint(c, "not-the-secret"), c.expiresAt};
    };
    TwilsockClient::Options options;
    options.backoffInitialMs = 50;
    TwilsockClient client(wsUrl(), wrongSecret, options);
    QSignalSpy states(&client, &TwilsockClient::stateChanged);
    QSignalSpy disconnected(&client, &TwilsockClient::disconnected);
    client.open();
    auto pending = client.sendUpstream("GET", cds(str("/v3/Streams/x")));
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), TwilsockClient::State::Denied, kWaitMs);
    QCOMPARE(client.lastError().code(), 20101);
    QCOMPARE(client.lastError().httpStatus(), 401);
    QVERIFY(client.lastError().message().contains(u"Invalid Access Token"));
    QCOMPARE(disconnected.size(), 1);

    // The waiting request fails with the refusal, at once rather than after its timeout.
    const auto failed = await(pending);
    QVERIFY(!failed.has_value());
    QCOMPARE(failed.error().code(), 20101);
    // And later ones too.
    const auto later = await(client.sendUpstream("GET", cds(str("/v3/Streams/x"))));
    QVERIFY(!later.has_value());
    QCOMPARE(later.error().code(), 20101);

    // Denied is terminal: no retry however long one waits for the back-off.
    QVERIFY(noSignalFor(states, 400));
    QCOMPARE(client.state(), TwilsockClient::State::Denied);
}

void TestTwilsockClient::expiredTokenIsRetriedOnce()
{
    auto calls = std::make_shared<int>(0);
    TwilsockClient::TokenSource source =
        [this, calls]() -> std::expected<TwilsockClient::Token, QString> {
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        // The first token is already expired (a token source behind the clock).
        const AccessTokenClaims c = ++*calls == 1 ? claims(now - 120, 60) : claims(now, 3600);
        return TwilsockClient::Token{
            AccessToken::mint(c, m_engine.apiKeySecret().toUtf8()), c.expiresAt};
    };
    TwilsockClient client(wsUrl(), source);
    QSignalSpy connected(&client, &TwilsockClient::connected);
    client.open();
    QVERIFY(connected.wait(kWaitMs));
    QCOMPARE(*calls, 2);
    QCOMPARE(client.lastError().code(), 20104);
}

void TestTwilsockClient::expiredTokenTwiceIsDenied()
{
    auto calls = std::make_shared<int>(0);
    TwilsockClient::TokenSource source =
        [this, calls]() -> std::expected<TwilsockClient::Token, QString> {
        ++*calls;
        const AccessTokenClaims c = claims(QDateTime::currentSecsSinceEpoch() - 120, 60);
        return TwilsockClient::Token{
            AccessToken::mint(c, m_engine.apiKeySecret().toUtf8()), c.expiresAt};
    };
    TwilsockClient client(wsUrl(), source);
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), TwilsockClient::State::Denied, kWaitMs);
    QCOMPARE(client.lastError().code(), 20104);
    QCOMPARE(client.lastError().httpStatus(), 401);
    QCOMPARE(*calls, 2);
}

void TestTwilsockClient::brokenTokenSourceFails()
{
    TwilsockClient::TokenSource broken = []() -> std::expected<TwilsockClient::Token, QString> {
        return std::unexpected(str("no API key configured"));
    };
    TwilsockClient client(wsUrl(), broken);
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), TwilsockClient::State::Failed, kWaitMs);
    QVERIFY(client.lastError().message().contains(u"no API key configured"));
}

void TestTwilsockClient::requestTimesOutAndWatchdogReconnects()
{
    FakeTwilsockServer server(true); // answers init, then never another word
    TwilsockClient::Options options;
    options.requestTimeoutMs = 600;
    options.watchdogMs = 1500;
    options.backoffInitialMs = 50;
    TwilsockClient client(server.url(), dummyTokens(), options);
    QSignalSpy connected(&client, &TwilsockClient::connected);
    QSignalSpy disconnected(&client, &TwilsockClient::disconnected);
    client.open();
    QVERIFY(connected.wait(kWaitMs));
    QElapsedTimer sinceConnected;
    sinceConnected.start();

    QElapsedTimer requestTime;
    requestTime.start();
    const auto reply =
        await(client.sendUpstream("GET", QUrl(str("http://127.0.0.1:1/v3/Streams/x"))));
    const qint64 waited = requestTime.elapsed();
    QVERIFY(!reply.has_value());
    QVERIFY(reply.error().isConnectionFailure());
    QVERIFY2(
        reply.error().message().contains(u"within 600 ms"), qPrintable(reply.error().message()));
    QVERIFY2(waited >= 550, qPrintable(QString::number(waited)));
    QCOMPARE(server.count(str("message")), 1); // it was sent; only the answer never came
    QCOMPARE(disconnected.size(), 0); // a request timing out does not drop the connection

    // Silence past the watchdog drops the socket and connects again.
    QVERIFY(disconnected.wait(kWaitMs));
    QVERIFY2(
        sinceConnected.elapsed() >= 1400, qPrintable(QString::number(sinceConnected.elapsed())));
    const ApiError reason = disconnected.at(0).at(0).value<ApiError>();
    QVERIFY(reason.isConnectionFailure());
    QVERIFY2(reason.message().contains(u"1500 ms"), qPrintable(reason.message()));
    QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 2, kWaitMs);
    QCOMPARE(server.accepted(), 2);
    QCOMPARE(client.state(), TwilsockClient::State::Connected);
}

void TestTwilsockClient::initWithoutAnswerTimesOut()
{
    FakeTwilsockServer server(false); // accepts the websocket, never answers anything
    TwilsockClient::Options options;
    options.requestTimeoutMs = 700;
    options.watchdogMs = 60000;
    options.backoffInitialMs = 50;
    TwilsockClient client(server.url(), dummyTokens(), options);
    client.open();
    const auto reply =
        await(client.sendUpstream("GET", QUrl(str("http://127.0.0.1:1/v3/Streams/x"))));
    QVERIFY(!reply.has_value());
    QVERIFY(reply.error().isConnectionFailure());
    QVERIFY2(
        reply.error().message().contains(u"Not connected"), qPrintable(reply.error().message()));
    QCOMPARE(server.count(str("message")), 0); // never sent: there was no session to send it on
    // The unanswered init counts as a failed attempt: the client tries again.
    QTRY_VERIFY_WITH_TIMEOUT(server.accepted() >= 2, kWaitMs);
    QCOMPARE(client.state(), TwilsockClient::State::Reconnecting);
    QVERIFY(client.lastError().message().contains(u"No reply"));
}

void TestTwilsockClient::acknowledgesEveryServerFrame()
{
    FakeTwilsockServer server(true);
    TwilsockClient client(server.url(), dummyTokens());
    QSignalSpy connected(&client, &TwilsockClient::connected);
    QSignalSpy notifications(&client, &TwilsockClient::notificationReceived);
    client.open();
    QVERIFY(connected.wait(kWaitMs));

    // The init frame is shaped like the SDK's, naming this product.
    const Frame init = server.frames().first();
    QCOMPARE(init.method(), str("init"));
    QVERIFY(init.id().startsWith(u"TM"));
    QVERIFY(init.header.value(str("continuation_token")).isNull());
    QCOMPARE(init.header.value(str("capabilities")).toArray(), QJsonArray{str("client_update")});
    QCOMPARE(
        init.header.value(str("registrations")).toArray().first().toObject().value(str("product")),
        str("data_sync"));
    QCOMPARE(init.header.value(str("metadata")).toObject().value(str("sdk")).toString(),
        str("SyncStreamsConsole"));

    server.send(QJsonObject{{str("method"), str("ping")}, {str("id"), str("TMping1")}});
    server.send(QJsonObject{{str("method"), str("notification")}, {str("id"), str("TMnote1")},
                    {str("message_type"), str("twilio.sync.event")},
                    {str("payload_type"), str("application/json")}},
        QByteArrayLiteral(R"({"event_type":"x"})"));
    server.send(QJsonObject{{str("method"), str("client_update")}, {str("id"), str("TMupdate1")},
        {str("client_update_type"), str("something_else")}});
    QTRY_VERIFY_WITH_TIMEOUT(server.hasReplyTo(str("TMping1")), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(server.hasReplyTo(str("TMnote1")), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(server.hasReplyTo(str("TMupdate1")), kWaitMs);
    QCOMPARE(notifications.size(), 1);
    QCOMPARE(notifications.at(0).at(0).toString(), str("twilio.sync.event"));
    QCOMPARE(notifications.at(0).at(1).toByteArray(), QByteArrayLiteral(R"({"event_type":"x"})"));

    // Undecodable bytes and text frames are dropped without harm.
    server.last()->sendBinaryMessage(QByteArrayLiteral("TWILSOCK V9.9 2\r\n{}\r\n"));
    server.last()->sendTextMessage(str("hello"));
    server.send(QJsonObject{{str("method"), str("ping")}, {str("id"), str("TMping2")}});
    QTRY_VERIFY_WITH_TIMEOUT(server.hasReplyTo(str("TMping2")), kWaitMs);
    QCOMPARE(client.state(), TwilsockClient::State::Connected);
}

void TestTwilsockClient::initRefusals_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<int>("errorCode");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<TwilsockClient::State>("expected");
    QTest::addColumn<int>("minimumDelayMs");

    // 429 waits at least what the server's policy says (the back-off alone would be 20 ms).
    QTest::addRow("429 with back-off policy")
        << 429 << 0 << QByteArrayLiteral(R"({"backoff_policy":{"reconnect_min_ms":500}})")
        << TwilsockClient::State::Connected << 480;
    QTest::addRow("500 retried") << 500 << 0 << QByteArray() << TwilsockClient::State::Connected
                                 << 0;
    QTest::addRow("403 denied") << 403 << 20151 << QByteArray() << TwilsockClient::State::Denied
                                << 0;
}

void TestTwilsockClient::initRefusals()
{
    QFETCH(int, code);
    QFETCH(int, errorCode);
    QFETCH(QByteArray, payload);
    QFETCH(TwilsockClient::State, expected);
    QFETCH(int, minimumDelayMs);

    FakeTwilsockServer server(true);
    QJsonObject status{{str("code"), code}, {str("status"), str("REFUSED")},
        {str("description"), str("refused for the test")}};
    if (errorCode != 0)
        status.insert(str("errorCode"), errorCode);
    server.scriptInits({{status, payload}});
    TwilsockClient::Options options;
    options.backoffInitialMs = 20;
    options.jitter = 0;
    TwilsockClient client(server.url(), dummyTokens(), options);
    QSignalSpy connected(&client, &TwilsockClient::connected);
    QSignalSpy disconnected(&client, &TwilsockClient::disconnected);
    client.open();
    QVERIFY(disconnected.wait(kWaitMs));
    QElapsedTimer sinceRefusal;
    sinceRefusal.start();
    const ApiError reason = disconnected.at(0).at(0).value<ApiError>();
    QCOMPARE(reason.httpStatus(), code);
    if (errorCode != 0)
        QCOMPARE(reason.code(), errorCode);
    QVERIFY(reason.message().contains(u"refused for the test"));
    // The client says goodbye on a refused session, as the JS client does.
    QTRY_COMPARE_WITH_TIMEOUT(server.count(str("close")), 1, kWaitMs);

    if (expected == TwilsockClient::State::Connected) {
        QCOMPARE(client.state(), TwilsockClient::State::Reconnecting);
        QVERIFY(connected.wait(kWaitMs));
        QVERIFY2(sinceRefusal.elapsed() >= minimumDelayMs,
            qPrintable(QString::number(sinceRefusal.elapsed())));
        QCOMPARE(server.count(str("init")), 2);
    } else {
        QCOMPARE(client.state(), expected);
        // Terminal states do not retry: no second init for ten times the back-off.
        QVERIFY(holdsFor([&] { return server.count(str("init")) == 1; }, 200));
    }
}

void TestTwilsockClient::serverClose_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<int>("errorCode");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<TwilsockClient::State>("expected");
    QTest::addColumn<int>("minimumDelayMs");

    QTest::addRow("308 offload with back-off policy")
        << 308 << 0 << QByteArrayLiteral(R"({"backoff_policy":{"reconnect_min_ms":400}})")
        << TwilsockClient::State::Connected << 380;
    QTest::addRow("410 token expired")
        << 410 << 51207 << QByteArray() << TwilsockClient::State::Connected << 0;
    QTest::addRow("500 something else")
        << 500 << 0 << QByteArray() << TwilsockClient::State::Connected << 0;
    QTest::addRow("401 denied") << 401 << 20101 << QByteArray() << TwilsockClient::State::Denied
                                << 0;
    QTest::addRow("403 denied") << 403 << 0 << QByteArray() << TwilsockClient::State::Denied << 0;
    QTest::addRow("406 protocol error")
        << 406 << 0 << QByteArray() << TwilsockClient::State::Failed << 0;
    QTest::addRow("417 protocol error")
        << 417 << 0 << QByteArray() << TwilsockClient::State::Failed << 0;
}

void TestTwilsockClient::serverClose()
{
    QFETCH(int, code);
    QFETCH(int, errorCode);
    QFETCH(QByteArray, payload);
    QFETCH(TwilsockClient::State, expected);
    QFETCH(int, minimumDelayMs);

    FakeTwilsockServer server(true);
    TwilsockClient::Options options;
    options.backoffInitialMs = 50;
    options.jitter = 0;
    TwilsockClient client(server.url(), dummyTokens(), options);
    QSignalSpy connected(&client, &TwilsockClient::connected);
    QSignalSpy disconnected(&client, &TwilsockClient::disconnected);
    client.open();
    QVERIFY(connected.wait(kWaitMs));

    QJsonObject status{{str("code"), code}, {str("status"), str("CLOSING")},
        {str("description"), str("closing for the test")}};
    if (errorCode != 0)
        status.insert(str("errorCode"), errorCode);
    QElapsedTimer sinceClose;
    sinceClose.start();
    server.send(QJsonObject{{str("method"), str("close")}, {str("id"), str("TMclose1")},
                    {str("status"), status}, {str("payload_type"), str("application/json")}},
        payload);
    QVERIFY(disconnected.wait(kWaitMs));
    const ApiError reason = disconnected.at(0).at(0).value<ApiError>();
    QCOMPARE(reason.httpStatus(), code);
    if (errorCode != 0)
        QCOMPARE(reason.code(), errorCode);
    QVERIFY(reason.message().contains(u"closing for the test"));
    // Acknowledged before the socket closes, like every server frame.
    QTRY_VERIFY_WITH_TIMEOUT(server.hasReplyTo(str("TMclose1")), kWaitMs);

    if (expected == TwilsockClient::State::Connected) {
        QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 2, kWaitMs);
        QVERIFY2(sinceClose.elapsed() >= minimumDelayMs,
            qPrintable(QString::number(sinceClose.elapsed())));
        QCOMPARE(server.accepted(), 2);
        QCOMPARE(client.state(), TwilsockClient::State::Connected);
    } else {
        QCOMPARE(client.state(), expected);
        QCOMPARE(client.lastError(), reason);
        // Terminal states do not retry: no second connection for longer than the back-off.
        QVERIFY(holdsFor([&] { return server.accepted() == 1; }, 300));
    }
}

void TestTwilsockClient::closeSaysGoodbye()
{
    FakeTwilsockServer server(true);
    TwilsockClient client(server.url(), dummyTokens());
    QSignalSpy connected(&client, &TwilsockClient::connected);
    client.open();
    QVERIFY(connected.wait(kWaitMs));
    auto pending = client.sendUpstream("GET", QUrl(str("http://127.0.0.1:1/v3/Streams/x")));
    client.close();
    const auto failed = await(pending);
    QVERIFY(!failed.has_value());
    QVERIFY(failed.error().isConnectionFailure());
    QTRY_COMPARE_WITH_TIMEOUT(server.count(str("close")), 1, kWaitMs);
    QCOMPARE(client.state(), TwilsockClient::State::Disconnected);
}

void TestTwilsockClient::unreachableHostBacksOff()
{
    // A port that was just free: connections to it are refused.
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    TwilsockClient::Options options;
    options.backoffInitialMs = 200;
    options.backoffMaxMs = 800;
    options.requestTimeoutMs = 1000;
    TwilsockClient client(
        QUrl(QStringLiteral("ws://127.0.0.1:%1/v3/wsconnect").arg(port)), dummyTokens(), options);
    QElapsedTimer clock;
    QList<qint64> failures;
    QObject::connect(&client, &TwilsockClient::disconnected, &client,
        [&](const ApiError &) { failures.append(clock.elapsed()); });
    clock.start();
    client.open();
    auto pending = client.sendUpstream("GET", QUrl(str("http://127.0.0.1:1/v3/Streams/x")));

    QTRY_VERIFY_WITH_TIMEOUT(failures.size() >= 4, kWaitMs);
    QCOMPARE(client.state(), TwilsockClient::State::Reconnecting);
    const ApiError error = client.lastError();
    QVERIFY(error.isConnectionFailure());
    QVERIFY2(error.message().contains(QStringLiteral("127.0.0.1:%1").arg(port)),
        qPrintable(error.message()));
    QVERIFY2(
        error.message().contains(u"refused", Qt::CaseInsensitive), qPrintable(error.message()));

    // 200 ms, 400 ms, 800 ms (±20 %): each wait longer than the one before, none hot.
    const qint64 first = failures[1] - failures[0];
    const qint64 second = failures[2] - failures[1];
    const qint64 third = failures[3] - failures[2];
    QVERIFY2(first >= 150, qPrintable(QString::number(first)));
    QVERIFY2(second > first, qPrintable(QStringLiteral("%1 then %2").arg(first).arg(second)));
    QVERIFY2(third > second, qPrintable(QStringLiteral("%1 then %2").arg(second).arg(third)));

    // A request waiting for a connection that never comes says why.
    const auto failed = await(pending);
    QVERIFY(!failed.has_value());
    QVERIFY2(failed.error().message().contains(u"refused", Qt::CaseInsensitive),
        qPrintable(failed.error().message()));
}

void TestTwilsockClient::tokenRefreshKeepsTheConnection()
{
    // A 4 s token: the engine says token_about_to_expire at once (its lead is 240 s), the client
    // sends `update` with a new token, and the session outlives the first token.
    auto calls = std::make_shared<int>(0);
    TwilsockClient client(wsUrl(), freshTokens(4, calls));
    QSignalSpy connected(&client, &TwilsockClient::connected);
    QSignalSpy disconnected(&client, &TwilsockClient::disconnected);
    client.open();
    QVERIFY(connected.wait(kWaitMs));
    const qint64 firstExpiry = QDateTime::currentSecsSinceEpoch() + 4;
    QTRY_VERIFY_WITH_TIMEOUT(*calls >= 2, kWaitMs);
    // Past the first token's exp (the engine closes with 410 at exp unless updated).
    QVERIFY(QTest::qWaitFor(
        [&] { return QDateTime::currentMSecsSinceEpoch() > (firstExpiry + 2) * 1000; }, kWaitMs));
    QCOMPARE(disconnected.size(), 0);
    QCOMPARE(connected.size(), 1);
    QCOMPARE(client.state(), TwilsockClient::State::Connected);
    QVERIFY(*calls >= 3);
    const auto reply = await(client.sendUpstream("GET", cds(str("/v3/Streams/missing"))));
    QVERIFY(reply.has_value());
    QCOMPARE(reply->httpStatus, 404);
}

void TestTwilsockClient::staleTokenGetsClose410AndReconnects()
{
    // A naive cache: the same 3 s token until it has expired, then a fresh long one. The client
    // has nothing new to `update` with, so the engine closes with 410 at exp and the reconnect
    // asks the source again.
    auto calls = std::make_shared<int>(0);
    auto cached = std::make_shared<TwilsockClient::Token>();
    TwilsockClient::TokenSource source =
        [this, calls, cached]() -> std::expected<TwilsockClient::Token, QString> {
        ++*calls;
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        if (cached->jwt.isEmpty() || now >= cached->expiresAt) {
            const AccessTokenClaims c = claims(now, cached->jwt.isEmpty() ? 3 : 3600);
            *cached = {AccessToken::mint(c, m_engine.apiKeySecret().toUtf8()), c.expiresAt};
        }
        return *cached;
    };
    TwilsockClient client(wsUrl(), source);
    QSignalSpy connected(&client, &TwilsockClient::connected);
    QSignalSpy disconnected(&client, &TwilsockClient::disconnected);
    client.open();
    QVERIFY(connected.wait(kWaitMs));
    QVERIFY(disconnected.wait(kWaitMs));
    const ApiError reason = disconnected.at(0).at(0).value<ApiError>();
    QCOMPARE(reason.httpStatus(), 410);
    QCOMPARE(reason.code(), 51207);
    QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 2, kWaitMs);
    QCOMPARE(client.state(), TwilsockClient::State::Connected);
    QVERIFY(*calls >= 2);
    const auto reply = await(client.sendUpstream("GET", cds(str("/v3/Streams/missing"))));
    QVERIFY(reply.has_value());
    QCOMPARE(reply->httpStatus, 404);
}

QTEST_GUILESS_MAIN(TestTwilsockClient)
#include "tst_twilsockclient.moc"
