// bench_twilsock_load: twilsock fan-out measured by a native load client (issue 23).
//
// One process holds N twilsock subscribers of one stream, against a streams-engine it starts
// itself, while a REST publisher on its own thread publishes into that stream; it prints
// deliveries/s, publish->deliver latency and what a delivery costs the engine's CPU and the
// client's. It measures what tests/bench/twilsock_fanout.js measures, without Node's cost per
// message: there the subscriber processes, not the engine, are the ceiling (about 192,000
// deliveries/s). The Node runs stay the realism check. bench_mqtt_load (mqtt_load.cpp) is its
// mosquitto counterpart; what the two share (payload, counting, histogram, server process, CPU
// clocks, options, reports) is in loadreport.h, and the client thread's set-up and the run loop
// in loadthread.h.
//
//   bench_twilsock_load ENGINE_BINARY [options]
//     --mode saturate|latency    (saturate)
//     --messages M               saturate: messages offered as fast as the engine accepts them
//                                (default: enough for 400,000 deliveries, at least 100)
//     --rate R --seconds S       latency: open loop at R msg/s for S s (1000, 5)
//     --subscribers N            twilsock subscriber connections (1000)
//     --threads T                subscriber threads, each with its own io_context (1: on a
//                                2-vCPU machine the engine needs the other core)
//     --connect-concurrency C    subscribers connecting at once, over all threads (50)
//     --connections P            publisher keep-alive connections (4, at most 16)
//     --size B                   pad each message's data to B bytes of JSON (200)
//     --runs K                   measurements, each on a fresh stream (1): the median and
//                                min-max are printed after the runs
//     --warmups W                unmeasured messages (negative seq) before each run (5)
//     --ack                      acknowledge every notification as the official SDK does
//     --engine-arg ARG           one more engine argument (repeatable), e.g. --subscriber-queue
//     --json                     also print one JSON line with every figure
//
// The engine runs with --listen 127.0.0.1:0, a fresh temporary --data-dir, generated TWILIO_*
// credentials in its environment (as tests/support/engineprocess.js starts it), and
// --publish-rate unlimited --subscriber-buffer 8192 (see twilsock_fanout.js: at the default
// 512 KiB it cuts a subscriber that a saturation run puts that far behind). Its port comes from
// its "listening on http://127.0.0.1:PORT" line; stdout is drained and never shown, stderr is
// shown when something goes wrong. One engine and one set of subscriber connections serve every
// run; each run creates a stream, every subscriber establishes a subscription to it (and cancels
// the previous run's), W warm-up messages must reach everyone, then the measured window starts.
//
// Subscribers speak twilsock v3 as twilsock_fanout.js does: a binary websocket (Boost.Beast, no
// permessage-deflate) to ws://127.0.0.1:PORT/v3/wsconnect, `init` with an access token minted by
// AccessToken::mint (Sync grant for the service), an upstream POST /v4/Subscriptions establish,
// then the subscription_established notification. Set-up frames are FrameCodec's. After that the
// hot path parses no JSON: it splits the frame by its lengths, checks the header for
// "method":"notification" and the payload for stream_message_published, and reads "seq":N and
// "t":T with memmem and from_chars (the JS client's regex). Replies to ping, client_update and
// close frames, and with --ack to every notification (one encoded reply per notification id per
// thread, shared by its subscribers), as the SDK sends them.
//
// The publisher POSTs /v1/Services/{sid}/Streams/{sid}/Messages (Data=<JSON>, HTTP Basic auth)
// over P keep-alive connections, one request in flight on each. Message seq goes on connection
// seq % P, so the engine accepts a connection's messages in seq order, and each subscriber checks
// that seq increases per connection: "out of order" is a real fault, not parallel REST. Data is
// {"seq":N,"t":T,"pad":"xx..."} with T the wall clock in ms (µs fraction):
//   saturate  T is the send time; deliveries/s = deliveries / (first publish -> last delivery)
//   latency   T is the message's *scheduled* send time (start + seq / R), so a publisher that
//             falls behind shows as latency; the window ends at the later of the last send and
//             the last delivery
// Latency goes into a histogram of 10 µs buckets to 1 s, then 1 ms to 100 s (as the JS client's).
// CPU is sampled just before the first publish and once every delivery arrived (or nothing came
// for 3 s): the engine's process CPU clock (all threads, ns), this process's CPU clock (client
// total: subscriber threads, publisher, main) and the subscriber threads' own clocks.
//
// Exits 1, with the reason on stderr, if the engine does not start or dies, a subscriber fails to
// subscribe, or a run loses, reorders or refuses anything.

