// bench_console: the desktop console under a firehose, and its cold start, printed as figures.
//
//   bench_console --firehose [--rate 20000] [--seconds 30] [--capacity 10000] [--runs 3]
//                 [--chart /seq,/value]
//   bench_console --startup [--runs 5]
//
// Both modes are parents: each run is a fresh child process (this binary again, with
// --firehose-child or --startup-child [--bare]), so no run inherits another's heap, caches or
// Qt state, and RSS figures mean one console's memory. The children need a display:
// tests/bench/console_bench.sh runs the parent under xvfb-run (a real X server), or with
// QT_QPA_PLATFORM=offscreen when Xvfb is missing; every child reports the platform it got.
//
// Firehose: the real console (LocalBackend on a temp data dir, unlimited publish rate, MainWindow
// with one stream's page open and its live view subscribed) while a publisher thread queues
// Engine::publish calls onto the engine thread at a paced rate. The GUI thread runs a 10 ms
// precise timer; a tick that comes late by more than its interval is a stall the user would
// feel. Every second it samples rows inserted into the live model, counters, RSS and CPU.
// With --chart, the live view also charts those JSON Pointers of every message (its field chart
// open, one series each) for the whole run.
//
// Start-up: the time from just before the parent starts the child until the child's main window
// has painted and flushed its first frame, both on CLOCK_MONOTONIC (one clock for every process
// on the machine), then the idle RSS 3 s later. The same-run reference is a bare Qt Widgets
// program (QApplication and an empty QMainWindow of the same size) started the same way. It is
// this same executable, so it loads the same shared libraries (Charts, Sql, Network...) before
// main(): the ratio says what the console costs beyond a Qt program that links what it links.
// CPU time to the first frame is reported next to the wall time, since on a shared machine the
// wall time mostly measures how long the new process waits for a core.

#include "backend/localbackend.h"
#include "engine/engine.h"
#include "host/enginehost.h"
#include "live/livesubscription.h"
#include "ui/common/consolesettings.h"
#include "ui/liveview/fieldchartwidget.h"
#include "ui/liveview/livemessagemodel.h"
#include "ui/liveview/liveviewwidget.h"
#include "ui/mainwindow.h"
#include "ui/stream/streampage.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMainWindow>
#include <QProcess>
#include <QScreen>
#include <QTemporaryDir>
#include <QTimer>
#include <QWindow>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <malloc.h>
#include <memory>
#include <optional>
#include <sys/resource.h>
#include <thread>
#include <vector>

using namespace streams;

namespace {

constexpr auto kResultPrefix = "RESULT ";
constexpr qint64 kTickNs = 10'000'000; // the stall timer's interval

qint64 monotonicNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// VmRSS and friends from /proc/self/status, in KiB.
struct Memory
{
    qint64 rss = 0, hwm = 0, anon = 0, file = 0, shmem = 0;
};

Memory readMemory()
{
    Memory m;
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return m;
    const QList<QByteArray> lines = status.readAll().split('\n');
    for (const QByteArray &line : lines) {
        const auto field = [&line](const char *name, qint64 &out) {
            if (line.startsWith(name))
                out = line.mid(qsizetype(qstrlen(name))).trimmed().split(' ').value(0).toLongLong();
        };
        field("VmRSS:", m.rss);
        field("VmHWM:", m.hwm);
        field("RssAnon:", m.anon);
        field("RssFile:", m.file);
        field("RssShmem:", m.shmem);
    }
    return m;
}

// Bytes the program holds in malloc (every arena, plus mmapped blocks), in MiB: unlike RSS, it
// does not count memory the allocator keeps after free(), so it tells a leak from fragmentation.
double heapInUseMb()
{
    const struct mallinfo2 info = mallinfo2();
    return double(info.uordblks + info.hblkhd) / (1024 * 1024);
}

// What malloc holds from the system (arenas, plus mmapped blocks), in MiB: in use plus the free
// memory it keeps for reuse.
double heapFootprintMb()
{
    const struct mallinfo2 info = mallinfo2();
    return double(info.arena + info.hblkhd) / (1024 * 1024);
}

double cpuSeconds(int who)
{
    rusage usage{};
    getrusage(who, &usage);
    const auto seconds = [](const timeval &tv) { return double(tv.tv_sec) + tv.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

QString loadAverage()
{
    QFile file(QStringLiteral("/proc/loadavg"));
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("?");
    return QString::fromLatin1(file.readAll()).section(u' ', 0, 2);
}

QString platformDescription()
{
    QString text = QGuiApplication::platformName();
    if (text == u"xcb")
        text += QStringLiteral(" (X server %1)").arg(qEnvironmentVariable("DISPLAY"));
    if (const QScreen *screen = QGuiApplication::primaryScreen())
        text += QStringLiteral(", screen %1x%2x%3")
                    .arg(screen->size().width())
                    .arg(screen->size().height())
                    .arg(screen->depth());
    return text;
}

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    // Nearest rank: the smallest value with at least p of the samples at or below it.
    const auto rank = size_t(std::ceil(p * double(values.size())));
    return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

double median(std::vector<double> values)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Least-squares slope of y over x.
double slope(const std::vector<double> &x, const std::vector<double> &y)
{
    const size_t n = std::min(x.size(), y.size());
    if (n < 2)
        return 0;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= double(n);
    my /= double(n);
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    return sxx > 0 ? sxy / sxx : 0;
}

void printResult(const QJsonObject &result)
{
    std::printf(
        "%s%s\n", kResultPrefix, QJsonDocument(result).toJson(QJsonDocument::Compact).constData());
    std::fflush(stdout);
}

// The size MainWindow gives itself on first start (no saved geometry), so the bare reference
// paints as many pixels as the console.
QSize firstStartWindowSize()
{
    const QScreen *screen = QGuiApplication::primaryScreen();
    const QSize available = screen ? screen->availableGeometry().size() : QSize(1600, 1000);
    return QSize(1280, 800).expandedTo(available * 0.85).boundedTo(available);
}

// ---------------------------------------------------------------------------------------------
// Firehose child

struct FirehoseOptions
{
    double rate = 20'000;
    int seconds = 30;
    int capacity = LiveMessageModel::kDefaultCapacity;
    QString screenshot; // where to save the window at the end, if anywhere
    QStringList chartPointers; // fields the live view charts during the run
};

// ~200 bytes of compact JSON with a counter, the size the REST and fan-out benchmarks publish,
// and a second number that wanders (a sawtooth) for the field chart to plot.
QByteArray payload(quint64 seq)
{
    QByteArray data = R"({"event":"bench.console","seq":)" + QByteArray::number(seq)
        + R"(,"value":)" + QByteArray::number(double(seq % 1000) / 8.0)
        + R"(,"source":"bench_console","text":")";
    const QByteArray tail = R"("})";
    data += QByteArray(200 - data.size() - tail.size(), 'x');
    data += tail;
    return data;
}

