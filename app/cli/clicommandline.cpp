#include "clicommandline.h"

#include "api/validation.h"

#include <QHash>

namespace streams {

namespace {
using Command = CliInvocation::Command;

const QString kDescription = QStringLiteral(
    "A scripting client for Twilio Sync Streams: Twilio's cloud, a streams-engine at a URL, or a\n"
    "connection profile saved by streams-console.\n"
    "\n"
    "Commands:\n"
    "  services list                                                List the services.\n"
    "  services create [SERVICE OPTIONS]                            Create a service.\n"
    "  services fetch SERVICE                                       Show one service.\n"
    "  services update SERVICE SERVICE OPTIONS                      Change a service's fields.\n"
    "  services delete SERVICE                                      Delete a service and its "
    "streams.\n"
    "  streams list SERVICE                                         List a service's streams.\n"
    "  streams create SERVICE [--unique-name NAME] [--ttl SECONDS]  Create a stream.\n"
    "  streams fetch SERVICE/STREAM                                 Show one stream.\n"
    "  streams update SERVICE/STREAM --ttl SECONDS                  New TTL from now; 0: never "
    "expires.\n"
    "  streams delete SERVICE/STREAM                                Delete a stream.\n"
    "  publish SERVICE/STREAM [JSON | -]                            Publish JSON, or NDJSON from "
    "stdin.\n"
    "  subscribe SERVICE/STREAM                                     Print messages as NDJSON until "
    "^C.\n"
    "  profiles list                                                List the saved profiles.\n"
    "  profiles import env                                          Profile from the TWILIO_* "
    "variables.\n"
    "  profiles import twilio-cli [--keep-source]                   Import twilio-cli's profiles.\n"
    "\n"
    "SERVICE and STREAM are SIDs or unique names.\n"
    "\n"
    "Connection: --url URL is a streams-engine, with TWILIO_ACCOUNT_SID and TWILIO_API_KEY +\n"
    "TWILIO_API_SECRET (or TWILIO_AUTH_TOKEN). --profile NAME is a saved profile, its secret\n"
    "from the keychain (or those variables when the keychain has none). With neither, Twilio's\n"
    "cloud with the TWILIO_* variables (and TWILIO_REGION, TWILIO_EDGE).\n"
    "\n"
    "Exit codes: 0 ok, 1 API error, 2 usage, 3 connection failure or no usable secret.");

const QHash<QString, Command> &commandsByWords()
{
    static const QHash<QString, Command> commands{
        {QStringLiteral("services list"), Command::ServicesList},
        {QStringLiteral("services create"), Command::ServicesCreate},
        {QStringLiteral("services fetch"), Command::ServicesFetch},
        {QStringLiteral("services update"), Command::ServicesUpdate},
        {QStringLiteral("services delete"), Command::ServicesDelete},
        {QStringLiteral("streams list"), Command::StreamsList},
        {QStringLiteral("streams create"), Command::StreamsCreate},
        {QStringLiteral("streams fetch"), Command::StreamsFetch},
        {QStringLiteral("streams update"), Command::StreamsUpdate},
        {QStringLiteral("streams delete"), Command::StreamsDelete},
        {QStringLiteral("publish"), Command::Publish},
        {QStringLiteral("subscribe"), Command::Subscribe},
        {QStringLiteral("profiles list"), Command::ProfilesList},
        {QStringLiteral("profiles import env"), Command::ProfilesImportEnvironment},
        {QStringLiteral("profiles import twilio-cli"), Command::ProfilesImportTwilioCli},
    };
    return commands;
}

// What each command takes after its words.
enum class Operand {
    None,
    Service,
    ServiceStream
};

Operand operandOf(Command command)
{
    switch (command) {
    case Command::ServicesFetch:
    case Command::ServicesUpdate:
    case Command::ServicesDelete:
    case Command::StreamsList:
    case Command::StreamsCreate: return Operand::Service;
    case Command::StreamsFetch:
    case Command::StreamsUpdate:
    case Command::StreamsDelete:
    case Command::Publish:
    case Command::Subscribe: return Operand::ServiceStream;
    default: return Operand::None;
    }
}

QString operandName(Operand operand)
{
    return operand == Operand::Service ? QStringLiteral("SERVICE")
                                       : QStringLiteral("SERVICE/STREAM");
}

bool isServiceFieldCommand(Command command)
{
    return command == Command::ServicesCreate || command == Command::ServicesUpdate;
}

std::expected<bool, QString> readBoolean(
    const QCommandLineParser &parser, const QCommandLineOption &option)
{
    const QString text = parser.value(option);
    if (const auto value = validation::parseBoolean(text))
        return *value;
    return std::unexpected(QStringLiteral("--%1 expects true or false, not '%2'")
                               .arg(option.names().constLast(), text));
}
} // namespace

bool CliInvocation::needsConnection() const
{
    return command != Command::ProfilesList && command != Command::ProfilesImportEnvironment
        && command != Command::ProfilesImportTwilioCli;
}

CliCommandLine::CliCommandLine()
    : m_help(m_parser.addHelpOption()),
      m_version(m_parser.addVersionOption()),
      m_profile(QStringLiteral("profile"),
          QStringLiteral("Connect with the saved profile NAME (see 'profiles list')."),
          QStringLiteral("NAME")),
      m_url(QStringLiteral("url"),
          QStringLiteral("Connect to the streams-engine at URL (http[s]://HOST:PORT)."),
          QStringLiteral("URL")),
      m_output(QStringList{QStringLiteral("o"), QStringLiteral("output")},
          QStringLiteral("table (default): aligned columns; json: Twilio's JSON shapes."),
          QStringLiteral("json|table")),
      m_timeout(QStringLiteral("timeout"),
          QStringLiteral("Give up on a request that gets no answer within SECONDS (default 15; "
                         "GET and DELETE are tried up to 6 times, a POST once)."),
          QStringLiteral("SECONDS")),
      m_friendlyName(QStringLiteral("friendly-name"),
          QStringLiteral("services create/update: the service's friendly name."),
          QStringLiteral("NAME")),
      m_webhookUrl(QStringLiteral("webhook-url"),
          QStringLiteral("services create/update: where Sync sends webhooks."),
          QStringLiteral("URL")),
      m_reachabilityWebhooksEnabled(QStringLiteral("reachability-webhooks-enabled"),
          QStringLiteral("services create/update: reachability webhooks."),
          QStringLiteral("true|false")),
      m_aclEnabled(QStringLiteral("acl-enabled"),
          QStringLiteral("services create/update: access control on Sync objects."),
          QStringLiteral("true|false")),
      m_reachabilityDebouncingEnabled(QStringLiteral("reachability-debouncing-enabled"),
          QStringLiteral("services create/update: debounce reachability webhooks."),
          QStringLiteral("true|false")),
      m_reachabilityDebouncingWindow(QStringLiteral("reachability-debouncing-window"),
          QStringLiteral("services create/update: the debouncing window (1000-30000 ms)."),
          QStringLiteral("MS")),
      m_webhooksFromRestEnabled(QStringLiteral("webhooks-from-rest-enabled"),
          QStringLiteral("services create/update: webhooks for changes made over REST."),
          QStringLiteral("true|false")),
      m_uniqueName(QStringLiteral("unique-name"),
          QStringLiteral("streams create: the stream's unique name."), QStringLiteral("NAME")),
      m_ttl(QStringLiteral("ttl"),
          QStringLiteral("streams create/update: seconds until the stream expires (0 = never)."),
          QStringLiteral("SECONDS")),
      m_keepSource(QStringLiteral("keep-source"),
          QStringLiteral("profiles import twilio-cli: leave the secrets in twilio-cli's file "
                         "too (by default they are moved to the keychain)."))
{
    m_parser.setApplicationDescription(kDescription);
    m_parser.addOptions({m_profile, m_url, m_output, m_timeout, m_friendlyName, m_webhookUrl,
        m_reachabilityWebhooksEnabled, m_aclEnabled, m_reachabilityDebouncingEnabled,
        m_reachabilityDebouncingWindow, m_webhooksFromRestEnabled, m_uniqueName, m_ttl,
        m_keepSource});
    m_parser.addPositionalArgument(QStringLiteral("command"),
        QStringLiteral("One of the commands above, with its arguments."),
        QStringLiteral("<command> [arguments…]"));
}

bool CliCommandLine::helpRequested() const
{
    // --help-all is Qt's variant that adds Qt's own options; streams-cli has none worth listing.
    return m_parser.isSet(m_help) || m_parser.isSet(QStringLiteral("help-all"));
}

bool CliCommandLine::versionRequested() const
{
    return m_parser.isSet(m_version);
}

QString CliCommandLine::helpText() const
{
    return m_parser.helpText();
}

std::expected<CliInvocation, QString> CliCommandLine::parse(const QStringList &arguments)
{
    if (!m_parser.parse(arguments))
        return std::unexpected(m_parser.errorText());
    CliInvocation invocation;
    if (helpRequested() || versionRequested())
        return invocation;
    if (auto read = readCommand(m_parser.positionalArguments(), invocation); !read)
        return std::unexpected(read.error());
    if (auto read = readOptions(invocation); !read)
        return std::unexpected(read.error());
    if (auto check = checkOptionsApply(invocation); !check)
        return std::unexpected(check.error());
    return invocation;
}

std::expected<void, QString> CliCommandLine::readCommand(
    const QStringList &words, CliInvocation &invocation)
{
    if (words.isEmpty())
        return std::unexpected(QStringLiteral("no command given"));
    // The longest prefix of the words that names a command ("profiles import env" before
    // "profiles import").
    qsizetype used = 0;
    for (qsizetype count = qMin<qsizetype>(3, words.size()); count > 0; --count) {
        const auto found = commandsByWords().constFind(words.first(count).join(u' '));
        if (found != commandsByWords().cend()) {
            invocation.command = *found;
            used = count;
            break;
        }
    }
    if (used == 0) {
        const QString first = words.first();
        if (first == u"services" || first == u"streams" || first == u"profiles")
            return std::unexpected(
                QStringLiteral("unknown %1 command '%2'").arg(first, words.mid(1).join(u' ')));
        return std::unexpected(QStringLiteral("unknown command '%1'").arg(first));
    }
    const QString commandName = words.first(used).join(u' ');
    const QStringList rest = words.mid(used);
    const Operand operand = operandOf(invocation.command);

    qsizetype extra = 0;
    if (operand != Operand::None) {
        if (rest.isEmpty())
            return std::unexpected(
                QStringLiteral("%1 needs %2").arg(commandName, operandName(operand)));
        invocation.target = rest.first();
        const qsizetype slash = invocation.target.indexOf(u'/');
        if (operand == Operand::Service) {
            if (slash >= 0)
                return std::unexpected(QStringLiteral("%1 takes SERVICE, not '%2'")
                                           .arg(commandName, invocation.target));
            invocation.serviceId = invocation.target;
        } else {
            // Only the first slash separates: a stream's unique name may contain more.
            invocation.serviceId = invocation.target.left(slash);
            invocation.streamId = slash < 0 ? QString() : invocation.target.mid(slash + 1);
            if (slash < 0 || invocation.serviceId.isEmpty() || invocation.streamId.isEmpty())
                return std::unexpected(QStringLiteral("%1 takes SERVICE/STREAM, not '%2'")
                                           .arg(commandName, invocation.target));
        }
        if (invocation.serviceId.isEmpty())
            return std::unexpected(
                QStringLiteral("%1 needs %2").arg(commandName, operandName(operand)));
        extra = 1;
    }
    if (invocation.command == Command::Publish && rest.size() > extra) {
        if (rest.at(extra) != u"-")
            invocation.publishData = rest.at(extra).toUtf8();
        ++extra;
    }
    if (rest.size() > extra) {
        QString hint;
        if (invocation.command == Command::Publish)
            hint = QStringLiteral(" (quote the JSON so that the shell passes it as one argument)");
        return std::unexpected(QStringLiteral("unexpected argument '%1' after %2%3")
                                   .arg(rest.at(extra), commandName, hint));
    }
    return {};
}

std::expected<void, QString> CliCommandLine::readOptions(CliInvocation &invocation)
{
    if (m_parser.isSet(m_profile) && m_parser.isSet(m_url))
        return std::unexpected(QStringLiteral("--profile and --url exclude each other"));
    if (m_parser.isSet(m_profile)) {
        invocation.profile = m_parser.value(m_profile);
        if (invocation.profile.isEmpty())
            return std::unexpected(QStringLiteral("--profile needs a profile name"));
    }
    if (m_parser.isSet(m_url)) {
        const QString text = m_parser.value(m_url);
        const QUrl url(text, QUrl::StrictMode);
        const QString scheme = url.scheme().toLower();
        if (!url.isValid() || (scheme != u"http" && scheme != u"https") || url.host().isEmpty())
            return std::unexpected(
                QStringLiteral("--url expects http://HOST:PORT or https://HOST:PORT, not '%1'")
                    .arg(text));
        if (!url.path().isEmpty() && url.path() != u"/")
            return std::unexpected(
                QStringLiteral("--url takes the engine's base URL without a path (the /v1 "
                               "paths are added), not '%1'")
                    .arg(text));
        invocation.url =
            url.adjusted(QUrl::StripTrailingSlash | QUrl::RemoveQuery | QUrl::RemoveFragment);
    }
    if (m_parser.isSet(m_output)) {
        const QString output = m_parser.value(m_output);
        if (output == u"json")
            invocation.output = CliInvocation::Output::Json;
        else if (output == u"table")
            invocation.output = CliInvocation::Output::Table;
        else
            return std::unexpected(
                QStringLiteral("--output expects json or table, not '%1'").arg(output));
    }

    if (m_parser.isSet(m_timeout)) {
        bool ok = false;
        const QString text = m_parser.value(m_timeout);
        const double seconds = text.toDouble(&ok);
        if (!ok || !(seconds >= 0.1 && seconds <= 3600))
            return std::unexpected(
                QStringLiteral("--timeout expects seconds from 0.1 to 3600, not '%1'").arg(text));
        invocation.timeoutMs = int(seconds * 1000);
    }

    ServiceFields &fields = invocation.serviceFields;
    if (m_parser.isSet(m_friendlyName))
        fields.friendlyName = m_parser.value(m_friendlyName);
    if (m_parser.isSet(m_webhookUrl))
        fields.webhookUrl = m_parser.value(m_webhookUrl);
    const std::pair<const QCommandLineOption *, std::optional<bool> *> booleans[] = {
        {&m_reachabilityWebhooksEnabled, &fields.reachabilityWebhooksEnabled},
        {&m_aclEnabled, &fields.aclEnabled},
        {&m_reachabilityDebouncingEnabled, &fields.reachabilityDebouncingEnabled},
        {&m_webhooksFromRestEnabled, &fields.webhooksFromRestEnabled},
    };
    for (const auto &[option, field] : booleans) {
        if (!m_parser.isSet(*option))
            continue;
        const auto value = readBoolean(m_parser, *option);
        if (!value)
            return std::unexpected(value.error());
        *field = *value;
    }
    if (m_parser.isSet(m_reachabilityDebouncingWindow)) {
        bool ok = false;
        const QString text = m_parser.value(m_reachabilityDebouncingWindow);
        const int window = text.toInt(&ok);
        if (!ok)
            return std::unexpected(
                QStringLiteral("--reachability-debouncing-window expects milliseconds, not '%1'")
                    .arg(text));
        // The range (1000-30000) is the service's rule; it answers with its own error.
        fields.reachabilityDebouncingWindowMs = window;
    }
    if (m_parser.isSet(m_uniqueName))
        invocation.uniqueName = m_parser.value(m_uniqueName);
    if (m_parser.isSet(m_ttl)) {
        const QString text = m_parser.value(m_ttl);
        // An empty value would mean "never expires" to the API; on a command line it is more
        // likely a mistake, so ask for 0.
        if (text.isEmpty())
            return std::unexpected(QStringLiteral("--ttl needs SECONDS (0 = never expires)"));
        const auto ttl = validation::parseTtl(text);
        if (!ttl)
            return std::unexpected(QStringLiteral("--ttl: %1").arg(ttl.error().message()));
        invocation.ttlSeconds = *ttl;
    }
    invocation.keepSource = m_parser.isSet(m_keepSource);
    return {};
}

std::expected<void, QString> CliCommandLine::checkOptionsApply(
    const CliInvocation &invocation) const
{
    const Command command = invocation.command;
    const auto refuse = [](const QCommandLineOption &option, const QString &where) {
        return std::unexpected(
            QStringLiteral("--%1 applies only to %2").arg(option.names().constLast(), where));
    };
    for (const QCommandLineOption *option : {&m_friendlyName, &m_webhookUrl,
             &m_reachabilityWebhooksEnabled, &m_aclEnabled, &m_reachabilityDebouncingEnabled,
             &m_reachabilityDebouncingWindow, &m_webhooksFromRestEnabled}) {
        if (m_parser.isSet(*option) && !isServiceFieldCommand(command))
            return refuse(*option, QStringLiteral("services create and services update"));
    }
    if (m_parser.isSet(m_uniqueName) && command != Command::StreamsCreate)
        return refuse(m_uniqueName, QStringLiteral("streams create"));
    if (m_parser.isSet(m_ttl) && command != Command::StreamsCreate
        && command != Command::StreamsUpdate)
        return refuse(m_ttl, QStringLiteral("streams create and streams update"));
    if (m_parser.isSet(m_keepSource) && command != Command::ProfilesImportTwilioCli)
        return refuse(m_keepSource, QStringLiteral("profiles import twilio-cli"));
    if (!invocation.needsConnection() && (m_parser.isSet(m_profile) || m_parser.isSet(m_url)))
        return std::unexpected(
            QStringLiteral("--profile and --url do not apply to the profiles commands"));

    if (command == Command::StreamsUpdate && !invocation.ttlSeconds)
        return std::unexpected(
            QStringLiteral("streams update needs --ttl SECONDS (0 = never expires)"));
    if (command == Command::ServicesUpdate) {
        const ServiceFields &f = invocation.serviceFields;
        if (!f.friendlyName && !f.webhookUrl && !f.reachabilityWebhooksEnabled && !f.aclEnabled
            && !f.reachabilityDebouncingEnabled && !f.reachabilityDebouncingWindowMs
            && !f.webhooksFromRestEnabled)
            return std::unexpected(
                QStringLiteral("services update needs at least one field to change (see --help)"));
    }
    return {};
}

} // namespace streams
