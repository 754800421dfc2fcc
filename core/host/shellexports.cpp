#include "host/shellexports.h"

#include "host/enginehost.h"

#include <QRegularExpression>

namespace streams {

namespace {
// The credentials() whose values are secrets.
const QString kAuthToken = QStringLiteral("TWILIO_AUTH_TOKEN");
const QString kApiSecret = QStringLiteral("TWILIO_API_SECRET");

QString exportLine(const QString &name, const QString &value)
{
    return QStringLiteral("export %1=%2").arg(name, ShellExports::quoted(value));
}
} // namespace

QString ShellExports::quoted(const QString &text)
{
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9_@%+=:,./-]+$"));
    if (plain.match(text).hasMatch())
        return text;
    QString result = text;
    result.replace(u'\'', QStringLiteral("'\\''"));
    return u'\'' + result + u'\'';
}

QString ShellExports::proxyUrl(const QHostAddress &address, quint16 port)
{
    // A wildcard address listens on loopback too, and a client cannot connect to 0.0.0.0.
    QHostAddress reachable = address;
    if (address == QHostAddress::Any || address == QHostAddress::AnyIPv4)
        reachable = QHostAddress(QHostAddress::LocalHost);
    else if (address == QHostAddress::AnyIPv6)
        reachable = QHostAddress(QHostAddress::LocalHostIPv6);
    return EngineHost::Listening{reachable, port}.baseUrl();
}

QStringList ShellExports::credentials(const EngineCredentials &credentials)
{
    return {exportLine(QStringLiteral("TWILIO_ACCOUNT_SID"), credentials.accountSid),
        exportLine(kAuthToken, credentials.authToken),
        exportLine(QStringLiteral("TWILIO_API_KEY"), credentials.apiKeySid),
        exportLine(kApiSecret, credentials.apiKeySecret)};
}

QString ShellExports::masked(const QString &line, QStringView mask)
{
    for (const QString &name : {kAuthToken, kApiSecret}) {
        const QString prefix = QStringLiteral("export ") + name + u'=';
        if (line.startsWith(prefix)) {
            QString shown = prefix;
            shown.append(mask);
            return shown;
        }
    }
    return line;
}

