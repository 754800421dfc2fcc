#include "server/twilsockserver.h"

#include "api/apierror.h"
#include "api/jsonwriter.h"
#include "api/sid.h"
#include "api/streammessage.h"
#include "engine/engine.h"
#include "server/httpserver.h"
#include "server/restserver.h"
#include "server/twilsockconnection.h"
#include "twilsock/framecodec.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketServer>

Q_LOGGING_CATEGORY(lcTwilsock, "streams.server.twilsock", QtWarningMsg)

namespace {
QString peerKey(const QHostAddress &address, quint16 port)
{
    return address.toString() + u' ' + QString::number(port);
}
} // namespace

namespace streams {

TwilsockServer::TwilsockServer(Engine &engine, TwilsockOptions options, QObject *parent)
    : QObject(parent),
      m_engine(engine),
      m_options(options),
      m_websockets(new QWebSocketServer(
          QStringLiteral("streams-engine"), QWebSocketServer::NonSecureMode, this))
{
    connect(m_websockets, &QWebSocketServer::newConnection, this, &TwilsockServer::onNewWebSocket);
    m_sinceStart.start();
    m_drainTimer.setSingleShot(true);
    m_drainTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_drainTimer, &QTimer::timeout, this, &TwilsockServer::drainWoken);
    if (m_options.pingInterval.count() > 0) {
        m_pingTimer.setInterval(m_options.pingInterval);
        connect(&m_pingTimer, &QTimer::timeout, this, &TwilsockServer::pingAll);
        m_pingTimer.start();
    }
    m_engine.setLiveDisconnector(
        [this](const std::function<bool(const QString &, const QString &)> &accepts,
            bool everyone) { return disconnectMatching(accepts, everyone); });
}

TwilsockServer::~TwilsockServer()
{
    m_engine.setLiveDisconnector({});
    // Connections unsubscribe from the hub as they go; do it while every member still exists.
    const auto connections = std::exchange(m_connections, {});
    qDeleteAll(connections);
}

void TwilsockServer::attachTo(RestServer &rest)
{
    m_throttle = &rest.authThrottle();
    // Only a websocket handshake is taken. Authentication is the `init` frame's token (browsers
    // cannot send credentials with a handshake), counted by the AuthThrottle shared with REST.
    const auto check = [](const HttpRequest &request,
                           const QHostAddress &) -> std::optional<HttpResponse> {
        if (request.method != "GET"
            || request.upgradeProtocol.compare("websocket", Qt::CaseInsensitive) != 0)
            return HttpResponse::fromError(ApiError::badRequest(
                QStringLiteral("%1 takes websocket handshakes only (GET with Upgrade: websocket)")
                    .arg(kPath)));
        return std::nullopt;
    };
    // The websocket server reads the handshake still in the socket, answers it and owns the
    // socket from then on (it deletes it once disconnected).
    const auto take = [this](QTcpSocket *socket) {
        socket->setParent(m_websockets);
        // Handshakes that never finished left their sockets (now gone) behind.
        m_handshaking.removeIf([](const auto &entry) { return entry.value().isNull(); });
        m_handshaking.insert(peerKey(socket->peerAddress(), socket->peerPort()), socket);
        m_websockets->handleConnection(socket);
    };
    rest.http().addUpgrade(QByteArray(kPath.data(), kPath.size()), {check, take});
    rest.controlPlane().setLiveConnections([this] { return m_open.load(); });
}

quint64 TwilsockServer::disconnectMatching(
    const std::function<bool(const QString &, const QString &)> &accepts, bool everyone)
{
    quint64 closed = 0;
    const QList<TwilsockConnection *> connections = m_connections.values();
    for (TwilsockConnection *connection : connections) {
        if ((everyone || connection->subscribesTo(accepts)) && connection->dropForFault())
            ++closed;
    }
    return closed;
}

