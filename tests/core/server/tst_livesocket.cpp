// LiveSocket against a peer on a real socket pair: the bytes a client sends (masked frames, cut
// anywhere), what comes back (pongs, closes, frames in order after a full socket), and how the
// connection ends whichever side ends it.
#include "server/livesocket.h"

#include <QtTest>
#include <array>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

using streams::LiveSocket;

namespace {
constexpr qint64 kLimit = 1024;

/// One masked client frame (RFC 6455 §5.2), FIN set unless `final` is false.
QByteArray clientFrame(
    quint8 opcode, const QByteArray &payload, bool final = true, bool masked = true)
{
    QByteArray out;
    out.append(char((final ? 0x80 : 0) | opcode));
    const quint8 maskBit = masked ? 0x80 : 0;
    if (payload.size() < 126) {
        out.append(char(maskBit | payload.size()));
    } else {
        out.append(char(maskBit | 126));
        out.append(char(payload.size() >> 8)).append(char(payload.size() & 0xff));
    }
    const std::array<char, 4> key{'\x1f', '\x2e', '\x3d', '\x4c'};
    if (masked)
        out.append(key.data(), 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        out.append(char(payload[i] ^ (masked ? key[size_t(i % 4)] : 0)));
    return out;
}

/// One unmasked server frame, as the engine writes them.
QByteArray serverFrame(const QByteArray &payload)
{
    QByteArray out;
    out.append(char(0x82)).append(char(payload.size()));
    return out + payload;
}

struct ServerFrame
{
    quint8 opcode = 0;
    QByteArray payload;
};

/// The frames in what the server wrote (unmasked, lengths up to 16 bits).
QList<ServerFrame> parseServerFrames(const QByteArray &bytes)
{
    QList<ServerFrame> frames;
    qsizetype at = 0;
    while (at + 2 <= bytes.size()) {
        const quint8 opcode = quint8(bytes[at]) & 0x0f;
        qsizetype length = quint8(bytes[at + 1]) & 0x7f;
        at += 2;
        if (length == 126) {
            length = (qsizetype(quint8(bytes[at])) << 8) | quint8(bytes[at + 1]);
            at += 2;
        }
        frames.append({opcode, bytes.mid(at, length)});
        at += length;
    }
    return frames;
}

quint16 closeCodeOf(const ServerFrame &frame)
{
    return frame.payload.size() < 2
        ? 0
        : quint16((quint8(frame.payload[0]) << 8) | quint8(frame.payload[1]));
}
} // namespace

class TestLiveSocket : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void messagesArriveWholeHoweverTheBytesAreCut_data();
    void messagesArriveWholeHoweverTheBytesAreCut();
    void bytesReadBeforeComeFirst();
    void pingsAreAnswered();
    void textMessagesAreReported();
    void peerCloseIsAnsweredAndEnds();
    void peerGoingAwayEnds();
    void refusedInput_data();
    void refusedInput();
    void framesWaitInOrderWhileTheSocketIsFull();
    void closeGoesAfterWhatWaitsAndHalfCloses();
    void nothingIsWrittenAfterClose();
    void epollWatchesWritesOnlyWhileSomethingWaits();

private:
    /// Writes `bytes` as the client would.
    void peerSends(const QByteArray &bytes);
    /// Everything the server wrote so far.
    QByteArray peerReads();
    /// The server half-closed, and the peer has read everything before it.
    bool peerSeesEnd() const
    {
        char byte = 0;
        return ::recv(m_peer, &byte, 1, MSG_PEEK) == 0;
    }
    void serve() { m_socket->onEvents(EPOLLIN | EPOLLOUT); }
    void makeSocket(const QByteArray &alreadyRead = {});

    int m_peer = -1;
    int m_server = -1;
    std::unique_ptr<LiveSocket> m_socket;
    QList<QByteArray> m_messages;
    int m_texts = 0;
    int m_drained = 0;
    int m_closed = 0;
};

void TestLiveSocket::init()
{
    std::array<int, 2> ends{};
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends.data()), 0);
    m_server = ends[0];
    m_peer = ends[1];
    m_messages.clear();
    m_texts = m_drained = m_closed = 0;
}

void TestLiveSocket::cleanup()
{
    m_socket.reset();
    if (m_peer >= 0)
        ::close(m_peer);
    m_peer = -1;
}

void TestLiveSocket::makeSocket(const QByteArray &alreadyRead)
{
    m_socket = std::make_unique<LiveSocket>(m_server, alreadyRead, kLimit);
    m_socket->setHandlers({
        .binaryMessage = [this](const QByteArray &message) { m_messages.append(message); },
        .textMessage = [this] { ++m_texts; },
        .drained = [this] { ++m_drained; },
        .closed = [this] { ++m_closed; },
    });
}

void TestLiveSocket::peerSends(const QByteArray &bytes)
{
    QCOMPARE(::send(m_peer, bytes.constData(), size_t(bytes.size()), 0), ssize_t(bytes.size()));
}

