#pragma once

#include <QList>

QT_BEGIN_NAMESPACE
class QAbstractAxis;
class QChartView;
QT_END_NAMESPACE

/// How the console's charts follow the application palette (light or dark), shared by the
/// messages/s chart and the field chart so they look like one family.
namespace streams::chartpalette {

/// Blends `view`'s chart into the surrounding widget (the palette's base colour, no card of the
/// chart theme's own) and gives `axes` the palette's text colour, faint grid lines and a slightly
/// smaller font. Call again on palette and style changes.
void apply(QChartView *view, const QList<QAbstractAxis *> &axes);

} // namespace streams::chartpalette
