#include "subscribecommand.h"

#include "api/jsonwriter.h"
#include "api/restjson.h"
#include "host/shutdownsignals.h"
#include "live/livesubscription.h"
#include "resourceprinter.h"

#include <QDateTime>
#include <QTimer>

namespace streams {

namespace {
// After unsubscribing, how long the event loop keeps running so the cancel reaches the socket.
constexpr int kUnsubscribeGraceMs = 200;

QString time(const QDateTime &when)
{
    return restjson::formatDate(when.toSecsSinceEpoch());
}
} // namespace

SubscribeCommand::SubscribeCommand(Backend &backend, CliInvocation invocation, QObject *parent)
    : QObject(parent), m_backend(backend), m_invocation(std::move(invocation))
{ }

SubscribeCommand::~SubscribeCommand() = default;

void SubscribeCommand::start()
{
    // Installed first, so a signal during the lookup still ends the run cleanly.
    m_signals = new ShutdownSignals(this);
    connect(m_signals, &ShutdownSignals::shutdownRequested, this, [this] { stop(ExitCode::Ok); });

    // The live protocol addresses streams by SID; the REST lookup turns names into SIDs and
    // proves the stream exists before anything is printed.
    m_backend.fetchStream(m_invocation.serviceId, m_invocation.streamId)
        .then(this, [this](const ApiResult<Stream> &stream) {
            if (m_done)
                return;
            if (!stream) {
                const CliFailure failure = CliFailure::fromApiError(stream.error());
                ResourcePrinter::notice(failure.message);
                return stop(failure.exitCode);
            }
            subscribeTo(*stream);
        });
}

void SubscribeCommand::subscribeTo(const Stream &stream)
{
    m_subscription = m_backend.subscribe(stream.serviceSid, stream.sid);
    LiveSubscription *subscription = m_subscription.get();
    const QString target = m_invocation.target;
    connect(subscription, &LiveSubscription::stateChanged, this,
        [this, target, stream](LiveSubscription::State state) {
            if (state != LiveSubscription::State::Active || m_announced)
                return;
            m_announced = true;
            ResourcePrinter::notice(QStringLiteral("subscribed to %1 (%2/%3)")
                                        .arg(target, stream.serviceSid, stream.sid));
        });
    connect(subscription, &LiveSubscription::messagesReceived, this, &SubscribeCommand::write);
    connect(subscription, &LiveSubscription::interrupted, this, [](const ApiError &reason) {
        ResourcePrinter::notice(
            QStringLiteral("connection lost (%1); reconnecting").arg(CliFailure::describe(reason)));
    });
    connect(subscription, &LiveSubscription::resumed, this,
        [](const QDateTime &interruptedAt, const QDateTime &resumedAt) {
            ResourcePrinter::notice(QStringLiteral("connection lost at %1, resumed at %2; "
                                                   "messages published in between were not "
                                                   "received")
                                        .arg(time(interruptedAt), time(resumedAt)));
        });
    connect(subscription, &LiveSubscription::streamRemoved, this, [this, target] {
        ResourcePrinter::notice(
            QStringLiteral("stream removed: %1 was deleted or expired").arg(target));
        stop(ExitCode::ApiFailure);
    });
    connect(subscription, &LiveSubscription::failed, this, [this](const ApiError &error) {
        const CliFailure failure = CliFailure::fromApiError(error);
        ResourcePrinter::notice(QStringLiteral("subscription failed: %1").arg(failure.message));
        stop(failure.exitCode);
    });
    if (subscription->state() == LiveSubscription::State::Active && !m_announced) {
        m_announced = true;
        ResourcePrinter::notice(
            QStringLiteral("subscribed to %1 (%2/%3)").arg(target, stream.serviceSid, stream.sid));
    }
}

void SubscribeCommand::write(const QList<StreamMessage> &messages, quint64 droppedBefore)
{
    if (droppedBefore > 0)
        ResourcePrinter::notice(
            QStringLiteral("%1 messages were dropped before the next one").arg(droppedBefore));
    // Sync's notifications carry no timestamp (nor does the message resource), so the line says
    // when this client received the batch, to the second, under a name that cannot be mistaken
    // for the service's date_created.
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    QByteArray lines;
    for (const StreamMessage &message : messages) {
        JsonWriter json(lines);
        json.beginObject()
            .key(QLatin1StringView("sid"))
            .value(QStringView(message.sid))
            .key(QLatin1StringView("received_at"))
            .dateValue(now)
            .key(QLatin1StringView("data"))
            .rawValue(message.data) // as delivered: already compact JSON
            .endObject();
        lines += '\n';
    }
    if (!lines.isEmpty())
        ResourcePrinter::writeOut(lines);
}

void SubscribeCommand::stop(ExitCode exitCode)
{
    if (m_done)
        return;
    m_done = true;
    if (!m_subscription) {
        Q_EMIT finished(exitCode);
        return;
    }
    // Destroying the subscription unsubscribes. stop() may run inside one of its signals, so it
    // goes later, within the grace period that lets the cancel reach the socket.
    disconnect(m_subscription.get(), nullptr, this, nullptr);
    m_subscription.release()->deleteLater();
    QTimer::singleShot(kUnsubscribeGraceMs, this, [this, exitCode] { Q_EMIT finished(exitCode); });
}

} // namespace streams
