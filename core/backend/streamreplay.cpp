#include "backend/streamreplay.h"

#include "backend/backend.h"

#include <QLocale>
#include <climits>
#include <cmath>

namespace streams {

namespace {
// The rate shown is over this window: recent enough to show a back-off, long enough not to jump.
constexpr qint64 kRateWindowMs = 3000;

QString messages(qsizetype count)
{
    return QLocale().toString(count)
        + (count == 1 ? QStringLiteral(" message") : QStringLiteral(" messages"));
}
} // namespace

QString StreamReplay::Result::text() const
{
    switch (outcome) {
    case Outcome::Completed: return QStringLiteral("Replayed %1").arg(messages(published));
    case Outcome::Cancelled:
        return QStringLiteral("Cancelled after %1 of %2%3")
            .arg(QLocale().toString(published), messages(total),
                unconfirmed ? QStringLiteral(" (one more was on its way and may have arrived)")
                            : QString());
    case Outcome::Failed:
        return QStringLiteral("Line %1 was not published: %2 (%3 of %4 published)")
            .arg(failedLine)
            .arg(error ? error->message() : QString(), QLocale().toString(published),
                messages(total));
    }
    return {};
}

StreamReplay::StreamReplay(Backend &backend, QString serviceSid, QString streamSid,
    QList<MessageRecording::Record> records, Pace pace, QObject *parent)
    : QObject(parent),
      m_backend(backend),
      m_serviceSid(std::move(serviceSid)),
      m_streamSid(std::move(streamSid)),
      m_records(std::move(records)),
      m_pace(pace)
{
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &StreamReplay::sendNext);

    if (pace != Pace::AsFastAsAllowed) {
        // A line without a time, or one earlier than the line before (a recording merged from
        // several feeds), goes right after its predecessor: the schedule never runs backwards.
        m_recordedOffsetsMs.reserve(m_records.size());
        qint64 first = -1;
        qint64 offset = 0;
        for (const MessageRecording::Record &record : m_records) {
            if (record.receivedMs >= 0) {
                if (first < 0)
                    first = record.receivedMs;
                offset = std::max(offset, record.receivedMs - first);
            }
            m_recordedOffsetsMs.append(offset);
        }
    }
}

StreamReplay::~StreamReplay() = default;

double StreamReplay::speedOf(Pace pace)
{
    switch (pace) {
    case Pace::Recorded: return 1.0;
    case Pace::RecordedTwice: return 2.0;
    case Pace::RecordedTenTimes: return 10.0;
    case Pace::AsFastAsAllowed: return 0.0;
    }
    return 0.0;
}

void StreamReplay::start()
{
    if (m_started)
        return;
    m_started = true;
    m_running = true;
    const std::optional<double> rate = m_backend.publishRatePerSecond();
    if (rate && *rate > 0)
        m_limitRate = rate;
    m_clock.start();
    m_samples.append({0, 0});
    // Not inside start(): a caller must see the replay begin before anything can end it.
    m_timer.start(0);
}

void StreamReplay::cancel()
{
    if (!m_running)
        return;
    finish(Result::Outcome::Cancelled);
}

qint64 StreamReplay::dueAtMs(qsizetype index) const
{
    const qint64 resume = m_resumeAtMs;
    if (m_pace == Pace::AsFastAsAllowed) {
        if (m_lastSentMs < 0 || !m_limitRate)
            return resume;
        // Steady at the service's rate: the burst budget may be spent already (by someone else),
        // and a 429 costs a round trip and a pause.
        const auto intervalMs = qint64(std::ceil(1000.0 / *m_limitRate));
        return std::max(resume, m_lastSentMs + intervalMs);
    }
    const auto offset = qint64(double(m_recordedOffsetsMs.at(index)) / speedOf(m_pace));
    return std::max(resume, offset + m_slipMs);
}

void StreamReplay::scheduleNext()
{
    if (!m_running || m_inFlight)
        return;
    if (m_next >= m_records.size())
        return finish(Result::Outcome::Completed);
    // Always through the timer, even when due already: a backend that answers at once would
    // otherwise recurse once per message.
    m_timer.start(int(std::clamp<qint64>(dueAtMs(m_next) - m_clock.elapsed(), 0, INT_MAX)));
}

