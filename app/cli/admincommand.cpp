#include "admincommand.h"

#include "api/limits.h"

namespace streams {

namespace {
using Command = CliInvocation::Command;

PageRequest firstPage()
{
    PageRequest request;
    request.pageSize = limits::kMaxPageSize; // fewest round trips
    return request;
}

template<typename T>
PageRequest nextPage(const Page<T> &page)
{
    PageRequest request = firstPage();
    request.page = page.page + 1;
    request.pageToken = page.nextPageToken.value_or(QString());
    return request;
}
} // namespace

AdminCommand::AdminCommand(
    Backend &backend, const ResourcePrinter &printer, CliInvocation invocation, QObject *parent)
    : QObject(parent), m_backend(backend), m_printer(printer), m_invocation(std::move(invocation))
{ }

AdminCommand::~AdminCommand() = default;

void AdminCommand::fail(const ApiError &error)
{
    const CliFailure failure = CliFailure::fromApiError(error);
    ResourcePrinter::notice(failure.message);
    Q_EMIT finished(failure.exitCode);
}

void AdminCommand::succeed()
{
    Q_EMIT finished(ExitCode::Ok);
}

void AdminCommand::start()
{
    const CliInvocation &in = m_invocation;
    // One continuation shape for the single-resource calls: print or fail.
    const auto printService = [this](const ApiResult<Service> &result) {
        if (!result)
            return fail(result.error());
        m_printer.printService(*result);
        succeed();
    };
    const auto printStream = [this](const ApiResult<Stream> &result) {
        if (!result)
            return fail(result.error());
        m_printer.printStream(*result);
        succeed();
    };
    const auto printDeleted = [this](const ApiResult<void> &result) {
        if (!result)
            return fail(result.error());
        m_printer.printDeleted(m_invocation.target);
        succeed();
    };

    switch (in.command) {
    case Command::ServicesList: listServices(firstPage(), {}); return;
    case Command::ServicesCreate:
        m_backend.createService(in.serviceFields).then(this, printService);
        return;
    case Command::ServicesFetch:
        m_backend.fetchService(in.serviceId).then(this, printService);
        return;
    case Command::ServicesUpdate:
        m_backend.updateService(in.serviceId, in.serviceFields).then(this, printService);
        return;
    case Command::ServicesDelete:
        m_backend.deleteService(in.serviceId).then(this, printDeleted);
        return;
    case Command::StreamsList: listStreams(firstPage(), {}); return;
    case Command::StreamsCreate:
        m_backend.createStream(in.serviceId, {in.uniqueName, in.ttlSeconds})
            .then(this, printStream);
        return;
    case Command::StreamsFetch:
        m_backend.fetchStream(in.serviceId, in.streamId).then(this, printStream);
        return;
    case Command::StreamsUpdate:
        m_backend.updateStream(in.serviceId, in.streamId, in.ttlSeconds.value_or(0))
            .then(this, printStream);
        return;
    case Command::StreamsDelete:
        m_backend.deleteStream(in.serviceId, in.streamId).then(this, printDeleted);
        return;
    default: break;
    }
    ResourcePrinter::notice(QStringLiteral("internal error: not an admin command"));
    Q_EMIT finished(ExitCode::Usage);
}

void AdminCommand::listServices(const PageRequest &request, QList<Service> collected)
{
    m_backend.listServices(request).then(
        this, [this, collected](const ApiResult<Page<Service>> &page) mutable {
            if (!page)
                return fail(page.error());
            collected.append(page->items);
            if (page->nextPageToken && !page->items.isEmpty())
                return listServices(nextPage(*page), std::move(collected));
            m_printer.printServices(collected);
            succeed();
        });
}

void AdminCommand::listStreams(const PageRequest &request, QList<Stream> collected)
{
    m_backend.listStreams(m_invocation.serviceId, request)
        .then(this, [this, collected](const ApiResult<Page<Stream>> &page) mutable {
            if (!page)
                return fail(page.error());
            collected.append(page->items);
            if (page->nextPageToken && !page->items.isEmpty())
                return listStreams(nextPage(*page), std::move(collected));
            m_printer.printStreams(collected);
            succeed();
        });
}

} // namespace streams
