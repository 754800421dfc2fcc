// The live view against a real embedded engine (LocalBackend): published messages appear, the
// toolbar works as a user drives it, a deleted stream raises the banner, export writes exactly
// the filtered rows as NDJSON.

#include "live/livesubscription.h"
#include "livestreamengine.h"
#include "palettes.h"
#include "ui/common/consolesettings.h"
#include "ui/liveview/livemessagefilterproxy.h"
#include "ui/liveview/livemessagemodel.h"
#include "ui/liveview/liveviewwidget.h"
#include "ui/liveview/messageratechart.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QFile>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextEdit>
#include <QToolButton>

using namespace streams;
using namespace Qt::StringLiterals;

using testing::await;
using testing::darkDesktopPalette;

class TestLiveViewWidget final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void publishedMessagesAppear();
    void autoScrollSurvivesAShorterView();
    void selectionShowsJsonAndDiff();
    void pauseFromTheToolbarLosesNothing();
    void filterTypedByTheUser();
    void exportWritesExactlyTheShownRows();
    void largeExportShowsProgressAndCancels();
    void capacitySpinBoxBoundsTheBuffer();
    void evictionKeepsTheReadersPlace();
    void clearEmptiesTheView();
    void deletedStreamRaisesTheBanner();
    void screenshot();

private:
    /// Publishes {"n":first..first+count-1, …} and waits for every 201.
    void publish(int first, int count);
    QAction *action(const char *name) const;
    template<typename T>
    T *child(const char *name) const
    {
        return m_widget->findChild<T *>(QLatin1StringView(name));
    }

    QTemporaryDir m_dir;
    testing::LiveStreamEngine m_engine;
    std::unique_ptr<ConsoleSettings> m_settings;
    std::unique_ptr<LiveViewWidget> m_widget;
};

void TestLiveViewWidget::init()
{
    QVERIFY(m_dir.isValid());
    const QString name = QString::fromLatin1(QTest::currentTestFunction());
    const QString error = m_engine.start(m_dir.filePath(name), u"watched"_s);
    QVERIFY2(error.isEmpty(), qPrintable(error));

    m_settings = std::make_unique<ConsoleSettings>(m_dir.filePath(name + u".ini"_s));
    m_widget = std::make_unique<LiveViewWidget>(*m_engine.backend, *m_settings);
    new QAbstractItemModelTester(
        m_widget->model(), QAbstractItemModelTester::FailureReportingMode::Fatal, m_widget.get());
    new QAbstractItemModelTester(
        m_widget->proxy(), QAbstractItemModelTester::FailureReportingMode::Fatal, m_widget.get());
    m_widget->resize(1000, 700);
    m_widget->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_widget.get()));
    m_widget->setStream(m_engine.serviceSid, m_engine.streamSid);
    QTRY_COMPARE(m_widget->subscription()->state(), LiveSubscription::State::Active);
}

void TestLiveViewWidget::cleanup()
{
    m_widget.reset();
    m_settings.reset();
    m_engine.backend.reset();
}

QAction *TestLiveViewWidget::action(const char *name) const
{
    return m_widget->findChild<QAction *>(QLatin1StringView(name));
}

