// bench_mqtt_load: MQTT fan-out through mosquitto measured by a native load client (issue 23).
//
// The mosquitto side of bench_twilsock_load, so that the engine and mosquitto are compared in the
// same session with native clients on both sides (tests/bench/compare): one process holds N MQTT
// 3.1.1 QoS 0 subscribers of one topic, against a mosquitto it starts itself, while a publisher
// on its own thread publishes into that topic; it prints deliveries/s, publish->deliver latency
// and what a delivery costs the broker's CPU and the client's, in the same shape as
// bench_twilsock_load (tests/bench/loadreport.h and loadthread.h hold what the two share). The
// Node counterpart is tests/bench/compare.d/mqtt_fanout.js.
//
//   bench_mqtt_load MOSQUITTO_BINARY [options]
//     --mode saturate|latency    (saturate)
//     --messages M               saturate: messages offered as fast as the broker takes them
//                                (default: enough for 400,000 deliveries, at least 100)
//     --rate R --seconds S       latency: open loop at R msg/s for S s (1000, 5)
//     --subscribers N            MQTT subscriber connections (1000)
//     --threads T                subscriber threads, each with its own epoll set (1: on a
//                                2-vCPU machine mosquitto needs the other core)
//     --connect-concurrency C    subscribers connecting at once, over all threads (50)
//     --size B                   pad each message to B bytes of JSON (200)
//     --runs K                   measurements, each on a fresh topic (1): the median and
//                                min-max are printed after the runs
//     --warmups W                unmeasured messages (negative seq) before each run (5)
//     --broker-conf LINE         one more line of mosquitto.conf (repeatable), e.g.
//                                "max_queued_messages 8192"
//     --json                     also print one JSON line with every figure
//
// mosquitto runs with -c on a generated config in a fresh temporary directory: a listener on a
// free loopback port (bound and released here just before), and otherwise what
// tests/bench/compare gives it: allow_anonymous true, persistence false, max_connections -1, no
// log but errors and warnings (to stderr, shown when something goes wrong). It is ready when its
// port accepts a connection. One broker and one set of subscriber connections serve every run;
// each run uses a new topic, every subscriber subscribes to it (QoS 0, SUBACK awaited) and
// unsubscribes from the previous run's, W warm-up messages must reach everyone, then the measured
// window starts.
//
// Subscribers are libmosquitto clients (clean session, keep-alive 600 s, TCP_NODELAY), many per
// thread: each thread waits on an epoll set of their sockets (mosquitto_socket), level-triggered,
// and drives them with mosquitto_loop_read (until the socket would block), mosquitto_loop_write
// (while mosquitto_want_write) and, once a second, mosquitto_loop_misc. A delivery's payload is
// read as bench_twilsock_load reads a notification's: "seq":N and "t":T by memmem and
// from_chars, counted, order-checked (seq must increase per subscriber: one publisher
// connection) and timestamped by the shared DeliveryTally.
//
// The publisher is one more libmosquitto client on its own thread, publishing QoS 0 (no answer
// comes back) {"seq":N,"t":T,"pad":"xx..."} (loadreport.h's messageJson, the same bytes as the
// twilsock publisher's Data) with T the wall clock in ms (µs fraction):
//   saturate  the next message is published as soon as the previous one is written to the socket
//             (TCP is the only flow control QoS 0 has); T is the send time; deliveries/s =
//             deliveries / (first publish -> last delivery)
//   latency   T is the message's *scheduled* send time (start + seq / R, waited for with ppoll),
//             so a publisher that falls behind shows as latency; the window ends at the later of
//             the last send and the last delivery
// CPU is sampled just before the first publish and once every delivery arrived (or nothing came
// for 3 s): the broker's process CPU clock, this process's CPU clock (client total: subscriber
// threads, publisher, main) and the subscriber threads' own clocks.
//
// Exits 1, with the reason on stderr, if the broker does not start or dies, a subscriber fails to
// subscribe, or a run loses or reorders anything. mosquitto drops QoS 0 messages for a subscriber
// with max_queued_messages (1000 by default) packets unwritten: a loss, then, not a slow run.

