// bench_fanout: in-process fan-out throughput of FanoutHub + Subscription, printed as a table.
//
// One publisher thread publishes StreamMessages (200-byte compact JSON data) to one stream with
// 1, 100 and 10,000 subscribers. Each subscription's wake callback queues it on a ready list;
// consumer threads take subscriptions off that list and drain() them, as the twilsock and
// console sessions do. The figure is messages delivered to and drained by subscribers per second
// of wall time, from the first publish until the last queue is empty.
//
// Same-run reference: a single thread appending the same messages into N std::vector (no locks,
// no wake-ups, no second thread). The ratio hub/reference says what the hub's thread safety and
// bounded queues cost on top of copying a message handle into N containers.

#include "api/sid.h"
#include "api/streammessage.h"
#include "engine/fanouthub.h"
#include "engine/subscription.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <expected>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

using namespace streams;
using Clock = std::chrono::steady_clock;

namespace {

struct Options
{
    QList<int> subscriberCounts{1, 100, 10'000};
    qint64 deliveries = 4'000'000; // per run; messages published = deliveries / subscribers
    int runs = 5;
    qsizetype queueCapacity = 100'000;
    int consumers = 1;
};

struct HubRun
{
    double deliveriesPerSecond = 0; // drained by subscribers / wall time
    double publishedPerSecond = 0; // deliveries the publisher made / its own time
    quint64 drained = 0;
    quint64 dropped = 0;
    quint64 wakes = 0;
};

// 200 bytes of compact JSON, the size the REST benchmark publishes.
QByteArray messageData(int seq)
{
    QByteArray data = R"({"event":"bench.tick","seq":)" + QByteArray::number(seq)
        + R"(,"source":"bench_fanout","text":")";
    const QByteArray tail = R"("})";
    data += QByteArray(200 - data.size() - tail.size(), 'x');
    data += tail;
    return data;
}

// Distinct messages, each with its own strings, as Engine::publish builds one per request. One
// message object reused for every publish would put a single reference count under every queue
// entry, and measure contention on it that the engine does not have.
std::vector<StreamMessage> makeMessages(
    int count, const QString &serviceSid, const QString &streamSid)
{
    std::vector<StreamMessage> messages;
    messages.reserve(size_t(count));
    for (int i = 0; i < count; ++i) {
        messages.push_back(
            {sid::generate(SidKind::Message), QString(serviceSid.constData(), serviceSid.size()),
                QString(streamSid.constData(), streamSid.size()), messageData(i)});
    }
    return messages;
}

// Subscriptions whose wake fired and that await a drain.
struct ReadyList
{
    std::mutex mutex;
    std::condition_variable wakeUp;
    std::vector<int> ready;
    quint64 wakes = 0; // how often a subscription went from idle to pending
    bool publisherDone = false;
};

