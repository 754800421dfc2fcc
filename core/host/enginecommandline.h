#pragma once

#include "engine/engine.h"
#include "server/twilsockserver.h"

#include <QCommandLineParser>
#include <QHostAddress>
#include <expected>

namespace streams {

/// The engine options every host of the engine understands (`streams-engine` and
/// `streams-console`): --listen HOST:PORT, --data-dir DIR, --publish-rate N|unlimited,
/// --allow-remote, and the slow-subscriber limits --subscriber-buffer KIB,
/// --slow-subscriber-timeout SECONDS, --subscriber-queue N, and for tests and CI --state FILE,
/// --in-memory, --export-state-on-exit FILE and --traffic-bodies.
class EngineCommandLine final
{
public:
    static constexpr quint16 kDefaultPort = 18080;

    struct Settings
    {
        EngineOptions engine;
        QHostAddress address = QHostAddress(QHostAddress::LocalHost);
        quint16 port = kDefaultPort;
        bool listenGiven = false; ///< address and port are --listen's, not the default
        bool allowRemote = false;
        TwilsockOptions twilsock;
    };

    static void addOptions(QCommandLineParser &parser);
    static std::expected<Settings, QString> read(const QCommandLineParser &parser);

    /// "127.0.0.1:18080", "[::1]:0", "localhost:8080", or just a port.
    static std::expected<std::pair<QHostAddress, quint16>, QString> parseListen(
        const QString &text);
    /// A positive number of messages per second, or "unlimited" (empty result).
    static std::expected<std::optional<double>, QString> parsePublishRate(const QString &text);
    /// The data directory used when none is given.
    static QString defaultDataDir();
};

} // namespace streams
