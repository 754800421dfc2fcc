#include "rawclients.h"

#include <QDeadlineTimer>

namespace streams::testing {

QHostAddress loopbackSource(int a, int n)
{
    return QHostAddress(quint32((127u << 24) | (quint32(a & 0xff) << 16)
        | (quint32((n / 250) & 0xff) << 8) | quint32(n % 250 + 1)));
}

TimedResponse httpFrom(const QHostAddress &source, quint16 port, const QByteArray &method,
    const QByteArray &target, const QByteArray &authorization, const QByteArray &body)
{
    TimedResponse result;
    QTcpSocket socket;
    if (!socket.bind(source))
        return result;
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    if (!socket.waitForConnected(10000))
        return result;
    QElapsedTimer clock;
    clock.start();
    socket.write(httpRequest(port, method, target, authorization, body));
    QByteArray data;
    QDeadlineTimer deadline(30000);
    while (!deadline.hasExpired()) {
        if (socket.bytesAvailable() == 0
            && !socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            break;
        data += socket.readAll();
        if (takeResponse(data, result.response))
            break;
    }
    result.elapsedMs = clock.elapsed();
    // Whether the server ends the connection after this reply (held replies do).
    if (socket.state() == QAbstractSocket::ConnectedState)
        socket.waitForDisconnected(result.response.header("Connection") == "close" ? 5000 : 50);
    result.closedByServer = socket.state() != QAbstractSocket::ConnectedState;
    return result;
}

} // namespace streams::testing