void TwilsockServer::onNewWebSocket()
{
    while (m_websockets->hasPendingConnections()) {
        std::unique_ptr<QWebSocket> socket(m_websockets->nextPendingConnection());
        // The socket under it is the one handed over with the same peer: QWebSocket keeps
        // reading and answering on it, and notifications skip its per-message copies.
        QPointer<QTcpSocket> wire = socket
            ? m_handshaking.take(peerKey(socket->peerAddress(), socket->peerPort()))
            : nullptr;
        accept(std::move(socket), wire.data());
    }
}

void TwilsockServer::accept(std::unique_ptr<QWebSocket> socket, QTcpSocket *wire)
{
    if (!socket)
        return;
    // Sockets handed to accept() directly may come from anywhere: the path is checked.
    if (socket->requestUrl().path() != kPath) {
        QWebSocket *refused = socket.release();
        connect(refused, &QWebSocket::disconnected, refused, &QObject::deleteLater);
        // A peer that never completes the closing handshake does not keep the socket.
        QTimer::singleShot(5000, refused, &QObject::deleteLater);
        refused->close(QWebSocketProtocol::CloseCodePolicyViolated,
            QStringLiteral("no websocket endpoint at this path"));
        return;
    }
    const quint64 id = m_nextConnectionId++;
    auto *connection = new TwilsockConnection(id, std::move(socket), wire, m_engine, *this);
    m_connections.insert(id, connection);
    ++m_accepted;
    ++m_open;
    connect(connection, &TwilsockConnection::finished, this, &TwilsockServer::remove);
    qCDebug(lcTwilsock) << "twilsock connection" << id << "opened";
}

void TwilsockServer::remove(quint64 connectionId)
{
    TwilsockConnection *connection = m_connections.take(connectionId);
    if (!connection)
        return;
    --m_open;
    qCDebug(lcTwilsock) << "twilsock connection" << connectionId << "closed";
    // Deleted later: this runs inside one of the connection's own signal handlers.
    connection->deleteLater();
}

TwilsockServer::Counters TwilsockServer::counters() const
{
    return {m_accepted.load(), m_open.load(), m_rejectedInputs.load(),
        m_failedAuthorizations.load(), m_droppedMessages.load(), m_slowConsumers.load()};
}

QString TwilsockServer::newFrameId()
{
    return QLatin1StringView("TM") + sid::generate(SidKind::RequestId).sliced(2);
}

QByteArray TwilsockServer::notificationFrame(const QString &id, QByteArrayView payload)
{
    static const QJsonObject base{{QStringLiteral("method"), QStringLiteral("notification")},
        {QStringLiteral("payload_type"), QStringLiteral("application/json")},
        {QStringLiteral("message_type"), QStringLiteral("twilio.sync.event")},
        {QStringLiteral("notification_ctx_id"), QString()}};
    QJsonObject header = base;
    header.insert(QStringLiteral("id"), id);
    return twilsock::FrameCodec::encode(std::move(header), payload);
}

QByteArray TwilsockServer::messageNotification(const StreamMessage &message)
{
    if (const auto it = m_frames.constFind(message.sid); it != m_frames.cend())
        return *it;
    QByteArray payload;
    payload.reserve(192 + message.data.size());
    JsonWriter json(payload);
    json.beginObject()
        .key(QLatin1StringView("event_type"))
        .value(QLatin1StringView("stream_message_published"))
        .key(QLatin1StringView("event_protocol_version"))
        .value(4)
        .key(QLatin1StringView("event"))
        .beginObject()
        .key(QLatin1StringView("stream_sid"))
        .value(QStringView(message.streamSid))
        .key(QLatin1StringView("message_sid"))
        .value(QStringView(message.sid))
        .key(QLatin1StringView("message_data"))
        .rawValue(message.data)
        .endObject()
        .endObject();
    // "TM" + the message SID's hex: the same id for every receiver, so one frame serves all.
    const QByteArray frame =
        webSocketFrame(notificationFrame(QLatin1StringView("TM") + message.sid.sliced(2), payload));
    if (m_frames.size() >= kMaxCachedFrames)
        m_frames.clear();
    m_frames.insert(message.sid, frame);
    return frame;
}

