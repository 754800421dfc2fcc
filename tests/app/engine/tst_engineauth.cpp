// Who gets into the streams-engine binary, and what it gives away: every REST route and the
// twilsock endpoint refuse bad credentials, repeated failures are slowed down, the engine only
// listens beyond loopback when told to, keeps its files private, and never prints a secret.

#include "api/sid.h"
#include "engineprocess.h"
#include "rawclients.h"
#include "twilsock/accesstoken.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonDocument>
#include <QMessageAuthenticationCode>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>

using namespace streams;
using namespace streams::testing;
using twilsock::AccessToken;
using twilsock::AccessTokenClaims;
using twilsock::Frame;

namespace {

QString str(const char *text)
{
    return QString::fromLatin1(text);
}

QByteArray base64Url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

// A well-signed token whose only grant is for another Twilio product (Video).
QByteArray videoOnlyToken(
    const QString &apiKeySid, const QString &accountSid, const QString &secret)
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const QByteArray header = base64Url(R"({"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"})");
    const QJsonObject payload{{str("jti"), apiKeySid + QStringLiteral("-%1").arg(now)},
        {str("grants"),
            QJsonObject{{str("identity"), str("mallory")},
                {str("video"), QJsonObject{{str("room"), str("lobby")}}}}},
        {str("iat"), now}, {str("exp"), now + 3600}, {str("iss"), apiKeySid},
        {str("sub"), accountSid}};
    const QByteArray signingInput =
        header + '.' + base64Url(QJsonDocument(payload).toJson(QJsonDocument::Compact));
    return signingInput + '.'
        + base64Url(QMessageAuthenticationCode::hash(
            signingInput, secret.toUtf8(), QCryptographicHash::Sha256));
}

int statusCodeOf(const Frame &frame)
{
    return frame.header.value(str("status")).toObject().value(str("code")).toInt();
}

int errorCodeOf(const Frame &frame)
{
    return frame.header.value(str("status")).toObject().value(str("errorCode")).toInt();
}

int modeOf(const QString &path)
{
    struct stat info
    {
    };
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return -1;
    return int(info.st_mode & 07777);
}

/// Runs `work` with the process umask cleared, so files get exactly the mode the engine asks
/// for rather than one the umask happens to narrow.
template<typename Work>
void withOpenUmask(Work work)
{
    const mode_t previous = ::umask(0);
    work();
    ::umask(previous);
}

} // namespace

class TestEngineAuth final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void everyRouteRefusesBadCredentials_data();
    void everyRouteRefusesBadCredentials();
    void refusedRequestsChangedNothing();
    void twilsockRefusesBadTokens_data();
    void twilsockRefusesBadTokens();

    void repeatedFailuresAreSlowedDown();
    void parallelGuessesQueueUp();
    void heldRequestsAreBounded();
    void twilsockFailuresShareTheThrottle();

    void nonLoopbackNeedsAllowRemote_data();
    void nonLoopbackNeedsAllowRemote();
    void allowRemoteWarns();
    void dataDirAndCredentialsArePrivate();
    void secretsNeverReachTheOutput();
    void generatedSecretsAreNotPrintedToAPipe();

private:
    QByteArray token(const std::function<void(AccessTokenClaims &)> &change = {},
        const QString &secret = {}) const;
    /// A source address no other test uses, so failures never add up across tests.
    QHostAddress nextSource() { return loopbackSource(10, m_nextSource++); }

    EngineProcess m_engine;
    QString m_victimServiceSid;
    int m_nextSource = 0;
};

void TestEngineAuth::initTestCase()
{
    QVERIFY2(m_engine.start(), m_engine.output().constData());
    // Things a refused request would change if it got through.
    const HttpResponse victim = httpExchange(
        m_engine.port(), "POST", "/v1/Services", m_engine.authorization(), "FriendlyName=victim");
    QCOMPARE(victim.status, 201);
    m_victimServiceSid = victim.json().value(str("sid")).toString();
    QCOMPARE(httpExchange(m_engine.port(), "POST", "/v1/Services/default/Streams",
                 m_engine.authorization(), "UniqueName=guarded")
                 .status,
        201);
}