void TestLiveViewWidget::publish(int first, int count)
{
    const QString error = m_engine.publishNumbered(first, count);
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

void TestLiveViewWidget::publishedMessagesAppear()
{
    QTableView *table = m_widget->tableView();
    QVERIFY(table);
    QCOMPARE(table->model(), m_widget->proxy());
    publish(0, 50);
    QTRY_COMPARE(m_widget->model()->rowCount(), 50);
    QCOMPARE(table->model()->rowCount(), 50);

    // In publish order, with their data.
    for (int row = 0; row < 50; ++row) {
        const auto message = m_widget->model()->messageAt(row);
        QCOMPARE(QJsonDocument::fromJson(message.data).object().value(u"n"_s).toInt(), row);
        QVERIFY(message.sid.startsWith(u"TZ"));
    }
    const QString preview =
        table->model()->index(49, LiveMessageModel::PreviewColumn).data().toString();
    QCOMPARE(preview, u"{\"n\":49,\"parity\":\"odd\",\"user\":{\"id\":4}}"_s);

    // Auto-scroll (on by default) follows to the last row.
    QTRY_VERIFY(table->verticalScrollBar()->value() == table->verticalScrollBar()->maximum());
    QTRY_VERIFY(
        table->viewport()->rect().intersects(table->visualRect(table->model()->index(49, 0))));

    m_widget->updateCounters();
    QVERIFY2(m_widget->countersText().startsWith(u"received 50 \u00b7 shown 50 \u00b7 dropped 0"),
        qPrintable(m_widget->countersText()));
}

void TestLiveViewWidget::autoScrollSurvivesAShorterView()
{
    QTableView *table = m_widget->tableView();
    QScrollBar *bar = table->verticalScrollBar();
    publish(0, 200);
    QTRY_COMPARE(m_widget->model()->rowCount(), 200);
    QTRY_VERIFY(bar->maximum() > 0 && bar->value() == bar->maximum());
    // Something takes room below (a dock opens): the view is shorter, and still follows.
    m_widget->resize(1000, 400);
    QTRY_VERIFY(bar->value() == bar->maximum());
    publish(200, 10);
    QTRY_COMPARE(m_widget->model()->rowCount(), 210);
    QTRY_VERIFY(bar->value() == bar->maximum());
    // A reader who scrolled up keeps their place through a resize.
    bar->setValue(bar->maximum() / 2);
    const int reading = bar->value();
    m_widget->resize(1000, 600);
    publish(210, 5);
    QTRY_COMPARE(m_widget->model()->rowCount(), 215);
    QVERIFY(bar->value() < bar->maximum());
    QVERIFY(qAbs(bar->value() - reading) <= 1);
}

void TestLiveViewWidget::selectionShowsJsonAndDiff()
{
    publish(0, 5);
    QTRY_COMPARE(m_widget->model()->rowCount(), 5);
    QTableView *table = m_widget->tableView();
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
        table->visualRect(table->model()->index(3, LiveMessageModel::SidColumn)).center());
    QCOMPARE(table->currentIndex().row(), 3);

    auto *detail = child<QPlainTextEdit>("detailView");
    QVERIFY(detail);
    QVERIFY2(detail->toPlainText().contains(u"\"n\": 3"), qPrintable(detail->toPlainText()));
    QVERIFY(detail->toPlainText().contains(u'\n')); // pretty, not compact

    auto *diff = child<QTextEdit>("diffView");
    QVERIFY(diff);
    const QString text = diff->toPlainText();
    QVERIFY2(text.contains(u"/n") && text.contains(u"/parity") && text.contains(u"/user/id"),
        qPrintable(text));
    QVERIFY(text.contains(m_widget->model()->messageAt(2).sid));

    // Keyboard navigation moves the detail along.
    QTest::keyClick(table, Qt::Key_Up);
    QVERIFY(detail->toPlainText().contains(u"\"n\": 2"));
    QTest::keyClick(table, Qt::Key_Home, Qt::ControlModifier);
    QVERIFY(detail->toPlainText().contains(u"\"n\": 0"));
    QVERIFY(diff->toPlainText().contains(u"No earlier message"));

    // The selection survives more traffic.
    publish(5, 20);
    QTRY_COMPARE(m_widget->model()->rowCount(), 25);
    QCOMPARE(table->selectionModel()->selectedRows().size(), 1);
    QCOMPARE(table->currentIndex().row(), 0);
}

void TestLiveViewWidget::pauseFromTheToolbarLosesNothing()
{
    QAction *pause = action("pauseAction");
    QVERIFY(pause);
    publish(0, 10);
    QTRY_COMPARE(m_widget->model()->rowCount(), 10);

    pause->trigger();
    QVERIFY(m_widget->model()->isPaused());
    QCOMPARE(pause->text(), u"Resume");
    publish(10, 40);
    QTRY_COMPARE(m_widget->model()->pendingCount(), 40);
    QCOMPARE(m_widget->model()->rowCount(), 10);
    m_widget->updateCounters();
    QVERIFY2(m_widget->countersText().contains(u"paused, 40 waiting"),
        qPrintable(m_widget->countersText()));

    pause->trigger();
    QVERIFY(!m_widget->model()->isPaused());
    QCOMPARE(m_widget->model()->rowCount(), 50);
    QCOMPARE(m_widget->model()->droppedCount(), 0u);
    for (int row = 0; row < 50; ++row) {
        QCOMPARE(QJsonDocument::fromJson(m_widget->model()->messageAt(row).data)
                     .object()
                     .value(u"n"_s)
                     .toInt(),
            row);
    }
}

