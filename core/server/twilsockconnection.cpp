#include "server/twilsockconnection.h"

#include "engine/clock.h"
#include "engine/engine.h"
#include "server/livesocket.h"
#include "server/twilsockserver.h"
#include "server/twilsockshard.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSslSocket>
#include <QTcpSocket>
#include <QWebSocket>
#include <algorithm>

Q_DECLARE_LOGGING_CATEGORY(lcTwilsock)

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

namespace streams {

namespace {
using twilsock::AccessToken;
using twilsock::Frame;
using twilsock::FrameCodec;

// QTimer takes an int; longer waits are re-armed when they fire.
constexpr qint64 kMaxTimerMs = 24LL * 3600 * 1000;
constexpr int kMaxSubscriptionBatch = 100;
constexpr int kEstimatedDeliveryMs = 5000;
constexpr int kSubscriptionTtlSeconds = 3600;
// The Kotlin SDK's fixture for a server `close` at token expiry.
constexpr int kTokenExpiredCloseErrorCode = 51207;
// RFC 6455 "policy violation": the one standard code every client accepts for "you broke a
// server rule" (1013 "try again later" is refused as invalid by Qt's own websocket client).
constexpr int kSlowConsumerSocketCode = 1008;

QString key(const char *name)
{
    return QString::fromLatin1(name);
}

QJsonObject statusObject(
    int code, QLatin1StringView status, const QString &description, int errorCode)
{
    QJsonObject object{{key("code"), code}, {key("status"), QString(status)}};
    if (errorCode != 0)
        object.insert(key("errorCode"), errorCode);
    if (!description.isEmpty())
        object.insert(key("description"), description);
    return object;
}

// The host is echoed into every descriptor URL, so only host[:port] characters pass.
bool isPlausibleHost(QStringView host)
{
    if (host.isEmpty() || host.size() > 255)
        return false;
    return std::all_of(host.begin(), host.end(), [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9')
            || c == u'.' || c == u'-' || c == u':' || c == u'[' || c == u']' || c == u'_';
    });
}

QJsonObject errorJson(const ApiError &error)
{
    return QJsonObject{{key("message"), error.message()}, {key("status"), error.httpStatus()},
        {key("code"), error.code()}};
}
} // namespace

TwilsockConnection::TwilsockConnection(quint64 id, std::unique_ptr<QWebSocket> socket,
    QTcpSocket *wire, Engine &engine, TwilsockServer &server, TwilsockShard &shard)
    : m_id(id),
      m_socket(std::move(socket)),
      m_wire(wire),
      m_wireDirect(wire && !qobject_cast<QSslSocket *>(wire)),
      m_peer(m_socket->peerAddress()),
      m_peerPort(m_socket->peerPort()),
      m_local(m_socket->localAddress()),
      m_localPort(m_socket->localPort()),
      m_engine(engine),
      m_server(server),
      m_shard(shard),
      m_router(engine)
{
    m_socket->setMaxAllowedIncomingMessageSize(quint64(kMaxWebSocketMessageBytes));
    m_socket->setMaxAllowedIncomingFrameSize(quint64(kMaxWebSocketMessageBytes));
    connect(m_socket.get(), &QWebSocket::binaryMessageReceived, this,
        &TwilsockConnection::onBinaryMessage);
    connect(
        m_socket.get(), &QWebSocket::textMessageReceived, this, &TwilsockConnection::onTextMessage);
    connect(m_socket.get(), &QWebSocket::disconnected, this, &TwilsockConnection::onDisconnected);
    connect(m_socket.get(), &QWebSocket::bytesWritten, this, &TwilsockConnection::onBytesWritten);
    setUp(m_socket->state() == QAbstractSocket::ConnectedState);
}

TwilsockConnection::TwilsockConnection(quint64 id, std::unique_ptr<LiveSocket> socket,
    const Endpoints &endpoints, Engine &engine, TwilsockServer &server, TwilsockShard &shard)
    : m_id(id),
      m_live(std::move(socket)),
      m_wireDirect(true),
      m_peer(endpoints.peer),
      m_peerPort(endpoints.peerPort),
      m_local(endpoints.local),
      m_localPort(endpoints.localPort),
      m_engine(engine),
      m_server(server),
      m_shard(shard),
      m_router(engine)
{
    m_live->setHandlers({
        .binaryMessage = [this](const QByteArray &bytes) { onBinaryMessage(bytes); },
        .textMessage = [this] { onTextMessage(); },
        .drained = [this] { onBytesWritten(); },
        .closed = [this] { onDisconnected(); },
    });
    setUp(m_live->isOpen());
}

void TwilsockConnection::setUp(bool connected)
{
    for (QTimer *timer :
        {&m_initTimer, &m_warningTimer, &m_expiryTimer, &m_stallTimer, &m_closeGraceTimer})
        timer->setSingleShot(true);
    connect(&m_stallTimer, &QTimer::timeout, this, [this] {
        // Above the limit when the clock started, and never drained to half of it since.
        closeAsTooSlow(QStringLiteral("over %1 KiB unsent for %2 ms")
                           .arg(m_server.options().sendBufferLimit / 1024)
                           .arg(m_server.options().stallTimeout.count()));
    });
    connect(&m_closeGraceTimer, &QTimer::timeout, this, [this] {
        // The peer has not read up to our close (typically: it is not reading at all), or
        // has not answered it. Drop the connection; whatever it had not read goes with it.
        if (m_live)
            m_live->abort();
        else
            m_socket->abort();
        onDisconnected();
    });
    connect(&m_warningTimer, &QTimer::timeout, this, &TwilsockConnection::onTokenWarning);
    connect(&m_expiryTimer, &QTimer::timeout, this, &TwilsockConnection::onTokenExpiry);
    connect(&m_initTimer, &QTimer::timeout, this, [this] {
        if (m_state == State::AwaitingInit)
            closeWith(401, QLatin1StringView("UNAUTHORIZED"),
                QStringLiteral("No successful init within %1 ms")
                    .arg(m_server.options().initTimeout.count()),
                20101);
    });
    if (m_server.options().initTimeout.count() > 0)
        m_initTimer.start(m_server.options().initTimeout);

    // The peer may have gone between the upgrade and now: then no disconnected() will come.
    if (!connected) {
        m_state = State::Closing;
        m_finished = true;
        QMetaObject::invokeMethod(
            this, [this] { Q_EMIT finished(m_id); }, Qt::QueuedConnection);
    }
}

bool TwilsockConnection::isOpen() const
{
    return m_live ? m_live->isOpen() : m_socket->state() == QAbstractSocket::ConnectedState;
}

void TwilsockConnection::closeSocket(int code, const QString &reason)
{
    if (!m_live) {
        m_socket->close(QWebSocketProtocol::CloseCode(code), reason);
        return;
    }
    m_live->close(code, reason.toUtf8());
    // The closing handshake ends with the peer's answer; one that never comes costs the grace.
    if (m_live->isOpen()) {
        const auto grace = m_server.options().closeGrace;
        m_closeGraceTimer.start(grace.count() > 0 ? grace : std::chrono::milliseconds(1));
    }
}

TwilsockConnection::~TwilsockConnection()
{
    cancelAll();
    // The socket may emit while it is destroyed; nothing of this object may run then.
    if (m_live)
        m_live->setHandlers({});
    else
        m_socket->disconnect(this);
}

qint64 TwilsockConnection::unsentBytes() const
{
    if (m_live)
        return m_live->unsentBytes();
    // The same count either way; the TCP socket's is one call fewer per delivery.
    return m_wire ? m_wire->bytesToWrite() : m_socket->bytesToWrite();
}

void TwilsockConnection::send(const QByteArray &frame)
{
    if (!isOpen())
        return;
    if (m_live)
        m_live->write({TwilsockServer::webSocketFrame(frame)});
    else
        m_socket->sendBinaryMessage(frame);
    watchUnsent();
}

void TwilsockConnection::watchUnsent()
{
    if (m_state == State::Closing)
        return;
    const TwilsockOptions &options = m_server.options();
    const qint64 unsent = unsentBytes();
    if (unsent > options.maxUnsentBytes) {
        closeAsTooSlow(QStringLiteral("%1 bytes unsent").arg(unsent));
        return;
    }
    if (unsent > options.sendBufferLimit && !m_stallTimer.isActive()
        && options.stallTimeout.count() > 0)
        m_stallTimer.start(options.stallTimeout);
}

void TwilsockConnection::closeAsTooSlow(const QString &why)
{
    if (m_state == State::Closing)
        return;
    m_server.countSlowConsumer();
    qCWarning(lcTwilsock).noquote()
        << QStringLiteral("twilsock connection %1 from %2:%3 closed: too slow (%4; its "
                          "subscriptions dropped %5 messages)")
               .arg(m_id)
               .arg(m_peer.toString())
               .arg(m_peerPort)
               .arg(why)
               .arg(m_dropped);
    // Any status but the SDK's special ones (308/401/406/410/417) makes it reconnect, which is
    // right for a client that was only slow for a while; the description says why. Both the
    // frame and the websocket close queue behind what the client has not read, so a client that
    // resumes reading sees them; one that never does is dropped after the close grace.
    closeWith(429, QLatin1StringView("TOO_SLOW"),
        QStringLiteral("The client did not read what was sent (%1); messages were dropped")
            .arg(why),
        0, kSlowConsumerSocketCode, QStringLiteral("too slow: ") + why);
}

void TwilsockConnection::deliver(const QString &streamSid)
{
    const auto it = m_subscriptions.constFind(streamSid);
    if (it == m_subscriptions.cend() || m_state == State::Closing)
        return;
    // NOLINTNEXTLINE(performance-unnecessary-copy-initialization): owned, to outlive remove() below
    const std::shared_ptr<Subscription> subscription = *it;
    Subscription::Batch batch = subscription->drain();
    Outbox &outbox = m_outboxes[streamSid];
    quint64 dropped = batch.dropped;
    for (StreamMessage &message : batch.messages) {
        if (!m_ownMessages.isEmpty() && m_ownMessages.remove(message.sid))
            continue;
        outbox.messages.push_back(std::move(message));
    }
    // One bound for what waits for this client, whether in the hub's queue or here: a client
    // that falls behind loses its oldest messages, and only its own.
    while (qsizetype(outbox.messages.size()) > subscription->capacity()) {
        outbox.messages.pop_front();
        ++dropped;
    }
    if (dropped > 0) {
        m_server.countDropped(dropped);
        m_dropped += dropped;
    }
    if (batch.streamRemoved) {
        // The hub has already forgotten this subscription; the notice goes after what is queued.
        outbox.streamRemoved = true;
        m_subscriptions.remove(streamSid);
        noteSubscriptions();
    }
    flush(streamSid);
}

void TwilsockConnection::deliverAll()
{
    const QStringList streams = m_subscriptions.keys();
    for (const QString &streamSid : streams)
        deliver(streamSid);
}

void TwilsockConnection::flush(const QString &streamSid)
{
    const qint64 limit = m_server.options().sendBufferLimit;
    QList<QByteArray> frames;
    // send() may end the session (the hard limit), which empties m_outboxes: look the outbox
    // up afresh after every write rather than hold on to it.
    while (m_state != State::Closing) {
        const auto it = m_outboxes.find(streamSid);
        if (it == m_outboxes.end())
            return;
        if (it->messages.empty()) {
            const bool removed = it->streamRemoved;
            m_outboxes.erase(it);
            if (removed)
                send(m_shard.removalNotification(streamSid));
            return;
        }
        // Past the limit, the rest waits here (bounded) rather than in the socket (not).
        qint64 unsent = unsentBytes();
        if (unsent > limit) {
            watchUnsent();
            return;
        }
        // What fits under the limit goes out together: one write for the lot.
        frames.clear();
        while (!it->messages.empty() && unsent <= limit && frames.size() < kFramesPerWrite) {
            frames.append(m_shard.messageNotification(it->messages.front()));
            it->messages.pop_front();
            unsent += frames.constLast().size();
        }
        writeWire(frames);
    }
}

void TwilsockConnection::writeWire(const QList<QByteArray> &frames)
{
    if (!isOpen())
        return;
    if (m_live) {
        m_live->write(frames);
        watchUnsent();
        return;
    }
    if (!m_wire) {
        for (const QByteArray &frame : frames)
            m_socket->sendBinaryMessage(TwilsockServer::twilsockFrameOf(frame).toByteArray());
        watchUnsent();
        return;
    }
    qsizetype first = 0; // frames[first] onwards, from byte `offset` of it, are not written yet
    qsizetype offset = 0;
#ifdef Q_OS_UNIX
    // Only while nothing of Qt's waits to be written: the frames go after it, in order. What
    // the kernel does not take (full, or an error the socket will find and report itself)
    // goes through Qt's buffer.
    if (m_wireDirect && m_wire->bytesToWrite() == 0)
        sendFrames(
            int(m_wire->socketDescriptor()), frames.constData(), frames.size(), first, offset);
#endif
    for (qsizetype i = first; i < frames.size(); ++i) {
        if (i == first && offset > 0)
            m_wire->write(frames[i].constData() + offset, frames[i].size() - offset);
        else
            m_wire->write(frames[i]);
    }
    watchUnsent();
}

void TwilsockConnection::batchReads()
{
    if (!m_readsBatched && setReadLowWater(kBatchedReadBytes)) {
        m_readsBatched = true;
        m_server.countReadBatch();
        m_shard.readPromptlyLater(this);
    }
}

void TwilsockConnection::readPromptly()
{
    if (std::exchange(m_readsBatched, false))
        setReadLowWater(1);
}

bool TwilsockConnection::setReadLowWater(int bytes)
{
#ifdef Q_OS_UNIX
    if (m_live)
        return m_live->setReadLowWater(bytes);
    return m_wire
        && ::setsockopt(
               int(m_wire->socketDescriptor()), SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes)
        == 0;
#else
    Q_UNUSED(bytes);
    return false;
#endif
}

void TwilsockConnection::onBytesWritten()
{
    if (m_socketClose && unsentBytes() == 0) {
        closeSocketNow();
        return;
    }
    if (unsentBytes() > m_server.options().sendBufferLimit / 2)
        return;
    // Drained to half the limit: the client is keeping up (again).
    m_stallTimer.stop();
    if (m_outboxes.isEmpty() || m_state == State::Closing)
        return;
    const QStringList waiting = m_outboxes.keys();
    for (const QString &streamSid : waiting)
        flush(streamSid);
}

void TwilsockConnection::onTextMessage()
{
    if (m_state == State::Closing)
        return;
    // The SDK drops text frames itself ("unsupported protocol"); answer in kind.
    const QString why = QStringLiteral("a text frame (twilsock frames are binary)");
    rejectInput(why);
    closeWith(406, QLatin1StringView("NOT_ACCEPTABLE"), why);
}

void TwilsockConnection::onDisconnected()
{
    if (std::exchange(m_finished, true))
        return;
    const int closeCode = m_live ? m_live->closeCodeSent() : int(m_socket->closeCode());
    if (m_state != State::Closing && closeCode == QWebSocketProtocol::CloseCodeTooMuchData)
        rejectInput(
            QStringLiteral("a websocket message over %1 bytes").arg(kMaxWebSocketMessageBytes));
    m_state = State::Closing;
    for (QTimer *timer :
        {&m_initTimer, &m_warningTimer, &m_expiryTimer, &m_stallTimer, &m_closeGraceTimer})
        timer->stop();
    if (std::exchange(m_initHeld, false))
        m_server.onEngine([this] { m_server.authThrottle().release(m_peer); });
    cancelAll();
    Q_EMIT finished(m_id);
}

void TwilsockConnection::onBinaryMessage(const QByteArray &bytes)
{
    if (m_state == State::Closing)
        return;
    // One acknowledgement comes back for every notification sent: dropped unparsed. Two
    // within one read-batch window say more will follow, so they are read in batches from now.
    if (FrameCodec::isReply(bytes)) {
        if (m_wireDirect) {
            const auto now = std::chrono::steady_clock::now();
            if (now - m_lastAcknowledgement < m_server.options().readBatchWindow)
                batchReads();
            m_lastAcknowledgement = now;
        }
        return;
    }
    const auto frame = FrameCodec::decode(bytes);
    if (!frame) {
        // Without a parsed header there is no id to reply to: a fatal protocol error.
        const QString why = FrameCodec::describe(frame.error());
        rejectInput(why);
        closeWith(406, QLatin1StringView("NOT_ACCEPTABLE"), why);
        return;
    }
    const QString method = frame->method();
    const QString id = frame->id();

    // Acknowledgements of our frames and fire-and-forget telemetry need no answer.
    if (method == u"reply" || method == u"telemetry.v1")
        return;
    if (method == u"close") {
        noteRequest(*frame, bytes.size());
        logAnswer(id, 200, 0, 0);
        m_state = State::Closing;
        closeSocket(QWebSocketProtocol::CloseCodeNormal, {});
        return;
    }
    const bool isRequest =
        method == u"init" || method == u"update" || method == u"message" || method == u"ping";
    if (method.isEmpty() || id.isEmpty()) {
        const QString why = method.isEmpty()
            ? QStringLiteral("a frame without a method")
            : QStringLiteral("a %1 frame without an id").arg(method.left(64));
        rejectInput(why);
        closeWith(406, QLatin1StringView("NOT_ACCEPTABLE"), why);
        return;
    }
    if (!isRequest) {
        const QString why = QStringLiteral("unknown method \"%1\"").arg(method.left(64));
        rejectInput(why);
        replyStatus(id, 400, QLatin1StringView("BAD_REQUEST"), why);
        return;
    }
    if (method == u"ping") {
        replyStatus(id, 200, QLatin1StringView("OK"));
        return;
    }
    noteRequest(*frame, bytes.size());
    if (method == u"init") {
        if (m_state == State::Ready || m_initHeld) {
            const QString why = m_initHeld
                ? QStringLiteral("init while another init is waiting for its turn")
                : QStringLiteral("init on a connection that is already initialised");
            rejectInput(why);
            replyStatus(id, 400, QLatin1StringView("BAD_REQUEST"), why);
            return;
        }
        authorizeInit(*frame);
        return;
    }
    if (m_state != State::Ready) {
        const QString why = QStringLiteral("%1 before a successful init").arg(method);
        rejectInput(why);
        replyStatus(id, 400, QLatin1StringView("BAD_REQUEST"), why);
        return;
    }
    if (method == u"update")
        handleUpdate(*frame);
    else
        handleUpstream(*frame);
}

std::expected<TwilsockConnection::Grant, TwilsockConnection::Denial> TwilsockConnection::authorize(
    const QJsonValue &token) const
{
    if (!token.isString() || token.toString().isEmpty())
        return std::unexpected(Denial{20101, QStringLiteral("Invalid Access Token: none given")});
    const EngineCredentials &credentials = m_engine.credentials();
    const auto secretFor = [&credentials](const QString &apiKeySid) -> std::optional<QByteArray> {
        if (apiKeySid == credentials.apiKeySid)
            return credentials.apiKeySecret.toUtf8();
        return std::nullopt;
    };
    auto claims = AccessToken::verify(
        token.toString().toUtf8(), secretFor, m_engine.tokenClock().nowSeconds());
    if (!claims)
        return std::unexpected(
            Denial{AccessToken::errorCode(claims.error()), AccessToken::describe(claims.error())});
    if (claims->accountSid != credentials.accountSid)
        return std::unexpected(
            Denial{20101, QStringLiteral("Invalid Access Token: issued for another account")});
    // A Sync grant without a service means the account's default service, as on Twilio.
    const QString serviceId =
        claims->serviceSid.isEmpty() ? QStringLiteral("default") : claims->serviceSid;
    auto service = m_server.onEngine([&] { return m_engine.fetchService(serviceId); });
    if (!service)
        return std::unexpected(Denial{20101,
            QStringLiteral("Invalid Access Token: the Sync service %1 does not exist")
                .arg(serviceId.left(64))});
    return Grant{*claims, service->sid};
}

void TwilsockConnection::authorizeInit(const Frame &frame)
{
    // An address that keeps presenting bad tokens waits its turn, as on the REST port.
    const QHostAddress peer = m_peer;
    const auto admission = m_server.onEngine(
        [&] { return m_server.authThrottle().admit(peer, AuthThrottle::monotonicMs()); });
    if (admission.refused) {
        replyStatus(frame.id(), 429, QLatin1StringView("TOO_MANY_REQUESTS"),
            QStringLiteral("Too many failed authentication attempts from this address; try "
                           "again later"));
        return;
    }
    if (admission.wait.count() == 0) {
        handleInit(frame);
        return;
    }
    m_initHeld = true;
    QTimer::singleShot(admission.wait, this, [this, frame, peer] {
        if (!std::exchange(m_initHeld, false))
            return; // the socket went meanwhile and gave the turn back
        m_server.onEngine([this, &peer] { m_server.authThrottle().release(peer); });
        if (m_state == State::AwaitingInit)
            handleInit(frame);
    });
}

void TwilsockConnection::handleInit(const Frame &frame)
{
    auto grant = authorize(frame.header.value(key("token")));
    if (!grant) {
        // The SDK treats 401 as terminal and closes the socket itself; the init timer closes
        // it for clients that do not.
        m_server.countFailedAuthorization();
        m_server.onEngine(
            [this] { m_server.authThrottle().recordFailure(m_peer, AuthThrottle::monotonicMs()); });
        qCDebug(lcTwilsock) << "twilsock connection" << m_id
                            << "init refused:" << grant.error().description;
        replyStatus(frame.id(), 401, QLatin1StringView("UNAUTHORIZED"), grant.error().description,
            grant.error().errorCode);
        return;
    }
    m_grant = std::move(*grant);
    m_state = State::Ready;
    m_initTimer.stop();
    m_server.onEngine([this] { m_server.authThrottle().recordSuccess(m_peer); });

    const QJsonValue offered = frame.header.value(key("continuation_token"));
    const QString continuationToken = offered.isString() && !offered.toString().isEmpty()
        ? offered.toString()
        : QLatin1StringView("CT") + TwilsockServer::newFrameId().sliced(2);
    // Stable per user of a service, so the SDK's local cache (browsers) survives reconnects.
    const QString storageId = QString::fromLatin1(QCryptographicHash::hash(
        (m_grant.serviceSid + u'/' + m_grant.claims.identity).toUtf8(), QCryptographicHash::Sha256)
                                                      .toHex()
                                                      .left(32));
    const QJsonObject header{{key("method"), key("reply")}, {key("id"), frame.id()},
        {key("status"), statusObject(200, QLatin1StringView("OK"), {}, 0)},
        {key("capabilities"), QJsonArray{key("client_update")}},
        {key("continuation_token"), continuationToken},
        {key("continuation_token_status"), QJsonObject{{key("reissued"), false}}},
        {key("offline_storage"),
            QJsonObject{{key("data_sync"), QJsonObject{{key("storage_id"), storageId}}}}},
        {key("init_registrations"), QJsonArray()}};
    const QByteArray reply = FrameCodec::encode(header);
    logAnswer(frame.id(), 200, 0, reply.size());
    send(reply);
    armTokenTimers();
}

void TwilsockConnection::handleUpdate(const Frame &frame)
{
    auto grant = authorize(frame.header.value(key("token")));
    if (grant && grant->serviceSid != m_grant.serviceSid)
        grant = std::unexpected(
            Denial{20101, QStringLiteral("Invalid Access Token: it grants another Sync service")});
    if (!grant) {
        // The current token stays in force until its own expiry.
        m_server.countFailedAuthorization();
        replyStatus(frame.id(), 401, QLatin1StringView("UNAUTHORIZED"), grant.error().description,
            grant.error().errorCode);
        return;
    }
    m_grant = std::move(*grant);
    armTokenTimers();
    replyStatus(frame.id(), 200, QLatin1StringView("OK"));
}

void TwilsockConnection::handleUpstream(const Frame &frame)
{
    const QJsonObject request = frame.header.value(key("http_request")).toObject();
    const QString method = request.value(key("method")).toString().toUpper();
    QString path = request.value(key("path")).toString();
    if (method.isEmpty() || !path.startsWith(u'/')) {
        const QString why = QStringLiteral("a message without http_request method and path");
        rejectInput(why);
        replyStatus(frame.id(), 400, QLatin1StringView("BAD_REQUEST"), why);
        return;
    }

    QStringView route(path);
    if (const qsizetype query = route.indexOf(u'?'); query >= 0)
        route = route.first(query);
    if (route.size() > 1 && route.endsWith(u'/'))
        route.chop(1);
    if (route == u"/v4/Subscriptions") {
        if (method != u"POST") {
            replyHttp(frame.id(), CdsRouter::errorReply(ApiError::notFound(route.toString())));
            return;
        }
        QList<QByteArray> notifications;
        replyHttp(frame.id(), handleSubscriptions(frame.payload, notifications));
        // After the reply, as Twilio does: the SDK matches them by correlation id.
        for (const QByteArray &notification : std::as_const(notifications))
            send(notification);
        return;
    }

    const CdsRouter::Caller caller{m_grant.serviceSid, m_grant.claims.identity,
        baseUrl(request.value(key("host")).toString())};
    const CdsRouter::Reply reply =
        m_server.onEngine([&] { return m_router.route(caller, method, path, frame.payload); });
    if (reply.published && m_subscriptions.contains(reply.published->streamSid)) {
        // Bounded: a message the hub dropped from our queue never comes to be removed.
        if (m_ownMessages.size() >= 1024)
            m_ownMessages.clear();
        m_ownMessages.insert(reply.published->sid);
    }
    replyHttp(frame.id(), reply);
}

CdsRouter::Reply TwilsockConnection::handleSubscriptions(
    QByteArrayView body, QList<QByteArray> &notifications)
{
    const QJsonObject object = QJsonDocument::fromJson(body.toByteArray()).object();
    const QString action = object.value(key("action")).toString();
    const QJsonValue requests = object.value(key("requests"));
    if (action != u"establish" && action != u"cancel")
        return CdsRouter::errorReply(
            ApiError::badRequest(QStringLiteral("action must be establish or cancel")));
    if (!requests.isArray() || requests.toArray().size() > kMaxSubscriptionBatch)
        return CdsRouter::errorReply(ApiError::badRequest(
            QStringLiteral("requests must be an array of at most %1").arg(kMaxSubscriptionBatch)));
    const bool establish = action == u"establish";

    QJsonArray done;
    QJsonArray failed;
    for (const QJsonValue &value : requests.toArray()) {
        const QJsonObject request = value.toObject();
        const QString objectSid = request.value(key("object_sid")).toString();
        const QString objectType = request.value(key("object_type")).toString();
        QJsonObject event{{key("object_sid"), objectSid}, {key("object_type"), objectType}};
        if (!establish) {
            if (const auto subscription = m_subscriptions.take(objectSid)) {
                m_engine.hub().unsubscribe(subscription);
                m_outboxes.remove(objectSid);
            }
            done.append(event);
            continue;
        }
        if (objectType != u"stream") {
            // Documents, lists and maps are not part of this engine.
            event.insert(key("error"),
                errorJson(ApiError::notFound(
                    QStringLiteral("/v3/%1/%2").arg(objectType.left(32), objectSid.left(64)))));
            failed.append(event);
            continue;
        }
        // On the engine's thread: the stream, and a new subscription unless one exists (the
        // set of SIDs already subscribed is copied in; nothing of this connection is touched).
        const QList<QString> subscribed = m_subscriptions.keys();
        auto [stream, added] = m_server.onEngine([&] {
            auto found = m_engine.fetchStream(m_grant.serviceSid, objectSid);
            std::shared_ptr<Subscription> subscription;
            if (found && !subscribed.contains(found->sid)) {
                auto made = m_engine.subscribe(
                    m_grant.serviceSid, found->sid, m_shard.wakeFor(m_id, found->sid));
                if (made)
                    subscription = *made;
                else
                    found = std::unexpected(made.error());
            }
            return std::pair{found, subscription};
        });
        if (added)
            m_subscriptions.insert(stream->sid, added);
        if (!stream) {
            const ApiError error = stream.error().code() == ApiError::NotFound
                ? ApiError::notFound(QStringLiteral("/v3/Streams/%1").arg(objectSid.left(64)))
                : stream.error();
            event.insert(key("error"), errorJson(error));
            failed.append(event);
            continue;
        }
        // Streams have no history to replay: the subscription is live at once.
        event.insert(key("replay_status"), key("completed"));
        event.insert(key("last_event_id"), -1);
        done.append(event);
    }

    noteSubscriptions();

    const QJsonValue correlationId = object.value(key("correlation_id"));
    const auto notify = [&](QLatin1StringView eventType, const QJsonArray &events) {
        if (events.isEmpty())
            return;
        QJsonObject payload{{key("event_type"), QString(eventType)},
            {key("event_protocol_version"), 4}, {key("events"), events}};
        if (!correlationId.isUndefined())
            payload.insert(key("correlation_id"), correlationId);
        notifications.append(TwilsockServer::notificationFrame(
            TwilsockServer::newFrameId(), QJsonDocument(payload).toJson(QJsonDocument::Compact)));
    };
    notify(establish ? QLatin1StringView("subscription_established")
                     : QLatin1StringView("subscription_canceled"),
        done);
    notify(QLatin1StringView("subscription_failed"), failed);

    CdsRouter::Reply reply{200, {}, {}};
    reply.body = QJsonDocument(QJsonObject{{key("estimated_delivery_in_ms"), kEstimatedDeliveryMs},
                                   {key("max_batch_size"), kMaxSubscriptionBatch},
                                   {key("ttl_in_s"), kSubscriptionTtlSeconds}})
                     .toJson(QJsonDocument::Compact);
    return reply;
}

void TwilsockConnection::replyStatus(const QString &id, int code, QLatin1StringView status,
    const QString &description, int errorCode)
{
    const QByteArray frame = FrameCodec::encode(QJsonObject{{key("method"), key("reply")},
        {key("id"), id}, {key("status"), statusObject(code, status, description, errorCode)}});
    logAnswer(id, code, errorCode, frame.size());
    send(frame);
}

void TwilsockConnection::noteRequest(const Frame &frame, qint64 bytes)
{
    // Bounded: a client that never waits for answers does not grow this.
    if (m_noted.size() >= 256)
        m_noted.clear();
    Noted noted;
    noted.startedNs = TrafficEntry::monotonicNs();
    TrafficEntry &entry = noted.entry;
    entry.timeMs = m_engine.clock().nowMs();
    entry.kind = TrafficEntry::Kind::Live;
    entry.who = m_grant.claims.identity;
    entry.bytesIn = bytes;
    const QString method = frame.method();
    if (method == u"message") {
        const QJsonObject request = frame.header.value(key("http_request")).toObject();
        entry.method = request.value(key("method")).toString().toUpper().left(16).toLatin1();
        entry.path = request.value(key("path")).toString().left(1024).toUtf8();
        if (m_engine.traffic().keepsBodies())
            entry.body = frame.payload.isNull() ? QByteArray("") : QByteArray(frame.payload);
    } else {
        entry.method = method.left(32).toLatin1();
        entry.path = QByteArrayLiteral("/v3/wsconnect");
    }
    m_noted.insert(frame.id(), noted);
}

void TwilsockConnection::logAnswer(const QString &id, int status, int errorCode, qint64 bytesOut)
{
    auto it = m_noted.find(id);
    if (it == m_noted.end())
        return;
    Noted noted = std::move(*it);
    m_noted.erase(it);
    TrafficEntry &entry = noted.entry;
    if (entry.who.isEmpty())
        entry.who = m_grant.claims.identity; // known once init succeeded
    entry.status = status;
    entry.code = errorCode;
    entry.bytesOut = bytesOut;
    entry.durationMs = double(TrafficEntry::monotonicNs() - noted.startedNs) / 1e6;
    m_engine.traffic().append(std::move(entry));
}

bool TwilsockConnection::dropForFault()
{
    if (m_state == State::Closing)
        return false;
    m_state = State::Closing;
    for (QTimer *timer : {&m_initTimer, &m_warningTimer, &m_expiryTimer, &m_stallTimer})
        timer->stop();
    closeSocket(QWebSocketProtocol::CloseCodeGoingAway,
        QStringLiteral("closed by an engine fault rule (disconnect)"));
    return true;
}

void TwilsockConnection::replyHttp(const QString &id, const CdsRouter::Reply &reply)
{
    // The twilsock exchange succeeded (status 200); the Sync answer is http_status + payload.
    int errorCode = 0;
    if (reply.status >= 400)
        errorCode = QJsonDocument::fromJson(reply.body).object().value(key("code")).toInt();
    const QJsonObject header{{key("method"), key("reply")}, {key("id"), id},
        {key("payload_type"), key("application/json")},
        {key("status"), statusObject(200, QLatin1StringView("OK"), {}, 0)},
        {key("http_status"),
            QJsonObject{{key("code"), reply.status},
                {key("status"), QString(CdsRouter::statusName(reply.status))}}},
        {key("http_headers"), QJsonObject{{key("Content-Type"), key("application/json")}}}};
    const QByteArray frame = FrameCodec::encode(header, reply.body);
    logAnswer(id, reply.status, errorCode, frame.size());
    send(frame);
}

void TwilsockConnection::closeWith(int code, QLatin1StringView status, const QString &description,
    int errorCode, int socketCode, const QString &socketReason)
{
    if (m_state == State::Closing)
        return;
    // Closing first, so this last frame does not trip the unsent-data watch.
    m_state = State::Closing;
    send(FrameCodec::encode(
        QJsonObject{{key("method"), key("close")}, {key("id"), TwilsockServer::newFrameId()},
            {key("status"), statusObject(code, status, description, errorCode)}}));
    for (QTimer *timer : {&m_initTimer, &m_warningTimer, &m_expiryTimer, &m_stallTimer})
        timer->stop();
    if (socketCode == 0)
        socketCode = code == 406 ? QWebSocketProtocol::CloseCodeProtocolError
                                 : QWebSocketProtocol::CloseCodeNormal;
    // RFC 6455 caps a close reason at 123 bytes.
    m_socketClose = std::pair{socketCode, socketReason.left(100)};
    // Qt 6.4's QWebSocket::close() throws away whatever is still unsent (the frame above
    // included) and drops the connection at once, so it waits until the socket has drained. A
    // peer that does not read that far within the grace period is dropped without either close.
    if (m_socket)
        m_socket->flush();
    if (unsentBytes() == 0) {
        closeSocketNow();
        return;
    }
    const auto grace = m_server.options().closeGrace;
    m_closeGraceTimer.start(grace.count() > 0 ? grace : std::chrono::milliseconds(1));
}

void TwilsockConnection::closeSocketNow()
{
    const auto [code, reason] = m_socketClose.value_or(std::pair{1000, QString()});
    m_socketClose.reset();
    m_closeGraceTimer.stop();
    closeSocket(code, reason);
}

void TwilsockConnection::rejectInput(const QString &why)
{
    m_server.countRejectedInput();
    if (std::exchange(m_loggedBadInput, true))
        return;
    qCWarning(lcTwilsock).noquote()
        << QStringLiteral("twilsock connection %1 from %2: %3 (further bad input on this "
                          "connection is not logged)")
               .arg(m_id)
               .arg(m_peer.toString(), why);
}

void TwilsockConnection::armTokenTimers()
{
    const qint64 untilExpiry = m_grant.claims.expiresAt * 1000 - m_engine.tokenClock().nowMs();
    const qint64 untilWarning = untilExpiry - m_server.options().tokenWarningLead.count();
    m_expiryTimer.start(int(std::clamp<qint64>(untilExpiry, 0, kMaxTimerMs)));
    m_warningTimer.start(int(std::clamp<qint64>(untilWarning, 0, kMaxTimerMs)));
}

void TwilsockConnection::onTokenWarning()
{
    if (m_state != State::Ready)
        return;
    // Timers may fire a little early, and long waits are capped: re-arm until it is time.
    const qint64 untilWarning = m_grant.claims.expiresAt * 1000 - m_engine.tokenClock().nowMs()
        - m_server.options().tokenWarningLead.count();
    if (untilWarning > 0) {
        m_warningTimer.start(int(std::min(untilWarning, kMaxTimerMs)));
        return;
    }
    send(FrameCodec::encode(QJsonObject{{key("method"), key("client_update")},
        {key("id"), TwilsockServer::newFrameId()},
        {key("client_update_type"), key("token_about_to_expire")}}));
}

void TwilsockConnection::onTokenExpiry()
{
    if (m_state != State::Ready)
        return;
    const qint64 untilExpiry = m_grant.claims.expiresAt * 1000 - m_engine.tokenClock().nowMs();
    if (untilExpiry > 0) {
        m_expiryTimer.start(int(std::min(untilExpiry, kMaxTimerMs)));
        return;
    }
    closeWith(410, QLatin1StringView("TOKEN_EXPIRED"), QStringLiteral("Access Token expired"),
        kTokenExpiredCloseErrorCode);
}

void TwilsockConnection::cancelAll()
{
    const auto subscriptions = std::exchange(m_subscriptions, {});
    for (const auto &subscription : subscriptions)
        m_engine.hub().unsubscribe(subscription);
    m_outboxes.clear();
}

void TwilsockConnection::noteSubscriptions()
{
    QList<std::pair<QString, QString>> subscribed;
    subscribed.reserve(m_subscriptions.size());
    for (const auto &subscription : std::as_const(m_subscriptions))
        subscribed.append({subscription->serviceSid(), subscription->streamSid()});
    m_server.noteSubscriptions(m_id, std::move(subscribed));
}

QString TwilsockConnection::baseUrl(const QString &host) const
{
    if (isPlausibleHost(host)) {
        // A Twilio host is reached only through zero-change mode's TLS tunnel (SyncHostsProxy).
        const bool twilio = host.endsWith(QLatin1StringView(".twilio.com"), Qt::CaseInsensitive);
        return (twilio ? QLatin1StringView("https://") : QLatin1StringView("http://")) + host;
    }
    const QHostAddress local = m_local;
    const QString address = local.protocol() == QAbstractSocket::IPv6Protocol
        ? QLatin1StringView("[") + local.toString() + u']'
        : local.toString();
    return QStringLiteral("http://%1:%2").arg(address).arg(m_localPort);
}

} // namespace streams
