#pragma once

// Clients for the engine tests that need control a library client does not give: the source
// address a connection comes from (the engine slows down failing addresses, so each test picks
// its own 127.x.y.z), a websocket whose reading can be paused so its buffers fill, and
// connections dropped in the middle of a handshake.

#include "httpclient.h"
#include "twilsock/framecodec.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonObject>
#include <QTcpSocket>
#include <functional>
#include <optional>

namespace streams::testing {

/// 127.<a>.<b>.<c> for a test-chosen number: a loopback source address of its own.
QHostAddress loopbackSource(int a, int n);

/// Runs the event loop until `done` or the timeout; true if done. Unlike QTest::qWaitFor it
/// does not sleep between rounds, so sockets are served as fast as they are ready (a test that
/// measures throughput or latency needs that).
bool waitUntil(const std::function<bool()> &done, int timeoutMs);

/// A websocket upgrade request for `path` on the engine at `port` (a fixed key).
QByteArray upgradeRequest(const QByteArray &path, quint16 port);

/// "Basic base64(user:password)".
QByteArray basicAuthorization(const QString &user, const QString &password);

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

/// A websocket client over a bare QTcpSocket, speaking twilsock frames, driven by the caller's
/// event loop. Reading can be paused: the socket then takes nothing more from the kernel, whose
/// small receive buffer (set before connecting) soon fills, and the server's writes back up.
class RawWebSocket final
{
    Q_DISABLE_COPY_MOVE(RawWebSocket)

public:
    explicit RawWebSocket(
        const QHostAddress &source = QHostAddress(QHostAddress::LocalHost), int receiveBuffer = 0);

    bool connectTo(quint16 port, int timeoutMs = 10000);
    /// The upgrade request; false unless the server answers 101.
    bool upgrade(const QByteArray &path = "/v3/wsconnect", int timeoutMs = 10000);
    /// The first `bytes` of an upgrade request, and nothing more.
    void sendPartialUpgrade(qsizetype bytes);

    /// A masked binary websocket message carrying `header` (+ payload); returns the frame id.
    QString send(QJsonObject header, const QByteArray &payload = {});
    /// A close frame with `code` (the answer to a server's close).
    void sendClose(quint16 code);

    std::optional<twilsock::Frame> waitFor(
        const std::function<bool(const twilsock::Frame &)> &match, int timeoutMs = 10000);
    std::optional<twilsock::Frame> reply(const QString &id, int timeoutMs = 10000);
    std::optional<twilsock::Frame> init(const QByteArray &token, int timeoutMs = 10000);
    /// Subscribes to a stream; true once subscription_established arrives.
    bool subscribe(const QString &streamSid, int timeoutMs = 10000);

    void pauseReading();
    void resumeReading();
    /// The server closed the TCP connection (seen only while reading).
    bool isClosedByServer() const { return m_closedByServer; }
    /// The code and reason of the server's websocket close frame, once one arrived.
    std::optional<quint16> closeCode() const { return m_closeCode; }
    QByteArray closeReason() const { return m_closeReason; }

    const QList<twilsock::Frame> &frames() const { return m_frames; }
    /// `message_sid`s of stream_message_published notifications, in arrival order.
    const QStringList &messageSids() const { return m_messageSids; }
    qint64 bytesReceived() const { return m_bytesReceived; }
    QTcpSocket &socket() { return m_socket; }

private:
    void onReadyRead();
    void parse();

    QTcpSocket m_socket;
    bool m_paused = false;
    bool m_upgraded = false;
    bool m_closedByServer = false;
    QByteArray m_buffer;
    QByteArray m_message; // a fragmented message so far
    QList<twilsock::Frame> m_frames;
    QStringList m_messageSids;
    qint64 m_bytesReceived = 0;
    std::optional<quint16> m_closeCode;
    QByteArray m_closeReason;
    quint16 m_port = 0;
};

} // namespace streams::testing
