#include "enginecommand.h"

#include "host/shutdownsignals.h"
#include "resourceprinter.h"

#include <QFile>
#include <QJsonArray>
#include <QSaveFile>
#include <cstdio>

namespace streams {

namespace {
using Command = CliInvocation::Command;
using Reply = EngineControlClient::Result<EngineReply>;

constexpr int kPollIntervalMs = 500;
// Polls after the first ask for the engine's largest page; a full one means more are waiting,
// so the next poll goes out at once instead of after the interval.
constexpr int kCatchUpLimit = 1000;
} // namespace

EngineCommand::EngineCommand(EngineControlClient &client, const EnginePrinter &printer,
    CliInvocation invocation, QObject *parent)
    : QObject(parent), m_client(client), m_printer(printer), m_invocation(std::move(invocation))
{
    m_pollTimer.setSingleShot(true);
    connect(&m_pollTimer, &QTimer::timeout, this, &EngineCommand::poll);
}

EngineCommand::~EngineCommand() = default;

void EngineCommand::fail(const ApiError &error)
{
    fail(CliFailure::fromApiError(error));
}

void EngineCommand::fail(const CliFailure &failure)
{
    ResourcePrinter::notice(failure.message);
    finish(failure.exitCode);
}

void EngineCommand::finish(ExitCode exitCode)
{
    if (std::exchange(m_done, true))
        return;
    m_pollTimer.stop();
    // Without commit(), the temporary file is removed and FILE is left as it was.
    m_snapshotFile.reset();
    Q_EMIT finished(exitCode);
}

void EngineCommand::start()
{
    const CliInvocation &in = m_invocation;
    // One continuation for the calls whose answer is printed as it is.
    const auto printWith = [this](void (EnginePrinter::*print)(const EngineReply &) const) {
        return [this, print](const Reply &reply) {
            if (!reply)
                return fail(reply.error());
            (m_printer.*print)(*reply);
            finish(ExitCode::Ok);
        };
    };
    const auto removed = [this](const QString &id) {
        return [this, id](const EngineControlClient::Result<void> &result) {
            if (!result)
                return fail(result.error());
            m_printer.printFaultsRemoved(id);
            finish(ExitCode::Ok);
        };
    };

    switch (in.command) {
    case Command::EngineHealth:
        m_client.health().then(this, printWith(&EnginePrinter::printHealth));
        return;
    case Command::EngineStateExport: exportState(); return;
    case Command::EngineStateImport: importState(); return;
    case Command::EngineReset:
        m_client.reset().then(this, printWith(&EnginePrinter::printReset));
        return;
    case Command::EngineClockShow:
        m_client.clock().then(this, printWith(&EnginePrinter::printClock));
        return;
    case Command::EngineClockAdvance:
        m_client.advanceClock(double(in.advanceSeconds))
            .then(this, printWith(&EnginePrinter::printClock));
        return;
    case Command::EngineFaultsList:
        m_client.listFaults().then(this, printWith(&EnginePrinter::printFaults));
        return;
    case Command::EngineFaultsAdd:
        m_client.addFault(in.faultRule).then(this, printWith(&EnginePrinter::printFaultAdded));
        return;
    case Command::EngineFaultsRemove:
        m_client.removeFault(in.faultId).then(this, removed(in.faultId));
        return;
    case Command::EngineFaultsClear: m_client.clearFaults().then(this, removed(QString())); return;
    case Command::EngineTraffic:
        if (in.follow)
            return followTraffic();
        m_client.traffic(std::nullopt, in.trafficLimit)
            .then(this, printWith(&EnginePrinter::printTraffic));
        return;
    default: break;
    }
    fail(CliFailure::usage(QStringLiteral("internal error: not an engine command")));
}

void EngineCommand::exportState()
{
    const QString file = m_invocation.file;
    if (!file.isEmpty()) {
        // Opened first: a path that cannot be written fails before the engine is asked.
        m_snapshotFile = std::make_unique<QSaveFile>(file);
        if (!m_snapshotFile->open(QIODevice::WriteOnly))
            return fail(CliFailure::usage(
                QStringLiteral("cannot write %1: %2").arg(file, m_snapshotFile->errorString())));
    }
    m_client.exportState().then(this, [this, file](const Reply &snapshot) {
        if (!snapshot)
            return fail(snapshot.error());
        const QByteArray text = EnginePrinter::snapshotText(*snapshot);
        if (!m_snapshotFile) {
            ResourcePrinter::writeOut(text);
            return finish(ExitCode::Ok);
        }
        if (m_snapshotFile->write(text) != text.size() || !m_snapshotFile->commit())
            return fail(CliFailure::usage(
                QStringLiteral("cannot write %1: %2").arg(file, m_snapshotFile->errorString())));
        m_snapshotFile.reset();
        m_printer.printExported(file, *snapshot);
        finish(ExitCode::Ok);
    });
}

void EngineCommand::importState()
{
    const QString file = m_invocation.file;
    QFile input(file);
    const bool opened =
        file.isEmpty() ? input.open(stdin, QIODevice::ReadOnly) : input.open(QIODevice::ReadOnly);
    const QString name = file.isEmpty() ? QStringLiteral("stdin") : file;
    if (!opened)
        return fail(
            CliFailure::usage(QStringLiteral("cannot read %1: %2").arg(name, input.errorString())));
    const QByteArray snapshot = input.readAll();
    if (input.error() != QFileDevice::NoError)
        return fail(
            CliFailure::usage(QStringLiteral("cannot read %1: %2").arg(name, input.errorString())));
    // Sent as it is: the engine parses and checks it, and names what it refuses (line and
    // column for bad JSON, the field's path for a bad snapshot).
    m_client.importState(snapshot).then(this, [this](const Reply &reply) {
        if (!reply)
            return fail(reply.error());
        m_printer.printImported(*reply);
        finish(ExitCode::Ok);
    });
}

void EngineCommand::followTraffic()
{
    // Installed first, so that a signal during the first request still ends the run cleanly.
    m_signals = new ShutdownSignals(this);
    connect(m_signals, &ShutdownSignals::shutdownRequested, this, [this] { finish(ExitCode::Ok); });
    poll();
}

void EngineCommand::poll()
{
    const bool first = !m_after;
    const std::optional<int> limit =
        first ? m_invocation.trafficLimit : std::optional<int>(kCatchUpLimit);
    m_client.traffic(m_after, limit).then(this, [this, first](const Reply &page) {
        if (m_done)
            return;
        if (!page)
            return fail(page.error());
        m_printer.printTrafficEntries(*page);
        const QJsonArray entries = page->object.value(u"entries").toArray();
        // Without entries, last_id is where the log stands; it is below what was printed when
        // the engine started afresh, and following from there picks up its new entries.
        m_after = entries.isEmpty() ? page->object.value(u"last_id").toInteger()
                                    : entries.last().toObject().value(u"id").toInteger();
        const bool full = !first && entries.size() >= kCatchUpLimit;
        m_pollTimer.start(full ? 0 : kPollIntervalMs);
    });
}

} // namespace streams