void TestEngineAuth::cleanupTestCase()
{
    m_engine.stop();
}

QByteArray TestEngineAuth::token(
    const std::function<void(AccessTokenClaims &)> &change, const QString &secret) const
{
    AccessTokenClaims claims;
    claims.apiKeySid = m_engine.apiKeySid();
    claims.accountSid = m_engine.accountSid();
    claims.identity = str("alice");
    claims.issuedAt = QDateTime::currentSecsSinceEpoch();
    claims.expiresAt = claims.issuedAt + 3600;
    if (change)
        change(claims);
    return AccessToken::mint(
        claims, (secret.isEmpty() ? m_engine.apiKeySecret() : secret).toUtf8());
}

// --- REST: every route × every kind of bad credentials ---------------------------------------

void TestEngineAuth::everyRouteRefusesBadCredentials_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("authorization");

    const QByteArray victim = "/v1/Services/" + m_victimServiceSid.toLatin1();
    const QByteArray guarded = "/v1/Services/default/Streams/guarded";
    const struct
    {
        const char *name;
        QByteArray method, target, body;
    } routes[] = {
        {"list services", "GET", "/v1/Services", {}},
        {"create service", "POST", "/v1/Services", "FriendlyName=intruder"},
        {"fetch service", "GET", "/v1/Services/default", {}},
        {"update service", "POST", victim, "FriendlyName=renamed"},
        {"delete service", "DELETE", victim, {}},
        {"list streams", "GET", "/v1/Services/default/Streams", {}},
        {"create stream", "POST", "/v1/Services/default/Streams", "UniqueName=intruder"},
        {"fetch stream", "GET", guarded, {}},
        {"update stream", "POST", guarded, "Ttl=1"},
        {"delete stream", "DELETE", guarded, {}},
        {"publish", "POST", guarded + "/Messages", "Data=%7B%22x%22%3A1%7D"},
        {"unknown route", "GET", "/v1/nowhere", {}},
        {"wrong method", "PUT", "/v1/Services/default", {}},
        {"websocket path without upgrade", "GET", "/v3/wsconnect", {}},
    };

    const QString account = m_engine.accountSid(), token = m_engine.authToken();
    const QString key = m_engine.apiKeySid(), secret = m_engine.apiKeySecret();
    const QString otherAccount = sid::generate(SidKind::Account);
    const QString wrongSecret = sid::generate(SidKind::RequestId).mid(2);
    const struct
    {
        const char *name;
        QByteArray authorization;
    } kinds[] = {
        {"no credentials", {}},
        {"wrong password", basicAuthorization(account, wrongSecret)},
        {"wrong user", basicAuthorization(otherAccount, token)},
        {"API key with the auth token", basicAuthorization(key, token)},
        {"API key with a wrong secret", basicAuthorization(key, wrongSecret)},
        {"account with the API key secret", basicAuthorization(account, secret)},
        {"malformed: not base64", "Basic %%%"},
        {"malformed: no colon", "Basic " + account.toUtf8().toBase64()},
        {"malformed: empty", "Basic "},
        {"malformed: trailing bytes", basicAuthorization(account, token) + "!!"},
        {"malformed: bearer scheme", "Bearer " + token.toUtf8()},
    };
    for (const auto &route : routes) {
        for (const auto &kind : kinds)
            QTest::addRow("%s, %s", route.name, kind.name)
                << route.method << route.target << route.body << kind.authorization;
    }
}

void TestEngineAuth::everyRouteRefusesBadCredentials()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, authorization);
    const TimedResponse result =
        httpFrom(nextSource(), m_engine.port(), method, target, authorization, body);
    QCOMPARE(result.response.status, 401);
    const QJsonObject error = result.response.json();
    QCOMPARE(error.value(str("code")).toInt(), 20003);
    QCOMPARE(error.value(str("status")).toInt(), 401);
    QVERIFY(result.response.header("WWW-Authenticate").startsWith("Basic realm="));
    // One failure from a fresh address is answered at once, on a connection kept alive.
    QVERIFY(!result.closedByServer);
}

