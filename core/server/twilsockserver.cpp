#include "server/twilsockserver.h"

#include "api/apierror.h"
#include "api/sid.h"
#include "engine/engine.h"
#include "server/httpserver.h"
#include "server/livesocket.h"
#include "server/restserver.h"
#include "server/twilsockconnection.h"
#include "server/twilsockshard.h"
#include "twilsock/framecodec.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QHostAddress>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>
#include <fcntl.h>

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
          QStringLiteral("streams-engine"), QWebSocketServer::NonSecureMode, this)),
      m_engineShard(new TwilsockShard(*this))
{
    m_engineShard->setParent(this);
    connect(m_websockets, &QWebSocketServer::newConnection, this, &TwilsockServer::onNewWebSocket);
    const int ioThreads =
        m_options.ioThreads < 0 ? std::max(1, QThread::idealThreadCount()) : m_options.ioThreads;
    for (int i = 0; i < ioThreads; ++i) {
        auto *thread = new QThread(this);
        thread->setObjectName(QStringLiteral("twilsock I/O %1").arg(i + 1));
        auto *shard = new TwilsockShard(*this);
        shard->moveToThread(thread);
        thread->start();
        m_ioShards.emplace_back(thread, shard);
    }
    m_engine.setLiveDisconnector(
        [this](const std::function<bool(const QString &, const QString &)> &accepts,
            bool everyone) { return disconnectMatching(accepts, everyone); });
}

TwilsockServer::~TwilsockServer()
{
    m_engine.setLiveDisconnector({});
    // Each shard deletes its connections on its own thread (they unsubscribe from the hub as
    // they go) and stops it. Meanwhile a connection may be waiting in onEngine(): this thread
    // keeps answering those until every I/O thread is done.
    for (const auto &[thread, shard] : m_ioShards) {
        QMetaObject::invokeMethod(
            shard,
            [shard] {
                shard->closeAll();
                QThread::currentThread()->quit();
            },
            Qt::QueuedConnection);
    }
    for (const auto &[thread, shard] : m_ioShards) {
        while (!thread->wait(QDeadlineTimer(5)))
            QCoreApplication::sendPostedEvents(this, QEvent::MetaCall);
        delete shard;
    }
    m_engineShard->closeAll();
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
    QList<std::pair<quint64, TwilsockShard *>> matching;
    {
        QMutexLocker lock(&m_registryMutex);
        for (auto it = m_registry.cbegin(); it != m_registry.cend(); ++it) {
            const auto &subscriptions = it->subscriptions;
            if (everyone
                || std::any_of(subscriptions.cbegin(), subscriptions.cend(),
                    [&](const auto &pair) { return accepts(pair.first, pair.second); }))
                matching.append({it.key(), it->shard});
        }
    }
    for (const auto &[id, shard] : std::as_const(matching)) {
        if (shard->thread() == QThread::currentThread())
            shard->dropForFault(id);
        else
            QMetaObject::invokeMethod(
                shard, [shard, id] { shard->dropForFault(id); }, Qt::QueuedConnection);
    }
    return quint64(matching.size());
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
    ++m_accepted;
    ++m_open;
    // A plain TCP socket goes to an I/O thread, as a LiveSocket on its descriptor (taken from
    // Qt here); a TLS tunnel's stays here, with its websocket, beside the proxy that made it.
    const bool movable = wire && !qobject_cast<QSslSocket *>(wire) && socket->parent() == nullptr
        && !m_ioShards.empty();
    TwilsockShard *shard =
        movable ? m_ioShards[m_nextShard++ % m_ioShards.size()].second : m_engineShard;
    {
        QMutexLocker lock(&m_registryMutex);
        m_registry.insert(id, Registered{shard, {}});
    }
    qCDebug(lcTwilsock) << "twilsock connection" << id << "opened";
    if (!movable) {
        // Made here, so that its handlers are connected before anything more is read.
        shard->adopt(new TwilsockConnection(id, std::move(socket), wire, m_engine, *this, *shard));
        return;
    }
    // A LiveSocket is no QObject: the connection (with its timers) is all that moves.
    auto *connection = takeLive(id, std::move(socket), wire, *shard);
    connection->moveToThread(shard->thread());
    QMetaObject::invokeMethod(
        shard, [shard, connection] { shard->adopt(connection); }, Qt::QueuedConnection);
}

TwilsockConnection *TwilsockServer::takeLive(
    quint64 id, std::unique_ptr<QWebSocket> socket, QTcpSocket *wire, TwilsockShard &shard)
{
    // The websocket server has just answered the handshake (its 101 may still wait in the
    // socket's buffer) and nothing after it has been read as frames yet: Qt's socket hands over
    // what it holds and its descriptor, and is closed without touching the connection.
    const TwilsockConnection::Endpoints endpoints{
        wire->peerAddress(), wire->peerPort(), wire->localAddress(), wire->localPort()};
    wire->flush();
    int descriptor = -1;
    QByteArray alreadyRead;
    if (wire->state() == QAbstractSocket::ConnectedState && wire->bytesToWrite() == 0) {
        alreadyRead = wire->readAll();
        descriptor = ::fcntl(int(wire->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    }
    // Neither the websocket server nor the websocket may act on the socket from now on. It is
    // deleted later: the websocket server is still in its handshake handler.
    QObject::disconnect(wire, nullptr, m_websockets, nullptr);
    socket->disconnect();
    wire->abort();
    socket.reset();
    wire->deleteLater();
    // A socket that could not be taken (gone already, or a handshake answer the kernel did not
    // take at once) makes a connection that ends as soon as its shard adopts it.
    auto live = std::make_unique<LiveSocket>(
        descriptor, std::move(alreadyRead), TwilsockConnection::kMaxWebSocketMessageBytes);
    return new TwilsockConnection(id, std::move(live), endpoints, m_engine, *this, shard);
}

void TwilsockServer::noteSubscriptions(quint64 id, QList<std::pair<QString, QString>> subscriptions)
{
    QMutexLocker lock(&m_registryMutex);
    if (const auto it = m_registry.find(id); it != m_registry.end())
        it->subscriptions = std::move(subscriptions);
}

void TwilsockServer::forget(quint64 id)
{
    {
        QMutexLocker lock(&m_registryMutex);
        if (!m_registry.remove(id))
            return;
    }
    --m_open;
    qCDebug(lcTwilsock) << "twilsock connection" << id << "closed";
}

TwilsockServer::Counters TwilsockServer::counters() const
{
    return {m_accepted.load(), m_open.load(), m_rejectedInputs.load(),
        m_failedAuthorizations.load(), m_droppedMessages.load(), m_slowConsumers.load(),
        m_readBatches.load()};
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

} // namespace streams
