#pragma once

#include <QByteArray>
#include <QList>
#include <QtGlobal>
#include <cstdint>
#include <functional>
#include <sys/types.h>

struct wslay_event_context;
struct wslay_event_on_msg_recv_arg;

namespace streams {

/// Writes `frames[first..count)`, from byte `offset` of the first, straight to the stream
/// socket `descriptor`: one sendmsg() per 64 frames (an iovec each), until all are written or
/// the socket is full. Moves `first` and `offset` past what the kernel took. False when the
/// socket failed otherwise (it is broken; whoever reads it will find out).
bool sendFrames(
    int descriptor, const QByteArray *frames, qsizetype count, qsizetype &first, qsizetype &offset);

/// The server's end of an open websocket on a plain TCP descriptor, for the live connections
/// of an I/O thread (TwilsockShard): read when the shard's epoll says so, as many frames per
/// read() as have arrived and no Qt notifier per socket; libwslay reads the frames (masking,
/// fragments, limits), answers pings and keeps the closing handshake. Frames are written
/// straight to the descriptor, and what the kernel does not take waits here, in order, until
/// epoll says the socket is writable again. Not thread-safe: one thread at a time (its
/// shard's, once watched).
class LiveSocket final
{
    Q_DISABLE_COPY_MOVE(LiveSocket)

public:
    /// What the socket reports; each may be called from inside onEvents() and write().
    struct Handlers
    {
        std::function<void(const QByteArray &)> binaryMessage;
        std::function<void()> textMessage;
        /// unsentBytes() went down.
        std::function<void()> drained;
        /// The connection is over (the closing handshake ended, the peer went, or an error).
        std::function<void()> closed;
    };

    /// Owns `descriptor` (a connected, non-blocking stream socket) from now on. `alreadyRead` is
    /// what was taken from it before (after the handshake), read first. Messages over
    /// `maxMessageBytes` are refused with close code 1009.
    LiveSocket(int descriptor, QByteArray alreadyRead, qint64 maxMessageBytes);
    ~LiveSocket();

    void setHandlers(Handlers handlers) { m_handlers = std::move(handlers); }
    int descriptor() const { return m_fd; }
    /// From now on readiness comes from `epollFd` under `key` (EPOLLIN, and EPOLLOUT while
    /// something waits to be written). Whatever was read before is handled now.
    bool watchWith(int epollFd, quint64 key);
    /// What epoll reported for this socket.
    void onEvents(std::uint32_t events);

    /// Until the connection is over (closed() was called or abort()).
    bool isOpen() const { return m_fd >= 0; }
    /// Writes whole websocket frames after everything written before; nothing once a close has
    /// been queued.
    void write(const QList<QByteArray> &frames);
    /// What waits here for the kernel to take it.
    qint64 unsentBytes() const { return m_unsent; }
    /// Queues a close frame after everything written so far; the connection ends when the peer
    /// answers it (or closes).
    void close(int code, const QByteArray &reason);
    /// Ends the connection at once, without closed().
    void abort();
    /// SO_RCVLOWAT: epoll reports the socket readable once `bytes` have arrived.
    bool setReadLowWater(int bytes);
    /// The code of the close frame this end sent (1009 for a message over the limit), or 0.
    int closeCodeSent() const;

private:
    static ssize_t receiveFor(wslay_event_context *context, std::uint8_t *buffer,
        std::size_t length, int flags, void *self);
    static ssize_t sendFor(wslay_event_context *context, const std::uint8_t *data,
        std::size_t length, int flags, void *self);
    static void messageFor(
        wslay_event_context *context, const wslay_event_on_msg_recv_arg *message, void *self);
    ssize_t receive(std::uint8_t *buffer, std::size_t length);
    void readReady();
    void writeReady();
    /// Writes `count` frames after what waits; keeps what the kernel does not take.
    void writeOut(const QByteArray *frames, qsizetype count);
    /// Lets libwslay write what it queued (pongs, close frames).
    void sendControl();
    /// Half-closes once our close frame is out; ends once both closes are done.
    void progressClose();
    void wantWrite(bool on);
    void finish(bool report);

    int m_fd = -1;
    int m_epollFd = -1;
    quint64 m_key = 0;
    bool m_watchingWrites = false;
    wslay_event_context *m_context = nullptr;
    Handlers m_handlers;

    QByteArray m_alreadyRead;
    // Set when a read() returned less than asked: the rest comes with the next readiness.
    bool m_readDrained = false;
    qsizetype m_readThisTurn = 0;
    bool m_writeBroken = false;
    bool m_peerGone = false;
    bool m_inReceive = false;
    bool m_closeQueued = false;
    bool m_halfClosed = false;

    // Unwritten bytes: m_pending[m_pendingHead..], after the first m_pendingOffset bytes of the
    // first of those (the written ones are dropped from the front now and then).
    QList<QByteArray> m_pending;
    qsizetype m_pendingHead = 0;
    qsizetype m_pendingOffset = 0;
    qint64 m_unsent = 0;
};

} // namespace streams
