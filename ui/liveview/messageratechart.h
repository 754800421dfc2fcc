#pragma once

#include <QChartView>
#include <QList>

QT_BEGIN_NAMESPACE
class QAreaSeries;
class QLineSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace streams {

/// Messages per second over the last minute, one sample per second, newest at the right.
///
/// Cheap to feed: the history is a fixed ring of kSeconds samples and each addSample() hands the
/// series one replace() (one repaint), never an append/remove pair; the chart has no
/// animations. Follows the application palette (light or dark).
class MessageRateChart final : public QChartView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MessageRateChart)

public:
    static constexpr int kSeconds = 60;

    explicit MessageRateChart(QWidget *parent = nullptr);
    ~MessageRateChart() override;

    void addSample(double messagesPerSecond);
    void clear();
    /// Oldest first, at most kSeconds + 1 of them.
    QList<double> samples() const { return m_samples; }

    QSize sizeHint() const override;

protected:
    void changeEvent(QEvent *event) override;

private:
    void applyPalette();
    void updateSeries();

    QList<double> m_samples;
    QLineSeries *m_line = nullptr;
    QLineSeries *m_baseline = nullptr;
    QAreaSeries *m_area = nullptr;
    QValueAxis *m_axisX = nullptr;
    QValueAxis *m_axisY = nullptr;
};

} // namespace streams
