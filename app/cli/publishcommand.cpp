#include "publishcommand.h"

#include "api/validation.h"

#include <cmath>

namespace streams {

namespace {
// After RestClient's own back-off gives up on a 429, wait this long and try the line again.
constexpr int kRateLimitPauseMs = 1000;

// A line-level problem the service reports about the data itself: the line is skipped and the
// rest still published. Anything else (404, 401, no answer) ends the run.
bool isAboutTheData(const ApiError &error)
{
    return error.code() == ApiError::InvalidJson || error.code() == ApiError::DataTooLarge;
}

QString describeProblem(const validation::JsonProblem &problem)
{
    QString message = CliFailure::describe(problem.error);
    if (problem.offset < 0)
        return message;
    // The problem's message ends with where it is in the one-line text; the caller names the
    // line in the input instead.
    const QString where =
        QStringLiteral(" at line %1, column %2").arg(problem.line).arg(problem.column);
    if (message.endsWith(where))
        message.chop(where.size());
    return message;
}
} // namespace

PublishCommand::PublishCommand(Backend &backend, const ResourcePrinter &printer,
    CliInvocation invocation, int inputFileDescriptor, QObject *parent)
    : QObject(parent),
      m_backend(backend),
      m_printer(printer),
      m_invocation(std::move(invocation)),
      m_inputFd(inputFileDescriptor)
{
    m_wait.setSingleShot(true);
    m_wait.setTimerType(Qt::PreciseTimer);
    connect(&m_wait, &QTimer::timeout, this, &PublishCommand::pump);
}

PublishCommand::~PublishCommand() = default;

void PublishCommand::start()
{
    if (m_invocation.publishData)
        return publishArgument();
    // Resolve the stream before reading any input: a wrong name fails at once, not after the
    // first line arrives on a pipe that may take its time.
    m_backend.fetchStream(m_invocation.serviceId, m_invocation.streamId)
        .then(this, [this](const ApiResult<Stream> &stream) {
            if (!stream) {
                const CliFailure failure = CliFailure::fromApiError(stream.error());
                ResourcePrinter::notice(failure.message);
                return finish(failure.exitCode);
            }
            startReading(stream->serviceSid, stream->sid);
        });
}

void PublishCommand::publishArgument()
{
    const auto payload = validation::parseMessageData(*m_invocation.publishData);
    if (!payload) {
        ResourcePrinter::notice(CliFailure::describe(payload.error().error));
        return finish(ExitCode::ApiFailure);
    }
    m_backend.publish(m_invocation.serviceId, m_invocation.streamId, payload->compact)
        .then(this, [this](const ApiResult<StreamMessage> &result) {
            if (!result) {
                const CliFailure failure = CliFailure::fromApiError(result.error());
                ResourcePrinter::notice(failure.message);
                return finish(failure.exitCode);
            }
            m_printer.printPublished(*result);
            finish(ExitCode::Ok);
        });
}

void PublishCommand::startReading(const QString &serviceSid, const QString &streamSid)
{
    m_serviceSid = serviceSid;
    m_streamSid = streamSid;
    m_ratePerSecond = m_backend.publishRatePerSecond();
    m_reader = new NdjsonReader(m_inputFd, this);
    connect(m_reader, &NdjsonReader::readyRead, this, &PublishCommand::pump);
    pump();
}

std::optional<PublishCommand::Pending> PublishCommand::nextValidLine()
{
    while (auto line = m_reader->next()) {
        if (line->oversized) {
            lineFailed(line->number, 0,
                QStringLiteral("longer than %1 bytes; not published")
                    .arg(NdjsonReader::kMaxLineBytes));
            continue;
        }
        QByteArray text = std::move(line->text);
        if (line->number == 1 && text.startsWith("\xEF\xBB\xBF"))
            text.remove(0, 3); // a UTF-8 byte order mark some editors write
        if (text.trimmed().isEmpty())
            continue; // blank lines separate nothing in NDJSON; not an error
        const auto payload = validation::parseMessageData(text);
        if (!payload) {
            const validation::JsonProblem &problem = payload.error();
            lineFailed(
                line->number, problem.offset >= 0 ? problem.column : 0, describeProblem(problem));
            continue;
        }
        return Pending{line->number, payload->compact};
    }
    return std::nullopt;
}

void PublishCommand::pump()
{
    if (m_done || m_inFlight || m_wait.isActive())
        return;
    if (!m_pending)
        m_pending = nextValidLine();
    if (!m_pending) {
        if (m_reader->atEnd()) {
            if (!m_reader->error().isEmpty()) {
                ResourcePrinter::notice(
                    QStringLiteral("cannot read stdin: %1").arg(m_reader->error()));
                ++m_failedCount;
            }
            if (m_failedCount > 0)
                ResourcePrinter::notice(QStringLiteral("%1 published, %2 not published")
                                            .arg(m_publishedCount)
                                            .arg(m_failedCount));
            finish(m_failedCount > 0 ? ExitCode::ApiFailure : ExitCode::Ok);
        }
        return; // readyRead calls again
    }
    if (m_ratePerSecond && *m_ratePerSecond > 0 && m_sinceLastSend.isValid()) {
        const qint64 intervalMs = qint64(std::ceil(1000.0 / *m_ratePerSecond));
        const qint64 waitMs = intervalMs - m_sinceLastSend.elapsed();
        if (waitMs > 0) {
            m_wait.start(int(waitMs));
            return;
        }
    }
    send(*std::exchange(m_pending, std::nullopt));
}

void PublishCommand::send(const Pending &pending)
{
    m_inFlight = true;
    m_sinceLastSend.start();
    m_backend.publish(m_serviceSid, m_streamSid, pending.data)
        .then(this,
            [this, pending](const ApiResult<StreamMessage> &result) { onAnswer(pending, result); });
}

void PublishCommand::onAnswer(const Pending &pending, const ApiResult<StreamMessage> &result)
{
    m_inFlight = false;
    if (result) {
        ++m_publishedCount;
        m_printer.printPublishedLine(pending.line, result->sid);
    } else if (result.error().code() == ApiError::RateLimitExceeded) {
        // RestClient already backed off and gave up; this line still goes out, in its place.
        if (m_rateLimitedLine != pending.line) {
            m_rateLimitedLine = pending.line;
            ResourcePrinter::notice(QStringLiteral("line %1: rate limited by the service; "
                                                   "retrying")
                                        .arg(pending.line));
        }
        m_pending = pending;
        m_wait.start(kRateLimitPauseMs);
        return;
    } else if (isAboutTheData(result.error())) {
        lineFailed(pending.line, 0, CliFailure::describe(result.error()));
    } else {
        const CliFailure failure = CliFailure::fromApiError(result.error());
        ResourcePrinter::notice(QStringLiteral("line %1: %2; stopped after %3 published")
                                    .arg(pending.line)
                                    .arg(failure.message)
                                    .arg(m_publishedCount));
        return finish(failure.exitCode);
    }
    pump();
}

void PublishCommand::lineFailed(qint64 line, int column, const QString &message)
{
    ++m_failedCount;
    if (column > 0)
        ResourcePrinter::notice(
            QStringLiteral("line %1, column %2: %3").arg(line).arg(column).arg(message));
    else
        ResourcePrinter::notice(QStringLiteral("line %1: %2").arg(line).arg(message));
}

void PublishCommand::finish(ExitCode exitCode)
{
    if (m_done)
        return;
    m_done = true;
    m_wait.stop();
    Q_EMIT finished(exitCode);
}

} // namespace streams