void StreamReplay::sendNext()
{
    if (!m_running || m_inFlight)
        return;
    if (m_next >= m_records.size())
        return finish(Result::Outcome::Completed); // nothing to replay at all
    m_inFlight = true;
    m_lastSentMs = m_clock.elapsed();
    const quint64 runId = m_runId;
    m_backend.publish(m_serviceSid, m_streamSid, m_records.at(m_next).data)
        .then(this, [this, runId](const std::expected<StreamMessage, ApiError> &answer) {
            onAnswer(runId, answer);
        });
}

void StreamReplay::onAnswer(quint64 runId, const std::expected<StreamMessage, ApiError> &answer)
{
    if (runId != m_runId || !m_running)
        return; // cancelled meanwhile
    m_inFlight = false;
    if (answer) {
        ++m_published;
        ++m_next;
        m_backoff.reset();
        reportProgress(false);
        return scheduleNext();
    }
    const ApiError &error = answer.error();
    if (!RateLimitBackoff::isRateLimited(error))
        return finish(Result::Outcome::Failed, error);

    ++m_rateLimited;
    const int delay = m_backoff.next();
    const qint64 now = m_clock.elapsed();
    if (m_pace != Pace::AsFastAsAllowed) {
        // The schedule slips by the pause, so the messages after it keep their recorded gaps.
        const qint64 due = dueAtMs(m_next);
        m_slipMs += std::max<qint64>(0, now + delay - std::max(due, now));
    }
    m_resumeAtMs = now + delay;
    Q_EMIT backingOff(delay, m_records.at(m_next).line);
    reportProgress(true);
    scheduleNext();
}

double StreamReplay::recentRate() const
{
    if (m_samples.size() < 2)
        return 0.0;
    const auto &[fromMs, fromCount] = m_samples.first();
    const auto &[toMs, toCount] = m_samples.last();
    return toMs > fromMs ? double(toCount - fromCount) * 1000.0 / double(toMs - fromMs) : 0.0;
}

qint64 StreamReplay::estimateMsLeft(double rate) const
{
    const qsizetype remaining = m_records.size() - m_published;
    if (remaining <= 0)
        return 0;
    // What the stream's limit alone needs, and (recorded paces) what the schedule still holds.
    double ms = m_limitRate ? double(remaining) * 1000.0 / *m_limitRate : 0.0;
    if (m_pace != Pace::AsFastAsAllowed) {
        const qint64 last = qint64(double(m_recordedOffsetsMs.last()) / speedOf(m_pace));
        ms = std::max(ms, double(last + m_slipMs - m_clock.elapsed()));
    } else if (rate > 0) {
        ms = std::max(ms, double(remaining) * 1000.0 / rate);
    } else if (!m_limitRate) {
        return -1;
    }
    return qint64(std::max(0.0, ms));
}

void StreamReplay::reportProgress(bool force)
{
    const qint64 now = m_clock.elapsed();
    if (!force && m_lastProgressMs >= 0 && now - m_lastProgressMs < kProgressIntervalMs
        && m_published < m_records.size())
        return;
    m_lastProgressMs = now;
    m_samples.append({now, m_published});
    while (m_samples.size() > 2 && now - m_samples.at(1).first >= kRateWindowMs)
        m_samples.removeFirst();
    const double rate = recentRate();
    Q_EMIT progress(m_published, m_records.size(), rate, estimateMsLeft(rate));
}

void StreamReplay::finish(Result::Outcome outcome, std::optional<ApiError> error)
{
    Result result;
    result.outcome = outcome;
    result.published = m_published;
    result.total = m_records.size();
    result.unconfirmed = outcome == Result::Outcome::Cancelled && m_inFlight;
    result.rateLimited = m_rateLimited;
    if (error) {
        result.error = std::move(error);
        result.failedLine = m_records.at(m_next).line;
    }
    m_timer.stop();
    m_running = false;
    m_inFlight = false;
    ++m_runId; // an answer still on its way belongs to a replay that is over
    reportProgress(true);
    // Last: a receiver may delete this replay.
    Q_EMIT finished(result);
}

} // namespace streams
