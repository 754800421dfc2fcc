#include "ui/liveview/liveviewwidget.h"

#include "api/jsonpointer.h"
#include "api/rawjson.h"
#include "backend/backend.h"
#include "backend/remotebackend.h"
#include "live/livesubscription.h"
#include "ui/common/consolesettings.h"
#include "ui/common/jsonhighlighter.h"
#include "ui/liveview/fieldchartwidget.h"
#include "ui/liveview/jsondiff.h"
#include "ui/liveview/livemessagefilterproxy.h"
#include "ui/liveview/livemessagemodel.h"
#include "ui/liveview/messageratechart.h"
#include "ui/liveview/replaypanel.h"
#include "ui/stream/pagebanner.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QTextEdit>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace streams {

namespace {
// Typing a pointer path re-parses every row's JSON at each keystroke; waiting for a pause in
// typing makes that once per word instead.
constexpr int kFilterDelayMs = 200;
// The counters line is read by a person: four updates a second are plenty and cost nothing
// even when 20 flushes a second arrive.
constexpr int kCountersIntervalMs = 250;
constexpr int kDiffValueChars = 160;

// "1 message", "2,345 messages". The console ships no translations, so tr()'s %n plural forms
// would print "message(s)".
QString countOf(qsizetype count, const QString &one, const QString &many)
{
    return QLocale().toString(count) + u' ' + (count == 1 ? one : many);
}

QString elided(const QString &text, int chars)
{
    return text.size() <= chars ? text : text.left(chars - 1) + QChar(0x2026);
}
} // namespace

struct LiveViewWidget::Private
{
    Private(LiveViewWidget *widget, Backend &b, ConsoleSettings &s)
        : q(widget), backend(b), settings(s)
    { }

    void buildUi();
    void buildToolBar();
    void addCapacitySpin();
    void buildFilterEdit();
    void addFileActions();
    void buildBanners();
    void buildTable();
    void buildDetailTabs();
    void buildCharts();
    void buildFooterLabels();
    void layOut();
    void buildExportProgress();
    void connectModel();
    void applyFilterNow();
    void showCurrent(const QModelIndex &proxyIndex);
    void showDiff(int sourceRow);
    void markRemoved(const QString &why);
    bool atBottom() const;
    void applyBannerPalette();
    void copySelection();
    std::optional<QString> pointerAt(const QPoint &viewportPos) const;
    void showDetailMenu(const QPoint &viewportPos);
    void onInterrupted(const ApiError &reason);
    void onResumed(const QDateTime &interruptedAt, const QDateTime &resumedAt);
    void showGaps();
    void updateSubscriptionState();

    LiveViewWidget *q;
    Backend &backend;
    ConsoleSettings &settings;
    QString serviceSid;
    QString streamSid;
    std::unique_ptr<LiveSubscription> subscription;
    bool removed = false;
    bool restoringFields = false; // setStream() is putting back the stream's remembered fields

    LiveMessageModel *model = nullptr;
    LiveMessageFilterProxy *proxy = nullptr;

    QToolBar *toolBar = nullptr;
    QAction *pauseAction = nullptr;
    QAction *autoScrollAction = nullptr;
    QAction *clearAction = nullptr;
    QAction *exportAction = nullptr;
    QAction *replayAction = nullptr;
    ReplayPanel *replayPanel = nullptr;
    QAction *copyAction = nullptr;
    QAction *fieldChartAction = nullptr;
    QAction *filterErrorAction = nullptr;
    QSpinBox *capacitySpin = nullptr;
    QLineEdit *filterEdit = nullptr;
    QTimer filterTimer;

    QLabel *banner = nullptr;
    PageBanner *liveBanner = nullptr;
    QLabel *subscriptionState = nullptr;
    QString liveUnavailable; // why this connection has no live feed, empty when it has one

    // The feed's gaps: when the connection was lost and when it came back (invalid while the
    // gap is still open). Sync Streams do not replay, so each one is messages never received.
    struct Gap
    {
        QDateTime lost;
        QDateTime resumed;
        QString reason;
    };
    QList<Gap> gaps;
    QTableView *table = nullptr;
    QTabWidget *tabs = nullptr;
    QPlainTextEdit *detail = nullptr;
    JsonHighlighter *highlighter = nullptr;
    QTextEdit *diff = nullptr;
    MessageRateChart *chart = nullptr;
    FieldChartWidget *fieldChart = nullptr;
    QLabel *counters = nullptr;
    QLabel *status = nullptr;
    QWidget *exportProgress = nullptr; // the bar and Cancel, shown during a large export
    QProgressBar *exportBar = nullptr;
    QToolButton *exportCancel = nullptr;
    QFutureWatcher<NdjsonExport::Result> exportWatcher;
    QString exportPath;
    QTimer countersTimer;
    bool countersDirty = true;

    // Scroll bookkeeping across a flush (see connectModel()).
    bool pinnedToBottom = true;
    int lastScrollMaximum = 0; // the table's scroll range before its latest change
    std::optional<quint64> shownSequence; // the message in the detail pane
};

void LiveViewWidget::Private::buildUi()
{
    // In this order: it is the order of the focus chain.
    buildToolBar();
    buildFilterEdit();
    addFileActions();
    buildBanners();
    buildTable();
    buildDetailTabs();
    buildCharts();
    buildFooterLabels();
    // Focusing the live view (a dock, a tab) lands on the messages, not on the first tool.
    q->setFocusProxy(table);
    layOut();
}

