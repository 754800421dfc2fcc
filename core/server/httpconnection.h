#pragma once

#include "server/httprequestparser.h"
#include "server/httpresponse.h"

#include <QObject>
#include <deque>
#include <optional>

QT_BEGIN_NAMESPACE
class QIODevice;
class QTcpSocket;
QT_END_NAMESPACE

namespace streams {

class HttpServer;
struct HttpUpgrade;

/// One client connection to an HttpServer: reads requests off the socket with
/// HttpRequestParser, hands each whole one to the server's handler, and writes the answers in
/// request order, whenever they come. Reading stops at a request that ends the connection
/// (Connection: close, a refused or malformed request): nothing after it is read. A websocket
/// handshake for an upgrade path is left unread in the socket and the socket handed over.
/// Any sequential QIODevice can stand in for the socket (the fuzzer feeds one from memory).
class HttpConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpConnection)

public:
    /// Takes `device` (and parents it): a QTcpSocket, or any sequential device.
    HttpConnection(QIODevice *device, HttpServer &server);
    ~HttpConnection() override;

    /// Answers request `id`, at most once; answers are written in request order.
    void respond(quint64 id, const HttpResponse &response);
    /// The connection ends with request `id`'s answer; nothing after it is read.
    void closeAfter(quint64 id);
    /// The connection's socket; null when it is another device, or handed over.
    QTcpSocket *socket() const { return m_socket; }
    /// Ends the connection if its time limit has passed (HttpServer sweeps its connections):
    /// a request under way for too long is answered 408, an idle connection is closed.
    void checkDeadline(qint64 nowMs);

private:
    struct Exchange
    {
        quint64 id = 0;
        bool headersOnly = false; // a HEAD
        bool close = false; // the connection ends after this answer
        bool answered = false;
        QByteArray bytes; // the answer, once given
    };

    void readRequests();
    bool readingPaused() const;
    /// The head of an upgrade request for a websocket path is whole: hand the socket over (or
    /// answer the refusal) once every earlier request is answered.
    void upgradeWhenAnswered();
    void dispatch(HttpRequest request);
    /// Answers a request the parser refused, or one that timed out, and ends the connection.
    void refuse(int status, QString reason);
    quint64 enqueue(bool headersOnly, bool close);
    void writeAnswered();
    /// The time limit that applies now: the request's (from its first byte), idle, or none
    /// while answers are awaited.
    void setDeadline();
    void handOver(const HttpUpgrade &upgrade);
    /// A CONNECT whose earlier requests are answered: refused, or `200 Connection established`
    /// and the socket handed to the server's tunnel once that is out.
    void openTunnelWhenAnswered();
    void handOverTunnel();

    /// Ends the connection once what was written is out: a socket's write side is shut and what
    /// the client still sends is dropped until it closes (lingering close); another device is
    /// closed.
    void closeDevice();
    void shutDownWriting();

    QIODevice *m_device; // null once handed over
    QTcpSocket *m_socket; // m_device, when it is a socket
    HttpServer &m_server;
    std::optional<HttpRequestParser> m_parser; // the request being read, from its first byte
    qsizetype m_headBytesTaken = 0; // of a head not yet whole: parsed, but left in the device
    std::deque<Exchange> m_exchanges; // read and not yet written, in request order
    quint64 m_nextId = 1;
    bool m_closing = false; // an answer that ends the connection is queued or written
    bool m_upgradePending = false; // an upgrade head waits for earlier answers
    std::optional<HttpRequest> m_tunnelRequest; // a CONNECT waiting for earlier answers
    bool m_tunnelOpening = false; // its 200 is being written
    bool m_secure = false; // the device is a QSslSocket: requests arrive through TLS
    bool m_continueOwed = false; // a 100 Continue waits for earlier answers
    bool m_reading = false; // readRequests() is on the stack
    bool m_lingering = false; // the engine ended it; what still comes is dropped
    bool m_writingShut = false;
    qint64 m_deadlineMs = 0; // monotonic; 0: none
};

} // namespace streams
