// What the native fan-out load clients share beyond loadreport.h (issue 24): the client thread
// that sets up a slice of the subscribers and counts what they receive, and main()'s run loop
// (set-up, warm-up, measured window, drain, report, exit status). bench_twilsock_load and
// bench_mqtt_load must measure the same way for their figures to be divided by each other, so
// this is written once; twilsock_load.cpp and mqtt_load.cpp keep only their protocol: how a
// subscriber connects, subscribes, parses and acknowledges, and how messages are published.
#pragma once

#include "loadreport.h"

#include <QJsonObject>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <pthread.h>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace loadbench {

// ---------------------------------------------------------------------------------------------
// The client thread.

/// What one thread's set-up of its subscribers came to.
struct PrepareResult
{
    int ready = 0;
    int failed = 0;
    std::string firstError;
};

/// Where a subscriber's set-up stands. The steps between Connecting and Live are the protocol's:
/// MQTT has no Initialising; each protocol names its steps (LoadThread::describeStep).
enum class SubscriberState {
    Idle,
    Connecting,
    Initialising,
    Subscribing,
    Live,
    Failed,
    Closed
};

/// One thread, one event loop, a slice of the subscribers: connects and subscribes them (at most
/// connectConcurrency at once, within a deadline), tallies what they receive, and hands the tally
/// to the main thread. Every member is touched only on that thread, except the tally's atomics
/// the main thread polls; the main thread reaches the rest through post() and onThread().
///
/// The protocol's leaf class (final) supplies the event loop (post, run, and the deadline when
/// the loop does not poll it) and a subscriber's steps (begin, which ends in finishPrepare or
/// connectionLost). `Subscriber` needs `preparing`, `state` and an array `lastSeq`. The leaf's
/// destructor calls stop(): the hooks stop() runs are the leaf's, gone by the time this
/// destructor runs.
template<typename Subscriber>
class LoadThread
{
public:
    explicit LoadThread(int connectConcurrency) : m_connectConcurrency(connectConcurrency) { }
    LoadThread(const LoadThread &) = delete;
    LoadThread &operator=(const LoadThread &) = delete;
    virtual ~LoadThread() = default;

    void start()
    {
        m_thread = std::thread([this] { run(); });
        if (pthread_getcpuclockid(m_thread.native_handle(), &m_cpuClock) != 0)
            m_cpuClock = -1;
    }

    /// Closes every subscriber's connection and joins the thread.
    void stop()
    {
        if (!m_thread.joinable())
            return;
        post([this] {
            m_stopping = true;
            cancelDeadline();
            disconnectAll();
        });
        releaseLoop();
        m_thread.join();
    }

    int64_t cpuNs() const { return m_cpuClock == clockid_t(-1) ? 0 : cpuClockNs(m_cpuClock); }
    uint64_t received() const { return m_tally.received(); }
    uint64_t warmups() const { return m_tally.warmups(); }

    /// Connects (the first time) and subscribes every subscriber to `target` (the run's topic or
    /// stream), dropping its subscription to `previousTarget`, at most connectConcurrency at once.
    std::future<PrepareResult> prepare(std::string target, std::string previousTarget)
    {
        auto promise = std::make_shared<std::promise<PrepareResult>>();
        auto future = promise->get_future();
        post([this, promise, target, previousTarget]() mutable {
            m_prepared = std::move(promise);
            m_target = std::move(target);
            m_previousTarget = std::move(previousTarget);
            m_prepareResult = {};
            m_next = 0;
            m_inFlight = 0;
            m_done = 0;
            m_deadline = SteadyClock::now() + 30s + 20ms * int64_t(m_subscribers.size());
            armDeadline();
            if (m_subscribers.empty())
                completePrepare();
            else
                pump();
        });
        return future;
    }

    /// Zeroes the counters before a run's warm-up.
    void reset()
    {
        onThread([this] {
            m_tally.reset();
            for (auto &subscriber : m_subscribers)
                subscriber->lastSeq.fill(-1);
        });
    }

