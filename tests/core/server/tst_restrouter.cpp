#include "server/restrouter.h"

#include <QTest>

using namespace streams;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(streams::RestOperation)

namespace {
const QByteArray kService = "IS0123456789abcdef0123456789abcdef";
const QByteArray kStream = "TO0123456789abcdef0123456789abcdef";
} // namespace

class TestRestRouter final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void route_data();
    void route();
    void notFound_data();
    void notFound();
    void methodNotAllowed_data();
    void methodNotAllowed();
    void malformedSegment_data();
    void malformedSegment();
};

void TestRestRouter::route_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<RestOperation>("operation");
    QTest::addColumn<QString>("serviceId");
    QTest::addColumn<QString>("streamId");

    const QByteArray services = "/v1/Services";
    const QByteArray service = services + '/' + kService;
    const QByteArray streams = service + "/Streams";
    const QByteArray stream = streams + '/' + kStream;
    const QByteArray messages = stream + "/Messages";
    const QString s = QString::fromLatin1(kService), t = QString::fromLatin1(kStream);

    QTest::addRow("POST services")
        << QByteArray("POST") << services << RestOperation::CreateService << QString() << QString();
    QTest::addRow("GET services") << QByteArray("GET") << services << RestOperation::ListServices
                                  << QString() << QString();
    QTest::addRow("GET service") << QByteArray("GET") << service << RestOperation::FetchService << s
                                 << QString();
    QTest::addRow("POST service") << QByteArray("POST") << service << RestOperation::UpdateService
                                  << s << QString();
    QTest::addRow("DELETE service")
        << QByteArray("DELETE") << service << RestOperation::DeleteService << s << QString();
    QTest::addRow("POST streams") << QByteArray("POST") << streams << RestOperation::CreateStream
                                  << s << QString();
    QTest::addRow("GET streams") << QByteArray("GET") << streams << RestOperation::ListStreams << s
                                 << QString();
    QTest::addRow("GET stream") << QByteArray("GET") << stream << RestOperation::FetchStream << s
                                << t;
    QTest::addRow("POST stream") << QByteArray("POST") << stream << RestOperation::UpdateStream << s
                                 << t;
    QTest::addRow("DELETE stream")
        << QByteArray("DELETE") << stream << RestOperation::DeleteStream << s << t;
    QTest::addRow("POST messages")
        << QByteArray("POST") << messages << RestOperation::CreateStreamMessage << s << t;

    // Unique names instead of SIDs, percent-decoded (and `+` is not a space in a path).
    QTest::addRow("default service") << QByteArray("GET") << QByteArray("/v1/Services/default")
                                     << RestOperation::FetchService << u"default"_s << QString();
    QTest::addRow("named stream") << QByteArray("GET")
                                  << QByteArray("/v1/Services/default/Streams/my%20stream")
                                  << RestOperation::FetchStream << u"default"_s << u"my stream"_s;
    QTest::addRow("plus in a segment")
        << QByteArray("DELETE") << QByteArray("/v1/Services/default/Streams/a+b")
        << RestOperation::DeleteStream << u"default"_s << u"a+b"_s;
    QTest::addRow("encoded slash in a segment")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams/a%2Fb/Messages")
        << RestOperation::CreateStreamMessage << u"default"_s << u"a/b"_s;
    QTest::addRow("UTF-8 in segments")
        << QByteArray("GET") << QByteArray("/v1/Services/caf%C3%A9/Streams/%E2%82%AC")
        << RestOperation::FetchStream << QString::fromUtf8("caf\xC3\xA9")
        << QString::fromUtf8("\xE2\x82\xAC");
    QTest::addRow("encoded segment names Streams")
        << QByteArray("GET") << QByteArray("/v1/Services/default/Streams/Messages")
        << RestOperation::FetchStream << u"default"_s << u"Messages"_s;

    // One trailing slash is tolerated.
    QTest::addRow("services/") << QByteArray("GET") << QByteArray("/v1/Services/")
                               << RestOperation::ListServices << QString() << QString();
    QTest::addRow("service/") << QByteArray("DELETE") << service + '/'
                              << RestOperation::DeleteService << s << QString();
    QTest::addRow("streams/") << QByteArray("POST") << streams + '/' << RestOperation::CreateStream
                              << s << QString();
    QTest::addRow("stream/") << QByteArray("GET") << stream + '/' << RestOperation::FetchStream << s
                             << t;
    QTest::addRow("messages/") << QByteArray("POST") << messages + '/'
                               << RestOperation::CreateStreamMessage << s << t;
}

void TestRestRouter::route()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(RestOperation, operation);
    QFETCH(QString, serviceId);
    QFETCH(QString, streamId);

    const auto routed = RestRouter::route(method, path);
    QVERIFY2(routed, qPrintable(routed ? QString() : routed.error().message()));
    QCOMPARE(routed->operation, operation);
    QCOMPARE(routed->serviceId, serviceId);
    QCOMPARE(routed->streamId, streamId);
    QVERIFY(RestRouter::allowedMethods(path).contains(method));
}

