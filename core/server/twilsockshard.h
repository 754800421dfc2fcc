#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <functional>

QT_BEGIN_NAMESPACE
class QSocketNotifier;
QT_END_NAMESPACE

namespace streams {

class TwilsockConnection;
class TwilsockServer;
struct StreamMessage;

/// A share of the twilsock endpoint's live connections, and everything that runs them, on one
/// thread: an I/O thread of its own (TwilsockOptions::ioThreads), or the engine's thread for
/// connections that must stay there (zero-change TLS tunnels). Each connection reads, writes,
/// pings and drains its subscriptions here; what needs the engine's state goes through
/// TwilsockServer::onEngine. A published message is encoded as a notification once per shard
/// and the same bytes go to every subscriber the shard holds. Connections on a LiveSocket (an
/// I/O thread's) are read through one epoll set: one wake-up serves every socket that is ready.
class TwilsockShard final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TwilsockShard)

public:
    explicit TwilsockShard(TwilsockServer &server);
    ~TwilsockShard() override;

    /// Runs `connection` from now on (on this shard's thread, where it already lives).
    void adopt(TwilsockConnection *connection);
    /// Ends connection `id` as a fault rule does (TwilsockConnection::dropForFault).
    void dropForFault(quint64 id);
    /// Deletes every connection; the shard takes no more work. On the shard's thread.
    void closeAll();

    // For TwilsockConnection.
    /// The `stream_message_published` notification of `message` as one unmasked binary
    /// websocket frame, built once per message and drain pass and shared by every receiver.
    QByteArray messageNotification(const StreamMessage &message);
    /// The `stream_removed` notification of a stream as a twilsock frame (for send(), which
    /// wraps it), cached per drain pass like messageNotification().
    QByteArray removalNotification(const QString &streamSid);
    /// The hub wake-up of one connection's subscription: callable from any thread, it queues
    /// a drain on the shard's thread.
    std::function<void()> wakeFor(quint64 connectionId, const QString &streamSid);
    /// Calls readPromptly() on `connection` (adopted or not yet) when the current read-batch window
    /// ends (TwilsockOptions::readBatchWindow).
    void readPromptlyLater(TwilsockConnection *connection);

private:
    void drainWoken();
    /// Reads and writes whatever the epoll set says is ready.
    void serveReady();
    void pingAll();
    void remove(quint64 connectionId);

    TwilsockServer &m_server;
    QHash<quint64, TwilsockConnection *> m_connections;
    QTimer m_pingTimer;

    // Shared notification frames by key (message SID, or "removed:" + stream SID). Every
    // subscriber woken by a publish drains within the same pass, so the cache is emptied after
    // each pass and bounded in between.
    static constexpr qsizetype kMaxCachedFrames = 4096;
    QHash<QString, QByteArray> m_frames;

    // Wake-ups arrive from the hub (on the publisher's thread): one queued pass drains them all.
    QMutex m_wakeMutex;
    QList<std::pair<quint64, QString>> m_woken;
    bool m_drainQueued = false;
    // Fair share under load: after a drain pass that took D, the next one waits until D has
    // passed since, so other work on the thread (publishes, on the engine's) gets at least half
    // of it and more messages share each write. Passes shorter than kFairShareFromNs (a few
    // hundred sockets) never wait.
    static constexpr qint64 kFairShareFromNs = 1'000'000;
    QElapsedTimer m_sinceStart;
    qint64 m_lastDrainEndNs = 0;
    qint64 m_lastDrainNs = 0;
    QTimer m_drainTimer;

    // The epoll set of the connections on a LiveSocket, made by the first of them.
    int m_epoll = -1;
    QSocketNotifier *m_epollNotifier = nullptr;

    // Connections reading in batches until the window ends (one timer for all of them).
    QList<QPointer<TwilsockConnection>> m_batchedReads;
    QTimer m_readBatchTimer;
};

} // namespace streams
