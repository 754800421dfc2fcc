#pragma once

#include "backend/messagerecording.h"
#include "backend/streamreplay.h"

#include <QFrame>
#include <functional>
#include <memory>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
QT_END_NAMESPACE

namespace streams {

class Backend;

/// The live view's replay strip: pick an NDJSON recording (as the live view exports it or
/// `streams-cli subscribe` writes it), choose the pace (×1, ×2, ×10 of the recorded gaps, or as
/// fast as the stream allows) and publish it into the stream with StreamReplay, watching a
/// progress bar with the count, the rate and the time left; Cancel stops at once.
///
/// The file is read and validated whole on a worker thread before anything is published; a bad
/// line is reported through failed() (the page shows it in its banner), never in a modal box.
class ReplayPanel final : public QFrame
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ReplayPanel)

public:
    explicit ReplayPanel(Backend &backend, QWidget *parent = nullptr);
    ~ReplayPanel() override;

    /// The stream to publish to. Cancels a replay in progress and forgets a loaded file.
    void setStream(const QString &serviceSid, const QString &streamSid);

    /// Asks for a file (a non-modal dialog unless setPickFile() answers instead), then load()s it.
    void chooseFile();
    /// Reads and validates `path` on a worker; the strip then offers the pace and Start.
    void load(const QString &path);
    /// Starts replaying the loaded file at the chosen pace.
    void start();
    /// Cancels a replay in progress, or closes the strip.
    void cancel();

    /// Picks the file to replay (empty: cancelled). Tests answer it.
    using PickFile = std::function<QString()>;
    void setPickFile(PickFile pick) { m_pickFile = std::move(pick); }

    // For tests: the pieces a user sees and drives.
    QComboBox *paceBox() const { return m_pace; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *cancelButton() const { return m_cancel; }
    QProgressBar *progressBar() const { return m_progress; }
    /// What the strip says ("120 messages from orders.ndjson", "40 of 120 · 29.8/s · 3 s left").
    QString statusText() const;
    StreamReplay *replay() const { return m_replay.get(); }
    qsizetype loadedCount() const { return m_records.size(); }

    /// "3 s", "2 min 5 s", "1 h 20 min": a duration as the strip shows it.
    static QString durationText(qint64 ms);

Q_SIGNALS:
    /// The file could not be replayed (unreadable, a bad line) or a replay stopped on an error.
    void failed(const QString &text);
    /// A replay ended (also when it failed or was cancelled).
    void finished(const streams::StreamReplay::Result &result);

private:
    void showLoaded();
    void showProgress(qsizetype published, qsizetype total, double rate, qint64 msLeft);
    void onFinished(const StreamReplay::Result &result);

    Backend &m_backend;
    QString m_serviceSid;
    QString m_streamSid;
    PickFile m_pickFile;
    quint64 m_loadId = 0; // a newer load() or setStream() makes an older read's answer stale
    QString m_fileName;
    QList<MessageRecording::Record> m_records;
    std::unique_ptr<StreamReplay> m_replay;

    QLabel *m_status;
    QComboBox *m_pace;
    QPushButton *m_start;
    QProgressBar *m_progress;
    QPushButton *m_cancel;
};

} // namespace streams
