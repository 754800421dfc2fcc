// RestClient against a real streams-engine on loopback (every operation, both kinds of
// credentials, paging, every error the engine produces, a 429 storm), and against scripted
// loopback servers for what an engine never does: no answer, 5xx, a foreign next_page_url,
// a redirect, a certificate nobody signed.

#include "awaitfuture.h"
#include "engineprocess.h"
#include "quickrest.h"
#include "remote/restclient.h"
#include "waits.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QProcess>
#include <QSet>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <functional>

using namespace streams;
using namespace streams::testing;
using namespace Qt::StringLiterals;

namespace {

/// A loopback HTTP/1.1 server whose answers the test scripts. `respond` gets each complete
/// request (head and body) and returns the raw response bytes; when it is empty the server
/// reads and never answers.
class ScriptedServer final : public QObject
{
public:
    using Respond = std::function<QByteArray(const QByteArray &request)>;

    explicit ScriptedServer(Respond respond = {}) : m_respond(std::move(respond))
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                ++connections;
                auto buffer = std::make_shared<QByteArray>();
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket, buffer] {
                    *buffer += socket->readAll();
                    takeRequests(socket, *buffer);
                });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
        m_server.listen(QHostAddress::LocalHost, 0);
    }

    quint16 port() const { return m_server.serverPort(); }
    QString baseUrl() const { return QStringLiteral("http://127.0.0.1:%1").arg(port()); }

    int connections = 0;
    QList<QByteArray> requests;

    static QByteArray response(int status, const QByteArray &reason, const QByteArray &body,
        const QList<QByteArray> &extraHeaders = {})
    {
        QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\n"
            + "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
            + "\r\n";
        for (const QByteArray &header : extraHeaders)
            out += header + "\r\n";
        return out + "\r\n" + body;
    }

private:
    void takeRequests(QTcpSocket *socket, QByteArray &buffer)
    {
        for (;;) {
            const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return;
            qsizetype length = 0;
            for (const QByteArray &line : buffer.left(headEnd).split('\n')) {
                if (line.toLower().startsWith("content-length:"))
                    length = line.mid(15).trimmed().toLongLong();
            }
            if (buffer.size() < headEnd + 4 + length)
                return;
            const QByteArray request = buffer.left(headEnd + 4 + length);
            buffer.remove(0, request.size());
            requests.append(request);
            if (m_respond)
                socket->write(m_respond(request));
        }
    }

    QTcpServer m_server;
    Respond m_respond;
};

QByteArray header(const QByteArray &request, QByteArrayView name)
{
    for (const QByteArray &line : request.left(request.indexOf("\r\n\r\n")).split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

QByteArray requestLine(const QByteArray &request)
{
    return request.left(request.indexOf("\r\n"));
}

int countMethod(const QList<QByteArray> &requests, QByteArrayView method)
{
    return int(std::count_if(requests.cbegin(), requests.cend(),
        [&](const QByteArray &r) { return r.startsWith(method.toByteArray() + ' '); }));
}

/// A port on 127.0.0.1 with nothing listening (bound once, then released).
quint16 closedPort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

} // namespace

class TestRestClient final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void twilioEndpoints_data();
    void twilioEndpoints();
    void engineEndpoints_data();
    void engineEndpoints();
    void userAgentNamesTheProduct();

    void servicesCrud_data();
    void servicesCrud();
    void streamsCrud_data();
    void streamsCrud();
    void publishReturnsTheMessageAsSent_data();
    void publishReturnsTheMessageAsSent();
    void pagingAcross250Streams();

    void wrongSecretIs20003_data();
    void wrongSecretIs20003();
    void engineErrorsComeThroughAsSent();
    void rateLimitStormIsRetriedWithBackoff();
    void rateLimitWithOneAttemptIs54009();

    void requestsCarryAuthAcceptAgentAndForm();
    void unreachableHostFailsFastAndGetIsRetried();
    void silentServerTimesOutAndPostIsNotRetried();
    void serverErrorsAreRetriedOnlyForIdempotentRequests();
    void retryAfterIsHonouredWithinTheCap();
    void foreignNextPageUrlIsRefused_data();
    void foreignNextPageUrlIsRefused();
    void redirectsAreNotFollowed();
    void untrustedCertificateIsRefused();
    void destroyingTheClientSettlesPendingFutures();

private:
    std::unique_ptr<RestClient> client(bool apiKey, RestClient::Options options = {});
    RemoteCredentials credentials(bool apiKey) const;

    EngineProcess m_engine;
    QString m_serviceSid;
};

