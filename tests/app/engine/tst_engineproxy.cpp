// Zero-change mode against the real streams-engine process: CONNECT tunnels to Twilio's Sync
// hosts answered by the engine itself over TLS with its own CA, every other host refused, and
// nothing ever forwarded. No base URL anywhere: clients ask for https://sync.twilio.com.
#include "engineprocess.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTest>

using namespace streams::testing;
using namespace Qt::StringLiterals;

namespace {

/// Sends a CONNECT for `authority` and returns the proxy's answer head (and body, if it closes).
QByteArray connectThrough(QTcpSocket &socket, quint16 port, const QByteArray &authority)
{
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return {};
    socket.write("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
    QByteArray answer;
    // A byte at a time: nothing past the head is taken (the TLS that follows is the socket's).
    while (!answer.contains("\r\n\r\n")
        && (socket.bytesAvailable() > 0 || socket.waitForReadyRead(5000)))
        answer += socket.read(1);
    return answer;
}

/// The TCP connections of process `pid` whose far end is not this machine: what the engine
/// would have opened had it forwarded anything (it never does).
QStringList outboundConnections(qint64 pid)
{
    QSet<QByteArray> inodes;
    const QDir fds(u"/proc/%1/fd"_s.arg(pid));
    for (const QString &fd : fds.entryList(QDir::System | QDir::NoDotAndDotDot)) {
        const QString target = QFile::symLinkTarget(fds.filePath(fd));
        if (target.contains(u"socket:["_s))
            inodes.insert(target.section(u'[', 1).chopped(1).toLatin1());
    }
    QStringList outbound;
    for (const char *table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        QFile file(QString::fromLatin1(table));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        file.readLine(); // the header
        while (!file.atEnd()) {
            const QList<QByteArray> fields = file.readLine().simplified().split(' ');
            if (fields.size() < 10 || !inodes.contains(fields.at(9)))
                continue;
            const QByteArray &remote = fields.at(2); // address:port, hex
            const QByteArray address = remote.first(qMax<qsizetype>(0, remote.indexOf(':')));
            const bool local = address == "0100007F" || address == "00000000"
                || address == "00000000000000000000000001000000"
                || address == "00000000000000000000000000000000" || address.endsWith("0100007F");
            if (!local)
                outbound.append(QString::fromLatin1(remote));
        }
    }
    return outbound;
}

} // namespace

class TestEngineProxy final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void otherHostsAreRefusedAndNothingIsForwarded_data();
    void otherHostsAreRefusedAndNothingIsForwarded();
    void tlsInsideTheTunnelAnswersAsSyncTwilioCom();
    void curlWithTheProxyAndTheCa();
    void aClientThatDoesNotTrustTheCaGetsNothing();

private:
    QString caPath() const { return m_engine.dataDir() + u"/proxy-ca.pem"_s; }

    EngineProcess m_engine;
};

void TestEngineProxy::initTestCase()
{
    QVERIFY(m_engine.start());
}

void TestEngineProxy::cleanupTestCase()
{
    QCOMPARE(m_engine.stop(), 0);
}

void TestEngineProxy::otherHostsAreRefusedAndNothingIsForwarded_data()
{
    QTest::addColumn<QByteArray>("authority");
    QTest::addColumn<QString>("reason");
    QTest::addRow("another site") << QByteArray("example.com:443") << u"example.com"_s;
    QTest::addRow("look-alike") << QByteArray("sync.twilio.com.evil.example:443")
                                << u"not one of them"_s;
    QTest::addRow("another Twilio host") << QByteArray("api.twilio.com:443") << u"api.twilio.com"_s;
    QTest::addRow("an address") << QByteArray("93.184.216.34:443") << u"not one of them"_s;
    QTest::addRow("another port") << QByteArray("sync.twilio.com:8443") << u"port 443 only"_s;
}

void TestEngineProxy::otherHostsAreRefusedAndNothingIsForwarded()
{
    QFETCH(QByteArray, authority);
    QFETCH(QString, reason);
    QTcpSocket socket;
    const QByteArray head = connectThrough(socket, m_engine.port(), authority);
    QVERIFY2(head.startsWith("HTTP/1.1 403 "), head.constData());
    socket.waitForDisconnected(5000);
    const QByteArray body = socket.readAll();
    const QJsonObject error = QJsonDocument::fromJson(body).object();
    QCOMPARE(error.value(u"code"_s).toInt(), 20403);
    QVERIFY2(error.value(u"message"_s).toString().contains(reason), body.constData());
    QCOMPARE(outboundConnections(m_engine.process().processId()), QStringList());
}

