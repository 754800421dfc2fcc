#include "server/plainrequest.h"

#include <QTest>

using namespace streams;

class TestPlainRequest final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsAPlainGet();
    void readsOnlyTheFirstOfPipelinedRequests();
    void headerNamesAnyCaseValuesTrimmed();
    void targetWithoutQuery();
    void readsABodyOfContentLength();
    void deleteAndEmptyBodies();
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

void TestPlainRequest::readsAPlainGet()
{
    const auto get = PlainRequest::parse(kListGet);
    QVERIFY(get);
    QCOMPARE(get->parts.path, "/v1/Services/default/Streams");
    QCOMPARE(get->parts.query, "PageSize=50");
    QCOMPARE(get->parts.host, "127.0.0.1:4010");
    QCOMPARE(get->parts.authorization, "Basic QUM6dG9rZW4=");
    QCOMPARE(get->length, kListGet.size());
}

void TestPlainRequest::readsOnlyTheFirstOfPipelinedRequests()
{
    const QByteArray next = "POST /v1/Services HTTP/1.1\r\nContent-Length: 3\r\n\r\nA=b";
    const QByteArray buffered = kListGet + next;
    const auto get = PlainRequest::parse(buffered);
    QVERIFY(get);
    QCOMPARE(get->length, kListGet.size());
    QCOMPARE(get->parts.query, "PageSize=50");
}

void TestPlainRequest::headerNamesAnyCaseValuesTrimmed()
{
    const auto get = PlainRequest::parse("GET /v1/Services HTTP/1.1\r\n"
                                         "host:localhost\r\n"
                                         "AUTHORIZATION: \t Basic eA== \t\r\n"
                                         "connection: Keep-Alive\r\n"
                                         "\r\n");
    QVERIFY(get);
    QCOMPARE(get->parts.host, "localhost");
    QCOMPARE(get->parts.authorization, "Basic eA==");
}

void TestPlainRequest::targetWithoutQuery()
{
    const auto get = PlainRequest::parse("GET /v1/Services/ HTTP/1.1\r\nHost: h\r\n\r\n");
    QVERIFY(get);
    QCOMPARE(get->parts.path, "/v1/Services/");
    QVERIFY(get->parts.query.isEmpty());
    QVERIFY(get->parts.authorization.isEmpty());
}

void TestPlainRequest::readsABodyOfContentLength()
{
    const QByteArray post = "POST /v1/Services/default/Streams HTTP/1.1\r\n"
                            "Host: 127.0.0.1:4010\r\n"
                            "Content-Type: application/x-www-form-urlencoded\r\n"
                            "Content-Length: 22\r\n"
                            "\r\n"
                            "UniqueName=a%20b&Ttl=6";
    const QByteArray buffered = post + "GET / HTTP/1.1\r\n\r\n";
    const auto request = PlainRequest::parse(buffered);
    QVERIFY(request);
    QCOMPARE(request->parts.method, "POST");
    QCOMPARE(request->parts.path, "/v1/Services/default/Streams");
    QCOMPARE(
        request->parts.body, "UniqueName=a%20b&Ttl=6"); // the body is not the target: any bytes
    QCOMPARE(request->length, post.size());
    // Not all of it here yet: for Qt's parser, which waits for the rest.
    QVERIFY(!PlainRequest::parse(post.chopped(1)));
    QVERIFY(!PlainRequest::parse(post.first(post.indexOf("\r\n\r\n") + 4)));
}

void TestPlainRequest::deleteAndEmptyBodies()
{
    const auto request =
        PlainRequest::parse("DELETE /v1/Services/default/Streams/s HTTP/1.1\r\nHost: h\r\n\r\n");
    QVERIFY(request);
    QCOMPARE(request->parts.method, "DELETE");
    QVERIFY(request->parts.body.isEmpty());
    const auto get = PlainRequest::parse(
        "GET /v1/Services HTTP/1.1\r\nContent-Length: 0\r\nHost: h\r\n\r\nrest");
    QVERIFY(get);
    QVERIFY(get->parts.body.isEmpty());
    QCOMPARE(get->length,
        qsizetype(QByteArrayView("GET /v1/Services HTTP/1.1\r\nContent-Length: "
                                 "0\r\nHost: h\r\n\r\n")
                      .size()));
}

void TestPlainRequest::leavesTheRestToQt_data()
{
    QTest::addColumn<QByteArray>("request");
    const QByteArray host = "Host: h\r\n";
    const QByteArray line = "GET /v1/Services HTTP/1.1\r\n";
    QTest::addRow("PUT") << QByteArray("PUT /v1/Services HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("HEAD") << QByteArray("HEAD /v1/Services HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("OPTIONS") << QByteArray("OPTIONS /v1/Services HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("POSTX") << QByteArray("POSTX /v1/Services HTTP/1.1\r\n" + host + "\r\n");
    QTest::addRow("asterisk form") << QByteArray("GET * HTTP/1.1\r\n" + host + "\r\n");
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
    QTest::addRow("two Content-Lengths")
        << QByteArray(line + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nab");
    QTest::addRow("Content-Length not digits") << QByteArray(line + "Content-Length: 1a\r\n\r\nab");
    QTest::addRow("Content-Length +1") << QByteArray(line + "Content-Length: +1\r\n\r\nab");
    QTest::addRow("Content-Length -1") << QByteArray(line + "Content-Length: -1\r\n\r\nab");
    QTest::addRow("Content-Length hex") << QByteArray(line + "Content-Length: 0x1\r\n\r\nab");
    QTest::addRow("Content-Length empty") << QByteArray(line + "Content-Length:\r\n\r\nab");
    QTest::addRow("Content-Length too large")
        << QByteArray(line + "Content-Length: 99999999999999999999999\r\n\r\nab");
    QTest::addRow("Content-Length, list") << QByteArray(line + "Content-Length: 1, 1\r\n\r\nab");
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

void TestPlainRequest::leavesTheRestToQt()
{
    QFETCH(QByteArray, request);
    QVERIFY(!PlainRequest::parse(request));
}

QTEST_GUILESS_MAIN(TestPlainRequest)
#include "tst_plainrequest.moc"
