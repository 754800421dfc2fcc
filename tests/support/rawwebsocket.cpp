#include "rawwebsocket.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <QTimer>
#include <QUuid>

namespace streams::testing {

namespace {
using twilsock::Frame;
using twilsock::FrameCodec;

QString key(const char *name)
{
    return QString::fromLatin1(name);
}

} // namespace

bool waitUntil(const std::function<bool()> &done, int timeoutMs)
{
    if (done())
        return true;
    QEventLoop loop;
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (done())
            loop.quit();
    });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    poll.start(10);
    loop.exec();
    return done();
}

RawWebSocket::RawWebSocket(const QHostAddress &source, int receiveBuffer)
{
    m_socket.bind(source);
    if (receiveBuffer > 0)
        m_socket.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, receiveBuffer);
    QObject::connect(&m_socket, &QTcpSocket::readyRead, &m_socket, [this] { onReadyRead(); });
    QObject::connect(&m_socket, &QTcpSocket::disconnected, &m_socket, [this] {
        if (!m_paused && m_socket.isOpen())
            onReadyRead();
        m_closedByServer = true;
    });
}

bool RawWebSocket::connectTo(quint16 port, int timeoutMs)
{
    m_port = port;
    m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    return waitUntil(
        [this] { return m_socket.state() == QAbstractSocket::ConnectedState; }, timeoutMs);
}

bool RawWebSocket::open(quint16 port, const QByteArray &path, int timeoutMs)
{
    return connectTo(port, timeoutMs) && upgrade(path, timeoutMs);
}

QByteArray upgradeRequest(const QByteArray &path, quint16 port)
{
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port)
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

bool RawWebSocket::upgrade(const QByteArray &path, int timeoutMs)
{
    m_socket.write(upgradeRequest(path, m_port));
    const bool answered =
        waitUntil([this] { return m_buffer.contains("\r\n\r\n") || m_closedByServer; }, timeoutMs);
    if (!answered || !m_buffer.startsWith("HTTP/1.1 101"))
        return false;
    m_buffer.remove(0, m_buffer.indexOf("\r\n\r\n") + 4);
    m_upgraded = true;
    parse();
    return true;
}

void RawWebSocket::sendPartialUpgrade(qsizetype bytes)
{
    m_socket.write(upgradeRequest("/v3/wsconnect", m_port).left(bytes));
}

QString RawWebSocket::send(QJsonObject header, const QByteArray &payload)
{
    if (!header.contains(key("id")))
        header.insert(key("id"), QStringLiteral("TM") + QUuid::createUuid().toString(QUuid::Id128));
    const QString id = header.value(key("id")).toString();
    sendBinary(FrameCodec::encode(header, payload));
    return id;
}

void RawWebSocket::sendBinary(const QByteArray &bytes)
{
    sendMessage(0x2, bytes);
}

void RawWebSocket::sendText(const QByteArray &bytes)
{
    sendMessage(0x1, bytes);
}