void TestRestClient::initTestCase()
{
    // A low publish rate (bucket of 20, refilled at 2/s) makes a 429 storm cheap to provoke.
    QVERIFY(m_engine.start({QStringLiteral("--publish-rate"), QStringLiteral("2")}));
    auto service =
        await(client(true)->createService({QStringLiteral("rest client"), {}, {}, {}, {}, {}, {}}));
    QVERIFY2(service, qPrintable(service ? QString() : service.error().message()));
    m_serviceSid = service->sid;
}

RemoteCredentials TestRestClient::credentials(bool apiKey) const
{
    RemoteCredentials credentials;
    credentials.accountSid = m_engine.accountSid();
    if (apiKey) {
        credentials.apiKeySid = m_engine.apiKeySid();
        credentials.apiKeySecret = m_engine.apiKeySecret();
    } else {
        credentials.authToken = m_engine.authToken();
    }
    return credentials;
}

std::unique_ptr<RestClient> TestRestClient::client(bool apiKey, RestClient::Options options)
{
    return std::make_unique<RestClient>(
        RemoteEndpoints::engine(QUrl(m_engine.baseUrl())), credentials(apiKey), options);
}

void TestRestClient::twilioEndpoints_data()
{
    QTest::addColumn<QString>("region");
    QTest::addColumn<QString>("edge");
    QTest::addColumn<QString>("rest");
    QTest::addColumn<QString>("twilsock");
    QTest::addColumn<QString>("cds");

    QTest::addRow("defaults") << QString() << QString() << u"https://sync.twilio.com"_s
                              << u"wss://tsock.us1.twilio.com/v3/wsconnect"_s
                              << u"https://cds.us1.twilio.com"_s;
    QTest::addRow("region") << u"au1"_s << QString() << u"https://sync.au1.twilio.com"_s
                            << u"wss://tsock.au1.twilio.com/v3/wsconnect"_s
                            << u"https://cds.au1.twilio.com"_s;
    QTest::addRow("edge implies us1")
        << QString() << u"sydney"_s << u"https://sync.sydney.us1.twilio.com"_s
        << u"wss://tsock.us1.twilio.com/v3/wsconnect"_s << u"https://cds.us1.twilio.com"_s;
    QTest::addRow("edge and region")
        << u"ie1"_s << u"dublin"_s << u"https://sync.dublin.ie1.twilio.com"_s
        << u"wss://tsock.ie1.twilio.com/v3/wsconnect"_s << u"https://cds.ie1.twilio.com"_s;
    QTest::addRow("case and blanks")
        << u" AU1 "_s << u"Sydney\t"_s << u"https://sync.sydney.au1.twilio.com"_s
        << u"wss://tsock.au1.twilio.com/v3/wsconnect"_s << u"https://cds.au1.twilio.com"_s;
}

void TestRestClient::twilioEndpoints()
{
    QFETCH(QString, region);
    QFETCH(QString, edge);
    const RemoteEndpoints endpoints = RemoteEndpoints::twilio(region, edge);
    QTEST(endpoints.restBase.toString(), "rest");
    QTEST(endpoints.twilsockUrl.toString(), "twilsock");
    QTEST(endpoints.cdsBase.toString(), "cds");
}

void TestRestClient::engineEndpoints_data()
{
    QTest::addColumn<QString>("base");
    QTest::addColumn<QString>("rest");
    QTest::addColumn<QString>("twilsock");

    QTest::addRow("http") << u"http://127.0.0.1:8787"_s << u"http://127.0.0.1:8787"_s
                          << u"ws://127.0.0.1:8787/v3/wsconnect"_s;
    QTest::addRow("https") << u"https://engine.example.org"_s << u"https://engine.example.org"_s
                           << u"wss://engine.example.org/v3/wsconnect"_s;
    QTest::addRow("trailing path") << u"http://localhost:9000/v1/"_s << u"http://localhost:9000"_s
                                   << u"ws://localhost:9000/v3/wsconnect"_s;
}

void TestRestClient::engineEndpoints()
{
    QFETCH(QString, base);
    const RemoteEndpoints endpoints = RemoteEndpoints::engine(QUrl(base));
    QTEST(endpoints.restBase.toString(), "rest");
    QTEST(endpoints.twilsockUrl.toString(), "twilsock");
    QTEST(endpoints.cdsBase.toString(), "rest");
}

void TestRestClient::userAgentNamesTheProduct()
{
    const QByteArray agent = RestClient::userAgent();
    QVERIFY2(agent.startsWith("sync-streams-console/" STREAMS_VERSION " (Qt "), agent.constData());
    QVERIFY2(agent.contains(qVersion()), agent.constData());
    QVERIFY(agent.endsWith(')'));
}

