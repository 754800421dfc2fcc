#include "remote/twilsockclient.h"

#include "api/sid.h"
#include "twilsock/framecodec.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QPromise>
#include <QRandomGenerator>
#include <QSysInfo>
#include <QTimer>
#include <QUrlQuery>
#include <QUuid>
#include <QWebSocket>
#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcTwilsockClient, "streams.remote.twilsock", QtWarningMsg)

namespace streams {

namespace {

using twilsock::FrameCodec;

// QWebSocket refuses larger messages itself; a little slack lets the codec name the problem.
constexpr qsizetype kMaxIncomingBytes = FrameCodec::kMaxFrameBytes + 16 * 1024;
// QTimer takes an int; longer waits are re-armed when they fire.
constexpr qint64 kMaxTimerMs = 24LL * 3600 * 1000;
// How long a socket closed by us may take for the websocket closing handshake.
constexpr int kCloseGraceMs = 5000;
// Twilio's "Invalid Access Token" and "Access Token expired" (docs/architecture.md#twilio-errors).
constexpr int kInvalidTokenCode = 20101;
constexpr int kExpiredTokenCode = 20104;

QString key(const char *name)
{
    return QString::fromLatin1(name);
}

QString newFrameId()
{
    return QLatin1StringView("TM") + QUuid::createUuid().toString(QUuid::WithoutBraces);
}

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

const QString &productName()
{
    static const QString name = QStringLiteral("SyncStreamsConsole");
    return name;
}

/// The `metadata` of `init`, shaped like the JS SDK's (ver/env/os/…/sdk) but naming this
/// product, so the service can tell who is connecting.
QJsonObject initMetadata()
{
    return QJsonObject{{key("ver"), QStringLiteral(STREAMS_VERSION)}, {key("env"), key("Qt")},
        {key("envv"), QString::fromLatin1(qVersion())}, {key("os"), QSysInfo::productType()},
        {key("osv"), QSysInfo::productVersion()}, {key("osa"), QSysInfo::WordSize},
        {key("type"), key("sync")}, {key("sdk"), productName()},
        {key("sdkv"), QStringLiteral(STREAMS_VERSION)}};
}

QJsonArray initRegistrations()
{
    return QJsonArray{QJsonObject{{key("product"), key("data_sync")}, {key("type"), key("ers")},
        {key("notification_protocol_version"), 0},
        {key("message_types"),
            QJsonArray{key("twilio.sync.event"), key("com.twilio.rtd.cds.document"),
                key("com.twilio.rtd.cds.list"), key("com.twilio.rtd.cds.map")}}}};
}

/// The Twilio-Sync-Client-Info header of upstream requests (a JSON string, as the SDK sends).
QString clientInfo()
{
    static const QString info = QString::fromUtf8(QJsonDocument(
        QJsonObject{{key("sdk"), productName()}, {key("sdkVer"), QStringLiteral(STREAMS_VERSION)},
            {key("os"), QSysInfo::productType()}, {key("osVer"), QSysInfo::productVersion()},
            {key("pl"), key("Qt")},
            {key("plVer"),
                QString::fromLatin1(qVersion())}}).toJson(QJsonDocument::Compact));
    return info;
}

QJsonObject statusOf(const QJsonObject &header)
{
    return header.value(key("status")).toObject();
}

QString describeStatus(const QJsonObject &status)
{
    const QString description = status.value(key("description")).toString();
    const QString name = status.value(key("status")).toString();
    const int code = status.value(key("code")).toInt();
    if (!description.isEmpty())
        return QStringLiteral("%1 (%2)").arg(description).arg(code);
    return name.isEmpty() ? QString::number(code) : QStringLiteral("%1 %2").arg(code).arg(name);
}

/// A twilsock-level status as an ApiError: Twilio's errorCode when the server sent one.
ApiError statusError(const QJsonObject &status, const QString &prefix)
{
    const int code = status.value(key("code")).toInt();
    int errorCode = status.value(key("errorCode")).toInt();
    if (errorCode == 0)
        errorCode = code == 401 || code == 403 ? kInvalidTokenCode
            : code >= 500                      ? int(ApiError::InternalError)
                                               : int(ApiError::BadRequest);
    return ApiError(errorCode, code, prefix + describeStatus(status));
}

/// backoff_policy.reconnect_min_ms from a close/reply frame's header or JSON payload, or -1.
int backoffPolicyMs(const QJsonObject &header, const QByteArray &payload)
{
    QJsonObject policy = header.value(key("backoff_policy")).toObject();
    if (policy.isEmpty())
        policy = QJsonDocument::fromJson(payload).object().value(key("backoff_policy")).toObject();
    const QJsonValue min = policy.value(key("reconnect_min_ms"));
    if (!min.isDouble())
        return -1;
    const double minMs = std::clamp(min.toDouble(), 0.0, double(kMaxTimerMs));
    const double maxMs = policy.value(key("reconnect_max_ms")).toDouble(minMs);
    // Anywhere between the two, so that clients told to go away together do not return together.
    const double spread = std::max(0.0, std::min(maxMs, double(kMaxTimerMs)) - minMs);
    return int(minMs + spread * QRandomGenerator::global()->generateDouble());
}

} // namespace

TwilsockClient::TwilsockClient(QUrl url, TokenSource tokens, QObject *parent)
    : TwilsockClient(std::move(url), std::move(tokens), Options{}, parent)
{ }

TwilsockClient::TwilsockClient(QUrl url, TokenSource tokens, Options options, QObject *parent)
    : QObject(parent),
      m_url(std::move(url)),
      m_tokens(std::move(tokens)),
      m_options(options),
      m_watchdog(new QTimer(this)),
      m_reconnectTimer(new QTimer(this)),
      m_tokenTimer(new QTimer(this))
{
    for (QTimer *timer : {m_watchdog, m_reconnectTimer, m_tokenTimer})
        timer->setSingleShot(true);
    // A coarse timer may fire 5 % early, and a server's backoff_policy minimum is a minimum.
    m_reconnectTimer->setTimerType(Qt::PreciseTimer);
    connect(m_watchdog, &QTimer::timeout, this, [this] {
        endConnection(ApiError::connectionFailed(
                          QStringLiteral("No frame from the twilsock server at %1 for %2 ms")
                              .arg(hostLabel())
                              .arg(m_options.watchdogMs)),
            Next::Reconnect, -1, SocketEnd::Abort);
    });
    connect(m_reconnectTimer, &QTimer::timeout, this, &TwilsockClient::startAttempt);
    connect(m_tokenTimer, &QTimer::timeout, this, &TwilsockClient::refreshToken);
}

TwilsockClient::~TwilsockClient()
{
    dropSocket(SocketEnd::Abort);
    // Nobody may wait forever on a future of a client that is gone.
    failAll(ApiError::connectionFailed(QStringLiteral("The twilsock client was destroyed")));
}

void TwilsockClient::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    qCDebug(lcTwilsockClient) << "twilsock" << hostLabel() << "state" << state;
    Q_EMIT stateChanged(state);
}

