#pragma once

#include "api/apierror.h"
#include "api/streammessage.h"
#include "backend/ratelimitbackoff.h"
#include "ui/stream/payloadtemplate.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMap>
#include <QObject>
#include <QTimer>
#include <expected>
#include <optional>

namespace streams {

class Backend;

/// Publishes N messages at R per second from a PayloadTemplate ({{counter}} = 1..N) through
/// Backend::publish, within the stream's publish limit. It keeps its own estimate of the
/// stream's token bucket (the engine's: Backend::publishRatePerSecond() per second, holding
/// limits::kPublishBurstSeconds of it, starting full), so a run bursts from the budget and then
/// settles at the refill rate instead of hammering the service into 429s. When a 429 (54009)
/// comes anyway — someone else publishes to the stream too — it pauses with exponential back-off
/// and jitter and sends that same message again: nothing is skipped silently; a message that
/// still cannot be sent after kMaxAttempts is reported as failed. Paced by a QTimer, never blocks,
/// at most kMaxInFlight requests outstanding.
class RepeatPublisher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RepeatPublisher)

public:
    static constexpr int kMaxInFlight = 4;
    static constexpr int kInitialBackoffMs = 500;
    static constexpr int kMaxBackoffMs = 8000;
    static constexpr int kMaxAttempts = 20;
    static constexpr double kMaxRatePerSecond = 1000.0;

    explicit RepeatPublisher(Backend &backend, QObject *parent = nullptr);
    ~RepeatPublisher() override;

    /// The stream to publish to. Cancels a run in progress and starts a fresh budget estimate.
    void setStream(const QString &serviceSid, const QString &streamSid);

    /// Starts publishing `count` messages at `ratePerSecond` (clamped to 0.01–1000). Refuses, with
    /// a reason, when a run is in progress, no stream is set, or the template does not give a
    /// valid payload for the first or the last counter.
    std::expected<void, QString> start(
        const QString &templateText, int count, double ratePerSecond);
    /// Stops sending; answers to requests already in flight are ignored. Emits finished(false).
    void cancel();

    bool isRunning() const { return m_running; }
    int count() const { return m_count; }
    int sent() const { return m_sent; }
    int failed() const { return m_failed; }
    /// Re-sends after a 429, counted per attempt.
    int retried() const { return m_retried; }
    int remaining() const { return m_count - m_sent - m_failed; }
    int inFlight() const { return m_inFlight; }
    /// 429 answers received during the current (or last) run.
    int rateLimitedCount() const { return m_rateLimited; }
    /// Why the last run stopped early, if it did.
    const std::optional<ApiError> &abortError() const { return m_abortError; }

    /// The stream's limit (Backend::publishRatePerSecond); empty when unlimited.
    std::optional<double> limitRate() const;
    /// The estimated budget: tokens the stream's bucket holds now, and its size.
    double budgetAvailable() const;
    double budgetCapacity() const;
    /// "budget: 287/300, refills 30/s", or "budget: unlimited".
    QString budgetText() const;
    /// A warning when `ratePerSecond` is above the stream's limit; empty when it is fine.
    QString rateWarning(double ratePerSecond) const;

    /// Publishes made elsewhere to the same stream (the composer's Publish button) draw on the
    /// same budget; tell the estimate how they went.
    void noteExternalPublish(bool rateLimited);

Q_SIGNALS:
    void runningChanged(bool running);
    void progressChanged(int sent, int failed, int retried, int remaining);
    void messagePublished(const streams::StreamMessage &message, qint64 counter);
    void messageFailed(qint64 counter, const streams::ApiError &error);
    /// A 429 paused sending for `delayMs`; `counter` will be sent again.
    void backingOff(int delayMs, qint64 counter);
    /// The estimate changed (a publish, a 429, or refill over time).
    void budgetChanged();
    /// The run ended: `completed` when every message was attempted to its end, false when
    /// cancelled or aborted (see abortError()).
    void finished(bool completed);

private:
    struct Outgoing
    {
        qint64 counter = 0;
        QByteArray data;
    };

    void pump();
    void send(Outgoing outgoing);
    void onResult(quint64 runId, const Outgoing &outgoing, qint64 sentAtMs,
        const std::expected<StreamMessage, ApiError> &result);
    void refill() const;
    void takeToken();
    void finish(bool completed);
    void emitProgress();

    Backend &m_backend;
    QString m_serviceSid;
    QString m_streamSid;

    QElapsedTimer m_clock;
    QTimer m_pacer;
    QTimer m_budgetTicker; // repaints the refilling budget while it is not full

    // The estimate of the stream's token bucket. Mutable: reading it refills it to now.
    mutable double m_tokens = 0;
    mutable qint64 m_refilledAtMs = 0;

    quint64 m_runId = 0;
    bool m_running = false;
    PayloadTemplate m_template;
    int m_count = 0;
    double m_rate = 1;
    qint64 m_nextCounter = 1;
    QMap<qint64, QByteArray> m_retries; // counter -> the exact bytes to send again
    QHash<qint64, int> m_attempts;
    double m_credit = 0;
    qint64 m_lastPumpMs = 0;
    qint64 m_pausedUntilMs = 0;
    qint64 m_pauseStartedMs = -1;
    RateLimitBackoff m_backoff{kInitialBackoffMs, kMaxBackoffMs};

    int m_inFlight = 0;
    int m_sent = 0;
    int m_failed = 0;
    int m_retried = 0;
    int m_rateLimited = 0;
    std::optional<ApiError> m_abortError;
};

} // namespace streams
