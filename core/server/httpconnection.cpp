#include "server/httpconnection.h"

#include "api/apierror.h"
#include "server/httpserver.h"

#include <QDeadlineTimer>
#include <QSslSocket>
#include <QTcpSocket>

#ifdef Q_OS_WIN
#include <winsock2.h>
#else
#include <sys/socket.h>
#endif

namespace streams {

namespace {
// What one read looks at: more than any head may be (HttpRequestParser::Limits), so a head that
// is not whole within it is over the limit.
constexpr qint64 kReadChunk = 64 * 1024;
// Answers this large are written out at once; smaller ones when the event loop next polls,
// together with the rest of the pass's answers (docs/performance.md, "REST").
constexpr qint64 kWriteAtOnceBytes = 16 * 1024;
constexpr QByteArrayView kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

qint64 monotonicMs()
{
    return QDeadlineTimer::current().deadline();
}
} // namespace

HttpConnection::HttpConnection(QIODevice *device, HttpServer &server)
    : QObject(&server),
      m_device(device),
      m_socket(qobject_cast<QTcpSocket *>(device)),
      m_server(server),
      m_secure(qobject_cast<QSslSocket *>(device) != nullptr)
{
    device->setParent(this);
    connect(device, &QIODevice::readyRead, this, &HttpConnection::readRequests);
    // Reading that waited for the client to take its answers goes on.
    connect(device, &QIODevice::bytesWritten, this, [this] {
        if (m_tunnelOpening) {
            if (m_socket->bytesToWrite() == 0)
                handOverTunnel();
            return;
        }
        if (m_lingering)
            shutDownWriting();
        else if (m_device && m_device->bytesAvailable() > 0 && !readingPaused())
            readRequests();
    });
    if (m_socket)
        connect(m_socket, &QTcpSocket::disconnected, this, &QObject::deleteLater);
    else
        connect(device, &QIODevice::aboutToClose, this, &QObject::deleteLater);
    setDeadline();
}

void HttpConnection::closeDevice()
{
    if (!m_socket) {
        m_device->close();
        return;
    }
    if (m_lingering)
        return;
    m_lingering = true;
    disconnect(m_socket, &QIODevice::readyRead, this, nullptr);
    connect(m_socket, &QIODevice::readyRead, this,
        [this] { m_socket->skip(m_socket->bytesAvailable()); });
    m_socket->skip(m_socket->bytesAvailable());
    m_deadlineMs = monotonicMs() + m_server.options().lingerTimeout.count();
    shutDownWriting();
}

void HttpConnection::shutDownWriting()
{
    if (m_writingShut || m_socket->bytesToWrite() > 0)
        return; // once the answers are out (bytesWritten comes back here)
    m_writingShut = true;
    if (m_secure) {
        // TLS has no half-close either: close_notify, then the connection goes.
        m_socket->disconnectFromHost();
        return;
    }
    // QTcpSocket cannot half-close; the client reads the answers and then the end of the stream.
#ifdef Q_OS_WIN
    ::shutdown(SOCKET(m_socket->socketDescriptor()), SD_SEND);
#else
    ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
#endif
}

HttpConnection::~HttpConnection() = default;

bool HttpConnection::readingPaused() const
{
    return m_closing || m_upgradePending || m_tunnelRequest.has_value()
        || qsizetype(m_exchanges.size()) >= m_server.options().maxPipelined
        || m_device->bytesToWrite() > m_server.options().maxUnsentBytes;
}

void HttpConnection::readRequests()
{
    if (m_reading || !m_device)
        return;
    m_reading = true;
    while (!readingPaused()) {
        const qint64 available = m_device->bytesAvailable();
        if (available <= 0)
            break;
        if (!m_parser) {
            m_parser.emplace(m_server.options().limits);
            m_deadlineMs = monotonicMs() + m_server.options().requestTimeout.count();
        }
        const bool headWasDone = m_parser->headerDone();
        // Peeked, not read: a head stays in the device until it is whole and known not to be a
        // websocket handshake, which must stay in the socket for whoever takes it. The parser
        // may take the head's first lines before the rest has come (m_headBytesTaken).
        const QByteArray bytes = m_device->peek(qMin(available, m_headBytesTaken + kReadChunk));
        const qsizetype consumed = m_parser->feed(QByteArrayView(bytes).sliced(m_headBytesTaken));
        if (m_parser->failure()) {
            const HttpRequestParser::Failure failure = *m_parser->failure(); // refuse() ends it
            refuse(failure.status, failure.reason);
            break;
        }
        if (!m_parser->headerDone()) {
            m_headBytesTaken += consumed;
            break; // the rest of the head is still to come
        }
        if (!headWasDone) {
            const HttpRequest &head = m_parser->request();
            if (head.upgrade && m_socket && m_server.upgradeFor(head.path)) {
                m_upgradePending = true;
                break; // handed over (or refused) once the earlier answers are out
            }
            m_continueOwed = m_parser->expectsContinue();
        }
        m_device->skip(std::exchange(m_headBytesTaken, 0) + consumed);
        if (m_parser->complete()) {
            HttpRequest request = m_parser->takeRequest();
            m_parser.reset();
            m_continueOwed = false;
            if (request.tunnel && m_socket && !m_secure && m_server.tunnel()) {
                m_tunnelRequest = std::move(request);
                break; // opened (or refused) once the earlier answers are out
            }
            dispatch(std::move(request));
            continue;
        }
        if (m_continueOwed && m_exchanges.empty()) {
            m_continueOwed = false;
            m_device->write(kContinue.data(), kContinue.size());
        }
        if (consumed == 0)
            break;
    }
    m_reading = false;
    if (m_upgradePending)
        upgradeWhenAnswered();
    if (m_tunnelRequest)
        openTunnelWhenAnswered();
}

void HttpConnection::dispatch(HttpRequest request)
{
    request.secure = m_secure;
    if (request.tunnel) {
        // No tunnels here (none offered, or one inside a tunnel): a CONNECT is refused.
        m_closing = true;
        respond(enqueue(false, true),
            HttpResponse::fromError(ApiError(20405, 405,
                m_secure ? QStringLiteral("CONNECT inside a tunnel is not supported")
                         : QStringLiteral("This server opens no CONNECT tunnels"))));
        return;
    }
    // Nothing after a request that ends the connection is read. An upgrade the server does not
    // take (a websocket on another path) is answered and the connection ended too: its client
    // waits for a 101 or for the end, not for a keep-alive.
    const bool close = !request.keepAlive || request.upgrade;
    const quint64 id = enqueue(request.isHead(), close);
    if (close)
        m_closing = true;
    setDeadline();
    m_server.m_handler.handleRequest(HttpExchange(this, id), std::move(request));
}

quint64 HttpConnection::enqueue(bool headersOnly, bool close)
{
    const quint64 id = m_nextId++;
    m_exchanges.push_back({id, headersOnly, close, false, {}});
    return id;
}

void HttpConnection::respond(quint64 id, const HttpResponse &response)
{
    if (!m_device || m_exchanges.empty() || id < m_exchanges.front().id
        || id - m_exchanges.front().id >= m_exchanges.size())
        return; // answered already, or the connection ended before it
    Exchange &exchange = m_exchanges[id - m_exchanges.front().id];
    if (exchange.answered)
        return;
    exchange.answered = true;
    exchange.close = exchange.close || response.close;
    if (exchange.close)
        m_closing = true;
    exchange.bytes = response.serialize(exchange.close, exchange.headersOnly);
    writeAnswered();
}

void HttpConnection::closeAfter(quint64 id)
{
    if (m_exchanges.empty() || id < m_exchanges.front().id
        || id - m_exchanges.front().id >= m_exchanges.size())
        return;
    m_exchanges[id - m_exchanges.front().id].close = true;
    m_closing = true;
    m_deadlineMs = 0;
}

void HttpConnection::writeAnswered()
{
    while (!m_exchanges.empty() && m_exchanges.front().answered) {
        const Exchange exchange = std::move(m_exchanges.front());
        m_exchanges.pop_front();
        m_device->write(exchange.bytes);
        if (exchange.close) {
            // Whatever was read behind it goes unanswered; the client asked for the end, or
            // the engine ended it (a refused or malformed request).
            m_exchanges.clear();
            m_parser.reset();
            m_headBytesTaken = 0;
            m_upgradePending = false;
            m_deadlineMs = 0;
            closeDevice();
            return;
        }
    }
    if (m_socket && m_socket->bytesToWrite() >= kWriteAtOnceBytes)
        m_socket->flush();
    if (m_exchanges.empty()) {
        if (m_upgradePending) {
            upgradeWhenAnswered();
            return;
        }
        if (m_tunnelRequest) {
            openTunnelWhenAnswered();
            return;
        }
        if (m_continueOwed && m_parser && !m_parser->complete()) {
            m_continueOwed = false;
            m_device->write(kContinue.data(), kContinue.size());
        }
    }
    setDeadline();
    if (m_device->bytesAvailable() > 0 && !readingPaused())
        readRequests();
}

void HttpConnection::upgradeWhenAnswered()
{
    if (!m_exchanges.empty() || m_reading || !m_parser)
        return;
    const HttpRequest &head = m_parser->request();
    const HttpUpgrade *upgrade = m_server.upgradeFor(head.path);
    if (!upgrade)
        return;
    if (std::optional<HttpResponse> refusal = upgrade->check(head, m_socket->peerAddress())) {
        m_upgradePending = false;
        m_parser.reset();
        m_headBytesTaken = 0;
        m_closing = true;
        refusal->close = true;
        respond(enqueue(false, true), *refusal);
        return;
    }
    handOver(*upgrade);
}

void HttpConnection::handOver(const HttpUpgrade &upgrade)
{
    QTcpSocket *socket = m_socket;
    disconnect(socket, nullptr, this, nullptr);
    socket->setParent(nullptr);
    m_socket = nullptr;
    m_device = nullptr;
    m_parser.reset();
    m_headBytesTaken = 0;
    m_deadlineMs = 0;
    upgrade.take(socket);
    deleteLater();
}

void HttpConnection::openTunnelWhenAnswered()
{
    if (!m_exchanges.empty() || m_reading || !m_tunnelRequest || m_tunnelOpening)
        return;
    const HttpTunnel *tunnel = m_server.tunnel();
    std::optional<HttpResponse> refusal = tunnel
        ? tunnel->check(*m_tunnelRequest, m_socket->peerAddress())
        : HttpResponse::fromError(ApiError(20405, 405, QStringLiteral("No CONNECT tunnels")));
    if (!refusal && m_socket->bytesAvailable() > 0) {
        // The client did not wait for the 200: what it sent is the tunnel's, already read here.
        refusal = HttpResponse::fromError(ApiError(20400, 400,
            QStringLiteral("Bytes for the tunnel came before it was established; wait for the "
                           "200 Connection established")));
    }
    if (refusal) {
        m_tunnelRequest.reset();
        m_closing = true;
        refusal->close = true;
        respond(enqueue(false, true), *refusal);
        return;
    }
    m_tunnelOpening = true;
    m_deadlineMs = 0;
    disconnect(m_socket, &QIODevice::readyRead, this, nullptr); // the tunnel's bytes are not ours
    m_socket->write("HTTP/1.1 200 Connection established\r\n\r\n");
    m_socket->flush(); // may say bytesWritten at once, and so hand the socket over already
    if (m_tunnelOpening && m_socket->bytesToWrite() == 0)
        handOverTunnel(); // else once bytesWritten says it is out
}

void HttpConnection::handOverTunnel()
{
    if (!m_tunnelOpening)
        return;
    const HttpTunnel *tunnel = m_server.tunnel();
    QTcpSocket *socket = m_socket;
    const QByteArray authority = m_tunnelRequest->host;
    disconnect(socket, nullptr, this, nullptr);
    socket->setParent(nullptr);
    m_socket = nullptr;
    m_device = nullptr;
    m_tunnelRequest.reset();
    m_tunnelOpening = false;
    tunnel->take(socket, authority);
    deleteLater();
}

void HttpConnection::refuse(int status, QString reason)
{
    m_parser.reset();
    m_headBytesTaken = 0;
    m_upgradePending = false;
    m_continueOwed = false;
    m_closing = true;
    // Twilio's codes for HTTP errors are the status plus 20000 (20400, 20413, ...).
    respond(enqueue(false, true),
        HttpResponse::fromError(ApiError(20000 + status, status, std::move(reason))));
}

void HttpConnection::setDeadline()
{
    if (m_lingering)
        return; // its own limit, from when the engine ended it
    if (m_closing || !m_device)
        m_deadlineMs = 0; // NOLINT(bugprone-branch-clone): another case than the last one's
    else if (m_parser)
        return; // the request's own limit, set when its first byte came
    else if (m_exchanges.empty())
        m_deadlineMs = monotonicMs() + m_server.options().idleTimeout.count();
    else
        m_deadlineMs = 0; // the engine owes answers; it does not time itself out
}

void HttpConnection::checkDeadline(qint64 nowMs)
{
    if (m_deadlineMs == 0 || nowMs < m_deadlineMs || !m_device)
        return;
    if (m_lingering) {
        m_deadlineMs = 0;
        m_socket->abort(); // the client kept sending, or kept the connection open
        return;
    }
    if (m_parser) {
        refuse(408,
            QStringLiteral("The request did not arrive whole within %1 s")
                .arg(m_server.options().requestTimeout.count() / 1000.0));
    } else {
        m_deadlineMs = 0;
        m_closing = true;
        closeDevice();
    }
}

} // namespace streams
