#include "clicommandline.h"

#include "api/validation.h"

#include <QHash>
#include <algorithm>
#include <limits>

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
    "streams-engine only (its control plane):\n"
    "  engine health                                                Status, version and counts.\n"
    "  engine state export [FILE | -]                               Snapshot of every service and "
    "stream.\n"
    "  engine state import FILE | -                                 Replace everything with a "
    "snapshot.\n"
    "  engine reset                                                 Back to a first start's "
    "state.\n"
    "  engine clock show                                            The engine's time and offset.\n"
    "  engine clock advance DURATION                                Move time on (90, 15m, 1h30m, "
    "1d).\n"
    "  engine faults list                                           The fault rules and what they "
    "did.\n"
    "  engine faults add FAULT OPTIONS                              Add a rule; prints its id.\n"
    "  engine faults remove ID                                      Remove one rule.\n"
    "  engine faults clear                                          Remove every rule.\n"
    "  engine traffic [--follow] [--limit N]                        Requests the engine served.\n"
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
        {QStringLiteral("engine health"), Command::EngineHealth},
        {QStringLiteral("engine state export"), Command::EngineStateExport},
        {QStringLiteral("engine state import"), Command::EngineStateImport},
        {QStringLiteral("engine reset"), Command::EngineReset},
        {QStringLiteral("engine clock show"), Command::EngineClockShow},
        {QStringLiteral("engine clock advance"), Command::EngineClockAdvance},
        {QStringLiteral("engine faults list"), Command::EngineFaultsList},
        {QStringLiteral("engine faults add"), Command::EngineFaultsAdd},
        {QStringLiteral("engine faults remove"), Command::EngineFaultsRemove},
        {QStringLiteral("engine faults clear"), Command::EngineFaultsClear},
        {QStringLiteral("engine traffic"), Command::EngineTraffic},
    };
    return commands;
}

// What each command takes after its words.
enum class Operand {
    None,
    Service,
    ServiceStream,
    OptionalFile, // engine state export
    File, // engine state import
    Duration, // engine clock advance
    FaultId // engine faults remove
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
    case Command::EngineStateExport: return Operand::OptionalFile;
    case Command::EngineStateImport: return Operand::File;
    case Command::EngineClockAdvance: return Operand::Duration;
    case Command::EngineFaultsRemove: return Operand::FaultId;
    default: return Operand::None;
    }
}

QString operandName(Operand operand)
{
    switch (operand) {
    case Operand::Service: return QStringLiteral("SERVICE");
    case Operand::ServiceStream: return QStringLiteral("SERVICE/STREAM");
    case Operand::OptionalFile:
    case Operand::File: return QStringLiteral("FILE (or - for stdin)");
    case Operand::Duration:
        return QStringLiteral("DURATION (seconds, or a combination like 90s, 15m, 2h, 1d, 1h30m)");
    case Operand::FaultId: return QStringLiteral("a fault rule's ID (see 'engine faults list')");
    case Operand::None: break;
    }
    return QString();
}

/// DURATION of `engine clock advance`: whole seconds ("90"), or whole numbers each with a unit,
/// from days down to seconds, each unit at most once ("90s", "15m", "2h", "1d", "1h30m",
/// "1d2h3m4s"). Fractions are refused rather than rounded ("1h30m", not "1.5h"). The upper limit
/// (ten years) is the engine's to enforce; only what does not fit in 64 bits is refused here.
std::expected<qint64, QString> parseDuration(const QString &text)
{
    const auto bad = [&text](const QString &why) {
        return std::unexpected(
            QStringLiteral("engine clock advance: bad DURATION '%1': %2 (examples: 90, 90s, 15m, "
                           "2h, 1d, 1h30m)")
                .arg(text, why));
    };
    static constexpr std::pair<char16_t, qint64> kUnits[] = {
        {u'd', 86400}, {u'h', 3600}, {u'm', 60}, {u's', 1}};
    if (text.isEmpty())
        return bad(QStringLiteral("it is empty"));
    qint64 total = 0;
    int lastUnit = -1;
    qsizetype i = 0;
    while (i < text.size()) {
        const qsizetype start = i;
        while (i < text.size() && text.at(i).isDigit() && text.at(i).unicode() < 128)
            ++i;
        if (i == start) {
            const QChar c = text.at(i);
            if (c == u'-')
                return bad(QStringLiteral("it is negative; time only moves forward"));
            if (std::ranges::any_of(kUnits, [c](const auto &unit) { return unit.first == c; }))
                return bad(QStringLiteral("no number before '%1'").arg(c));
            return bad(QStringLiteral("'%1' where a number belongs").arg(c));
        }
        bool ok = false;
        const qint64 number = QStringView(text).sliced(start, i - start).toLongLong(&ok);
        if (!ok)
            return bad(QStringLiteral("too large"));
        if (i == text.size()) {
            if (start == 0)
                return number; // plain seconds
            return bad(QStringLiteral("'%1' has no unit; the units are d, h, m and s")
                           .arg(QStringView(text).sliced(start)));
        }
        const QChar c = text.at(i);
        if (c == u'.' || c == u',')
            return bad(QStringLiteral("fractions are not taken; write whole numbers of smaller "
                                      "units (1h30m, not 1.5h)"));
        const auto unit = std::ranges::find_if(
            kUnits, [c](const auto &candidate) { return candidate.first == c; });
        if (unit == std::ranges::end(kUnits))
            return bad(QStringLiteral("unknown unit '%1'; the units are d, h, m and s").arg(c));
        const int index = int(unit - std::ranges::begin(kUnits));
        if (index == lastUnit)
            return bad(QStringLiteral("'%1' given twice").arg(c));
        if (index < lastUnit)
            return bad(QStringLiteral("units out of order; they go from days down to seconds"));
        lastUnit = index;
        if (number > (std::numeric_limits<qint64>::max() - total) / unit->second)
            return bad(QStringLiteral("too large"));
        total += number * unit->second;
        ++i;
    }
    return total;
}