void TestRestClient::servicesCrud_data()
{
    QTest::addColumn<bool>("apiKey");
    QTest::addRow("auth token") << false;
    QTest::addRow("api key") << true;
}

void TestRestClient::servicesCrud()
{
    QFETCH(bool, apiKey);
    auto rest = client(apiKey);

    ServiceFields fields;
    fields.friendlyName = QStringLiteral("crud & more = ü+");
    fields.webhookUrl = QStringLiteral("https://example.org/hook?a=1&b=2");
    fields.reachabilityWebhooksEnabled = true;
    fields.aclEnabled = true;
    fields.reachabilityDebouncingEnabled = true;
    fields.reachabilityDebouncingWindowMs = 7000;
    fields.webhooksFromRestEnabled = true;
    auto created = await(rest->createService(fields));
    QVERIFY2(created, qPrintable(created ? QString() : created.error().message()));
    QVERIFY(created->sid.startsWith(u"IS"));
    QCOMPARE(created->accountSid, m_engine.accountSid());
    QCOMPARE(created->friendlyName, *fields.friendlyName);
    QCOMPARE(created->webhookUrl, *fields.webhookUrl);
    QVERIFY(created->reachabilityWebhooksEnabled);
    QVERIFY(created->aclEnabled);
    QVERIFY(created->reachabilityDebouncingEnabled);
    QCOMPARE(created->reachabilityDebouncingWindowMs, 7000);
    QVERIFY(created->webhooksFromRestEnabled);
    QVERIFY(created->dateCreated > 0);

    auto fetched = await(rest->fetchService(created->sid));
    QVERIFY(fetched);
    QCOMPARE(*fetched, *created);

    ServiceFields change;
    change.friendlyName = QStringLiteral("renamed");
    change.aclEnabled = false;
    auto updated = await(rest->updateService(created->sid, change));
    QVERIFY(updated);
    QCOMPARE(updated->friendlyName, QStringLiteral("renamed"));
    QVERIFY(!updated->aclEnabled);
    QVERIFY(updated->webhooksFromRestEnabled); // untouched fields stay

    auto page = await(rest->listServices({}));
    QVERIFY(page);
    QVERIFY(std::any_of(page->items.cbegin(), page->items.cend(),
        [&](const Service &s) { return s.sid == created->sid; }));
    auto all = await(rest->listAllServices());
    QVERIFY(all);
    QVERIFY(
        std::any_of(all->cbegin(), all->cend(), [&](const Service &s) { return s == *updated; }));

    QVERIFY(await(rest->deleteService(created->sid)));
    auto gone = await(rest->fetchService(created->sid));
    QVERIFY(!gone);
    QCOMPARE(gone.error().code(), 20404);
    QCOMPARE(gone.error().httpStatus(), 404);
}

void TestRestClient::streamsCrud_data()
{
    servicesCrud_data();
}

void TestRestClient::streamsCrud()
{
    QFETCH(bool, apiKey);
    auto rest = client(apiKey);
    // Characters that must be percent-encoded both in the form and in the path.
    const QString name = apiKey ? QStringLiteral("orders ü & = + ? # %") : QStringLiteral("plain");

    auto created = await(rest->createStream(m_serviceSid, name, 3600));
    QVERIFY2(created, qPrintable(created ? QString() : created.error().message()));
    QVERIFY(created->sid.startsWith(u"TO"));
    QCOMPARE(created->uniqueName, name);
    QCOMPARE(created->serviceSid, m_serviceSid);
    QCOMPARE(created->createdBy, QStringLiteral("system"));
    QVERIFY(created->dateExpires);
    QCOMPARE(*created->dateExpires, created->dateCreated + 3600);

    auto byName = await(rest->fetchStream(m_serviceSid, name));
    QVERIFY2(byName, qPrintable(byName ? QString() : byName.error().message()));
    QCOMPARE(*byName, *created);

    auto unnamed = await(rest->createStream(m_serviceSid, std::nullopt, std::nullopt));
    QVERIFY(unnamed);
    QVERIFY(unnamed->uniqueName.isNull());
    QVERIFY(!unnamed->dateExpires);

    auto noExpiry = await(rest->updateStream(m_serviceSid, created->sid, 0));
    QVERIFY(noExpiry);
    QVERIFY(!noExpiry->dateExpires);
    auto expiring = await(rest->updateStream(m_serviceSid, name, 120));
    QVERIFY(expiring);
    QVERIFY(expiring->dateExpires);
    QVERIFY(*expiring->dateExpires >= created->dateCreated + 120);

    auto all = await(rest->listAllStreams(m_serviceSid));
    QVERIFY(all);
    QVERIFY(std::any_of(
        all->cbegin(), all->cend(), [&](const Stream &s) { return s.sid == unnamed->sid; }));

    QVERIFY(await(rest->deleteStream(m_serviceSid, name)));
    QVERIFY(await(rest->deleteStream(m_serviceSid, unnamed->sid)));
    auto gone = await(rest->fetchStream(m_serviceSid, created->sid));
    QVERIFY(!gone);
    QCOMPARE(gone.error().code(), 20404);
}

