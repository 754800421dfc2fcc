#pragma once

#include <QByteArrayView>
#include <optional>

namespace streams {

/// A plain HTTP/1.1 request, whole, at the front of a connection's buffer: read by the engine
/// itself, because Qt 6.4's request parser reads a request line and headers one byte at a time
/// through the socket's read transaction: under wrk, a quarter of the engine's CPU per create
/// or kept list page and two fifths per fetch.
///
/// "Plain" is narrow on purpose. Anything else is left to Qt's parser, and answered by the
/// same code, only slower:
/// - the request line is `GET`, `POST` or `DELETE`, a target and `HTTP/1.1`; the target has
///   only the characters QUrl leaves as they are (letters, digits, `/ - . _ & = ?`, one `?`),
///   so its path and query are what QUrl would give;
/// - lines end in CRLF, the head ends in an empty line, header names are tokens, values have
///   no control characters and no line is folded;
/// - Host, Authorization and Content-Length appear at most once, Content-Length as digits only,
///   and the whole body is in the buffer;
/// - there is no Transfer-Encoding, Upgrade or Expect, and Connection, if present, is
///   keep-alive.
struct PlainRequest
{
    /// A request's parts as a parser read them, plain or Qt's: views into its buffer.
    struct Parts
    {
        QByteArrayView method;
        QByteArrayView path; // encoded, as in the request line
        QByteArrayView query; // encoded, without the `?`
        QByteArrayView host; // the Host header's value, empty when absent
        QByteArrayView authorization; // empty when absent
        QByteArrayView body;
        bool close = false; // the client asked for Connection: close (never a plain request)
    };

    Parts parts;
    qsizetype length = 0; // bytes of the whole request, head and body

    /// The request at the start of `buffered`, or nothing if it is not complete there or not
    /// plain.
    static std::optional<PlainRequest> parse(QByteArrayView buffered);
};

} // namespace streams
