#pragma once

#include <QByteArrayView>
#include <optional>

namespace streams {

/// The head of a plain HTTP/1.1 GET at the front of a connection's buffer, read by the engine
/// itself so that a page it keeps goes out without Qt's request parser (which reads a request
/// one byte at a time, a third of the engine's CPU per kept page under load).
///
/// "Plain" is narrow on purpose. Anything else is left to Qt's parser and the ordinary path,
/// which answers it just the same, only slower:
/// - the request line is `GET <target> HTTP/1.1`, and the target has only the characters QUrl
///   leaves as they are (letters, digits, `/ - . _ & = ?`, one `?`), so its path and query are
///   what the ordinary path's QUrl would give;
/// - lines end in CRLF, the head ends in an empty line, header names are tokens, values have
///   no control characters and no line is folded;
/// - Host and Authorization appear at most once;
/// - there is no Content-Length, Transfer-Encoding, Upgrade or Expect, and Connection, if
///   present, is keep-alive.
struct PlainGet
{
    QByteArrayView path; // views into the parsed buffer
    QByteArrayView query; // without the `?`
    QByteArrayView host; // empty when absent
    QByteArrayView authorization; // empty when absent
    qsizetype headLength = 0; // bytes of the request, up to and with its empty line

    /// The GET at the start of `buffered`, or nothing if the head is not complete there or
    /// not plain.
    static std::optional<PlainGet> parse(QByteArrayView buffered);
};

} // namespace streams