void TestEngineAuth::refusedRequestsChangedNothing()
{
    const auto get = [this](const QByteArray &target) {
        return httpExchange(m_engine.port(), "GET", target, m_engine.authorization());
    };
    const HttpResponse victim = get("/v1/Services/" + m_victimServiceSid.toLatin1());
    QCOMPARE(victim.status, 200);
    QCOMPARE(victim.json().value(str("friendly_name")).toString(), str("victim"));
    const HttpResponse guarded = get("/v1/Services/default/Streams/guarded");
    QCOMPARE(guarded.status, 200);
    QVERIFY(guarded.json().value(str("date_expires")).isNull());
    QCOMPARE(get("/v1/Services/default/Streams/intruder").status, 404);
    QVERIFY(!get("/v1/Services").body.contains("intruder"));
}

// --- twilsock ---------------------------------------------------------------------------------

void TestEngineAuth::twilsockRefusesBadTokens_data()
{
    QTest::addColumn<QByteArray>("jwt");
    QTest::addColumn<int>("errorCode");
    const QString wrongSecret = sid::generate(SidKind::RequestId).mid(2);
    QTest::addRow("no token") << QByteArray() << 20101;
    QTest::addRow("not a JWT") << QByteArray("not-a-jwt.abc") << 20101;
    QTest::addRow("signed with a wrong secret") << token({}, wrongSecret) << 20101;
    QTest::addRow("signed with the auth token") << token({}, m_engine.authToken()) << 20101;
    QTest::addRow("unknown API key")
        << token([](AccessTokenClaims &c) { c.apiKeySid = sid::generate(SidKind::ApiKey); })
        << 20101;
    QTest::addRow("another account")
        << token([](AccessTokenClaims &c) { c.accountSid = sid::generate(SidKind::Account); })
        << 20101;
    QTest::addRow("another Sync service")
        << token([](AccessTokenClaims &c) { c.serviceSid = sid::generate(SidKind::Service); })
        << 20101;
    QTest::addRow("another product (Video grant only)") << videoOnlyToken(m_engine.apiKeySid(),
        m_engine.accountSid(), m_engine.apiKeySecret()) << 20101;
    QTest::addRow("expired") << token([](AccessTokenClaims &c) {
        c.issuedAt -= 7200;
        c.expiresAt = c.issuedAt + 3600;
    }) << 20104;
}

void TestEngineAuth::twilsockRefusesBadTokens()
{
    QFETCH(QByteArray, jwt);
    QFETCH(int, errorCode);
    RawWebSocket client(nextSource());
    QVERIFY(client.connectTo(m_engine.port()));
    QVERIFY(client.upgrade());
    const auto reply = client.init(jwt);
    QVERIFY(reply);
    QCOMPARE(statusCodeOf(*reply), 401);
    QCOMPARE(errorCodeOf(*reply), errorCode);
    // Still nobody: a Sync request is refused.
    const QString id = client.send(QJsonObject{{str("method"), str("message")},
        {str("http_request"),
            QJsonObject{{str("method"), str("GET")}, {str("path"), str("/v3/Streams/guarded")}}}});
    const auto refused = client.reply(id);
    QVERIFY(refused);
    QCOMPARE(statusCodeOf(*refused), 400);
    QVERIFY(!refused->header.contains(str("http_status")));
}

// --- slowing down repeated failures ------------------------------------------------------------