    ThreadResult collect()
    {
        return onThread([this] { return m_tally.result(); });
    }

protected:
    // --- the protocol's part ----------------------------------------------------------------

    /// Queues `task` to run on the thread (any thread).
    virtual void post(std::function<void()> task) = 0;
    /// The event loop, until m_stopping.
    virtual void run() = 0;
    /// Starts a subscriber's set-up: to Live with subscriptions to m_target and none to
    /// m_previousTarget, reported by finishPrepare (or connectionLost).
    virtual void begin(Subscriber &s) = 0;
    /// Closes every connection (on the thread, stopping).
    virtual void disconnectAll() = 0;
    /// What a subscriber waits for in the protocol's steps (Connecting to Subscribing).
    virtual const char *describeStep(SubscriberState state) const = 0;
    /// A loop that does not check m_deadline itself arms a timer for it here (on the thread).
    virtual void armDeadline() { }
    virtual void cancelDeadline() { }
    /// Lets run() return once the stop task has run (stop()'s thread).
    virtual void releaseLoop() { }

    // --- for the protocol -------------------------------------------------------------------

    /// Runs `function` on the thread and waits for its result.
    template<typename Function>
    auto onThread(Function function) -> decltype(function())
    {
        std::packaged_task<decltype(function())()> task(std::move(function));
        auto future = task.get_future();
        post([&task] { task(); });
        return future.get();
    }

    const char *describe(SubscriberState state) const
    {
        switch (state) {
        case SubscriberState::Idle: return "not started";
        case SubscriberState::Live: return "live";
        case SubscriberState::Failed: return "failed";
        case SubscriberState::Closed: return "closed";
        default: return describeStep(state);
        }
    }

    /// Ends a subscriber's set-up: Live on an empty `error`, else Failed with it.
    void finishPrepare(Subscriber &s, const std::string &error)
    {
        if (!s.preparing)
            return;
        s.preparing = false;
        if (error.empty()) {
            s.state = SubscriberState::Live;
            ++m_prepareResult.ready;
        } else {
            s.state = SubscriberState::Failed;
            ++m_prepareResult.failed;
            if (m_prepareResult.firstError.empty())
                m_prepareResult.firstError = error;
        }
        --m_inFlight;
        if (++m_done == m_subscribers.size())
            completePrepare();
        else
            pump();
    }

    /// A subscriber's connection is gone: a failed set-up (`prepareError`) while it is prepared,
    /// a closed subscriber (`reason`, counted in the run) once it was live, nothing when stopping.
    void connectionLost(Subscriber &s, const std::string &prepareError, const std::string &reason)
    {
        if (s.preparing) {
            finishPrepare(s, prepareError);
            return;
        }
        if (m_stopping || s.state != SubscriberState::Live)
            return;
        s.state = SubscriberState::Closed;
        m_tally.closed(reason);
    }

    /// The set-up's deadline passed: what has not finished fails, naming the step it was at.
    void onDeadline()
    {
        if (!m_prepared)
            return;
        const size_t unstarted = m_subscribers.size() - m_next;
        m_next = m_subscribers.size();
        m_done += unstarted;
        m_prepareResult.failed += int(unstarted);
        for (auto &subscriber : m_subscribers) {
            if (subscriber->preparing)
                finishPrepare(
                    *subscriber, std::string("timed out while ") + describe(subscriber->state));
        }
        if (m_prepareResult.firstError.empty())
            m_prepareResult.firstError = "timed out before connecting";
        if (m_done == m_subscribers.size())
            completePrepare();
    }

    std::vector<std::unique_ptr<Subscriber>> m_subscribers;
    bool m_stopping = false;
    // The set-up in progress: what to subscribe to, what to leave, until when.
    std::string m_target;
    std::string m_previousTarget;
    SteadyClock::time_point m_deadline;
    DeliveryTally m_tally;

private:
    void pump()
    {
        while (m_inFlight < m_connectConcurrency && m_next < m_subscribers.size()) {
            ++m_inFlight;
            begin(*m_subscribers[m_next++]);
        }
    }