#include "loadreport.h"
#include "loadthread.h"

#include <arpa/inet.h>
#include <array>
#include <deque>
#include <memory>
#include <mosquitto.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

using namespace loadbench;
using namespace std::chrono_literals;

namespace {

constexpr int kKeepAliveSeconds = 600;
constexpr int kReadsPerWake = 64; // per socket per epoll_wait: one read per packet (below)
constexpr const char *kHost = "127.0.0.1";

std::string mosquittoError(int rc)
{
    if (rc == MOSQ_ERR_ERRNO)
        return std::strerror(errno);
    return mosquitto_strerror(rc);
}

/// A loopback port that was free a moment ago (bound to 0 and released).
uint16_t freePort()
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0
        || getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
        const std::string why = std::strerror(errno);
        if (fd >= 0)
            close(fd);
        throw Failure("no free loopback port: " + why);
    }
    close(fd);
    return ntohs(address.sin_port);
}

bool acceptsConnections(uint16_t port)
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    const bool connected =
        fd >= 0 && connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0;
    if (fd >= 0)
        close(fd);
    return connected;
}

// ---------------------------------------------------------------------------------------------
// The broker process.

/// mosquitto on a free loopback port with a generated config in a fresh directory (a
/// ChildProcess: stopped on destruction, and with this process).
class BrokerProcess
{
public:
    BrokerProcess() : m_dir("mqtt-load") { }
    BrokerProcess(const BrokerProcess &) = delete;
    BrokerProcess &operator=(const BrokerProcess &) = delete;
    ~BrokerProcess() { m_process.stop(); }

    void start(const std::string &binary, const std::vector<std::string> &extraConfig)
    {
        if (access(binary.c_str(), X_OK) != 0)
            throw Failure("mosquitto binary not found or not executable: " + binary);
        m_port = freePort();
        const std::string config = m_dir.path() + "/mosquitto.conf";
        std::string text = "# Generated by bench_mqtt_load.\nlistener " + std::to_string(m_port)
            + " " + kHost
            + "\nallow_anonymous true\npersistence false\nmax_connections -1\n"
              "log_dest stderr\nlog_type error\nlog_type warning\nconnection_messages false\n";
        for (const std::string &line : extraConfig)
            text += line + "\n";
        FILE *file = std::fopen(config.c_str(), "w");
        if (!file || std::fputs(text.c_str(), file) < 0 || std::fclose(file) != 0)
            throw Failure("cannot write " + config);
        m_process.start({binary, "-c", config}, {});
        const bool ready =
            waitFor([this] { return !m_process.alive() || acceptsConnections(m_port); }, 20s, 10ms);
        if (!ready || !m_process.alive()) {
            const std::string why = m_process.alive() ? "did not accept connections within 20 s"
                                                      : "exited before listening";
            m_process.stop();
            throw Failure("mosquitto " + why + " (" + m_process.exitStatus() + "); stderr:\n"
                + m_process.stderrText());
        }
    }

    uint16_t port() const { return m_port; }
    pid_t pid() const { return m_process.pid(); }
    bool alive() { return m_process.alive(); }
    const std::string &exitStatus() const { return m_process.exitStatus(); }
    std::string stderrText() { return m_process.stderrText(); }
    int64_t cpuNs() const { return m_process.cpuNs(); }

private:
    TemporaryDirectory m_dir;
    uint16_t m_port = 0;
    ChildProcess m_process;
};

// ---------------------------------------------------------------------------------------------
// Subscribers: a slice of them on each client thread.

struct ClientConfig
{
    uint16_t port = 0;
    int connectConcurrency = 50; // on this thread
};

class ClientThread;

