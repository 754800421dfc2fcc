#include "server/httpserver.h"

#include "server/httpconnection.h"

#include <QDeadlineTimer>
#include <QLoggingCategory>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <algorithm>

Q_LOGGING_CATEGORY(lcHttpServer, "streams.server.http", QtWarningMsg)

namespace streams {

HttpExchange::HttpExchange(HttpConnection *connection, quint64 id)
    : m_connection(connection), m_id(id)
{ }

void HttpExchange::respond(const HttpResponse &response) const
{
    if (m_connection)
        m_connection->respond(m_id, response);
}

void HttpExchange::closeAfter() const
{
    if (m_connection)
        m_connection->closeAfter(m_id);
}

bool HttpExchange::isConnected() const
{
    return m_connection && m_connection->socket()
        && m_connection->socket()->state() == QAbstractSocket::ConnectedState;
}

QHostAddress HttpExchange::peerAddress() const
{
    return m_connection && m_connection->socket() ? m_connection->socket()->peerAddress()
                                                  : QHostAddress();
}

QHostAddress HttpExchange::localAddress() const
{
    return m_connection && m_connection->socket() ? m_connection->socket()->localAddress()
                                                  : QHostAddress();
}

quint16 HttpExchange::localPort() const
{
    return m_connection && m_connection->socket() ? m_connection->socket()->localPort() : 0;
}

bool HttpExchange::sameConnection(const HttpExchange &other) const
{
    return m_connection && m_connection == other.m_connection;
}

HttpServer::HttpServer(HttpHandler &handler, HttpServerOptions options, QObject *parent)
    : QObject(parent), m_handler(handler), m_options(options)
{
    // Time limits are checked by one sweep over the connections rather than a timer per
    // connection re-armed on every request: a request costs a clock read, not a timer.
    auto *sweep = new QTimer(this);
    const auto shortest =
        std::min({m_options.idleTimeout, m_options.requestTimeout, m_options.lingerTimeout});
    sweep->setInterval(
        std::clamp(shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000)));
    connect(sweep, &QTimer::timeout, this, [this] {
        const qint64 now = QDeadlineTimer::current().deadline();
        for (HttpConnection *connection :
            findChildren<HttpConnection *>(Qt::FindDirectChildrenOnly))
            connection->checkDeadline(now);
    });
    sweep->start();
}

HttpServer::~HttpServer()
{
    // Connections go first: their sockets' signals must not reach a half-destroyed server.
    qDeleteAll(findChildren<HttpConnection *>(Qt::FindDirectChildrenOnly));
}

namespace {
constexpr int kListenBacklog = 1024; // the kernel caps it at net.core.somaxconn
} // namespace

quint16 HttpServer::listen(const QHostAddress &address, quint16 port, QString *errorString)
{
    auto *listener = new QTcpServer(this);
    // Room for a burst of connections (a load test, a pool opening at once) before the kernel
    // drops SYNs, which clients retry only a second later; Qt's default is 50.
    listener->setListenBacklogSize(kListenBacklog);
    if (!listener->listen(address, port)) {
        if (errorString)
            *errorString = listener->errorString();
        delete listener;
        return 0;
    }
    connect(listener, &QTcpServer::newConnection, this, &HttpServer::acceptConnections);
    m_listener = listener;
    return listener->serverPort();
}

void HttpServer::acceptConnections()
{
    while (QTcpSocket *socket = m_listener->nextPendingConnection()) {
        // No Nagle: an answer or a twilsock notification written while an earlier one is still
        // unacknowledged would otherwise wait for the peer's delayed ACK (docs/performance.md).
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        serve(socket);
    }
}

void HttpServer::serve(QIODevice *device)
{
    new HttpConnection(device, *this);
}

void HttpServer::addUpgrade(const QByteArray &path, const HttpUpgrade &upgrade)
{
    m_upgrades.insert(path, upgrade);
}

void HttpServer::setTunnel(HttpTunnel tunnel)
{
    m_tunnel = std::move(tunnel);
}

const HttpUpgrade *HttpServer::upgradeFor(const QByteArray &path) const
{
    const auto it = m_upgrades.constFind(path);
    return it == m_upgrades.cend() ? nullptr : &*it;
}

int HttpServer::connectionCount() const
{
    return int(findChildren<HttpConnection *>(Qt::FindDirectChildrenOnly).size());
}

} // namespace streams