// Paces publishes from its own thread: every millisecond it queues, in one EngineHost::run, as
// many Engine::publish calls as keep the total on the line rate × elapsed. The engine thread
// does the work a REST publish does after decoding (validate, look up, rate-limit, fan out).
// If the engine falls more than half a second behind, the publisher holds back rather than
// queue without bound, and the achieved rate (publishes the engine completed ÷ time) shows it.
class Publisher
{
public:
    Publisher(EngineHost &host, QString serviceSid, QString streamSid, double rate)
        : m_host(host),
          m_serviceSid(std::move(serviceSid)),
          m_streamSid(std::move(streamSid)),
          m_rate(rate)
    { }
    ~Publisher() { stop(); }

    void start()
    {
        m_startNs = monotonicNs();
        m_thread = std::thread([this] { loop(); });
    }
    void stop()
    {
        if (!m_thread.joinable())
            return;
        m_stopNs = monotonicNs();
        m_stopping = true;
        m_thread.join();
        m_completedAtStop = m_counters->completed.load();
    }

    quint64 completed() const { return m_counters->completed.load(); }
    quint64 failed() const { return m_counters->failed.load(); }
    quint64 heldBack() const { return m_heldBack; }
    double achievedRate() const
    {
        const double seconds = double(m_stopNs - m_startNs) / 1e9;
        return seconds > 0 ? double(m_completedAtStop) / seconds : 0;
    }

private:
    // Shared with the queued work, which may still run on the engine thread after the publisher
    // is gone (until the backend stops).
    struct Counters
    {
        std::atomic<quint64> completed = 0;
        std::atomic<quint64> failed = 0;
    };

    void loop()
    {
        using namespace std::chrono;
        quint64 queued = 0;
        auto next = steady_clock::now();
        const auto begin = next;
        while (!m_stopping) {
            next += milliseconds(1);
            std::this_thread::sleep_until(next);
            const double elapsed = duration<double>(steady_clock::now() - begin).count();
            const auto due = quint64(elapsed * m_rate);
            if (due <= queued)
                continue;
            const quint64 done = m_counters->completed.load() + m_counters->failed.load();
            const quint64 backlog = queued - std::min(queued, done);
            if (double(backlog) > m_rate / 2) {
                m_heldBack += due - queued;
                queued = due; // these are skipped, not postponed
                continue;
            }
            QList<QByteArray> batch;
            batch.reserve(qsizetype(due - queued));
            for (quint64 seq = queued; seq < due; ++seq)
                batch.append(payload(seq));
            queued = due;
            m_host.run([counters = m_counters, serviceSid = m_serviceSid, streamSid = m_streamSid,
                           batch = std::move(batch)](Engine &engine) {
                for (const QByteArray &data : batch) {
                    if (engine.publish(serviceSid, streamSid, data))
                        ++counters->completed;
                    else
                        ++counters->failed;
                }
            });
        }
    }

    EngineHost &m_host;
    const QString m_serviceSid;
    const QString m_streamSid;
    const double m_rate;
    const std::shared_ptr<Counters> m_counters = std::make_shared<Counters>();
    std::thread m_thread;
    std::atomic<bool> m_stopping = false;
    std::atomic<quint64> m_heldBack = 0;
    qint64 m_startNs = 0;
    qint64 m_stopNs = 0;
    quint64 m_completedAtStop = 0;
};

struct Sample
{
    double t = 0; // seconds since the publisher started
    double shownPerSecond = 0; // rows inserted into the live model
    double receivedPerSecond = 0;
    quint64 received = 0;
    quint64 dropped = 0;
    quint64 lostUpstream = 0;
    quint64 published = 0;
    qint64 rssKb = 0;
    qint64 anonKb = 0; // RssAnon; the rest of RSS is file-backed (code, fonts) and shared memory
    qint64 fileKb = 0;
    double heapMb = 0; // heapInUseMb()
    double footprintMb = 0; // heapFootprintMb()
    double cpuPercent = 0; // whole process, 100 = one core
    double guiCpuPercent = 0; // the GUI thread alone
};

class FirehoseRun final : public QObject
{
public:
    FirehoseRun(FirehoseOptions options, LocalBackend &backend, MainWindow &window)
        : m_options(std::move(options)), m_backend(backend), m_window(window)
    {
        m_tick.setTimerType(Qt::PreciseTimer);
        m_tick.setInterval(int(kTickNs / 1'000'000));
        connect(&m_tick, &QTimer::timeout, this, &FirehoseRun::tick);
    }

