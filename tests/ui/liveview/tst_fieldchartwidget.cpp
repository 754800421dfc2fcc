// The live view's field chart against a real embedded engine (LocalBackend): fields typed (and
// refused with a reason), picked from the message's JSON by its context menu, several series
// with a legend, pause, zoom and removal, as a user drives them.

#include "live/livesubscription.h"
#include "livestreamengine.h"
#include "ui/common/consolesettings.h"
#include "ui/liveview/fieldchartwidget.h"
#include "ui/liveview/livemessagemodel.h"
#include "ui/liveview/liveviewwidget.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QDateTimeAxis>
#include <QLegend>
#include <QLegendMarker>
#include <QLineEdit>
#include <QLineSeries>
#include <QMenu>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QValueAxis>

using namespace streams;
using namespace Qt::StringLiterals;

namespace {

QStringList legendLabels(const QChart *chart)
{
    QStringList labels;
    for (const QLegendMarker *marker : chart->legend()->markers())
        labels.append(marker->label());
    return labels;
}

} // namespace

class TestFieldChartWidget final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void typingAddsAFieldAndRefusesAnInvalidOne();
    void contextMenuChartsTheFieldUnderTheCursor();
    void severalSeriesShareOneChartWithALegend();
    void pauseFreezesTheDrawingButKeepsCounting();
    void zoomHoldsItsSpanWhileDataArrive();
    void removeButtonDropsTheSeries();
    void fieldsAreRememberedPerStream();

private:
    /// Publishes {"n":first..first+count-1,"parity":"odd"|"even","user":{"id":n%5}} and waits for
    /// every 201.
    void publish(int first, int count);
    FieldChartWidget *chart() const { return m_widget->fieldChart(); }

    QTemporaryDir m_dir;
    testing::LiveStreamEngine m_engine;
    std::unique_ptr<ConsoleSettings> m_settings;
    std::unique_ptr<LiveViewWidget> m_widget;
};

void TestFieldChartWidget::init()
{
    QVERIFY(m_dir.isValid());
    const QString name = QString::fromLatin1(QTest::currentTestFunction());
    const QString error = m_engine.start(m_dir.filePath(name), u"charted"_s);
    QVERIFY2(error.isEmpty(), qPrintable(error));

    m_settings = std::make_unique<ConsoleSettings>(m_dir.filePath(name + u".ini"_s));
    m_widget = std::make_unique<LiveViewWidget>(*m_engine.backend, *m_settings);
    new QAbstractItemModelTester(
        m_widget->model(), QAbstractItemModelTester::FailureReportingMode::Fatal, m_widget.get());
    m_widget->resize(1000, 900);
    m_widget->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_widget.get()));
    m_widget->setStream(m_engine.serviceSid, m_engine.streamSid);
    QTRY_COMPARE(m_widget->subscription()->state(), LiveSubscription::State::Active);
}

void TestFieldChartWidget::cleanup()
{
    m_widget.reset();
    m_settings.reset();
    m_engine.backend.reset();
}

