#pragma once

#include "clicommandline.h"
#include "clifailure.h"
#include "engineprinter.h"
#include "remote/enginecontrolclient.h"

#include <QObject>
#include <QTimer>
#include <memory>
#include <optional>

class QSaveFile;

namespace streams {

class ShutdownSignals;

/// The `engine …` commands: one control-plane call each, its answer printed by EnginePrinter,
/// errors mapped to exit codes as for every command (1 the engine refused, 3 no answer; a FILE
/// that cannot be read or written is a usage error, 2, found before anything is sent).
///
/// `state export FILE` writes the snapshot atomically (QSaveFile: a temporary file renamed
/// over FILE only once it is complete), so an interrupted export never leaves half a snapshot.
/// `traffic --follow` prints the most recent entries, then polls for newer ones every 500 ms
/// (at once while a poll comes back full) until SIGINT/SIGTERM, which end it with exit 0.
class EngineCommand final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EngineCommand)

public:
    EngineCommand(EngineControlClient &client, const EnginePrinter &printer,
        CliInvocation invocation, QObject *parent = nullptr);
    ~EngineCommand() override;

    void start();

Q_SIGNALS:
    /// Emitted once; may be emitted from inside start().
    void finished(streams::ExitCode exitCode);

private:
    void exportState();
    void importState();
    void followTraffic();
    void poll();
    void fail(const ApiError &error);
    void fail(const CliFailure &failure);
    void finish(ExitCode exitCode);

    EngineControlClient &m_client;
    const EnginePrinter &m_printer;
    const CliInvocation m_invocation;
    std::unique_ptr<QSaveFile> m_snapshotFile;
    ShutdownSignals *m_signals = nullptr;
    QTimer m_pollTimer;
    std::optional<qint64> m_after; // the newest traffic entry printed so far
    bool m_done = false;
};

} // namespace streams
