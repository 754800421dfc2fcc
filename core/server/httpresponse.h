#pragma once

#include <QByteArray>
#include <QList>
#include <utility>

namespace streams {

class ApiError;

/// One HTTP/1.1 answer. The engine's answers are JSON (Twilio's resource and error bodies) or
/// empty (204); HttpConnection writes them in request order.
struct HttpResponse
{
    int status = 200;
    QByteArray body; // JSON; empty for 204
    QList<std::pair<QByteArray, QByteArray>> headers = {}; // beyond Content-Type and -Length
    bool close = false; // the connection ends after this answer
    /// The whole message for a kept-open connection, when made ahead (kept list pages): it goes
    /// to the socket as it is, uncopied.
    QByteArray message = {};

    /// Twilio's error body for `error`, with its status.
    static HttpResponse fromError(const ApiError &error);

    /// The status line, headers and (unless `headersOnly`, the answer to a HEAD) the body, in
    /// one buffer. `close` adds `Connection: close`.
    QByteArray serialize(bool close, bool headersOnly) const;
};

} // namespace streams
