#include "server/plainget.h"

#include <QTest>

using namespace streams;

class TestPlainGet final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsAPlainGet();
    void readsOnlyTheFirstOfPipelinedRequests();
    void headerNamesAnyCaseValuesTrimmed();
    void targetWithoutQuery();
    void leavesTheRestToQt_data();
    void leavesTheRestToQt();
};

namespace {
const QByteArray kListGet = "GET /v1/Services/default/Streams?PageSize=50 HTTP/1.1\r\n"
                            "Host: 127.0.0.1:4010\r\n"
                            "Authorization: Basic QUM6dG9rZW4=\r\n"
                            "User-Agent: twilio-node/5.0\r\n"
                            "\r\n";
} // namespace

void TestPlainGet::readsAPlainGet()
{
    const auto get = PlainGet::parse(kListGet);
    QVERIFY(get);
    QCOMPARE(get->path, "/v1/Services/default/Streams");
    QCOMPARE(get->query, "PageSize=50");
    QCOMPARE(get->host, "127.0.0.1:4010");
    QCOMPARE(get->authorization, "Basic QUM6dG9rZW4=");
    QCOMPARE(get->headLength, kListGet.size());
}

void TestPlainGet::readsOnlyTheFirstOfPipelinedRequests()
{
    const QByteArray next = "POST /v1/Services HTTP/1.1\r\nContent-Length: 3\r\n\r\nA=b";
    const auto get = PlainGet::parse(kListGet + next);
    QVERIFY(get);
    QCOMPARE(get->headLength, kListGet.size());
    QCOMPARE(get->query, "PageSize=50");
}

void TestPlainGet::headerNamesAnyCaseValuesTrimmed()
{
    const auto get = PlainGet::parse("GET /v1/Services HTTP/1.1\r\n"
                                     "host:localhost\r\n"
                                     "AUTHORIZATION: \t Basic eA== \t\r\n"
                                     "connection: Keep-Alive\r\n"
                                     "\r\n");
    QVERIFY(get);
    QCOMPARE(get->host, "localhost");
    QCOMPARE(get->authorization, "Basic eA==");
}

void TestPlainGet::targetWithoutQuery()
{
    const auto get = PlainGet::parse("GET /v1/Services/ HTTP/1.1\r\nHost: h\r\n\r\n");
    QVERIFY(get);
    QCOMPARE(get->path, "/v1/Services/");
    QVERIFY(get->query.isEmpty());
    QVERIFY(get->authorization.isEmpty());
}

void TestPlainGet::leavesTheRestToQt_data()
{
    QTest::addColumn<QByteArray>("request");
    const QByteArray host = "Host: h\r\n";
    const QByteArray line = "GET /v1/Services HTTP/1.1\r\n";
    QTest::addRow("not a GET") << QByteArray("POST /v1/Services HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("HEAD") << QByteArray("HEAD /v1/Services HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("lowercase method")
        << QByteArray("get /v1/Services HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("HTTP/1.0") << QByteArray("GET /v1/Services HTTP/1.0\r\n" + host + "\r\n");
    QTest::addRow("no version") << QByteArray("GET /v1/Services\r\n" + host + "\r\n");
    QTest::addRow("absolute form") << QByteArray("GET http://h/v1 HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("percent-encoded")
        << QByteArray("GET /v1/Services/My%20Stream HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("plus") << QByteArray("GET /v1/Services?A=b+c HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("two question marks")
        << QByteArray("GET /v1/Services?A=b?c HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("fragment") << QByteArray("GET /v1/Services#top HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("tilde") << QByteArray("GET /v1/~Services HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("two spaces") << QByteArray("GET  /v1/Services HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("head not complete") << QByteArray(line + host);
    QTest::addRow("head not complete, one CRLF") << QByteArray(line + host + "\r");
    QTest::addRow("bare LF line ends") << QByteArray("GET /v1/Services HTTP/1.1\nHost: h\n\n");
    QTest::addRow("bare LF in a header") << QByteArray(line + "Host: h\nX-A: b\r\n\r\n");
    QTest::addRow("folded header")
        << QByteArray(line + host + "Authorization: Basic\r\n eA==\r\n\r\n");
    QTest::addRow("no colon") << QByteArray(line + host + "Authorization Basic eA==\r\n\r\n");
    QTest::addRow("space before colon")
        << QByteArray(line + host + "Authorization : Basic eA==\r\n\r\n");
    QTest::addRow("empty name") << QByteArray(line + host + ": x\r\n\r\n");
    QTest::addRow("two Hosts") << QByteArray(line + host + "host: other\r\n\r\n");
    QTest::addRow("two Authorizations")
        << QByteArray(line + "Authorization: Basic eA==\r\nAuthorization: Basic eQ==\r\n\r\n");
    QTest::addRow("Content-Length") << QByteArray(line + "Content-Length: 0\r\n\r\n");
    QTest::addRow("Transfer-Encoding") << QByteArray(line + "Transfer-Encoding: chunked\r\n\r\n");
    QTest::addRow("Upgrade") << QByteArray(
        line + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    QTest::addRow("Upgrade alone") << QByteArray(line + "Upgrade: websocket\r\n\r\n");
    QTest::addRow("Expect") << QByteArray(line + "Expect: 100-continue\r\n\r\n");
    QTest::addRow("Connection: close") << QByteArray(line + "Connection: close\r\n\r\n");
    QTest::addRow("Connection: keep-alive, Upgrade")
        << QByteArray(line + "Connection: keep-alive, Upgrade\r\n\r\n");
    QTest::addRow("empty") << QByteArray();
    QTest::addRow("leading CRLF") << QByteArray("\r\n" + line + host + "\r\n");
}

void TestPlainGet::leavesTheRestToQt()
{
    QFETCH(QByteArray, request);
    QVERIFY(!PlainGet::parse(request));
}

QTEST_GUILESS_MAIN(TestPlainGet)
#include "tst_plainget.moc"