template<typename T>
std::expected<T, QString> readNumber(
    const QCommandLineParser &parser, const QCommandLineOption &option, const QString &what)
{
    const QString text = parser.value(option);
    bool ok = false;
    T value{};
    if constexpr (std::is_same_v<T, double>)
        value = text.toDouble(&ok);
    else if constexpr (std::is_same_v<T, qint64>)
        value = text.toLongLong(&ok);
    else
        value = text.toInt(&ok);
    if (!ok)
        return std::unexpected(QStringLiteral("--%1 expects %2, not '%3'")
                                   .arg(option.names().constLast(), what, text));
    return value;
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

bool CliInvocation::isEngineCommand() const
{
    switch (command) {
    case Command::EngineHealth:
    case Command::EngineStateExport:
    case Command::EngineStateImport:
    case Command::EngineReset:
    case Command::EngineClockShow:
    case Command::EngineClockAdvance:
    case Command::EngineFaultsList:
    case Command::EngineFaultsAdd:
    case Command::EngineFaultsRemove:
    case Command::EngineFaultsClear:
    case Command::EngineTraffic: return true;
    default: return false;
    }
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
                         "too (by default they are moved to the keychain).")),
      m_faultService(QStringLiteral("service"),
          QStringLiteral("engine faults add: the service the rule acts on (SID or unique name; "
                         "default: every service)."),
          QStringLiteral("SERVICE")),
      m_faultStream(QStringLiteral("stream"),
          QStringLiteral("engine faults add: the stream the rule acts on (SID or unique name; "
                         "default: every stream)."),
          QStringLiteral("STREAM")),
      m_drop(QStringLiteral("drop"),
          QStringLiteral("engine faults add: lose each delivery with probability P (0-1)."),
          QStringLiteral("P")),
      m_delay(QStringLiteral("delay"),
          QStringLiteral("engine faults add: hold each delivery MS milliseconds."),
          QStringLiteral("MS")),
      m_jitter(QStringLiteral("jitter"),
          QStringLiteral("engine faults add: vary the delay by up to ± MS milliseconds."),
          QStringLiteral("MS")),
      m_reorder(QStringLiteral("reorder"),
          QStringLiteral("engine faults add: shuffle deliveries within windows of N messages."),
          QStringLiteral("N")),
      m_restError(QStringLiteral("rest-error"),
          QStringLiteral("engine faults add: refuse REST requests with HTTP STATUS (400-599) and "
                         "Twilio error CODE (default 20000 + STATUS)."),
          QStringLiteral("STATUS[:CODE]")),
      m_count(QStringLiteral("count"),
          QStringLiteral("engine faults add --rest-error: refuse N requests, then stop "
                         "(default: no limit)."),
          QStringLiteral("N")),
      m_probability(QStringLiteral("probability"),
          QStringLiteral("engine faults add --rest-error: refuse each matching request with "
                         "probability P (default 1)."),
          QStringLiteral("P")),
      m_method(QStringLiteral("method"),
          QStringLiteral("engine faults add --rest-error: only GET, POST or DELETE requests."),
          QStringLiteral("METHOD")),
      m_on(QStringLiteral("on"),
          QStringLiteral("engine faults add --rest-error: only requests on messages, streams or "
                         "services (default *: all)."),
          QStringLiteral("messages|streams|services|*")),
      m_disconnect(QStringLiteral("disconnect"),
          QStringLiteral("engine faults add: close the live connections subscribed to the "
                         "service/stream, at once.")),
      m_seed(QStringLiteral("seed"),
          QStringLiteral("engine faults add: seed the rule's randomness, for repeatable runs."),
          QStringLiteral("N")),
      m_follow(QStringLiteral("follow"),
          QStringLiteral("engine traffic: keep printing new entries until ^C.")),
      m_limit(QStringLiteral("limit"),
          QStringLiteral("engine traffic: the N most recent entries (1-1000, default 100)."),
          QStringLiteral("N"))
{
    m_parser.setApplicationDescription(kDescription);
    m_parser.addOptions({m_profile, m_url, m_output, m_timeout, m_friendlyName, m_webhookUrl,
        m_reachabilityWebhooksEnabled, m_aclEnabled, m_reachabilityDebouncingEnabled,
        m_reachabilityDebouncingWindow, m_webhooksFromRestEnabled, m_uniqueName, m_ttl,
        m_keepSource, m_faultService, m_faultStream, m_drop, m_delay, m_jitter, m_reorder,
        m_restError, m_count, m_probability, m_method, m_on, m_disconnect, m_seed, m_follow,
        m_limit});
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
        const QString &first = words.first();
        if (first == u"services" || first == u"streams" || first == u"profiles"
            || first == u"engine")
            return std::unexpected(
                QStringLiteral("unknown %1 command '%2'").arg(first, words.mid(1).join(u' ')));
        return std::unexpected(QStringLiteral("unknown command '%1'").arg(first));
    }
    const QString commandName = words.first(used).join(u' ');
    const QStringList rest = words.mid(used);
    const Operand operand = operandOf(invocation.command);

    qsizetype extra = 0;
    if (operand == Operand::OptionalFile || operand == Operand::File) {
        if (rest.isEmpty() && operand == Operand::File)
            return std::unexpected(
                QStringLiteral("%1 needs %2").arg(commandName, operandName(operand)));
        if (!rest.isEmpty()) {
            if (rest.first().isEmpty())
                return std::unexpected(QStringLiteral("%1: FILE is empty").arg(commandName));
            invocation.file = rest.first() == u"-" ? QString() : rest.first();
            extra = 1;
        }
    } else if (operand == Operand::Duration || operand == Operand::FaultId) {
        if (rest.isEmpty())
            return std::unexpected(
                QStringLiteral("%1 needs %2").arg(commandName, operandName(operand)));
        invocation.target = rest.first();
        if (operand == Operand::Duration) {
            const auto seconds = parseDuration(invocation.target);
            if (!seconds)
                return std::unexpected(seconds.error());
            invocation.advanceSeconds = *seconds;
        } else {
            if (invocation.target.isEmpty())
                return std::unexpected(
                    QStringLiteral("%1 needs %2").arg(commandName, operandName(operand)));
            invocation.faultId = invocation.target;
        }
        extra = 1;
    } else if (operand != Operand::None) {
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

    if (auto read = readFaultOptions(invocation); !read)
        return read;
    invocation.follow = m_parser.isSet(m_follow);
    if (m_parser.isSet(m_limit)) {
        // The range (1-1000) is the engine's rule; it answers with its own error.
        const auto limit =
            readNumber<int>(m_parser, m_limit, QStringLiteral("a number of entries"));
        if (!limit)
            return std::unexpected(limit.error());
        invocation.trafficLimit = *limit;
    }
    return {};
}

