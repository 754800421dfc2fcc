#include "host/enginecommandline.h"

#include <QFileInfo>
#include <QStandardPaths>
#include <QThread>

namespace streams {

namespace {
const QString kListen = QStringLiteral("listen");
const QString kDataDir = QStringLiteral("data-dir");
const QString kPublishRate = QStringLiteral("publish-rate");
const QString kAllowRemote = QStringLiteral("allow-remote");
const QString kSubscriberBuffer = QStringLiteral("subscriber-buffer");
const QString kSlowSubscriberTimeout = QStringLiteral("slow-subscriber-timeout");
const QString kSubscriberQueue = QStringLiteral("subscriber-queue");
const QString kIoThreads = QStringLiteral("io-threads");
const QString kState = QStringLiteral("state");
const QString kInMemory = QStringLiteral("in-memory");
const QString kExportStateOnExit = QStringLiteral("export-state-on-exit");
const QString kTrafficBodies = QStringLiteral("traffic-bodies");

// A number in [minimum, maximum] from option `name`, or a message saying what is wanted.
std::expected<double, QString> numberOption(const QCommandLineParser &parser, const QString &name,
    double minimum, double maximum, bool integral)
{
    const QString text = parser.value(name);
    bool ok = false;
    const double value = text.toDouble(&ok);
    if (!ok || !(value >= minimum && value <= maximum) || (integral && value != qint64(value)))
        return std::unexpected(
            QStringLiteral("--%1: '%2' is not %3 from %4 to %5")
                .arg(name, text,
                    integral ? QStringLiteral("a whole number") : QStringLiteral("a number"))
                .arg(minimum)
                .arg(maximum));
    return value;
}
} // namespace

void EngineCommandLine::addOptions(QCommandLineParser &parser)
{
    parser.addOption({kListen,
        QStringLiteral("Address and port to listen on (default 127.0.0.1:%1; port 0 "
                       "picks a free one).")
            .arg(kDefaultPort),
        QStringLiteral("HOST:PORT")});
    parser.addOption({kDataDir,
        QStringLiteral("Where services, streams and credentials are kept (default %1).")
            .arg(defaultDataDir()),
        QStringLiteral("DIR")});
    parser.addOption({kPublishRate,
        QStringLiteral("Messages per second per stream, with a 10 s burst budget "
                       "(default 30), or 'unlimited' for load tests."),
        QStringLiteral("N|unlimited")});
    parser.addOption({kAllowRemote,
        QStringLiteral("Allow --listen on an address other than loopback. Anyone "
                       "who can reach it and holds the credentials gets in.")});
    const TwilsockOptions defaults;
    parser.addOption({kSubscriberBuffer,
        QStringLiteral("Unsent data a live connection may have before its messages wait in "
                       "its queues (default %1 KiB).")
            .arg(defaults.sendBufferLimit / 1024),
        QStringLiteral("KIB")});
    parser.addOption({kSlowSubscriberTimeout,
        QStringLiteral("Close a live connection that has had more than --subscriber-buffer "
                       "unsent for this long (default %1 s).")
            .arg(double(defaults.stallTimeout.count()) / 1000),
        QStringLiteral("SECONDS")});
    parser.addOption({kSubscriberQueue,
        QStringLiteral("Messages a subscription may have waiting before its oldest are "
                       "dropped (default %1).")
            .arg(EngineOptions().subscriberQueueCapacity),
        QStringLiteral("N")});
    parser.addOption({kIoThreads,
        QStringLiteral("Threads that read and write live connections (default: one per core, "
                       "%1 here; 0 serves them on the engine's thread).")
            .arg(std::max(1, QThread::idealThreadCount())),
        QStringLiteral("N")});
    parser.addOption({kState,
        QStringLiteral("Load this state snapshot (GET /_engine/state's JSON) at start, into a "
                       "data directory that holds no engine data yet."),
        QStringLiteral("FILE")});
    parser.addOption({kInMemory,
        QStringLiteral("Write nothing to disk: the data lives in RAM and is gone at exit "
                       "(for CI; not with --data-dir).")});
    parser.addOption({kExportStateOnExit,
        QStringLiteral("Write the state snapshot to FILE when the engine stops cleanly."),
        QStringLiteral("FILE")});
    parser.addOption({kTrafficBodies,
        QStringLiteral("Keep request bodies and message data in the traffic log "
                       "(GET /_engine/traffic); they are your users' data.")});
}

QString EngineCommandLine::defaultDataDir()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)
        + QStringLiteral("/sync-streams-console/engine");
}