#include "loadreport.h"
#include "loadthread.h"
#include "twilsock/accesstoken.h"
#include "twilsock/framecodec.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
// Bound to the io_context's executor rather than asio's type-erased any_executor: one less
// indirection on every operation of the hot path.
using Socket = asio::basic_stream_socket<tcp, asio::io_context::executor_type>;
using boost::system::error_code;
using streams::twilsock::AccessToken;
using streams::twilsock::AccessTokenClaims;
using streams::twilsock::Frame;
using streams::twilsock::FrameCodec;
using namespace loadbench;
using namespace std::chrono_literals;

namespace {

constexpr int kMaxConnections = 16; // publisher connections, each its own order lane
constexpr const char *kWebSocketPath = "/v3/wsconnect";

// ---------------------------------------------------------------------------------------------
// Small helpers.

QString qs(std::string_view text)
{
    return QString::fromUtf8(text.data(), qsizetype(text.size()));
}

std::string randomHex(int bytes)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    std::random_device device;
    std::string hex;
    for (int i = 0; i < bytes; ++i) {
        const unsigned value = device() & 0xffu;
        hex += kDigits[value >> 4];
        hex += kDigits[value & 0xfu];
    }
    return hex;
}

// ---------------------------------------------------------------------------------------------
// The engine process.

/// Credentials in the shapes Twilio uses: AC/SK + 32 lowercase hex digits.
struct Credentials
{
    std::string accountSid = "AC" + randomHex(16);
    std::string authToken = randomHex(16);
    std::string apiKeySid = "SK" + randomHex(16);
    std::string apiKeySecret = randomHex(16);
};

/// streams-engine on a free loopback port with a fresh data directory (a ChildProcess: stopped on
/// destruction, and with this process), its directory removed on destruction.
class EngineProcess
{
public:
    EngineProcess() : m_dataDir("streams-load") { }
    EngineProcess(const EngineProcess &) = delete;
    EngineProcess &operator=(const EngineProcess &) = delete;
    ~EngineProcess() { m_process.stop(); }

    void start(const std::string &binary, const Credentials &credentials,
        const std::vector<std::string> &extraArguments)
    {
        if (access(binary.c_str(), X_OK) != 0)
            throw Failure("streams-engine binary not found or not executable: " + binary);
        std::vector<std::string> arguments{binary, "--listen", "127.0.0.1:0", "--data-dir",
            m_dataDir.path(), "--publish-rate", "unlimited", "--subscriber-buffer", "8192"};
        arguments.insert(arguments.end(), extraArguments.begin(), extraArguments.end());
        std::vector<std::string> environment;
        for (char **entry = environ; *entry; ++entry) {
            const std::string_view variable(*entry);
            if (variable.starts_with("TWILIO_") || variable.starts_with("NO_PROXY=")
                || variable.starts_with("no_proxy="))
                continue;
            environment.emplace_back(variable);
        }
        environment.push_back("TWILIO_ACCOUNT_SID=" + credentials.accountSid);
        environment.push_back("TWILIO_AUTH_TOKEN=" + credentials.authToken);
        environment.push_back("TWILIO_API_KEY=" + credentials.apiKeySid);
        environment.push_back("TWILIO_API_SECRET=" + credentials.apiKeySecret);
        environment.emplace_back("NO_PROXY=127.0.0.1,localhost");
        environment.emplace_back("no_proxy=127.0.0.1,localhost");
        m_process.start(std::move(arguments), std::move(environment),
            [this, seen = std::string(), found = false](
                std::string_view chunk) mutable { readStdout(chunk, seen, found); });

        std::unique_lock lock(m_mutex);
        m_changed.wait_for(lock, 20s, [this] { return m_port != 0 || m_stdoutClosed; });
        if (m_port == 0) {
            lock.unlock();
            const std::string why =
                alive() ? "did not report its port within 20 s" : "exited before listening";
            m_process.stop();
            throw Failure("streams-engine " + why + " (" + m_process.exitStatus() + "); stderr:\n"
                + stderrText());
        }
    }