    void completePrepare()
    {
        cancelDeadline();
        if (auto prepared = std::exchange(m_prepared, nullptr))
            prepared->set_value(m_prepareResult);
    }

    const int m_connectConcurrency;
    std::thread m_thread;
    clockid_t m_cpuClock = clockid_t(-1);
    std::shared_ptr<std::promise<PrepareResult>> m_prepared;
    PrepareResult m_prepareResult;
    size_t m_next = 0;
    int m_inFlight = 0;
    size_t m_done = 0;
};

/// `count` threads made by `make(index)`, each started as soon as it is made.
template<typename Thread, typename Make>
std::vector<std::unique_ptr<Thread>> startThreads(int count, Make make)
{
    std::vector<std::unique_ptr<Thread>> threads;
    for (int t = 0; t < count; ++t) {
        threads.push_back(make(t));
        threads.back()->start();
    }
    return threads;
}

// ---------------------------------------------------------------------------------------------
// The run loop.

struct PublishPlan
{
    bool saturate = true;
    int64_t messages = 0;
    double rate = 0; // latency mode
};

/// One run's publisher, made for the run's target. The measured messages go out on a thread of
/// their own, so that the main thread is free to watch the deliveries.
class LoadPublisher
{
public:
    LoadPublisher() = default;
    LoadPublisher(const LoadPublisher &) = delete;
    LoadPublisher &operator=(const LoadPublisher &) = delete;
    virtual ~LoadPublisher() = default;

    /// Publishes `count` unmeasured messages, seq -1 down to -count, each sent before the next.
    virtual void warmUp(int count) = 0;
    /// Readies the measured publishing: after the warm-up reached everyone, before the CPU sample.
    virtual void connect() = 0;

    void start(const PublishPlan &plan)
    {
        m_plan = plan;
        m_thread = std::thread([this] { publish(); });
    }

    /// Waits until publish() returns: the last message written out (or answered).
    PublishOutcome finish()
    {
        m_thread.join();
        return std::move(m_outcome);
    }

protected:
    /// The measured messages (m_plan), on the publisher's thread, counted in m_outcome.
    virtual void publish() = 0;

    std::thread m_thread;
    PublishPlan m_plan;
    PublishOutcome m_outcome;
};

/// What the run loop needs of a tool besides its server and threads.
struct LoadTool
{
    const char *name; // "bench_mqtt_load": the summary's tool and the messages' prefix
    const char *serverName; // "mosquitto", in "... died during the benchmark"
    const char *role; // RunFigures::server: "broker", "engine"
    const char *faults; // what an unclean run did, e.g. "lost or reordered messages"
    QJsonObject summaryFields; // the tool's own settings, in the --json summary
    /// Makes run `run`'s topic or stream; returns what the subscribers subscribe to.
    std::function<std::string(int run)> openRun;
    std::function<std::unique_ptr<LoadPublisher>(const std::string &target)> publisher;
};

/// The first line's description of the load, the same in both tools: "N subscribers on T threads,
/// saturate M messages, B-byte messages" (or "R msg/s for S s").
inline std::string describeLoad(const LoadOptions &options)
{
    return std::to_string(options.subscribers) + " subscribers on "
        + std::to_string(options.threads) + " thread" + (options.threads == 1 ? "" : "s") + ", "
        + (options.saturate
                ? "saturate " + std::to_string(options.messages) + " messages"
                : fixed(options.rate, 0) + " msg/s for " + fixed(options.seconds, 1) + " s")
        + ", " + std::to_string(options.size) + "-byte messages";
}