void TestRestClient::publishReturnsTheMessageAsSent_data()
{
    servicesCrud_data();
}

void TestRestClient::publishReturnsTheMessageAsSent()
{
    QFETCH(bool, apiKey);
    auto rest = client(apiKey);
    auto stream = await(rest->createStream(m_serviceSid, std::nullopt, std::nullopt));
    QVERIFY(stream);

    // Key order as written, and characters the form encoding must carry intact.
    const QByteArray data = R"({"z":1,"a":[1,{"y":"x + y & z = ü"}],"m":null})";
    auto message = await(rest->publish(m_serviceSid, stream->sid, data));
    QVERIFY2(message, qPrintable(message ? QString() : message.error().message()));
    QVERIFY(message->sid.startsWith(u"TZ"));
    QCOMPARE(message->data, data);
    QCOMPARE(message->serviceSid, m_serviceSid);
    QCOMPARE(message->streamSid, stream->sid);
}

void TestRestClient::pagingAcross250Streams()
{
    auto rest = client(false);
    auto service = await(rest->createService({QStringLiteral("paging"), {}, {}, {}, {}, {}, {}}));
    QVERIFY(service);
    QList<QFuture<RestClient::Result<Stream>>> creates;
    for (int i = 0; i < 250; ++i)
        creates.append(
            rest->createStream(service->sid, QStringLiteral("s%1").arg(i), std::nullopt));
    QSet<QString> created;
    for (const auto &future : std::as_const(creates)) {
        const auto stream = await(future);
        QVERIFY(stream);
        created.insert(stream->sid);
    }
    QCOMPARE(created.size(), 250);

    auto all = await(rest->listAllStreams(service->sid));
    QVERIFY2(all, qPrintable(all ? QString() : all.error().message()));
    QCOMPARE(all->size(), 250);
    QSet<QString> listed;
    for (const Stream &s : std::as_const(*all))
        listed.insert(s.sid);
    QCOMPARE(listed, created); // no duplicates, none missing

    // Page by page, following each page's next_page_url.
    PageRequest request;
    request.pageSize = 50;
    QSet<QString> paged;
    int pages = 0;
    for (;;) {
        auto page = await(rest->listStreams(service->sid, request));
        QVERIFY2(page, qPrintable(page ? QString() : page.error().message()));
        QCOMPARE(page->page, pages);
        QCOMPARE(page->pageSize, 50);
        QCOMPARE(page->previousPageToken.has_value(), pages > 0);
        QVERIFY(page->items.size() <= 50);
        for (const Stream &s : std::as_const(page->items)) {
            QVERIFY2(!paged.contains(s.sid), qPrintable(s.sid));
            paged.insert(s.sid);
        }
        ++pages;
        if (!page->nextPageToken)
            break;
        QVERIFY(page->nextPageToken->startsWith(m_engine.baseUrl() + u"/v1/Services/"_s));
        request.pageToken = *page->nextPageToken;
        request.page = page->page + 1;
        QVERIFY(pages < 10);
    }
    QCOMPARE(pages, 5);
    QCOMPARE(paged, created);
}

void TestRestClient::wrongSecretIs20003_data()
{
    servicesCrud_data();
}

void TestRestClient::wrongSecretIs20003()
{
    QFETCH(bool, apiKey);
    RemoteCredentials wrong = credentials(apiKey);
    (apiKey ? wrong.apiKeySecret : wrong.authToken) = QStringLiteral("0123456789abcdef");
    RestClient rest(RemoteEndpoints::engine(QUrl(m_engine.baseUrl())), wrong);
    QSignalSpy retrying(&rest, &RestClient::retrying);
    auto result = await(rest.listServices({}));
    QVERIFY(!result);
    QCOMPARE(result.error().code(), 20003);
    QCOMPARE(result.error().httpStatus(), 401);
    auto publish = await(rest.publish(m_serviceSid, QStringLiteral("x"), "{}"));
    QVERIFY(!publish);
    QCOMPARE(publish.error().code(), 20003);
    QCOMPARE(retrying.size(), 0);
}