    uint16_t port() const { return m_port; }
    pid_t pid() const { return m_process.pid(); }
    const std::string &dataDir() const { return m_dataDir.path(); }
    bool alive() { return m_process.alive(); }
    /// How the engine ended, once it has.
    const std::string &exitStatus() const { return m_process.exitStatus(); }
    std::string stderrText() { return m_process.stderrText(); }
    /// The engine's CPU time in ns, all threads.
    int64_t cpuNs() const { return m_process.cpuNs(); }

private:
    // Parses the port, then keeps draining: stdout may carry secrets, so nothing is shown.
    void readStdout(std::string_view chunk, std::string &seen, bool &found)
    {
        static constexpr std::string_view kListening = "listening on http://127.0.0.1:";
        if (chunk.empty()) {
            std::lock_guard lock(m_mutex);
            m_stdoutClosed = true;
            m_changed.notify_all();
            return;
        }
        if (found)
            return;
        seen += chunk;
        const size_t at = seen.find(kListening);
        const size_t end = at == std::string::npos
            ? std::string::npos
            : seen.find_first_not_of("0123456789", at + kListening.size());
        if (end == std::string::npos)
            return;
        unsigned port = 0;
        std::from_chars(seen.data() + at + kListening.size(), seen.data() + end, port);
        found = true;
        std::lock_guard lock(m_mutex);
        m_port = uint16_t(port);
        m_changed.notify_all();
    }

    TemporaryDirectory m_dataDir;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    uint16_t m_port = 0;
    bool m_stdoutClosed = false;
    ChildProcess m_process; // last: stopped (its readers joined) before the members above go
};

// ---------------------------------------------------------------------------------------------
// REST.

struct RestTarget
{
    uint16_t port = 0;
    std::string host; // 127.0.0.1:PORT
    std::string authorization; // Basic base64(account SID:auth token)

    tcp::endpoint endpoint() const { return {asio::ip::address_v4::loopback(), port}; }
};

void setHeaders(http::request<http::string_body> &request, const RestTarget &target)
{
    request.set(http::field::host, target.host);
    request.set(http::field::authorization, target.authorization);
    request.set(http::field::user_agent, "bench_twilsock_load");
    request.set(http::field::content_type, "application/x-www-form-urlencoded");
    request.keep_alive(true);
}

struct HttpReply
{
    unsigned status = 0;
    std::string body;
};

/// One request on a connection of its own (set-up and warm-up only).
HttpReply restCall(const RestTarget &target, http::verb verb, const std::string &path,
    const std::string &form = {})
{
    asio::io_context io;
    tcp::socket socket(io);
    error_code error;
    socket.connect(target.endpoint(), error);
    http::request<http::string_body> request{verb, path, 11};
    setHeaders(request, target);
    request.body() = form;
    request.prepare_payload();
    if (!error)
        http::write(socket, request, error);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    if (!error)
        http::read(socket, buffer, response, error);
    if (error)
        throw Failure(std::string(http::to_string(verb)) + " " + path + ": " + error.message());
    return {response.result_int(), std::move(response.body())};
}

/// The form body of a publish: Data=<messageJson>, {"seq":N,"t":T,"pad":"xx..."} padded to
/// `size` bytes.
std::string messageForm(int64_t seq, double tMs, int size)
{
    return std::string("Data=")
        + QUrl::toPercentEncoding(qs(messageJson(seq, tMs, size))).toStdString();
}

// ---------------------------------------------------------------------------------------------
// Twilsock frames: set-up through FrameCodec; the hot path by lengths and byte scans.

QJsonObject replyHeader(const QString &id)
{
    return {{key("id"), id}, {key("method"), key("reply")},
        {key("payload_type"), key("application/json")},
        {key("status"), QJsonObject{{key("code"), 200}, {key("status"), key("OK")}}}};
}

QByteArray initFrame(const QString &id, const std::string &token)
{
    return FrameCodec::encode(QJsonObject{{key("id"), id}, {key("method"), key("init")},
        {key("token"), qs(token)}, {key("continuation_token"), QJsonValue::Null},
        {key("metadata"),
            QJsonObject{{key("type"), key("sync")}, {key("sdk"), key("bench_twilsock_load")}}},
        {key("registrations"), QJsonArray()}, {key("tweaks"), QJsonValue::Null},
        {key("capabilities"), QJsonArray{key("client_update")}}});
}

/// An upstream POST /v4/Subscriptions (`action` establish or cancel) for one stream, as the SDK
/// sends it.
QByteArray subscriptionsFrame(
    const QString &id, const std::string &host, const char *action, const std::string &streamSid)
{
    const QJsonObject header{{key("id"), id}, {key("method"), key("message")},
        {key("active_grant"), key("data_sync")}, {key("payload_type"), key("application/json")},
        {key("http_request"),
            QJsonObject{{key("host"), qs(host)}, {key("path"), key("/v4/Subscriptions")},
                {key("method"), key("POST")}, {key("params"), QJsonObject()},
                {key("headers"),
                    QJsonObject{{key("Content-Type"), key("application/json")},
                        {key("Twilio-Request-Id"), QLatin1StringView("RQ") + id}}}}}};
    const QJsonObject body{{key("event_protocol_version"), 4}, {key("action"), key(action)},
        {key("correlation_id"), qint64(wallMs())}, {key("retried_requests"), 0},
        {key("ttl_in_s"), -1},
        {key("requests"),
            QJsonArray{QJsonObject{{key("object_sid"), qs(streamSid)},
                {key("object_type"), key("stream")}, {key("last_event_id"), QJsonValue::Null}}}}};
    return FrameCodec::encode(header, QJsonDocument(body).toJson(QJsonDocument::Compact));
}

