#pragma once

// A loopback HTTP/1.1 server that misbehaves on purpose, for the remote-side fault tests
// (tests/core/remote/tst_remotefaults, tests/app/cli/tst_clifaults): it resets connections,
// answers slowly or byte by byte, answers garbage, truncates, or never answers, as its script
// says for each request. It runs on a thread of its own, so it keeps serving while the test's
// thread blocks (waiting for a streams-cli process, say).

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QMutex>
#include <QMutexLocker>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>
#include <functional>
#include <memory>
#include <sys/socket.h>

namespace streams::testing {

/// What the server does with one request.
struct Fault
{
    enum class Kind {
        Answer, // write `bytes`, keep the connection
        AnswerAndClose, // write `bytes`, then close cleanly (FIN)
        Reset, // close with a TCP reset (RST), answering nothing
        PartialThenReset, // write `bytes`, then reset
        Drip, // write `bytes` one byte every `intervalMs`
        Silent, // read the request, never answer
    };
    Kind kind = Kind::Answer;
    QByteArray bytes;
    int delayMs = 0; // before anything is written (Answer, AnswerAndClose, PartialThenReset)
    int intervalMs = 0; // Drip

    /// A complete HTTP/1.1 response with a correct Content-Length.
    static QByteArray response(int status, const QByteArray &reason, const QByteArray &body,
        const QByteArray &contentType = "application/json")
    {
        return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason
            + "\r\nContent-Type: " + contentType
            + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    }
    static Fault answer(int status, const QByteArray &reason, const QByteArray &body,
        const QByteArray &contentType = "application/json", int delayMs = 0)
    {
        return {Kind::Answer, response(status, reason, body, contentType), delayMs, 0};
    }
    static Fault raw(const QByteArray &bytes, Kind kind = Kind::AnswerAndClose)
    {
        return {kind, bytes, 0, 0};
    }
    static Fault reset() { return {Kind::Reset, {}, 0, 0}; }
    static Fault silent() { return {Kind::Silent, {}, 0, 0}; }
    /// Headers promising `declared` bytes of body, then only `body`, then a reset.
    static Fault truncated(const QByteArray &body, qsizetype declared)
    {
        return {Kind::PartialThenReset,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + QByteArray::number(declared) + "\r\n\r\n" + body,
            0, 0};
    }
    static Fault drip(const QByteArray &bytes, int intervalMs)
    {
        return {Kind::Drip, bytes, 0, intervalMs};
    }
};

class FaultServer final
{
public:
    /// `index` counts requests from 0 across all connections.
    using Script = std::function<Fault(int index, const QByteArray &request)>;

    explicit FaultServer(Script script) : m_shared(std::make_shared<Shared>())
    {
        m_shared->script = std::move(script);
        m_thread.start();
        m_worker = new QObject;
        m_worker->moveToThread(&m_thread);
        QObject::connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
        const auto shared = m_shared;
        QObject *worker = m_worker;
        QMetaObject::invokeMethod(
            m_worker,
            [shared, worker] {
                auto *server = new QTcpServer(worker);
                QObject::connect(server, &QTcpServer::newConnection, worker, [shared, server] {
                    while (QTcpSocket *socket = server->nextPendingConnection())
                        serve(shared, socket);
                });
                server->listen(QHostAddress::LocalHost, 0);
                shared->port = server->serverPort();
            },
            Qt::BlockingQueuedConnection);
    }

    ~FaultServer()
    {
        m_thread.quit();
        m_thread.wait();
    }

    FaultServer(const FaultServer &) = delete;
    FaultServer &operator=(const FaultServer &) = delete;

    quint16 port() const { return m_shared->port; }
    QString baseUrl() const { return QStringLiteral("http://127.0.0.1:%1").arg(port()); }