void TestRestClient::engineErrorsComeThroughAsSent()
{
    auto rest = client(true);
    const auto expectError = [](const auto &result, int code, int status) {
        if (result) {
            qWarning("expected error %d, got success", code);
            return false;
        }
        if (result.error().code() != code || result.error().httpStatus() != status) {
            qWarning("expected %d/%d, got %d/%d: %s", code, status, result.error().code(),
                result.error().httpStatus(), qPrintable(result.error().message()));
            return false;
        }
        return !result.error().message().isEmpty();
    };

    QVERIFY(
        expectError(await(rest->fetchService(QStringLiteral("IS0123456789abcdef0123456789abcdef"))),
            20404, 404));
    QVERIFY(expectError(
        await(rest->deleteStream(m_serviceSid, QStringLiteral("missing"))), 20404, 404));

    auto first = await(rest->createStream(m_serviceSid, QStringLiteral("unique"), std::nullopt));
    QVERIFY(first);
    QVERIFY(
        expectError(await(rest->createStream(m_serviceSid, QStringLiteral("unique"), std::nullopt)),
            54301, 409));
    QVERIFY(expectError(await(rest->createStream(m_serviceSid,
                            QStringLiteral("TO0123456789abcdef0123456789abcdef"), std::nullopt)),
        54302, 400));
    QVERIFY(expectError(
        await(rest->createStream(m_serviceSid, QString(321, u'n'), std::nullopt)), 54302, 400));
    QVERIFY(
        expectError(await(rest->createStream(m_serviceSid, std::nullopt, 31'536'001)), 54011, 400));
    QVERIFY(expectError(await(rest->updateStream(m_serviceSid, first->sid, -1)), 54011, 400));

    const QByteArray large = R"({"pad":")" + QByteArray(5000, 'x') + R"("})";
    QVERIFY(expectError(await(rest->publish(m_serviceSid, first->sid, large)), 54006, 413));
    QVERIFY(expectError(await(rest->publish(m_serviceSid, first->sid, "not-json")), 54008, 400));
    QVERIFY(expectError(await(rest->publish(m_serviceSid, first->sid, "[1,2]")), 54008, 400));
    // Refused before any parsing: the body alone is over the engine's 1 MiB request limit.
    const QByteArray huge = R"({"pad":")" + QByteArray(1100 * 1024, 'x') + R"("})";
    QVERIFY(expectError(await(rest->publish(m_serviceSid, first->sid, huge)), 20413, 413));

    PageRequest empty;
    empty.pageSize = 0;
    QVERIFY(expectError(await(rest->listStreams(m_serviceSid, empty)), 20400, 400));
    PageRequest forged; // a bare token, as other clients pass them, that the engine never made
    forged.pageToken = QStringLiteral("PTnot-a-token");
    forged.page = 1;
    QVERIFY(expectError(await(rest->listStreams(m_serviceSid, forged)), 21481, 400));
}

void TestRestClient::rateLimitStormIsRetriedWithBackoff()
{
    auto rest = client(true); // default options: 6 attempts, 250 ms doubling, Retry-After honoured
    auto stream = await(rest->createStream(m_serviceSid, std::nullopt, std::nullopt));
    QVERIFY(stream);
    QSignalSpy retrying(rest.get(), &RestClient::retrying);

    // The bucket holds 20; the rest of the burst is refused with 429 and must get through on
    // retries as the bucket refills at 2/s.
    QList<QFuture<RestClient::Result<StreamMessage>>> publishes;
    for (int i = 0; i < 26; ++i)
        publishes.append(rest->publish(
            m_serviceSid, stream->sid, QStringLiteral(R"({"n":%1})").arg(i).toUtf8()));
    QSet<QString> sids;
    for (const auto &future : std::as_const(publishes)) {
        QFutureWatcher<RestClient::Result<StreamMessage>> watcher;
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        watcher.setFuture(future);
        QVERIFY(future.isFinished() || finished.wait(30000));
        const auto message = future.result();
        QVERIFY2(message, qPrintable(message ? QString() : message.error().message()));
        sids.insert(message->sid);
    }
    QCOMPARE(sids.size(), 26);
    QVERIFY(retrying.size() >= 6);
    for (const QList<QVariant> &args : std::as_const(retrying)) {
        const auto reason = args.at(2).value<ApiError>();
        QCOMPARE(reason.code(), 54009);
        QCOMPARE(reason.httpStatus(), 429);
        QVERIFY(args.at(0).toInt() >= 2);
        QVERIFY2(args.at(1).toInt() >= 1000, "Retry-After: 1 was not honoured");
        QVERIFY(args.at(1).toInt() <= rest->options().backoffMaxMs);
    }
}