void TestEngineAuth::repeatedFailuresAreSlowedDown()
{
    const QHostAddress guesser = loopbackSource(20, 1);
    const QHostAddress bystander = loopbackSource(20, 2);
    const QByteArray wrong =
        basicAuthorization(m_engine.accountSid(), sid::generate(SidKind::RequestId).mid(2));
    const auto attempt = [&](const QHostAddress &from, const QByteArray &authorization) {
        return httpFrom(from, m_engine.port(), "GET", "/v1/Services/default", authorization);
    };

    // Five failures cost nothing: answered at once, connection kept alive.
    for (int i = 0; i < 5; ++i) {
        const TimedResponse result = attempt(guesser, wrong);
        QCOMPARE(result.response.status, 401);
        QVERIFY2(!result.closedByServer, qPrintable(QString::number(i)));
    }
    // The sixth waits half a second, and its connection ends with the reply.
    TimedResponse held = attempt(guesser, wrong);
    QCOMPARE(held.response.status, 401);
    QCOMPARE(held.response.json().value(str("code")).toInt(), 20003);
    QVERIFY(held.response.header("WWW-Authenticate").startsWith("Basic"));
    QVERIFY(held.closedByServer);
    QVERIFY2(held.elapsedMs >= 450, qPrintable(QString::number(held.elapsedMs)));
    const qint64 sixthMs = held.elapsedMs;
    // Someone else is not affected.
    const TimedResponse other = attempt(bystander, wrong);
    QCOMPARE(other.response.status, 401);
    QVERIFY(!other.closedByServer);
    // The seventh attempt, with the right credentials this time, waits a full second (the delay
    // doubled), gets in, and clears the slate.
    held = attempt(guesser, m_engine.authorization());
    QCOMPARE(held.response.status, 200);
    QVERIFY(held.closedByServer);
    QVERIFY2(held.elapsedMs >= 950, qPrintable(QString::number(held.elapsedMs)));
    const TimedResponse fresh = attempt(guesser, wrong);
    QCOMPARE(fresh.response.status, 401);
    QVERIFY(!fresh.closedByServer);
    qInfo("held replies: 6th failure after %lld ms, then the right credentials after %lld ms",
        sixthMs, held.elapsedMs);
}

void TestEngineAuth::parallelGuessesQueueUp()
{
    // Guesses sent without waiting for answers get one turn each, one after another: the
    // credentials of a held request are not even looked at before its turn.
    const QHostAddress guesser = loopbackSource(21, 1);
    const QByteArray wrong =
        basicAuthorization(m_engine.accountSid(), sid::generate(SidKind::RequestId).mid(2));
    for (int i = 0; i < 5; ++i)
        QCOMPARE(
            httpFrom(guesser, m_engine.port(), "GET", "/v1/Services", wrong).response.status, 401);

    constexpr int kParallel = 3;
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    QList<qint64> answeredAfter(kParallel, -1);
    QElapsedTimer clock;
    for (int i = 0; i < kParallel; ++i) {
        auto socket = std::make_unique<QTcpSocket>();
        QVERIFY(socket->bind(guesser));
        socket->connectToHost(QHostAddress(QHostAddress::LocalHost), m_engine.port());
        QVERIFY(socket->waitForConnected(5000));
        sockets.push_back(std::move(socket));
    }
    clock.start();
    for (int i = 0; i < kParallel; ++i) {
        QTcpSocket *socket = sockets[size_t(i)].get();
        connect(socket, &QTcpSocket::readyRead, socket, [&, i, socket] {
            if (answeredAfter[i] < 0 && socket->peek(16).startsWith("HTTP/1.1 401"))
                answeredAfter[i] = clock.elapsed();
        });
        socket->write(httpRequest(m_engine.port(), "GET", "/v1/Services", wrong));
    }
    // Meanwhile the engine serves everyone else at once: its thread is not waiting.
    const TimedResponse bystander = httpFrom(
        loopbackSource(21, 2), m_engine.port(), "GET", "/v1/Services", m_engine.authorization());
    const qint64 bystanderAfter = clock.elapsed();
    QCOMPARE(bystander.response.status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(answeredAfter.cbegin(), answeredAfter.cend(),
                                 [](qint64 ms) { return ms >= 0; }),
        20000);
    QList<qint64> sorted = answeredAfter;
    std::sort(sorted.begin(), sorted.end());
    qInfo("parallel guesses answered after %lld, %lld, %lld ms; a bystander after %lld ms",
        sorted[0], sorted[1], sorted[2], bystanderAfter);
    QVERIFY(bystanderAfter < sorted[0]);
    // Turns of 0.5 s each (the failure count is taken when each is admitted).
    QVERIFY2(sorted[0] >= 450, qPrintable(QString::number(sorted[0])));
    QVERIFY2(sorted[1] >= 950, qPrintable(QString::number(sorted[1])));
    QVERIFY2(sorted[2] >= 1450, qPrintable(QString::number(sorted[2])));
}