void TestEngineProxy::tlsInsideTheTunnelAnswersAsSyncTwilioCom()
{
    QSslSocket socket;
    const QByteArray head = connectThrough(socket, m_engine.port(), "sync.twilio.com:443");
    QVERIFY2(head.startsWith("HTTP/1.1 200 "), head.constData());
    // The engine's CA, and it alone: a client that trusts it and nothing else.
    const QList<QSslCertificate> ca = QSslCertificate::fromPath(caPath());
    QCOMPARE(ca.size(), 1);
    QSslConfiguration tls = socket.sslConfiguration();
    tls.setCaCertificates(ca);
    socket.setSslConfiguration(tls);
    socket.setPeerVerifyName(u"sync.twilio.com"_s);
    socket.startClientEncryption();
    QVERIFY2(socket.waitForEncrypted(10000), qPrintable(socket.errorString()));
    QCOMPARE(socket.peerCertificate().subjectAlternativeNames().value(QSsl::DnsEntry),
        u"sync.twilio.com"_s);

    socket.write("GET /v1/Services HTTP/1.1\r\nHost: sync.twilio.com\r\nAuthorization: "
        + m_engine.authorization() + "\r\nConnection: close\r\n\r\n");
    QByteArray answer;
    while (socket.waitForReadyRead(5000))
        answer += socket.readAll();
    answer += socket.readAll();
    QVERIFY2(answer.startsWith("HTTP/1.1 200 "), answer.left(200).constData());
    const QJsonObject page =
        QJsonDocument::fromJson(answer.sliced(answer.indexOf("\r\n\r\n") + 4)).object();
    const QString url =
        page.value(u"services"_s).toArray().first().toObject().value(u"url"_s).toString();
    QVERIFY2(url.startsWith(u"https://sync.twilio.com/v1/Services/IS"_s), qPrintable(url));
}

void TestEngineProxy::curlWithTheProxyAndTheCa()
{
    const QString curl = QStandardPaths::findExecutable(u"curl"_s);
    QVERIFY2(!curl.isEmpty(), "curl is missing: apt-get install curl");
    const QString proxy = u"http://127.0.0.1:%1"_s.arg(m_engine.port());
    const QString user = m_engine.accountSid() + u':' + m_engine.authToken();
    const auto run = [&](const QStringList &arguments) {
        QProcess process;
        process.start(curl,
            QStringList{u"-sS"_s, u"--proxy"_s, proxy, u"--cacert"_s, caPath(), u"-u"_s, user,
                u"-w"_s, u"\n%{http_code}"_s}
                + arguments);
        process.waitForFinished(20000);
        return QString::fromUtf8(process.readAllStandardOutput() + process.readAllStandardError());
    };
    // A regional host, as the helper libraries build them with region and edge set.
    const QString created = run({u"-d"_s, u"UniqueName=through-curl"_s,
        u"https://sync.sydney.au1.twilio.com/v1/Services/default/Streams"_s});
    QVERIFY2(created.endsWith(u"\n201"_s), qPrintable(created));
    QVERIFY2(created.contains(u"\"url\":\"https://sync.sydney.au1.twilio.com/v1/Services/IS"_s),
        qPrintable(created));
    const QString published = run({u"--data-urlencode"_s, u"Data={\"via\":\"curl\"}"_s,
        u"https://sync.twilio.com/v1/Services/default/Streams/through-curl/Messages"_s});
    QVERIFY2(published.endsWith(u"\n201"_s), qPrintable(published));
    const QString removed = run({u"-X"_s, u"DELETE"_s,
        u"https://sync.twilio.com/v1/Services/default/Streams/through-curl"_s});
    QVERIFY2(removed.endsWith(u"\n204"_s), qPrintable(removed));
}

void TestEngineProxy::aClientThatDoesNotTrustTheCaGetsNothing()
{
    QSslSocket socket;
    QVERIFY(
        connectThrough(socket, m_engine.port(), "sync.twilio.com:443").startsWith("HTTP/1.1 200 "));
    QSslConfiguration tls = socket.sslConfiguration();
    tls.setCaCertificates({}); // trusts nothing it was not told to
    socket.setSslConfiguration(tls);
    socket.setPeerVerifyName(u"sync.twilio.com"_s);
    socket.startClientEncryption();
    QVERIFY(!socket.waitForEncrypted(5000));
    QVERIFY(!socket.sslHandshakeErrors().isEmpty());
}

QTEST_GUILESS_MAIN(TestEngineProxy)
#include "tst_engineproxy.moc"
