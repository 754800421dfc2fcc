#pragma once

#include "api/apierror.h"
#include "ui/liveview/ndjsonexport.h"

#include <QFuture>
#include <QWidget>
#include <memory>

QT_BEGIN_NAMESPACE
class QProgressBar;
class QTableView;
class QToolButton;
QT_END_NAMESPACE

namespace streams {

class Backend;
class ConsoleSettings;
class FieldChartWidget;
class LiveMessageFilterProxy;
class LiveMessageModel;
class LiveSubscription;
class PageBanner;
class ReplayPanel;

/// A stream's messages as they arrive: a bounded, batched table (time, SID, size, preview) with a
/// dropped counter, the pretty JSON of the selected message and its diff against the previous
/// one, pause/resume, auto-scroll, text or JSON Pointer filter, a messages/s chart, a chart of
/// chosen fields' values (typed, or picked by right-clicking the message's JSON), and NDJSON
/// export of what is shown.
///
/// Built to stay smooth under a firehose: the model batches inserts on a timer and keeps a
/// ring buffer (see LiveMessageModel), the table has uniform row heights and no
/// size-to-contents columns, the counters line repaints at most four times a second, and the
/// detail pane only works when the selection changes. Export runs on a worker thread, with a
/// progress bar and Cancel for large exports; Replay NDJSON… publishes a recording back into the
/// stream (ReplayPanel).
class LiveViewWidget : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveViewWidget)

public:
    LiveViewWidget(Backend &backend, ConsoleSettings &settings, QWidget *parent = nullptr);
    ~LiveViewWidget() override;

    /// Subscribes to the stream (replacing any previous subscription).
    void setStream(const QString &serviceSid, const QString &streamSid);
    LiveMessageModel *model() const;

    // For tests and benchmarks: the pieces a user sees and drives.
    LiveMessageFilterProxy *proxy() const;
    QTableView *tableView() const;
    LiveSubscription *subscription() const;
    /// The field chart (hidden until a field is charted or the toolbar shows it).
    FieldChartWidget *fieldChart() const;
    bool isStreamRemoved() const;
    /// The counters line as last shown ("received 12,345 · shown 10,000 · …").
    QString countersText() const;
    /// Where the feed's gaps, its failure or its absence (no live subscriptions on this
    /// connection) are told, above the messages.
    PageBanner *liveBanner() const;
    /// The feed's state as shown in the footer ("live", "reconnecting since 12:00:01", …).
    QString subscriptionStateText() const;
    /// Gaps reported by the feed so far (lost connection, then resumed or still open).
    int gapCount() const;
    /// Refreshes the counters line now instead of at its next tick.
    void updateCounters();
    /// Writes the rows currently shown (through the filter) to `path` on a worker thread; the
    /// Export action asks for the path and calls this. exportFinished() reports the outcome.
    QFuture<NdjsonExport::Result> exportShown(const QString &path);
    /// Exports of more messages than this show a progress bar with Cancel.
    static constexpr int kExportProgressThreshold = 1000;
    /// The export's progress bar and its Cancel button (hidden while no large export runs).
    QProgressBar *exportProgressBar() const;
    QToolButton *exportCancelButton() const;
    /// The replay strip under the toolbar (hidden until a file is chosen).
    ReplayPanel *replayPanel() const;

Q_SIGNALS:
    void streamRemoved();
    /// The feed stopped for good with an error (the page shows it in its banner).
    void subscriptionFailed(const streams::ApiError &error);
    void exportFinished(bool ok, const QString &message);
    /// A replay could not start (a bad file) or stopped on an error (the page shows it).
    void replayFailed(const QString &message);

protected:
    void changeEvent(QEvent *event) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace streams