void TwilsockClient::open()
{
    if (m_state == State::Connecting || m_state == State::Connected
        || m_state == State::Reconnecting)
        return;
    m_attempt = 0;
    m_retriedExpiredToken = false;
    setState(State::Connecting);
    startAttempt();
}

void TwilsockClient::close()
{
    m_reconnectTimer->stop();
    m_watchdog->stop();
    m_tokenTimer->stop();
    const bool wasOpen = m_socket != nullptr || m_state == State::Connected
        || m_state == State::Connecting || m_state == State::Reconnecting;
    dropSocket(SocketEnd::SayClose);
    const ApiError closed = ApiError::connectionFailed(
        QStringLiteral("The twilsock connection to %1 was closed").arg(hostLabel()));
    if (m_state == State::Denied || m_state == State::Failed) {
        setState(State::Disconnected);
        return;
    }
    setState(State::Disconnected);
    if (wasOpen)
        Q_EMIT disconnected(closed);
    failAll(closed);
}

void TwilsockClient::startAttempt()
{
    m_reconnectTimer->stop();
    dropSocket(SocketEnd::Abort);
    auto *socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    m_socket = socket;
    m_initialised = false;
    socket->setMaxAllowedIncomingMessageSize(quint64(kMaxIncomingBytes));
    socket->setMaxAllowedIncomingFrameSize(quint64(kMaxIncomingBytes));
    connect(socket, &QWebSocket::connected, this, [this, socket] {
        if (socket == m_socket)
            onSocketConnected();
    });
    connect(socket, &QWebSocket::disconnected, this, [this, socket] {
        if (socket == m_socket)
            onSocketDropped();
    });
    // A connection that fails before it opens ends in UnconnectedState too (the error signal
    // is `error` in Qt 6.4 and `errorOccurred` from 6.5; the state says the same in both).
    connect(socket, &QWebSocket::stateChanged, this,
        [this, socket](QAbstractSocket::SocketState state) {
            if (socket == m_socket && state == QAbstractSocket::UnconnectedState)
                onSocketDropped();
        });
    connect(
        socket, &QWebSocket::binaryMessageReceived, this, [this, socket](const QByteArray &bytes) {
            if (socket == m_socket)
                onBinaryMessage(bytes);
        });
    connect(socket, &QWebSocket::textMessageReceived, this, [this, socket] {
        // The SDKs drop text frames too ("unsupported protocol"); silence still counts as
        // silence, so the watchdog is not fed.
        if (socket == m_socket)
            qCWarning(lcTwilsockClient).noquote()
                << QStringLiteral("twilsock %1 sent a text frame; twilsock frames are binary")
                       .arg(hostLabel());
    });
    // Covers the TCP/TLS/upgrade phase too: a host that swallows SYNs never errors by itself.
    armWatchdog();
    qCDebug(lcTwilsockClient) << "twilsock connecting to" << hostLabel();
    socket->open(m_url);
}

