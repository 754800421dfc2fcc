#pragma once

// The tests' one twilsock client: a websocket written by hand over a bare QTcpSocket, so that a
// test controls what a library client would not (the source address a connection comes from,
// reading paused so the server's buffers fill, a handshake dropped halfway, text frames and
// oversized messages) and sees every frame that comes back. Used against the in-process
// TwilsockServer (tests/core/server) and the streams-engine binary (tests/app/engine).

#include "twilsock/framecodec.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QStringList>
#include <QTcpSocket>
#include <functional>
#include <optional>

namespace streams::testing {

/// Runs the event loop until `done` or the timeout; true if done. Unlike QTest::qWaitFor it
/// does not sleep between rounds, so sockets are served as fast as they are ready (a test that
/// measures throughput or latency needs that).
bool waitUntil(const std::function<bool()> &done, int timeoutMs);

/// A websocket upgrade request for `path` on the engine at `port` (a fixed key).
QByteArray upgradeRequest(const QByteArray &path, quint16 port);

/// A websocket client speaking twilsock frames, driven by the caller's event loop. Every frame
/// received is kept (frames()), stream_message_published notifications also by message SID
/// (messageSids()); keepMessageFrames(false) keeps only the SIDs, for a subscriber that takes
/// thousands. Reading can be paused: the socket then takes nothing more from the kernel, whose
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
    /// connectTo() and upgrade().
    bool open(quint16 port, const QByteArray &path = "/v3/wsconnect", int timeoutMs = 10000);
    /// The first `bytes` of an upgrade request, and nothing more.
    void sendPartialUpgrade(qsizetype bytes);

    /// A twilsock frame carrying `header` (+ payload), with an id if it has none; returns the id.
    QString send(QJsonObject header, const QByteArray &payload = {});
    /// One masked binary websocket message of any bytes (twilsock or not).
    void sendBinary(const QByteArray &bytes);
    /// One masked text websocket message.
    void sendText(const QByteArray &bytes);
    /// A close frame with `code` (the answer to a server's close).
    void sendClose(quint16 code);

    std::optional<twilsock::Frame> waitFor(
        const std::function<bool(const twilsock::Frame &)> &match, int timeoutMs = 10000);
    std::optional<twilsock::Frame> reply(const QString &id, int timeoutMs = 10000);
    /// `init` as the SDK sends it (capabilities client_update, offline_storage, telemetry.v1);
    /// returns the reply.
    std::optional<twilsock::Frame> init(const QByteArray &token, int timeoutMs = 10000);
    /// An upstream (Sync) request as the SDK sends it; returns the reply frame.
    std::optional<twilsock::Frame> call(const QString &method, const QString &path,
        const QByteArray &body = {}, int timeoutMs = 10000);
    /// POST /v4/Subscriptions with `action` (establish, cancel) for `sids`; returns the reply
    /// (the outcome comes as notifications).
    std::optional<twilsock::Frame> subscriptions(const QString &action, const QStringList &sids,
        qint64 correlationId, int timeoutMs = 10000);
    /// Subscribes to a stream; true once subscription_established arrives.
    bool subscribe(const QString &streamSid, int timeoutMs = 10000);
    /// The payload of the first notification of `eventType` that `match` accepts.
    std::optional<QJsonObject> notification(const QString &eventType,
        const std::function<bool(const QJsonObject &)> &match = {}, int timeoutMs = 10000);
    /// How many frames of `method` arrived.
    qsizetype count(const QString &method) const;
    /// Confirms every notification not confirmed yet, with the reply the SDK sends.
    void acknowledgeNotifications();

    void pauseReading();
    void resumeReading();
    void keepMessageFrames(bool keep) { m_keepMessageFrames = keep; }
    /// The server closed the TCP connection (seen only while reading).
    bool isClosedByServer() const { return m_closedByServer; }
    bool waitClosedByServer(int timeoutMs = 10000);
    /// The code and reason of the server's websocket close frame, once one arrived.
    std::optional<quint16> closeCode() const { return m_closeCode; }
    QByteArray closeReason() const { return m_closeReason; }

    const QList<twilsock::Frame> &frames() const { return m_frames; }
    /// Binary messages that were not twilsock frames.
    int undecodable() const { return m_undecodable; }
    /// `message_sid`s of stream_message_published notifications, in arrival order.
    const QStringList &messageSids() const { return m_messageSids; }
    qint64 bytesReceived() const { return m_bytesReceived; }
    QTcpSocket &socket() { return m_socket; }

private:
    void sendMessage(quint8 opcode, const QByteArray &message);
    void onReadyRead();
    void parse();

    QTcpSocket m_socket;
    bool m_paused = false;
    bool m_upgraded = false;
    bool m_closedByServer = false;
    bool m_keepMessageFrames = true;
    QByteArray m_buffer;
    QByteArray m_message; // a fragmented message so far
    QList<twilsock::Frame> m_frames;
    int m_undecodable = 0;
    qsizetype m_acknowledged = 0; // frames looked at by acknowledgeNotifications()
    QStringList m_messageSids;
    qint64 m_bytesReceived = 0;
    std::optional<quint16> m_closeCode;
    QByteArray m_closeReason;
    quint16 m_port = 0;
};

} // namespace streams::testing