struct FrameView
{
    std::string_view header;
    std::string_view payload;
};

/// "TWILSOCK V3.0 <H>\r\n<header: H bytes>\r\n<payload>" split by its header length, as
/// FrameCodec::decode does, without parsing the header.
std::optional<FrameView> splitFrame(std::string_view bytes)
{
    constexpr std::string_view kPreamble = "TWILSOCK V3.0 ";
    if (!bytes.starts_with(kPreamble))
        return std::nullopt;
    const char *end = bytes.data() + bytes.size();
    size_t headerLength = 0;
    const auto digits = std::from_chars(bytes.data() + kPreamble.size(), end, headerLength);
    if (digits.ec != std::errc() || end - digits.ptr < 2 || digits.ptr[0] != '\r'
        || digits.ptr[1] != '\n')
        return std::nullopt;
    const size_t at = size_t(digits.ptr - bytes.data()) + 2;
    if (headerLength > bytes.size() - at)
        return std::nullopt;
    FrameView frame{bytes.substr(at, headerLength), {}};
    if (bytes.size() >= at + headerLength + 2)
        frame.payload = bytes.substr(at + headerLength + 2);
    return frame;
}

/// The value of "id" in a frame header (the engine's ids never need escaping).
std::string_view frameIdOf(std::string_view header)
{
    constexpr std::string_view kId = "\"id\":\"";
    const char *at = find(header, kId);
    if (!at)
        return {};
    const char *start = at + kId.size();
    const char *end = header.data() + header.size();
    const auto *quote = static_cast<const char *>(std::memchr(start, '"', size_t(end - start)));
    return quote ? std::string_view(start, size_t(quote - start)) : std::string_view();
}

// ---------------------------------------------------------------------------------------------
// Subscribers: a slice of them on each client thread.

struct ClientConfig
{
    tcp::endpoint endpoint;
    std::string host; // 127.0.0.1:PORT, for the handshake and upstream requests
    bool ack = false;
    int lanes = 1; // publisher connections: seq order is checked per seq % lanes
    int connectConcurrency = 50; // on this thread
};

struct Subscriber
{
    Subscriber(asio::io_context &io, std::string accessToken)
        : ws(io.get_executor()), token(std::move(accessToken))
    {
        lastSeq.fill(-1);
    }

    websocket::stream<Socket> ws;
    beast::flat_buffer buffer;
    std::deque<QByteArray> outbox; // frames waiting for the one write in flight
    bool writing = false;
    bool open = false;
    bool preparing = false;
    SubscriberState state = SubscriberState::Idle;
    std::string token;
    QString pendingId; // the request whose reply the set-up waits for
    bool establishReplied = false;
    bool establishNotified = false;
    std::array<int64_t, kMaxConnections> lastSeq{}; // per publisher connection
};

/// One thread, one io_context, a slice of the subscribers (LoadThread: the set-up and the tally).
/// The set-up's deadline is a timer on the io_context.
class ClientThread final : public LoadThread<Subscriber>
{
public:
    ClientThread(int index, ClientConfig config, std::vector<std::string> tokens)
        : LoadThread(config.connectConcurrency), m_index(index), m_config(std::move(config))
    {
        for (std::string &token : tokens)
            m_subscribers.push_back(std::make_unique<Subscriber>(m_io, std::move(token)));
    }
    ~ClientThread() override
    {
        stop();
        // Now, not in ~LoadThread: their sockets belong to m_io, which goes before that runs.
        m_subscribers.clear();
    }

private:
    void post(std::function<void()> task) override { asio::post(m_io, std::move(task)); }
    void run() override { m_io.run(); }
    void releaseLoop() override { m_work.reset(); }

    void disconnectAll() override
    {
        for (auto &subscriber : m_subscribers) {
            error_code ignored;
            subscriber->ws.next_layer().close(ignored);
        }
    }

    void armDeadline() override
    {
        m_deadlineTimer.expires_at(m_deadline);
        m_deadlineTimer.async_wait([this](const error_code &error) {
            if (!error)
                onDeadline();
        });
    }

