// The streams-engine binary facing clients that misbehave at the socket level: subscribers that
// stop reading, and connections dropped in the middle of everything.

#include "api/sid.h"
#include "engineprocess.h"
#include "processfigures.h"
#include "rawclients.h"
#include "twilsock/accesstoken.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <memory>

using namespace streams;
using namespace streams::testing;

namespace {
// Under `ctest --preset asan` (STREAMS_SANITIZERS set) the engine's resident memory says nothing
// about leaks: AddressSanitizer's quarantine keeps freed blocks resident on purpose. There,
// LeakSanitizer checks the engine at exit instead, and the RSS bounds are only reported.
bool underSanitizers()
{
    const bool on = !qEnvironmentVariableIsEmpty("STREAMS_SANITIZERS");
    if (on)
        qInfo("RSS bound not checked under sanitizers (ASan's quarantine keeps freed memory)");
    return on;
}
} // namespace
using twilsock::AccessToken;
using twilsock::AccessTokenClaims;
using twilsock::Frame;

namespace {

QString str(const char *text)
{
    return QString::fromLatin1(text);
}

/// Publishes to one stream over one keep-alive connection, one request at a time, as fast as
/// the engine answers, driven by the event loop (so subscribers in this process keep reading).
class Publisher final
{
    Q_DISABLE_COPY_MOVE(Publisher)

public:
    Publisher(quint16 port, QByteArray authorization, const QString &streamSid, int payloadBytes)
        : m_port(port),
          m_authorization(std::move(authorization)),
          m_target("/v1/Services/default/Streams/" + streamSid.toLatin1() + "/Messages"),
          m_padding(payloadBytes, 'x')
    {
        QObject::connect(&m_socket, &QTcpSocket::readyRead, &m_socket, [this] { onReadyRead(); });
        m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    }

    bool waitConnected()
    {
        return waitUntil(
            [this] { return m_socket.state() == QAbstractSocket::ConnectedState; }, 10000);
    }
    void start()
    {
        m_running = true;
        sendNext();
    }
    /// Stops after the request in flight; true once it has been answered.
    bool stop()
    {
        m_running = false;
        return waitUntil([this] { return !m_inFlight; }, 15000);
    }

    const QStringList &sids() const { return m_sids; }
    const QList<qint64> &latenciesMs() const { return m_latencies; }
    int failures() const { return m_failures; }

private:
    void sendNext()
    {
        // Distinct, ordered, and about payloadBytes of JSON each.
        const QByteArray data =
            R"({"n":)" + QByteArray::number(m_sids.size()) + R"(,"pad":")" + m_padding + "\"}";
        m_clock.start();
        m_inFlight = true;
        m_socket.write(httpRequest(
            m_port, "POST", m_target, m_authorization, "Data=" + data.toPercentEncoding()));
    }

    void onReadyRead()
    {
        m_buffer += m_socket.readAll();
        HttpResponse response;
        while (takeResponse(m_buffer, response)) {
            m_latencies.append(m_clock.elapsed());
            m_inFlight = false;
            if (response.status == 201)
                m_sids.append(response.json().value(str("sid")).toString());
            else
                ++m_failures;
            if (m_running)
                sendNext();
        }
    }

    QTcpSocket m_socket;
    quint16 m_port;
    QByteArray m_authorization;
    QByteArray m_target;
    QByteArray m_padding;
    QByteArray m_buffer;
    QElapsedTimer m_clock;
    bool m_running = false;
    bool m_inFlight = false;
    QStringList m_sids;
    QList<qint64> m_latencies;
    int m_failures = 0;
};

qint64 percentile(QList<qint64> values, double p)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    return values.at(qMin(values.size() - 1, qsizetype(p * double(values.size()))));
}

} // namespace

class TestEngineFaults final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void limitOptionsAreChecked_data();
    void limitOptionsAreChecked();
    void slowSubscribersAreClosedWithoutSlowingAnyoneElse();
    void requestsWhoseRepliesAreNeverReadAreCut();
    void droppedConnectionsLeaveNothingBehind();

private:
    QByteArray token(const EngineProcess &engine, const QString &identity) const;
    QString createStream(const EngineProcess &engine, const QByteArray &uniqueName);
};