void LiveViewWidget::Private::buildToolBar()
{
    toolBar = new QToolBar(q);
    toolBar->setObjectName(QStringLiteral("liveViewToolBar"));
    toolBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolBar->setIconSize(QSize(16, 16));

    QStyle *style = q->style();
    pauseAction = toolBar->addAction(style->standardIcon(QStyle::SP_MediaPause), tr("Pause"));
    pauseAction->setObjectName(QStringLiteral("pauseAction"));
    pauseAction->setCheckable(true);
    pauseAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P));
    pauseAction->setToolTip(tr("Pause the view (Ctrl+Shift+P). Messages keep being collected, up "
                               "to the capacity, and appear on resume."));

    autoScrollAction =
        toolBar->addAction(style->standardIcon(QStyle::SP_ArrowDown), tr("Auto-scroll"));
    autoScrollAction->setObjectName(QStringLiteral("autoScrollAction"));
    autoScrollAction->setCheckable(true);
    autoScrollAction->setChecked(settings.value(ConsoleSettings::Key::LiveViewAutoScroll).toBool());
    autoScrollAction->setToolTip(
        tr("Follow new messages while the view is scrolled to the bottom"));

    clearAction =
        toolBar->addAction(style->standardIcon(QStyle::SP_DialogResetButton), tr("Clear"));
    clearAction->setObjectName(QStringLiteral("clearAction"));
    clearAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));
    clearAction->setToolTip(tr("Remove every message from the view and reset the counters "
                               "(Ctrl+Shift+K)"));

    addCapacitySpin();
}

void LiveViewWidget::Private::addCapacitySpin()
{
    toolBar->addSeparator();
    auto *keepLabel = new QLabel(tr("Keep last "), toolBar);
    toolBar->addWidget(keepLabel);
    capacitySpin = new QSpinBox(toolBar);
    capacitySpin->setObjectName(QStringLiteral("capacitySpinBox"));
    capacitySpin->setRange(100, 1'000'000);
    capacitySpin->setSingleStep(1'000);
    capacitySpin->setGroupSeparatorShown(true);
    // No suffix: the toolbar's room goes to its actions (the tooltip says what is counted).
    // Without this every keystroke would apply: typing "50000" would first shrink the buffer to
    // 100 rows and drop the rest.
    capacitySpin->setKeyboardTracking(false);
    capacitySpin->setValue(settings.liveViewCapacity());
    capacitySpin->setToolTip(
        tr("How many messages the view keeps; older ones are dropped and counted"));
    keepLabel->setBuddy(capacitySpin);
    toolBar->addWidget(capacitySpin);
}

void LiveViewWidget::Private::buildFilterEdit()
{
    // The filter gets a row of its own: in a toolbar it is the first thing pushed into the
    // overflow menu when the dock is narrow, and it is what people reach for most.
    filterEdit = new QLineEdit(q);
    filterEdit->setObjectName(QStringLiteral("filterEdit"));
    filterEdit->setClearButtonEnabled(true);
    filterEdit->setPlaceholderText(tr("Filter: text, or /json/pointer=value"));
    filterEdit->setToolTip(
        tr("<p>Plain text keeps messages whose JSON or SID contains it (any case).</p>"
           "<p>A JSON Pointer keeps messages by value: <code>/user/id=42</code>, "
           "<code>/tags/0=red</code>, or <code>/error</code> for \"has this key\". "
           "Escape '~' as <code>~0</code> and '/' as <code>~1</code>.</p>"));
    filterEdit->setMinimumWidth(200);
    filterErrorAction = filterEdit->addAction(
        q->style()->standardIcon(QStyle::SP_MessageBoxWarning), QLineEdit::TrailingPosition);
    filterErrorAction->setVisible(false);
    auto *filterShortcut = new QAction(q);
    filterShortcut->setShortcut(QKeySequence::Find);
    filterShortcut->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    QObject::connect(filterShortcut, &QAction::triggered, q, [this] {
        filterEdit->setFocus(Qt::ShortcutFocusReason);
        filterEdit->selectAll();
    });
    q->addAction(filterShortcut);
}

void LiveViewWidget::Private::addFileActions()
{
    toolBar->addSeparator();
    QStyle *style = q->style();
    exportAction =
        toolBar->addAction(style->standardIcon(QStyle::SP_DialogSaveButton), tr("Export…"));
    exportAction->setObjectName(QStringLiteral("exportAction"));
    exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    exportAction->setToolTip(tr("Save the messages shown (after filtering) as NDJSON, one JSON "
                                "object per line (Ctrl+Shift+E)"));

    replayAction = toolBar->addAction(style->standardIcon(QStyle::SP_MediaPlay), tr("Replay…"));
    replayAction->setObjectName(QStringLiteral("replayAction"));
    replayAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    replayAction->setToolTip(tr("Publish the messages of an NDJSON file (as Export or "
                                "streams-cli subscribe write them) into this stream, at the "
                                "recorded pace or faster (Ctrl+Shift+R)"));
    replayPanel = new ReplayPanel(backend, q);
    QObject::connect(replayPanel, &ReplayPanel::failed, q, &LiveViewWidget::replayFailed);

    // Last: on a narrow dock it is the one in the overflow menu, and the Message pane's context
    // menu charts a field too.
    fieldChartAction =
        toolBar->addAction(style->standardIcon(QStyle::SP_FileDialogContentsView), tr("Chart"));
    fieldChartAction->setObjectName(QStringLiteral("fieldChartAction"));
    fieldChartAction->setCheckable(true);
    fieldChartAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_G));
    fieldChartAction->setToolTip(tr("Show the field chart: plot numbers at JSON Pointers of the "
                                    "messages over time (or right-click a value in the Message "
                                    "pane) (Ctrl+Shift+G)"));

    for (QAction *action : {pauseAction, clearAction, exportAction})
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
}

