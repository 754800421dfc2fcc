#pragma once

#include "server/httprequest.h"

#include <QByteArrayView>
#include <QString>
#include <memory>
#include <optional>

namespace streams {

/// Reads one HTTP/1.x request from the bytes of a connection, incrementally: a thin layer over
/// Boost.Beast's basic_parser (header-only, no run-time dependency), which does the parsing, so
/// the engine owns no HTTP grammar of its own. One parser per request: make a new one for the
/// next request on the connection.
///
/// feed() may take the request line before the rest of the head has come; a caller that must be
/// able to hand the whole request to someone else (a websocket upgrade) keeps what was consumed
/// of the head (peeks) until headerDone().
class HttpRequestParser final
{
public:
    struct Limits
    {
        qsizetype maxHeadBytes = 16 * 1024; // request line and headers; past it: 431
        qsizetype maxBodyBytes = 1024 * 1024; // past it: 413, before the body is read
        /// The body of a state snapshot (`PUT /_engine/state`): a whole engine's services and
        /// streams, so allowed more.
        qsizetype maxSnapshotBytes = 64 * 1024 * 1024;
    };
    /// Why a request was refused before it was answered: an HTTP status (400, 413, 431, 501) and
    /// a sentence saying what was wrong.
    struct Failure
    {
        int status = 400;
        QString reason;
    };

    explicit HttpRequestParser(Limits limits);
    ~HttpRequestParser();
    HttpRequestParser(const HttpRequestParser &) = delete;
    HttpRequestParser &operator=(const HttpRequestParser &) = delete;

    /// Parses from the start of `bytes` (what follows what was consumed before) and returns how
    /// many it consumed; the caller drops those and keeps the rest for the next call (or the next
    /// request once this one is complete). After a failure it consumes nothing more.
    qsizetype feed(QByteArrayView bytes);

    bool headerDone() const;
    bool complete() const;
    /// The client sent `Expect: 100-continue` and the body is still to come.
    bool expectsContinue() const;
    const std::optional<Failure> &failure() const;
    /// The request so far (whole once complete(); the head once headerDone()).
    const HttpRequest &request() const;
    HttpRequest takeRequest();

private:
    class Impl;
    std::unique_ptr<Impl> d;
};

} // namespace streams