struct Subscriber
{
    ClientThread *thread = nullptr;
    std::string clientId;
    mosquitto *client = nullptr;
    int fd = -1;
    bool watchingWrite = false;
    bool connected = false;
    bool preparing = false;
    SubscriberState state = SubscriberState::Idle;
    int pendingMid = -1; // the SUBSCRIBE whose SUBACK the set-up waits for
    std::array<int64_t, 1> lastSeq{-1}; // one publisher connection: one order lane
};

/// One thread, one epoll set, a slice of the subscribers (LoadThread: the set-up and the tally).
/// The main thread's tasks come through a queue and an eventfd in the epoll set.
class ClientThread final : public LoadThread<Subscriber>
{
public:
    ClientThread(int index, ClientConfig config, int subscribers)
        : LoadThread(config.connectConcurrency),
          m_config(config),
          m_epoll(epoll_create1(EPOLL_CLOEXEC)),
          m_wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
    {
        if (m_epoll < 0 || m_wake < 0)
            throw Failure(std::string("epoll/eventfd: ") + std::strerror(errno));
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.ptr = nullptr; // the wake-up descriptor
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &event);
        for (int i = 0; i < subscribers; ++i) {
            auto subscriber = std::make_unique<Subscriber>();
            subscriber->thread = this;
            subscriber->clientId = "sub-" + std::to_string(getpid()) + "-" + std::to_string(index)
                + "-" + std::to_string(i);
            m_subscribers.push_back(std::move(subscriber));
        }
    }
    ~ClientThread() override
    {
        stop();
        close(m_epoll);
        close(m_wake);
    }

