#pragma once

#include "ui/liveview/fieldchartdata.h"

#include <QHash>
#include <QTimer>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QAction;
class QChart;
class QChartView;
class QDateTimeAxis;
class QLabel;
class QLineEdit;
class QLineSeries;
class QToolButton;
class QValueAxis;
class QVBoxLayout;
QT_END_NAMESPACE

namespace streams {

class LiveMessageModel;

/// The live view's field chart: the numbers at one or more JSON Pointers of a stream's
/// messages, over wall-clock time, one line and one colour per field, with a legend.
///
/// Fed from a LiveMessageModel's flushes (so it charts what the table receives, unfiltered, and
/// the view's own Pause holds it too), into a FieldChartData whose memory stays flat at any
/// rate. Drawing is separate from collecting: the chart repaints at most kRepaintIntervalMs
/// apart and only when something changed. Its own Pause freezes the drawing only — values keep
/// being collected and counted, and Resume draws them all.
///
/// Zoom: drag across the chart to zoom into a time span (right-click zooms out), Reset Zoom to
/// follow the data again. While zoomed, new data do not move the axes.
class FieldChartWidget final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FieldChartWidget)

public:
    static constexpr int kRepaintIntervalMs = 250;

    explicit FieldChartWidget(QWidget *parent = nullptr);
    ~FieldChartWidget() override;

    /// Charts the messages `model` inserts from now on.
    void setModel(LiveMessageModel *model);

    /// Adds a series for `pointer`; on failure the reason is shown at the pointer field and
    /// returned false.
    bool addField(const QString &pointer);
    void removeField(const QString &pointer);
    QStringList fields() const { return m_data.pointers(); }
    /// Forgets every value; the fields stay.
    void clear();

    bool isPaused() const { return m_paused; }
    void setPaused(bool paused);
    bool isZoomed() const;
    void resetZoom();
    /// Puts the cursor in the pointer field, to type one.
    void focusPointerEdit();

    /// Redraws now if anything changed since the last drawing and the chart is not paused (the
    /// repaint timer calls this).
    void refreshIfChanged();

    // For tests and benchmarks.
    const FieldChartData &data() const { return m_data; }
    QChart *chart() const;
    QChartView *chartView() const { return m_view; }
    QLineEdit *pointerEdit() const { return m_pointerEdit; }
    /// Why the last pointer typed was refused (empty once one is accepted or the text changes).
    QString errorText() const;
    /// The line under the chart for `pointer`: "1,234 plotted · 5 not numeric".
    QString summaryText(const QString &pointer) const;
    QLineSeries *series(const QString &pointer) const;

Q_SIGNALS:
    void fieldsChanged(const QStringList &pointers);

protected:
    void changeEvent(QEvent *event) override;

private:
    struct Row
    {
        QLineSeries *series = nullptr;
        QWidget *row = nullptr;
        QLabel *summary = nullptr;
        QColor colour;
    };

    void addFromEdit();
    void showError(const QString &error);
    void redraw();
    void applyPalette();
    QColor nextColour() const;

    FieldChartData m_data;
    QHash<QString, Row> m_rows; // by pointer
    bool m_paused = false;
    quint64 m_drawnGeneration = 0;
    QTimer m_repaintTimer;

    QLineEdit *m_pointerEdit = nullptr;
    QAction *m_errorAction = nullptr;
    QLabel *m_error = nullptr;
    QToolButton *m_pauseButton = nullptr;
    QToolButton *m_resetZoomButton = nullptr;
    QChartView *m_view = nullptr;
    QDateTimeAxis *m_axisX = nullptr;
    QValueAxis *m_axisY = nullptr;
    QVBoxLayout *m_rowsLayout = nullptr;
};

} // namespace streams