void TwilsockClient::onSocketConnected()
{
    armWatchdog();
    if (!takeToken())
        return;
    QJsonObject header{{key("method"), key("init")},
        {key("token"), QString::fromLatin1(m_token.jwt)},
        {key("continuation_token"), m_continuationToken}, {key("metadata"), initMetadata()},
        {key("registrations"), initRegistrations()}, {key("tweaks"), QJsonValue()},
        {key("capabilities"), QJsonArray{key("client_update")}}};
    QWebSocket *socket = m_socket;
    request(std::move(header), {}, false,
        [this, socket](std::expected<QJsonObject, ApiError> reply, const QByteArray &payload) {
            // A reply or failure for a socket that has already been replaced means nothing.
            if (socket == m_socket && m_socket)
                onInitReply(std::move(reply), payload);
        });
}

void TwilsockClient::onSocketDropped()
{
    QString why = m_socket->errorString();
    if (m_socket->error() == QAbstractSocket::UnknownSocketError || why.isEmpty())
        why = m_socket->closeReason().isEmpty()
            ? QStringLiteral("the connection closed (websocket close code %1)")
                  .arg(int(m_socket->closeCode()))
            : m_socket->closeReason();
    const QString message = m_initialised
        ? QStringLiteral("Lost the twilsock connection to %1: %2")
        : QStringLiteral("Could not connect to the twilsock server at %1: %2");
    endConnection(ApiError::connectionFailed(message.arg(hostLabel(), why)), Next::Reconnect, -1,
        SocketEnd::Abort);
}

void TwilsockClient::onBinaryMessage(const QByteArray &bytes)
{
    armWatchdog();
    auto frame = FrameCodec::decode(bytes);
    if (!frame) {
        // Without a header there is nothing to acknowledge; the SDKs drop such frames too.
        qCWarning(lcTwilsockClient).noquote()
            << QStringLiteral("twilsock %1 sent a frame that cannot be decoded: %2")
                   .arg(hostLabel(), FrameCodec::describe(frame.error()));
        return;
    }
    const QString method = frame->method();
    const QString id = frame->id();
    if (method == u"reply") {
        finishPending(id, frame->header, frame->payload);
        return;
    }
    // Every other frame is acknowledged, as the JS client's confirmReceiving does.
    if (!id.isEmpty())
        acknowledge(id);
    if (method == u"notification") {
        Q_EMIT notificationReceived(
            frame->header.value(key("message_type")).toString(), frame->payload);
    } else if (method == u"client_update") {
        onClientUpdate(frame->header);
    } else if (method == u"close") {
        onServerClose(frame->header, frame->payload);
    } else if (method != u"ping") {
        qCDebug(lcTwilsockClient) << "twilsock" << hostLabel() << "ignored a" << method << "frame";
    }
}