    void begin()
    {
        m_backend.createStream(QStringLiteral("default"), {})
            .then(this, [this](const ApiResult<Stream> &stream) {
                if (!stream)
                    return fail(QStringLiteral("createStream: %1").arg(stream.error().message()));
                m_stream = *stream;
                m_page = m_window.openStream(&m_backend, *stream);
                LiveSubscription *subscription = m_page->liveView()->subscription();
                if (subscription->state() == LiveSubscription::State::Active)
                    return start();
                connect(subscription, &LiveSubscription::stateChanged, this,
                    [this](LiveSubscription::State state) {
                        if (state == LiveSubscription::State::Active && !m_publisher)
                            start();
                    });
                connect(subscription, &LiveSubscription::failed, this,
                    [this](const ApiError &error) { fail(error.message()); });
            });
    }

private:
    void fail(const QString &message)
    {
        std::fprintf(stderr, "bench_console: %s\n", qPrintable(message));
        QCoreApplication::exit(1);
    }

    void start()
    {
        LiveMessageModel *model = m_page->liveView()->model();
        for (const QString &pointer : m_options.chartPointers) {
            if (!m_page->liveView()->fieldChart()->addField(pointer))
                return fail(QStringLiteral("cannot chart %1: %2")
                                .arg(pointer, m_page->liveView()->fieldChart()->errorText()));
        }
        connect(model, &LiveMessageModel::flushed, this, [this, model](int inserted, int) {
            m_inserted += quint64(inserted);
            if (!m_capReachedAt && model->rowCount() >= model->capacity()) {
                m_capReachedAt = double(monotonicNs() - m_startNs) / 1e9;
                const Memory memory = readMemory();
                m_rssAtCapKb = memory.rss;
                m_anonAtCapKb = memory.anon;
                m_heapAtCapMb = heapInUseMb();
            }
        });
        m_publisher = std::make_unique<Publisher>(
            m_backend.host(), m_stream.serviceSid, m_stream.sid, m_options.rate);
        m_startNs = monotonicNs();
        m_lastTickNs = m_startNs;
        m_lastSampleNs = m_startNs;
        m_lastCpu = cpuSeconds(RUSAGE_SELF);
        m_lastGuiCpu = cpuSeconds(RUSAGE_THREAD);
        m_startCpu = m_lastCpu;
        m_startGuiCpu = m_lastGuiCpu;
        m_stalls.reserve(size_t(m_options.seconds) * 110);
        m_publisher->start();
        m_tick.start();
    }