QStringList ShellExports::proxy(const ProxySetup &setup, const EngineCredentials &credentials)
{
    const QString url = proxyUrl(setup.address, setup.port);
    const QString listen = url.mid(url.indexOf(u"//") + 2);
    const QString ca = quoted(setup.caCertificatePath);
    const QString dataDir = quoted(setup.dataDir);
    QStringList lines{
        QStringLiteral("# Zero-change mode: eval \"$(streams-engine --show-proxy-env)\" in the "
                       "shell that runs your Twilio program."),
        QStringLiteral("# Its HTTPS goes through the engine, which answers for Twilio's Sync hosts "
                       "with certificates from its own CA."),
        QStringLiteral("# It forwards nothing: in that shell any other HTTPS host is refused "
                       "(403), so keep it to the Twilio program, e.g."),
        QStringLiteral("#   ( eval \"$(streams-engine --show-proxy-env)\"; node app.js )"),
    };
    using Source = ProxySetup::Source;
    const QString pid = setup.runningPid && *setup.runningPid != 0
        ? QString::number(*setup.runningPid)
        : QStringLiteral("unknown");
    if (setup.runningPid && setup.source == Source::Recorded)
        lines << QStringLiteral("# The engine (pid %1) using %2 listens on %3.")
                     .arg(pid, dataDir, listen);
    else if (setup.runningPid)
        lines << QStringLiteral("# An engine (pid %1) is using %2 but has not said where it "
                                "listens; this assumes %3 %4.")
                     .arg(pid, dataDir, listen,
                         setup.source == Source::ListenOption
                             ? QStringLiteral("as --listen says")
                             : QStringLiteral("(the default; pass --listen as it was started "
                                              "with if not)"));
    else
        lines << QStringLiteral("# No engine is running on %1 yet: %2 is %3; start it with: "
                                "streams-engine --listen %2 --data-dir %1")
                     .arg(dataDir, listen,
                         setup.source == Source::ListenOption ? QStringLiteral("what --listen says")
                                                              : QStringLiteral("the default"));
    for (const QString &name : {QStringLiteral("HTTPS_PROXY"), QStringLiteral("https_proxy"),
             QStringLiteral("HTTP_PROXY"), QStringLiteral("http_proxy")})
        lines << exportLine(name, url);
    // Programs differ in which case they read (curl only the lower-case http_proxy), so both.
    lines << QStringLiteral("# NO_PROXY can only exempt hosts, not choose them: it is set to "
                            "loopback alone, replacing any list that might exempt twilio.com;")
          << QStringLiteral("# local servers are reached directly, every other host through "
                            "the engine (which answers only as Twilio's Sync hosts).");
    const QString loopback = QStringLiteral("localhost,127.0.0.1,::1");
    lines << exportLine(QStringLiteral("NO_PROXY"), loopback)
          << exportLine(QStringLiteral("no_proxy"), loopback);

    lines << QStringLiteral(
        "# The engine's CA, %1, signs for twilio.com and its subdomains "
        "only (a critical name constraint, which OpenSSL, Go, Java and .NET enforce).")
                 .arg(ca)
          << QStringLiteral("# Node.js adds NODE_EXTRA_CA_CERTS to its own CAs. twilio (npm) "
                            "goes through HTTP_PROXY and then trusts those;")
          << QStringLiteral("# TWILIO_CA_BUNDLE is what it trusts when it has no proxy.");
    lines << exportLine(QStringLiteral("NODE_EXTRA_CA_CERTS"), setup.caCertificatePath)
          << exportLine(QStringLiteral("TWILIO_CA_BUNDLE"), setup.caCertificatePath);
    lines << QStringLiteral("# REQUESTS_CA_BUNDLE is all Python requests trusts in this shell "
                            "(python3-twilio 8 and later; before 8, as Debian 12's, it reads no "
                            "CA variable:")
          << QStringLiteral("# trust the CA system-wide for it, as for .NET below). "
                            "CURL_CA_BUNDLE is the curl command's CA file, SSL_CERT_FILE "
                            "OpenSSL's and Go's")
          << QStringLiteral("# (Ruby, .NET on Linux): each instead of the usual file, the "
                            "certificate directory /etc/ssl/certs still read. PHP reads none "
                            "of them (php -d curl.cainfo=FILE).");
    lines << exportLine(QStringLiteral("REQUESTS_CA_BUNDLE"), setup.caCertificatePath)
          << exportLine(QStringLiteral("CURL_CA_BUNDLE"), setup.caCertificatePath)
          << exportLine(QStringLiteral("SSL_CERT_FILE"), setup.caCertificatePath);

    const int colon = int(listen.lastIndexOf(u':'));
    const QString proxyHost = listen.left(colon).remove(u'[').remove(u']');
    lines << QStringLiteral("# Java reads no CA or proxy variable: import the CA into a copy of "
                            "the JDK's trust store and tell the JVM:")
          << QStringLiteral("#   cp \"$JAVA_HOME/lib/security/cacerts\" ~/.sync-streams-cacerts "
                            "&& keytool -importcert -noprompt -alias sync-streams-engine "
                            "-file %1 -keystore ~/.sync-streams-cacerts -storepass changeit")
                 .arg(ca)
          << QStringLiteral("#   export JAVA_TOOL_OPTIONS=\"-Djavax.net.ssl.trustStore=$HOME/"
                            ".sync-streams-cacerts -Djavax.net.ssl.trustStorePassword=changeit "
                            "-Dhttps.proxyHost=%1 -Dhttps.proxyPort=%2\"")
                 .arg(proxyHost, listen.mid(colon + 1))
          << QStringLiteral("# .NET reads HTTPS_PROXY, and on Linux SSL_CERT_FILE; for tools "
                            "that read only the system store, trust the CA system-wide (the "
                            "name constraint still holds):")
          << QStringLiteral("#   sudo cp %1 /usr/local/share/ca-certificates/"
                            "sync-streams-engine.crt && sudo update-ca-certificates")
                 .arg(ca)
          << QStringLiteral("#   and to undo: sudo rm /usr/local/share/ca-certificates/"
                            "sync-streams-engine.crt && sudo update-ca-certificates --fresh");
    lines << QStringLiteral("# The engine's credentials, as --show-credentials prints them.")
          << ShellExports::credentials(credentials);
    return lines;
}

} // namespace streams