void TwilsockClient::onInitReply(
    std::expected<QJsonObject, ApiError> header, const QByteArray &payload)
{
    if (!header) {
        endConnection(header.error(), Next::Reconnect, -1, SocketEnd::SayClose);
        return;
    }
    const QJsonObject status = statusOf(*header);
    const int code = status.value(key("code")).toInt();
    if (code == 200) {
        m_initialised = true;
        m_attempt = 0;
        m_retriedExpiredToken = false;
        const QJsonValue continuation = header->value(key("continuation_token"));
        if (continuation.isString())
            m_continuationToken = continuation;
        setState(State::Connected);
        scheduleTokenRefresh();
        flushQueued();
        Q_EMIT connected();
        return;
    }
    if (code == 401 || code == 403) {
        const ApiError error =
            statusError(status, QStringLiteral("The twilsock server refused the access token: "));
        // An expired token is worth one fresh try: the clock or the token source may lag.
        if (error.code() == kExpiredTokenCode && !std::exchange(m_retriedExpiredToken, true)) {
            endConnection(error, Next::ReconnectNow, 0, SocketEnd::SayClose);
            return;
        }
        endConnection(error, Next::Denied, -1, SocketEnd::SayClose);
        return;
    }
    const ApiError error =
        statusError(status, QStringLiteral("The twilsock server refused the connection: "));
    endConnection(error, Next::Reconnect, code == 429 ? backoffPolicyMs(*header, payload) : -1,
        SocketEnd::SayClose);
}

void TwilsockClient::onServerClose(const QJsonObject &header, const QByteArray &payload)
{
    const QJsonObject status = statusOf(header);
    const int code = status.value(key("code")).toInt();
    const ApiError reason =
        statusError(status, QStringLiteral("The twilsock server closed the connection: "));
    qCDebug(lcTwilsockClient).noquote() << reason.message();
    switch (code) {
    case 308: // offload to another server: come back (after the policy's wait, if any)
        endConnection(
            reason, Next::ReconnectNow, backoffPolicyMs(header, payload), SocketEnd::CloseOnly);
        return;
    case 410: // the token expired: the next init mints a new one
        endConnection(reason, Next::ReconnectNow, 0, SocketEnd::CloseOnly);
        return;
    case 401:
    case 403: endConnection(reason, Next::Denied, -1, SocketEnd::CloseOnly); return;
    case 406:
    case 417: endConnection(reason, Next::Failed, -1, SocketEnd::CloseOnly); return;
    default: endConnection(reason, Next::Reconnect, -1, SocketEnd::CloseOnly); return;
    }
}

void TwilsockClient::onClientUpdate(const QJsonObject &header)
{
    const QString type = header.value(key("client_update_type")).toString();
    if (type != u"token_about_to_expire") {
        qCDebug(lcTwilsockClient) << "twilsock" << hostLabel() << "client_update" << type;
        return;
    }
    m_tokenWarned = true;
    scheduleTokenRefresh();
}

void TwilsockClient::endConnection(const ApiError &reason, Next next, int delayMs, SocketEnd end)
{
    m_watchdog->stop();
    m_tokenTimer->stop();
    m_reconnectTimer->stop();
    dropSocket(end);
    m_updating = false;
    m_lastError = reason;
    qCDebug(lcTwilsockClient).noquote() << reason.message();

    switch (next) {
    case Next::Denied:
    case Next::Failed:
        setState(next == Next::Denied ? State::Denied : State::Failed);
        failAll(reason);
        break;
    case Next::Reconnect:
        setState(State::Reconnecting);
        failSent(reason);
        m_reconnectTimer->start(delayMs >= 0 ? delayMs : nextBackoffMs());
        break;
    case Next::ReconnectNow:
        setState(State::Reconnecting);
        failSent(reason);
        m_reconnectTimer->start(std::max(0, delayMs));
        break;
    }
    // Callbacks above may have closed or reopened the client; the report is still true.
    Q_EMIT disconnected(reason);
}

