// The request plumbing RestClient and EngineControlClient share (remote/remoterequest.h).

#include "remote/remoterequest.h"

#include <QNetworkRequest>
#include <QTest>

using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(streams::RemoteCredentials)

namespace streams {

class TestRemoteRequest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hostPortNamesThePortTheSchemeImplies_data();
    void hostPortNamesThePortTheSchemeImplies();
    void requestCarriesCredentialsAndLimits_data();
    void requestCarriesCredentialsAndLimits();
    void timeoutFlagsOnlyACallStillWaiting();
};

void TestRemoteRequest::hostPortNamesThePortTheSchemeImplies_data()
{
    QTest::addColumn<QUrl>("url");
    QTest::addColumn<QString>("hostPort");
    QTest::addRow("http") << QUrl(u"http://127.0.0.1/v1"_s) << u"127.0.0.1:80"_s;
    QTest::addRow("https") << QUrl(u"https://sync.twilio.com"_s) << u"sync.twilio.com:443"_s;
    QTest::addRow("wss") << QUrl(u"wss://tsock.us1.twilio.com/v3"_s)
                         << u"tsock.us1.twilio.com:443"_s;
    QTest::addRow("HTTPS") << QUrl(u"HTTPS://example.com"_s) << u"example.com:443"_s;
    QTest::addRow("explicit port") << QUrl(u"https://localhost:18080"_s) << u"localhost:18080"_s;
}

void TestRemoteRequest::hostPortNamesThePortTheSchemeImplies()
{
    QFETCH(QUrl, url);
    QFETCH(QString, hostPort);
    QCOMPARE(remoterequest::hostPort(url), hostPort);
}

void TestRemoteRequest::requestCarriesCredentialsAndLimits_data()
{
    QTest::addColumn<RemoteCredentials>("credentials");
    QTest::addColumn<QByteArray>("authorization");
    QTest::addRow("auth token") << RemoteCredentials{u"AC1"_s, u"token"_s, {}, {}}
                                << QByteArray("Basic " + QByteArray("AC1:token").toBase64());
    QTest::addRow("api key") << RemoteCredentials{u"AC1"_s, u"token"_s, u"SK1"_s, u"sécret"_s}
                             << QByteArray("Basic " + u"SK1:sécret"_s.toUtf8().toBase64());
}

void TestRemoteRequest::requestCarriesCredentialsAndLimits()
{
    QFETCH(RemoteCredentials, credentials);
    QFETCH(QByteArray, authorization);
    const QUrl url(u"https://sync.twilio.com/v1/Services"_s);
    const QNetworkRequest request = remoterequest::make(url, credentials, 2500);
    QCOMPARE(request.url(), url);
    QCOMPARE(request.rawHeader("Authorization"), authorization);
    QCOMPARE(request.rawHeader("Accept"), QByteArray("application/json"));
    QCOMPARE(
        request.header(QNetworkRequest::UserAgentHeader).toByteArray(), remoterequest::userAgent());
    QCOMPARE(request.transferTimeout(), 2500);
    const QByteArray agent = remoterequest::userAgent();
    QVERIFY2(agent.startsWith("sync-streams-console/" STREAMS_VERSION " (Qt "), agent.constData());
}

void TestRemoteRequest::timeoutFlagsOnlyACallStillWaiting()
{
    struct Call
    {
        bool timedOut = false;
    };
    auto call = std::make_shared<Call>();
    const std::function<bool()> timingOut = remoterequest::flagTimeout(std::weak_ptr<Call>(call));
    QVERIFY(timingOut());
    QVERIFY(call->timedOut);
    call.reset();
    QVERIFY(!timingOut());
}

} // namespace streams

QTEST_GUILESS_MAIN(streams::TestRemoteRequest)
#include "tst_remoterequest.moc"