    QList<QByteArray> requests() const
    {
        QMutexLocker lock(&m_shared->mutex);
        return m_shared->requests;
    }
    int requestCount(QByteArrayView method = {}) const
    {
        QMutexLocker lock(&m_shared->mutex);
        int count = 0;
        for (const QByteArray &request : m_shared->requests)
            count += method.isEmpty() || request.startsWith(method.toByteArray() + ' ') ? 1 : 0;
        return count;
    }
    int connections() const
    {
        QMutexLocker lock(&m_shared->mutex);
        return m_shared->connections;
    }
    /// Replaces the script (thread-safe): a server that heals, or breaks, mid-test.
    void setScript(Script script)
    {
        QMutexLocker lock(&m_shared->mutex);
        m_shared->script = std::move(script);
    }

private:
    struct Shared
    {
        mutable QMutex mutex;
        Script script;
        QList<QByteArray> requests;
        int connections = 0;
        quint16 port = 0;
    };

    static void resetConnection(QTcpSocket *socket)
    {
        // SO_LINGER with a zero timeout: close() sends RST instead of FIN.
        const linger noLinger{1, 0};
        ::setsockopt(
            int(socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &noLinger, sizeof noLinger);
        socket->abort();
        socket->deleteLater();
    }

    static void serve(const std::shared_ptr<Shared> &shared, QTcpSocket *socket)
    {
        {
            QMutexLocker lock(&shared->mutex);
            ++shared->connections;
        }
        auto buffer = std::make_shared<QByteArray>();
        QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        QObject::connect(socket, &QTcpSocket::readyRead, socket, [shared, socket, buffer] {
            *buffer += socket->readAll();
            for (;;) {
                const qsizetype headEnd = buffer->indexOf("\r\n\r\n");
                if (headEnd < 0)
                    return;
                qsizetype length = 0;
                for (const QByteArray &line : buffer->left(headEnd).split('\n')) {
                    if (line.toLower().startsWith("content-length:"))
                        length = line.mid(15).trimmed().toLongLong();
                }
                if (buffer->size() < headEnd + 4 + length)
                    return;
                const QByteArray request = buffer->left(headEnd + 4 + length);
                buffer->remove(0, request.size());
                Fault fault;
                {
                    QMutexLocker lock(&shared->mutex);
                    const int index = int(shared->requests.size());
                    shared->requests.append(request);
                    const Script script = shared->script;
                    lock.unlock();
                    fault = script ? script(index, request) : Fault::silent();
                }
                act(socket, fault);
                if (fault.kind == Fault::Kind::Reset || fault.kind == Fault::Kind::PartialThenReset)
                    return; // the socket is going
            }
        });
    }

    static void act(QTcpSocket *socket, const Fault &fault)
    {
        const auto later = [socket](int ms, std::function<void()> work) {
            if (ms <= 0)
                work();
            else
                QTimer::singleShot(ms, socket, std::move(work));
        };
        switch (fault.kind) {
        case Fault::Kind::Silent: return;
        case Fault::Kind::Reset: resetConnection(socket); return;
        case Fault::Kind::Answer:
            later(fault.delayMs, [socket, bytes = fault.bytes] { socket->write(bytes); });
            return;
        case Fault::Kind::AnswerAndClose:
            later(fault.delayMs, [socket, bytes = fault.bytes] {
                socket->write(bytes);
                socket->disconnectFromHost();
            });
            return;
        case Fault::Kind::PartialThenReset:
            later(fault.delayMs, [socket, bytes = fault.bytes] {
                socket->write(bytes);
                socket->flush();
                // Give the bytes a moment on the wire before the reset overtakes them.
                QTimer::singleShot(50, socket, [socket] { resetConnection(socket); });
            });
            return;
        case Fault::Kind::Drip: {
            auto *timer = new QTimer(socket);
            auto position = std::make_shared<qsizetype>(0);
            QObject::connect(
                timer, &QTimer::timeout, socket, [socket, timer, position, bytes = fault.bytes] {
                    if (*position >= bytes.size()) {
                        timer->stop();
                        return;
                    }
                    socket->write(bytes.mid((*position)++, 1));
                });
            timer->start(fault.intervalMs);
            return;
        }
        }
    }

    std::shared_ptr<Shared> m_shared;
    QThread m_thread;
    QObject *m_worker = nullptr;
};

} // namespace streams::testing