void TwilsockClient::dropSocket(SocketEnd end)
{
    QWebSocket *socket = std::exchange(m_socket, nullptr);
    m_initialised = false;
    if (!socket)
        return;
    socket->disconnect(this);
    if (end == SocketEnd::Abort || socket->state() != QAbstractSocket::ConnectedState) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    if (end == SocketEnd::SayClose)
        socket->sendBinaryMessage(FrameCodec::encode(
            QJsonObject{{key("id"), newFrameId()}, {key("method"), key("close")}}));
    // Let the closing handshake (and what was written before it) go out, but not forever.
    connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
    QTimer::singleShot(kCloseGraceMs, socket, &QObject::deleteLater);
    socket->close();
}

int TwilsockClient::nextBackoffMs()
{
    const int exponent = std::min(m_attempt, 30);
    ++m_attempt;
    const double base = std::min(double(m_options.backoffMaxMs),
        double(std::max(1, m_options.backoffInitialMs)) * std::pow(2.0, exponent));
    const double jitter = std::clamp(m_options.jitter, 0.0, 1.0);
    const double factor = 1.0 + jitter * (2.0 * QRandomGenerator::global()->generateDouble() - 1.0);
    return int(std::clamp(base * factor, 0.0, double(kMaxTimerMs)));
}

void TwilsockClient::armWatchdog()
{
    if (m_options.watchdogMs > 0)
        m_watchdog->start(m_options.watchdogMs);
}

void TwilsockClient::acknowledge(const QString &id)
{
    sendFrame(FrameCodec::encode(QJsonObject{{key("id"), id}, {key("method"), key("reply")},
        {key("payload_type"), key("application/json")},
        {key("status"), QJsonObject{{key("code"), 200}, {key("status"), key("OK")}}}}));
}

QString TwilsockClient::request(QJsonObject header, const QByteArray &payload, bool needsConnection,
    std::function<void(std::expected<QJsonObject, ApiError>, QByteArray)> done)
{
    const QString id = newFrameId();
    header.insert(key("id"), id);
    Pending pending;
    pending.frame = FrameCodec::encode(std::move(header), payload);
    if (pending.frame.size() > FrameCodec::kMaxFrameBytes) {
        done(std::unexpected(ApiError::payloadTooLarge(payload.size())), {});
        return {};
    }
    if (m_state == State::Denied || m_state == State::Failed) {
        done(std::unexpected(m_lastError), {});
        return {};
    }
    pending.needsConnection = needsConnection;
    pending.done = std::move(done);
    pending.timer = std::make_unique<QTimer>();
    pending.timer->setSingleShot(true);
    connect(pending.timer.get(), &QTimer::timeout, this, [this, id] {
        const auto it = m_pending.find(id);
        if (it == m_pending.end())
            return;
        QString message = it->second.sent
            ? QStringLiteral("No reply from the twilsock server at %1 within %2 ms")
            : QStringLiteral("Not connected to the twilsock server at %1 within %2 ms");
        message = message.arg(hostLabel()).arg(m_options.requestTimeoutMs);
        if (!it->second.sent && !m_lastError.message().isEmpty())
            message += QStringLiteral(" (%1)").arg(m_lastError.message());
        finishPending(id, std::unexpected(ApiError::connectionFailed(message)));
    });
    pending.timer->start(std::max(1, m_options.requestTimeoutMs));

    const bool canSend = m_socket && m_socket->state() == QAbstractSocket::ConnectedState
        && (!needsConnection || (m_initialised && m_state == State::Connected));
    const QByteArray frame = pending.frame;
    pending.sent = canSend;
    m_pending.emplace(id, std::move(pending));
    if (canSend)
        sendFrame(frame);
    else
        m_queue.append(id);
    return id;
}