void TestRestClient::rateLimitWithOneAttemptIs54009()
{
    RestClient::Options options;
    options.maxAttempts = 1;
    auto rest = client(false, options);
    auto stream = await(rest->createStream(m_serviceSid, std::nullopt, std::nullopt));
    QVERIFY(stream);
    QSignalSpy retrying(rest.get(), &RestClient::retrying);
    QList<QFuture<RestClient::Result<StreamMessage>>> publishes;
    // 30 against a bucket of 20: even on a slow machine the refill (2/s) cannot cover them all.
    for (int i = 0; i < 30; ++i)
        publishes.append(rest->publish(m_serviceSid, stream->sid, "{}"));
    int refused = 0;
    for (const auto &future : std::as_const(publishes)) {
        const auto message = await(future);
        if (!message) {
            QCOMPARE(message.error().code(), 54009);
            QCOMPARE(message.error().httpStatus(), 429);
            ++refused;
        }
    }
    QVERIFY(refused >= 1);
    QCOMPARE(retrying.size(), 0);
}

void TestRestClient::requestsCarryAuthAcceptAgentAndForm()
{
    const QByteArray serviceJson = R"({"sid":"IS0123456789abcdef0123456789abcdef"})";
    ScriptedServer server(
        [&](const QByteArray &) { return ScriptedServer::response(201, "Created", serviceJson); });
    for (const bool apiKey : {false, true}) {
        server.requests.clear();
        RestClient rest(RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(apiKey));
        ServiceFields fields;
        fields.friendlyName = QStringLiteral("a b&c=d+ü");
        fields.aclEnabled = false;
        fields.reachabilityDebouncingWindowMs = 2000;
        QVERIFY(await(rest.createService(fields)));
        QCOMPARE(server.requests.size(), 1);
        const QByteArray request = server.requests.constFirst();
        QCOMPARE(requestLine(request), QByteArray("POST /v1/Services HTTP/1.1"));

        const QByteArray expected = "Basic "
            + (apiKey ? m_engine.apiKeySid() + u':' + m_engine.apiKeySecret()
                      : m_engine.accountSid() + u':' + m_engine.authToken())
                  .toUtf8()
                  .toBase64();
        QVERIFY2(header(request, "Authorization") == expected, "wrong Basic credentials");
        QCOMPARE(header(request, "Accept"), QByteArray("application/json"));
        QCOMPARE(header(request, "User-Agent"), RestClient::userAgent());
        QCOMPARE(header(request, "Content-Type"), QByteArray("application/x-www-form-urlencoded"));
        QCOMPARE(request.mid(request.indexOf("\r\n\r\n") + 4),
            QByteArray("FriendlyName=a%20b%26c%3Dd%2B%C3%BC&AclEnabled=false"
                       "&ReachabilityDebouncingWindow=2000"));
    }
}

void TestRestClient::unreachableHostFailsFastAndGetIsRetried()
{
    const quint16 port = closedPort();
    RestClient rest(RemoteEndpoints::engine(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port))),
        credentials(true), quickRest(5000, 3));
    QSignalSpy retrying(&rest, &RestClient::retrying);
    QSignalSpy lost(&rest, &RestClient::connectionLost);

    QElapsedTimer elapsed;
    elapsed.start();
    auto fetched = await(rest.fetchService(m_serviceSid));
    QVERIFY(!fetched);
    QVERIFY(fetched.error().isConnectionFailure());
    QVERIFY2(fetched.error().message().contains(QStringLiteral("127.0.0.1:%1").arg(port)),
        qPrintable(fetched.error().message()));
    // Refused at once: well inside one attempt's timeout even with its two retries.
    QVERIFY2(elapsed.elapsed() < 4000, qPrintable(QString::number(elapsed.elapsed())));
    QCOMPARE(retrying.size(), 2);
    QVERIFY(retrying.at(0).at(2).value<ApiError>().isConnectionFailure());
    QCOMPARE(lost.size(), 1);

    retrying.clear();
    auto created = await(rest.createStream(m_serviceSid, std::nullopt, std::nullopt));
    QVERIFY(!created);
    QVERIFY(created.error().isConnectionFailure());
    QCOMPARE(retrying.size(), 0); // POST is never repeated
    QCOMPARE(lost.size(), 1); // still lost: no second announcement
}