    void cancelDeadline() override { m_deadlineTimer.cancel(); }

    const char *describeStep(SubscriberState state) const override
    {
        switch (state) {
        case SubscriberState::Connecting: return "connecting";
        case SubscriberState::Initialising: return "waiting for the init reply";
        case SubscriberState::Subscribing: return "establishing the subscription";
        default: return "?";
        }
    }

    QString newFrameId()
    {
        return QStringLiteral("TM%1-%2-%3").arg(getpid()).arg(m_index).arg(++m_frameCounter);
    }

    // --- set-up ---------------------------------------------------------------------------

    void begin(Subscriber &s) override
    {
        s.preparing = true;
        s.establishReplied = false;
        s.establishNotified = false;
        if (s.open) {
            if (!m_previousTarget.empty())
                send(
                    s, subscriptionsFrame(newFrameId(), m_config.host, "cancel", m_previousTarget));
            establish(s);
            return;
        }
        if (s.state != SubscriberState::Idle) {
            finishPrepare(s, "its socket was closed in an earlier run");
            return;
        }
        s.state = SubscriberState::Connecting;
        s.ws.next_layer().async_connect(m_config.endpoint, [this, &s](const error_code &error) {
            if (error) {
                finishPrepare(s, "connect: " + error.message());
                return;
            }
            s.ws.next_layer().set_option(tcp::no_delay(true));
            s.ws.binary(true);
            s.ws.auto_fragment(false);
            s.ws.secure_prng(false); // client frames are masked; the key needs no crypto here
            s.ws.read_message_max(1 << 20);
            s.ws.async_handshake(m_config.host, kWebSocketPath, [this, &s](const error_code &e) {
                if (e) {
                    finishPrepare(s, "websocket handshake: " + e.message());
                    return;
                }
                s.open = true;
                startRead(s);
                s.state = SubscriberState::Initialising;
                s.pendingId = newFrameId();
                send(s, initFrame(s.pendingId, s.token));
            });
        });
    }

    void establish(Subscriber &s)
    {
        s.state = SubscriberState::Subscribing;
        s.pendingId = newFrameId();
        send(s, subscriptionsFrame(s.pendingId, m_config.host, "establish", m_target));
    }

    void onReply(Subscriber &s, const Frame &frame)
    {
        s.pendingId.clear();
        if (s.state == SubscriberState::Initialising) {
            const QJsonObject status = frame.header.value(key("status")).toObject();
            if (status.value(key("code")).toInt() != 200)
                finishPrepare(s, "init refused: " + compactJson(status));
            else
                establish(s);
        } else if (s.state == SubscriberState::Subscribing) {
            const QJsonObject status = frame.header.value(key("http_status")).toObject();
            if (status.value(key("code")).toInt() != 200) {
                finishPrepare(s,
                    "establish refused: " + compactJson(status) + " "
                        + frame.payload.toStdString());
                return;
            }
            s.establishReplied = true;
            if (s.establishNotified)
                finishPrepare(s, {});
        }
    }

    // --- reading: the hot path -------------------------------------------------------------

    void startRead(Subscriber &s)
    {
        s.ws.async_read(
            s.buffer, [this, &s](const error_code &error, std::size_t) { onRead(s, error); });
    }

    void onRead(Subscriber &s, const error_code &error)
    {
        if (error) {
            onClosed(s, error);
            return;
        }
        const auto data = s.buffer.cdata();
        onFrame(s, std::string_view(static_cast<const char *>(data.data()), data.size()));
        s.buffer.consume(s.buffer.size());
        startRead(s);
    }

    void onFrame(Subscriber &s, std::string_view bytes)
    {
        const auto frame = splitFrame(bytes);
        if (!frame) {
            m_tally.badFrame();
            return;
        }
        if (contains(frame->header, R"("method":"notification")")) {
            if (m_config.ack)
                acknowledge(s, frame->header);
            onNotification(s, frame->payload);
            return;
        }
        onControlFrame(s, bytes);
    }

    void onNotification(Subscriber &s, std::string_view payload)
    {
        if (!contains(payload, "stream_message_published")) {
            if (s.state == SubscriberState::Subscribing
                && contains(payload, "subscription_established") && contains(payload, m_target)) {
                s.establishNotified = true;
                if (s.establishReplied)
                    finishPrepare(s, {});
            }
            return;
        }
        m_tally.deliver(payload, std::span(s.lastSeq).first(size_t(m_config.lanes)));
    }