    void tick()
    {
        const qint64 now = monotonicNs();
        m_stalls.push_back(double(std::max<qint64>(0, now - m_lastTickNs - kTickNs)) / 1e6);
        m_lastTickNs = now;
        if (now - m_lastSampleNs >= 1'000'000'000)
            sample(now);
        if (now - m_startNs >= qint64(m_options.seconds) * 1'000'000'000)
            finish(now);
    }

    void sample(qint64 now)
    {
        const LiveMessageModel *model = m_page->liveView()->model();
        const double dt = double(now - m_lastSampleNs) / 1e9;
        const double cpu = cpuSeconds(RUSAGE_SELF);
        const double guiCpu = cpuSeconds(RUSAGE_THREAD);
        Sample s;
        s.t = double(now - m_startNs) / 1e9;
        s.shownPerSecond = double(m_inserted - m_insertedAtLastSample) / dt;
        s.receivedPerSecond = double(model->totalReceived() - m_receivedAtLastSample) / dt;
        s.received = model->totalReceived();
        s.dropped = model->droppedCount();
        s.lostUpstream = model->droppedUpstreamCount();
        s.published = m_publisher->completed();
        const Memory memory = readMemory();
        s.rssKb = memory.rss;
        s.anonKb = memory.anon;
        s.fileKb = memory.file;
        s.heapMb = heapInUseMb();
        s.footprintMb = heapFootprintMb();
        s.cpuPercent = 100 * (cpu - m_lastCpu) / dt;
        s.guiCpuPercent = 100 * (guiCpu - m_lastGuiCpu) / dt;
        m_samples.push_back(s);
        std::printf(
            "sample t=%5.1fs published=%9llu shown/s=%7.0f received=%9llu dropped=%9llu "
            "lost-upstream=%7llu rss=%6.1fMB (anon %5.1f file %5.1f) malloc=%5.1fMB (of %5.1f) "
            "cpu=%5.1f%% gui-thread=%5.1f%%\n",
            s.t, static_cast<unsigned long long>(s.published), s.shownPerSecond,
            static_cast<unsigned long long>(s.received), static_cast<unsigned long long>(s.dropped),
            static_cast<unsigned long long>(s.lostUpstream), double(s.rssKb) / 1024,
            double(s.anonKb) / 1024, double(s.fileKb) / 1024, s.heapMb, s.footprintMb, s.cpuPercent,
            s.guiCpuPercent);
        std::fflush(stdout);
        m_lastSampleNs = now;
        m_insertedAtLastSample = m_inserted;
        m_receivedAtLastSample = model->totalReceived();
        m_lastCpu = cpu;
        m_lastGuiCpu = guiCpu;
    }

    void finish(qint64 now)
    {
        m_tick.stop();
        m_publisher->stop();
        const LiveMessageModel *model = m_page->liveView()->model();
        const double wall = double(now - m_startNs) / 1e9;

        std::vector<double> shown, t, rssMb, heapMb;
        double peakSampleRss = 0;
        for (const Sample &s : m_samples) {
            shown.push_back(s.shownPerSecond);
            peakSampleRss = std::max(peakSampleRss, double(s.rssKb) / 1024);
            // The second half of the run: long after the cap (reached within a second at any
            // rate worth measuring), so a positive slope here is growth, not filling up.
            if (s.t >= wall / 2) {
                t.push_back(s.t / 60);
                rssMb.push_back(double(s.rssKb) / 1024);
                heapMb.push_back(s.heapMb);
            }
        }
        const Memory memory = readMemory();
        // After the measurement, so the grab's own cost is not a stall in the figures.
        if (!m_options.screenshot.isEmpty())
            m_window.grab().save(m_options.screenshot);
        QJsonObject result{
            {QStringLiteral("platform"), platformDescription()},
            {QStringLiteral("rateTarget"), m_options.rate},
            {QStringLiteral("seconds"), wall},
            {QStringLiteral("capacity"), model->capacity()},
            {QStringLiteral("publishRate"), m_publisher->achievedRate()},
            {QStringLiteral("publishFailed"), double(m_publisher->failed())},
            {QStringLiteral("publishHeldBack"), double(m_publisher->heldBack())},
            {QStringLiteral("ticks"), double(m_stalls.size())},
            {QStringLiteral("stallP50"), percentile(m_stalls, 0.50)},
            {QStringLiteral("stallP99"), percentile(m_stalls, 0.99)},
            {QStringLiteral("stallMax"), percentile(m_stalls, 1.0)},
            {QStringLiteral("shownPerSecond"), median(shown)},
            {QStringLiteral("received"), double(model->totalReceived())},
            {QStringLiteral("dropped"), double(model->droppedCount())},
            {QStringLiteral("lostUpstream"), double(model->droppedUpstreamCount())},
            {QStringLiteral("rows"), model->rowCount()},
            {QStringLiteral("peakRssMb"), std::max(peakSampleRss, double(memory.hwm) / 1024)},
            {QStringLiteral("capReachedAt"), m_capReachedAt ? *m_capReachedAt : -1.0},
            {QStringLiteral("rssAtCapMb"), double(m_rssAtCapKb) / 1024},
            {QStringLiteral("rssEndMb"), double(memory.rss) / 1024},
            {QStringLiteral("rssAnonAtCapMb"), double(m_anonAtCapKb) / 1024},
            {QStringLiteral("rssAnonEndMb"), double(memory.anon) / 1024},
            {QStringLiteral("rssSlopeMbPerMin"), slope(t, rssMb)},
            {QStringLiteral("heapAtCapMb"), m_heapAtCapMb},
            {QStringLiteral("heapEndMb"), heapInUseMb()},
            {QStringLiteral("heapFootprintEndMb"), heapFootprintMb()},
            {QStringLiteral("heapSlopeMbPerMin"), slope(t, heapMb)},
            {QStringLiteral("cpuPercent"), 100 * (cpuSeconds(RUSAGE_SELF) - m_startCpu) / wall},
            {QStringLiteral("guiCpuPercent"),
                100 * (cpuSeconds(RUSAGE_THREAD) - m_startGuiCpu) / wall},
            {QStringLiteral("load"), loadAverage()},
        };
        if (!m_options.chartPointers.isEmpty()) {
            const FieldChartData &chart = m_page->liveView()->fieldChart()->data();
            result.insert(QStringLiteral("chartMessages"), double(chart.messageCount()));
            result.insert(QStringLiteral("chartParses"), double(chart.parseCount()));
            qsizetype points = 0;
            for (int i = 0; i < chart.fieldCount(); ++i)
                points += chart.field(i).series.points().size();
            result.insert(QStringLiteral("chartPoints"), double(points));
        }
        printResult(result);
        QCoreApplication::quit();
    }

    const FirehoseOptions m_options;
    LocalBackend &m_backend;
    MainWindow &m_window;
    Stream m_stream;
    StreamPage *m_page = nullptr;
    std::unique_ptr<Publisher> m_publisher;
    QTimer m_tick;
    qint64 m_startNs = 0;
    qint64 m_lastTickNs = 0;
    qint64 m_lastSampleNs = 0;
    double m_startCpu = 0, m_lastCpu = 0, m_startGuiCpu = 0, m_lastGuiCpu = 0;
    quint64 m_inserted = 0;
    quint64 m_insertedAtLastSample = 0;
    quint64 m_receivedAtLastSample = 0;
    std::optional<double> m_capReachedAt;
    qint64 m_rssAtCapKb = 0;
    qint64 m_anonAtCapKb = 0;
    double m_heapAtCapMb = 0;
    std::vector<double> m_stalls; // ms per tick
    std::vector<Sample> m_samples;
};

int runFirehoseChild(QApplication &app, const FirehoseOptions &options)
{
    QTemporaryDir temp;
    if (!temp.isValid())
        return std::fprintf(stderr, "bench_console: no temporary directory\n"), 1;
    EngineOptions engine;
    engine.dataDir = temp.filePath(QStringLiteral("data"));
    engine.environment = QProcessEnvironment(); // generated credentials, nothing from the caller
    engine.publishRatePerSecond = std::nullopt; // unlimited
    auto backend = LocalBackend::start(engine, QHostAddress::LocalHost, 0);
    if (!backend)
        return std::fprintf(stderr, "bench_console: %s\n", qPrintable(backend.error())), 1;

    ConsoleSettings settings(temp.filePath(QStringLiteral("console.ini")));
    if (options.capacity != settings.liveViewCapacity())
        settings.setLiveViewCapacity(options.capacity);
    MainWindow window(settings);
    window.addConnection(backend->get());
    window.show();

    FirehoseRun run(options, **backend, window);
    QTimer::singleShot(0, &run, [&run] { run.begin(); });
    return app.exec();
}

// ---------------------------------------------------------------------------------------------
// Start-up child

// Marks the first frame. The first QEvent::Paint the top-level widget receives is the start of
// the first frame: Qt paints a window top-down (the top-level first, then its children) into the
// backing store, then flushes the backing store to the window, all synchronously inside one
// expose or update-request event. A call queued from that first paint event therefore runs when
// the whole frame has been painted and flushed to the display server (at the latest: the queue
// may hold a few other events before it), which is what "the window is on screen" means here.
// QWindow::frameSwapped exists only for OpenGL windows, and Expose comes before any painting,
// so neither is the mark.
class FirstPaint final : public QObject
{
public:
    explicit FirstPaint(QWidget *window) : m_window(window) { window->installEventFilter(this); }

    std::optional<qint64> paintStartedNs;
    std::optional<qint64> framePaintedNs;
    double cpuSecondsAtFrame = 0; // the whole process's CPU time by then, every thread
    std::function<void()> onPainted;

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (watched == m_window && event->type() == QEvent::Paint && !paintStartedNs) {
            paintStartedNs = monotonicNs();
            m_window->removeEventFilter(this);
            QMetaObject::invokeMethod(
                this,
                [this] {
                    framePaintedNs = monotonicNs();
                    cpuSecondsAtFrame = cpuSeconds(RUSAGE_SELF);
                    if (onPainted)
                        onPainted();
                },
                Qt::QueuedConnection);
        }
        return false;
    }

private:
    QWidget *m_window;
};

int runStartupChild(QApplication &app, qint64 mainNs, qint64 appNs, bool bare)
{
    QJsonObject result{
        {QStringLiteral("mainNs"), double(mainNs)}, {QStringLiteral("appNs"), double(appNs)}};
    QTemporaryDir temp;
    std::unique_ptr<LocalBackend> backend;
    std::unique_ptr<ConsoleSettings> settings;
    std::unique_ptr<QMainWindow> window;

    if (bare) {
        window = std::make_unique<QMainWindow>();
        window->resize(firstStartWindowSize());
    } else {
        // As app/console/main.cpp does, with a fresh data directory and settings file (a first
        // start: the engine creates its database, the window has no saved geometry) and a free
        // port instead of the default one.
        EngineOptions engine;
        engine.dataDir = temp.filePath(QStringLiteral("data"));
        engine.environment = QProcessEnvironment();
        auto started = LocalBackend::start(engine, QHostAddress::LocalHost, 0);
        if (!started)
            return std::fprintf(stderr, "bench_console: %s\n", qPrintable(started.error())), 1;
        backend = std::move(*started);
        result.insert(QStringLiteral("engineNs"), double(monotonicNs()));
        settings = std::make_unique<ConsoleSettings>(temp.filePath(QStringLiteral("console.ini")));
        auto console = std::make_unique<MainWindow>(*settings);
        console->addConnection(backend.get());
        window = std::move(console);
    }
    result.insert(QStringLiteral("windowNs"), double(monotonicNs()));

    FirstPaint firstPaint(window.get());
    firstPaint.onPainted = [&] {
        result.insert(QStringLiteral("paintStartedNs"), double(*firstPaint.paintStartedNs));
        result.insert(QStringLiteral("framePaintedNs"), double(*firstPaint.framePaintedNs));
        result.insert(QStringLiteral("cpuToFrameMs"), firstPaint.cpuSecondsAtFrame * 1000);
        QTimer::singleShot(3000, &app, [&] {
            const Memory memory = readMemory();
            result.insert(QStringLiteral("idleRssMb"), double(memory.rss) / 1024);
            result.insert(QStringLiteral("idleAnonMb"), double(memory.anon) / 1024);
            result.insert(QStringLiteral("idleFileMb"), double(memory.file) / 1024);
            result.insert(QStringLiteral("idleShmemMb"), double(memory.shmem) / 1024);
            result.insert(QStringLiteral("platform"), platformDescription());
            printResult(result);
            QCoreApplication::quit();
        });
    };
    window->show();
    result.insert(QStringLiteral("shownNs"), double(monotonicNs()));
    QTimer::singleShot(30'000, &app, [] {
        std::fprintf(stderr, "bench_console: no first paint within 30 s\n");
        QCoreApplication::exit(1);
    });
    const int code = app.exec();
    window.reset(); // before the backend it shows
    return code;
}

