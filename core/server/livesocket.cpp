#include "server/livesocket.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <wslay/wslay.h>

namespace streams {

namespace {
// Buffers handed to one system call at most (well under Linux's IOV_MAX).
constexpr int kPartsPerWrite = 64;
// What one readiness may read before others get their turn (epoll reports the rest again).
constexpr qsizetype kReadBudgetBytes = 256 * 1024;
} // namespace

LiveSocket::LiveSocket(int descriptor, QByteArray alreadyRead, qint64 maxMessageBytes)
    : m_fd(descriptor), m_alreadyRead(std::move(alreadyRead))
{
    const wslay_event_callbacks callbacks{
        .recv_callback = &LiveSocket::receiveFor,
        .send_callback = &LiveSocket::sendFor,
        .genmask_callback = nullptr,
        .on_frame_recv_start_callback = nullptr,
        .on_frame_recv_chunk_callback = nullptr,
        .on_frame_recv_end_callback = nullptr,
        .on_msg_recv_callback = &LiveSocket::messageFor,
    };
    if (wslay_event_context_server_init(&m_context, &callbacks, this) != 0) {
        m_context = nullptr;
        finish(false);
        return;
    }
    wslay_event_config_set_max_recv_msg_length(m_context, std::uint64_t(maxMessageBytes));
}

LiveSocket::~LiveSocket()
{
    finish(false);
    if (m_context)
        wslay_event_context_free(m_context);
}

bool LiveSocket::watchWith(int epollFd, quint64 key)
{
    if (m_fd < 0)
        return false;
    epoll_event event{};
    event.events = EPOLLIN | (m_watchingWrites ? std::uint32_t(EPOLLOUT) : 0U);
    event.data.u64 = key;
    if (::epoll_ctl(epollFd, EPOLL_CTL_ADD, m_fd, &event) != 0)
        return false;
    m_epollFd = epollFd;
    m_key = key;
    if (!m_alreadyRead.isEmpty())
        readReady();
    return true;
}

void LiveSocket::onEvents(std::uint32_t events)
{
    if (m_fd >= 0 && (events & EPOLLOUT) != 0)
        writeReady();
    if (m_fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0)
        readReady();
}

ssize_t LiveSocket::receiveFor(
    wslay_event_context * /*context*/, std::uint8_t *buffer, std::size_t length, int, void *self)
{
    return static_cast<LiveSocket *>(self)->receive(buffer, length);
}

ssize_t LiveSocket::sendFor(wslay_event_context * /*context*/, const std::uint8_t *data,
    std::size_t length, int, void *self)
{
    // Control frames only (pongs, closes): few and small, so a copy each.
    auto *socket = static_cast<LiveSocket *>(self);
    const QByteArray frame(reinterpret_cast<const char *>(data), qsizetype(length));
    socket->writeOut(&frame, 1);
    return ssize_t(length);
}

void LiveSocket::messageFor(
    wslay_event_context * /*context*/, const wslay_event_on_msg_recv_arg *message, void *self)
{
    auto *socket = static_cast<LiveSocket *>(self);
    // After our close, nothing more is served (what arrives is the peer's last words).
    if (socket->m_closeQueued || socket->m_fd < 0)
        return;
    if (message->opcode == WSLAY_BINARY_FRAME) {
        if (socket->m_handlers.binaryMessage)
            socket->m_handlers.binaryMessage(QByteArray(
                reinterpret_cast<const char *>(message->msg), qsizetype(message->msg_length)));
    } else if (message->opcode == WSLAY_TEXT_FRAME) {
        if (socket->m_handlers.textMessage)
            socket->m_handlers.textMessage();
    }
    // Pings are answered and closes kept by libwslay itself.
}

ssize_t LiveSocket::receive(std::uint8_t *buffer, std::size_t length)
{
    if (!m_alreadyRead.isEmpty()) {
        const qsizetype taken = std::min(m_alreadyRead.size(), qsizetype(length));
        std::memcpy(buffer, m_alreadyRead.constData(), size_t(taken));
        m_alreadyRead.remove(0, taken);
        return ssize_t(taken);
    }
    if (m_fd < 0 || m_readDrained || m_readThisTurn >= kReadBudgetBytes) {
        wslay_event_set_error(m_context, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    for (;;) {
        const ssize_t received = ::recv(m_fd, buffer, length, 0);
        if (received > 0) {
            // Less than asked: the socket is empty for now; asking again would only say so.
            if (size_t(received) < length)
                m_readDrained = true;
            m_readThisTurn += received;
            return received;
        }
        if (received < 0 && errno == EINTR)
            continue;
        if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            m_readDrained = true;
            wslay_event_set_error(m_context, WSLAY_ERR_WOULDBLOCK);
            return -1;
        }
        // The peer closed (0) or the connection broke.
        m_peerGone = true;
        wslay_event_set_error(m_context, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
}

void LiveSocket::readReady()
{
    if (!m_context) {
        finish(true);
        return;
    }
    if (wslay_event_get_read_enabled(m_context) == 0) {
        // Our close is out (a refused message, a protocol error, or the server ending the
        // session) and libwslay reads no more: what comes is discarded until the peer closes.
        std::array<char, 4096> scratch{};
        for (int round = 0; round < 16; ++round) {
            const ssize_t received = ::recv(m_fd, scratch.data(), scratch.size(), 0);
            if (received > 0)
                continue;
            if (received < 0 && errno == EINTR)
                continue;
            if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            finish(true);
            return;
        }
        return;
    }
    m_readDrained = false;
    m_readThisTurn = 0;
    m_inReceive = true;
    const int result = wslay_event_recv(m_context);
    m_inReceive = false;
    if (m_fd < 0)
        return; // a handler ended it
    if (m_peerGone) {
        finish(true);
        return;
    }
    // Pongs and closes: libwslay's answer to what it read, a refusal (1002, 1007, 1009)
    // included. A frame its frame layer refuses outright fails the read after queueing a close
    // without a code, which goes out too; nothing else is fit to go on from.
    sendControl();
    if (result != 0 && wslay_event_get_close_sent(m_context) == 0) {
        finish(true);
        return;
    }
    progressClose();
}

void LiveSocket::write(const QList<QByteArray> &frames)
{
    if (m_fd < 0 || m_closeQueued || (m_context && wslay_event_get_close_sent(m_context) != 0))
        return;
    writeOut(frames.constData(), frames.size());
}

bool sendFrames(
    int descriptor, const QByteArray *frames, qsizetype count, qsizetype &first, qsizetype &offset)
{
    std::array<iovec, kPartsPerWrite> parts{};
    while (first < count) {
        int used = 0;
        for (qsizetype i = first; i < count && used < kPartsPerWrite; ++i) {
            const qsizetype skip = i == first ? offset : 0;
            parts[size_t(used)].iov_base = const_cast<char *>(frames[i].constData() + skip);
            parts[size_t(used)].iov_len = size_t(frames[i].size() - skip);
            ++used;
        }
        msghdr message{};
        message.msg_iov = parts.data();
        message.msg_iovlen = size_t(used);
        const ssize_t written = ::sendmsg(descriptor, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK;
        qint64 left = written;
        while (left > 0) {
            const qint64 rest = frames[first].size() - offset;
            if (left < rest) {
                offset += left;
                break;
            }
            left -= rest;
            offset = 0;
            ++first;
        }
    }
    return true;
}

void LiveSocket::writeOut(const QByteArray *frames, qsizetype count)
{
    if (m_fd < 0 || m_writeBroken)
        return;
    // Straight to the socket only while nothing waits: otherwise after it, in order.
    if (m_pendingHead < m_pending.size()) {
        for (qsizetype i = 0; i < count; ++i) {
            m_pending.append(frames[i]);
            m_unsent += frames[i].size();
        }
        return;
    }
    qsizetype first = 0;
    qsizetype offset = 0;
    if (!sendFrames(m_fd, frames, count, first, offset)) {
        m_writeBroken = true; // reading finds out and ends the connection (epoll reports it)
        return;
    }
    if (first == count)
        return;
    m_pending.clear();
    m_pendingHead = 0;
    m_pendingOffset = offset;
    m_unsent = -offset;
    for (qsizetype i = first; i < count; ++i) {
        m_pending.append(frames[i]);
        m_unsent += frames[i].size();
    }
    wantWrite(true);
}

void LiveSocket::writeReady()
{
    qsizetype first = m_pendingHead;
    qsizetype offset = m_pendingOffset;
    bool wrote = false;
    if (!m_writeBroken
        && sendFrames(m_fd, m_pending.constData(), m_pending.size(), first, offset)) {
        qint64 written = offset - m_pendingOffset;
        for (qsizetype i = m_pendingHead; i < first; ++i)
            written += m_pending[i].size();
        m_unsent -= written;
        m_pendingHead = first;
        m_pendingOffset = offset;
        wrote = written > 0;
    } else {
        // Broken: what waits can no longer go anywhere.
        m_writeBroken = true;
        m_pendingHead = m_pending.size();
        m_unsent = 0;
    }
    if (m_pendingHead == m_pending.size()) {
        m_pending.clear();
        m_pendingHead = 0;
        m_pendingOffset = 0;
        wantWrite(false);
    } else if (m_pendingHead > 1024 && m_pendingHead * 2 > m_pending.size()) {
        m_pending.remove(0, m_pendingHead);
        m_pendingHead = 0;
    }
    if (wrote && m_handlers.drained)
        m_handlers.drained();
    progressClose();
}

void LiveSocket::close(int code, const QByteArray &reason)
{
    if (m_fd < 0 || m_closeQueued || !m_context)
        return;
    m_closeQueued = true;
    wslay_event_queue_close(m_context, std::uint16_t(code),
        reinterpret_cast<const std::uint8_t *>(reason.constData()), size_t(reason.size()));
    // Inside a read, readReady() sends it once libwslay is done.
    if (!m_inReceive) {
        sendControl();
        progressClose();
    }
}

void LiveSocket::abort()
{
    finish(false);
}

bool LiveSocket::setReadLowWater(int bytes)
{
    return m_fd >= 0 && ::setsockopt(m_fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes) == 0;
}

int LiveSocket::closeCodeSent() const
{
    return m_context && wslay_event_get_close_sent(m_context) != 0
        ? wslay_event_get_status_code_sent(m_context)
        : 0;
}

void LiveSocket::sendControl()
{
    if (m_fd < 0 || !m_context || wslay_event_want_write(m_context) == 0)
        return;
    if (wslay_event_send(m_context) != 0)
        m_writeBroken = true;
}

void LiveSocket::progressClose()
{
    if (m_fd < 0 || !m_context || wslay_event_get_close_sent(m_context) == 0 || m_unsent > 0)
        return;
    // Both closes done (or the write side broke): over. Otherwise our close is out, the peer's
    // is awaited; the half-close tells a peer that reads no frames as much.
    if (wslay_event_get_close_received(m_context) != 0 || m_writeBroken) {
        finish(true);
        return;
    }
    if (!std::exchange(m_halfClosed, true))
        ::shutdown(m_fd, SHUT_WR);
}

void LiveSocket::wantWrite(bool on)
{
    if (m_watchingWrites == on)
        return;
    m_watchingWrites = on;
    if (m_epollFd < 0 || m_fd < 0)
        return;
    epoll_event event{};
    event.events = EPOLLIN | (on ? std::uint32_t(EPOLLOUT) : 0U);
    event.data.u64 = m_key;
    ::epoll_ctl(m_epollFd, EPOLL_CTL_MOD, m_fd, &event);
}

void LiveSocket::finish(bool report)
{
    if (m_fd < 0)
        return;
    if (m_epollFd >= 0)
        ::epoll_ctl(m_epollFd, EPOLL_CTL_DEL, m_fd, nullptr);
    ::close(m_fd);
    m_fd = -1;
    m_pending.clear();
    m_pendingHead = 0;
    m_pendingOffset = 0;
    m_unsent = 0;
    if (report && m_handlers.closed)
        m_handlers.closed();
}

} // namespace streams