void TwilsockClient::sendFrame(const QByteArray &frame)
{
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->sendBinaryMessage(frame);
}

void TwilsockClient::flushQueued()
{
    const QList<QString> queue = std::exchange(m_queue, {});
    for (const QString &id : queue) {
        const auto it = m_pending.find(id);
        if (it == m_pending.end() || it->second.sent)
            continue;
        it->second.sent = true;
        sendFrame(it->second.frame);
    }
}

void TwilsockClient::finishPending(
    const QString &id, std::expected<QJsonObject, ApiError> header, const QByteArray &payload)
{
    const auto it = m_pending.find(id);
    if (it == m_pending.end()) {
        qCDebug(lcTwilsockClient) << "twilsock" << hostLabel() << "reply to an unknown id";
        return;
    }
    Pending pending = std::move(it->second);
    m_pending.erase(it);
    m_queue.removeOne(id);
    // This may run inside the timer's own timeout signal.
    pending.timer->stop();
    pending.timer.release()->deleteLater();
    // Last: the callback may run user code that closes or even destroys this client.
    pending.done(std::move(header), payload);
}

void TwilsockClient::failSent(const ApiError &error)
{
    QList<QString> sent;
    for (const auto &[id, pending] : m_pending) {
        if (pending.sent)
            sent.append(id);
    }
    for (const QString &id : std::as_const(sent))
        finishPending(id, std::unexpected(error));
}

void TwilsockClient::failAll(const ApiError &error)
{
    QList<QString> ids;
    for (const auto &[id, pending] : m_pending)
        ids.append(id);
    m_queue.clear();
    for (const QString &id : std::as_const(ids))
        finishPending(id, std::unexpected(error));
}

bool TwilsockClient::takeToken()
{
    auto token = m_tokens ? m_tokens() : std::unexpected(QStringLiteral("no token source"));
    if (!token || token->jwt.isEmpty()) {
        const QString why =
            token ? QStringLiteral("the token source returned nothing") : token.error();
        endConnection(ApiError(kInvalidTokenCode, 401,
                          QStringLiteral("Cannot make a twilsock access token: %1").arg(why)),
            Next::Failed, -1, SocketEnd::Abort);
        return false;
    }
    m_token = std::move(*token);
    m_tokenObtainedMs = nowMs();
    m_tokenWarned = false;
    return true;
}

void TwilsockClient::scheduleTokenRefresh()
{
    m_tokenTimer->stop();
    if (!m_initialised || m_updating || m_token.expiresAt <= 0)
        return;
    const qint64 expiresMs = m_token.expiresAt * 1000;
    const qint64 lifetime = std::max<qint64>(0, expiresMs - m_tokenObtainedMs);
    // Never before half (warned) or three quarters (unwarned) of a token's life: a server that
    // warns earlier than a short token's whole lifetime would otherwise get an update storm.
    const qint64 at = m_tokenWarned
        ? m_tokenObtainedMs + lifetime / 2
        : expiresMs - std::min<qint64>(std::max(0, m_options.tokenRefreshLeadMs), lifetime / 4);
    m_tokenTimer->start(int(std::clamp<qint64>(at - nowMs(), 0, kMaxTimerMs)));
}