void RawWebSocket::sendMessage(quint8 opcode, const QByteArray &message)
{
    // Client frames must be masked; a zero mask leaves the bytes as they are.
    QByteArray frame;
    frame.append(char(0x80 | opcode));
    if (message.size() < 126) {
        frame.append(char(0x80 | message.size()));
    } else if (message.size() < 65536) {
        frame.append(char(0x80 | 126));
        frame.append(char(message.size() >> 8));
        frame.append(char(message.size() & 0xff));
    } else {
        frame.append(char(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            frame.append(char((quint64(message.size()) >> shift) & 0xff));
    }
    frame.append(4, '\0');
    m_socket.write(frame + message);
}

void RawWebSocket::sendClose(quint16 code)
{
    const char frame[] = {char(0x88), char(0x82), 0, 0, 0, 0, char(code >> 8), char(code & 0xff)};
    m_socket.write(frame, sizeof frame);
}

void RawWebSocket::onReadyRead()
{
    if (m_paused)
        return;
    const QByteArray data = m_socket.readAll();
    m_bytesReceived += data.size();
    m_buffer += data;
    if (m_upgraded)
        parse();
}

void RawWebSocket::parse()
{
    while (true) {
        if (m_buffer.size() < 2)
            return;
        const auto byte = [this](qsizetype i) { return quint8(m_buffer.at(i)); };
        const bool fin = byte(0) & 0x80;
        const int opcode = byte(0) & 0x0f;
        quint64 length = byte(1) & 0x7f;
        qsizetype offset = 2;
        if (length == 126) {
            if (m_buffer.size() < 4)
                return;
            length = (quint64(byte(2)) << 8) | byte(3);
            offset = 4;
        } else if (length == 127) {
            if (m_buffer.size() < 10)
                return;
            length = 0;
            for (int i = 0; i < 8; ++i)
                length = (length << 8) | byte(2 + i);
            offset = 10;
        }
        if (quint64(m_buffer.size() - offset) < length)
            return;
        const QByteArray payload = m_buffer.mid(offset, qsizetype(length));
        m_buffer.remove(0, offset + qsizetype(length));
        if (opcode == 0x8) {
            if (payload.size() >= 2)
                m_closeCode = quint16((quint8(payload[0]) << 8) | quint8(payload[1]));
            m_closeReason = payload.mid(2);
            continue;
        }
        if (opcode != 0x0 && opcode != 0x2)
            continue; // pings, pongs, text
        m_message += payload;
        if (!fin)
            continue;
        const QByteArray message = std::exchange(m_message, {});
        auto frame = FrameCodec::decode(message);
        if (!frame) {
            ++m_undecodable;
            continue;
        }
        if (frame->method() == u"notification") {
            const QJsonObject event = QJsonDocument::fromJson(frame->payload).object();
            if (event.value(key("event_type")).toString() == u"stream_message_published") {
                m_messageSids.append(
                    event.value(key("event")).toObject().value(key("message_sid")).toString());
                if (!m_keepMessageFrames)
                    continue;
            }
        }
        m_frames.append(*frame);
    }
}

std::optional<Frame> RawWebSocket::waitFor(
    const std::function<bool(const Frame &)> &match, int timeoutMs)
{
    std::optional<Frame> found;
    (void)waitUntil(
        [&] {
            for (const Frame &frame : std::as_const(m_frames)) {
                if (match(frame)) {
                    found = frame;
                    return true;
                }
            }
            return false;
        },
        timeoutMs);
    return found;
}

std::optional<Frame> RawWebSocket::reply(const QString &id, int timeoutMs)
{
    return waitFor(
        [&](const Frame &f) { return f.method() == u"reply" && f.id() == id; }, timeoutMs);
}

std::optional<Frame> RawWebSocket::init(const QByteArray &token, int timeoutMs)
{
    return reply(
        send(QJsonObject{{key("method"), key("init")}, {key("token"), QString::fromLatin1(token)},
            {key("continuation_token"), QJsonValue()},
            {key("capabilities"),
                QJsonArray{key("client_update"), key("offline_storage"), key("telemetry.v1")}}}),
        timeoutMs);
}

std::optional<Frame> RawWebSocket::call(
    const QString &method, const QString &path, const QByteArray &body, int timeoutMs)
{
    const QJsonObject request{{key("host"), QStringLiteral("127.0.0.1:%1").arg(m_port)},
        {key("path"), path}, {key("method"), method}, {key("params"), QJsonObject()},
        {key("headers"), QJsonObject{{key("Content-Type"), key("application/json")}}}};
    return reply(
        send(QJsonObject{{key("method"), key("message")}, {key("active_grant"), key("data_sync")},
                 {key("payload_type"), key("application/json")}, {key("http_request"), request}},
            body),
        timeoutMs);
}

std::optional<Frame> RawWebSocket::subscriptions(
    const QString &action, const QStringList &sids, qint64 correlationId, int timeoutMs)
{
    QJsonArray requests;
    for (const QString &sid : sids)
        requests.append(QJsonObject{{key("object_sid"), sid}, {key("object_type"), key("stream")},
            {key("last_event_id"), QJsonValue()}});
    const QJsonObject body{{key("event_protocol_version"), 4}, {key("action"), action},
        {key("correlation_id"), correlationId}, {key("retried_requests"), 0}, {key("ttl_in_s"), -1},
        {key("requests"), requests}};
    return call(key("POST"), key("/v4/Subscriptions"),
        QJsonDocument(body).toJson(QJsonDocument::Compact), timeoutMs);
}

bool RawWebSocket::subscribe(const QString &streamSid, int timeoutMs)
{
    if (!subscriptions(key("establish"), {streamSid}, 1, timeoutMs))
        return false;
    return notification(
        key("subscription_established"),
        [&](const QJsonObject &payload) {
            return payload.value(key("events")).toArray().at(0).toObject().value(key("object_sid"))
                == streamSid;
        },
        timeoutMs)
        .has_value();
}

std::optional<QJsonObject> RawWebSocket::notification(
    const QString &eventType, const std::function<bool(const QJsonObject &)> &match, int timeoutMs)
{
    std::optional<QJsonObject> found;
    (void)waitFor(
        [&](const Frame &f) {
            if (f.method() != u"notification")
                return false;
            const QJsonObject payload = QJsonDocument::fromJson(f.payload).object();
            if (payload.value(key("event_type")).toString() != eventType
                || (match && !match(payload)))
                return false;
            found = payload;
            return true;
        },
        timeoutMs);
    return found;
}

qsizetype RawWebSocket::count(const QString &method) const
{
    return std::count_if(
        m_frames.cbegin(), m_frames.cend(), [&](const Frame &f) { return f.method() == method; });
}

void RawWebSocket::acknowledgeNotifications()
{
    for (; m_acknowledged < m_frames.size(); ++m_acknowledged) {
        const Frame &frame = m_frames.at(m_acknowledged);
        if (frame.method() != u"notification")
            continue;
        send(QJsonObject{{key("id"), frame.id()}, {key("method"), key("reply")},
            {key("payload_type"), key("application/json")},
            {key("status"), QJsonObject{{key("code"), 200}, {key("status"), key("OK")}}}});
    }
}

bool RawWebSocket::waitClosedByServer(int timeoutMs)
{
    return waitUntil([this] { return m_closedByServer; }, timeoutMs);
}

void RawWebSocket::pauseReading()
{
    m_paused = true;
    // Qt then stops taking data from the kernel once this much is buffered.
    m_socket.setReadBufferSize(4096);
}

void RawWebSocket::resumeReading()
{
    m_paused = false;
    // A kernel buffer made tiny to fill fast would make catching up slow: widen it again.
    m_socket.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 1024 * 1024);
    m_socket.setReadBufferSize(0);
    onReadyRead();
}

} // namespace streams::testing
