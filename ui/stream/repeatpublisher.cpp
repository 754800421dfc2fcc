#include "ui/stream/repeatpublisher.h"

#include "api/limits.h"
#include "backend/backend.h"

#include <cmath>

namespace streams {

namespace {

QString formatRate(double rate)
{
    return QString::number(rate, 'g', 4);
}

} // namespace

RepeatPublisher::RepeatPublisher(Backend &backend, QObject *parent)
    : QObject(parent), m_backend(backend)
{
    m_clock.start();
    m_pacer.setTimerType(Qt::PreciseTimer);
    connect(&m_pacer, &QTimer::timeout, this, &RepeatPublisher::pump);
    m_budgetTicker.setInterval(250);
    connect(&m_budgetTicker, &QTimer::timeout, this, [this] {
        Q_EMIT budgetChanged();
        if (!limitRate() || budgetAvailable() >= budgetCapacity())
            m_budgetTicker.stop();
    });
    m_tokens = budgetCapacity();
}

RepeatPublisher::~RepeatPublisher() = default;

void RepeatPublisher::setStream(const QString &serviceSid, const QString &streamSid)
{
    if (serviceSid == m_serviceSid && streamSid == m_streamSid)
        return;
    cancel();
    m_serviceSid = serviceSid;
    m_streamSid = streamSid;
    // A stream we have not published to: assume its bucket is full, as the engine starts it.
    m_tokens = budgetCapacity();
    m_refilledAtMs = m_clock.elapsed();
    Q_EMIT budgetChanged();
}

std::optional<double> RepeatPublisher::limitRate() const
{
    const std::optional<double> rate = m_backend.publishRatePerSecond();
    if (rate && *rate > 0)
        return rate;
    return std::nullopt;
}

double RepeatPublisher::budgetCapacity() const
{
    // The engine's bucket: the rate times the burst window, never less than one message.
    const std::optional<double> rate = limitRate();
    return rate ? qMax(1.0, *rate * limits::kPublishBurstSeconds) : 0.0;
}

void RepeatPublisher::refill() const
{
    const std::optional<double> rate = limitRate();
    if (!rate)
        return;
    const qint64 now = m_clock.elapsed();
    if (now > m_refilledAtMs) {
        m_tokens = qMin(budgetCapacity(), m_tokens + (now - m_refilledAtMs) * *rate / 1000.0);
        m_refilledAtMs = now;
    }
}

double RepeatPublisher::budgetAvailable() const
{
    refill();
    return m_tokens;
}

QString RepeatPublisher::budgetText() const
{
    const std::optional<double> rate = limitRate();
    if (!rate)
        return QStringLiteral("budget: unlimited");
    return QStringLiteral("budget: %1/%2, refills %3/s")
        .arg(qint64(std::floor(budgetAvailable())))
        .arg(qint64(std::floor(budgetCapacity())))
        .arg(formatRate(*rate));
}

QString RepeatPublisher::rateWarning(double ratePerSecond) const
{
    const std::optional<double> rate = limitRate();
    if (!rate || ratePerSecond <= *rate)
        return {};
    return QStringLiteral("%1/s is above this stream's limit of %2/s: the run bursts from the "
                          "budget, then slows to %2/s.")
        .arg(formatRate(ratePerSecond), formatRate(*rate));
}

void RepeatPublisher::takeToken()
{
    if (!limitRate())
        return;
    refill();
    m_tokens = qMax(0.0, m_tokens - 1.0);
    Q_EMIT budgetChanged();
    if (!m_budgetTicker.isActive())
        m_budgetTicker.start();
}

void RepeatPublisher::noteExternalPublish(bool rateLimited)
{
    if (!limitRate())
        return;
    if (!rateLimited) {
        takeToken();
        return;
    }
    // The service says the bucket is empty; believe it over the estimate.
    m_tokens = 0;
    m_refilledAtMs = m_clock.elapsed();
    Q_EMIT budgetChanged();
    if (!m_budgetTicker.isActive())
        m_budgetTicker.start();
}

std::expected<void, QString> RepeatPublisher::start(
    const QString &templateText, int count, double ratePerSecond)
{
    if (m_running)
        return std::unexpected(QStringLiteral("A repeat run is already in progress"));
    if (m_serviceSid.isEmpty() || m_streamSid.isEmpty())
        return std::unexpected(QStringLiteral("No stream selected"));
    if (count < 1)
        return std::unexpected(QStringLiteral("Count must be at least 1"));
    if (!(ratePerSecond > 0)) // also refuses NaN
        return std::unexpected(QStringLiteral("Rate must be above 0"));

    PayloadTemplate payloadTemplate(templateText);
    // The first and the last message bound what {{counter}} does to the size; anything else that
    // varies ({{random}}) is caught per message and reported as a failure of that message.
    for (const qint64 counter : {qint64(1), qint64(count)}) {
        PayloadTemplate::Context context;
        context.counter = counter;
        const auto payload = payloadTemplate.expandAndValidate(context);
        if (!payload) {
            const QString reason = payload.error().error.message();
            return std::unexpected(
                counter == 1 ? reason : QStringLiteral("Message %1: %2").arg(counter).arg(reason));
        }
    }

    ++m_runId;
    m_template = std::move(payloadTemplate);
    m_count = count;
    m_rate = qBound(0.01, ratePerSecond, kMaxRatePerSecond);
    m_nextCounter = 1;
    m_retries.clear();
    m_attempts.clear();
    m_credit = 1.0; // the first message goes at once
    m_lastPumpMs = m_clock.elapsed();
    m_pausedUntilMs = 0;
    m_pauseStartedMs = -1;
    m_backoff.reset();
    m_inFlight = 0;
    m_sent = m_failed = m_retried = m_rateLimited = 0;
    m_abortError.reset();
    m_running = true;

    // Tick at the message interval, but at least every 50 ms so a slow rate still notices the
    // end of a back-off promptly, and at most every 1 ms (faster rates send several per tick).
    m_pacer.start(qBound(1, int(1000.0 / m_rate), 50));
    Q_EMIT runningChanged(true);
    emitProgress();
    // The first message goes on the next turn of the event loop, not inside start(): a backend
    // may answer at once, and a run must not end before its caller has seen it begin.
    QMetaObject::invokeMethod(this, &RepeatPublisher::pump, Qt::QueuedConnection);
    return {};
}

void RepeatPublisher::cancel()
{
    if (m_running)
        finish(false);
}

void RepeatPublisher::pump()
{
    if (!m_running)
        return;
    const qint64 now = m_clock.elapsed();
    const qint64 elapsed = now - m_lastPumpMs;
    m_lastPumpMs = now;
    if (now < m_pausedUntilMs)
        return; // backing off: no credit accrues either, so the pause does not end in a burst
    // Credit at the requested rate, capped so a stalled event loop does not release a burst.
    m_credit = qMin(m_credit + elapsed * m_rate / 1000.0, qMax(1.0, m_rate * 0.1));

    const bool limited = limitRate().has_value();
    while (m_running && m_credit >= 1.0 && m_inFlight < kMaxInFlight) {
        if (limited && budgetAvailable() < 1.0)
            break; // the stream's bucket (as estimated) is empty: wait for it to refill
        Outgoing next;
        if (!m_retries.isEmpty()) {
            auto it = m_retries.begin();
            next = Outgoing{it.key(), it.value()};
            m_retries.erase(it);
            ++m_retried;
        } else if (m_nextCounter <= m_count) {
            PayloadTemplate::Context context;
            context.counter = m_nextCounter++;
            auto payload = m_template.expandAndValidate(context);
            if (!payload) {
                ++m_failed;
                Q_EMIT messageFailed(context.counter, payload.error().error);
                emitProgress();
                continue;
            }
            next = Outgoing{context.counter, std::move(payload->compact)};
        } else {
            break;
        }
        m_credit -= 1.0;
        send(std::move(next));
    }
    if (m_running && m_inFlight == 0 && m_retries.isEmpty() && m_nextCounter > m_count)
        finish(true);
}

void RepeatPublisher::send(Outgoing outgoing)
{
    // Note: when the future is already finished, then() runs the continuation right here, inside
    // pump()'s loop; onResult() and pump() re-check the run's state after every step for that.
    takeToken();
    ++m_inFlight;
    ++m_attempts[outgoing.counter];
    const quint64 runId = m_runId;
    const qint64 sentAtMs = m_clock.elapsed();
    const QByteArray data = outgoing.data;
    m_backend.publish(m_serviceSid, m_streamSid, data)
        .then(this,
            [this, runId, outgoing = std::move(outgoing), sentAtMs](
                const std::expected<StreamMessage, ApiError> &result) {
                onResult(runId, outgoing, sentAtMs, result);
            });
}

void RepeatPublisher::onResult(quint64 runId, const Outgoing &outgoing, qint64 sentAtMs,
    const std::expected<StreamMessage, ApiError> &result)
{
    if (runId != m_runId)
        return; // a cancelled or earlier run
    --m_inFlight;
    const qint64 counter = outgoing.counter;
    if (result) {
        ++m_sent;
        m_backoff.reset();
        m_attempts.remove(counter);
        Q_EMIT messagePublished(*result, counter);
    } else if (RateLimitBackoff::isRateLimited(result.error())) {
        ++m_rateLimited;
        const qint64 now = m_clock.elapsed();
        m_tokens = 0; // the service says the bucket is empty
        m_refilledAtMs = now;
        Q_EMIT budgetChanged();
        if (!m_budgetTicker.isActive())
            m_budgetTicker.start();
        if (m_attempts.value(counter) >= kMaxAttempts) {
            ++m_failed;
            m_attempts.remove(counter);
            Q_EMIT messageFailed(counter, result.error());
        } else {
            m_retries.insert(counter, outgoing.data);
            // Only a 429 to a request sent after the current pause began says the pause was too
            // short; the other requests in flight were already on their way and only queue up.
            if (sentAtMs >= m_pauseStartedMs) {
                const int delay = m_backoff.next();
                m_pauseStartedMs = now;
                m_pausedUntilMs = now + delay;
                m_credit = 0;
                Q_EMIT backingOff(delay, counter);
            }
        }
    } else {
        ++m_failed;
        m_attempts.remove(counter);
        Q_EMIT messageFailed(counter, result.error());
        // Without the stream or the credentials, every further message would fail the same way.
        const int code = result.error().code();
        if (code == ApiError::NotFound || code == ApiError::AuthenticationFailed) {
            m_abortError = result.error();
            emitProgress();
            finish(false);
            return;
        }
    }
    emitProgress();
    if (m_running && m_inFlight == 0 && m_retries.isEmpty() && m_nextCounter > m_count)
        finish(true);
}

void RepeatPublisher::finish(bool completed)
{
    m_pacer.stop();
    m_running = false;
    m_inFlight = 0;
    ++m_runId; // answers still in flight belong to a run that is over
    Q_EMIT runningChanged(false);
    Q_EMIT finished(completed);
}

void RepeatPublisher::emitProgress()
{
    Q_EMIT progressChanged(m_sent, m_failed, m_retried, remaining());
}

} // namespace streams