void TestEngineAuth::heldRequestsAreBounded()
{
    // One address may have 64 requests held; past that it is refused at once with 429, without
    // its credentials being checked. (The held ones are dropped by the client here; the engine
    // gives their turns back when they come.)
    const QHostAddress flooder = loopbackSource(22, 1);
    const QByteArray wrong =
        basicAuthorization(m_engine.accountSid(), sid::generate(SidKind::RequestId).mid(2));
    for (int i = 0; i < 5; ++i)
        QCOMPARE(
            httpFrom(flooder, m_engine.port(), "GET", "/v1/Services", wrong).response.status, 401);
    constexpr int kFlood = 70;
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    for (int i = 0; i < kFlood; ++i) {
        auto socket = std::make_unique<QTcpSocket>();
        QVERIFY(socket->bind(flooder));
        socket->connectToHost(QHostAddress(QHostAddress::LocalHost), m_engine.port());
        socket->write(httpRequest(m_engine.port(), "GET", "/v1/Services", wrong));
        sockets.push_back(std::move(socket));
    }
    const auto refusals = [&] {
        return std::count_if(sockets.cbegin(), sockets.cend(),
            [](const auto &socket) { return socket->peek(12) == "HTTP/1.1 429"; });
    };
    QTRY_COMPARE_WITH_TIMEOUT(refusals(), qsizetype(kFlood - 64), 10000);
    for (const auto &socket : sockets) {
        if (socket->peek(12) == "HTTP/1.1 429") {
            const QByteArray reply = socket->readAll();
            QVERIFY(reply.contains("\"code\":20429"));
            QVERIFY(reply.contains("Retry-After"));
        }
        socket->abort();
    }
}

void TestEngineAuth::twilsockFailuresShareTheThrottle()
{
    // Failed inits count like failed logins, and slow the REST port down for that address
    // too: one budget per client, whichever door it knocks on.
    const QHostAddress guesser = loopbackSource(23, 1);
    const QByteArray forged = token({}, sid::generate(SidKind::RequestId).mid(2));
    const auto initFrom = [&](const QByteArray &jwt, qint64 *elapsedMs) {
        RawWebSocket client(guesser);
        if (!client.connectTo(m_engine.port()) || !client.upgrade())
            return -1;
        QElapsedTimer clock;
        clock.start();
        const auto reply = client.init(jwt, 20000);
        *elapsedMs = clock.elapsed();
        return reply ? statusCodeOf(*reply) : -1;
    };
    qint64 elapsed = 0;
    for (int i = 0; i < 5; ++i)
        QCOMPARE(initFrom(forged, &elapsed), 401);
    QCOMPARE(initFrom(forged, &elapsed), 401);
    QVERIFY2(elapsed >= 450, qPrintable(QString::number(elapsed)));
    // Six failures: the REST port holds this address's next request for a second.
    const TimedResponse rest =
        httpFrom(guesser, m_engine.port(), "GET", "/v1/Services", m_engine.authorization());
    QCOMPARE(rest.response.status, 200);
    QVERIFY(rest.closedByServer);
    QVERIFY2(rest.elapsedMs >= 950, qPrintable(QString::number(rest.elapsedMs)));
    // That success reset the address: a good init is answered at once.
    QCOMPARE(initFrom(token(), &elapsed), 200);
}