void TestLiveViewWidget::filterTypedByTheUser()
{
    publish(0, 40);
    QTRY_COMPARE(m_widget->model()->rowCount(), 40);
    auto *filter = child<QLineEdit>("filterEdit");
    QVERIFY(filter);

    QTest::keyClicks(filter, u"/user/id=3"_s);
    QTRY_COMPARE(m_widget->proxy()->rowCount(), 8); // n % 5 == 3
    QCOMPARE(m_widget->proxy()->mode(), LiveMessageFilterProxy::Mode::PointerEquals);

    // Rows that arrive later go through the same filter.
    publish(40, 10);
    QTRY_COMPARE(m_widget->model()->rowCount(), 50);
    QCOMPARE(m_widget->proxy()->rowCount(), 10);
    m_widget->updateCounters();
    QVERIFY2(
        m_widget->countersText().contains(u"shown 10 of 50"), qPrintable(m_widget->countersText()));

    filter->clear();
    QTest::keyClicks(filter, u"ODD"_s);
    QTest::keyClick(filter, Qt::Key_Return); // applies at once, without the typing delay
    QCOMPARE(m_widget->proxy()->mode(), LiveMessageFilterProxy::Mode::Text);
    QCOMPARE(m_widget->proxy()->rowCount(), 25);

    filter->clear();
    QTest::keyClicks(filter, u"/user~9"_s);
    QTest::keyClick(filter, Qt::Key_Return);
    QCOMPARE(m_widget->proxy()->mode(), LiveMessageFilterProxy::Mode::Invalid);
    QCOMPARE(m_widget->proxy()->rowCount(), 50);
}