    // Every receiver of a message gets the same notification id, so one encoded reply per id
    // serves the whole thread.
    void acknowledge(Subscriber &s, std::string_view header)
    {
        const std::string_view id = frameIdOf(header);
        if (id.empty())
            return;
        auto known = m_acks.find(id);
        if (known == m_acks.end()) {
            if (m_acks.size() >= 4096)
                m_acks.clear();
            known = m_acks.emplace(std::string(id), FrameCodec::encode(replyHeader(qs(id)))).first;
        }
        send(s, known->second);
    }

    // Replies, pings, client_update, close: rare, so FrameCodec decodes them in full.
    void onControlFrame(Subscriber &s, std::string_view bytes)
    {
        const auto frame =
            FrameCodec::decode(QByteArrayView(bytes.data(), qsizetype(bytes.size())));
        if (!frame) {
            m_tally.badFrame();
            return;
        }
        const QString method = frame->method();
        if (method == u"reply") {
            if (!s.pendingId.isEmpty() && frame->id() == s.pendingId)
                onReply(s, *frame);
        } else if (method == u"ping" || method == u"client_update" || method == u"close") {
            send(s, FrameCodec::encode(replyHeader(frame->id())));
        }
    }

    void onClosed(Subscriber &s, const error_code &error)
    {
        s.open = false;
        connectionLost(s, "socket closed: " + error.message(), error.message());
    }

    // --- writing ---------------------------------------------------------------------------

    void send(Subscriber &s, QByteArray frame)
    {
        if (!s.open)
            return;
        s.outbox.push_back(std::move(frame));
        if (!s.writing)
            writeNext(s);
    }

    void writeNext(Subscriber &s)
    {
        if (s.outbox.empty()) {
            s.writing = false;
            return;
        }
        s.writing = true;
        const QByteArray &frame = s.outbox.front();
        s.ws.async_write(asio::buffer(frame.constData(), size_t(frame.size())),
            [this, &s](const error_code &error, std::size_t) {
                if (error) { // the read side reports the close
                    s.writing = false;
                    s.outbox.clear();
                    return;
                }
                s.outbox.pop_front();
                writeNext(s);
            });
    }

    const int m_index;
    const ClientConfig m_config;
    asio::io_context m_io{1};
    asio::executor_work_guard<asio::io_context::executor_type> m_work{m_io.get_executor()};
    asio::steady_timer m_deadlineTimer{m_io};
    quint64 m_frameCounter = 0;

    struct StringHash
    {
        using is_transparent = void;
        size_t operator()(std::string_view text) const
        {
            return std::hash<std::string_view>{}(text);
        }
    };
    std::unordered_map<std::string, QByteArray, StringHash, std::equal_to<>> m_acks;
};

// ---------------------------------------------------------------------------------------------
// The publisher: its own thread and io_context, `connections` keep-alive connections.

class Publisher final : public LoadPublisher
{
public:
    Publisher(RestTarget target, std::string path, int connections, int size)
        : m_target(std::move(target)), m_path(std::move(path)), m_size(size)
    {
        for (int i = 0; i < connections; ++i)
            m_lanes.push_back(std::make_unique<Lane>(m_io));
    }

    /// One request each, on a connection of its own: the measured connections open afterwards.
    void warmUp(int count) override
    {
        for (int i = 1; i <= count; ++i) {
            const HttpReply reply =
                restCall(m_target, http::verb::post, m_path, messageForm(-i, wallMs(), m_size));
            if (reply.status != 201)
                throw Failure(
                    "warm-up publish: HTTP " + std::to_string(reply.status) + " " + reply.body);
        }
    }

    void connect() override
    {
        for (auto &lane : m_lanes) {
            error_code error;
            lane->socket.connect(m_target.endpoint(), error);
            if (error)
                throw Failure("publisher connection: " + error.message());
            lane->socket.set_option(tcp::no_delay(true));
            lane->request = {http::verb::post, m_path, 11};
            setHeaders(lane->request, m_target);
        }
    }

private:
    void publish() override
    {
        if (m_plan.saturate) {
            m_outcome.startMs = wallMs();
            for (size_t i = 0; i < m_lanes.size(); ++i) {
                m_lanes[i]->nextSeq = int64_t(i);
                sendNext(*m_lanes[i]);
            }
        } else {
            m_startSteady = SteadyClock::now() + 20ms;
            m_outcome.startMs = wallMs() + 20;
            m_timer.expires_at(m_startSteady);
            m_timer.async_wait([this](const error_code &error) {
                if (!error)
                    schedule();
            });
        }
        m_io.run();
    }

