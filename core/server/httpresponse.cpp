#include "server/httpresponse.h"

#include "api/apierror.h"

#include <QJsonDocument>
#include <charconv>
#include <iterator>

namespace streams {

namespace {
// The status line of every status the engine answers with.
QByteArrayView statusLine(int status)
{
    switch (status) {
    case 100: return "HTTP/1.1 100 Continue\r\n";
    case 200: return "HTTP/1.1 200 OK\r\n";
    case 201: return "HTTP/1.1 201 Created\r\n";
    case 204: return "HTTP/1.1 204 No Content\r\n";
    case 400: return "HTTP/1.1 400 Bad Request\r\n";
    case 401: return "HTTP/1.1 401 Unauthorized\r\n";
    case 403: return "HTTP/1.1 403 Forbidden\r\n";
    case 404: return "HTTP/1.1 404 Not Found\r\n";
    case 405: return "HTTP/1.1 405 Method Not Allowed\r\n";
    case 408: return "HTTP/1.1 408 Request Timeout\r\n";
    case 409: return "HTTP/1.1 409 Conflict\r\n";
    case 413: return "HTTP/1.1 413 Content Too Large\r\n";
    case 417: return "HTTP/1.1 417 Expectation Failed\r\n";
    case 429: return "HTTP/1.1 429 Too Many Requests\r\n";
    case 431: return "HTTP/1.1 431 Request Header Fields Too Large\r\n";
    case 500: return "HTTP/1.1 500 Internal Server Error\r\n";
    case 501: return "HTTP/1.1 501 Not Implemented\r\n";
    case 503: return "HTTP/1.1 503 Service Unavailable\r\n";
    default: return {};
    }
}
} // namespace

HttpResponse HttpResponse::fromError(const ApiError &error)
{
    return {error.httpStatus(), QJsonDocument(error.toJson()).toJson(QJsonDocument::Compact)};
}

QByteArray HttpResponse::serialize(bool closeAfter, bool headersOnly) const
{
    if (!closeAfter && !headersOnly && !message.isEmpty())
        return message;
    QByteArray out;
    qsizetype extra = 0;
    for (const auto &[name, value] : headers)
        extra += name.size() + value.size() + 4;
    out.reserve(128 + extra + (headersOnly ? 0 : body.size()));
    if (const QByteArrayView line = statusLine(status); !line.isEmpty())
        out += line;
    else
        out += "HTTP/1.1 " + QByteArray::number(status) + " Status\r\n";
    if (status != 204)
        out += "Content-Type: application/json; charset=utf-8\r\n";
    for (const auto &[name, value] : headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (closeAfter)
        out += "Connection: close\r\n";
    if (status != 204) {
        // A HEAD's answer says the length the GET's body would have (RFC 9110, 9.3.2).
        char length[24];
        const auto end = std::to_chars(std::begin(length), std::end(length), body.size()).ptr;
        out += "Content-Length: ";
        out += QByteArrayView(length, end - length);
        out += "\r\n";
    }
    out += "\r\n";
    if (!headersOnly)
        out += body;
    return out;
}

} // namespace streams