std::expected<std::pair<QHostAddress, quint16>, QString> EngineCommandLine::parseListen(
    const QString &text)
{
    QString host = QStringLiteral("127.0.0.1");
    QString portText = text;
    if (text.startsWith(u'[')) {
        const qsizetype close = text.indexOf(u']');
        if (close < 0 || text.mid(close + 1, 1) != u":")
            return std::unexpected(QStringLiteral("'%1' is not [IPV6]:PORT").arg(text));
        host = text.mid(1, close - 1);
        portText = text.mid(close + 2);
    } else if (const qsizetype colon = text.lastIndexOf(u':'); colon >= 0) {
        host = text.left(colon);
        portText = text.mid(colon + 1);
    }
    bool ok = false;
    const uint port = portText.toUInt(&ok);
    if (!ok || port > 65535)
        return std::unexpected(QStringLiteral("'%1' is not a port number").arg(portText));
    QHostAddress address;
    if (host == u"localhost")
        address = QHostAddress(QHostAddress::LocalHost);
    else if (!address.setAddress(host))
        return std::unexpected(QStringLiteral("'%1' is not an IP address").arg(host));
    return std::pair{address, quint16(port)};
}

std::expected<std::optional<double>, QString> EngineCommandLine::parsePublishRate(
    const QString &text)
{
    if (text.compare(u"unlimited", Qt::CaseInsensitive) == 0)
        return std::optional<double>();
    bool ok = false;
    const double rate = text.toDouble(&ok);
    if (!ok || !(rate > 0) || rate > 1e9)
        return std::unexpected(
            QStringLiteral("'%1' is not a positive number of messages per second or 'unlimited'")
                .arg(text));
    return std::optional<double>(rate);
}

std::expected<EngineCommandLine::Settings, QString> EngineCommandLine::read(
    const QCommandLineParser &parser)
{
    Settings settings;
    settings.engine.dataDir = parser.isSet(kDataDir) ? parser.value(kDataDir) : defaultDataDir();
    if (parser.isSet(kListen)) {
        auto listen = parseListen(parser.value(kListen));
        if (!listen)
            return std::unexpected(listen.error());
        std::tie(settings.address, settings.port) = *listen;
        settings.listenGiven = true;
    }
    if (parser.isSet(kPublishRate)) {
        auto rate = parsePublishRate(parser.value(kPublishRate));
        if (!rate)
            return std::unexpected(rate.error());
        settings.engine.publishRatePerSecond = *rate;
    }
    if (parser.isSet(kSubscriberBuffer)) {
        auto kib = numberOption(parser, kSubscriberBuffer, 16, 1024 * 1024, true);
        if (!kib)
            return std::unexpected(kib.error());
        settings.twilsock.sendBufferLimit = qint64(*kib) * 1024;
        // Replies to a client that sends requests without reading them get eight times that.
        settings.twilsock.maxUnsentBytes = 8 * settings.twilsock.sendBufferLimit;
    }
    if (parser.isSet(kSlowSubscriberTimeout)) {
        auto seconds = numberOption(parser, kSlowSubscriberTimeout, 0.1, 3600, false);
        if (!seconds)
            return std::unexpected(seconds.error());
        settings.twilsock.stallTimeout = std::chrono::milliseconds(qint64(*seconds * 1000));
    }
    if (parser.isSet(kSubscriberQueue)) {
        auto capacity = numberOption(parser, kSubscriberQueue, 1, 10'000'000, true);
        if (!capacity)
            return std::unexpected(capacity.error());
        settings.engine.subscriberQueueCapacity = qsizetype(*capacity);
    }
    if (parser.isSet(kIoThreads)) {
        auto threads = numberOption(parser, kIoThreads, 0, 256, true);
        if (!threads)
            return std::unexpected(threads.error());
        settings.twilsock.ioThreads = int(*threads);
    }
    settings.engine.inMemory = parser.isSet(kInMemory);
    if (settings.engine.inMemory && parser.isSet(kDataDir))
        return std::unexpected(
            QStringLiteral("--in-memory and --data-dir exclude each other: in memory, nothing "
                           "is written to a data directory"));
    if (parser.isSet(kState)) {
        settings.engine.stateFile = parser.value(kState);
        if (!QFileInfo(settings.engine.stateFile).isReadable())
            return std::unexpected(
                QStringLiteral("--state: cannot read %1").arg(settings.engine.stateFile));
    }
    if (parser.isSet(kExportStateOnExit))
        settings.engine.exportStateOnExit =
            QFileInfo(parser.value(kExportStateOnExit)).absoluteFilePath();
    settings.engine.trafficBodies = parser.isSet(kTrafficBodies);
    settings.allowRemote = parser.isSet(kAllowRemote);
    if (!settings.address.isLoopback() && !settings.allowRemote)
        return std::unexpected(
            QStringLiteral("refusing to listen on %1, which is not a loopback address; pass "
                           "--allow-remote if you mean it")
                .arg(settings.address.toString()));
    return settings;
}

} // namespace streams