    struct Lane
    {
        explicit Lane(asio::io_context &io) : socket(io.get_executor()) { }
        Socket socket;
        beast::flat_buffer buffer;
        http::request<http::string_body> request;
        http::response<http::string_body> response;
        std::deque<std::pair<int64_t, double>> due; // latency: seq and scheduled ms
        int64_t nextSeq = 0; // saturate
        bool failed = false;
        bool busy = false;
    };

    // Latency mode: message i is due at start + i / rate, on connection i % connections.
    void schedule()
    {
        const auto now = SteadyClock::now();
        const auto dueAt = [this](int64_t seq) {
            return m_startSteady
                + std::chrono::nanoseconds(std::llround(1e9 * double(seq) / m_plan.rate));
        };
        while (m_scheduled < m_plan.messages && dueAt(m_scheduled) <= now) {
            Lane &lane = *m_lanes[size_t(m_scheduled % int64_t(m_lanes.size()))];
            if (lane.failed) {
                ++m_outcome.errors;
            } else {
                lane.due.emplace_back(
                    m_scheduled, m_outcome.startMs + 1e3 * double(m_scheduled) / m_plan.rate);
                if (!lane.busy)
                    sendNext(lane);
            }
            ++m_scheduled;
        }
        if (m_scheduled < m_plan.messages) {
            m_timer.expires_at(dueAt(m_scheduled));
            m_timer.async_wait([this](const error_code &error) {
                if (!error)
                    schedule();
            });
        }
    }

    void sendNext(Lane &lane)
    {
        int64_t seq = 0;
        double t = 0;
        if (lane.failed)
            return;
        if (m_plan.saturate) {
            if (lane.nextSeq >= m_plan.messages) {
                lane.busy = false;
                return;
            }
            seq = lane.nextSeq;
            lane.nextSeq += int64_t(m_lanes.size());
            t = wallMs();
        } else {
            if (lane.due.empty()) {
                lane.busy = false;
                return;
            }
            std::tie(seq, t) = lane.due.front();
            lane.due.pop_front();
            m_outcome.maxLagMs = std::max(m_outcome.maxLagMs, wallMs() - t);
        }
        lane.busy = true;
        lane.request.body() = messageForm(seq, t, m_size);
        lane.request.prepare_payload();
        ++m_outcome.sent;
        m_outcome.lastSendMs = wallMs();
        http::async_write(
            lane.socket, lane.request, [this, &lane, t](const error_code &error, std::size_t) {
                if (error) {
                    laneFailed(lane, "publish: " + error.message());
                    return;
                }
                lane.response = {};
                http::async_read(lane.socket, lane.buffer, lane.response,
                    [this, &lane, t](const error_code &e, std::size_t) {
                        if (e) {
                            laneFailed(lane, "publish reply: " + e.message());
                            return;
                        }
                        const double now = wallMs();
                        m_outcome.lastReplyMs = now;
                        m_outcome.replies.record(now - t);
                        const unsigned status = lane.response.result_int();
                        ++m_outcome.statuses[status];
                        if (status >= 200 && status < 300) {
                            ++m_outcome.accepted;
                        } else {
                            ++m_outcome.refused;
                            if (m_outcome.firstError.empty())
                                m_outcome.firstError = "HTTP " + std::to_string(status) + ": "
                                    + lane.response.body().substr(0, 300);
                        }
                        sendNext(lane);
                    });
            });
    }

    // The message in flight and everything still due on the lane count as errors.
    void laneFailed(Lane &lane, const std::string &why)
    {
        lane.failed = true;
        lane.busy = false;
        m_outcome.errors += 1 + lane.due.size();
        lane.due.clear();
        if (m_outcome.firstError.empty())
            m_outcome.firstError = why;
    }

    const RestTarget m_target;
    const std::string m_path;
    const int m_size;
    asio::io_context m_io{1};
    asio::steady_timer m_timer{m_io};
    std::vector<std::unique_ptr<Lane>> m_lanes;
    SteadyClock::time_point m_startSteady;
    int64_t m_scheduled = 0;
};

// ---------------------------------------------------------------------------------------------
// Options, figures, main.

struct Options : LoadOptions
{
    int connections = 4;
    bool ack = false;
    std::vector<std::string> engineArguments;
};

constexpr const char *kUsage =
    "usage: bench_twilsock_load ENGINE_BINARY [--mode saturate|latency] [--messages M]\n"
    "       [--rate R] [--seconds S] [--subscribers N] [--threads T] [--connect-concurrency C]\n"
    "       [--connections P] [--size B] [--runs K] [--warmups W] [--ack] [--engine-arg ARG]\n"
    "       [--json]   (the top of tests/bench/twilsock_load.cpp explains them)\n";

