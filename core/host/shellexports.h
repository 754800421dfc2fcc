#pragma once

#include "engine/credentials.h"

#include <QHostAddress>
#include <QString>
#include <QStringList>
#include <optional>

namespace streams {

/// The shell text `streams-engine` prints for `eval "$(…)"`: `export NAME=value` lines (values
/// quoted for POSIX shells) and `#` comments, nothing else.
class ShellExports final
{
public:
    /// --show-credentials: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_KEY and
    /// TWILIO_API_SECRET. They hold secrets: for a terminal or a pipe the user asked for, never
    /// for a log.
    static QStringList credentials(const EngineCredentials &credentials);
    /// `line` as a screen shows it: the value of an export of a secret (TWILIO_AUTH_TOKEN,
    /// TWILIO_API_SECRET) replaced by `mask`; any other line as it is.
    static QString masked(const QString &line, QStringView mask);

    /// Where the engine is for --show-proxy-env, and how that was found out.
    struct ProxySetup
    {
        enum class Source {
            Recorded, ///< the running engine recorded it (Engine::listeningIn), or it is ours
            ListenOption, ///< --listen on the command line
            Default, ///< the default address, assumed
        };
        QHostAddress address;
        quint16 port = 0;
        Source source = Source::Default;
        std::optional<qint64> runningPid; ///< the engine using dataDir, if one is
        QString dataDir;
        QString caCertificatePath;
    };

    /// --show-proxy-env: the proxy variables (upper and lower case) pointing at the engine,
    /// NO_PROXY for loopback only, the engine's CA for every ecosystem's variable, comments for
    /// Java and .NET, then credentials().
    static QStringList proxy(const ProxySetup &setup, const EngineCredentials &credentials);

    /// `text` as one word for a POSIX shell: as is when it is plainly safe, else single-quoted.
    static QString quoted(const QString &text);
    /// "http://127.0.0.1:18080": the engine's address as a proxy URL (a wildcard address is
    /// reached through loopback; IPv6 in brackets).
    static QString proxyUrl(const QHostAddress &address, quint16 port);
};

} // namespace streams
