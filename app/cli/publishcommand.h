#pragma once

#include "backend/backend.h"
#include "clicommandline.h"
#include "clifailure.h"
#include "ndjsonreader.h"
#include "resourceprinter.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <optional>

namespace streams {

/// `publish SERVICE/STREAM [JSON | -]`: one message from the argument, or one per NDJSON line
/// from stdin. Lines are validated locally first (the same rules the service applies), bad ones
/// reported on stderr with their line and column and skipped; the rest are published in order,
/// one request in flight at a time, paced to the service's publish rate when it is known (the
/// cloud's 30/s) and otherwise as fast as the service accepts: 429s are retried (RestClient
/// backs off, and this keeps retrying after it gives up), so no line is skipped for going too
/// fast. Exit 1 if any line was not published.
class PublishCommand final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PublishCommand)

public:
    PublishCommand(Backend &backend, const ResourcePrinter &printer, CliInvocation invocation,
        int inputFileDescriptor, QObject *parent = nullptr);
    ~PublishCommand() override;

    void start();

Q_SIGNALS:
    void finished(streams::ExitCode exitCode);

private:
    struct Pending
    {
        qint64 line = 0;
        QByteArray data; // validated compact JSON
    };

    void publishArgument();
    void startReading(const QString &serviceSid, const QString &streamSid);
    void pump();
    std::optional<Pending> nextValidLine();
    void send(const Pending &pending);
    void onAnswer(const Pending &pending, const ApiResult<StreamMessage> &result);
    /// `column` 0: the line as a whole.
    void lineFailed(qint64 line, int column, const QString &message);
    void finish(ExitCode exitCode);

    Backend &m_backend;
    const ResourcePrinter &m_printer;
    const CliInvocation m_invocation;
    const int m_inputFd;
    QString m_serviceSid;
    QString m_streamSid;
    NdjsonReader *m_reader = nullptr;

    std::optional<double> m_ratePerSecond;
    QElapsedTimer m_sinceLastSend;
    QTimer m_wait; // pacing, or a pause before retrying a rate-limited line
    std::optional<Pending> m_pending; // the next line to send once allowed
    bool m_inFlight = false;
    bool m_done = false;
    qint64 m_publishedCount = 0;
    qint64 m_failedCount = 0;
    qint64 m_rateLimitedLine = 0; // last line reported as rate limited (report each once)
};

} // namespace streams
