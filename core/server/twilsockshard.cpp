#include "server/twilsockshard.h"

#include "api/jsonwriter.h"
#include "api/streammessage.h"
#include "server/livesocket.h"
#include "server/twilsockconnection.h"
#include "server/twilsockserver.h"
#include "twilsock/framecodec.h"

#include <QJsonObject>
#include <QLoggingCategory>
#include <QSocketNotifier>
#include <array>
#include <sys/epoll.h>
#include <unistd.h>

Q_DECLARE_LOGGING_CATEGORY(lcTwilsock)

namespace streams {

TwilsockShard::TwilsockShard(TwilsockServer &server)
    : m_server(server), m_pingTimer(this), m_drainTimer(this), m_readBatchTimer(this)
{
    m_readBatchTimer.setSingleShot(true);
    m_readBatchTimer.setTimerType(Qt::PreciseTimer);
    m_readBatchTimer.setInterval(m_server.options().readBatchWindow);
    connect(&m_readBatchTimer, &QTimer::timeout, this, [this] {
        for (const QPointer<TwilsockConnection> &connection : std::exchange(m_batchedReads, {})) {
            if (connection)
                connection->readPromptly();
        }
    });
    m_sinceStart.start();
    m_drainTimer.setSingleShot(true);
    m_drainTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_drainTimer, &QTimer::timeout, this, &TwilsockShard::drainWoken);
    const auto ping = m_server.options().pingInterval;
    if (ping.count() > 0) {
        m_pingTimer.setInterval(ping);
        connect(&m_pingTimer, &QTimer::timeout, this, &TwilsockShard::pingAll);
    }
}

TwilsockShard::~TwilsockShard()
{
    closeAll();
    if (m_epoll >= 0)
        ::close(m_epoll);
}

void TwilsockShard::closeAll()
{
    m_pingTimer.stop();
    m_drainTimer.stop();
    m_readBatchTimer.stop();
    // Connections unsubscribe from the hub as they go.
    const auto connections = std::exchange(m_connections, {});
    for (auto it = connections.cbegin(); it != connections.cend(); ++it)
        m_server.forget(it.key());
    qDeleteAll(connections);
}

void TwilsockShard::adopt(TwilsockConnection *connection)
{
    // Between its move to this thread and now, the connection may already have served its
    // peer: its socket may be gone (finished() had no receiver yet), or a subscription may have
    // been woken while this shard did not know it.
    if (connection->hasEnded()) {
        m_server.forget(connection->id());
        connection->deleteLater();
        return;
    }
    m_connections.insert(connection->id(), connection);
    connect(connection, &TwilsockConnection::finished, this, &TwilsockShard::remove);
    if (LiveSocket *socket = connection->liveSocket()) {
        if (m_epoll < 0) {
            m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
            if (m_epoll >= 0) {
                m_epollNotifier = new QSocketNotifier(m_epoll, QSocketNotifier::Read, this);
                connect(
                    m_epollNotifier, &QSocketNotifier::activated, this, &TwilsockShard::serveReady);
            }
        }
        // Watching also serves what arrived with the handshake, which may end the connection.
        if (m_epoll < 0 || !socket->watchWith(m_epoll, connection->id())) {
            qCWarning(lcTwilsock) << "twilsock connection" << connection->id()
                                  << "cannot be watched:" << qt_error_string(errno);
            socket->abort();
            remove(connection->id());
            return;
        }
        if (!m_connections.contains(connection->id()))
            return;
    }
    connection->deliverAll();
    // The timer lives on this thread, so it starts here.
    if (m_pingTimer.interval() > 0 && !m_pingTimer.isActive())
        m_pingTimer.start();
}

void TwilsockShard::dropForFault(quint64 id)
{
    if (TwilsockConnection *connection = m_connections.value(id))
        connection->dropForFault();
}

void TwilsockShard::remove(quint64 connectionId)
{
    TwilsockConnection *connection = m_connections.take(connectionId);
    if (!connection)
        return;
    m_server.forget(connectionId);
    // Deleted later: this runs inside one of the connection's own signal handlers.
    connection->deleteLater();
}

QByteArray TwilsockShard::messageNotification(const StreamMessage &message)
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
    const QByteArray frame = TwilsockServer::webSocketFrame(TwilsockServer::notificationFrame(
        QLatin1StringView("TM") + message.sid.sliced(2), payload));
    if (m_frames.size() >= kMaxCachedFrames)
        m_frames.clear();
    m_frames.insert(message.sid, frame);
    return frame;
}

QByteArray TwilsockShard::removalNotification(const QString &streamSid)
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
    const QByteArray frame =
        TwilsockServer::notificationFrame(TwilsockServer::newFrameId(), payload);
    if (m_frames.size() >= kMaxCachedFrames)
        m_frames.clear();
    m_frames.insert(key, frame);
    return frame;
}

std::function<void()> TwilsockShard::wakeFor(quint64 connectionId, const QString &streamSid)
{
    return [this, connectionId, streamSid] {
        bool queue = false;
        {
            QMutexLocker lock(&m_wakeMutex);
            m_woken.append({connectionId, streamSid});
            queue = !std::exchange(m_drainQueued, true);
        }
        if (queue)
            QMetaObject::invokeMethod(this, &TwilsockShard::drainWoken, Qt::QueuedConnection);
    };
}

void TwilsockShard::readPromptlyLater(TwilsockConnection *connection)
{
    m_batchedReads.append(connection);
    if (!m_readBatchTimer.isActive())
        m_readBatchTimer.start();
}

void TwilsockShard::drainWoken()
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

void TwilsockShard::serveReady()
{
    // Level-triggered: what is left unserved (more than one batch of sockets) is reported again.
    std::array<epoll_event, 256> events{};
    const int ready = ::epoll_wait(m_epoll, events.data(), int(events.size()), 0);
    for (int i = 0; i < ready; ++i) {
        // Sockets leave the set before their connections go; a closed one is simply not found.
        TwilsockConnection *connection = m_connections.value(events[i].data.u64);
        if (LiveSocket *socket = connection ? connection->liveSocket() : nullptr)
            socket->onEvents(events[i].events);
    }
}

void TwilsockShard::pingAll()
{
    // One frame for everyone: the client echoes the id in a reply the server ignores.
    const QByteArray ping =
        twilsock::FrameCodec::encode(QJsonObject{{QStringLiteral("method"), QStringLiteral("ping")},
            {QStringLiteral("id"), TwilsockServer::newFrameId()}});
    // A copy: a send can close a connection that is too far behind, which takes it out of the
    // map (it is deleted later, so the pointers stay good for this loop).
    const QList<TwilsockConnection *> connections = m_connections.values();
    for (TwilsockConnection *connection : connections) {
        if (connection->isReady())
            connection->send(ping);
    }
}

} // namespace streams
