#include "httpclient.h"

#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QTcpSocket>

namespace streams::testing {

QByteArray HttpResponse::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

QJsonObject HttpResponse::json() const
{
    return QJsonDocument::fromJson(body).object();
}

HttpResponse httpExchange(quint16 port, const QByteArray &method, const QByteArray &target,
    const QByteArray &authorization, const QByteArray &body,
    const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    if (!socket.waitForConnected(5000))
        return {};
    QByteArray request = method + ' ' + target + " HTTP/1.1\r\n";
    bool hasHost = false;
    for (const auto &[key, value] : extraHeaders)
        hasHost = hasHost || key.compare("Host", Qt::CaseInsensitive) == 0;
    if (!hasHost)
        request += "Host: 127.0.0.1:" + QByteArray::number(port) + "\r\n";
    if (!authorization.isEmpty())
        request += "Authorization: " + authorization + "\r\n";
    for (const auto &[key, value] : extraHeaders)
        request += key + ": " + value + "\r\n";
    if (!body.isEmpty() || method == "POST") {
        request += "Content-Type: application/x-www-form-urlencoded\r\n";
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    }
    request += "\r\n" + body;
    socket.write(request);

    // Read until the headers and Content-Length bytes of body have arrived.
    QByteArray data;
    HttpResponse response;
    QDeadlineTimer deadline(15000);
    qsizetype headerEnd = -1;
    qsizetype contentLength = -1;
    while (!deadline.hasExpired()) {
        if (socket.bytesAvailable() == 0 && !socket.waitForReadyRead(int(deadline.remainingTime())))
            break;
        data += socket.readAll();
        if (headerEnd < 0 && (headerEnd = data.indexOf("\r\n\r\n")) >= 0) {
            const QList<QByteArray> lines = data.left(headerEnd).split('\n');
            response.status = lines.value(0).split(' ').value(1).toInt();
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const QByteArray line = lines[i].trimmed();
                const qsizetype colon = line.indexOf(':');
                if (colon > 0)
                    response.headers.append(
                        {line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
            }
            contentLength = response.header("Content-Length").toLongLong();
        }
        if (headerEnd >= 0 && data.size() - headerEnd - 4 >= contentLength) {
            response.body = data.mid(headerEnd + 4, contentLength);
            return response;
        }
    }
    return response;
}

} // namespace streams::testing