QByteArray TestEngineFaults::token(const EngineProcess &engine, const QString &identity) const
{
    AccessTokenClaims claims;
    claims.apiKeySid = engine.apiKeySid();
    claims.accountSid = engine.accountSid();
    claims.identity = identity;
    claims.issuedAt = QDateTime::currentSecsSinceEpoch();
    claims.expiresAt = claims.issuedAt + 3600;
    return AccessToken::mint(claims, engine.apiKeySecret().toUtf8());
}

QString TestEngineFaults::createStream(const EngineProcess &engine, const QByteArray &uniqueName)
{
    const HttpResponse created = httpExchange(engine.port(), "POST", "/v1/Services/default/Streams",
        engine.authorization(), "UniqueName=" + uniqueName);
    return created.status == 201 ? created.json().value(str("sid")).toString() : QString();
}

void TestEngineFaults::limitOptionsAreChecked_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("complaint");
    QTest::addRow("buffer not a number") << QStringList{str("--subscriber-buffer"), str("lots")}
                                         << QByteArray("--subscriber-buffer: 'lots'");
    QTest::addRow("buffer too small")
        << QStringList{str("--subscriber-buffer"), str("8")} << QByteArray("from 16 to");
    QTest::addRow("timeout zero") << QStringList{str("--slow-subscriber-timeout"), str("0")}
                                  << QByteArray("--slow-subscriber-timeout: '0'");
    QTest::addRow("queue fractional")
        << QStringList{str("--subscriber-queue"), str("2.5")} << QByteArray("a whole number");
    QTest::addRow("io threads negative")
        << QStringList{str("--io-threads"), str("-1")} << QByteArray("--io-threads: '-1'");
    QTest::addRow("io threads too many")
        << QStringList{str("--io-threads"), str("1000")} << QByteArray("from 0 to 256");
}

void TestEngineFaults::limitOptionsAreChecked()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, complaint);
    QTemporaryDir dir;
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(EngineProcess::binary(),
        QStringList{str("--listen"), str("127.0.0.1:0"), str("--data-dir"), dir.path()}
            + arguments);
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 2);
    const QByteArray output = process.readAll();
    QVERIFY2(output.contains(complaint), output.constData());

    process.start(EngineProcess::binary(), {str("--help")});
    QVERIFY(process.waitForFinished(10000));
    const QByteArray help = process.readAll();
    for (const char *option :
        {"--subscriber-buffer", "--slow-subscriber-timeout", "--subscriber-queue", "--io-threads"})
        QVERIFY2(help.contains(option), option);
}

