#include "ui/liveview/fieldchartwidget.h"

#include "ui/liveview/chartpalette.h"
#include "ui/liveview/livemessagemodel.h"

#include <QAction>
#include <QChart>
#include <QChartView>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLineEdit>
#include <QLineSeries>
#include <QLocale>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>
#include <QValueAxis>
#include <algorithm>

namespace streams {

namespace {
// Tableau 10's first eight: told apart on light and dark backgrounds and by most colour-blind
// readers; one per field (FieldChartData::kMaxFields).
constexpr QRgb kColours[] = {
    0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948, 0xb07aa1, 0xff9da7};
static_assert(std::size(kColours) >= size_t(FieldChartData::kMaxFields));

// An empty chart still shows the last minute, so its axes read as time from the start.
constexpr qint64 kEmptySpanMs = 60'000;
} // namespace

FieldChartWidget::FieldChartWidget(QWidget *parent) : QWidget(parent)
{
    QStyle *style = this->style();
    m_pointerEdit = new QLineEdit(this);
    m_pointerEdit->setObjectName(QStringLiteral("fieldPointerEdit"));
    m_pointerEdit->setClearButtonEnabled(true);
    m_pointerEdit->setPlaceholderText(tr("Chart a field: /json/pointer, then Enter"));
    m_pointerEdit->setToolTip(
        tr("<p>A JSON Pointer to a value in the messages, such as <code>/sensor/temp</code> or "
           "<code>/readings/0</code>. Numbers are plotted; other values are counted. "
           "Escape '~' as <code>~0</code> and '/' as <code>~1</code>.</p>"
           "<p>Or right-click a value in the Message pane and choose Chart This Field.</p>"));
    m_errorAction = m_pointerEdit->addAction(
        style->standardIcon(QStyle::SP_MessageBoxWarning), QLineEdit::TrailingPosition);
    m_errorAction->setVisible(false);

    auto *addButton = new QToolButton(this);
    addButton->setObjectName(QStringLiteral("addFieldButton"));
    addButton->setText(tr("Add"));
    addButton->setToolTip(tr("Chart the field typed at the left"));

    m_pauseButton = new QToolButton(this);
    m_pauseButton->setObjectName(QStringLiteral("pauseChartButton"));
    m_pauseButton->setCheckable(true);
    m_pauseButton->setText(tr("Pause"));
    m_pauseButton->setIcon(style->standardIcon(QStyle::SP_MediaPause));
    m_pauseButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_pauseButton->setToolTip(tr("Freeze the chart to read it. Values keep being collected and "
                                 "counted, and appear on resume."));

    m_resetZoomButton = new QToolButton(this);
    m_resetZoomButton->setObjectName(QStringLiteral("resetZoomButton"));
    m_resetZoomButton->setText(tr("Reset Zoom"));
    m_resetZoomButton->setToolTip(tr("Show all the data again and follow new values. Drag "
                                     "across the chart to zoom into a time span."));
    m_resetZoomButton->setEnabled(false);

    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("fieldErrorLabel"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->hide();

    auto *chart = new QChart;
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setBackgroundRoundness(0);
    chart->legend()->setAlignment(Qt::AlignBottom);
    m_axisX = new QDateTimeAxis;
    m_axisX->setFormat(QStringLiteral("HH:mm:ss"));
    m_axisX->setTickCount(5);
    m_axisY = new QValueAxis;
    // Three labels: with more, a chart the height of a dock pane elides them to "…".
    m_axisY->setTickCount(3);
    m_axisY->setLabelFormat(QStringLiteral("%.4g"));
    chart->addAxis(m_axisX, Qt::AlignBottom);
    chart->addAxis(m_axisY, Qt::AlignLeft);
    m_view = new QChartView(this);
    m_view->setObjectName(QStringLiteral("fieldChartView"));
    // QChartView(QWidget *) made a default chart, and setChart() hands it back to us instead of
    // deleting it (see MessageRateChart).
    QChart *placeholder = m_view->chart();
    m_view->setChart(chart);
    delete placeholder;
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setRubberBand(QChartView::HorizontalRubberBand);
    m_view->setMinimumHeight(180);

    auto *rows = new QWidget(this);
    m_rowsLayout = new QVBoxLayout(rows);
    m_rowsLayout->setContentsMargins(4, 0, 4, 0);
    m_rowsLayout->setSpacing(2);

    auto *top = new QHBoxLayout;
    top->setContentsMargins(4, 0, 4, 0);
    top->addWidget(m_pointerEdit, 1);
    top->addWidget(addButton);
    top->addSpacing(8);
    top->addWidget(m_pauseButton);
    top->addWidget(m_resetZoomButton);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(top);
    layout->addWidget(m_error);
    layout->addWidget(m_view, 1);
    layout->addWidget(rows);

    connect(m_pointerEdit, &QLineEdit::returnPressed, this, &FieldChartWidget::addFromEdit);
    connect(addButton, &QToolButton::clicked, this, &FieldChartWidget::addFromEdit);
    connect(m_pointerEdit, &QLineEdit::textEdited, this, [this] { showError(QString()); });
    connect(m_pauseButton, &QToolButton::toggled, this, &FieldChartWidget::setPaused);
    connect(m_resetZoomButton, &QToolButton::clicked, this, &FieldChartWidget::resetZoom);
    // A rubber band zooms through the axes' ranges; the button follows.
    connect(m_axisX, &QDateTimeAxis::rangeChanged, this,
        [this] { m_resetZoomButton->setEnabled(isZoomed()); });

    m_repaintTimer.setInterval(kRepaintIntervalMs);
    connect(&m_repaintTimer, &QTimer::timeout, this, &FieldChartWidget::refreshIfChanged);
    m_repaintTimer.start();
    applyPalette();
    redraw();
}

FieldChartWidget::~FieldChartWidget() = default;

void FieldChartWidget::setModel(LiveMessageModel *model)
{
    connect(model, &LiveMessageModel::flushed, this, [this, model](int inserted, int) {
        if (m_data.fieldCount() == 0)
            return;
        // A flush appends its rows at the end, after evicting old ones from the front.
        const int rows = model->rowCount();
        for (int row = std::max(0, rows - inserted); row < rows; ++row) {
            const LiveMessageModel::Message &message = model->messageAt(row);
            m_data.addMessage(message.receivedMs, message.data);
        }
    });
}

bool FieldChartWidget::addField(const QString &pointer)
{
    const auto added = m_data.addField(pointer);
    if (!added) {
        showError(added.error());
        return false;
    }
    showError(QString());

    Row row;
    row.colour = nextColour();
    row.series = new QLineSeries(this);
    row.series->setName(pointer);
    QPen pen(row.colour);
    pen.setWidthF(1.5);
    row.series->setPen(pen);
    chart()->addSeries(row.series); // the chart takes ownership
    row.series->attachAxis(m_axisX);
    row.series->attachAxis(m_axisY);

    row.row = new QWidget(this);
    auto *line = new QHBoxLayout(row.row);
    line->setContentsMargins(0, 0, 0, 0);
    auto *swatch = new QLabel(row.row);
    swatch->setFixedSize(12, 12);
    swatch->setStyleSheet(
        QStringLiteral("background-color: %1; border-radius: 2px;").arg(row.colour.name()));
    auto *name = new QLabel(pointer, row.row);
    name->setTextInteractionFlags(Qt::TextSelectableByMouse);
    row.summary = new QLabel(row.row);
    row.summary->setObjectName(QStringLiteral("fieldSummaryLabel"));
    row.summary->setToolTip(
        tr("plotted: numbers found at this pointer (the chart keeps each span's lowest and "
           "highest, so long runs stay light to draw)\n"
           "not numeric: strings, booleans, null, objects and arrays found there\n"
           "missing: messages without this field"));
    auto *remove = new QToolButton(row.row);
    remove->setObjectName(QStringLiteral("removeFieldButton"));
    remove->setProperty("pointer", pointer);
    remove->setIcon(style()->standardIcon(QStyle::SP_DialogCloseButton));
    remove->setAutoRaise(true);
    remove->setToolTip(tr("Stop charting %1").arg(pointer));
    connect(remove, &QToolButton::clicked, this, [this, pointer] { removeField(pointer); });
    line->addWidget(swatch);
    line->addWidget(name);
    line->addSpacing(8);
    line->addWidget(row.summary, 1);
    line->addWidget(remove);
    m_rowsLayout->addWidget(row.row);
    m_rows.insert(pointer, row);

    // A new series is drawn at once, even while paused: the user just asked for it.
    redraw();
    Q_EMIT fieldsChanged(fields());
    return true;
}

void FieldChartWidget::removeField(const QString &pointer)
{
    if (!m_data.removeField(pointer))
        return;
    const Row row = m_rows.take(pointer);
    chart()->removeSeries(row.series);
    delete row.series;
    // Deferred: this may run from the row's own button.
    row.row->hide();
    row.row->deleteLater();
    redraw();
    Q_EMIT fieldsChanged(fields());
}

void FieldChartWidget::clear()
{
    m_data.clear();
    redraw();
}

void FieldChartWidget::setPaused(bool paused)
{
    if (paused == m_paused)
        return;
    m_paused = paused;
    {
        const QSignalBlocker blocker(m_pauseButton);
        m_pauseButton->setChecked(paused);
    }
    m_pauseButton->setText(paused ? tr("Resume") : tr("Pause"));
    m_pauseButton->setIcon(
        style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
    if (!paused)
        redraw();
}

bool FieldChartWidget::isZoomed() const
{
    return chart()->isZoomed();
}

void FieldChartWidget::resetZoom()
{
    chart()->zoomReset();
    redraw();
}

void FieldChartWidget::focusPointerEdit()
{
    m_pointerEdit->setFocus(Qt::OtherFocusReason);
    m_pointerEdit->selectAll();
}

void FieldChartWidget::refreshIfChanged()
{
    if (!m_paused && m_data.generation() != m_drawnGeneration)
        redraw();
}

QChart *FieldChartWidget::chart() const
{
    return m_view->chart();
}

QString FieldChartWidget::errorText() const
{
    return m_error->isHidden() ? QString() : m_error->text();
}

QString FieldChartWidget::summaryText(const QString &pointer) const
{
    const auto it = m_rows.constFind(pointer);
    return it == m_rows.constEnd() ? QString() : it->summary->text();
}

QLineSeries *FieldChartWidget::series(const QString &pointer) const
{
    return m_rows.value(pointer).series;
}

void FieldChartWidget::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange)
        applyPalette();
}

void FieldChartWidget::addFromEdit()
{
    const QString pointer = m_pointerEdit->text().trimmed();
    if (addField(pointer))
        m_pointerEdit->clear();
}

void FieldChartWidget::showError(const QString &error)
{
    m_error->setText(error.isEmpty() ? QString() : tr("Cannot chart this: %1").arg(error));
    m_error->setVisible(!error.isEmpty());
    m_errorAction->setVisible(!error.isEmpty());
    m_errorAction->setToolTip(m_error->text());
}

void FieldChartWidget::redraw()
{
    m_drawnGeneration = m_data.generation();
    const QLocale locale;
    qint64 first = 0;
    qint64 last = 0;
    std::optional<double> low;
    std::optional<double> high;
    for (int i = 0; i < m_data.fieldCount(); ++i) {
        const FieldChartData::Field &field = m_data.field(i);
        const FieldSeries &values = field.series;
        const Row &row = m_rows[field.pointer];
        // One replace() per series: one repaint, however many points changed.
        row.series->replace(values.points());
        QString summary = tr("%1 plotted · %2 not numeric")
                              .arg(locale.toString(values.numericCount()),
                                  locale.toString(values.notNumericCount()));
        if (values.missingCount() > 0)
            summary += tr(" · %1 missing").arg(locale.toString(values.missingCount()));
        row.summary->setText(summary);
        if (values.bucketCount() == 0)
            continue;
        first = first == 0 ? values.firstTimeMs() : std::min(first, values.firstTimeMs());
        last = std::max(last, values.lastTimeMs());
        low = low ? std::min(*low, *values.minimum()) : values.minimum();
        high = high ? std::max(*high, *values.maximum()) : values.maximum();
    }
    // A user who zoomed in is reading something: new data must not move it.
    if (isZoomed())
        return;
    if (!low) {
        last = QDateTime::currentMSecsSinceEpoch();
        first = last - kEmptySpanMs;
        low = 0;
        high = 1;
    }
    if (last - first < 1000)
        first = last - 1000; // a span of a second at least, so the labels do not collapse
    double margin = (*high - *low) * 0.05;
    if (margin == 0)
        margin = std::max(1.0, std::abs(*high) * 0.05);
    m_axisX->setRange(QDateTime::fromMSecsSinceEpoch(first), QDateTime::fromMSecsSinceEpoch(last));
    m_axisY->setRange(*low - margin, *high + margin);
}

void FieldChartWidget::applyPalette()
{
    chartpalette::apply(m_view, {m_axisX, m_axisY});
}

QColor FieldChartWidget::nextColour() const
{
    for (const QRgb rgb : kColours) {
        const QColor colour(rgb);
        if (std::none_of(m_rows.cbegin(), m_rows.cend(),
                [&](const Row &row) { return row.colour == colour; }))
            return colour;
    }
    return QColor(kColours[0]);
}

} // namespace streams