Options parseOptions(int argc, char **argv)
{
    Options options;
    parseLoadOptions(argc, argv, kUsage, options,
        [&options](std::string_view arg, const std::function<std::string_view()> &value) {
            if (arg == "--connections")
                options.connections = int(parseNumber(arg, value(), 1, kMaxConnections));
            else if (arg == "--ack")
                options.ack = true;
            else if (arg == "--engine-arg")
                options.engineArguments.emplace_back(value());
            else
                return false;
            return true;
        });
    return options;
}

int runBenchmark(const Options &options)
{
    // Two file descriptors per subscriber (ours and the engine's, which inherits the limit).
    raiseFileLimit(
        rlim_t(options.subscribers) + 256, std::to_string(options.subscribers) + " subscribers");

    const Credentials credentials;
    EngineProcess engine;
    engine.start(options.server, credentials, options.engineArguments);
    RestTarget rest;
    rest.port = engine.port();
    rest.host = "127.0.0.1:" + std::to_string(rest.port);
    rest.authorization = "Basic "
        + QByteArray::fromStdString(credentials.accountSid + ":" + credentials.authToken)
              .toBase64()
              .toStdString();

    const HttpReply service = restCall(rest, http::verb::get, "/v1/Services/default");
    const QJsonObject serviceJson =
        QJsonDocument::fromJson(QByteArray::fromStdString(service.body)).object();
    const std::string serviceSid = serviceJson.value(key("sid")).toString().toStdString();
    if (service.status != 200 || serviceSid.empty())
        throw Failure("GET /v1/Services/default: HTTP " + std::to_string(service.status) + " "
            + service.body);

    // One token per subscriber, each its own identity, as twilsock_fanout.js mints them.
    const qint64 now = qint64(std::time(nullptr));
    std::vector<std::vector<std::string>> slices(size_t(options.threads));
    for (int i = 0; i < options.subscribers; ++i) {
        AccessTokenClaims claims;
        claims.apiKeySid = qs(credentials.apiKeySid);
        claims.accountSid = qs(credentials.accountSid);
        claims.identity = QStringLiteral("subscriber-%1").arg(i);
        claims.serviceSid = qs(serviceSid);
        claims.issuedAt = now;
        claims.expiresAt = now + 4 * 3600;
        slices[size_t(i % options.threads)].push_back(
            AccessToken::mint(claims, QByteArray::fromStdString(credentials.apiKeySecret))
                .toStdString());
    }
    auto threads = startThreads<ClientThread>(options.threads, [&](int t) {
        ClientConfig config{rest.endpoint(), rest.host, options.ack, options.connections,
            std::max(1, options.connectConcurrency / options.threads)};
        return std::make_unique<ClientThread>(t, config, std::move(slices[size_t(t)]));
    });

    std::printf(
        "bench_twilsock_load: engine pid %d on port %u; %s over %d publisher connection%s%s\n",
        int(engine.pid()), unsigned(rest.port), describeLoad(options).c_str(), options.connections,
        options.connections == 1 ? "" : "s", options.ack ? ", acks on" : "");
    std::fflush(stdout);

    const std::string servicePath = "/v1/Services/" + serviceSid;
    const LoadTool tool{
        .name = "bench_twilsock_load",
        .serverName = "streams-engine",
        .role = "engine",
        .faults = "lost, reordered or refused messages",
        .summaryFields = {{key("connections"), options.connections}, {key("ack"), options.ack}},
        .openRun =
            [&](int run) {
                const std::string form =
                    "UniqueName=load-" + std::to_string(getpid()) + "-" + std::to_string(run);
                const HttpReply created =
                    restCall(rest, http::verb::post, servicePath + "/Streams", form);
                const std::string streamSid =
                    QJsonDocument::fromJson(QByteArray::fromStdString(created.body))
                        .object()
                        .value(key("sid"))
                        .toString()
                        .toStdString();
                if (created.status != 201 || streamSid.empty())
                    throw Failure("create stream: HTTP " + std::to_string(created.status) + " "
                        + created.body);
                return streamSid;
            },
        .publisher = [&](const std::string &streamSid) -> std::unique_ptr<LoadPublisher> {
            return std::make_unique<Publisher>(rest,
                servicePath + "/Streams/" + streamSid + "/Messages", options.connections,
                options.size);
        },
    };
    return runLoad(options, tool, engine, threads);
}

} // namespace

int main(int argc, char **argv)
{
    return guardedMain(
        "bench_twilsock_load", [&] { return runBenchmark(parseOptions(argc, argv)); });
}
