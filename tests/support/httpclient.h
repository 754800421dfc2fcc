#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QPair>

class QTcpSocket;

namespace streams::testing {

/// A raw HTTP/1.1 exchange over one QTcpSocket, so tests control every byte that goes out (bad
/// encodings, odd Host headers) and see every header that comes back.
struct HttpResponse
{
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;

    QByteArray header(QByteArrayView name) const;
    QJsonObject json() const;
};

/// An HTTP Basic Authorization header's value: "Basic base64(user:password)".
QByteArray basicAuthorization(const QString &user, const QString &password);

/// The bytes of one request (Host, Authorization and, for a body or a POST, the form's
/// Content-Type and Content-Length).
QByteArray httpRequest(quint16 port, const QByteArray &method, const QByteArray &target,
    const QByteArray &authorization, const QByteArray &body = {},
    const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});
/// Takes one complete response off the front of `buffer` (keep-alive reading); false until one
/// has fully arrived.
bool takeResponse(QByteArray &buffer, HttpResponse &response);
/// Reads one response from `socket`: what `buffer` already holds first, and whatever follows
/// the response (pipelined replies) is left in it. Cut short by the connection's end or 15 s,
/// it is what came (status 0 if not even the headers).
HttpResponse readHttpResponse(QTcpSocket &socket, QByteArray &buffer);

/// One request on a connection of its own.
HttpResponse httpExchange(quint16 port, const QByteArray &method, const QByteArray &target,
    const QByteArray &authorization, const QByteArray &body = {},
    const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});

} // namespace streams::testing