HubRun runHub(int subscriberCount, qint64 messageCount, const Options &options,
    const std::vector<StreamMessage> &messages)
{
    const QString &serviceSid = messages.front().serviceSid;
    const QString &streamSid = messages.front().streamSid;
    FanoutHub hub;
    ReadyList list;
    std::vector<std::shared_ptr<Subscription>> subscriptions;
    subscriptions.reserve(size_t(subscriberCount));
    for (int i = 0; i < subscriberCount; ++i) {
        // Wakes are called on the publisher's thread; only the first one after an empty list
        // signals, because consumers empty the list before they sleep again.
        subscriptions.push_back(
            hub.subscribe(serviceSid, streamSid, options.queueCapacity, [&list, i] {
                std::lock_guard lock(list.mutex);
                list.ready.push_back(i);
                ++list.wakes;
                if (list.ready.size() == 1)
                    list.wakeUp.notify_one();
            }));
    }

    struct Counts
    {
        quint64 drained = 0;
        quint64 dropped = 0;
    };
    std::vector<Counts> counts(size_t(options.consumers));
    const auto consume = [&](Counts &mine) {
        std::vector<int> taken;
        for (;;) {
            {
                std::unique_lock lock(list.mutex);
                list.wakeUp.wait(lock, [&] { return !list.ready.empty() || list.publisherDone; });
                if (list.ready.empty())
                    return; // publisher done and every wake handled: all queues are empty
                // With several consumers, take a share and hand the rest on.
                const size_t share = options.consumers == 1
                    ? list.ready.size()
                    : std::min<size_t>(list.ready.size(), 64);
                taken.assign(list.ready.end() - qsizetype(share), list.ready.end());
                list.ready.resize(list.ready.size() - share);
                if (!list.ready.empty())
                    list.wakeUp.notify_one();
            }
            for (const int index : taken) {
                const Subscription::Batch batch = subscriptions[size_t(index)]->drain();
                mine.drained += quint64(batch.messages.size());
                mine.dropped += batch.dropped;
            }
        }
    };

    std::vector<std::thread> consumers;
    consumers.reserve(size_t(options.consumers));
    for (int c = 0; c < options.consumers; ++c)
        consumers.emplace_back(consume, std::ref(counts[size_t(c)]));

    const auto start = Clock::now();
    Clock::time_point publisherEnd;
    std::thread publisher([&] {
        const size_t ring = messages.size();
        for (qint64 m = 0; m < messageCount; ++m)
            hub.publish(messages[size_t(m) % ring]);
        publisherEnd = Clock::now();
    });
    publisher.join();
    {
        std::lock_guard lock(list.mutex);
        list.publisherDone = true;
    }
    list.wakeUp.notify_all();
    for (std::thread &consumer : consumers)
        consumer.join();
    const auto end = Clock::now();

    HubRun run;
    for (const Counts &c : counts) {
        run.drained += c.drained;
        run.dropped += c.dropped;
    }
    run.wakes = list.wakes;
    const quint64 expected = quint64(messageCount) * quint64(subscriberCount);
    if (run.drained + run.dropped != expected) {
        std::fprintf(stderr,
            "ERROR: %d subscribers: drained %llu + dropped %llu != published %llu\n",
            subscriberCount, static_cast<unsigned long long>(run.drained),
            static_cast<unsigned long long>(run.dropped),
            static_cast<unsigned long long>(expected));
    }
    run.deliveriesPerSecond =
        double(run.drained) / std::chrono::duration<double>(end - start).count();
    run.publishedPerSecond =
        double(expected) / std::chrono::duration<double>(publisherEnd - start).count();
    return run;
}

// Appends only. One untimed fill first, then clear() (which keeps capacity): without it the
// figure is mostly first-touch page faults on hundreds of megabytes (about 10x slower on the
// development VM), which the hub, whose queues are drained as they fill, never pays. The
// elements are destroyed outside the timed loop, so this is the floor of copying a message
// handle into N containers on one thread.
double runReference(
    int subscriberCount, qint64 messageCount, const std::vector<StreamMessage> &messages)
{
    std::vector<std::vector<StreamMessage>> sinks(static_cast<size_t>(subscriberCount));
    const size_t ring = messages.size();
    const auto fill = [&] {
        for (qint64 m = 0; m < messageCount; ++m) {
            const StreamMessage &message = messages[size_t(m) % ring];
            for (auto &sink : sinks)
                sink.push_back(message);
        }
    };
    for (auto &sink : sinks)
        sink.reserve(size_t(messageCount));
    fill();
    for (auto &sink : sinks)
        sink.clear();
    const auto start = Clock::now();
    fill();
    const auto end = Clock::now();
    return double(messageCount) * subscriberCount
        / std::chrono::duration<double>(end - start).count();
}

template<typename T>
T median(std::vector<T> values)
{
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

QString rate(double perSecond)
{
    if (perSecond >= 1e6)
        return QStringLiteral("%1 M").arg(perSecond / 1e6, 0, 'f', 2);
    if (perSecond >= 1e3)
        return QStringLiteral("%1 k").arg(perSecond / 1e3, 0, 'f', 1);
    return QString::number(perSecond, 'f', 0);
}

std::expected<Options, QString> parseOptions(const QCoreApplication &app)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("FanoutHub fan-out throughput, printed as a table."));
    parser.addHelpOption();
    const QCommandLineOption subscribers(QStringLiteral("subscribers"),
        QStringLiteral("Comma-separated subscriber counts (1,100,10000)."), QStringLiteral("LIST"));
    const QCommandLineOption deliveries(QStringLiteral("deliveries"),
        QStringLiteral("Deliveries per run (4000000)."), QStringLiteral("N"));
    const QCommandLineOption runs(
        QStringLiteral("runs"), QStringLiteral("Runs per configuration (5)."), QStringLiteral("N"));
    const QCommandLineOption capacity(QStringLiteral("capacity"),
        QStringLiteral("Queue capacity per subscriber (100000)."), QStringLiteral("N"));
    const QCommandLineOption consumers(QStringLiteral("consumers"),
        QStringLiteral("Consumer threads draining subscriptions (1)."), QStringLiteral("N"));
    parser.addOptions({subscribers, deliveries, runs, capacity, consumers});
    parser.process(app);

    Options options;
    const auto positive = [&](const QCommandLineOption &option, auto &out) -> bool {
        if (!parser.isSet(option))
            return true;
        bool ok = false;
        const qint64 value = parser.value(option).toLongLong(&ok);
        if (!ok || value < 1)
            return false;
        out = static_cast<std::remove_reference_t<decltype(out)>>(value);
        return true;
    };
    if (!positive(deliveries, options.deliveries) || !positive(runs, options.runs)
        || !positive(capacity, options.queueCapacity) || !positive(consumers, options.consumers))
        return std::unexpected(QStringLiteral("numeric options take positive integers"));
    if (parser.isSet(subscribers)) {
        options.subscriberCounts.clear();
        for (const QString &part : parser.value(subscribers).split(u',')) {
            bool ok = false;
            const int count = part.toInt(&ok);
            if (!ok || count < 1)
                return std::unexpected(QStringLiteral("'%1' is not a subscriber count").arg(part));
            options.subscriberCounts.append(count);
        }
    }
    return options;
}

