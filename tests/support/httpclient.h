#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QPair>

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

HttpResponse httpExchange(quint16 port, const QByteArray &method, const QByteArray &target,
    const QByteArray &authorization, const QByteArray &body = {},
    const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});

} // namespace streams::testing