void TestEngineFaults::slowSubscribersAreClosedWithoutSlowingAnyoneElse()
{
    // Short limits so the test is quick: 2 s above 256 KiB unsent, 200 queued messages.
    EngineProcess engine;
    QVERIFY2(engine.start({str("--publish-rate"), str("unlimited"),
                 str("--slow-subscriber-timeout"), str("2"), str("--subscriber-buffer"), str("256"),
                 str("--subscriber-queue"), str("200")}),
        engine.output().constData());
    const qint64 pid = engine.process().processId();
    const QString streamSid = createStream(engine, "firehose");
    QVERIFY(sid::isValid(streamSid, SidKind::Stream));
    const qint64 residentBefore = residentKib(pid);

    // One subscriber that keeps up, one that pauses and resumes after it has been closed, and
    // one that never reads again. The slow ones have tiny kernel buffers, so the engine's own
    // buffering is what fills.
    RawWebSocket normal;
    RawWebSocket slow(loopbackSource(5, 1), 4096);
    RawWebSocket deaf(loopbackSource(5, 2), 4096);
    for (RawWebSocket *client : {&normal, &slow, &deaf}) {
        client->keepMessageFrames(false); // thousands of messages: their SIDs are enough
        QVERIFY(client->connectTo(engine.port()));
        QVERIFY(client->upgrade());
        const auto ready = client->init(token(engine, str("reader")));
        QVERIFY(ready);
        QCOMPARE(ready->header.value(str("status")).toObject().value(str("code")).toInt(), 200);
        QVERIFY(client->subscribe(streamSid));
    }
    slow.pauseReading();
    deaf.pauseReading();
    const QList<std::pair<QHostAddress, quint16>> slowEnds{
        {slow.socket().localAddress(), slow.socket().localPort()},
        {deaf.socket().localAddress(), deaf.socket().localPort()}};

    Publisher publisher(engine.port(), engine.authorization(), streamSid, 3000);
    QVERIFY(publisher.waitConnected());

    const auto closedLine = [&](RawWebSocket &client) {
        return QStringLiteral("from %1:%2 closed: too slow")
            .arg(client.socket().localAddress().toString())
            .arg(client.socket().localPort())
            .toLatin1();
    };
    QElapsedTimer clock;
    clock.start();
    publisher.start();
    // (The event loop serves the publisher and the keeping-up subscriber meanwhile.)
    QVERIFY2(waitUntil(
                 [&] {
                     const QByteArray output = engine.output();
                     return output.contains(closedLine(slow)) && output.contains(closedLine(deaf));
                 },
                 40000),
        engine.output().constData());
    const qint64 closedAfterMs = clock.elapsed();
    const qsizetype publishedWhenClosed = publisher.sids().size();

    // The slow one reads again: what was queued for it, then twilsock's close, then the
    // websocket close, then the end of the connection.
    slow.resumeReading();
    const auto close = slow.waitFor([](const Frame &f) { return f.method() == u"close"; }, 20000);
    QVERIFY2(close,
        qPrintable(QStringLiteral("received %1 bytes, %2 messages, closed %3")
                       .arg(slow.bytesReceived())
                       .arg(slow.messageSids().size())
                       .arg(slow.isClosedByServer())));
    const QJsonObject status = close->header.value(str("status")).toObject();
    QCOMPARE(status.value(str("code")).toInt(), 429);
    QCOMPARE(status.value(str("status")).toString(), str("TOO_SLOW"));
    QVERIFY(waitUntil([&] { return slow.closeCode().has_value(); }, 10000));
    QCOMPARE(int(*slow.closeCode()), 1008);
    QVERIFY2(slow.closeReason().startsWith("too slow"), slow.closeReason().constData());
    QVERIFY(waitUntil([&] { return slow.isClosedByServer(); }, 10000));
    // Bounded: the engine held back what did not fit instead of queueing without end.
    QVERIFY2(slow.bytesReceived() < 8 * 1024 * 1024, QByteArray::number(slow.bytesReceived()));

    // Keep publishing a little after both are gone (a hundred more messages); then the
    // keeping-up subscriber must have every message, in order.
    const qsizetype publishedWhenGone = publisher.sids().size();
    QVERIFY(waitUntil([&] { return publisher.sids().size() >= publishedWhenGone + 100; }, 20000));
    QVERIFY(publisher.stop());
    QCOMPARE(publisher.failures(), 0);
    QVERIFY(
        waitUntil([&] { return normal.messageSids().size() >= publisher.sids().size(); }, 30000));
    QVERIFY(normal.messageSids() == publisher.sids());
    QVERIFY(!normal.isClosedByServer());

    // The one that never reads is dropped once the close grace (5 s) has passed: the engine
    // holds a connection to neither (what the kernel still buffers for them is its own).
    for (const auto &[address, port] : slowEnds)
        QTRY_VERIFY_WITH_TIMEOUT(!holdsConnectionTo(pid, address, port), 20000);
    QVERIFY(holdsConnectionTo(
        pid, normal.socket().localAddress(), normal.socket().localPort())); // the check works

    const QList<qint64> latencies = publisher.latenciesMs();
    const qint64 peakGrowthKib = peakResidentKib(pid) - residentBefore;
    qInfo("published %lld messages of ~3 KB (%lld before the slow subscribers were closed, "
          "%lld ms after the start); publish latency p50 %lld ms, p99 %lld ms, max %lld ms; "
          "engine peak RSS growth %lld KiB; the slow subscriber received %lld bytes",
        qint64(publisher.sids().size()), qint64(publishedWhenClosed), closedAfterMs,
        percentile(latencies, 0.5), percentile(latencies, 0.99), percentile(latencies, 1.0),
        peakGrowthKib, slow.bytesReceived());
    // The publisher never waited on the slow subscribers: a blocked write would show as a
    // publish taking the whole stall timeout (2 s) or more.
    QVERIFY2(percentile(latencies, 1.0) < 1500, "a publish waited on a slow subscriber");
    // Both stalled subscribers lost their oldest messages rather than queueing them all...
    static const QRegularExpression droppedCount(QStringLiteral("dropped (\\d+) messages"));
    auto drops = droppedCount.globalMatch(QString::fromUtf8(engine.output()));
    int stalledWithDrops = 0;
    while (drops.hasNext())
        stalledWithDrops += drops.next().captured(1).toLongLong() > 0 ? 1 : 0;
    QCOMPARE(stalledWithDrops, 2);
    // ...so the engine's memory stayed bounded: two queues of 200 messages, 256 KiB of
    // socket buffer each, and the working set of the publisher and the keeping-up reader.
    if (!underSanitizers())
        QVERIFY2(peakGrowthKib < 16 * 1024, QByteArray::number(peakGrowthKib));
}