void TestRestRouter::notFound_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");

    QTest::addRow("root") << QByteArray("GET") << QByteArray("/");
    QTest::addRow("empty") << QByteArray("GET") << QByteArray();
    QTest::addRow("v1") << QByteArray("GET") << QByteArray("/v1");
    QTest::addRow("v1/") << QByteArray("GET") << QByteArray("/v1/");
    QTest::addRow("v2 services") << QByteArray("GET") << QByteArray("/v2/Services");
    QTest::addRow("lowercase services") << QByteArray("GET") << QByteArray("/v1/services");
    QTest::addRow("no leading slash") << QByteArray("GET") << QByteArray("v1/Services");
    QTest::addRow("double leading slash") << QByteArray("GET") << QByteArray("//v1/Services");
    QTest::addRow("documents") << QByteArray("GET") << QByteArray("/v1/Services/S/Documents");
    QTest::addRow("lists") << QByteArray("POST") << QByteArray("/v1/Services/S/Lists");
    QTest::addRow("lowercase streams") << QByteArray("GET") << QByteArray("/v1/Services/S/streams");
    QTest::addRow("stream child") << QByteArray("GET")
                                  << QByteArray("/v1/Services/S/Streams/T/Foo");
    QTest::addRow("a message") << QByteArray("GET")
                               << QByteArray("/v1/Services/S/Streams/T/Messages/M");
    QTest::addRow("empty service segment")
        << QByteArray("GET") << QByteArray("/v1/Services//Streams");
    QTest::addRow("empty stream segment")
        << QByteArray("GET") << QByteArray("/v1/Services/S/Streams//Messages");
    QTest::addRow("two trailing slashes") << QByteArray("GET") << QByteArray("/v1/Services//");
    QTest::addRow("other API") << QByteArray("GET") << QByteArray("/2010-04-01/Accounts");
    QTest::addRow("unknown path, unknown method") << QByteArray("BREW") << QByteArray("/coffee");
}

void TestRestRouter::notFound()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);

    const auto routed = RestRouter::route(method, path);
    QVERIFY(!routed);
    QCOMPARE(routed.error().code(), 20404);
    QCOMPARE(routed.error().httpStatus(), 404);
    QCOMPARE(RestRouter::allowedMethods(path), QByteArray());
}

void TestRestRouter::methodNotAllowed_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("allowed");

    const QByteArray service = "/v1/Services/" + kService;
    const QByteArray stream = service + "/Streams/" + kStream;
    QTest::addRow("PUT services") << QByteArray("PUT") << QByteArray("/v1/Services")
                                  << QByteArray("GET, POST");
    QTest::addRow("DELETE services")
        << QByteArray("DELETE") << QByteArray("/v1/Services") << QByteArray("GET, POST");
    QTest::addRow("PATCH service")
        << QByteArray("PATCH") << service << QByteArray("GET, POST, DELETE");
    QTest::addRow("PUT service") << QByteArray("PUT") << service << QByteArray("GET, POST, DELETE");
    QTest::addRow("DELETE streams")
        << QByteArray("DELETE") << service + "/Streams" << QByteArray("GET, POST");
    QTest::addRow("PUT stream") << QByteArray("PUT") << stream << QByteArray("GET, POST, DELETE");
    QTest::addRow("GET messages") << QByteArray("GET") << stream + "/Messages"
                                  << QByteArray("POST");
    QTest::addRow("DELETE messages")
        << QByteArray("DELETE") << stream + "/Messages" << QByteArray("POST");
    QTest::addRow("HEAD stream") << QByteArray("HEAD") << stream << QByteArray("GET, POST, DELETE");
    QTest::addRow("OPTIONS services")
        << QByteArray("OPTIONS") << QByteArray("/v1/Services/") << QByteArray("GET, POST");
    // Methods are case-sensitive (RFC 9110).
    QTest::addRow("lowercase get")
        << QByteArray("get") << QByteArray("/v1/Services") << QByteArray("GET, POST");
    QTest::addRow("empty method") << QByteArray() << QByteArray("/v1/Services")
                                  << QByteArray("GET, POST");
}

void TestRestRouter::methodNotAllowed()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, allowed);

    const auto routed = RestRouter::route(method, path);
    QVERIFY(!routed);
    QCOMPARE(routed.error().code(), 20405);
    QCOMPARE(routed.error().httpStatus(), 405);
    QCOMPARE(RestRouter::allowedMethods(path), allowed);
}

void TestRestRouter::malformedSegment_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");

    QTest::addRow("%%zz service") << QByteArray("GET") << QByteArray("/v1/Services/%zz");
    QTest::addRow("lone %% service") << QByteArray("GET") << QByteArray("/v1/Services/%/Streams");
    QTest::addRow("%%4 stream") << QByteArray("GET")
                                << QByteArray("/v1/Services/default/Streams/%4");
    QTest::addRow("invalid UTF-8 stream")
        << QByteArray("DELETE") << QByteArray("/v1/Services/default/Streams/%C3%28");
    QTest::addRow("%%FF in messages path")
        << QByteArray("POST") << QByteArray("/v1/Services/default/Streams/%FF/Messages");
}

void TestRestRouter::malformedSegment()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);

    const auto routed = RestRouter::route(method, path);
    QVERIFY(!routed);
    QCOMPARE(routed.error().code(), 20400);
    QCOMPARE(routed.error().httpStatus(), 400);
}

QTEST_GUILESS_MAIN(TestRestRouter)
#include "tst_restrouter.moc"
