// bench_http_floor: the floor under the REST benchmark. The engine's own HTTP layer (HttpServer,
// on one thread as the engine runs it) answering every request with a precomputed body of the
// same shape and size the engine would send, with no authentication, no form decoding, no SQLite
// and no JSON building per request. Whatever the engine costs beyond this is the engine's own
// work.
//
//   bench_http_floor [--listen 127.0.0.1:0]
//
// Prints "listening on http://127.0.0.1:PORT" once bound, like streams-engine.

#include "api/restjson.h"
#include "api/sid.h"
#include "server/httpserver.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <cstdio>

using namespace streams;

namespace {

// The same ~200-byte compact JSON object rest_bench.sh publishes, so the publish reply has the
// engine's size.
constexpr QByteArrayView kMessageData =
    R"({"event":"bench.tick","seq":123456,"source":"rest_bench",)"
    R"("text":"The quick brown fox jumps over the lazy dog; pack my box with five )"
    R"(dozen liquor jugs.","tags":["alpha","beta","gamma"],"ok":true,"ratio":0.25})";

struct Bodies
{
    QByteArray stream; // create (201) and fetch (200): one stream resource, ~600 bytes
    QByteArray page; // list (200): 50 streams and `meta`, as PageSize=50 returns
    QByteArray message; // publish (201): {"sid":"TZ…","data":{…}}
};

Stream sampleStream(const QString &accountSid, const QString &serviceSid)
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    Stream stream;
    stream.sid = sid::generate(SidKind::Stream);
    stream.accountSid = accountSid;
    stream.serviceSid = serviceSid;
    stream.createdBy = QStringLiteral("system");
    stream.dateCreated = now;
    stream.dateUpdated = now;
    stream.dateExpires = now + 3600; // rest_bench.sh creates with Ttl=3600
    return stream;
}

// Built with the engine's own JSON shapes, so byte counts match what the engine writes (the
// next-page token has the store's shape: "PA" and 16 hex digits).
Bodies makeBodies(const QString &baseUrl)
{
    const QString accountSid = sid::generate(SidKind::Account);
    const QString serviceSid = sid::generate(SidKind::Service);
    Bodies bodies;
    bodies.stream =
        QJsonDocument(restjson::streamJson(sampleStream(accountSid, serviceSid), baseUrl))
            .toJson(QJsonDocument::Compact);
    QJsonArray items;
    for (int i = 0; i < 50; ++i)
        items.append(restjson::streamJson(sampleStream(accountSid, serviceSid), baseUrl));
    const QString listUrl = restjson::serviceUrl(baseUrl, serviceSid) + QStringLiteral("/Streams");
    bodies.page =
        QJsonDocument(restjson::listJson(QStringLiteral("streams"), items, listUrl, 0, 50,
                          std::nullopt, QStringLiteral("PA0000000000000032"), std::nullopt))
            .toJson(QJsonDocument::Compact);
    bodies.message = "{\"sid\":\"" + sid::generate(SidKind::Message).toLatin1()
        + "\",\"data\":" + kMessageData.toByteArray() + '}';
    return bodies;
}

class FloorHandler final : public HttpHandler
{
public:
    void setBodies(Bodies bodies) { m_bodies = std::move(bodies); }

    void handleRequest(const HttpExchange &exchange, HttpRequest request) override
    {
        // Only enough routing to pick the body and status the engine would answer with; a path
        // suffix test is noise next to the HTTP work this program exists to measure.
        const bool post = request.method == "POST";
        const QByteArray *body = &m_bodies.stream;
        if (post && request.path.endsWith("/Messages"))
            body = &m_bodies.message;
        else if (!post && request.path.endsWith("/Streams"))
            body = &m_bodies.page;
        exchange.respond(HttpResponse{post ? 201 : 200, *body});
    }

private:
    Bodies m_bodies;
};

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QString listen = QStringLiteral("127.0.0.1:0");
    const QStringList arguments = app.arguments();
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        if (arguments.at(i) == QLatin1StringView("--listen") && i + 1 < arguments.size()) {
            listen = arguments.at(++i);
        } else {
            std::fputs("usage: bench_http_floor [--listen HOST:PORT]\n", stderr);
            return 2;
        }
    }
    const qsizetype colon = listen.lastIndexOf(u':');
    const QHostAddress address(listen.left(colon));
    const quint16 requestedPort = quint16(listen.mid(colon + 1).toUInt());

    FloorHandler handler;
    HttpServer server(handler);
    QString error;
    const quint16 port = address.isNull() ? 0 : server.listen(address, requestedPort, &error);
    if (port == 0) {
        std::fprintf(stderr, "bench_http_floor: cannot listen on %s: %s\n", qPrintable(listen),
            qPrintable(error));
        return 1;
    }
    const QString baseUrl = QStringLiteral("http://%1:%2").arg(address.toString()).arg(port);
    handler.setBodies(makeBodies(baseUrl));
    std::printf("bench_http_floor listening on %s\n", qPrintable(baseUrl));
    std::fflush(stdout);
    return app.exec();
}