QByteArray TwilsockServer::webSocketFrame(QByteArrayView frame)
{
    // FIN + binary; a server's frames are not masked; the length in 7, 16 or 64 bits.
    QByteArray out;
    const qsizetype size = frame.size();
    out.reserve(size + 10);
    out.append(char(0x82));
    if (size < 126) {
        out.append(char(size));
    } else if (size <= 0xffff) {
        out.append(char(126));
        out.append(char(size >> 8)).append(char(size & 0xff));
    } else {
        out.append(char(127));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.append(char((quint64(size) >> shift) & 0xff));
    }
    out.append(frame.data(), size);
    return out;
}

QByteArrayView TwilsockServer::twilsockFrameOf(const QByteArray &webSocketFrame)
{
    const quint8 length = quint8(webSocketFrame.at(1));
    const qsizetype header = length < 126 ? 2 : length == 126 ? 4 : 10;
    return QByteArrayView(webSocketFrame).sliced(header);
}

QByteArray TwilsockServer::removalNotification(const QString &streamSid)
{
    const QString key = QLatin1StringView("removed:") + streamSid;
    if (const auto it = m_frames.constFind(key); it != m_frames.cend())
        return *it;
    QByteArray payload;
    JsonWriter json(payload);
    json.beginObject()
        .key(QLatin1StringView("event_type"))
        .value(QLatin1StringView("stream_removed"))
        .key(QLatin1StringView("event_protocol_version"))
        .value(4)
        .key(QLatin1StringView("event"))
        .beginObject()
        .key(QLatin1StringView("stream_sid"))
        .value(QStringView(streamSid))
        .endObject()
        .endObject();
    const QByteArray frame = notificationFrame(newFrameId(), payload);
    if (m_frames.size() >= kMaxCachedFrames)
        m_frames.clear();
    m_frames.insert(key, frame);
    return frame;
}

std::function<void()> TwilsockServer::wakeFor(quint64 connectionId, const QString &streamSid)
{
    return [this, connectionId, streamSid] {
        bool queue = false;
        {
            QMutexLocker lock(&m_wakeMutex);
            m_woken.append({connectionId, streamSid});
            queue = !std::exchange(m_drainQueued, true);
        }
        if (queue)
            QMetaObject::invokeMethod(this, &TwilsockServer::drainWoken, Qt::QueuedConnection);
    };
}

void TwilsockServer::drainWoken()
{
    const qint64 startedNs = m_sinceStart.nsecsElapsed();
    const qint64 earliestNs = m_lastDrainEndNs + m_lastDrainNs;
    if (m_lastDrainNs >= kFairShareFromNs && startedNs < earliestNs) {
        // Still queued (m_drainQueued stays set): wake-ups until then join this pass.
        if (!m_drainTimer.isActive())
            m_drainTimer.start(int((earliestNs - startedNs + 999'999) / 1'000'000));
        return;
    }
    QList<std::pair<quint64, QString>> woken;
    {
        QMutexLocker lock(&m_wakeMutex);
        woken.swap(m_woken);
        m_drainQueued = false;
    }
    for (const auto &[connectionId, streamSid] : std::as_const(woken)) {
        // A connection that closed since its wake-up is simply gone from the map.
        if (TwilsockConnection *connection = m_connections.value(connectionId))
            connection->deliver(streamSid);
    }
    m_frames.clear();
    m_lastDrainEndNs = m_sinceStart.nsecsElapsed();
    m_lastDrainNs = m_lastDrainEndNs - startedNs;
}

void TwilsockServer::pingAll()
{
    // One frame for everyone: the client echoes the id in a reply the server ignores.
    const QByteArray ping = twilsock::FrameCodec::encode(QJsonObject{
        {QStringLiteral("method"), QStringLiteral("ping")}, {QStringLiteral("id"), newFrameId()}});
    // A copy: a send can close a connection that is too far behind, which takes it out of the
    // map (it is deleted later, so the pointers stay good for this loop).
    const QList<TwilsockConnection *> connections = m_connections.values();
    for (TwilsockConnection *connection : connections) {
        if (connection->isReady())
            connection->send(ping);
    }
}

} // namespace streams