QByteArray TestLiveSocket::peerReads()
{
    QByteArray all;
    std::array<char, 65536> buffer{};
    for (;;) {
        const ssize_t got = ::recv(m_peer, buffer.data(), buffer.size(), 0);
        if (got <= 0)
            return all;
        all.append(buffer.data(), got);
    }
}

void TestLiveSocket::messagesArriveWholeHoweverTheBytesAreCut_data()
{
    QTest::addColumn<int>("piece");
    QTest::newRow("a byte at a time") << 1;
    QTest::newRow("7 bytes") << 7;
    QTest::newRow("all at once") << 100000;
}

void TestLiveSocket::messagesArriveWholeHoweverTheBytesAreCut()
{
    QFETCH(int, piece);
    makeSocket();
    const QByteArray big(600, 'b');
    // A message in three fragments with a ping between them, then two whole messages.
    const QByteArray bytes = clientFrame(0x2, "one-", false) + clientFrame(0x9, "p")
        + clientFrame(0x0, "two-", false) + clientFrame(0x0, "three") + clientFrame(0x2, big)
        + clientFrame(0x2, {});
    for (qsizetype at = 0; at < bytes.size(); at += piece) {
        peerSends(bytes.mid(at, piece));
        serve();
    }
    QCOMPARE(m_messages, (QList<QByteArray>{"one-two-three", big, {}}));
    QVERIFY(m_socket->isOpen());
    QCOMPARE(m_closed, 0);
}

void TestLiveSocket::bytesReadBeforeComeFirst()
{
    // What Qt's socket had read past the handshake: half a frame, finished on the socket.
    const QByteArray bytes = clientFrame(0x2, "first") + clientFrame(0x2, "second");
    const qsizetype cut = clientFrame(0x2, "first").size() + 3;
    makeSocket(bytes.first(cut));
    const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
    QVERIFY(m_socket->watchWith(epoll, 7));
    QCOMPARE(m_messages, QList<QByteArray>{"first"});
    peerSends(bytes.sliced(cut));
    std::array<epoll_event, 4> events{};
    QCOMPARE(::epoll_wait(epoll, events.data(), 4, 1000), 1);
    QCOMPARE(events[0].data.u64, quint64(7));
    m_socket->onEvents(events[0].events);
    QCOMPARE(m_messages, (QList<QByteArray>{"first", "second"}));
    m_socket.reset();
    ::close(epoll);
}

void TestLiveSocket::pingsAreAnswered()
{
    makeSocket();
    peerSends(clientFrame(0x9, "are you there"));
    serve();
    const auto frames = parseServerFrames(peerReads());
    QCOMPARE(frames.size(), 1);
    QCOMPARE(frames[0].opcode, quint8(0xa));
    QCOMPARE(frames[0].payload, QByteArray("are you there"));
    QVERIFY(m_messages.isEmpty());
}

void TestLiveSocket::textMessagesAreReported()
{
    makeSocket();
    peerSends(clientFrame(0x1, "{\"a\":1}"));
    serve();
    QCOMPARE(m_texts, 1);
    QVERIFY(m_messages.isEmpty());
}

void TestLiveSocket::peerCloseIsAnsweredAndEnds()
{
    makeSocket();
    peerSends(clientFrame(0x2, "last") + clientFrame(0x8, QByteArray("\x03\xe8", 2) + "bye"));
    serve();
    QCOMPARE(m_messages, QList<QByteArray>{"last"});
    const auto frames = parseServerFrames(peerReads());
    QCOMPARE(frames.size(), 1);
    QCOMPARE(frames[0].opcode, quint8(0x8));
    QCOMPARE(closeCodeOf(frames[0]), quint16(1000));
    QCOMPARE(m_closed, 1);
    QVERIFY(!m_socket->isOpen());
}

void TestLiveSocket::peerGoingAwayEnds()
{
    makeSocket();
    peerSends(clientFrame(0x2, "half", false).first(5));
    ::close(std::exchange(m_peer, -1));
    // The short read ends the first turn; epoll, level-triggered, reports the end next.
    serve();
    serve();
    QCOMPARE(m_closed, 1);
    QVERIFY(!m_socket->isOpen());
    QVERIFY(m_messages.isEmpty());
}

void TestLiveSocket::refusedInput_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("code");
    QTest::addColumn<int>("codeInFrame"); // 0: a close frame without a code
    QTest::newRow("a message over the limit")
        << clientFrame(0x2, QByteArray(kLimit / 2 + 1, 'x'), false)
            + clientFrame(0x0, QByteArray(kLimit / 2 + 1, 'y'))
        << 1009 << 1009;
    QTest::newRow("an unmasked frame") << clientFrame(0x2, "plain", true, false) << 1002 << 1002;
    QTest::newRow("a reserved bit")
        << QByteArray(1, char(0xc2)) + clientFrame(0x2, "r").sliced(1) << 1002 << 1002;
    QTest::newRow("a continuation out of nowhere") << clientFrame(0x0, "c") << 1002 << 1002;
    QTest::newRow("text that is not UTF-8") << clientFrame(0x1, "\xff\xfe") << 1007 << 1007;
    // Refused by libwslay's frame layer, which closes without a code (1005: none received).
    QTest::newRow("a fragmented ping") << clientFrame(0x9, "p", false) << 1005 << 0;
}

