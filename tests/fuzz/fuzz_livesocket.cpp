// libFuzzer target: a LiveSocket (the engine's reader of live websockets, on libwslay) fed
// arbitrary bytes by a peer through a real socket pair, a few bytes or a few hundred at a time,
// with some of them already read before it starts (as after a handshake). It must never crash,
// never hand on a message over its limit, answer whatever it is sent with frames of its own, and
// end cleanly however the peer behaves.
//
// The first byte picks the mode and the second the size of each write. Raw mode sends the rest
// as it is. Frame mode reads the rest as frames to build (a flags byte: FIN, RSV and opcode; a
// length byte: mask bit and 0-125, or 126 for a 16-bit length; the mask key; the payload), so
// that short inputs reach fragments, control frames and closes, which random bytes rarely do:
// libwslay is a Debian library, not instrumented, so it gives no coverage to follow.
#include "require.h"
#include "server/livesocket.h"

#include <QByteArray>
#include <QList>
#include <array>
#include <cstdint>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

using streams::LiveSocket;

namespace {
constexpr qint64 kMaxMessageBytes = 1024;

QByteArray framesFrom(const uint8_t *data, size_t size)
{
    QByteArray out;
    size_t at = 0;
    while (at + 2 <= size) {
        const uint8_t flags = data[at++];
        const uint8_t lengthByte = data[at++];
        const bool masked = (lengthByte & 0x80) != 0;
        size_t length = lengthByte & 0x7f;
        out.append(char(flags));
        if (length == 127)
            length = 126; // 64-bit lengths are refused on their own; not worth the bytes
        if (length == 126) {
            if (at + 2 > size)
                break;
            length = (size_t(data[at]) << 8) | data[at + 1];
            at += 2;
            out.append(char(lengthByte & 0xfe)).append(char(length >> 8)).append(char(length));
        } else {
            out.append(char(lengthByte));
        }
        std::array<uint8_t, 4> key{};
        if (masked) {
            for (uint8_t &k : key)
                k = at < size ? data[at++] : 0;
            out.append(reinterpret_cast<const char *>(key.data()), 4);
        }
        for (size_t i = 0; i < length; ++i)
            out.append(char((at < size ? data[at++] : 0) ^ key[i % 4]));
    }
    return out;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const bool frameMode = (data[0] & 1) != 0;
    const bool alreadyReadSome = (data[0] & 2) != 0;
    const bool peerHalfCloses = (data[0] & 4) != 0;
    // At most kRounds reads: the last takes whatever is left (a run costs system calls per read).
    constexpr int kRounds = 8;
    const size_t chunk = size_t(data[1]) + 1;
    const QByteArray input = frameMode
        ? framesFrom(data + 2, size - 2)
        : QByteArray(reinterpret_cast<const char *>(data + 2), qsizetype(size - 2));

    std::array<int, 2> ends{};
    require(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends.data()) == 0,
        "a socket pair");
    const int peer = ends[1];

    qsizetype sent = 0;
    QByteArray early;
    if (alreadyReadSome) {
        early = input.first(std::min(input.size(), qsizetype(chunk)));
        sent = early.size();
    }
    bool closed = false;
    int messages = 0;
    {
        LiveSocket socket(ends[0], early, kMaxMessageBytes);
        socket.setHandlers({
            .binaryMessage =
                [&](const QByteArray &message) {
                    require(message.size() <= kMaxMessageBytes, "no message over the limit");
                    require(!closed, "nothing after the end");
                    // Answered as the engine answers a request: one frame back.
                    QByteArray frame;
                    frame.append(char(0x82)).append(char(std::min<qsizetype>(message.size(), 125)));
                    frame.append(message.first(std::min<qsizetype>(message.size(), 125)));
                    socket.write({frame});
                    if (++messages == 3)
                        socket.close(1000, "enough");
                },
            .textMessage = [&] { socket.close(1003, "binary frames only"); },
            .drained = [] {},
            .closed = [&] { closed = true; },
        });
        std::array<char, 65536> sink{};
        for (int round = 0; round <= kRounds && socket.isOpen(); ++round) {
            if (sent < input.size()) {
                const qsizetype piece = round == kRounds - 1
                    ? input.size() - sent
                    : std::min(input.size() - sent, qsizetype(chunk));
                const ssize_t written = ::send(peer, input.constData() + sent, size_t(piece), 0);
                if (written > 0)
                    sent += written;
            } else if (peerHalfCloses) {
                ::shutdown(peer, SHUT_WR);
            } else {
                break;
            }
            socket.onEvents(EPOLLIN | EPOLLOUT);
            while (::recv(peer, sink.data(), sink.size(), 0) > 0) { }
            require(socket.unsentBytes() >= 0, "unsent bytes are counted");
        }
        require(socket.isOpen() != closed, "closed() exactly when the socket ends");
        const int code = socket.closeCodeSent();
        require(code == 0 || (code >= 1000 && code < 5000), "a close code of the protocol");
    }
    ::close(peer);
    return 0;
}
