#include "ui/liveview/messageratechart.h"

#include "ui/liveview/chartpalette.h"

#include <QAreaSeries>
#include <QChart>
#include <QEvent>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

namespace streams {

namespace {
// A y-axis top of 1, 2 or 5 × 10^n just above `value`, so the scale reads at a glance and does
// not jitter with every sample.
double niceCeiling(double value)
{
    if (value <= 10.0)
        return 10.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
    for (const double step : {1.0, 2.0, 5.0, 10.0}) {
        if (value <= step * magnitude)
            return step * magnitude;
    }
    return 10.0 * magnitude;
}

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}
} // namespace

MessageRateChart::MessageRateChart(QWidget *parent) : QChartView(parent)
{
    auto *chart = new QChart;
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->hide();
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setBackgroundRoundness(0);

    // QAreaSeries does not own its boundary series: parent them here or they leak.
    m_line = new QLineSeries(this);
    m_baseline = new QLineSeries(this);
    m_area = new QAreaSeries(m_line, m_baseline);
    m_area->setName(tr("messages/s"));
    chart->addSeries(m_area);

    m_axisX = new QValueAxis;
    m_axisX->setRange(-kSeconds, 0);
    m_axisX->setTickCount(4); // -60, -40, -20, 0: labels that fit a narrow dock
    m_axisX->setLabelFormat(QStringLiteral("%d s"));
    m_axisY = new QValueAxis;
    m_axisY->setRange(0, 10);
    m_axisY->setTickCount(3);
    m_axisY->setLabelFormat(QStringLiteral("%.0f"));
    m_axisY->setTitleText(tr("msg/s"));
    chart->addAxis(m_axisX, Qt::AlignBottom);
    chart->addAxis(m_axisY, Qt::AlignLeft);
    m_area->attachAxis(m_axisX);
    m_area->attachAxis(m_axisY);

    // QChartView(QWidget *) made a default chart, and setChart() hands it back to us instead of
    // deleting it: delete it here or it leaks with its whole scene graph (found by LeakSanitizer).
    QChart *placeholder = this->chart();
    setChart(chart);
    delete placeholder;
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(110);
    setToolTip(tr("Messages received per second, last %1 seconds").arg(kSeconds));
    applyPalette();
    updateSeries();
}

MessageRateChart::~MessageRateChart() = default;

QSize MessageRateChart::sizeHint() const
{
    return {360, 150};
}

void MessageRateChart::addSample(double messagesPerSecond)
{
    m_samples.append(std::max(0.0, messagesPerSecond));
    if (m_samples.size() > kSeconds + 1)
        m_samples.remove(0, m_samples.size() - (kSeconds + 1));
    updateSeries();
}

void MessageRateChart::clear()
{
    m_samples.clear();
    updateSeries();
}

void MessageRateChart::updateSeries()
{
    // x is "seconds ago" (0 = the newest sample), so the axis never has to move.
    QList<QPointF> points;
    QList<QPointF> base;
    points.reserve(m_samples.size());
    base.reserve(m_samples.size());
    const qsizetype n = m_samples.size();
    double peak = 0.0;
    for (qsizetype i = 0; i < n; ++i) {
        const double x = double(i - (n - 1));
        points.append({x, m_samples.at(i)});
        base.append({x, 0.0});
        peak = std::max(peak, m_samples.at(i));
    }
    m_line->replace(points);
    m_baseline->replace(base);
    m_axisY->setRange(0, niceCeiling(peak * 1.1));
}

void MessageRateChart::changeEvent(QEvent *event)
{
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange)
        applyPalette();
}

void MessageRateChart::applyPalette()
{
    chartpalette::apply(this, {m_axisX, m_axisY});
    const QPalette pal = palette();
    // The highlight colour is the system's accent; lighten it on dark backgrounds for contrast.
    QColor accent = pal.color(QPalette::Highlight);
    if (isDark(pal))
        accent = accent.lighter(130);
    QPen pen(accent);
    pen.setWidthF(1.5);
    m_area->setPen(pen);
    QColor fill = accent;
    fill.setAlphaF(0.25);
    m_area->setBrush(fill);
}

} // namespace streams