void TestRestClient::silentServerTimesOutAndPostIsNotRetried()
{
    ScriptedServer silent; // accepts and reads, never writes
    RestClient rest(
        RemoteEndpoints::engine(QUrl(silent.baseUrl())), credentials(true), quickRest(500, 3));
    QSignalSpy retrying(&rest, &RestClient::retrying);

    auto fetched = await(rest.fetchService(m_serviceSid));
    QVERIFY(!fetched);
    QVERIFY(fetched.error().isConnectionFailure());
    QCOMPARE(fetched.error().message(),
        QStringLiteral("No answer from 127.0.0.1:%1 within 0.5 s").arg(silent.port()));
    QCOMPARE(retrying.size(), 2);
    QTRY_COMPARE(countMethod(silent.requests, "GET"), 3);

    retrying.clear();
    auto published = await(rest.publish(m_serviceSid, QStringLiteral("s"), "{}"));
    QVERIFY(!published);
    QVERIFY(published.error().isConnectionFailure());
    QVERIFY(published.error().message().startsWith(u"No answer from"));
    QCOMPARE(retrying.size(), 0);
    QTRY_COMPARE(countMethod(silent.requests, "POST"), 1);
    // No (wrong) retry comes; it would within the 50–200 ms back-off.
    QVERIFY(holdsFor(
        [&] { return retrying.isEmpty() && countMethod(silent.requests, "POST") == 1; }, 300));
}

void TestRestClient::serverErrorsAreRetriedOnlyForIdempotentRequests()
{
    ScriptedServer failing([](const QByteArray &) {
        return ScriptedServer::response(503, "Service Unavailable",
            R"({"code":20503,"message":"Service is unavailable","more_info":"x","status":503})");
    });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(failing.baseUrl())), credentials(false), quickRest(5000, 4));
    QSignalSpy retrying(&rest, &RestClient::retrying);

    auto deleted = await(rest.deleteService(m_serviceSid));
    QVERIFY(!deleted);
    QCOMPARE(deleted.error().code(), 20503);
    QCOMPARE(deleted.error().httpStatus(), 503);
    QCOMPARE(countMethod(failing.requests, "DELETE"), 4);
    QCOMPARE(retrying.size(), 3);
    QCOMPARE(retrying.at(0).at(0).toInt(), 2);
    QCOMPARE(retrying.at(2).at(0).toInt(), 4);

    retrying.clear();
    auto updated = await(rest.updateStream(m_serviceSid, QStringLiteral("s"), 10));
    QVERIFY(!updated);
    QCOMPARE(updated.error().code(), 20503);
    QCOMPARE(countMethod(failing.requests, "POST"), 1);
    QCOMPARE(retrying.size(), 0);
}

void TestRestClient::retryAfterIsHonouredWithinTheCap()
{
    int calls = 0;
    ScriptedServer limited([&](const QByteArray &) {
        if (++calls == 1)
            return ScriptedServer::response(429, "Too Many Requests",
                R"({"code":54009,"message":"Rate limit exceeded","status":429})",
                {"Retry-After: 30"});
        return ScriptedServer::response(201, "Created", R"({"sid":"TZ1","data":{"n":1}})");
    });
    RestClient::Options options = quickRest(5000, 3);
    options.backoffMaxMs = 400; // caps the 30 s the server asked for
    RestClient rest(RemoteEndpoints::engine(QUrl(limited.baseUrl())), credentials(true), options);
    QSignalSpy retrying(&rest, &RestClient::retrying);
    auto message = await(rest.publish(QStringLiteral("IS1"), QStringLiteral("TO1"), R"({"n":1})"));
    QVERIFY2(message, qPrintable(message ? QString() : message.error().message()));
    QCOMPARE(message->data, QByteArray(R"({"n":1})"));
    QCOMPARE(retrying.size(), 1);
    QCOMPARE(retrying.at(0).at(1).toInt(), 400);
    QCOMPARE(retrying.at(0).at(2).value<ApiError>().code(), 54009);
    QCOMPARE(countMethod(limited.requests, "POST"), 2); // 429 is retried even for a POST
}

void TestRestClient::foreignNextPageUrlIsRefused_data()
{
    QTest::addColumn<QString>("nextPageUrl");
    QTest::addRow("other host")
        << u"http://evil.example/v1/Services?PageSize=1&Page=1&PageToken=PT"_s;
    QTest::addRow("other port")
        << u"http://127.0.0.1:1/v1/Services?PageSize=1&Page=1&PageToken=PT"_s;
    QTest::addRow("other scheme")
        << u"https://127.0.0.1:%1/v1/Services?PageSize=1&Page=1&PageToken=PT"_s;
}