private:
    void post(std::function<void()> task) override
    {
        {
            std::lock_guard lock(m_tasksMutex);
            m_tasks.push_back(std::move(task));
        }
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t written = write(m_wake, &one, sizeof one);
    }

    void disconnectAll() override
    {
        for (auto &subscriber : m_subscribers) {
            if (subscriber->client)
                mosquitto_destroy(subscriber->client);
            subscriber->client = nullptr;
        }
    }

    const char *describeStep(SubscriberState state) const override
    {
        switch (state) {
        case SubscriberState::Connecting: return "waiting for CONNACK";
        case SubscriberState::Subscribing: return "waiting for SUBACK";
        default: return "?";
        }
    }

    // The set-up's deadline is checked here, between waits, rather than by a timer.
    void run() override
    {
        std::vector<epoll_event> events(256);
        auto nextMisc = SteadyClock::now() + 1s;
        while (!m_stopping) {
            const int n = epoll_wait(m_epoll, events.data(), int(events.size()), 100);
            for (int i = 0; i < n; ++i) {
                auto *s = static_cast<Subscriber *>(events[size_t(i)].data.ptr);
                if (!s) {
                    runTasks();
                    continue;
                }
                if (!s->client)
                    continue;
                if (events[size_t(i)].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                    readAll(*s);
                if (s->client && (events[size_t(i)].events & EPOLLOUT))
                    check(*s, mosquitto_loop_write(s->client, 1));
                if (s->client)
                    watch(*s);
            }
            const auto now = SteadyClock::now();
            if (now >= m_deadline)
                onDeadline(); // nothing unless a set-up is in progress
            if (now >= nextMisc) {
                nextMisc = now + 1s;
                for (auto &subscriber : m_subscribers) {
                    if (subscriber->client && subscriber->fd >= 0) {
                        check(*subscriber, mosquitto_loop_misc(subscriber->client));
                        if (subscriber->client)
                            watch(*subscriber);
                    }
                }
            }
        }
    }

    void runTasks()
    {
        uint64_t count = 0;
        [[maybe_unused]] const ssize_t read = ::read(m_wake, &count, sizeof count);
        std::deque<std::function<void()>> tasks;
        {
            std::lock_guard lock(m_tasksMutex);
            tasks.swap(m_tasks);
        }
        for (auto &task : tasks)
            task();
    }

    // Reads every whole packet the socket holds: mosquitto_loop_read reads one QoS 0 packet a
    // call and leaves errno at EAGAIN once the socket is empty. Level-triggered epoll brings back
    // whatever the cap leaves.
    void readAll(Subscriber &s)
    {
        for (int i = 0; i < kReadsPerWake && s.client; ++i) {
            errno = 0;
            const int rc = mosquitto_loop_read(s.client, 1);
            if (rc != MOSQ_ERR_SUCCESS) {
                check(s, rc);
                return;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
        }
    }

    // A failed loop call: the connection is gone (libmosquitto closed the socket).
    void check(Subscriber &s, int rc)
    {
        if (rc == MOSQ_ERR_SUCCESS)
            return;
        lost(s, "connection lost: " + mosquittoError(rc));
    }

    void lost(Subscriber &s, const std::string &why)
    {
        if (s.client) {
            mosquitto_destroy(s.client); // closes the socket, which leaves the epoll set
            s.client = nullptr;
        }
        s.fd = -1;
        s.connected = false;
        connectionLost(s, why, why);
    }

    // EPOLLOUT only while libmosquitto has something to write.
    void watch(Subscriber &s)
    {
        const bool wantWrite = mosquitto_want_write(s.client);
        if (wantWrite == s.watchingWrite || s.fd < 0)
            return;
        epoll_event event{};
        event.events = EPOLLIN | (wantWrite ? EPOLLOUT : 0u);
        event.data.ptr = &s;
        epoll_ctl(m_epoll, EPOLL_CTL_MOD, s.fd, &event);
        s.watchingWrite = wantWrite;
    }

    // --- set-up ---------------------------------------------------------------------------

    void begin(Subscriber &s) override
    {
        s.preparing = true;
        if (s.connected) {
            if (!m_previousTarget.empty())
                mosquitto_unsubscribe(s.client, nullptr, m_previousTarget.c_str());
            subscribe(s);
            if (s.client)
                watch(s);
            return;
        }
        if (s.state != SubscriberState::Idle) {
            finishPrepare(s, "its connection was closed in an earlier run");
            return;
        }
        s.state = SubscriberState::Connecting;
        s.client = mosquitto_new(s.clientId.c_str(), true, &s);
        if (!s.client) {
            finishPrepare(s, std::string("mosquitto_new: ") + std::strerror(errno));
            return;
        }
        mosquitto_int_option(s.client, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
        mosquitto_int_option(s.client, MOSQ_OPT_TCP_NODELAY, 1);
        mosquitto_connect_callback_set(s.client, [](mosquitto *, void *object, int rc) {
            auto &subscriber = *static_cast<Subscriber *>(object);
            subscriber.thread->onConnect(subscriber, rc);
        });
        mosquitto_subscribe_callback_set(
            s.client, [](mosquitto *, void *object, int mid, int count, const int *granted) {
                auto &subscriber = *static_cast<Subscriber *>(object);
                subscriber.thread->onSubscribe(subscriber, mid, count > 0 ? granted[0] : 0x80);
            });
        mosquitto_message_callback_set(
            s.client, [](mosquitto *, void *object, const mosquitto_message *message) {
                auto &subscriber = *static_cast<Subscriber *>(object);
                subscriber.thread->onMessage(subscriber, message);
            });
        const int rc = mosquitto_connect_async(s.client, kHost, m_config.port, kKeepAliveSeconds);
        s.fd = mosquitto_socket(s.client);
        if (rc != MOSQ_ERR_SUCCESS || s.fd < 0) {
            lost(s, "connect: " + mosquittoError(rc));
            return;
        }
        fcntl(s.fd, F_SETFL, fcntl(s.fd, F_GETFL) | O_NONBLOCK);
        epoll_event event{};
        event.events = EPOLLIN | EPOLLOUT; // the connect completes, then CONNECT is written
        event.data.ptr = &s;
        s.watchingWrite = true;
        if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, s.fd, &event) != 0)
            lost(s, std::string("epoll_ctl: ") + std::strerror(errno));
    }

    void subscribe(Subscriber &s)
    {
        s.state = SubscriberState::Subscribing;
        // Called from libmosquitto's connect callback too: no mosquitto_destroy here.
        const int rc = mosquitto_subscribe(s.client, &s.pendingMid, m_target.c_str(), 0);
        if (rc != MOSQ_ERR_SUCCESS)
            finishPrepare(s, "subscribe: " + mosquittoError(rc));
    }

    void onConnect(Subscriber &s, int rc)
    {
        if (rc != 0) {
            finishPrepare(s, std::string("CONNACK refused: ") + mosquitto_connack_string(rc));
            return;
        }
        s.connected = true;
        if (s.preparing)
            subscribe(s);
    }

    void onSubscribe(Subscriber &s, int mid, int granted)
    {
        if (s.state != SubscriberState::Subscribing || mid != s.pendingMid)
            return;
        if (granted != 0)
            finishPrepare(s, "SUBACK refused (" + std::to_string(granted) + ")");
        else
            finishPrepare(s, {});
    }

    void onMessage(Subscriber &s, const mosquitto_message *message)
    {
        m_tally.deliver(std::string_view(static_cast<const char *>(message->payload),
                            size_t(std::max(0, message->payloadlen))),
            s.lastSeq);
    }

    const ClientConfig m_config;
    const int m_epoll;
    const int m_wake;
    std::mutex m_tasksMutex;
    std::deque<std::function<void()>> m_tasks;
};