void TestFieldChartWidget::publish(int first, int count)
{
    const QString error = m_engine.publishNumbered(first, count);
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

void TestFieldChartWidget::typingAddsAFieldAndRefusesAnInvalidOne()
{
    QVERIFY(chart()->isHidden());
    auto *toggle = m_widget->findChild<QAction *>(u"fieldChartAction"_s);
    QVERIFY(toggle);
    toggle->trigger();
    QVERIFY(chart()->isVisible());
    QLineEdit *edit = chart()->pointerEdit();
    QTRY_VERIFY(edit->hasFocus());

    QTest::keyClicks(edit, u"n"_s);
    QTest::keyClick(edit, Qt::Key_Return);
    QVERIFY2(chart()->errorText().contains(u"starts with '/'"_s), qPrintable(chart()->errorText()));
    QVERIFY(chart()->fields().isEmpty());
    QCOMPARE(edit->text(), u"n"_s); // kept, to be corrected

    edit->clear();
    QTest::keyClicks(edit, u"/a~2"_s);
    QVERIFY(chart()->errorText().isEmpty()); // editing clears the old complaint
    QTest::keyClick(edit, Qt::Key_Return);
    QVERIFY2(chart()->errorText().contains(u"'~' must be followed by 0 or 1"_s),
        qPrintable(chart()->errorText()));

    edit->clear();
    QTest::keyClicks(edit, u"/n"_s);
    QTest::keyClick(edit, Qt::Key_Return);
    QVERIFY(chart()->errorText().isEmpty());
    QCOMPARE(chart()->fields(), QStringList{u"/n"_s});
    QVERIFY(edit->text().isEmpty());
    QCOMPARE(legendLabels(chart()->chart()), QStringList{u"/n"_s});

    QTest::keyClicks(edit, u"/n"_s);
    QTest::keyClick(edit, Qt::Key_Return);
    QVERIFY(chart()->errorText().contains(u"charted already"_s));

    publish(0, 12);
    QTRY_COMPARE(chart()->series(u"/n"_s)->count(), 12);
    QTRY_COMPARE(chart()->summaryText(u"/n"_s), u"12 plotted · 0 not numeric"_s);
    QCOMPARE(chart()->series(u"/n"_s)->at(11).y(), 11.0);
}

void TestFieldChartWidget::contextMenuChartsTheFieldUnderTheCursor()
{
    publish(0, 3);
    QTRY_COMPARE(m_widget->model()->rowCount(), 3);
    QTableView *table = m_widget->tableView();
    table->setCurrentIndex(table->model()->index(1, 0));
    auto *detail = m_widget->findChild<QPlainTextEdit *>(u"detailView"_s);
    QTRY_VERIFY(detail->toPlainText().contains(u"\"user\""_s));

    // Right-click the nested "id" key as a user would, and pick the action from the menu.
    const auto rightClick = [&](const QString &mark, bool atLineStart) -> QAction * {
        const qsizetype at = detail->toPlainText().indexOf(mark);
        if (at < 0)
            return nullptr;
        QTextCursor cursor(detail->document());
        cursor.setPosition(int(at) + 1);
        QPoint pos = detail->cursorRect(cursor).center();
        if (atLineStart)
            pos.setX(2); // in the indentation
        Q_EMIT detail->customContextMenuRequested(pos);
        QMenu *menu = nullptr;
        if (!QTest::qWaitFor([&] {
                menu = qobject_cast<QMenu *>(QApplication::activePopupWidget());
                return menu != nullptr;
            }))
            return nullptr;
        return menu->findChild<QAction *>(u"chartThisFieldAction"_s);
    };
    QAction *action = rightClick(u"\"id\""_s, false);
    QVERIFY(action);
    QVERIFY(action->isEnabled());
    QCOMPARE(action->text(), u"Chart This Field (/user/id)"_s);
    action->trigger();
    QApplication::activePopupWidget()->close();
    QCOMPARE(chart()->fields(), QStringList{u"/user/id"_s});
    QVERIFY(chart()->isVisible());

    // Right of the indentation, the member the line starts is meant.
    action = rightClick(u"\"parity\""_s, true);
    QVERIFY(action);
    QCOMPARE(action->text(), u"Chart This Field (/parity)"_s);
    action->trigger();
    QApplication::activePopupWidget()->close();
    QCOMPARE(chart()->fields(), (QStringList{u"/user/id"_s, u"/parity"_s}));

    publish(3, 7);
    QTRY_COMPARE(chart()->data().field(0).series.numericCount(), 7u);
    QTRY_COMPARE(chart()->summaryText(u"/parity"_s), u"0 plotted · 7 not numeric"_s);
    QTRY_COMPARE(chart()->series(u"/user/id"_s)->count(), 7);
    QCOMPARE(chart()->series(u"/parity"_s)->count(), 0);
}

void TestFieldChartWidget::severalSeriesShareOneChartWithALegend()
{
    for (const QString &pointer : {u"/n"_s, u"/user/id"_s, u"/parity"_s, u"/absent"_s})
        QVERIFY(chart()->addField(pointer));
    QVERIFY(chart()->isVisible());
    QCOMPARE(legendLabels(chart()->chart()),
        (QStringList{u"/n"_s, u"/user/id"_s, u"/parity"_s, u"/absent"_s}));
    QCOMPARE(chart()->chart()->series().size(), 4);
    QVERIFY(chart()->series(u"/n"_s)->color() != chart()->series(u"/user/id"_s)->color());

    publish(0, 20);
    QTRY_COMPARE(chart()->summaryText(u"/n"_s), u"20 plotted · 0 not numeric"_s);
    QTRY_COMPARE(chart()->summaryText(u"/user/id"_s), u"20 plotted · 0 not numeric"_s);
    QTRY_COMPARE(chart()->summaryText(u"/parity"_s), u"0 plotted · 20 not numeric"_s);
    QTRY_COMPARE(chart()->summaryText(u"/absent"_s), u"0 plotted · 0 not numeric · 20 missing"_s);
    QCOMPARE(chart()->series(u"/n"_s)->count(), 20);
    // The axes follow the data while not zoomed.
    auto *axisY = qobject_cast<QValueAxis *>(chart()->chart()->axes(Qt::Vertical).value(0));
    QVERIFY(axisY);
    QVERIFY(axisY->min() <= 0 && axisY->max() >= 19);
}

void TestFieldChartWidget::pauseFreezesTheDrawingButKeepsCounting()
{
    QVERIFY(chart()->addField(u"/n"_s));
    publish(0, 5);
    QTRY_COMPARE(chart()->series(u"/n"_s)->count(), 5);

    auto *pause = chart()->findChild<QToolButton *>(u"pauseChartButton"_s);
    QTest::mouseClick(pause, Qt::LeftButton);
    QVERIFY(chart()->isPaused());
    QCOMPARE(pause->text(), u"Resume"_s);
    publish(5, 5);
    QTRY_COMPARE(chart()->data().field(0).series.numericCount(), 10u);
    chart()->refreshIfChanged(); // what the repaint timer does
    QCOMPARE(chart()->series(u"/n"_s)->count(), 5);
    QCOMPARE(chart()->summaryText(u"/n"_s), u"5 plotted · 0 not numeric"_s);

    QTest::mouseClick(pause, Qt::LeftButton);
    QVERIFY(!chart()->isPaused());
    QCOMPARE(chart()->series(u"/n"_s)->count(), 10);
    QCOMPARE(chart()->summaryText(u"/n"_s), u"10 plotted · 0 not numeric"_s);
}

void TestFieldChartWidget::zoomHoldsItsSpanWhileDataArrive()
{
    QVERIFY(chart()->addField(u"/n"_s));
    publish(0, 10);
    QTRY_COMPARE(chart()->series(u"/n"_s)->count(), 10);
    auto *reset = chart()->findChild<QToolButton *>(u"resetZoomButton"_s);
    QVERIFY(!reset->isEnabled());

    // What the horizontal rubber band does: zoom into the left half of the plot.
    QChart *c = chart()->chart();
    const QRectF plot = c->plotArea();
    c->zoomIn(QRectF(plot.left(), plot.top(), plot.width() / 2, plot.height()));
    QVERIFY(chart()->isZoomed());
    QVERIFY(reset->isEnabled());
    auto *axisX = qobject_cast<QDateTimeAxis *>(c->axes(Qt::Horizontal).value(0));
    auto *axisY = qobject_cast<QValueAxis *>(c->axes(Qt::Vertical).value(0));
    const QDateTime zoomedMin = axisX->min();
    const QDateTime zoomedMax = axisX->max();
    const double zoomedTop = axisY->max();

    publish(10, 90);
    QTRY_COMPARE(chart()->data().field(0).series.numericCount(), 100u);
    chart()->refreshIfChanged();
    QCOMPARE(chart()->series(u"/n"_s)->count(), 100); // drawn, but the view stays put
    QCOMPARE(axisX->min(), zoomedMin);
    QCOMPARE(axisX->max(), zoomedMax);
    QCOMPARE(axisY->max(), zoomedTop);

    QTest::mouseClick(reset, Qt::LeftButton);
    QVERIFY(!chart()->isZoomed());
    QVERIFY(!reset->isEnabled());
    QCOMPARE(axisX->max().toMSecsSinceEpoch(), chart()->data().field(0).series.lastTimeMs());
    QVERIFY(axisY->max() >= 99);
}

void TestFieldChartWidget::removeButtonDropsTheSeries()
{
    QVERIFY(chart()->addField(u"/n"_s));
    QVERIFY(chart()->addField(u"/user/id"_s));
    QSignalSpy changed(chart(), &FieldChartWidget::fieldsChanged);
    QToolButton *remove = nullptr;
    for (auto *button : chart()->findChildren<QToolButton *>(u"removeFieldButton"_s)) {
        if (button->property("pointer").toString() == u"/n")
            remove = button;
    }
    QVERIFY(remove);
    // The chart takes its share of the live view once it appears.
    QTRY_VERIFY(chart()->chartView()->height() >= 180);
    QTRY_VERIFY(remove->height() > 0);
    QTest::mouseClick(remove, Qt::LeftButton);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(chart()->fields(), QStringList{u"/user/id"_s});
    QCOMPARE(chart()->chart()->series().size(), 1);
    QCOMPARE(legendLabels(chart()->chart()), QStringList{u"/user/id"_s});
    QVERIFY(!chart()->series(u"/n"_s));

    publish(0, 4);
    QTRY_COMPARE(chart()->summaryText(u"/user/id"_s), u"4 plotted · 0 not numeric"_s);
    QCOMPARE(chart()->data().fieldCount(), 1);
}

void TestFieldChartWidget::fieldsAreRememberedPerStream()
{
    QVERIFY(chart()->addField(u"/n"_s));
    QVERIFY(chart()->addField(u"/user/id"_s));
    const QStringList both{u"/n"_s, u"/user/id"_s};
    QCOMPARE(m_settings->chartFields(m_engine.streamSid), both);

    const auto other =
        testing::await(m_engine.backend->createStream(m_engine.serviceSid, {u"other"_s, {}}));
    QVERIFY(other);
    m_widget->setStream(m_engine.serviceSid, other->sid);
    QVERIFY(chart()->fields().isEmpty());
    QCOMPARE(m_settings->chartFields(m_engine.streamSid), both); // switching forgets nothing
    QVERIFY(chart()->addField(u"/parity"_s));

    m_widget->setStream(m_engine.serviceSid, m_engine.streamSid);
    QCOMPARE(chart()->fields(), both);
    QVERIFY(chart()->isVisible());

    // A new live view (the console restarted) charts them too; removing the last forgets.
    m_widget = std::make_unique<LiveViewWidget>(*m_engine.backend, *m_settings);
    m_widget->setStream(m_engine.serviceSid, other->sid);
    QCOMPARE(chart()->fields(), QStringList{u"/parity"_s});
    chart()->removeField(u"/parity"_s);
    QVERIFY(m_settings->chartFields(other->sid).isEmpty());
    QCOMPARE(m_settings->chartFields(m_engine.streamSid), both);
}

QTEST_MAIN(TestFieldChartWidget)
#include "tst_fieldchartwidget.moc"