void TestEngineFaults::requestsWhoseRepliesAreNeverReadAreCut()
{
    // Replies are not held back like notifications (the client asked for them), so a client
    // that keeps asking and never reads meets the hard limit: eight times --subscriber-buffer
    // unsent closes it at once, long before the (here very long) stall timeout.
    EngineProcess engine;
    QVERIFY2(engine.start({str("--subscriber-buffer"), str("64"), str("--slow-subscriber-timeout"),
                 str("600")}),
        engine.output().constData());
    const qint64 pid = engine.process().processId();
    const QString streamSid = createStream(engine, "asked-for");
    QVERIFY(sid::isValid(streamSid, SidKind::Stream));

    RawWebSocket greedy(loopbackSource(6, 1), 4096);
    QVERIFY(greedy.connectTo(engine.port()));
    QVERIFY(greedy.upgrade());
    QVERIFY(greedy.init(token(engine, str("greedy"))));
    const quint16 port = greedy.socket().localPort();
    greedy.pauseReading();
    const QJsonObject fetch{{str("method"), str("message")},
        {str("http_request"),
            QJsonObject{{str("host"), QStringLiteral("127.0.0.1:%1").arg(engine.port())},
                {str("method"), str("GET")}, {str("path"), str("/v3/Streams/") + streamSid}}}};
    const QByteArray closedLine = QStringLiteral("from %1:%2 closed: too slow (")
                                      .arg(greedy.socket().localAddress().toString())
                                      .arg(port)
                                      .toLatin1();
    int sent = 0;
    QVERIFY2(waitUntil(
                 [&] {
                     // A few hundred requests per round, while the engine keeps up reading them.
                     for (int i = 0; i < 200 && greedy.socket().bytesToWrite() < 256 * 1024;
                          ++i, ++sent)
                         greedy.send(fetch);
                     return engine.output().contains(closedLine);
                 },
                 30000),
        qPrintable(QStringLiteral("%1 requests sent").arg(sent)));
    const QByteArray output = engine.output();
    const QByteArray line = output.mid(output.indexOf(closedLine), 200);
    QVERIFY2(line.contains("bytes unsent"), line.constData());
    // Gone from the engine once its socket drained into the kernel or the close grace passed.
    QVERIFY(waitUntil([&] { return !holdsConnectionTo(pid, loopbackSource(6, 1), port); }, 20000));
    qInfo(
        "closed after %d unanswered requests: %s", sent, line.left(line.indexOf('\n')).constData());
}

