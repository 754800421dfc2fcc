#pragma once

#include "server/httprequest.h"
#include "server/httprequestparser.h"
#include "server/httpresponse.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <chrono>
#include <functional>
#include <optional>

QT_BEGIN_NAMESPACE
class QIODevice;
class QTcpServer;
class QTcpSocket;
QT_END_NAMESPACE

namespace streams {

class HttpConnection;

/// Limits and time limits of every connection to an HttpServer. Tests shorten the times.
struct HttpServerOptions
{
    HttpRequestParser::Limits limits;
    /// A connection with no request under way and none waiting for its answer is closed after
    /// this long (clients reopen; Node's and Python's pools expect a server to do this).
    std::chrono::milliseconds idleTimeout{120'000};
    /// A request must arrive whole within this long of its first byte, or it is answered 408 and
    /// the connection closed: a client that drips a request byte by byte holds nothing for long.
    std::chrono::milliseconds requestTimeout{30'000};
    /// After the engine ends a connection, what the client still sends (a refused body) is read
    /// and dropped until it closes, for at most this long (a "lingering close", as nginx does):
    /// closing with unread bytes would reset the connection and could destroy the answer.
    std::chrono::milliseconds lingerTimeout{5'000};
    /// Requests read ahead of their answers on one connection; past that, reading waits.
    int maxPipelined = 64;
    /// Answers written and not yet taken by the client; past that, reading waits.
    qint64 maxUnsentBytes = 4 * 1024 * 1024;
};

/// One request's place on its connection: answer it now or later, once; answers go out in the
/// order the requests came. Copyable; answering after the connection has gone does nothing.
class HttpExchange final
{
public:
    HttpExchange() = default;
    HttpExchange(HttpConnection *connection, quint64 id);

    void respond(const HttpResponse &response) const;
    /// The connection ends with this request's answer: nothing after it is read or answered.
    void closeAfter() const;
    bool isConnected() const;
    QHostAddress peerAddress() const;
    QHostAddress localAddress() const;
    quint16 localPort() const;
    /// The same connection as `other` (a request pipelined behind another).
    bool sameConnection(const HttpExchange &other) const;

private:
    QPointer<HttpConnection> m_connection;
    quint64 m_id = 0;
};

/// What answers an HttpServer's requests.
class HttpHandler
{
public:
    virtual ~HttpHandler() = default;
    /// A whole request; answer it through `exchange`, now or later.
    virtual void handleRequest(const HttpExchange &exchange, HttpRequest request) = 0;
};

/// A websocket endpoint on an HttpServer's port (HttpServer::addUpgrade).
struct HttpUpgrade
{
    /// Nothing to take the socket, or the answer that refuses the handshake (it closes the
    /// connection). Runs when every earlier request on the connection has been answered.
    std::function<std::optional<HttpResponse>(const HttpRequest &request, QHostAddress peer)> check;
    /// Takes the socket with the whole handshake request still unread in it (for
    /// QWebSocketServer::handleConnection()). The taker owns it from then on.
    std::function<void(QTcpSocket *socket)> take;
};

/// What opens CONNECT tunnels on an HttpServer's port (HttpServer::setTunnel).
struct HttpTunnel
{
    /// Nothing to open the tunnel, or the answer that refuses it (it closes the connection).
    /// Runs when every earlier request on the connection has been answered.
    std::function<std::optional<HttpResponse>(const HttpRequest &request, QHostAddress peer)> check;
    /// Takes the socket once `200 Connection established` is out, with nothing of the tunnel's
    /// own bytes read from it yet; `authority` is the CONNECT target. The taker owns it.
    std::function<void(QTcpSocket *socket, const QByteArray &authority)> take;
};

/// HTTP/1.1 on one listening port, over QTcpServer and QTcpSocket (or a QSslSocket inside a
/// CONNECT tunnel, whose requests are `secure`): keep-alive and pipelining
/// (answers in request order), Content-Length and chunked request bodies, HEAD, Expect:
/// 100-continue, Connection: close, limits (body over the limit 413, an oversized head 431, a
/// malformed request 400 and close) and time limits (HttpServerOptions). Requests are parsed by
/// HttpRequestParser (Boost.Beast). Errors it answers itself carry Twilio's error JSON. Runs on
/// the thread it lives on; nothing in it blocks.
class HttpServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpServer)

public:
    explicit HttpServer(
        HttpHandler &handler, HttpServerOptions options = {}, QObject *parent = nullptr);
    ~HttpServer() override;

    /// Starts listening; the bound port, or 0 (with `errorString`) on failure.
    quint16 listen(const QHostAddress &address, quint16 port, QString *errorString = nullptr);
    /// Serves one more connection on `device`, already open (takes it): a socket accepted
    /// elsewhere, or any sequential device (the fuzzer's).
    void serve(QIODevice *device);
    /// A websocket endpoint: upgrade requests for exactly `path` go to `upgrade`; upgrade
    /// requests for other paths are ordinary requests.
    void addUpgrade(const QByteArray &path, const HttpUpgrade &upgrade);
    /// Opens CONNECT tunnels with `tunnel`; without one, CONNECT is answered 405.
    void setTunnel(HttpTunnel tunnel);

    const HttpServerOptions &options() const { return m_options; }
    int connectionCount() const;

private:
    friend class HttpConnection;
    void acceptConnections();
    const HttpUpgrade *upgradeFor(const QByteArray &path) const;
    const HttpTunnel *tunnel() const { return m_tunnel ? &*m_tunnel : nullptr; }

    HttpHandler &m_handler;
    const HttpServerOptions m_options;
    QTcpServer *m_listener = nullptr;
    QHash<QByteArray, HttpUpgrade> m_upgrades;
    std::optional<HttpTunnel> m_tunnel;
};

} // namespace streams
