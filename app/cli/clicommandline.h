#pragma once

#include "api/service.h"
#include "remote/enginecontrolclient.h"

#include <QByteArray>
#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QString>
#include <QUrl>
#include <expected>
#include <optional>

namespace streams {

/// One streams-cli run, as the command line asked for it: already checked, so a command only
/// has to carry it out.
struct CliInvocation
{
    enum class Command {
        ServicesList,
        ServicesCreate,
        ServicesFetch,
        ServicesUpdate,
        ServicesDelete,
        StreamsList,
        StreamsCreate,
        StreamsFetch,
        StreamsUpdate,
        StreamsDelete,
        Publish,
        Subscribe,
        ProfilesList,
        ProfilesImportEnvironment,
        ProfilesImportTwilioCli,
        EngineHealth,
        EngineStateExport,
        EngineStateImport,
        EngineReset,
        EngineClockShow,
        EngineClockAdvance,
        EngineFaultsList,
        EngineFaultsAdd,
        EngineFaultsRemove,
        EngineFaultsClear,
        EngineTraffic
    };
    enum class Output {
        Table,
        Json
    };

    Command command = Command::ServicesList;
    Output output = Output::Table;
    QString profile; // --profile; empty when not given
    QUrl url; // --url; empty when not given

    QString serviceId; // SID or unique name
    QString streamId; // SID or unique name
    /// Every argument, as typed, for messages ("SERVICE/STREAM").
    QString target;
    /// publish: the JSON argument; empty = NDJSON from stdin.
    std::optional<QByteArray> publishData;
    ServiceFields serviceFields;
    std::optional<QString> uniqueName;
    std::optional<qint64> ttlSeconds;
    bool keepSource = false;
    /// --timeout: per request attempt; empty = RestClient's default.
    std::optional<int> timeoutMs;

    /// engine state export: where the snapshot goes (empty: stdout); engine state import: where
    /// it comes from.
    QString file;
    /// engine clock advance: the DURATION in seconds.
    qint64 advanceSeconds = 0;
    /// engine faults remove: the rule's id ("fault-1").
    QString faultId;
    /// engine faults add: the rule, from the fault options.
    EngineFaultRule faultRule;
    /// engine traffic: --follow, --limit.
    bool follow = false;
    std::optional<int> trafficLimit;

    /// Everything but the profiles commands talks to a service.
    bool needsConnection() const;
    /// The engine commands talk to a streams-engine's control plane, never to Twilio's cloud.
    bool isEngineCommand() const;
};

/// streams-cli's command line: global options (--profile, --url, --output), a command with its
/// arguments, and the options of each command. Errors come back as one line for stderr (exit 2).
class CliCommandLine final
{
public:
    CliCommandLine();

    /// `arguments` includes the program name, as QCoreApplication::arguments() does.
    std::expected<CliInvocation, QString> parse(const QStringList &arguments);
    bool helpRequested() const;
    bool versionRequested() const;
    QString helpText() const;

private:
    std::expected<void, QString> readCommand(const QStringList &words, CliInvocation &invocation);
    std::expected<void, QString> readOptions(CliInvocation &invocation);
    std::expected<void, QString> readFaultOptions(CliInvocation &invocation);
    std::expected<void, QString> checkOptionsApply(const CliInvocation &invocation) const;

    QCommandLineParser m_parser;
    QCommandLineOption m_help;
    QCommandLineOption m_version;
    QCommandLineOption m_profile;
    QCommandLineOption m_url;
    QCommandLineOption m_output;
    QCommandLineOption m_timeout;
    QCommandLineOption m_friendlyName;
    QCommandLineOption m_webhookUrl;
    QCommandLineOption m_reachabilityWebhooksEnabled;
    QCommandLineOption m_aclEnabled;
    QCommandLineOption m_reachabilityDebouncingEnabled;
    QCommandLineOption m_reachabilityDebouncingWindow;
    QCommandLineOption m_webhooksFromRestEnabled;
    QCommandLineOption m_uniqueName;
    QCommandLineOption m_ttl;
    QCommandLineOption m_keepSource;
    QCommandLineOption m_faultService;
    QCommandLineOption m_faultStream;
    QCommandLineOption m_drop;
    QCommandLineOption m_delay;
    QCommandLineOption m_jitter;
    QCommandLineOption m_reorder;
    QCommandLineOption m_restError;
    QCommandLineOption m_count;
    QCommandLineOption m_probability;
    QCommandLineOption m_method;
    QCommandLineOption m_on;
    QCommandLineOption m_disconnect;
    QCommandLineOption m_seed;
    QCommandLineOption m_follow;
    QCommandLineOption m_limit;
};

} // namespace streams
