// bench_http_parsers: the request parsers the engine could read HTTP with, on the requests its
// clients send, in one process and one run:
// - HttpRequestParser, the engine's (Boost.Beast's basic_parser with callbacks that keep only
//   Host, Authorization, Expect, Upgrade and the body);
// - Boost.Beast's request_parser<string_body>, which keeps every header in a fields container;
// - http-parser 2.9.4 (Debian's libhttp-parser, Node's parser before llhttp), with callbacks that
//   keep the same as the engine's. Built only when libhttp-parser-dev is installed.
// Each parses the same buffers (one request per buffer, and 16 pipelined in one) over and over;
// the figure is nanoseconds per request, median of the runs, and the ratio to http-parser.
//
//   bench_http_parsers [--runs N] [--seconds-per-run S]
#include "server/httprequestparser.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QList>
#include <algorithm>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdio>
#include <functional>

#ifdef STREAMS_HAVE_HTTP_PARSER
#include <http_parser.h>
#endif

using namespace streams;

namespace {

// What the official clients send (npm twilio 6 through axios, python-twilio through requests),
// with the engine's credentials' shape.
const QByteArray kAuthorization =
    "Basic "
    "QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA6MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

QList<QByteArray> requests()
{
    const QByteArray fetchNode = "GET /v1/Services/default/Streams/orders HTTP/1.1\r\n"
                                 "Accept: application/json\r\n"
                                 "User-Agent: twilio-node/6.2.0 (linux x64) node/v20.20.2\r\n"
                                 "Accept-Charset: utf-8\r\n"
                                 "Authorization: "
        + kAuthorization + "\r\nHost: 127.0.0.1:18080\r\nConnection: keep-alive\r\n\r\n";
    const QByteArray body = "UniqueName=orders-42&Ttl=3600";
    const QByteArray createPython =
        "POST /v1/Services/default/Streams HTTP/1.1\r\n"
        "Host: 127.0.0.1:18080\r\n"
        "User-Agent: twilio-python/7.7.1 (Linux x86_64) Python/3.11.2\r\n"
        "Accept-Encoding: gzip, deflate\r\nAccept: application/json\r\n"
        "Connection: keep-alive\r\nAccept-Charset: utf-8\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Authorization: "
        + kAuthorization + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n"
        + body;
    const QByteArray chunk = "Data=%7B%22n%22%3A1%7D&x=1234";
    const QByteArray chunked = "POST /v1/Services/default/Streams/orders/Messages HTTP/1.1\r\n"
                               "Host: 127.0.0.1:18080\r\nAuthorization: "
        + kAuthorization + "\r\nTransfer-Encoding: chunked\r\n\r\n"
        + QByteArray::number(chunk.size(), 16) + "\r\n" + chunk + "\r\n0\r\n\r\n";
    QByteArray pipelined;
    for (int i = 0; i < 16; ++i)
        pipelined += fetchNode;
    return {fetchNode, createPython, chunked, pipelined};
}

constexpr int kRequestsPerRound = 1 + 1 + 1 + 16;

// Each parser: parse every buffer, return the requests it read (and fold what it kept into
// `sink`, so nothing is optimised away).
using Parser = std::function<int(const QList<QByteArray> &, qsizetype &sink)>;

int parseWithEngine(const QList<QByteArray> &buffers, qsizetype &sink)
{
    int parsed = 0;
    for (const QByteArray &buffer : buffers) {
        QByteArrayView rest = buffer;
        while (!rest.isEmpty()) {
            HttpRequestParser parser({});
            const qsizetype used = parser.feed(rest);
            if (!parser.complete())
                return -1;
            const HttpRequest &request = parser.request();
            sink += request.path.size() + request.authorization.size() + request.body.size();
            rest = rest.sliced(used);
            ++parsed;
        }
    }
    return parsed;
}

int parseWithBeastFields(const QList<QByteArray> &buffers, qsizetype &sink)
{
    namespace http = boost::beast::http;
    int parsed = 0;
    for (const QByteArray &buffer : buffers) {
        QByteArrayView rest = buffer;
        while (!rest.isEmpty()) {
            http::request_parser<http::string_body> parser;
            parser.eager(true);
            boost::beast::error_code ec;
            const std::size_t used =
                parser.put(boost::asio::const_buffer(rest.data(), std::size_t(rest.size())), ec);
            if (ec || !parser.is_done())
                return -1;
            const auto &request = parser.get();
            sink += qsizetype(request.target().size() + request[http::field::authorization].size()
                + request.body().size());
            rest = rest.sliced(qsizetype(used));
            ++parsed;
        }
    }
    return parsed;
}

#ifdef STREAMS_HAVE_HTTP_PARSER
struct HttpParserState
{
    QByteArray url, authorization, host, body, field;
    bool complete = false;
    enum {
        None,
        Authorization,
        Host
    } current = None;
};

int parseWithHttpParser(const QList<QByteArray> &buffers, qsizetype &sink)
{
    static const http_parser_settings settings = [] {
        http_parser_settings s;
        http_parser_settings_init(&s);
        s.on_url = [](http_parser *p, const char *at, size_t length) {
            static_cast<HttpParserState *>(p->data)->url.append(at, qsizetype(length));
            return 0;
        };
        s.on_header_field = [](http_parser *p, const char *at, size_t length) {
            auto *state = static_cast<HttpParserState *>(p->data);
            const QByteArrayView name(at, qsizetype(length));
            state->current = name.compare("authorization", Qt::CaseInsensitive) == 0
                ? HttpParserState::Authorization
                : name.compare("host", Qt::CaseInsensitive) == 0 ? HttpParserState::Host
                                                                 : HttpParserState::None;
            return 0;
        };
        s.on_header_value = [](http_parser *p, const char *at, size_t length) {
            auto *state = static_cast<HttpParserState *>(p->data);
            if (state->current == HttpParserState::Authorization)
                state->authorization.append(at, qsizetype(length));
            else if (state->current == HttpParserState::Host)
                state->host.append(at, qsizetype(length));
            return 0;
        };
        s.on_body = [](http_parser *p, const char *at, size_t length) {
            static_cast<HttpParserState *>(p->data)->body.append(at, qsizetype(length));
            return 0;
        };
        s.on_message_complete = [](http_parser *p) {
            static_cast<HttpParserState *>(p->data)->complete = true;
            http_parser_pause(p, 1); // one request per call, as the others read them
            return 0;
        };
        return s;
    }();
    int parsed = 0;
    for (const QByteArray &buffer : buffers) {
        QByteArrayView rest = buffer;
        while (!rest.isEmpty()) {
            http_parser parser;
            http_parser_init(&parser, HTTP_REQUEST);
            HttpParserState state;
            parser.data = &state;
            const size_t used =
                http_parser_execute(&parser, &settings, rest.data(), size_t(rest.size()));
            if (!state.complete)
                return -1;
            sink += state.url.size() + state.authorization.size() + state.body.size();
            rest = rest.sliced(qsizetype(used));
            ++parsed;
        }
    }
    return parsed;
}
#endif

// Nanoseconds per request over `seconds` of rounds.
double measure(const Parser &parse, const QList<QByteArray> &buffers, double seconds)
{
    qsizetype sink = 0;
    qint64 requests = 0;
    QElapsedTimer timer;
    timer.start();
    while (timer.nsecsElapsed() < qint64(seconds * 1e9)) {
        for (int i = 0; i < 100; ++i) {
            const int parsed = parse(buffers, sink);
            if (parsed != kRequestsPerRound) {
                std::fprintf(stderr, "bench_http_parsers: a parser did not read every request\n");
                std::exit(1);
            }
            requests += parsed;
        }
    }
    const double ns = double(timer.nsecsElapsed()) / double(requests);
    if (sink == 42)
        std::printf(" "); // keeps `sink` alive
    return ns;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    int runs = 5;
    double secondsPerRun = 1.0;
    const QStringList arguments = app.arguments();
    for (qsizetype i = 1; i + 1 < arguments.size(); i += 2) {
        if (arguments.at(i) == u"--runs")
            runs = arguments.at(i + 1).toInt();
        else if (arguments.at(i) == u"--seconds-per-run")
            secondsPerRun = arguments.at(i + 1).toDouble();
    }
    const QList<QByteArray> buffers = requests();
    struct Candidate
    {
        const char *name;
        Parser parse;
        QList<double> ns;
    };
    QList<Candidate> candidates = {
        {"HttpRequestParser (Beast basic_parser, the engine's)", parseWithEngine, {}},
        {"Beast request_parser<string_body> (every header kept)", parseWithBeastFields, {}},
#ifdef STREAMS_HAVE_HTTP_PARSER
        {"http-parser 2.9.4 (libhttp-parser)", parseWithHttpParser, {}},
#endif
    };
    // Interleaved runs, so a slow moment of the machine falls on every candidate alike.
    for (int run = 0; run < runs; ++run) {
        for (Candidate &candidate : candidates)
            candidate.ns.append(measure(candidate.parse, buffers, secondsPerRun));
    }
    const auto median = [](QList<double> values) {
        std::sort(values.begin(), values.end());
        return values.at(values.size() / 2);
    };
    const double reference = median(candidates.last().ns);
    std::printf("%-56s %12s %10s %s\n", "parser", "ns/request", "x last row", "runs (ns/request)");
    for (const Candidate &candidate : candidates) {
        QByteArray all;
        for (const double ns : candidate.ns)
            all += QByteArray::number(ns, 'f', 0) + ' ';
        std::printf("%-56s %12.0f %9.2fx %s\n", candidate.name, median(candidate.ns),
            median(candidate.ns) / reference, all.constData());
    }
#ifndef STREAMS_HAVE_HTTP_PARSER
    std::printf("(http-parser not built: apt-get install libhttp-parser-dev, then reconfigure)\n");
#endif
    return 0;
}