void print(const QString &line)
{
    std::fputs(qPrintable(line + u'\n'), stdout);
    std::fflush(stdout);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("bench_fanout"));
    const auto options = parseOptions(app);
    if (!options) {
        std::fprintf(stderr, "bench_fanout: %s\n", qPrintable(options.error()));
        return 2;
    }

    print(QStringLiteral("bench_fanout: 1 publisher thread, %1 consumer thread(s), %2 deliveries "
                         "per run, queue capacity %3, median of %4 runs (min-max)")
              .arg(options->consumers)
              .arg(options->deliveries)
              .arg(options->queueCapacity)
              .arg(options->runs));
    const QString header = QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8")
                               .arg(QStringLiteral("subscribers"), 11)
                               .arg(QStringLiteral("messages"), 9)
                               .arg(QStringLiteral("hub deliveries/s (min-max)"), 30)
                               .arg(QStringLiteral("per drain"), 10)
                               .arg(QStringLiteral("dropped"), 8)
                               .arg(QStringLiteral("publisher-side/s"), 17)
                               .arg(QStringLiteral("vector-append/s"), 16)
                               .arg(QStringLiteral("hub/ref"), 8);
    print(header);
    print(QString(header.size(), u'-'));

    const QString serviceSid = sid::generate(SidKind::Service);
    const QString streamSid = sid::generate(SidKind::Stream);
    const std::vector<StreamMessage> messages = makeMessages(1024, serviceSid, streamSid);

    for (const int subscribers : options->subscriberCounts) {
        const qint64 messageCount = qMax<qint64>(1, options->deliveries / subscribers);
        std::vector<double> hubRates, publisherRates, referenceRates, perDrain;
        quint64 dropped = 0;
        // Hub and reference alternate, so both see the same machine state.
        for (int run = 0; run < options->runs; ++run) {
            const HubRun hub = runHub(subscribers, messageCount, *options, messages);
            hubRates.push_back(hub.deliveriesPerSecond);
            publisherRates.push_back(hub.publishedPerSecond);
            perDrain.push_back(double(hub.drained) / double(qMax<quint64>(1, hub.wakes)));
            dropped += hub.dropped;
            referenceRates.push_back(runReference(subscribers, messageCount, messages));
        }
        const double hubMedian = median(hubRates);
        const double referenceMedian = median(referenceRates);
        print(QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8")
                  .arg(subscribers, 11)
                  .arg(messageCount, 9)
                  .arg(QStringLiteral("%1 (%2-%3)")
                           .arg(rate(hubMedian), rate(*std::ranges::min_element(hubRates)),
                               rate(*std::ranges::max_element(hubRates))),
                      30)
                  .arg(median(perDrain), 10, 'f', 1)
                  .arg(dropped, 8)
                  .arg(rate(median(publisherRates)), 17)
                  .arg(rate(referenceMedian), 16)
                  .arg(hubMedian / referenceMedian, 8, 'f', 3));
    }
    print(QStringLiteral(
        "hub deliveries/s: messages drained by subscribers per second of wall time, first publish "
        "to last drain\nper drain: messages one drain() returned on average (one wake each)\n"
        "publisher-side/s: deliveries into queues per second of the publisher's own time\n"
        "vector-append/s: the single-thread, lock-free reference; hub/ref: ratio of medians\n"
        "dropped: summed over all runs"));
    return 0;
}