// --- exposure ------------------------------------------------------------------------------

void TestEngineAuth::nonLoopbackNeedsAllowRemote_data()
{
    QTest::addColumn<QString>("listen");
    QTest::addRow("IPv4 any") << str("0.0.0.0:0");
    QTest::addRow("IPv6 any") << str("[::]:0");
    QTest::addRow("a LAN address") << str("192.168.1.10:8080");
}

void TestEngineAuth::nonLoopbackNeedsAllowRemote()
{
    QFETCH(QString, listen);
    QTemporaryDir dir;
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(EngineProcess::binary(),
        {str("--listen"), listen, str("--data-dir"), dir.filePath(str("data"))});
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 2);
    const QByteArray output = process.readAll();
    QVERIFY2(output.contains("not a loopback address") && output.contains("--allow-remote"),
        output.constData());
    // Refused before anything was created.
    QVERIFY(!QFileInfo::exists(dir.filePath(str("data"))));
}

void TestEngineAuth::allowRemoteWarns()
{
    EngineProcess engine;
    QVERIFY2(engine.start({str("--listen"), str("0.0.0.0:0"), str("--allow-remote")}),
        engine.output().constData());
    QTRY_VERIFY(engine.output().contains("account SID"));
    const QByteArray output = engine.output();
    QVERIFY2(output.contains("warning: listening on 0.0.0.0, reachable from other machines"),
        output.constData());
    // And it does serve (here through loopback), with credentials required as ever.
    QCOMPARE(
        httpExchange(engine.port(), "GET", "/v1/Services", engine.authorization()).status, 200);
    QCOMPARE(httpExchange(engine.port(), "GET", "/v1/Services", {}).status, 401);
    QCOMPARE(engine.stop(), 0);

    // Loopback needs no flag and prints no warning.
    QVERIFY(!m_engine.output().contains("reachable from other machines"));
}

void TestEngineAuth::dataDirAndCredentialsArePrivate()
{
    QTemporaryDir root;
    const QString dataDir = root.filePath(str("nested/engine"));
    EngineProcess engine(dataDir);
    withOpenUmask([&] { QVERIFY2(engine.start(), engine.output().constData()); });
    QCOMPARE(modeOf(dataDir), 0700);
    QCOMPARE(modeOf(dataDir + str("/credentials.json")), 0600);
    QCOMPARE(engine.stop(), 0);

    // --show-credentials on a directory that does not exist yet creates it the same way.
    const QString shown = root.filePath(str("shown"));
    QProcess process;
    withOpenUmask([&] {
        process.start(
            EngineProcess::binary(), {str("--show-credentials"), str("--data-dir"), shown});
        QVERIFY(process.waitForFinished(10000));
    });
    QCOMPARE(process.exitCode(), 0);
    QCOMPARE(modeOf(shown), 0700);
    QCOMPARE(modeOf(shown + str("/credentials.json")), 0600);
}

