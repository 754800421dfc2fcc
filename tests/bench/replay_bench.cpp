// bench_replay: what a replay of an NDJSON recording costs, printed as figures.
//
// 1. MessageRecording::read(): reading and validating a whole recording of --lines lines (as the
//    live view exports them, ~130 bytes each) on its worker thread, which is what the console
//    does before publishing anything.
// 2. StreamReplay as fast as allowed into the embedded engine (LocalBackend) with its publish
//    limit lifted: --messages publishes, one in flight at a time (what keeps the order), from
//    start() to finished(), on a real event loop.

#include "backend/localbackend.h"
#include "backend/messagerecording.h"
#include "backend/streamreplay.h"
#include "engine/engine.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QTemporaryDir>
#include <QTimer>
#include <cstdio>

using namespace streams;

namespace {

template<typename T>
T wait(const QFuture<T> &future)
{
    QEventLoop loop;
    QFutureWatcher<T> watcher;
    QObject::connect(&watcher, &QFutureWatcherBase::finished, &loop, &QEventLoop::quit);
    watcher.setFuture(future);
    if (!future.isFinished())
        loop.exec();
    return future.result();
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOption({QStringLiteral("lines"), QStringLiteral("Lines in the recording read."),
        QStringLiteral("N"), QStringLiteral("1000000")});
    parser.addOption({QStringLiteral("messages"), QStringLiteral("Messages replayed."),
        QStringLiteral("N"), QStringLiteral("20000")});
    parser.process(app);
    const int lines = parser.value(QStringLiteral("lines")).toInt();
    const int messages = parser.value(QStringLiteral("messages")).toInt();

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("recording.ndjson"));
    {
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly))
            return 1;
        QByteArray chunk;
        for (int n = 0; n < std::max(lines, messages); ++n) {
            chunk += R"({"sid":"TZ0123456789abcdef0123456789abcdef","received":)"
                     R"("2024-05-01T12:00:00.123Z","data":{"device":"sensor-3","n":)"
                + QByteArray::number(n) + ",\"ok\":true}}\n";
            if (chunk.size() > (1 << 20)) {
                file.write(chunk);
                chunk.clear();
            }
        }
        file.write(chunk);
    }

    QElapsedTimer timer;
    timer.start();
    const MessageRecording::Result recording = wait(MessageRecording::read(path));
    const qint64 readMs = timer.elapsed();
    if (!recording) {
        std::fprintf(stderr, "read failed: %s\n", qPrintable(recording.error().text()));
        return 1;
    }
    std::printf("read and validate: %lld lines (%lld bytes) in %lld ms, %.0f lines/s\n",
        qlonglong(recording->size()), qlonglong(QFileInfo(path).size()), readMs,
        recording->size() * 1000.0 / std::max<qint64>(1, readMs));

    EngineOptions options;
    options.inMemory = true;
    options.environment = QProcessEnvironment();
    options.publishRatePerSecond = std::nullopt;
    auto backend = LocalBackend::start(options, QHostAddress::LocalHost, 0);
    if (!backend) {
        std::fprintf(stderr, "engine: %s\n", qPrintable(backend.error()));
        return 1;
    }
    const auto service = wait((*backend)->fetchService(QStringLiteral("default")));
    const auto stream = service
        ? wait((*backend)->createStream(service->sid, {QStringLiteral("bench"), {}}))
        : std::unexpected(service.error());
    if (!stream) {
        std::fprintf(stderr, "stream: %s\n", qPrintable(stream.error().message()));
        return 1;
    }
    StreamReplay replay(**backend, stream->serviceSid, stream->sid, recording->mid(0, messages),
        StreamReplay::Pace::AsFastAsAllowed);
    StreamReplay::Result result;
    QEventLoop loop;
    QObject::connect(&replay, &StreamReplay::finished, &loop, [&](const StreamReplay::Result &r) {
        result = r;
        loop.quit();
    });
    timer.restart();
    replay.start();
    loop.exec();
    const qint64 replayMs = timer.elapsed();
    std::printf("replay (embedded engine, unlimited): %lld messages in %lld ms, %.0f msg/s\n",
        qlonglong(result.published), replayMs,
        result.published * 1000.0 / std::max<qint64>(1, replayMs));
    return result.outcome == StreamReplay::Result::Outcome::Completed ? 0 : 1;
}