// ---------------------------------------------------------------------------------------------
// The publisher: one libmosquitto client, driven with poll on the thread that uses it.

class Publisher final : public LoadPublisher
{
public:
    Publisher(uint16_t port, std::string topic, int size)
        : m_port(port), m_topic(std::move(topic)), m_size(size)
    { }
    ~Publisher() override
    {
        if (m_thread.joinable())
            m_thread.join();
        if (m_client)
            mosquitto_destroy(m_client);
    }

    /// Connects (the warm-up's messages and the measured ones share the connection), then
    /// publishes each warm-up message and waits until it is written out.
    void warmUp(int count) override
    {
        open();
        for (int i = 1; i <= count; ++i)
            publishNow(-i);
    }

    void connect() override { } // connected for the warm-up

private:
    void publish() override { m_plan.saturate ? saturate() : paced(); }

    /// Connects and waits for the CONNACK (on the calling thread).
    void open()
    {
        m_client = mosquitto_new(("pub-" + std::to_string(getpid())).c_str(), true, this);
        if (!m_client)
            throw Failure(std::string("mosquitto_new: ") + std::strerror(errno));
        mosquitto_int_option(m_client, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
        mosquitto_int_option(m_client, MOSQ_OPT_TCP_NODELAY, 1);
        mosquitto_connect_callback_set(m_client, [](mosquitto *, void *object, int rc) {
            static_cast<Publisher *>(object)->m_connack = rc;
        });
        int rc = mosquitto_connect_async(m_client, kHost, m_port, kKeepAliveSeconds);
        if (rc != MOSQ_ERR_SUCCESS)
            throw Failure("publisher connect: " + mosquittoError(rc));
        fcntl(mosquitto_socket(m_client), F_SETFL,
            fcntl(mosquitto_socket(m_client), F_GETFL) | O_NONBLOCK);
        const auto deadline = SteadyClock::now() + 10s;
        while (m_connack < 0 && SteadyClock::now() < deadline) {
            rc = service(10ms);
            if (rc != MOSQ_ERR_SUCCESS)
                throw Failure("publisher connect: " + mosquittoError(rc));
        }
        if (m_connack != 0)
            throw Failure(m_connack < 0 ? std::string("publisher: no CONNACK within 10 s")
                                        : std::string("publisher: CONNACK refused: ")
                        + mosquitto_connack_string(m_connack));
    }

    /// Publishes one message and waits until it is written out (on the calling thread).
    void publishNow(int64_t seq)
    {
        const std::string payload = messageJson(seq, wallMs(), m_size);
        int rc = mosquitto_publish(
            m_client, nullptr, m_topic.c_str(), int(payload.size()), payload.data(), 0, false);
        while (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(m_client))
            rc = service(10ms);
        if (rc != MOSQ_ERR_SUCCESS)
            throw Failure("warm-up publish: " + mosquittoError(rc));
    }

    // Waits up to `timeout` for the socket (writable only while something waits to be written)
    // and lets libmosquitto read, write and keep alive.
    int service(std::chrono::nanoseconds timeout)
    {
        pollfd fd{mosquitto_socket(m_client), short(POLLIN), 0};
        if (mosquitto_want_write(m_client))
            fd.events |= POLLOUT;
        const timespec wait{
            time_t(timeout.count() / 1'000'000'000), long(timeout.count() % 1'000'000'000)};
        if (ppoll(&fd, 1, &wait, nullptr) < 0 && errno != EINTR)
            return MOSQ_ERR_ERRNO;
        int rc = MOSQ_ERR_SUCCESS;
        if (fd.revents & (POLLIN | POLLERR | POLLHUP))
            rc = mosquitto_loop_read(m_client, 1);
        if (rc == MOSQ_ERR_SUCCESS && (fd.revents & POLLOUT))
            rc = mosquitto_loop_write(m_client, 1);
        if (rc == MOSQ_ERR_SUCCESS)
            rc = mosquitto_loop_misc(m_client);
        return rc;
    }

    bool send(int64_t seq, double t)
    {
        const std::string payload = messageJson(seq, t, m_size);
        const int rc = mosquitto_publish(
            m_client, nullptr, m_topic.c_str(), int(payload.size()), payload.data(), 0, false);
        ++m_outcome.sent;
        m_outcome.lastSendMs = wallMs();
        if (rc != MOSQ_ERR_SUCCESS) {
            fail("publish: " + mosquittoError(rc));
            return false;
        }
        return true;
    }

    // What was not written counts as errors.
    void fail(const std::string &why)
    {
        m_outcome.errors += uint64_t(m_outcome.sent) - m_outcome.accepted;
        m_outcome.firstError = why;
        m_failed = true;
    }

    // Until everything queued is written; false if the connection failed.
    bool flush(std::chrono::nanoseconds timeout)
    {
        const auto deadline = SteadyClock::now() + timeout;
        while (mosquitto_want_write(m_client)) {
            const auto left = deadline - SteadyClock::now();
            if (left <= 0ns)
                return true;
            if (const int rc = service(left); rc != MOSQ_ERR_SUCCESS) {
                fail("publish: " + mosquittoError(rc));
                return false;
            }
        }
        return true;
    }

    void saturate()
    {
        m_outcome.startMs = wallMs();
        for (int64_t seq = 0; seq < m_plan.messages && !m_failed; ++seq) {
            if (!send(seq, wallMs()) || !flush(60s))
                break;
            ++m_outcome.accepted;
            m_outcome.lastReplyMs = wallMs();
        }
    }

    // Message i is due at start + i / rate.
    void paced()
    {
        const auto startSteady = SteadyClock::now() + 20ms;
        m_outcome.startMs = wallMs() + 20;
        const auto dueAt = [&](int64_t seq) {
            return startSteady
                + std::chrono::nanoseconds(std::llround(1e9 * double(seq) / m_plan.rate));
        };
        int64_t seq = 0;
        while (seq < m_plan.messages && !m_failed) {
            const auto now = SteadyClock::now();
            if (dueAt(seq) > now) {
                if (!flush(dueAt(seq) - now))
                    break;
                if (const auto left = dueAt(seq) - SteadyClock::now(); left > 0ns) {
                    const timespec wait{
                        time_t(left.count() / 1'000'000'000), long(left.count() % 1'000'000'000)};
                    ppoll(nullptr, 0, &wait, nullptr);
                }
                continue;
            }
            const double t = m_outcome.startMs + 1e3 * double(seq) / m_plan.rate;
            m_outcome.maxLagMs = std::max(m_outcome.maxLagMs, wallMs() - t);
            if (!send(seq, t))
                break;
            ++m_outcome.accepted; // counted now: QoS 0 has no answer, and flush() counts failures
            ++seq;
        }
        if (!m_failed)
            flush(60s);
        m_outcome.lastReplyMs = wallMs();
    }

    const uint16_t m_port;
    const std::string m_topic;
    const int m_size;
    mosquitto *m_client = nullptr;
    int m_connack = -1;
    bool m_failed = false;
};

// ---------------------------------------------------------------------------------------------
// Options, main.

struct Options : LoadOptions
{
    std::vector<std::string> brokerConfig;
};

constexpr const char *kUsage =
    "usage: bench_mqtt_load MOSQUITTO_BINARY [--mode saturate|latency] [--messages M]\n"
    "       [--rate R] [--seconds S] [--subscribers N] [--threads T] [--connect-concurrency C]\n"
    "       [--size B] [--runs K] [--warmups W] [--broker-conf LINE] [--json]\n"
    "       (the top of tests/bench/mqtt_load.cpp explains them)\n";

Options parseOptions(int argc, char **argv)
{
    Options options;
    parseLoadOptions(argc, argv, kUsage, options,
        [&options](std::string_view arg, const std::function<std::string_view()> &value) {
            if (arg != "--broker-conf")
                return false;
            options.brokerConfig.emplace_back(value());
            return true;
        });
    return options;
}

int runBenchmark(const Options &options)
{
    // Three descriptors per libmosquitto client (its socket and a wake-up socket pair), one per
    // subscriber for the broker, which inherits the limit.
    raiseFileLimit(3 * rlim_t(options.subscribers) + 256,
        std::to_string(options.subscribers) + " subscribers");

    BrokerProcess broker;
    broker.start(options.server, options.brokerConfig);

    auto threads = startThreads<ClientThread>(options.threads, [&](int t) {
        const int slice =
            options.subscribers / options.threads + (t < options.subscribers % options.threads);
        ClientConfig config{
            broker.port(), std::max(1, options.connectConcurrency / options.threads)};
        return std::make_unique<ClientThread>(t, config, slice);
    });

    std::printf("bench_mqtt_load: mosquitto pid %d on port %u; %s, QoS 0, 1 publisher connection\n",
        int(broker.pid()), unsigned(broker.port()), describeLoad(options).c_str());
    std::fflush(stdout);

    QJsonObject fields{{key("qos"), 0}, {key("connections"), 1}};
    if (!options.brokerConfig.empty()) {
        QJsonArray lines;
        for (const std::string &line : options.brokerConfig)
            lines.append(QString::fromStdString(line));
        fields.insert(key("brokerConfig"), lines);
    }
    const LoadTool tool{
        .name = "bench_mqtt_load",
        .serverName = "mosquitto",
        .role = "broker",
        .faults = "lost or reordered messages",
        .summaryFields = fields,
        .openRun =
            [](int run) {
                return "bench/load/" + std::to_string(getpid()) + "/" + std::to_string(run);
            },
        .publisher = [&](const std::string &topic) -> std::unique_ptr<LoadPublisher> {
            return std::make_unique<Publisher>(broker.port(), topic, options.size);
        },
    };
    return runLoad(options, tool, broker, threads);
}

} // namespace

int main(int argc, char **argv)
{
    mosquitto_lib_init();
    const int status =
        guardedMain("bench_mqtt_load", [&] { return runBenchmark(parseOptions(argc, argv)); });
    mosquitto_lib_cleanup();
    return status;
}
