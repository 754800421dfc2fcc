// libFuzzer target: PlainRequest::parse, which reads HTTP/1.1 requests straight from a REST
// connection's buffer. The input is what a client sent, pipelined requests and all. Requests are
// read one after another from the front, as the server does. Besides never crashing or reading
// outside the buffer, for every request it takes:
// - it is complete at its own end and at no shorter prefix (a split read never yields a request
//   early), and what follows it does not change it;
// - its parts are views into it (the method is a static GET, POST or DELETE), a path starting with
// `/`, Host and
//   Authorization values without control characters, the body the last bytes of the request;
// - its path and query are what QUrl makes of the target, which is what the server's other
//   parser (Qt's) would hand the router for the same request.
#include "server/plainrequest.h"

#include <QUrl>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace streams;

namespace {

void require(bool condition, const char *what)
{
    if (!condition) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

bool within(QByteArrayView part, QByteArrayView whole)
{
    return part.isEmpty()
        || (part.data() >= whole.data()
            && part.data() + part.size() <= whole.data() + whole.size());
}

bool sameParts(const PlainRequest::Parts &a, const PlainRequest::Parts &b)
{
    return a.method == b.method && a.path == b.path && a.query == b.query && a.host == b.host
        && a.authorization == b.authorization && a.body == b.body && a.close == b.close;
}

bool hasControl(QByteArrayView value)
{
    for (const char c : value) {
        if ((c >= '\0' && c < ' ' && c != '\t') || c == '\x7f')
            return true;
    }
    return false;
}

void checkRequest(QByteArrayView buffered, const PlainRequest &request)
{
    const PlainRequest::Parts &parts = request.parts;
    require(request.length > 0 && request.length <= buffered.size(), "a request is in the buffer");
    const QByteArrayView whole = buffered.first(request.length);
    // (The method is one of three static spellings, compared below.)
    for (const QByteArrayView part :
        {parts.path, parts.query, parts.host, parts.authorization, parts.body})
        require(within(part, whole), "every part is a view into its request");
    require(parts.method == "GET" || parts.method == "POST" || parts.method == "DELETE",
        "the method is GET, POST or DELETE");
    require(whole.startsWith(parts.method), "the request starts with its method");
    require(parts.path.startsWith('/'), "the path starts with /");
    require(!parts.close, "a plain request never asks to close");
    require(!hasControl(parts.host) && !hasControl(parts.authorization),
        "header values hold no control characters");
    require(parts.body.isEmpty()
            || parts.body.data() + parts.body.size() == whole.data() + whole.size(),
        "the body is the end of the request");
    require(whole.first(whole.size() - parts.body.size()).endsWith("\r\n\r\n"),
        "the head ends in an empty line");

    // The same request, whatever follows it and read from exactly its own bytes.
    const auto alone = PlainRequest::parse(whole);
    require(alone && alone->length == request.length && sameParts(alone->parts, parts),
        "a request reads the same without what follows it");
    // Never early: no shorter prefix is a request (every prefix for small requests, the ends of
    // the head and of the body for larger ones, where every prefix would be quadratic).
    if (whole.size() <= 512) {
        for (qsizetype k = 0; k < whole.size(); ++k)
            require(!PlainRequest::parse(whole.first(k)), "no prefix of a request is a request");
    } else {
        for (const qsizetype k : {whole.size() - 1, whole.size() - parts.body.size() - 1,
                 whole.size() - parts.body.size()}) {
            if (k >= 0 && k < whole.size())
                require(
                    !PlainRequest::parse(whole.first(k)), "no prefix of a request is a request");
        }
    }

    // What QUrl makes of the target (from the request line: method, space, target, space).
    const qsizetype lineEnd = whole.indexOf("\r\n");
    const QByteArrayView target =
        whole.sliced(parts.method.size() + 1, lineEnd - parts.method.size() - 1 - 9);
    const QUrl url = QUrl::fromEncoded(QByteArray("http://h") + target.toByteArray());
    require(url.isValid(), "the target is a valid URL");
    require(url.path(QUrl::FullyEncoded).toUtf8() == parts.path, "the path is QUrl's");
    require(url.query(QUrl::FullyEncoded).toUtf8() == parts.query, "the query is QUrl's");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QByteArrayView buffered(data, qsizetype(size));
    // Pipelined: read requests off the front until one is not plain or not complete.
    while (const auto request = PlainRequest::parse(buffered)) {
        checkRequest(buffered, *request);
        buffered = buffered.sliced(request->length);
    }
    return 0;
}
