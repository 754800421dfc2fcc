// What the native fan-out load clients share (issue 23): bench_twilsock_load against
// streams-engine and bench_mqtt_load against mosquitto measure the same thing the same way, so
// their figures can be divided by each other. Here: the message payload and how a subscriber reads
// it, counting, order-checking and timestamping deliveries, the latency histogram, the server
// process (started, watched, its CPU clock read by pid), the common options, and the per-run and
// median reports. The protocol sides (twilsock over Beast, MQTT over libmosquitto) are in
// twilsock_load.cpp and mqtt_load.cpp.
#pragma once

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <signal.h>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace loadbench {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// A set-up failure: printed, and the benchmark exits 1.
struct Failure : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------------------------
// Small helpers.

inline QString key(const char *text)
{
    return QString::fromLatin1(text);
}

inline std::string compactJson(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact).toStdString();
}

/// Wall clock in ms with sub-µs resolution, comparable across threads (the messages carry it).
inline double wallMs()
{
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return double(now.tv_sec) * 1e3 + double(now.tv_nsec) / 1e6;
}

/// A CPU-time clock in ns, or -1 when it cannot be read.
inline int64_t cpuClockNs(clockid_t clock)
{
    timespec now{};
    if (clock_gettime(clock, &now) != 0)
        return -1;
    return int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

/// Another process's CPU time in ns, all threads: its process CPU clock, or the sum of its tasks'
/// /proc schedstat run times where the clock cannot be read.
inline int64_t processCpuNs(pid_t pid)
{
    clockid_t clock = 0;
    if (clock_getcpuclockid(pid, &clock) == 0) {
        if (const int64_t ns = cpuClockNs(clock); ns >= 0)
            return ns;
    }
    int64_t total = 0;
    std::error_code error;
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    for (const auto &task : std::filesystem::directory_iterator(tasks, error)) {
        if (FILE *file = std::fopen((task.path() / "schedstat").c_str(), "r")) {
            long long ns = 0;
            if (std::fscanf(file, "%lld", &ns) == 1)
                total += ns;
            std::fclose(file);
        }
    }
    return total;
}

inline const char *find(std::string_view haystack, std::string_view needle)
{
    return static_cast<const char *>(
        memmem(haystack.data(), haystack.size(), needle.data(), needle.size()));
}

inline bool contains(std::string_view haystack, std::string_view needle)
{
    return find(haystack, needle) != nullptr;
}

/// `count` of a single-writer counter read by the main thread: a plain load and store, no
/// locked read-modify-write on the hot path.
inline void bump(std::atomic<uint64_t> &count)
{
    count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

inline std::string fixed(double value, int decimals)
{
    if (!std::isfinite(value))
        return "nan";
    char text[64];
    const auto result =
        std::to_chars(text, text + sizeof text, value, std::chars_format::fixed, decimals);
    return std::string(text, result.ptr);
}

/// Waits until `done` or `timeout`, polling every `interval`; false on timeout.
template<typename Condition>
bool waitFor(Condition done, std::chrono::milliseconds timeout, std::chrono::milliseconds interval)
{
    const auto deadline = SteadyClock::now() + timeout;
    while (!done()) {
        if (SteadyClock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(interval);
    }
    return true;
}

/// Raises the open-file limit to its hard limit; fails when that leaves fewer than `needed`.
inline void raiseFileLimit(rlim_t needed, const std::string &why)
{
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    if (files.rlim_cur < needed)
        throw Failure("the open-file limit (" + std::to_string(files.rlim_cur) + ") is too low for "
            + why + ": raise ulimit -n");
}

// ---------------------------------------------------------------------------------------------
// The message: what the publisher sends and what a subscriber reads back.

/// {"seq":N,"t":T,"pad":"xx..."} padded to `size` bytes (no pad where it is already that long),
/// T the wall clock in ms with a µs fraction.
inline std::string messageJson(int64_t seq, double tMs, int size)
{
    std::string json = "{\"seq\":" + std::to_string(seq) + ",\"t\":" + fixed(tMs, 3);
    constexpr std::string_view kPadOpen = ",\"pad\":\"";
    constexpr std::string_view kPadClose = "\"}";
    if (json.size() + kPadOpen.size() + kPadClose.size() < size_t(size)) {
        json += kPadOpen;
        json.append(size_t(size) - json.size() - kPadClose.size(), 'x');
        json += kPadClose;
    } else {
        json += '}';
    }
    return json;
}

struct Stamp
{
    int64_t seq = 0;
    double t = 0;
};

/// "seq":N and, after it, "t":T, read with memmem and from_chars (no JSON parsing).
inline std::optional<Stamp> stampOf(std::string_view payload)
{
    constexpr std::string_view kSeq = "\"seq\":";
    constexpr std::string_view kT = "\"t\":";
    const char *end = payload.data() + payload.size();
    const char *seq = find(payload, kSeq);
    if (!seq)
        return std::nullopt;
    Stamp stamp;
    const auto seqEnd = std::from_chars(seq + kSeq.size(), end, stamp.seq);
    if (seqEnd.ec != std::errc())
        return std::nullopt;
    const char *t = find(std::string_view(seqEnd.ptr, size_t(end - seqEnd.ptr)), kT);
    if (!t || std::from_chars(t + kT.size(), end, stamp.t).ec != std::errc())
        return std::nullopt;
    return stamp;
}

// ---------------------------------------------------------------------------------------------
// Latency histogram: 10 µs buckets up to 1 s, then 1 ms buckets up to 100 s (twilsock_fanout.js).

class Histogram
{
public:
    Histogram() : m_counts(kFine + kCoarse + 1, 0) { }

    void record(double ms)
    {
        const double us = std::max(0.0, ms * 1000);
        size_t index = us < 1e6 ? size_t(us / 10) : kFine + size_t((us - 1e6) / 1000);
        index = std::min(index, m_counts.size() - 1);
        ++m_counts[index];
        ++m_total;
    }

    void merge(const Histogram &other)
    {
        for (size_t i = 0; i < m_counts.size(); ++i)
            m_counts[i] += other.m_counts[i];
        m_total += other.m_total;
    }

    void clear()
    {
        std::fill(m_counts.begin(), m_counts.end(), 0);
        m_total = 0;
    }

    uint64_t total() const { return m_total; }

    double percentile(double p) const
    {
        if (m_total == 0)
            return std::nan("");
        const auto rank = std::max<uint64_t>(1, uint64_t(std::ceil(double(m_total) * p)));
        uint64_t seen = 0;
        for (size_t i = 0; i < m_counts.size(); ++i) {
            seen += m_counts[i];
            if (seen >= rank)
                return bucketMs(i);
        }
        return bucketMs(m_counts.size() - 1);
    }

private:
    static constexpr size_t kFine = 100'000;
    static constexpr size_t kCoarse = 99'000;

    static double bucketMs(size_t index)
    {
        return index < kFine ? (double(index) + 0.5) / 100 : 1000 + (double(index - kFine) + 0.5);
    }

    std::vector<uint64_t> m_counts;
    uint64_t m_total = 0;
};

// ---------------------------------------------------------------------------------------------
// Deliveries on one client thread.

struct ThreadResult
{
    Histogram histogram;
    uint64_t received = 0;
    uint64_t outOfOrder = 0;
    uint64_t badFrames = 0;
    uint64_t closed = 0;
    std::string closeReason;
    double lastDeliveryMs = 0;
};

/// Counts, order-checks and timestamps what one client thread's subscribers receive. Written only
/// on that thread; the atomics are what the main thread polls while a run is under way.
class DeliveryTally
{
public:
    /// One delivered message payload. Warm-ups (negative seq) are only counted. `lastSeq` is the
    /// subscriber's last seq per publisher lane: seq must increase on lane seq % lastSeq.size().
    void deliver(std::string_view payload, std::span<int64_t> lastSeq)
    {
        const auto stamp = stampOf(payload);
        if (!stamp) {
            ++m_badFrames;
            return;
        }
        const double now = wallMs();
        if (stamp->seq < 0) {
            bump(m_warmups);
            return;
        }
        int64_t &last = lastSeq[size_t(stamp->seq % int64_t(lastSeq.size()))];
        if (stamp->seq <= last)
            ++m_outOfOrder;
        last = stamp->seq;
        bump(m_received);
        m_lastDeliveryMs.store(now, std::memory_order_relaxed);
        m_histogram.record(now - stamp->t);
    }

    void badFrame() { ++m_badFrames; }

    /// A live subscriber's connection closed during a run.
    void closed(const std::string &reason)
    {
        ++m_closed;
        if (m_closeReason.empty())
            m_closeReason = reason;
    }

    /// Zeroes the counters before a run's warm-up (closed subscribers stay counted).
    void reset()
    {
        m_histogram.clear();
        m_outOfOrder = 0;
        m_badFrames = 0;
        m_received.store(0);
        m_warmups.store(0);
        m_lastDeliveryMs.store(0);
    }

    ThreadResult result() const
    {
        ThreadResult result;
        result.histogram = m_histogram;
        result.received = m_received.load();
        result.outOfOrder = m_outOfOrder;
        result.badFrames = m_badFrames;
        result.closed = m_closed;
        result.closeReason = m_closeReason;
        result.lastDeliveryMs = m_lastDeliveryMs.load();
        return result;
    }

    // Any thread.
    uint64_t received() const { return m_received.load(std::memory_order_relaxed); }
    uint64_t warmups() const { return m_warmups.load(std::memory_order_relaxed); }

private:
    Histogram m_histogram;
    uint64_t m_outOfOrder = 0;
    uint64_t m_badFrames = 0;
    uint64_t m_closed = 0;
    std::string m_closeReason;
    std::atomic<uint64_t> m_received{0};
    std::atomic<uint64_t> m_warmups{0};
    std::atomic<double> m_lastDeliveryMs{0};
};

// ---------------------------------------------------------------------------------------------
// The server process.

/// A child process with stdin on /dev/null, stdout handed to a callback and stderr kept (its last
/// 64 KiB) to be shown when something goes wrong; stopped with SIGTERM, then SIGKILL after 10 s.
/// Dies with this process (PR_SET_PDEATHSIG), so an interrupted benchmark leaves nothing behind.
class ChildProcess
{
public:
    /// Each chunk of stdout, then an empty view at its end; called on a reader thread.
    using OnStdout = std::function<void(std::string_view)>;

    ChildProcess() = default;
    ChildProcess(const ChildProcess &) = delete;
    ChildProcess &operator=(const ChildProcess &) = delete;
    ~ChildProcess() { stop(); }

    /// Runs arguments[0] with `arguments` and `environment` (a copy of ours when empty).
    void start(std::vector<std::string> arguments, std::vector<std::string> environment,
        OnStdout onStdout = {})
    {
        if (access(arguments.at(0).c_str(), X_OK) != 0)
            throw Failure("binary not found or not executable: " + arguments[0]);
        if (environment.empty()) {
            for (char **entry = environ; *entry; ++entry)
                environment.emplace_back(*entry);
        }
        const auto pointers = [](std::vector<std::string> &strings) {
            std::vector<char *> list;
            list.reserve(strings.size() + 1);
            for (std::string &text : strings)
                list.push_back(text.data());
            list.push_back(nullptr);
            return list;
        };
        std::vector<char *> argv = pointers(arguments);
        std::vector<char *> envp = pointers(environment);

        int out[2];
        int err[2];
        if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
            throw Failure(std::string("pipe: ") + std::strerror(errno));
        const int devNull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        const pid_t parent = getpid();
        m_pid = fork();
        if (m_pid < 0)
            throw Failure(std::string("fork: ") + std::strerror(errno));
        if (m_pid == 0) {
            // Only async-signal-safe calls from here on.
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(127);
            dup2(devNull, STDIN_FILENO);
            dup2(out[1], STDOUT_FILENO);
            dup2(err[1], STDERR_FILENO);
            execve(argv[0], argv.data(), envp.data());
            _exit(127);
        }
        close(out[1]);
        close(err[1]);
        close(devNull);
        m_stdoutReader = std::thread([fd = out[0], onStdout = std::move(onStdout)] {
            drain(fd, [&](std::string_view chunk) {
                if (onStdout)
                    onStdout(chunk);
            });
            if (onStdout)
                onStdout({});
        });
        m_stderrReader = std::thread([this, fd = err[0]] {
            drain(fd, [this](std::string_view chunk) {
                std::lock_guard lock(m_mutex);
                m_stderr += chunk;
                if (m_stderr.size() > 64 * 1024)
                    m_stderr.erase(0, m_stderr.size() - 64 * 1024);
            });
        });
    }

    pid_t pid() const { return m_pid; }

    bool alive()
    {
        if (m_pid <= 0 || !m_exit.empty())
            return false;
        int status = 0;
        if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_exit = describe(status);
            return false;
        }
        return true;
    }

    /// How the process ended, once it has.
    const std::string &exitStatus() const { return m_exit; }

    std::string stderrText()
    {
        std::lock_guard lock(m_mutex);
        return m_stderr;
    }

    int64_t cpuNs() const { return processCpuNs(m_pid); }

    void stop()
    {
        if (m_pid > 0 && alive()) {
            kill(m_pid, SIGTERM);
            const auto deadline = SteadyClock::now() + 10s;
            while (alive() && SteadyClock::now() < deadline)
                std::this_thread::sleep_for(10ms);
            if (alive()) {
                kill(m_pid, SIGKILL);
                int status = 0;
                waitpid(m_pid, &status, 0);
                m_exit = describe(status) + " after SIGTERM was ignored for 10 s";
            }
        }
        if (m_stdoutReader.joinable())
            m_stdoutReader.join();
        if (m_stderrReader.joinable())
            m_stderrReader.join();
    }

private:
    static std::string describe(int status)
    {
        if (WIFEXITED(status))
            return "exit code " + std::to_string(WEXITSTATUS(status));
        if (WIFSIGNALED(status))
            return "killed by signal " + std::to_string(WTERMSIG(status));
        return "status " + std::to_string(status);
    }

    // Reads `fd` to its end, each chunk to `onChunk`, and closes it.
    template<typename OnChunk>
    static void drain(int fd, OnChunk onChunk)
    {
        char buffer[4096];
        for (;;) {
            const ssize_t n = read(fd, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            onChunk(std::string_view(buffer, size_t(n)));
        }
        close(fd);
    }

    pid_t m_pid = -1;
    std::string m_exit;
    std::thread m_stdoutReader;
    std::thread m_stderrReader;
    std::mutex m_mutex;
    std::string m_stderr;
};

/// A fresh temporary directory, removed with everything in it on destruction.
class TemporaryDirectory
{
public:
    explicit TemporaryDirectory(const char *prefix)
    {
        std::string dirTemplate =
            (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
        if (!mkdtemp(dirTemplate.data()))
            throw Failure(
                std::string("cannot create a temporary directory: ") + std::strerror(errno));
        m_path = dirTemplate;
    }
    TemporaryDirectory(const TemporaryDirectory &) = delete;
    TemporaryDirectory &operator=(const TemporaryDirectory &) = delete;
    ~TemporaryDirectory()
    {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }

    const std::string &path() const { return m_path; }

private:
    std::string m_path;
};

// ---------------------------------------------------------------------------------------------
// Options both tools take.

struct LoadOptions
{
    std::string server; // the server binary, the first argument
    bool saturate = true;
    int64_t messages = 0; // 0: enough for 400,000 deliveries
    double rate = 1000;
    double seconds = 5;
    int subscribers = 1000;
    int threads = 1;
    int connectConcurrency = 50;
    int size = 200;
    int runs = 1;
    int warmups = 5;
    bool json = false;
};

/// `text` as a number from `minimum` to `maximum`, or a Failure naming the option.
inline double parseNumber(
    std::string_view name, std::string_view text, double minimum, double maximum)
{
    double value = 0;
    const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
    if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()
        || !(value >= minimum && value <= maximum))
        throw Failure(std::string(name) + ": '" + std::string(text) + "' is not a number from "
            + fixed(minimum, 0) + " to " + fixed(maximum, 0));
    return value;
}

/// Parses the common options into `options`; `extra(arg, value)` gets every other option first
/// and returns whether it took it (`value()` consumes the option's argument).
template<typename Extra>
void parseLoadOptions(int argc, char **argv, const char *usage, LoadOptions &options, Extra extra)
{
    const auto number = parseNumber;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const std::function<std::string_view()> value = [&]() -> std::string_view {
            if (i + 1 >= argc)
                throw Failure(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            std::fputs(usage, stdout);
            std::exit(0);
        } else if (extra(arg, value)) {
            continue;
        } else if (arg == "--mode") {
            const std::string_view mode = value();
            if (mode != "saturate" && mode != "latency")
                throw Failure("--mode is saturate or latency");
            options.saturate = mode == "saturate";
        } else if (arg == "--messages") {
            options.messages = int64_t(number(arg, value(), 1, 1e9));
        } else if (arg == "--rate") {
            options.rate = number(arg, value(), 0.001, 1e7);
        } else if (arg == "--seconds") {
            options.seconds = number(arg, value(), 0.001, 86400);
        } else if (arg == "--subscribers") {
            options.subscribers = int(number(arg, value(), 1, 1e6));
        } else if (arg == "--threads") {
            options.threads = int(number(arg, value(), 1, 256));
        } else if (arg == "--connect-concurrency") {
            options.connectConcurrency = int(number(arg, value(), 1, 1e5));
        } else if (arg == "--size") {
            options.size = int(number(arg, value(), 0, 4000));
        } else if (arg == "--runs") {
            options.runs = int(number(arg, value(), 1, 1000));
        } else if (arg == "--warmups") {
            options.warmups = int(number(arg, value(), 1, 1000));
        } else if (arg == "--json") {
            options.json = true;
        } else if (arg.starts_with("--")) {
            throw Failure("unknown option " + std::string(arg) + "\n" + usage);
        } else if (options.server.empty()) {
            options.server = arg;
        } else {
            throw Failure("one server binary only\n" + std::string(usage));
        }
    }
    if (options.server.empty())
        throw Failure(usage);
    options.threads = std::min(options.threads, options.subscribers);
    if (options.messages == 0)
        options.messages =
            std::max<int64_t>(100, (400'000 + options.subscribers - 1) / options.subscribers);
}

// ---------------------------------------------------------------------------------------------
// Figures.

struct PublishOutcome
{
    int64_t sent = 0;
    uint64_t accepted = 0;
    uint64_t refused = 0; // answered with a status outside 2xx (REST)
    uint64_t errors = 0; // not sent or not answered (socket errors)
    std::map<unsigned, uint64_t> statuses; // REST only
    std::string firstError;
    double startMs = 0; // saturate: the first send; latency: the first scheduled send
    double lastSendMs = 0;
    double lastReplyMs = 0; // REST: the last reply; MQTT QoS 0: the last publish written out
    double maxLagMs = 0; // latency: the latest a message went out after its scheduled time
    Histogram replies; // publish -> reply, from the message's t (REST only)
};

struct CpuSample
{
    double wallMs = 0;
    int64_t serverNs = 0;
    int64_t clientNs = 0; // this process
    int64_t subscriberNs = 0; // the client threads
};

/// `server`: the server's process CPU; `threadNs`: the subscriber threads' clocks, summed.
inline CpuSample sampleCpu(int64_t serverNs, int64_t threadNs)
{
    return {wallMs(), serverNs, cpuClockNs(CLOCK_PROCESS_CPUTIME_ID), threadNs};
}

/// Until `total()` reaches `expected`, or nothing new arrived for 3 s.
template<typename Total>
void drainDeliveries(uint64_t expected, Total total)
{
    uint64_t last = total();
    auto lastChange = SteadyClock::now();
    while (last < expected && SteadyClock::now() - lastChange < 3s) {
        std::this_thread::sleep_for(1ms);
        if (const uint64_t current = total(); current != last) {
            last = current;
            lastChange = SteadyClock::now();
        }
    }
}

/// One run's figures; the ones compared across runs are in `spread()`. `server` names the
/// server's figures ("engine", "broker").
struct RunFigures
{
    std::string server;
    int subscribers = 0;
    PublishOutcome publish;
    uint64_t expected = 0;
    uint64_t received = 0;
    uint64_t lost = 0;
    uint64_t outOfOrder = 0;
    uint64_t badFrames = 0;
    uint64_t closed = 0;
    std::string closeReason;
    double windowS = 0;
    double deliveriesPerSecond = 0;
    double publishedPerSecond = 0;
    double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
    double replyP50 = 0, replyP99 = 0;
    double serverCpuPercent = 0, serverUsPerDelivery = 0;
    double clientCpuPercent = 0, clientUsPerDelivery = 0;
    double subscriberCpuPercent = 0, subscriberUsPerDelivery = 0;
    double prepareSeconds = 0;

    /// Everything measured after the publisher finished: what the threads received and the CPU
    /// the window cost. `expected` must be set.
    void complete(bool saturate, const std::vector<ThreadResult> &results, const CpuSample &before,
        const CpuSample &after)
    {
        Histogram latency;
        double lastDeliveryMs = 0;
        for (const ThreadResult &result : results) {
            latency.merge(result.histogram);
            received += result.received;
            outOfOrder += result.outOfOrder;
            badFrames += result.badFrames;
            closed += result.closed;
            if (closeReason.empty())
                closeReason = result.closeReason;
            lastDeliveryMs = std::max(lastDeliveryMs, result.lastDeliveryMs);
        }
        const PublishOutcome &p = publish;
        lost = expected > received ? expected - received : 0;
        const double endMs = saturate ? lastDeliveryMs : std::max(lastDeliveryMs, p.lastSendMs);
        windowS = (endMs - p.startMs) / 1000;
        deliveriesPerSecond = windowS > 0 ? double(received) / windowS : 0;
        const double publishWindowS =
            ((saturate ? p.lastReplyMs : p.lastSendMs) - p.startMs) / 1000;
        publishedPerSecond = publishWindowS > 0 ? double(p.sent) / publishWindowS : 0;
        p50 = latency.percentile(0.5);
        p90 = latency.percentile(0.9);
        p99 = latency.percentile(0.99);
        p999 = latency.percentile(0.999);
        max = latency.percentile(1);
        replyP50 = p.replies.percentile(0.5);
        replyP99 = p.replies.percentile(0.99);
        const double cpuWindowS = (after.wallMs - before.wallMs) / 1000;
        const double deliveries = double(std::max<uint64_t>(1, received));
        const auto percent = [cpuWindowS](int64_t ns) { return double(ns) / 1e7 / cpuWindowS; };
        const auto perDelivery = [deliveries](int64_t ns) { return double(ns) / 1e3 / deliveries; };
        serverCpuPercent = percent(after.serverNs - before.serverNs);
        serverUsPerDelivery = perDelivery(after.serverNs - before.serverNs);
        clientCpuPercent = percent(after.clientNs - before.clientNs);
        clientUsPerDelivery = perDelivery(after.clientNs - before.clientNs);
        subscriberCpuPercent = percent(after.subscriberNs - before.subscriberNs);
        subscriberUsPerDelivery = perDelivery(after.subscriberNs - before.subscriberNs);
    }

    bool clean() const
    {
        return received > 0 && lost == 0 && outOfOrder == 0 && badFrames == 0 && closed == 0
            && publish.refused == 0 && publish.errors == 0;
    }

    std::vector<std::pair<std::string, double>> spread() const
    {
        return {{"deliveriesPerSecond", deliveriesPerSecond}, {"latencyP50Ms", p50},
            {"latencyP99Ms", p99}, {"latencyMaxMs", max},
            {server + "UsPerDelivery", serverUsPerDelivery},
            {server + "CpuPercent", serverCpuPercent}, {"clientUsPerDelivery", clientUsPerDelivery},
            {"clientCpuPercent", clientCpuPercent},
            {"subscriberThreadsUsPerDelivery", subscriberUsPerDelivery},
            {"subscriberThreadsCpuPercent", subscriberCpuPercent}};
    }

    QJsonObject toJson() const
    {
        QJsonObject statuses;
        for (const auto &[status, count] : publish.statuses)
            statuses.insert(QString::number(status), qint64(count));
        QJsonObject object{{key("subscribers"), subscribers},
            {key("published"), qint64(publish.sent)},
            {key("publishAccepted"), qint64(publish.accepted)},
            {key("publishRefused"), qint64(publish.refused)},
            {key("publishErrors"), qint64(publish.errors)}, {key("publishStatuses"), statuses},
            {key("publishedPerSecond"), std::round(publishedPerSecond)},
            {key("publisherMaxLagMs"), publish.maxLagMs},
            {key("expectedDeliveries"), qint64(expected)}, {key("deliveries"), qint64(received)},
            {key("lost"), qint64(lost)}, {key("outOfOrder"), qint64(outOfOrder)},
            {key("badFrames"), qint64(badFrames)}, {key("closedSubscribers"), qint64(closed)},
            {key("windowSeconds"), windowS}, {key("latencyP90Ms"), p90},
            {key("latencyP999Ms"), p999}, {key("publishReplyP50Ms"), replyP50},
            {key("publishReplyP99Ms"), replyP99}, {key("subscribeSeconds"), prepareSeconds}};
        for (const auto &[name, value] : spread())
            object.insert(QString::fromStdString(name), value);
        return object;
    }
};

struct Spread
{
    double median = 0, min = 0, max = 0;
};

inline Spread spreadOf(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    const double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return {median, values.front(), values.back()};
}

inline void printRun(const LoadOptions &options, int run, const RunFigures &f)
{
    const PublishOutcome &p = f.publish;
    std::printf("run %d/%d: %d subscribers, subscribed in %s s\n", run, options.runs, f.subscribers,
        fixed(f.prepareSeconds, 2).c_str());
    if (!p.statuses.empty() || p.replies.total() > 0 || p.refused > 0) {
        std::string statuses;
        for (const auto &[status, count] : p.statuses)
            statuses += " " + std::to_string(status) + "x" + std::to_string(count);
        std::printf("  published %lld (%s/s; max lag %s ms): accepted %llu, refused %llu, errors "
                    "%llu; statuses%s; publish->reply p50 %s p99 %s ms\n",
            static_cast<long long>(p.sent), fixed(f.publishedPerSecond, 0).c_str(),
            fixed(p.maxLagMs, 2).c_str(), static_cast<unsigned long long>(p.accepted),
            static_cast<unsigned long long>(p.refused), static_cast<unsigned long long>(p.errors),
            statuses.c_str(), fixed(f.replyP50, 2).c_str(), fixed(f.replyP99, 2).c_str());
    } else { // nothing answers a publish (MQTT QoS 0)
        std::printf("  published %lld (%s/s; max lag %s ms): written %llu, errors %llu\n",
            static_cast<long long>(p.sent), fixed(f.publishedPerSecond, 0).c_str(),
            fixed(p.maxLagMs, 2).c_str(), static_cast<unsigned long long>(p.accepted),
            static_cast<unsigned long long>(p.errors));
    }
    if (!p.firstError.empty())
        std::printf("  first publish error: %s\n", p.firstError.c_str());
    std::printf("  deliveries %llu of %llu (lost %llu, out of order %llu, bad frames %llu, closed "
                "subscribers %llu%s%s): %s deliveries/s over %s s\n",
        static_cast<unsigned long long>(f.received), static_cast<unsigned long long>(f.expected),
        static_cast<unsigned long long>(f.lost), static_cast<unsigned long long>(f.outOfOrder),
        static_cast<unsigned long long>(f.badFrames), static_cast<unsigned long long>(f.closed),
        f.closeReason.empty() ? "" : ": ", f.closeReason.c_str(),
        fixed(f.deliveriesPerSecond, 0).c_str(), fixed(f.windowS, 3).c_str());
    std::printf("  publish->deliver latency ms: p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
        fixed(f.p50, 2).c_str(), fixed(f.p90, 2).c_str(), fixed(f.p99, 2).c_str(),
        fixed(f.p999, 2).c_str(), fixed(f.max, 2).c_str());
    std::printf("  CPU: %s %s%% of a core, %s us/delivery; client %s%%, %s us/delivery "
                "(subscriber threads %s%%, %s us/delivery)\n",
        f.server.c_str(), fixed(f.serverCpuPercent, 1).c_str(),
        fixed(f.serverUsPerDelivery, 3).c_str(), fixed(f.clientCpuPercent, 1).c_str(),
        fixed(f.clientUsPerDelivery, 3).c_str(), fixed(f.subscriberCpuPercent, 1).c_str(),
        fixed(f.subscriberUsPerDelivery, 3).c_str());
    std::fflush(stdout);
}

/// Prints the median and min-max of every run's spread figures and, with --json, one line with
/// every run and `fields` (the tool's own settings). Whether every run was clean and the server
/// (`serverAlive`) still running.
inline bool printSummary(const LoadOptions &options, const char *tool,
    const std::vector<RunFigures> &runs, QJsonObject fields, bool serverAlive)
{
    bool clean = serverAlive;
    for (const RunFigures &figures : runs)
        clean = clean && figures.clean();
    QJsonObject medians;
    QJsonObject minima;
    QJsonObject maxima;
    if (!runs.empty()) {
        std::printf("median of %zu run%s (min-max):\n", runs.size(), runs.size() == 1 ? "" : "s");
        const auto names = runs.front().spread();
        for (size_t i = 0; i < names.size(); ++i) {
            std::vector<double> values;
            values.reserve(runs.size());
            for (const RunFigures &figures : runs)
                values.push_back(figures.spread()[i].second);
            const Spread spread = spreadOf(values);
            const int decimals = spread.median >= 1000 ? 0 : 3;
            std::printf("  %-32s %s (%s-%s)\n", names[i].first.c_str(),
                fixed(spread.median, decimals).c_str(), fixed(spread.min, decimals).c_str(),
                fixed(spread.max, decimals).c_str());
            const QString name = QString::fromStdString(names[i].first);
            medians.insert(name, spread.median);
            minima.insert(name, spread.min);
            maxima.insert(name, spread.max);
        }
    }
    if (options.json) {
        QJsonArray runList;
        for (const RunFigures &figures : runs)
            runList.append(figures.toJson());
        QJsonObject summary{{key("tool"), key(tool)},
            {key("mode"), key(options.saturate ? "saturate" : "latency")},
            {key("subscribers"), options.subscribers}, {key("threads"), options.threads},
            {key("size"), options.size}, {key("runs"), runList}, {key("median"), medians},
            {key("min"), minima}, {key("max"), maxima}, {key("clean"), clean}};
        for (auto field = fields.begin(); field != fields.end(); ++field)
            summary.insert(field.key(), field.value());
        if (options.saturate) {
            summary.insert(key("messages"), qint64(options.messages));
        } else {
            summary.insert(key("rate"), options.rate);
            summary.insert(key("seconds"), options.seconds);
        }
        std::printf("%s\n", compactJson(summary).c_str());
    }
    std::fflush(stdout);
    return clean;
}

} // namespace loadbench
