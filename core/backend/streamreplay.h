#pragma once

#include "api/apierror.h"
#include "api/streammessage.h"
#include "backend/messagerecording.h"
#include "backend/ratelimitbackoff.h"

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QTimer>
#include <expected>
#include <optional>

namespace streams {

class Backend;

/// Publishes a recording (MessageRecording) into a stream through Backend::publish: at the pace
/// it was recorded (the gaps between `received` times divided by 1, 2 or 10) or as fast as the
/// stream's publish rate allows (Backend::publishRatePerSecond(), or back to back when the
/// service sets none).
///
/// Order is the recording's and nothing is skipped: one publish is in flight at a time, because a
/// window of several could not keep order — a later message may be accepted while an earlier one
/// is refused with 429, and a remote backend sends parallel requests over parallel connections.
/// A 429 (54009, or any HTTP 429) pauses with jittered exponential back-off (kInitialBackoffMs
/// doubling up to kMaxBackoffMs) and sends the same message again, for as long as it takes;
/// the recorded schedule slips by the pause instead of bursting to catch up. (Backend errors
/// carry no Retry-After; RemoteBackend's RestClient honours it underneath.) Any other error
/// stops the replay with the error and the line that failed.
///
/// Widget-free: the console shows it with a progress bar, and a test drives it without a window.
class StreamReplay final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StreamReplay)

public:
    enum class Pace {
        Recorded, // the recorded gaps
        RecordedTwice, // the recorded gaps halved
        RecordedTenTimes, // a tenth of the recorded gaps
        AsFastAsAllowed // at the stream's publish rate, ignoring the recorded times
    };
    Q_ENUM(Pace)

    static constexpr int kInitialBackoffMs = 250;
    static constexpr int kMaxBackoffMs = 8000;
    /// progress() is emitted at most this often (and once more at the end).
    static constexpr int kProgressIntervalMs = 100;

    struct Result
    {
        enum class Outcome {
            Completed,
            Cancelled,
            Failed
        };
        Outcome outcome = Outcome::Completed;
        qsizetype published = 0;
        qsizetype total = 0;
        /// A publish was on its way when cancelled: it may have been published too.
        bool unconfirmed = false;
        /// Failed: the service's error and the recording's line it was about.
        std::optional<ApiError> error;
        qint64 failedLine = 0;
        /// 429 answers met (and retried) on the way.
        int rateLimited = 0;

        /// "Replayed 120 messages", "Cancelled after 40 of 120 messages", "Line 41 failed: …".
        QString text() const;
    };

    StreamReplay(Backend &backend, QString serviceSid, QString streamSid,
        QList<MessageRecording::Record> records, Pace pace, QObject *parent = nullptr);
    ~StreamReplay() override;

    /// The factor the recorded gaps are divided by; 0 for AsFastAsAllowed.
    static double speedOf(Pace pace);

    /// Starts publishing on the next turn of the event loop. Once only.
    void start();
    /// Stops at once: nothing more is sent and an answer still on its way is ignored.
    /// finished() follows (Cancelled) unless the replay was over already.
    void cancel();

    bool isRunning() const { return m_running; }
    qsizetype published() const { return m_published; }
    qsizetype total() const { return m_records.size(); }
    Pace pace() const { return m_pace; }

Q_SIGNALS:
    /// `ratePerSecond` over the last few seconds; `msLeft` an estimate, -1 while unknown.
    void progress(qsizetype published, qsizetype total, double ratePerSecond, qint64 msLeft);
    /// A 429 paused the replay for `delayMs`; the message of `line` is sent again after it.
    void backingOff(int delayMs, qint64 line);
    void finished(const streams::StreamReplay::Result &result);

private:
    void sendNext();
    void onAnswer(quint64 runId, const std::expected<StreamMessage, ApiError> &answer);
    void scheduleNext();
    qint64 dueAtMs(qsizetype index) const;
    void reportProgress(bool force);
    double recentRate() const;
    qint64 estimateMsLeft(double rate) const;
    void finish(Result::Outcome outcome, std::optional<ApiError> error = {});

    Backend &m_backend;
    const QString m_serviceSid;
    const QString m_streamSid;
    const QList<MessageRecording::Record> m_records;
    const Pace m_pace;
    QList<qint64> m_recordedOffsetsMs; // from the first time, never decreasing (recorded paces)
    std::optional<double> m_limitRate;

    QElapsedTimer m_clock;
    QTimer m_timer;
    quint64 m_runId = 0;
    bool m_started = false;
    bool m_running = false;
    bool m_inFlight = false;
    qsizetype m_next = 0;
    qsizetype m_published = 0;
    qint64 m_slipMs = 0; // how far back-off pauses pushed the recorded schedule
    qint64 m_lastSentMs = -1;
    qint64 m_resumeAtMs = 0; // end of the current back-off pause
    RateLimitBackoff m_backoff{kInitialBackoffMs, kMaxBackoffMs};
    int m_rateLimited = 0;
    qint64 m_lastProgressMs = -1;
    QList<std::pair<qint64, qsizetype>> m_samples; // (ms, published) for the recent rate
};

} // namespace streams