void TestLiveViewWidget::exportWritesExactlyTheShownRows()
{
    publish(0, 60);
    QTRY_COMPARE(m_widget->model()->rowCount(), 60);
    auto *filter = child<QLineEdit>("filterEdit");
    QTest::keyClicks(filter, u"/parity=even"_s);
    QTest::keyClick(filter, Qt::Key_Return);
    QCOMPARE(m_widget->proxy()->rowCount(), 30);

    // As a user would: Export NDJSON…, pick a file, accept. The dialog is not modal, so the
    // view keeps streaming meanwhile.
    const QString path = m_dir.filePath(u"shown.ndjson"_s);
    QSignalSpy finished(m_widget.get(), &LiveViewWidget::exportFinished);
    action("exportAction")->trigger();
    QTRY_VERIFY(m_widget->findChild<QFileDialog *>() != nullptr);
    auto *dialog = m_widget->findChild<QFileDialog *>();
    QCOMPARE(dialog->acceptMode(), QFileDialog::AcceptSave);
    dialog->selectFile(path);
    static_cast<QDialog *>(dialog)->accept(); // the Save button
    QVERIFY(finished.wait(10'000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QVERIFY(child<QLabel>("statusLabel")->text().contains(u"Exported 30 messages"));

    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QList<QByteArray> lines = file.readAll().split('\n');
    QVERIFY(lines.takeLast().isEmpty());
    QCOMPARE(lines.size(), 30);
    for (int i = 0; i < lines.size(); ++i) {
        QJsonParseError error;
        const QJsonObject object = QJsonDocument::fromJson(lines.at(i), &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
        const QModelIndex shown = m_widget->proxy()->index(i, LiveMessageModel::SidColumn);
        QCOMPARE(object.value(u"sid"_s).toString(), shown.data().toString());
        QCOMPARE(object.value(u"data"_s).toObject().value(u"n"_s).toInt(), 2 * i);
        QCOMPARE(object.value(u"data"_s).toObject().value(u"parity"_s).toString(), u"even");
        const QDateTime received =
            QDateTime::fromString(object.value(u"received"_s).toString(), Qt::ISODateWithMs);
        QCOMPARE(received, shown.data(LiveMessageModel::ReceivedRole).toDateTime());
    }
}

void TestLiveViewWidget::largeExportShowsProgressAndCancels()
{
    publish(0, 10'000); // the default capacity keeps all of them
    QTRY_COMPARE(m_widget->model()->rowCount(), 10'000);
    QProgressBar *bar = m_widget->exportProgressBar();
    QToolButton *cancel = m_widget->exportCancelButton();
    QVERIFY(bar && cancel);
    QVERIFY(!bar->isVisible());

    const QString path = m_dir.filePath(u"large.ndjson"_s);
    QSignalSpy finished(m_widget.get(), &LiveViewWidget::exportFinished);
    QFuture<NdjsonExport::Result> future = m_widget->exportShown(path);
    QVERIFY(bar->isVisible());
    QCOMPARE(bar->maximum(), 10'000);
    // At once, so the worker cannot get to the end first (it checks every kProgressStep
    // records and again before committing).
    QTest::mouseClick(cancel, Qt::LeftButton);
    QVERIFY(finished.wait(10'000));
    QCOMPARE(finished.at(0).at(0).toBool(), false);
    QVERIFY2(finished.at(0).at(1).toString().contains(u"cancelled"_s),
        qPrintable(finished.at(0).at(1).toString()));
    QVERIFY(future.isCanceled());
    QVERIFY(!QFile::exists(path));
    QVERIFY(!bar->isVisible());

    // Uncancelled, the bar reaches the end and the file is there.
    finished.clear();
    m_widget->exportShown(path);
    QVERIFY(finished.wait(10'000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QCOMPARE(bar->value(), 10'000);
    QVERIFY(QFile::exists(path));

    // A small export shows no bar.
    QTest::keyClicks(child<QLineEdit>("filterEdit"), u"/n=7"_s);
    QTest::keyClick(child<QLineEdit>("filterEdit"), Qt::Key_Return);
    QCOMPARE(m_widget->proxy()->rowCount(), 1);
    finished.clear();
    m_widget->exportShown(m_dir.filePath(u"one.ndjson"_s));
    QVERIFY(!bar->isVisible());
    QVERIFY(finished.wait(10'000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
}

void TestLiveViewWidget::capacitySpinBoxBoundsTheBuffer()
{
    auto *spin = child<QSpinBox>("capacitySpinBox");
    QVERIFY(spin);
    QCOMPARE(spin->value(), ConsoleSettings::kDefaultLiveViewCapacity);
    publish(0, 150);
    QTRY_COMPARE(m_widget->model()->rowCount(), 150);

    spin->selectAll();
    QTest::keyClicks(spin, u"100"_s);
    QCOMPARE(m_widget->model()->capacity(), ConsoleSettings::kDefaultLiveViewCapacity); // not yet
    QTest::keyClick(spin, Qt::Key_Return);
    QCOMPARE(m_widget->model()->capacity(), 100);
    QCOMPARE(m_settings->liveViewCapacity(), 100);
    QCOMPARE(m_widget->model()->rowCount(), 100);
    QCOMPARE(m_widget->model()->droppedCount(), 50u);
    QCOMPARE(QJsonDocument::fromJson(m_widget->model()->messageAt(0).data)
                 .object()
                 .value(u"n"_s)
                 .toInt(),
        50);

    publish(150, 30);
    QTRY_COMPARE(m_widget->model()->totalReceived(), 180u);
    QTRY_COMPARE(m_widget->model()->droppedCount(), 80u);
    QCOMPARE(m_widget->model()->rowCount(), 100);
}

void TestLiveViewWidget::evictionKeepsTheReadersPlace()
{
    m_settings->setLiveViewCapacity(100);
    QCOMPARE(m_widget->model()->capacity(), 100);
    publish(0, 100);
    QTRY_COMPARE(m_widget->model()->rowCount(), 100);
    QTableView *table = m_widget->tableView();

    // The reader scrolls up to message 60; the buffer then evicts 30 rows above it.
    table->scrollTo(table->model()->index(60, 0), QAbstractItemView::PositionAtTop);
    QTRY_COMPARE(table->rowAt(0), 60);
    const QString reading =
        table->model()->index(60, LiveMessageModel::SidColumn).data().toString();
    publish(100, 30);
    QTRY_COMPARE(m_widget->model()->droppedCount(), 30u);
    QTRY_COMPARE(
        table->model()->index(table->rowAt(0), LiveMessageModel::SidColumn).data().toString(),
        reading);
    QCOMPARE(table->rowAt(0), 30);
}

void TestLiveViewWidget::clearEmptiesTheView()
{
    publish(0, 20);
    QTRY_COMPARE(m_widget->model()->rowCount(), 20);
    m_widget->tableView()->selectRow(5);
    action("clearAction")->trigger();
    QCOMPARE(m_widget->model()->rowCount(), 0);
    QCOMPARE(m_widget->model()->totalReceived(), 0u);
    QVERIFY(child<QPlainTextEdit>("detailView")->toPlainText().isEmpty());
    publish(20, 3);
    QTRY_COMPARE(m_widget->model()->rowCount(), 3);
}

void TestLiveViewWidget::deletedStreamRaisesTheBanner()
{
    publish(0, 3);
    QTRY_COMPARE(m_widget->model()->rowCount(), 3);
    auto *banner = child<QLabel>("streamRemovedBanner");
    QVERIFY(banner);
    QVERIFY(banner->isHidden());
    QSignalSpy removed(m_widget.get(), &LiveViewWidget::streamRemoved);

    const auto deleted =
        await(m_engine.backend->deleteStream(m_engine.serviceSid, m_engine.streamSid));
    QVERIFY(deleted);
    QTRY_COMPARE(removed.size(), 1);
    QVERIFY(m_widget->isStreamRemoved());
    QVERIFY(banner->isVisible());
    QVERIFY2(banner->text().contains(u"removed"), qPrintable(banner->text()));
    // What was received stays to be read.
    QCOMPARE(m_widget->model()->rowCount(), 3);
    // Both the subscription and the backend announce it; the widget says it once.
    QVERIFY(!removed.wait(300));
    QCOMPARE(removed.size(), 1);

    // Watching another stream clears the banner.
    const auto other = await(m_engine.backend->createStream(m_engine.serviceSid, {u"other"_s, {}}));
    QVERIFY(other);
    m_widget->setStream(m_engine.serviceSid, other->sid);
    QVERIFY(banner->isHidden());
    QCOMPARE(m_widget->model()->rowCount(), 0);
}

void TestLiveViewWidget::screenshot()
{
    // ~50 messages with some variety, a selected message, and a minute of rate history.
    QList<QFuture<ApiResult<StreamMessage>>> futures;
    for (int n = 0; n < 52; ++n) {
        const QByteArray data =
            u"{\"device\":\"sensor-%1\",\"seq\":%2,\"temperature\":%3,\"ok\":%4,\"tags\":[\"lab\",\"floor-%5\"]}"_s
                .arg(n % 4)
                .arg(n)
                .arg(20.0 + (n % 7) * 0.5)
                .arg(n % 9 ? u"true"_s : u"false"_s)
                .arg(n % 3)
                .toUtf8();
        futures.append(m_engine.backend->publish(m_engine.serviceSid, m_engine.streamSid, data));
    }
    for (auto &future : futures)
        QVERIFY(await(future));
    QTRY_COMPARE(m_widget->model()->rowCount(), 52);
    auto *chart = child<MessageRateChart>("rateChart");
    QVERIFY(chart);
    for (int s = 0; s < 60; ++s)
        chart->addSample(1200 + 600 * std::sin(s / 6.0) + (s % 5) * 90);
    QCOMPARE(chart->samples().size(), 60);
    QTableView *table = m_widget->tableView();
    table->selectRow(47);
    child<QTabWidget>("detailTabs")->setCurrentIndex(0);
    m_widget->updateCounters();
    const QImage image = m_widget->grab().toImage();
    QVERIFY(!image.isNull());
    const QString path = qEnvironmentVariable("STREAMS_LIVEVIEW_SCREENSHOT");
    if (!path.isEmpty()) {
        QVERIFY(image.save(path));
        child<QTabWidget>("detailTabs")->setCurrentIndex(1);
        QVERIFY(m_widget->grab().save(QString(path).replace(u".png"_s, u"-diff.png"_s)));
        // The same in a dark palette, as a desktop in dark mode would hand it over.
        m_widget->setPalette(darkDesktopPalette());
        QVERIFY(m_widget->grab().save(QString(path).replace(u".png"_s, u"-dark.png"_s)));
    }
}

QTEST_MAIN(TestLiveViewWidget)
#include "tst_liveviewwidget.moc"