/// Every run: subscribers set up on a fresh target, warm-up, measured window, drain, report;
/// then the summary, the threads stopped, and the exit status (1 if the server died or a run was
/// not clean, with the reason on stderr). `Server` is the tool's ChildProcess wrapper.
template<typename Server, typename Thread>
int runLoad(const LoadOptions &options, const LoadTool &tool, Server &server,
    std::vector<std::unique_ptr<Thread>> &threads)
{
    const auto total = [&threads](uint64_t (Thread::*count)() const) {
        uint64_t sum = 0;
        for (const auto &thread : threads)
            sum += (thread.get()->*count)();
        return sum;
    };
    const auto sampleCpu = [&server, &threads] {
        int64_t threadNs = 0;
        for (const auto &thread : threads)
            threadNs += thread->cpuNs();
        return loadbench::sampleCpu(server.cpuNs(), threadNs);
    };

    std::vector<RunFigures> runs;
    std::string previousTarget;
    for (int run = 1; run <= options.runs; ++run) {
        const std::string target = tool.openRun(run);
        RunFigures figures;
        figures.server = tool.role;
        const auto prepareStarted = SteadyClock::now();
        std::vector<std::future<PrepareResult>> prepared;
        prepared.reserve(threads.size());
        for (const auto &thread : threads)
            prepared.push_back(thread->prepare(target, previousTarget));
        for (auto &future : prepared) {
            const PrepareResult result = future.get();
            figures.subscribers += result.ready;
            if (result.failed > 0)
                throw Failure(std::to_string(result.failed) + " subscribers failed to subscribe; "
                    + "the first: " + result.firstError);
        }
        figures.prepareSeconds =
            std::chrono::duration<double>(SteadyClock::now() - prepareStarted).count();
        previousTarget = target;
        for (const auto &thread : threads)
            thread->reset();

        // Warm-up: every subscriber must have seen every warm-up message before the clock starts.
        const std::unique_ptr<LoadPublisher> publisher = tool.publisher(target);
        publisher->warmUp(options.warmups);
        const uint64_t warmupsExpected = uint64_t(options.warmups) * uint64_t(figures.subscribers);
        if (!waitFor([&] { return total(&Thread::warmups) >= warmupsExpected; }, 30s, 5ms))
            throw Failure("the warm-up did not reach every subscriber within 30 s: "
                + std::to_string(total(&Thread::warmups)) + " of " + std::to_string(warmupsExpected)
                + " deliveries");

        publisher->connect();
        const int64_t messages =
            options.saturate ? options.messages : std::llround(options.rate * options.seconds);
        const CpuSample before = sampleCpu();
        publisher->start({options.saturate, messages, options.rate});
        figures.publish = publisher->finish();
        // Drain: until every accepted message reached every subscriber, or nothing new for 3 s.
        figures.expected = figures.publish.accepted * uint64_t(figures.subscribers);
        drainDeliveries(figures.expected, [&] { return total(&Thread::received); });
        const CpuSample after = sampleCpu();
        std::vector<ThreadResult> results;
        results.reserve(threads.size());
        for (const auto &thread : threads)
            results.push_back(thread->collect());
        figures.complete(options.saturate, results, before, after);
        printRun(options, run, figures);
        runs.push_back(std::move(figures));
        if (!server.alive())
            break;
    }

    const bool clean = printSummary(options, tool.name, runs, tool.summaryFields, server.alive());

    for (auto &thread : threads)
        thread->stop();
    if (!server.alive()) {
        std::fprintf(stderr, "%s: %s died during the benchmark (%s); stderr:\n%s\n", tool.name,
            tool.serverName, server.exitStatus().c_str(), server.stderrText().c_str());
        return 1;
    }
    if (!clean) {
        std::fprintf(stderr, "%s: a run %s, or had subscribers closed (figures above)\n", tool.name,
            tool.faults);
        return 1;
    }
    return 0;
}

/// main()'s frame: SIGPIPE ignored (a peer's close is an error code on the write, not a signal)
/// and an exception printed as "tool: what" with exit status 1.
template<typename Body>
int guardedMain(const char *tool, Body body)
{
    signal(SIGPIPE, SIG_IGN);
    try {
        return body();
    } catch (const std::exception &error) {
        std::fflush(stdout);
        std::fprintf(stderr, "%s: %s\n", tool, error.what());
        return 1;
    }
}

} // namespace loadbench