void TestLiveSocket::refusedInput()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, code);
    QFETCH(int, codeInFrame);
    makeSocket();
    peerSends(bytes + clientFrame(0x2, "after"));
    serve();
    QVERIFY(m_messages.isEmpty());
    QCOMPARE(m_socket->closeCodeSent(), code);
    const auto frames = parseServerFrames(peerReads());
    QVERIFY(!frames.isEmpty());
    QCOMPARE(frames.constLast().opcode, quint8(0x8));
    QCOMPARE(closeCodeOf(frames.constLast()), quint16(codeInFrame));
    // Half-closed: the peer reads the end after the close, and its own close ends it all.
    QVERIFY(peerSeesEnd());
    QVERIFY(m_socket->isOpen());
    ::shutdown(m_peer, SHUT_WR);
    serve();
    QCOMPARE(m_closed, 1);
}

void TestLiveSocket::framesWaitInOrderWhileTheSocketIsFull()
{
    makeSocket();
    QList<QByteArray> frames;
    QByteArray expected;
    for (int i = 0; i < 20000; ++i) {
        frames.append(serverFrame(QByteArray::number(i).rightJustified(100, '.')));
        expected += frames.constLast();
    }
    m_socket->write(frames);
    QVERIFY2(m_socket->unsentBytes() > 0, "a socket pair takes less than 2 MB at once");
    // Written while others wait: it goes after them.
    m_socket->write({serverFrame("tail")});
    expected += serverFrame("tail");
    QByteArray received;
    for (int round = 0; round < 10000 && received.size() < expected.size(); ++round) {
        received += peerReads();
        serve();
    }
    received += peerReads();
    QCOMPARE(received.size(), expected.size());
    QVERIFY(received == expected);
    QCOMPARE(m_socket->unsentBytes(), 0);
    QVERIFY(m_drained > 0);
}

void TestLiveSocket::closeGoesAfterWhatWaitsAndHalfCloses()
{
    makeSocket();
    QList<QByteArray> frames;
    for (int i = 0; i < 20000; ++i)
        frames.append(serverFrame(QByteArray(100, 'm')));
    m_socket->write(frames);
    QVERIFY(m_socket->unsentBytes() > 0);
    m_socket->close(1008, "too slow");
    QByteArray received;
    for (int round = 0; round < 10000; ++round) {
        received += peerReads();
        serve();
        if (m_socket->unsentBytes() == 0 && peerSeesEnd())
            break;
    }
    received += peerReads();
    const auto parsed = parseServerFrames(received);
    QCOMPARE(parsed.size(), frames.size() + 1);
    QCOMPARE(parsed.constLast().opcode, quint8(0x8));
    QCOMPARE(closeCodeOf(parsed.constLast()), quint16(1008));
    QCOMPARE(parsed.constLast().payload.sliced(2), QByteArray("too slow"));
    QVERIFY(peerSeesEnd()); // half-closed after it
    QCOMPARE(m_closed, 0);
    peerSends(clientFrame(0x8, QByteArray("\x03\xf0", 2)));
    serve();
    QCOMPARE(m_closed, 1);
}

void TestLiveSocket::nothingIsWrittenAfterClose()
{
    makeSocket();
    m_socket->close(1000, {});
    m_socket->write({serverFrame("late")});
    const auto frames = parseServerFrames(peerReads());
    QCOMPARE(frames.size(), 1);
    QCOMPARE(frames[0].opcode, quint8(0x8));
    // Messages the peer sent meanwhile are not handed on.
    peerSends(clientFrame(0x2, "meanwhile"));
    serve();
    QVERIFY(m_messages.isEmpty());
}

void TestLiveSocket::epollWatchesWritesOnlyWhileSomethingWaits()
{
    makeSocket();
    const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
    QVERIFY(m_socket->watchWith(epoll, 1));
    std::array<epoll_event, 4> events{};
    QCOMPARE(::epoll_wait(epoll, events.data(), 4, 0), 0); // writable, but nothing waits
    QList<QByteArray> frames(20000, serverFrame(QByteArray(100, 'w')));
    m_socket->write(frames);
    QVERIFY(m_socket->unsentBytes() > 0);
    peerReads();
    QCOMPARE(::epoll_wait(epoll, events.data(), 4, 1000), 1);
    QVERIFY((events[0].events & EPOLLOUT) != 0);
    while (m_socket->unsentBytes() > 0) {
        m_socket->onEvents(EPOLLOUT);
        peerReads();
    }
    QCOMPARE(::epoll_wait(epoll, events.data(), 4, 0), 0);
    m_socket.reset(); // leaves the set and closes its descriptor
    ::close(epoll);
}

QTEST_GUILESS_MAIN(TestLiveSocket)
#include "tst_livesocket.moc"