void LiveViewWidget::Private::buildBanners()
{
    banner = new QLabel(q);
    banner->setObjectName(QStringLiteral("streamRemovedBanner"));
    banner->setWordWrap(true);
    banner->setMargin(6);
    banner->setTextInteractionFlags(Qt::TextSelectableByMouse);
    banner->hide();
    applyBannerPalette();

    liveBanner = new PageBanner(q);
    liveBanner->setObjectName(QStringLiteral("liveBanner"));
}

void LiveViewWidget::Private::buildTable()
{
    table = new QTableView(q);
    table->setObjectName(QStringLiteral("messageTable"));
    table->setModel(proxy);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table->setVerticalScrollMode(QAbstractItemView::ScrollPerItem);
    table->setWordWrap(false);
    table->setTextElideMode(Qt::ElideRight);
    table->setAlternatingRowColors(true);
    table->setCornerButtonEnabled(false);
    table->setSortingEnabled(false);
    // Uniform row heights: the header never measures a row, whatever the row count.
    QHeaderView *rows = table->verticalHeader();
    rows->hide();
    rows->setSectionResizeMode(QHeaderView::Fixed);
    rows->setDefaultSectionSize(table->fontMetrics().height() + 6);
    // Fixed initial widths from the font, never ResizeToContents: that would visit every row
    // on every insert.
    QHeaderView *columns = table->horizontalHeader();
    columns->setHighlightSections(false);
    columns->setStretchLastSection(true);
    const QFontMetrics fm = table->fontMetrics();
    columns->resizeSection(
        LiveMessageModel::TimeColumn, fm.horizontalAdvance(QStringLiteral("00:00:00.000")) + 24);
    // Most of the width goes to the preview; a SID is told apart by its first digits, and the
    // whole of it is in the tooltip and the detail pane.
    columns->resizeSection(LiveMessageModel::SidColumn,
        fm.horizontalAdvance(QStringLiteral("TZ0123456789abcdef01…")) + 24);
    columns->resizeSection(
        LiveMessageModel::SizeColumn, fm.horizontalAdvance(QStringLiteral("Size 4,096")) + 16);

    copyAction = new QAction(tr("Copy Message JSON"), table);
    copyAction->setShortcut(QKeySequence::Copy);
    copyAction->setShortcutContext(Qt::WidgetShortcut);
    QObject::connect(copyAction, &QAction::triggered, q, [this] { copySelection(); });
    table->addAction(copyAction);
    table->setContextMenuPolicy(Qt::ActionsContextMenu);
}

void LiveViewWidget::Private::buildDetailTabs()
{
    const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    detail = new QPlainTextEdit(q);
    detail->setObjectName(QStringLiteral("detailView"));
    detail->setReadOnly(true);
    detail->setFont(fixed);
    detail->setPlaceholderText(tr("Select a message to see its JSON"));
    detail->setLineWrapMode(QPlainTextEdit::NoWrap);
    highlighter = new JsonHighlighter(detail->document(), detail->palette());
    detail->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(detail, &QWidget::customContextMenuRequested, q,
        [this](const QPoint &pos) { showDetailMenu(pos); });

    diff = new QTextEdit(q);
    diff->setObjectName(QStringLiteral("diffView"));
    diff->setReadOnly(true);
    diff->setFont(fixed);
    diff->setPlaceholderText(tr("Select a message to compare it with the one before it"));

    tabs = new QTabWidget(q);
    tabs->setObjectName(QStringLiteral("detailTabs"));
    tabs->setDocumentMode(true);
    tabs->addTab(detail, tr("Message"));
    tabs->addTab(diff, tr("Diff vs previous"));
}

void LiveViewWidget::Private::buildCharts()
{
    chart = new MessageRateChart(q);
    chart->setObjectName(QStringLiteral("rateChart"));

    fieldChart = new FieldChartWidget(q);
    fieldChart->setObjectName(QStringLiteral("fieldChart"));
    fieldChart->hide(); // until a field is charted or the toolbar asks for it
}

void LiveViewWidget::Private::buildFooterLabels()
{
    counters = new QLabel(q);
    counters->setObjectName(QStringLiteral("countersLabel"));
    counters->setTextInteractionFlags(Qt::TextSelectableByMouse);
    subscriptionState = new QLabel(q);
    subscriptionState->setObjectName(QStringLiteral("subscriptionStateLabel"));
    subscriptionState->setTextInteractionFlags(Qt::TextSelectableByMouse);
    status = new QLabel(q);
    status->setObjectName(QStringLiteral("statusLabel"));
    status->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    status->setTextInteractionFlags(Qt::TextSelectableByMouse);
}

void LiveViewWidget::Private::layOut()
{
    auto *lower = new QSplitter(Qt::Horizontal, q);
    lower->addWidget(tabs);
    lower->addWidget(chart);
    lower->setStretchFactor(0, 3);
    lower->setStretchFactor(1, 2);
    lower->setChildrenCollapsible(false);
    auto *split = new QSplitter(Qt::Vertical, q);
    split->setObjectName(QStringLiteral("liveViewSplitter"));
    split->addWidget(table);
    split->addWidget(lower);
    split->addWidget(fieldChart);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setStretchFactor(2, 2);
    split->setChildrenCollapsible(false);

    buildExportProgress();

    auto *footer = new QHBoxLayout;
    footer->setContentsMargins(4, 0, 4, 0);
    footer->addWidget(subscriptionState);
    footer->addSpacing(8);
    footer->addWidget(counters, 1);
    footer->addWidget(status, 1);
    footer->addWidget(exportProgress);

    auto *layout = new QVBoxLayout(q);
    layout->setContentsMargins(0, 0, 0, 4);
    layout->setSpacing(4);
    layout->addWidget(toolBar);
    layout->addWidget(filterEdit);
    layout->addWidget(replayPanel);
    layout->addWidget(banner);
    layout->addWidget(liveBanner);
    layout->addWidget(split, 1);
    layout->addLayout(footer);
}