// ---------------------------------------------------------------------------------------------
// Parents

std::optional<QJsonObject> runChild(
    const QStringList &arguments, int timeoutMs, bool echo, qint64 *startedNs = nullptr)
{
    QProcess child;
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    const qint64 before = monotonicNs();
    child.start(QCoreApplication::applicationFilePath(), arguments);
    if (startedNs)
        *startedNs = before;
    if (!child.waitForStarted(10'000)) {
        std::fprintf(
            stderr, "bench_console: cannot start child: %s\n", qPrintable(child.errorString()));
        return std::nullopt;
    }
    std::optional<QJsonObject> result;
    QByteArray buffer;
    const auto consume = [&] {
        buffer += child.readAllStandardOutput();
        qsizetype newline = 0;
        while ((newline = buffer.indexOf('\n')) >= 0) {
            const QByteArray line = buffer.left(newline);
            buffer.remove(0, newline + 1);
            if (line.startsWith(kResultPrefix))
                result =
                    QJsonDocument::fromJson(line.mid(qsizetype(qstrlen(kResultPrefix)))).object();
            else if (echo)
                std::printf("    %s\n", line.constData());
        }
        std::fflush(stdout);
    };
    QElapsedTimer elapsed;
    elapsed.start();
    while (child.state() != QProcess::NotRunning && elapsed.elapsed() < timeoutMs) {
        child.waitForReadyRead(200);
        consume();
    }
    if (child.state() != QProcess::NotRunning) {
        std::fprintf(stderr, "bench_console: child timed out; killing it\n");
        child.kill();
        child.waitForFinished();
        return std::nullopt;
    }
    consume();
    if (child.exitStatus() != QProcess::NormalExit || child.exitCode() != 0 || !result) {
        std::fprintf(stderr, "bench_console: child failed (exit %d)\n", child.exitCode());
        return std::nullopt;
    }
    return result;
}

QString fmt(double value, int decimals = 1)
{
    return QLocale::c().toString(value, 'f', decimals);
}

QString thousands(double value)
{
    QLocale locale = QLocale::c();
    locale.setNumberOptions({});
    return locale.toString(qint64(std::llround(value)));
}

// "median (min–max)" of one key over the runs.
struct Spread
{
    double median = 0, min = 0, max = 0;
};

Spread spread(const QList<QJsonObject> &runs, const QString &key)
{
    std::vector<double> values;
    for (const QJsonObject &run : runs)
        values.push_back(run.value(key).toDouble());
    if (values.empty())
        return {};
    return {median(values), *std::min_element(values.begin(), values.end()),
        *std::max_element(values.begin(), values.end())};
}

QString show(const Spread &s, int decimals, bool grouped = false)
{
    const auto f = [&](double v) { return grouped ? thousands(v) : fmt(v, decimals); };
    return QStringLiteral("%1 (%2–%3)").arg(f(s.median), f(s.min), f(s.max));
}

int runFirehoseParent(const FirehoseOptions &options, int runs, bool verbose)
{
    std::printf("firehose: %s msg/s target, %d s per run, live view capacity %s, %d run(s); "
                "load %s\n",
        qPrintable(thousands(options.rate)), options.seconds,
        qPrintable(thousands(options.capacity)), runs, qPrintable(loadAverage()));
    if (!options.chartPointers.isEmpty())
        std::printf("field chart open, charting %s\n",
            qPrintable(options.chartPointers.join(QStringLiteral(", "))));
    std::fflush(stdout);
    QList<QJsonObject> results;
    for (int i = 1; i <= runs; ++i) {
        QStringList arguments{QStringLiteral("--firehose-child"), QStringLiteral("--rate"),
            QString::number(options.rate), QStringLiteral("--seconds"),
            QString::number(options.seconds), QStringLiteral("--capacity"),
            QString::number(options.capacity)};
        if (!options.screenshot.isEmpty())
            arguments << QStringLiteral("--screenshot") << options.screenshot;
        if (!options.chartPointers.isEmpty())
            arguments << QStringLiteral("--chart") << options.chartPointers.join(u',');
        auto result = runChild(arguments, (options.seconds + 60) * 1000, verbose);
        if (!result)
            return 1;
        const QJsonObject &r = *result;
        if (i == 1)
            std::printf(
                "platform: %s\n", qPrintable(r.value(QStringLiteral("platform")).toString()));
        std::printf("run %d: published %s/s (held back %s, failed %s); stall p50 %s / p99 %s / "
                    "max %s ms; shown %s/s; received %s, dropped %s, lost upstream %s; "
                    "RSS peak %s, at cap %s (%.2f s), end %s MB, slope %s MB/min; malloc in use "
                    "at cap %s, end %s MB; CPU %s%% "
                    "(GUI thread %s%%); load %s\n",
            i, qPrintable(thousands(r[QStringLiteral("publishRate")].toDouble())),
            qPrintable(thousands(r[QStringLiteral("publishHeldBack")].toDouble())),
            qPrintable(thousands(r[QStringLiteral("publishFailed")].toDouble())),
            qPrintable(fmt(r[QStringLiteral("stallP50")].toDouble(), 2)),
            qPrintable(fmt(r[QStringLiteral("stallP99")].toDouble(), 2)),
            qPrintable(fmt(r[QStringLiteral("stallMax")].toDouble(), 2)),
            qPrintable(thousands(r[QStringLiteral("shownPerSecond")].toDouble())),
            qPrintable(thousands(r[QStringLiteral("received")].toDouble())),
            qPrintable(thousands(r[QStringLiteral("dropped")].toDouble())),
            qPrintable(thousands(r[QStringLiteral("lostUpstream")].toDouble())),
            qPrintable(fmt(r[QStringLiteral("peakRssMb")].toDouble())),
            qPrintable(fmt(r[QStringLiteral("rssAtCapMb")].toDouble())),
            r[QStringLiteral("capReachedAt")].toDouble(),
            qPrintable(fmt(r[QStringLiteral("rssEndMb")].toDouble())),
            qPrintable(fmt(r[QStringLiteral("rssSlopeMbPerMin")].toDouble(), 2)),
            qPrintable(fmt(r[QStringLiteral("heapAtCapMb")].toDouble())),
            qPrintable(fmt(r[QStringLiteral("heapEndMb")].toDouble())),
            qPrintable(fmt(r[QStringLiteral("cpuPercent")].toDouble(), 0)),
            qPrintable(fmt(r[QStringLiteral("guiCpuPercent")].toDouble(), 0)),
            qPrintable(r[QStringLiteral("load")].toString()));
        if (r.contains(QStringLiteral("chartMessages")))
            std::printf("       field chart: %s messages charted (%s parsed whole), %s points "
                        "held\n",
                qPrintable(thousands(r[QStringLiteral("chartMessages")].toDouble())),
                qPrintable(thousands(r[QStringLiteral("chartParses")].toDouble())),
                qPrintable(thousands(r[QStringLiteral("chartPoints")].toDouble())));
        std::fflush(stdout);
        results.append(r);
    }

    const auto row = [&](const char *name, const QString &key, int decimals, const char *unit,
                         bool grouped = false) {
        std::printf("  %-32s %s%s\n", name,
            qPrintable(show(spread(results, key), decimals, grouped)), unit);
    };
    std::printf("\nfirehose, median of %d run(s) (min–max):\n", int(results.size()));
    row("publish rate achieved", QStringLiteral("publishRate"), 0, " msg/s", true);
    row("stall p50", QStringLiteral("stallP50"), 2, " ms");
    row("stall p99", QStringLiteral("stallP99"), 2, " ms");
    row("stall max", QStringLiteral("stallMax"), 1, " ms");
    row("shown (median per second)", QStringLiteral("shownPerSecond"), 0, " rows/s", true);
    row("received", QStringLiteral("received"), 0, "", true);
    row("dropped (ring buffer)", QStringLiteral("dropped"), 0, "", true);
    row("lost upstream", QStringLiteral("lostUpstream"), 0, "", true);
    row("peak RSS", QStringLiteral("peakRssMb"), 1, " MB");
    row("RSS when the cap was reached", QStringLiteral("rssAtCapMb"), 1, " MB");
    row("RSS at the end", QStringLiteral("rssEndMb"), 1, " MB");
    row("RSS slope, second half", QStringLiteral("rssSlopeMbPerMin"), 2, " MB/min");
    row("RssAnon when the cap was reached", QStringLiteral("rssAnonAtCapMb"), 1, " MB");
    row("RssAnon at the end", QStringLiteral("rssAnonEndMb"), 1, " MB");
    row("malloc in use at cap", QStringLiteral("heapAtCapMb"), 1, " MB");
    row("malloc in use at the end", QStringLiteral("heapEndMb"), 1, " MB");
    row("malloc footprint at the end", QStringLiteral("heapFootprintEndMb"), 1, " MB");
    row("malloc slope, second half", QStringLiteral("heapSlopeMbPerMin"), 2, " MB/min");
    row("CPU, whole process", QStringLiteral("cpuPercent"), 0, " % of one core");
    row("CPU, GUI thread", QStringLiteral("guiCpuPercent"), 0, " % of one core");
    std::printf("load average after: %s\n", qPrintable(loadAverage()));
    return 0;
}

int runStartupParent(int runs, bool verbose)
{
    std::printf("startup: %d run(s) each of the console and the bare Qt reference, interleaved; "
                "load %s\n",
        runs, qPrintable(loadAverage()));
    std::fflush(stdout);
    QList<QJsonObject> console, bare;
    for (int i = 1; i <= runs; ++i) {
        for (const bool isBare : {false, true}) {
            QStringList arguments{QStringLiteral("--startup-child")};
            if (isBare)
                arguments.append(QStringLiteral("--bare"));
            qint64 launchedNs = 0;
            auto result = runChild(arguments, 60'000, verbose, &launchedNs);
            if (!result)
                return 1;
            QJsonObject r = *result;
            const auto since = [&](const char *key) {
                return (r.value(QLatin1StringView(key)).toDouble() - double(launchedNs)) / 1e6;
            };
            r.insert(QStringLiteral("firstPaintMs"), since("framePaintedNs"));
            r.insert(QStringLiteral("paintStartMs"), since("paintStartedNs"));
            r.insert(QStringLiteral("mainMs"), since("mainNs"));
            r.insert(QStringLiteral("appMs"), since("appNs"));
            r.insert(QStringLiteral("windowMs"), since("windowNs"));
            r.insert(QStringLiteral("shownMs"), since("shownNs"));
            if (!isBare)
                r.insert(QStringLiteral("engineMs"), since("engineNs"));
            if (i == 1 && !isBare)
                std::printf(
                    "platform: %s\n", qPrintable(r.value(QStringLiteral("platform")).toString()));
            std::printf("run %d %-7s: main() %6.1f, QApplication %6.1f, %s window built %6.1f, "
                        "shown %6.1f, paint starts %6.1f, first frame %6.1f ms (CPU %5.1f ms); "
                        "idle RSS %5.1f MB "
                        "(anon %.1f, file %.1f, shmem %.1f)\n",
                i, isBare ? "bare" : "console", r[QStringLiteral("mainMs")].toDouble(),
                r[QStringLiteral("appMs")].toDouble(),
                isBare ? "               "
                       : qPrintable(QStringLiteral("engine %1,")
                                        .arg(r[QStringLiteral("engineMs")].toDouble(), 6, 'f', 1)),
                r[QStringLiteral("windowMs")].toDouble(), r[QStringLiteral("shownMs")].toDouble(),
                r[QStringLiteral("paintStartMs")].toDouble(),
                r[QStringLiteral("firstPaintMs")].toDouble(),
                r[QStringLiteral("cpuToFrameMs")].toDouble(),
                r[QStringLiteral("idleRssMb")].toDouble(),
                r[QStringLiteral("idleAnonMb")].toDouble(),
                r[QStringLiteral("idleFileMb")].toDouble(),
                r[QStringLiteral("idleShmemMb")].toDouble());
            std::fflush(stdout);
            (isBare ? bare : console).append(r);
        }
    }
    const Spread consolePaint = spread(console, QStringLiteral("firstPaintMs"));
    const Spread barePaint = spread(bare, QStringLiteral("firstPaintMs"));
    std::printf("\nstartup, median of %d run(s) (min–max):\n", runs);
    std::printf(
        "  %-36s %s ms\n", "console, cold start to first frame", qPrintable(show(consolePaint, 1)));
    std::printf("  %-36s %s ms\n", "  of which (medians): exec to main()",
        qPrintable(show(spread(console, QStringLiteral("mainMs")), 1)));
    std::printf("  %-36s %s ms\n", "  main() to QApplication built",
        qPrintable(fmt(spread(console, QStringLiteral("appMs")).median
            - spread(console, QStringLiteral("mainMs")).median)));
    std::printf("  %-36s %s ms\n", "  QApplication to engine started",
        qPrintable(fmt(spread(console, QStringLiteral("engineMs")).median
            - spread(console, QStringLiteral("appMs")).median)));
    std::printf("  %-36s %s ms\n", "  engine to window built",
        qPrintable(fmt(spread(console, QStringLiteral("windowMs")).median
            - spread(console, QStringLiteral("engineMs")).median)));
    std::printf("  %-36s %s ms\n", "  window built to first frame",
        qPrintable(fmt(consolePaint.median - spread(console, QStringLiteral("windowMs")).median)));
    std::printf("  %-36s %s ms\n", "console, CPU time to first frame",
        qPrintable(show(spread(console, QStringLiteral("cpuToFrameMs")), 1)));
    std::printf("  %-36s %s MB\n", "console, idle RSS",
        qPrintable(show(spread(console, QStringLiteral("idleRssMb")), 1)));
    std::printf("  %-36s %s MB\n", "  of which anonymous",
        qPrintable(show(spread(console, QStringLiteral("idleAnonMb")), 1)));
    std::printf("  %-36s %s ms\n", "bare Qt Widgets, first frame", qPrintable(show(barePaint, 1)));
    std::printf("  %-36s %s ms\n", "bare Qt Widgets, CPU to first frame",
        qPrintable(show(spread(bare, QStringLiteral("cpuToFrameMs")), 1)));
    std::printf("  %-36s %s MB\n", "bare Qt Widgets, idle RSS",
        qPrintable(show(spread(bare, QStringLiteral("idleRssMb")), 1)));
    std::printf("  %-36s %sx first frame, %sx CPU to first frame, %sx idle RSS\n", "console / bare",
        qPrintable(fmt(barePaint.median > 0 ? consolePaint.median / barePaint.median : 0, 2)),
        qPrintable(fmt(spread(console, QStringLiteral("cpuToFrameMs")).median
                / std::max(1e-9, spread(bare, QStringLiteral("cpuToFrameMs")).median),
            2)),
        qPrintable(fmt(spread(console, QStringLiteral("idleRssMb")).median
                / std::max(1e-9, spread(bare, QStringLiteral("idleRssMb")).median),
            2)));
    std::printf("load average after: %s\n", qPrintable(loadAverage()));
    return 0;
}

bool hasArgument(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; ++i)
        if (qstrcmp(argv[i], name) == 0)
            return true;
    return false;
}

} // namespace

