#pragma once

#include "backend/backend.h"
#include "clicommandline.h"
#include "clifailure.h"
#include "resourceprinter.h"

#include <QObject>

namespace streams {

/// The services and streams commands: one REST call each (lists follow every page), the result
/// printed, errors mapped to exit codes.
class AdminCommand final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminCommand)

public:
    AdminCommand(Backend &backend, const ResourcePrinter &printer, CliInvocation invocation,
        QObject *parent = nullptr);
    ~AdminCommand() override;

    void start();

Q_SIGNALS:
    /// Emitted once; may be emitted from inside start().
    void finished(streams::ExitCode exitCode);

private:
    void listServices(const PageRequest &request, QList<Service> collected);
    void listStreams(const PageRequest &request, QList<Stream> collected);
    void fail(const ApiError &error);
    void succeed();

    Backend &m_backend;
    const ResourcePrinter &m_printer;
    const CliInvocation m_invocation;
};

} // namespace streams