void LiveViewWidget::Private::buildExportProgress()
{
    exportProgress = new QWidget(q);
    exportBar = new QProgressBar(exportProgress);
    exportBar->setObjectName(QStringLiteral("exportProgressBar"));
    exportBar->setMaximumWidth(200);
    exportCancel = new QToolButton(exportProgress);
    exportCancel->setObjectName(QStringLiteral("exportCancelButton"));
    exportCancel->setText(tr("Cancel"));
    exportCancel->setToolTip(tr("Stop the export; the file is not written"));
    auto *exportRow = new QHBoxLayout(exportProgress);
    exportRow->setContentsMargins(0, 0, 0, 0);
    exportRow->addWidget(exportBar);
    exportRow->addWidget(exportCancel);
    exportProgress->hide();
}

void LiveViewWidget::Private::connectModel()
{
    // Auto-scroll follows only a user who is already at the bottom: someone who scrolled up to
    // read keeps their place. The decision is taken before the batch changes the scroll range.
    auto remember = [this] { pinnedToBottom = autoScrollAction->isChecked() && atBottom(); };
    QObject::connect(proxy, &QAbstractItemModel::rowsAboutToBeInserted, q, remember);
    QObject::connect(proxy, &QAbstractItemModel::rowsAboutToBeRemoved, q, remember);
    QObject::connect(proxy, &QAbstractItemModel::rowsInserted, q, [this] {
        if (pinnedToBottom)
            table->scrollToBottom();
    });
    // A view that was following keeps following when it changes size (a dock opened below, a
    // chart shown): a shorter viewport moves the bottom away from where the scroll bar was.
    QScrollBar *scrollBar = table->verticalScrollBar();
    QObject::connect(scrollBar, &QScrollBar::rangeChanged, q, [this, scrollBar](int, int maximum) {
        const bool wasAtBottom = scrollBar->value() >= lastScrollMaximum - 1;
        lastScrollMaximum = maximum;
        if (wasAtBottom && autoScrollAction->isChecked() && scrollBar->value() < maximum)
            table->scrollToBottom();
    });
    // When the ring buffer evicts rows above the viewport, move the viewport up by as many rows
    // so the messages the user is reading stay where they are instead of sliding away.
    QObject::connect(proxy, &QAbstractItemModel::rowsRemoved, q,
        [this](const QModelIndex &, int first, int last) {
            if (pinnedToBottom)
                return;
            QScrollBar *bar = table->verticalScrollBar();
            const int top = bar->value(); // ScrollPerItem: the first visible row
            if (first >= top)
                return;
            const int above = std::min(last, top - 1) - first + 1;
            bar->setValue(std::max(0, top - above));
        });

    QObject::connect(table->selectionModel(), &QItemSelectionModel::currentRowChanged, q,
        [this](const QModelIndex &current) { showCurrent(current); });

    QObject::connect(
        model, &LiveMessageModel::countersChanged, q, [this] { countersDirty = true; });
    QObject::connect(model, &LiveMessageModel::rateSampled, chart, &MessageRateChart::addSample);
    QObject::connect(model, &LiveMessageModel::rateSampled, q, [this] { countersDirty = true; });
    QObject::connect(proxy, &QAbstractItemModel::rowsInserted, q, [this] { countersDirty = true; });
    QObject::connect(proxy, &QAbstractItemModel::rowsRemoved, q, [this] { countersDirty = true; });
    QObject::connect(model, &LiveMessageModel::pausedChanged, q, [this](bool paused) {
        QSignalBlocker block(pauseAction);
        pauseAction->setChecked(paused);
        pauseAction->setText(paused ? tr("Resume") : tr("Pause"));
        pauseAction->setIcon(
            q->style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
        countersDirty = true;
        q->updateCounters();
    });
    countersTimer.setInterval(kCountersIntervalMs);
    QObject::connect(&countersTimer, &QTimer::timeout, q, [this] {
        if (countersDirty)
            q->updateCounters();
    });
    countersTimer.start();

    QObject::connect(pauseAction, &QAction::toggled, model, &LiveMessageModel::setPaused);
    QObject::connect(fieldChartAction, &QAction::toggled, q, [this](bool on) {
        fieldChart->setVisible(on);
        if (on)
            fieldChart->focusPointerEdit(); // type a pointer, Enter
    });
    // The chart appears with its first field; hiding it keeps the fields (and their values
    // coming). Each stream's fields are remembered for the next time it is opened.
    QObject::connect(
        fieldChart, &FieldChartWidget::fieldsChanged, q, [this](const QStringList &fields) {
            if (!fields.isEmpty())
                fieldChartAction->setChecked(true);
            if (!restoringFields && !streamSid.isEmpty())
                settings.setChartFields(streamSid, fields);
        });
    QObject::connect(autoScrollAction, &QAction::toggled, q, [this](bool on) {
        settings.setValue(ConsoleSettings::Key::LiveViewAutoScroll, on);
        if (on)
            table->scrollToBottom();
    });
    QObject::connect(clearAction, &QAction::triggered, q, [this] {
        model->clear();
        chart->clear();
        fieldChart->clear();
        detail->clear();
        diff->clear();
        shownSequence.reset();
        status->clear();
        q->updateCounters();
    });
    QObject::connect(capacitySpin, &QSpinBox::valueChanged, q, [this](int capacity) {
        model->setCapacity(capacity);
        settings.setLiveViewCapacity(capacity);
    });
    // Several live views share the settings: a change in one applies to all.
    QObject::connect(&settings, &ConsoleSettings::changed, q, [this](ConsoleSettings::Key key) {
        if (key == ConsoleSettings::Key::LiveViewCapacity) {
            capacitySpin->setValue(settings.liveViewCapacity());
        } else if (key == ConsoleSettings::Key::LiveViewAutoScroll) {
            autoScrollAction->setChecked(
                settings.value(ConsoleSettings::Key::LiveViewAutoScroll).toBool());
        }
    });

    filterTimer.setSingleShot(true);
    filterTimer.setInterval(kFilterDelayMs);
    QObject::connect(&filterTimer, &QTimer::timeout, q, [this] { applyFilterNow(); });
    QObject::connect(filterEdit, &QLineEdit::textChanged, q, [this] { filterTimer.start(); });
    QObject::connect(filterEdit, &QLineEdit::returnPressed, q, [this] { applyFilterNow(); });

    QObject::connect(replayAction, &QAction::triggered, replayPanel, &ReplayPanel::chooseFile);
    QObject::connect(&exportWatcher, &QFutureWatcherBase::progressValueChanged, exportBar,
        &QProgressBar::setValue);
    QObject::connect(exportCancel, &QToolButton::clicked, q, [this] { exportWatcher.cancel(); });
    QObject::connect(&exportWatcher, &QFutureWatcherBase::finished, q, [this] {
        exportProgress->hide();
        const QFuture<NdjsonExport::Result> future = exportWatcher.future();
        const bool ok = !future.isCanceled() && future.resultCount() > 0 && future.result();
        const QString message = future.isCanceled() || future.resultCount() == 0
            ? tr("Export to %1 cancelled; nothing was written").arg(exportPath)
            : ok ? tr("Exported %1 to %2")
                       .arg(countOf(*future.result(), tr("message"), tr("messages")), exportPath)
                 : tr("Export to %1 failed: %2").arg(exportPath, future.result().error());
        status->setText(message);
        status->setToolTip(message);
        Q_EMIT q->exportFinished(ok, message);
    });

    QObject::connect(exportAction, &QAction::triggered, q, [this] {
        // Non-modal: the view keeps streaming while the dialog is open, and no nested event loop.
        auto *dialog = new QFileDialog(q, tr("Export shown messages"), QString(),
            tr("NDJSON (*.ndjson *.jsonl);;All files (*)"));
        dialog->setAcceptMode(QFileDialog::AcceptSave);
        dialog->setDefaultSuffix(QStringLiteral("ndjson"));
        dialog->selectFile(streamSid.isEmpty() ? QStringLiteral("messages.ndjson")
                                               : streamSid + QStringLiteral(".ndjson"));
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        QObject::connect(dialog, &QFileDialog::fileSelected, q,
            [this](const QString &path) { q->exportShown(path); });
        dialog->open();
    });
}

bool LiveViewWidget::Private::atBottom() const
{
    const QScrollBar *bar = table->verticalScrollBar();
    return bar->value() >= bar->maximum() - 1;
}

void LiveViewWidget::Private::applyFilterNow()
{
    filterTimer.stop();
    proxy->setFilterText(filterEdit->text());
    const bool invalid = proxy->mode() == LiveMessageFilterProxy::Mode::Invalid;
    filterErrorAction->setVisible(invalid);
    filterErrorAction->setToolTip(invalid
            ? tr("Not a JSON Pointer: %1. Showing every message.").arg(proxy->errorString())
            : QString());
    countersDirty = true;
    q->updateCounters();
    // Keep the message being read in sight; otherwise follow the stream if asked to.
    if (table->currentIndex().isValid())
        table->scrollTo(table->currentIndex());
    else if (autoScrollAction->isChecked())
        table->scrollToBottom();
}

void LiveViewWidget::Private::showCurrent(const QModelIndex &proxyIndex)
{
    // A current row that was evicted leaves the pane as it was: the text is a copy, and the
    // user may still be reading it.
    if (!proxyIndex.isValid())
        return;
    const int row = proxy->mapToSource(proxyIndex).row();
    if (row < 0)
        return;
    const LiveMessageModel::Message &message = model->messageAt(row);
    if (shownSequence == message.sequence)
        return;
    shownSequence = message.sequence;
    const QJsonDocument document = QJsonDocument::fromJson(message.data);
    detail->setPlainText(
        document.isNull() ? QString::fromUtf8(message.data) : QString::fromUtf8(document.toJson()));
    showDiff(row);
}

void LiveViewWidget::Private::showDiff(int sourceRow)
{
    const LiveMessageModel::Message &message = model->messageAt(sourceRow);
    if (sourceRow == 0) {
        diff->setPlainText(
            tr("No earlier message in the buffer to compare %1 with.").arg(message.sid));
        return;
    }
    // "Previous" is the previous arrival on the stream, not the previous row of a filtered view.
    const LiveMessageModel::Message &previous = model->messageAt(sourceRow - 1);
    const QJsonDocument before = QJsonDocument::fromJson(previous.data);
    const QJsonDocument after = QJsonDocument::fromJson(message.data);
    if (!before.isObject() || !after.isObject()) {
        diff->setPlainText(tr("One of the messages is not a JSON object; nothing to compare."));
        return;
    }
    const QList<JsonDiff::Change> changes = JsonDiff::diff(before.object(), after.object());

    const bool dark = q->palette().color(QPalette::Base).lightness() < 128;
    const QString added = dark ? QStringLiteral("#7ee787") : QStringLiteral("#1a7f37");
    const QString removedColor = dark ? QStringLiteral("#ff7b72") : QStringLiteral("#cf222e");
    const QString changed = dark ? QStringLiteral("#e3b341") : QStringLiteral("#9a6700");
    const QString muted = q->palette().color(QPalette::PlaceholderText).name();

    QString html;
    html += QStringLiteral("<p style='color:%1'>").arg(muted)
        + tr("Compared with %1, received %2: %3")
              .arg(previous.sid.toHtmlEscaped(),
                  previous.received().toString(QStringLiteral("hh:mm:ss.zzz")),
                  countOf(changes.size(), tr("change"), tr("changes")))
        + QStringLiteral("</p>");
    if (changes.isEmpty()) {
        html += QStringLiteral("<p>") + tr("Identical content.") + QStringLiteral("</p>");
    } else {
        html += QStringLiteral("<table cellspacing='0' cellpadding='2'>");
        for (const JsonDiff::Change &change : changes) {
            QString sign;
            QString colour;
            QString value;
            const QString oldText =
                elided(JsonDiff::toText(change.oldValue), kDiffValueChars).toHtmlEscaped();
            const QString newText =
                elided(JsonDiff::toText(change.newValue), kDiffValueChars).toHtmlEscaped();
            switch (change.kind) {
            case JsonDiff::Kind::Added:
                sign = QStringLiteral("+");
                colour = added;
                value = newText;
                break;
            case JsonDiff::Kind::Removed:
                sign = QStringLiteral("\u2212");
                colour = removedColor;
                value = QStringLiteral("<s>") + oldText + QStringLiteral("</s>");
                break;
            case JsonDiff::Kind::Changed:
                sign = QStringLiteral("~");
                colour = changed;
                value = oldText + QStringLiteral(" &rarr; <b>") + newText + QStringLiteral("</b>");
                break;
            }
            html += QStringLiteral("<tr><td style='color:%1'><b>%2</b></td>"
                                   "<td style='color:%1'>%3&nbsp;&nbsp;</td><td>%4</td></tr>")
                        .arg(colour, sign, change.pointer.toHtmlEscaped(), value);
        }
        html += QStringLiteral("</table>");
    }
    diff->setHtml(html);
}

void LiveViewWidget::Private::markRemoved(const QString &why)
{
    if (removed)
        return;
    removed = true;
    banner->setText(why);
    banner->show();
    q->updateCounters();
    Q_EMIT q->streamRemoved();
}

void LiveViewWidget::Private::applyBannerPalette()
{
    // A tinted strip that reads on light and dark palettes alike: the text keeps the palette's
    // own colour and only the background and border carry the warning hue.
    banner->setStyleSheet(QStringLiteral(
        "QLabel#streamRemovedBanner { background-color: rgba(207, 34, 46, 0.16);"
        " border: 1px solid rgba(207, 34, 46, 0.55); border-radius: 3px; margin: 0 4px; }"));
}

void LiveViewWidget::Private::copySelection()
{
    QStringList lines;
    const QModelIndexList selected = table->selectionModel()->selectedRows();
    for (const QModelIndex &index : selected) {
        const int row = proxy->mapToSource(index).row();
        if (row >= 0)
            lines.append(QString::fromUtf8(model->messageAt(row).data));
    }
    if (!lines.isEmpty())
        QApplication::clipboard()->setText(lines.join(u'\n'));
}

std::optional<QString> LiveViewWidget::Private::pointerAt(const QPoint &viewportPos) const
{
    const QString text = detail->toPlainText();
    if (text.isEmpty())
        return std::nullopt;
    const QByteArray json = text.toUtf8();
    const auto at = [&](int position) {
        return rawjson::pointerAt(json, text.left(position).toUtf8().size());
    };
    const QTextCursor cursor = detail->cursorForPosition(viewportPos);
    if (auto tokens = at(cursor.position()))
        return jsonpointer::format(*tokens);
    // Right of a line's end or in its indentation: the member that line starts.
    const QString line = cursor.block().text();
    qsizetype first = 0;
    while (first < line.size() && line.at(first).isSpace())
        ++first;
    if (first < line.size()) {
        if (auto tokens = at(cursor.block().position() + int(first)))
            return jsonpointer::format(*tokens);
    }
    return std::nullopt;
}

void LiveViewWidget::Private::showDetailMenu(const QPoint &viewportPos)
{
    QMenu *menu = detail->createStandardContextMenu(viewportPos);
    menu->setObjectName(QStringLiteral("detailContextMenu"));
    menu->setAttribute(Qt::WA_DeleteOnClose);
    const std::optional<QString> pointer = pointerAt(viewportPos);
    auto *chartThis = new QAction(menu);
    chartThis->setObjectName(QStringLiteral("chartThisFieldAction"));
    if (pointer) {
        chartThis->setText(tr("Chart This Field (%1)").arg(*pointer));
        QObject::connect(chartThis, &QAction::triggered, q, [this, pointer = *pointer] {
            fieldChartAction->setChecked(true);
            fieldChart->addField(pointer);
        });
    } else {
        chartThis->setText(tr("Chart This Field"));
        chartThis->setEnabled(false);
        chartThis->setToolTip(tr("Right-click a member or value of the message"));
    }
    QAction *firstStandard = menu->actions().value(0);
    menu->insertAction(firstStandard, chartThis);
    menu->insertSeparator(firstStandard);
    menu->popup(detail->viewport()->mapToGlobal(viewportPos));
}

namespace {
QString clockTime(const QDateTime &time)
{
    return time.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
}
} // namespace

void LiveViewWidget::Private::onInterrupted(const ApiError &reason)
{
    // A reconnecting feed reports each failed attempt; they are all the same gap.
    if (gaps.isEmpty() || gaps.back().resumed.isValid())
        gaps.append({QDateTime::currentDateTime(), {}, reason.message()});
    else
        gaps.back().reason = reason.message();
    showGaps();
    updateSubscriptionState();
}

void LiveViewWidget::Private::onResumed(const QDateTime &interruptedAt, const QDateTime &resumedAt)
{
    if (gaps.isEmpty() || gaps.back().resumed.isValid())
        gaps.append({interruptedAt, resumedAt, QString()});
    else {
        // The subscription's own times are the authority on the gap's span.
        gaps.back().lost = interruptedAt;
        gaps.back().resumed = resumedAt;
    }
    showGaps();
    updateSubscriptionState();
}

void LiveViewWidget::Private::showGaps()
{
    if (gaps.isEmpty())
        return;
    const Gap &last = gaps.back();
    QString text = last.resumed.isValid()
        ? tr("Connection lost %1 — resumed %2: messages published in between were not "
             "received.")
              .arg(clockTime(last.lost), clockTime(last.resumed))
        : tr("Connection lost %1 — reconnecting…%2")
              .arg(clockTime(last.lost),
                  last.reason.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(last.reason));
    if (gaps.size() > 1)
        text = tr("%1 gaps so far; the latest: %2").arg(gaps.size()).arg(text);
    liveBanner->showMessage(PageBanner::Kind::Warning, text);
    QStringList all;
    for (const Gap &gap : gaps)
        all.append(gap.resumed.isValid()
                ? tr("lost %1, resumed %2").arg(clockTime(gap.lost), clockTime(gap.resumed))
                : tr("lost %1, not back yet").arg(clockTime(gap.lost)));
    liveBanner->setToolTip(all.join(u'\n'));
}

void LiveViewWidget::Private::updateSubscriptionState()
{
    QString text;
    if (!liveUnavailable.isEmpty()) {
        text = tr("○ no live feed");
    } else if (!subscription) {
        text = QString();
    } else {
        switch (subscription->state()) {
        case LiveSubscription::State::Subscribing:
            text = !gaps.isEmpty() && !gaps.back().resumed.isValid()
                ? tr("◌ reconnecting since %1").arg(clockTime(gaps.back().lost))
                : tr("◌ subscribing…");
            break;
        case LiveSubscription::State::Active: text = tr("● live"); break;
        case LiveSubscription::State::Ended: text = tr("○ ended"); break;
        }
    }
    subscriptionState->setText(text);
    subscriptionState->setToolTip(
        tr("The live feed's state: messages arrive only while it is "
           "live; a reconnecting feed misses what is published meanwhile"));
}

LiveViewWidget::LiveViewWidget(Backend &backend, ConsoleSettings &settings, QWidget *parent)
    : QWidget(parent), d(std::make_unique<Private>(this, backend, settings))
{
    d->model = new LiveMessageModel(settings.liveViewCapacity(), this);
    d->proxy = new LiveMessageFilterProxy(this);
    d->proxy->setSourceModel(d->model);
    d->buildUi();
    d->fieldChart->setModel(d->model);
    d->connectModel();

    // The subscription says when its stream goes; the backend's broadcast covers backends whose
    // subscriptions learn it late (or not at all, e.g. a remote feed that is reconnecting).
    connect(&backend, &Backend::streamRemoved, this,
        [this](const QString &serviceSid, const QString &streamSid) {
            if (d->subscription && serviceSid == d->serviceSid && streamSid == d->streamSid)
                d->markRemoved(tr("This stream was removed (deleted or expired). No more messages "
                                  "will arrive; the ones below stay until you clear them."));
        });
    updateCounters();
}

LiveViewWidget::~LiveViewWidget()
{
    // Order matters. The feed stops first; then the view goes before the models, because the
    // proxy resets when its source is deleted and the view's and models' slots here capture d,
    // which is gone by the time QObject deletes the children.
    d->subscription.reset();
    disconnect(d->model, nullptr, this, nullptr);
    disconnect(d->proxy, nullptr, this, nullptr);
    disconnect(d->table->selectionModel(), nullptr, this, nullptr);
    delete d->table;
    d->table = nullptr;
}

void LiveViewWidget::setStream(const QString &serviceSid, const QString &streamSid)
{
    // Unsubscribe first: the old feed must not deliver into the new stream's view.
    d->subscription.reset();
    d->serviceSid = serviceSid;
    d->streamSid = streamSid;
    d->removed = false;
    d->banner->hide();
    d->model->clear();
    d->chart->clear();
    d->fieldChart->clear();
    d->detail->clear();
    d->diff->clear();
    d->shownSequence.reset();
    d->status->clear();

    d->restoringFields = true;
    for (const QString &pointer : d->fieldChart->fields())
        d->fieldChart->removeField(pointer);
    for (const QString &pointer : d->settings.chartFields(streamSid))
        d->fieldChart->addField(pointer);
    d->restoringFields = false;

    d->liveBanner->clear();
    d->gaps.clear();
    d->replayPanel->setStream(serviceSid, streamSid);

    // A connection that cannot carry a live feed (an Auth Token, say) says so where the messages
    // would be, instead of leaving an empty table to wonder about.
    const auto *remote = qobject_cast<const RemoteBackend *>(&d->backend);
    d->liveUnavailable = remote ? remote->liveUnavailableReason() : QString();
    if (!d->liveUnavailable.isEmpty()) {
        d->liveBanner->showMessage(PageBanner::Kind::Info,
            tr("No live messages on this connection: %1 Publishing and the stream's properties "
               "work as usual.")
                .arg(d->liveUnavailable));
        d->updateSubscriptionState();
        updateCounters();
        return;
    }

    d->subscription = d->backend.subscribe(serviceSid, streamSid);
    LiveSubscription *subscription = d->subscription.get();
    connect(subscription, &LiveSubscription::stateChanged, this,
        [this] { d->updateSubscriptionState(); });
    connect(subscription, &LiveSubscription::interrupted, this,
        [this](const ApiError &reason) { d->onInterrupted(reason); });
    connect(subscription, &LiveSubscription::resumed, this,
        [this](const QDateTime &lost, const QDateTime &back) { d->onResumed(lost, back); });
    connect(subscription, &LiveSubscription::messagesReceived, d->model,
        &LiveMessageModel::appendMessages);
    connect(subscription, &LiveSubscription::streamRemoved, this, [this] {
        d->markRemoved(tr("This stream was removed (deleted or expired). No more messages will "
                          "arrive; the ones below stay until you clear them."));
    });
    connect(subscription, &LiveSubscription::failed, this, [this](const ApiError &error) {
        d->liveBanner->showMessage(PageBanner::Kind::Error,
            tr("The live feed stopped: %1").arg(PageBanner::errorText(error)));
        d->updateSubscriptionState();
        Q_EMIT subscriptionFailed(error);
    });
    d->updateSubscriptionState();
    updateCounters();
}

LiveMessageModel *LiveViewWidget::model() const
{
    return d->model;
}

LiveMessageFilterProxy *LiveViewWidget::proxy() const
{
    return d->proxy;
}

QTableView *LiveViewWidget::tableView() const
{
    return d->table;
}

LiveSubscription *LiveViewWidget::subscription() const
{
    return d->subscription.get();
}

FieldChartWidget *LiveViewWidget::fieldChart() const
{
    return d->fieldChart;
}

bool LiveViewWidget::isStreamRemoved() const
{
    return d->removed;
}

QString LiveViewWidget::countersText() const
{
    return d->counters->text();
}

PageBanner *LiveViewWidget::liveBanner() const
{
    return d->liveBanner;
}

QString LiveViewWidget::subscriptionStateText() const
{
    return d->subscriptionState->text();
}

int LiveViewWidget::gapCount() const
{
    return int(d->gaps.size());
}

void LiveViewWidget::updateCounters()
{
    d->countersDirty = false;
    const QLocale locale;
    const LiveMessageModel &m = *d->model;
    QStringList parts;
    parts.append(tr("received %1").arg(locale.toString(m.totalReceived())));
    if (d->proxy->mode() == LiveMessageFilterProxy::Mode::None
        || d->proxy->mode() == LiveMessageFilterProxy::Mode::Invalid)
        parts.append(tr("shown %1").arg(locale.toString(m.rowCount())));
    else
        parts.append(
            tr("shown %1 of %2")
                .arg(locale.toString(d->proxy->rowCount()), locale.toString(m.rowCount())));
    parts.append(tr("dropped %1").arg(locale.toString(m.droppedCount())));
    if (m.droppedUpstreamCount() > 0)
        parts.append(tr("lost upstream %1").arg(locale.toString(m.droppedUpstreamCount())));
    parts.append(tr("%1 msg/s").arg(locale.toString(m.messageRate(), 'f', 0)));
    if (m.isPaused())
        parts.append(tr("paused, %1 waiting").arg(locale.toString(m.pendingCount())));
    d->counters->setText(parts.join(QStringLiteral(" \u00b7 ")));
    d->counters->setToolTip(
        tr("received: messages that reached this view since it was opened or cleared\n"
           "shown: rows in the table (after the filter, of those kept)\n"
           "dropped: received but no longer kept, because the buffer holds %1 messages\n"
           "lost upstream: never received, lost on the way (slow consumer, reconnects)")
            .arg(locale.toString(m.capacity())));
}

QFuture<NdjsonExport::Result> LiveViewWidget::exportShown(const QString &path)
{
    // The snapshot is taken here, on the GUI thread, because the rows keep changing; it copies
    // only implicitly shared handles. Formatting and writing happen on the worker.
    QList<NdjsonExport::Record> records;
    const int count = d->proxy->rowCount();
    records.reserve(count);
    for (int row = 0; row < count; ++row) {
        const int source = d->proxy->mapToSource(d->proxy->index(row, 0)).row();
        const LiveMessageModel::Message &message = d->model->messageAt(source);
        records.append({message.sid, message.receivedMs, message.data});
    }
    d->status->setText(tr("Exporting %1…").arg(countOf(count, tr("message"), tr("messages"))));
    QFuture<NdjsonExport::Result> future = NdjsonExport::write(path, std::move(records));
    // A newer export takes over the bar; an older one still finishes writing its file.
    d->exportPath = path;
    d->exportBar->setRange(0, count);
    d->exportBar->setValue(0);
    d->exportProgress->setVisible(count > kExportProgressThreshold);
    d->exportWatcher.setFuture(future);
    return future;
}

QProgressBar *LiveViewWidget::exportProgressBar() const
{
    return d->exportBar;
}

QToolButton *LiveViewWidget::exportCancelButton() const
{
    return d->exportCancel;
}

ReplayPanel *LiveViewWidget::replayPanel() const
{
    return d->replayPanel;
}

void LiveViewWidget::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        d->highlighter->setPalette(d->detail->palette());
        if (d->shownSequence) {
            const int row = d->model->rowOfSequence(*d->shownSequence);
            if (row >= 0)
                d->showDiff(row);
        }
    }
}

} // namespace streams
