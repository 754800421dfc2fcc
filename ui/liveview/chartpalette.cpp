#include "ui/liveview/chartpalette.h"

#include <QAbstractAxis>
#include <QChart>
#include <QChartView>
#include <QLegend>

namespace streams::chartpalette {

void apply(QChartView *view, const QList<QAbstractAxis *> &axes)
{
    const QPalette pal = view->palette();
    QChart *chart = view->chart();
    // Blend into the surrounding widget instead of painting a theme's own card.
    chart->setBackgroundBrush(pal.brush(QPalette::Base));
    chart->setBackgroundPen(Qt::NoPen);
    chart->setPlotAreaBackgroundVisible(false);
    view->setBackgroundBrush(pal.brush(QPalette::Base));

    const QColor text = pal.color(QPalette::Text);
    chart->legend()->setLabelColor(text);
    QColor grid = text;
    grid.setAlphaF(0.15);
    QFont font = view->font();
    font.setPointSizeF(font.pointSizeF() * 0.85);
    for (QAbstractAxis *axis : axes) {
        axis->setLabelsColor(text);
        axis->setTitleBrush(text);
        axis->setLinePenColor(grid);
        axis->setGridLineColor(grid);
        axis->setMinorGridLineVisible(false);
        axis->setLabelsFont(font);
        axis->setTitleFont(font);
    }
}

} // namespace streams::chartpalette