int main(int argc, char *argv[])
{
    const qint64 mainNs = monotonicNs();
    // Children show windows; parents only launch children and must not need a display.
    const bool child =
        hasArgument(argc, argv, "--firehose-child") || hasArgument(argc, argv, "--startup-child");
    std::unique_ptr<QCoreApplication> app = child ? std::make_unique<QApplication>(argc, argv)
                                                  : std::make_unique<QCoreApplication>(argc, argv);
    const qint64 appNs = monotonicNs();
    QCoreApplication::setApplicationName(QStringLiteral("bench_console"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "The console under a firehose (--firehose) and its cold start (--startup)."));
    parser.addHelpOption();
    const QCommandLineOption firehose(QStringLiteral("firehose"), QStringLiteral("Firehose mode."));
    const QCommandLineOption startup(QStringLiteral("startup"), QStringLiteral("Start-up mode."));
    const QCommandLineOption firehoseChild(
        QStringLiteral("firehose-child"), QStringLiteral("One firehose run (internal)."));
    const QCommandLineOption startupChild(
        QStringLiteral("startup-child"), QStringLiteral("One start-up (internal)."));
    const QCommandLineOption bare(
        QStringLiteral("bare"), QStringLiteral("With --startup-child: an empty QMainWindow."));
    const QCommandLineOption rate(QStringLiteral("rate"),
        QStringLiteral("Messages per second (20000)."), QStringLiteral("N"),
        QStringLiteral("20000"));
    const QCommandLineOption seconds(QStringLiteral("seconds"),
        QStringLiteral("Seconds per firehose run (30)."), QStringLiteral("N"),
        QStringLiteral("30"));
    const QCommandLineOption capacity(QStringLiteral("capacity"),
        QStringLiteral("Live view capacity (10000)."), QStringLiteral("N"),
        QString::number(LiveMessageModel::kDefaultCapacity));
    const QCommandLineOption runs(QStringLiteral("runs"),
        QStringLiteral("Runs (firehose 3, start-up 5)."), QStringLiteral("N"));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
        QStringLiteral("Save the firehose window to FILE at the end of each run."),
        QStringLiteral("FILE"));
    const QCommandLineOption chart(QStringLiteral("chart"),
        QStringLiteral("With --firehose: chart these comma-separated JSON Pointers in the live "
                       "view (the payloads have /seq and /value)."),
        QStringLiteral("POINTERS"));
    const QCommandLineOption verbose(
        QStringLiteral("verbose"), QStringLiteral("Print the children's per-second samples."));
    parser.addOptions({firehose, startup, firehoseChild, startupChild, bare, rate, seconds,
        capacity, runs, screenshot, chart, verbose});
    parser.process(*app);

    FirehoseOptions options;
    options.rate = parser.value(rate).toDouble();
    options.seconds = parser.value(seconds).toInt();
    options.capacity = parser.value(capacity).toInt();
    options.screenshot = parser.value(screenshot);
    if (parser.isSet(chart))
        options.chartPointers = parser.value(chart).split(u',', Qt::SkipEmptyParts);
    if (options.rate <= 0 || options.seconds <= 0 || options.capacity <= 0) {
        std::fprintf(stderr, "bench_console: --rate, --seconds and --capacity must be positive\n");
        return 2;
    }

    if (parser.isSet(firehoseChild))
        return runFirehoseChild(static_cast<QApplication &>(*app), options);
    if (parser.isSet(startupChild))
        return runStartupChild(
            static_cast<QApplication &>(*app), mainNs, appNs, parser.isSet(bare));
    if (parser.isSet(firehose))
        return runFirehoseParent(
            options, parser.isSet(runs) ? parser.value(runs).toInt() : 3, parser.isSet(verbose));
    if (parser.isSet(startup))
        return runStartupParent(
            parser.isSet(runs) ? parser.value(runs).toInt() : 5, parser.isSet(verbose));
    parser.showHelp(2);
}