void TwilsockClient::refreshToken()
{
    if (!m_initialised || m_updating || m_state != State::Connected)
        return;
    if (m_token.expiresAt * 1000 - nowMs() > kMaxTimerMs) {
        scheduleTokenRefresh(); // a capped wait ended early
        return;
    }
    auto token = m_tokens ? m_tokens() : std::unexpected(QStringLiteral("no token source"));
    if (!token || token->jwt.isEmpty()) {
        // The session runs on until the server closes it (410); the reconnect mints again.
        qCWarning(lcTwilsockClient).noquote()
            << QStringLiteral("twilsock %1: cannot refresh the access token: %2")
                   .arg(hostLabel(), token ? QStringLiteral("no token") : token.error());
        return;
    }
    if (token->jwt == m_token.jwt) {
        // Nothing new to send; the server's 410 at expiry makes the reconnect ask again.
        qCDebug(lcTwilsockClient) << "twilsock" << hostLabel()
                                  << "token source returned the current token; not updating";
        return;
    }
    m_updating = true;
    const qint64 obtainedMs = nowMs();
    QWebSocket *socket = m_socket;
    QJsonObject header{
        {key("method"), key("update")}, {key("token"), QString::fromLatin1(token->jwt)}};
    request(std::move(header), {}, true,
        [this, socket, obtainedMs, fresh = std::move(*token)](
            std::expected<QJsonObject, ApiError> reply, const QByteArray &) {
            if (socket != m_socket || !m_socket)
                return;
            m_updating = false;
            const QJsonObject status = reply ? statusOf(*reply) : QJsonObject();
            if (!reply || status.value(key("code")).toInt() != 200) {
                // The current token stays in force until its exp; the server then closes 410.
                qCWarning(lcTwilsockClient).noquote()
                    << QStringLiteral("twilsock %1: token update failed: %2")
                           .arg(hostLabel(),
                               reply ? describeStatus(status) : reply.error().message());
                return;
            }
            m_token = fresh;
            m_tokenObtainedMs = obtainedMs;
            m_tokenWarned = false;
            scheduleTokenRefresh();
        });
}

QFuture<std::expected<TwilsockClient::UpstreamReply, ApiError>> TwilsockClient::sendUpstream(
    const QByteArray &method, const QUrl &url, const QByteArray &jsonBody)
{
    auto promise = std::make_shared<QPromise<std::expected<UpstreamReply, ApiError>>>();
    promise->start();
    QFuture<std::expected<UpstreamReply, ApiError>> future = promise->future();

    QJsonObject params;
    const QUrlQuery query(url);
    for (const auto &[name, value] : query.queryItems(QUrl::FullyEncoded))
        params.insert(name, value); // still encoded, as the SDK sends them
    QString path = url.path(QUrl::FullyEncoded);
    if (path.isEmpty())
        path = QStringLiteral("/");
    const QJsonObject httpRequest{
        {key("host"), url.adjusted(QUrl::RemoveUserInfo).authority(QUrl::FullyEncoded)},
        {key("path"), path}, {key("method"), QString::fromLatin1(method.toUpper())},
        {key("params"), params},
        {key("headers"),
            QJsonObject{{key("Content-Type"), key("application/json")},
                {key("Twilio-Sync-Client-Info"), clientInfo()},
                {key("Twilio-Request-Id"), sid::generate(SidKind::RequestId)}}}};
    const QJsonObject header{{key("method"), key("message")},
        {key("active_grant"), key("data_sync")}, {key("payload_type"), key("application/json")},
        {key("http_request"), httpRequest}};

    request(header, jsonBody, true,
        [promise, host = hostLabel()](
            std::expected<QJsonObject, ApiError> reply, const QByteArray &payload) {
            const auto settle = [&](std::expected<UpstreamReply, ApiError> result) {
                promise->addResult(std::move(result));
                promise->finish();
            };
            if (!reply) {
                settle(std::unexpected(reply.error()));
                return;
            }
            const QJsonObject status = statusOf(*reply);
            if (status.value(key("code")).toInt() != 200) {
                settle(std::unexpected(statusError(
                    status, QStringLiteral("The twilsock server refused the request: "))));
                return;
            }
            const QJsonValue httpStatus =
                reply->value(key("http_status")).toObject().value(key("code"));
            if (!httpStatus.isDouble()) {
                settle(std::unexpected(ApiError::connectionFailed(
                    QStringLiteral("The twilsock server at %1 replied without an HTTP status")
                        .arg(host))));
                return;
            }
            settle(UpstreamReply{httpStatus.toInt(), payload});
        });
    return future;
}

QString TwilsockClient::hostLabel() const
{
    const int defaultPort = m_url.scheme() == u"wss" || m_url.scheme() == u"https" ? 443 : 80;
    return QStringLiteral("%1:%2").arg(m_url.host()).arg(m_url.port(defaultPort));
}

} // namespace streams
