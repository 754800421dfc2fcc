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

QByteArray basicAuthorization(const QString &user, const QString &password)
{
    return "Basic " + (user + u':' + password).toUtf8().toBase64();
}

QByteArray httpRequest(quint16 port, const QByteArray &method, const QByteArray &target,
    const QByteArray &authorization, const QByteArray &body,
    const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
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
    return request;
}

namespace {
// The status line and headers at the front of `data`; the offset of the body, or -1 until the
// blank line after the headers has arrived.
qsizetype parseHead(const QByteArray &data, HttpResponse &response)
{
    const qsizetype headerEnd = data.indexOf("\r\n\r\n");
    if (headerEnd < 0)
        return -1;
    response = {};
    const QList<QByteArray> lines = data.left(headerEnd).split('\n');
    response.status = lines.value(0).split(' ').value(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            response.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    return headerEnd + 4;
}
} // namespace

bool takeResponse(QByteArray &buffer, HttpResponse &response)
{
    HttpResponse parsed;
    const qsizetype bodyStart = parseHead(buffer, parsed);
    if (bodyStart < 0)
        return false;
    const qsizetype length = parsed.header("Content-Length").toLongLong();
    if (buffer.size() - bodyStart < length)
        return false;
    parsed.body = buffer.mid(bodyStart, length);
    buffer.remove(0, bodyStart + length);
    response = std::move(parsed);
    return true;
}

HttpResponse readHttpResponse(QTcpSocket &socket, QByteArray &buffer)
{
    HttpResponse response;
    QDeadlineTimer deadline(15000);
    while (!takeResponse(buffer, response)) {
        if (deadline.hasExpired()
            || (socket.bytesAvailable() == 0
                && !socket.waitForReadyRead(int(deadline.remainingTime())))) {
            // Cut short: whatever head (and body) came.
            if (const qsizetype bodyStart = parseHead(buffer, response); bodyStart >= 0)
                response.body = buffer.mid(bodyStart);
            return response;
        }
        buffer += socket.readAll();
    }
    return response;
}

HttpResponse httpExchange(quint16 port, const QByteArray &method, const QByteArray &target,
    const QByteArray &authorization, const QByteArray &body,
    const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    if (!socket.waitForConnected(5000))
        return {};
    socket.write(httpRequest(port, method, target, authorization, body, extraHeaders));
    QByteArray buffer;
    return readHttpResponse(socket, buffer);
}

} // namespace streams::testing
