#pragma once

// HTTP for the engine tests that need control a library client does not give: the source
// address a connection comes from (the engine slows down failing addresses, so each test picks
// its own 127.x.y.z). The websocket client they use is tests/support/rawwebsocket.h.

#include "httpclient.h"
#include "rawwebsocket.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QTcpSocket>

namespace streams::testing {

/// 127.<a>.<b>.<c> for a test-chosen number: a loopback source address of its own.
QHostAddress loopbackSource(int a, int n);

/// One HTTP/1.1 exchange on a new connection from `source`; also says whether the server ended
/// the connection after the reply and how long the reply took.
struct TimedResponse
{
    HttpResponse response;
    qint64 elapsedMs = 0;
    bool closedByServer = false;
};
TimedResponse httpFrom(const QHostAddress &source, quint16 port, const QByteArray &method,
    const QByteArray &target, const QByteArray &authorization, const QByteArray &body = {});

} // namespace streams::testing