void TestEngineAuth::secretsNeverReachTheOutput()
{
    // Every log category on, and a session with successes and all kinds of failures.
    qputenv("QT_LOGGING_RULES", "streams.*=true\nqt.httpserver*=true");
    EngineProcess engine;
    const bool started = engine.start();
    qunsetenv("QT_LOGGING_RULES");
    QVERIFY2(started, engine.output().constData());
    const quint16 port = engine.port();
    const QString account = engine.accountSid(), authToken = engine.authToken();
    const QString key = engine.apiKeySid(), secret = engine.apiKeySecret();

    QCOMPARE(httpExchange(port, "POST", "/v1/Services/default/Streams", engine.authorization(),
                 "UniqueName=logged")
                 .status,
        201);
    QCOMPARE(
        httpExchange(port, "GET", "/v1/Services", basicAuthorization(key, secret)).status, 200);
    // The secrets in the wrong places: as the user, with a wrong user, in the path and query.
    QCOMPARE(
        httpExchange(port, "GET", "/v1/Services", basicAuthorization(authToken, secret)).status,
        401);
    QCOMPARE(
        httpExchange(port, "GET", "/v1/Services", basicAuthorization(account, secret)).status, 401);
    QCOMPARE(httpExchange(port, "GET", "/v1/" + authToken.toUtf8() + "?t=" + secret.toUtf8(),
                 engine.authorization())
                 .status,
        404);
    QCOMPARE(
        httpExchange(port, "GET", "/v1/" + authToken.toUtf8(), "Bearer " + secret.toUtf8()).status,
        401);
    QCOMPARE(httpExchange(port, "POST", "/v1/Services/default/Streams/logged/Messages",
                 engine.authorization(), "Data=" + authToken.toUtf8())
                 .status,
        400);

    AccessTokenClaims claims;
    claims.apiKeySid = key;
    claims.accountSid = account;
    claims.identity = str("logger");
    claims.issuedAt = QDateTime::currentSecsSinceEpoch();
    claims.expiresAt = claims.issuedAt + 3600;
    const QByteArray good = AccessToken::mint(claims, secret.toUtf8());
    const QByteArray forged = AccessToken::mint(claims, authToken.toUtf8());
    {
        RawWebSocket client;
        QVERIFY(client.connectTo(port));
        QVERIFY(client.upgrade());
        QCOMPARE(statusCodeOf(*client.init(forged)), 401);
        QCOMPARE(statusCodeOf(*client.init(good)), 200);
        // Bad input whose text carries the secrets: logged as bad input, never echoed.
        const QString id = client.send(QJsonObject{{str("method"), authToken},
            {str("token"), QString::fromLatin1(good)}, {str("secret"), secret}});
        QVERIFY(client.reply(id));
    }
    {
        RawWebSocket client;
        QVERIFY(client.connectTo(port));
        QVERIFY(client.upgrade());
        QCOMPARE(statusCodeOf(*client.init(forged)), 401);
    }
    QCOMPARE(engine.stop(), 0);

    const QByteArray output = engine.output();
    QVERIFY2(output.contains("debug") || output.contains("streams."),
        "debug logging did not come on; the check below would prove little");
    const QByteArray basic = (account + u':' + authToken).toUtf8().toBase64();
    const QList<QByteArray> secrets{authToken.toUtf8(), secret.toUtf8(), good, forged, basic,
        basicAuthorization(key, secret).mid(6)};
    for (const QByteArray &secretBytes : secrets)
        QVERIFY2(!output.contains(secretBytes), "a secret was printed");
}

void TestEngineAuth::generatedSecretsAreNotPrintedToAPipe()
{
    // No TWILIO_* variables: the engine generates its credentials. Its output here goes to a
    // pipe (as to a log or a journal), so it says where they are instead of printing them.
    QTemporaryDir dir;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const char *name :
        {"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"})
        environment.remove(str(name));
    QProcess process;
    process.setProcessEnvironment(environment);
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(EngineProcess::binary(),
        {str("--listen"), str("127.0.0.1:0"), str("--data-dir"), dir.path()});
    QByteArray output;
    QVERIFY(QTest::qWaitFor(
        [&] {
            output += process.readAll();
            return output.contains("account SID") && output.contains("--show-credentials");
        },
        15000));
    process.terminate();
    QVERIFY(process.waitForFinished(10000));
    output += process.readAll();

    QFile file(dir.filePath(str("credentials.json")));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject stored = QJsonDocument::fromJson(file.readAll()).object();
    const QByteArray authToken = stored.value(str("auth_token")).toString().toUtf8();
    const QByteArray secret = stored.value(str("api_key_secret")).toString().toUtf8();
    QVERIFY(!authToken.isEmpty() && !secret.isEmpty());
    QVERIFY2(!output.contains(authToken) && !output.contains(secret), "a secret was printed");
    QVERIFY(output.contains("new credentials"));
}

QTEST_GUILESS_MAIN(TestEngineAuth)
#include "tst_engineauth.moc"
