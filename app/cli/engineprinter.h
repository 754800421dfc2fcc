#pragma once

#include "clicommandline.h"
#include "remote/enginecontrolclient.h"

#include <QByteArray>
#include <QString>

namespace streams {

/// How the engine commands print the control plane's answers. `--output json` prints the
/// engine's JSON as it sent it, indented (key order and numbers untouched); `table` prints
/// readable lines: "key  value" for health and the clock, a table of fault rules, one line per
/// traffic entry. Results go to stdout through ResourcePrinter::writeOut (flushed); nothing the
/// control plane answers holds a secret, and no request is ever printed.
class EnginePrinter final
{
public:
    explicit EnginePrinter(CliInvocation::Output output);

    CliInvocation::Output output() const { return m_output; }

    void printHealth(const EngineReply &reply) const;
    /// The snapshot itself, always JSON (there is no table of it): for stdout or a file.
    static QByteArray snapshotText(const EngineReply &reply);
    /// After `state export FILE`: what went into the file.
    void printExported(const QString &file, const EngineReply &snapshot) const;
    void printImported(const EngineReply &reply) const;
    void printReset(const EngineReply &reply) const;
    void printClock(const EngineReply &reply) const;
    void printFaults(const EngineReply &reply) const;
    /// A rule just added: its id (table) or the rule as the engine answered (json).
    void printFaultAdded(const EngineReply &reply) const;
    /// `id` empty: every rule. Nothing in json (the engine answers 204 without a body).
    void printFaultsRemoved(const QString &id) const;
    /// One page of `engine traffic`: the entries, one line each (table), or the page (json).
    void printTraffic(const EngineReply &reply) const;
    /// Entries as `--follow` prints them, batch after batch: one line each in a table, one
    /// compact JSON object per line (NDJSON) in json.
    void printTrafficEntries(const EngineReply &reply) const;

    /// One traffic entry as a table line: time kind who method path status code duration, and
    /// the fault rule that answered, if one did.
    static QString trafficLine(const QJsonObject &entry);

private:
    void printJson(const EngineReply &reply) const;

    CliInvocation::Output m_output;
};

} // namespace streams