void TestEngineFaults::droppedConnectionsLeaveNothingBehind()
{
    EngineProcess engine;
    QVERIFY2(engine.start({str("--publish-rate"), str("unlimited")}), engine.output().constData());
    const qint64 pid = engine.process().processId();
    const QString streamSid = createStream(engine, "churn");
    QVERIFY(sid::isValid(streamSid, SidKind::Stream));
    const QByteArray jwt = token(engine, str("churner"));
    const QByteArray fetch =
        httpRequest(engine.port(), "GET", "/v1/Services/default", engine.authorization());

    // 1,000 connections, dropped abruptly (abort: no FIN handshake of the application kind):
    // a quarter each of REST keep-alive after a full exchange, REST halfway through a request,
    // websockets subscribed to a stream, and websockets halfway through their upgrade.
    const auto churn = [&](int connections) {
        constexpr int kBatch = 50;
        for (int first = 0; first < connections; first += kBatch) {
            std::vector<std::unique_ptr<QTcpSocket>> rest;
            std::vector<std::unique_ptr<RawWebSocket>> sockets;
            for (int i = first; i < first + kBatch; ++i) {
                switch (i % 4) {
                case 0:
                case 1: {
                    auto socket = std::make_unique<QTcpSocket>();
                    socket->connectToHost(QHostAddress(QHostAddress::LocalHost), engine.port());
                    socket->write(i % 4 == 0 ? fetch : fetch.left(fetch.size() / 2));
                    rest.push_back(std::move(socket));
                    break;
                }
                default: {
                    auto socket = std::make_unique<RawWebSocket>();
                    if (!socket->connectTo(engine.port()))
                        return false;
                    if (i % 4 == 2) {
                        if (!socket->upgrade() || !socket->init(jwt)
                            || !socket->subscribe(streamSid))
                            return false;
                    } else {
                        socket->sendPartialUpgrade(40);
                    }
                    sockets.push_back(std::move(socket));
                }
                }
            }
            // The full REST exchanges are answered (and kept alive) before the drop.
            for (qsizetype i = 0; i < qsizetype(rest.size()); i += 2) {
                if (!QTest::qWaitFor([&] { return rest[size_t(i)]->bytesAvailable() > 0; }, 10000))
                    return false;
            }
            for (const auto &socket : rest)
                socket->abort();
            for (const auto &socket : sockets)
                socket->socket().abort();
        }
        return true;
    };
    // Within the engine's own time limits: on a loaded machine a connection whose end the
    // engine has not noticed yet goes at the latest when its half-sent request times out
    // (HttpServerOptions::requestTimeout, 30 s).
    const auto settled = [&](int descriptors) {
        return QTest::qWaitFor([&] { return openDescriptors(pid) <= descriptors; }, 45000);
    };

    int descriptorsBefore = openDescriptors(pid);
    QStringList describedBefore = describeDescriptors(pid);
    // On failure: the descriptors the comparison started from, and those open now.
    const auto descriptorsNow = [&] {
        return QStringLiteral("%1 open, was %2:\nbefore: %3\nnow: %4")
            .arg(openDescriptors(pid))
            .arg(descriptorsBefore)
            .arg(describedBefore.join(u", "), describeDescriptors(pid).join(u", "))
            .toLocal8Bit();
    };
    // A first round lets the allocator and Qt's caches reach their working size, descriptors
    // included: something the engine opens once, the first time it is needed, is no leak. A
    // leak grows with connections; the first round allows two, not 200.
    QVERIFY(churn(200));
    QVERIFY2(settled(descriptorsBefore + 2), descriptorsNow().constData());
    const qint64 residentWarm = settledResidentKib(pid);
    descriptorsBefore = openDescriptors(pid);
    describedBefore = describeDescriptors(pid);

    QElapsedTimer clock;
    clock.start();
    QVERIFY(churn(1000));
    const qint64 churnMs = clock.elapsed();
    // Every one of 1,000 connections went: back to the warm count exactly.
    QVERIFY2(settled(descriptorsBefore), descriptorsNow().constData());
    const qint64 residentAfter = settledResidentKib(pid);

    // The engine still serves, and its websocket endpoint has nobody left subscribed: a new
    // subscriber gets a publish exactly once.
    RawWebSocket probe;
    QVERIFY(probe.connectTo(engine.port()));
    QVERIFY(probe.upgrade());
    QVERIFY(probe.init(jwt));
    QVERIFY(probe.subscribe(streamSid));
    QCOMPARE(httpExchange(engine.port(), "POST",
                 "/v1/Services/default/Streams/" + streamSid.toLatin1() + "/Messages",
                 engine.authorization(), "Data=%7B%7D")
                 .status,
        201);
    QTRY_COMPARE(probe.messageSids().size(), 1);

    qInfo("1000 connections opened and dropped in %lld ms; descriptors %d before, %d after; "
          "RSS %lld KiB after warm-up, %lld KiB after (%+lld KiB)",
        churnMs, descriptorsBefore, openDescriptors(pid), residentWarm, residentAfter,
        residentAfter - residentWarm);
    // A leaked connection costs tens of KiB (socket, websocket, twilsock session, buffers):
    // 1000 of them would be tens of MiB. Allow for allocator noise only.
    if (!underSanitizers())
        QVERIFY2(residentAfter - residentWarm < 4 * 1024,
            QByteArray::number(residentAfter - residentWarm));
}

QTEST_GUILESS_MAIN(TestEngineFaults)
#include "tst_enginefaults.moc"