std::expected<void, QString> CliCommandLine::readFaultOptions(CliInvocation &invocation)
{
    // Only the shapes are checked here (a number where a number belongs); the ranges are the
    // engine's rules, and its 400 names the field.
    EngineFaultRule &rule = invocation.faultRule;
    const auto text = [this](const QCommandLineOption &option) -> std::expected<QString, QString> {
        const QString value = m_parser.value(option);
        if (value.isEmpty())
            return std::unexpected(QStringLiteral("--%1 needs %2")
                                       .arg(option.names().constLast(), option.valueName()));
        return value;
    };
    if (m_parser.isSet(m_faultService)) {
        const auto service = text(m_faultService);
        if (!service)
            return std::unexpected(service.error());
        rule.service = *service;
    }
    if (m_parser.isSet(m_faultStream)) {
        const auto stream = text(m_faultStream);
        if (!stream)
            return std::unexpected(stream.error());
        rule.stream = *stream;
    }
    const QString probability = QStringLiteral("a probability from 0 to 1");
    const QString milliseconds = QStringLiteral("whole milliseconds");
    if (m_parser.isSet(m_drop)) {
        const auto drop = readNumber<double>(m_parser, m_drop, probability);
        if (!drop)
            return std::unexpected(drop.error());
        rule.drop = *drop;
    }
    if (m_parser.isSet(m_delay)) {
        const auto delay = readNumber<int>(m_parser, m_delay, milliseconds);
        if (!delay)
            return std::unexpected(delay.error());
        rule.delayMs = *delay;
    }
    if (m_parser.isSet(m_jitter)) {
        const auto jitter = readNumber<int>(m_parser, m_jitter, milliseconds);
        if (!jitter)
            return std::unexpected(jitter.error());
        rule.jitterMs = *jitter;
    }
    if (m_parser.isSet(m_reorder)) {
        const auto window =
            readNumber<int>(m_parser, m_reorder, QStringLiteral("a number of messages"));
        if (!window)
            return std::unexpected(window.error());
        rule.reorderWindow = *window;
    }
    if (m_parser.isSet(m_restError)) {
        const QString value = m_parser.value(m_restError);
        const QStringList parts = value.split(u':');
        bool statusOk = false;
        bool codeOk = true;
        EngineFaultRule::RestError error;
        error.status = parts.first().toInt(&statusOk);
        if (parts.size() == 2)
            error.code = parts.at(1).toInt(&codeOk);
        if (!statusOk || !codeOk || parts.size() > 2)
            return std::unexpected(
                QStringLiteral("--rest-error expects STATUS or STATUS:CODE (e.g. 429:54009), "
                               "not '%1'")
                    .arg(value));
        if (m_parser.isSet(m_count)) {
            const auto count =
                readNumber<qint64>(m_parser, m_count, QStringLiteral("a number of requests"));
            if (!count)
                return std::unexpected(count.error());
            error.count = *count;
        }
        if (m_parser.isSet(m_probability)) {
            const auto p = readNumber<double>(m_parser, m_probability, probability);
            if (!p)
                return std::unexpected(p.error());
            error.probability = *p;
        }
        if (m_parser.isSet(m_method)) {
            const auto method = text(m_method);
            if (!method)
                return std::unexpected(method.error());
            error.method = method->toUpper();
        }
        if (m_parser.isSet(m_on)) {
            const auto on = text(m_on);
            if (!on)
                return std::unexpected(on.error());
            error.on = *on;
        }
        rule.restError = error;
    }
    rule.disconnect = m_parser.isSet(m_disconnect);
    if (m_parser.isSet(m_seed)) {
        const auto seed = readNumber<qint64>(m_parser, m_seed, QStringLiteral("an integer"));
        if (!seed)
            return std::unexpected(seed.error());
        rule.seed = *seed;
    }
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
    for (const QCommandLineOption *option : {&m_faultService, &m_faultStream, &m_drop, &m_delay,
             &m_jitter, &m_reorder, &m_restError, &m_disconnect, &m_seed}) {
        if (m_parser.isSet(*option) && command != Command::EngineFaultsAdd)
            return refuse(*option, QStringLiteral("engine faults add"));
    }
    for (const QCommandLineOption *option : {&m_count, &m_probability, &m_method, &m_on}) {
        if (!m_parser.isSet(*option))
            continue;
        if (command != Command::EngineFaultsAdd)
            return refuse(*option, QStringLiteral("engine faults add"));
        if (!m_parser.isSet(m_restError))
            return std::unexpected(QStringLiteral("--%1 qualifies --rest-error; give that too")
                                       .arg(option->names().constLast()));
    }
    for (const QCommandLineOption *option : {&m_follow, &m_limit}) {
        if (m_parser.isSet(*option) && command != Command::EngineTraffic)
            return refuse(*option, QStringLiteral("engine traffic"));
    }
    if (!invocation.needsConnection() && (m_parser.isSet(m_profile) || m_parser.isSet(m_url)))
        return std::unexpected(
            QStringLiteral("--profile and --url do not apply to the profiles commands"));

    if (command == Command::StreamsUpdate && !invocation.ttlSeconds)
        return std::unexpected(
            QStringLiteral("streams update needs --ttl SECONDS (0 = never expires)"));
    if (command == Command::EngineFaultsAdd) {
        const EngineFaultRule &rule = invocation.faultRule;
        if (!rule.drop && !rule.delayMs && !rule.reorderWindow && !rule.restError
            && !rule.disconnect)
            return std::unexpected(
                QStringLiteral("engine faults add needs something to do: --drop, --delay, "
                               "--reorder, --rest-error or --disconnect"));
    }
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