void TestRestClient::foreignNextPageUrlIsRefused()
{
    QFETCH(QString, nextPageUrl);
    QString next;
    ScriptedServer server([&](const QByteArray &) {
        const QByteArray body = R"({"services":[{"sid":"IS0123456789abcdef0123456789abcdef"}],)"
                                R"("meta":{"page":0,"page_size":1,"previous_page_url":null,)"
                                R"("next_page_url":")"
            + next.toUtf8() + R"(","key":"services"}})";
        return ScriptedServer::response(200, "OK", body);
    });
    next = nextPageUrl.contains(u"%1") ? nextPageUrl.arg(server.port()) : nextPageUrl;
    // Short timeout: a wrongly followed URL then fails quickly with a connection error.
    RestClient rest(
        RemoteEndpoints::engine(QUrl(server.baseUrl())), credentials(true), quickRest(1000, 1));

    auto page = await(rest.listServices({}));
    QVERIFY(page);
    QCOMPARE(page->items.size(), 1);
    QCOMPARE(page->nextPageToken, std::optional<QString>(next)); // verbatim

    PageRequest request;
    request.pageToken = *page->nextPageToken;
    auto followed = await(rest.listServices(request));
    QVERIFY(!followed);
    QCOMPARE(followed.error().code(), 21481);
    QVERIFY2(followed.error().message().contains(u"refusing to follow a page URL to another host"),
        qPrintable(followed.error().message()));

    auto all = await(rest.listAllServices());
    QVERIFY(!all);
    QCOMPARE(all.error().code(), 21481);
    QCOMPARE(server.requests.size(), 2); // the two first pages, never the foreign one
}

void TestRestClient::redirectsAreNotFollowed()
{
    ScriptedServer moved([](const QByteArray &) {
        return ScriptedServer::response(
            302, "Found", "{}", {"Location: http://127.0.0.1:1/v1/Services"});
    });
    RestClient rest(
        RemoteEndpoints::engine(QUrl(moved.baseUrl())), credentials(true), quickRest(2000, 3));
    auto page = await(rest.listServices({}));
    QVERIFY(!page);
    QCOMPARE(page.error().httpStatus(), 302);
    QCOMPARE(moved.requests.size(), 1);
}

void TestRestClient::untrustedCertificateIsRefused()
{
    QVERIFY2(QSslSocket::supportsSsl(), "Qt has no TLS backend");
    // A certificate nobody signed, made for this run.
    QTemporaryDir dir;
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
        {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
            QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
            QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
            QStringLiteral("-keyout"), dir.filePath(QStringLiteral("key.pem")),
            QStringLiteral("-out"), dir.filePath(QStringLiteral("cert.pem")),
            QStringLiteral("-days"), QStringLiteral("1"), QStringLiteral("-subj"),
            QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
            QStringLiteral("subjectAltName=IP:127.0.0.1")});
    QVERIFY2(openssl.waitForFinished(30000) && openssl.exitCode() == 0,
        openssl.readAllStandardError().constData());
    QFile certFile(dir.filePath(QStringLiteral("cert.pem")));
    QFile keyFile(dir.filePath(QStringLiteral("key.pem")));
    QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));

    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificate(QSslCertificate(certFile.readAll()));
    tls.setPrivateKey(QSslKey(keyFile.readAll(), QSsl::Ec));
    QSslServer server;
    server.setSslConfiguration(tls);
    int encryptedRequests = 0;
    connect(&server, &QSslServer::pendingConnectionAvailable, &server, [&] {
        while (QTcpSocket *socket = server.nextPendingConnection())
            connect(socket, &QTcpSocket::readyRead, socket, [&] { ++encryptedRequests; });
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    RestClient rest(RemoteEndpoints::engine(
                        QUrl(QStringLiteral("https://127.0.0.1:%1").arg(server.serverPort()))),
        credentials(true), quickRest(5000, 1));
    auto page = await(rest.listServices({}));
    QVERIFY(!page);
    QVERIFY(page.error().isConnectionFailure());
    QVERIFY2(page.error().message().contains(u"127.0.0.1"), qPrintable(page.error().message()));
    QCOMPARE(encryptedRequests, 0); // the credentials never crossed the untrusted channel
}

void TestRestClient::destroyingTheClientSettlesPendingFutures()
{
    ScriptedServer silent;
    auto rest = std::make_unique<RestClient>(
        RemoteEndpoints::engine(QUrl(silent.baseUrl())), credentials(true), quickRest(10000, 3));
    auto fetch = rest->fetchService(m_serviceSid);
    auto all = rest->listAllStreams(m_serviceSid);
    QTRY_COMPARE(silent.requests.size(), 2);
    rest.reset();
    QVERIFY(fetch.isFinished());
    QVERIFY(all.isFinished());
    QVERIFY(!fetch.result());
    QVERIFY(fetch.result().error().isConnectionFailure());
    QVERIFY(!all.result());
}

QTEST_GUILESS_MAIN(TestRestClient)
#include "tst_restclient.moc"
