// Replay NDJSON… on a stream page against a real embedded engine (LocalBackend): the live view's
// toolbar opens the replay strip, which reads the file on a worker, publishes it at the chosen
// pace with a progress bar (count, rate, time left) and Cancel, and tells a bad file's line on
// the page's banner.

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "live/livesubscription.h"
#include "ui/common/consolesettings.h"
#include "ui/liveview/livemessagemodel.h"
#include "ui/liveview/liveviewwidget.h"
#include "ui/liveview/replaypanel.h"
#include "ui/stream/pagebanner.h"
#include "ui/stream/streampage.h"

#include <QAction>
#include <QComboBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using namespace streams::testing;
using namespace Qt::StringLiterals;

class TestReplayPanel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void replayFromTheToolbarPublishesInOrder();
    void progressShowsCountRateAndTimeLeftAndCancelStops();
    void badLineIsToldOnThePageBanner();
    void durationText_data();
    void durationText();

private:
    /// Writes `count` messages {"n":0..} recorded `gapMs` apart, as Export NDJSON writes them.
    QString writeRecording(const QString &name, int count, qint64 gapMs);
    /// Opens the strip from the toolbar with `path` picked.
    void pick(const QString &path);
    QList<int> shownNumbers() const;

    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_backend;
    std::unique_ptr<ConsoleSettings> m_settings;
    std::unique_ptr<StreamPage> m_page;
    ReplayPanel *m_panel = nullptr;
};

void TestReplayPanel::init()
{
    QVERIFY(m_dir.isValid());
    // One engine per test and data row: each gets a data directory of its own.
    const QString name = QString::fromLatin1(QTest::currentTestFunction())
        + QString::fromLatin1(QTest::currentDataTag()).remove(u' ');
    auto backend = startEmbeddedEngine(m_dir.filePath(name));
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    m_backend = std::move(*backend);
    const auto service = await(m_backend->fetchService(u"default"_s));
    QVERIFY(service);
    const auto stream = await(m_backend->createStream(service->sid, {u"replayed"_s, {}}));
    QVERIFY(stream);

    m_settings = std::make_unique<ConsoleSettings>(m_dir.filePath(name + u".ini"_s));
    m_page = std::make_unique<StreamPage>(*m_backend, *stream, *m_settings);
    m_page->resize(1200, 800);
    m_page->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_page.get()));
    QTRY_COMPARE(m_page->liveView()->subscription()->state(), LiveSubscription::State::Active);
    m_panel = m_page->liveView()->replayPanel();
    QVERIFY(m_panel);
    QVERIFY(m_panel->isHidden());
}

void TestReplayPanel::cleanup()
{
    m_page.reset();
    m_settings.reset();
    m_backend.reset();
}

QString TestReplayPanel::writeRecording(const QString &name, int count, qint64 gapMs)
{
    const QString path = m_dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {};
    for (int n = 0; n < count; ++n) {
        const QDateTime at = QDateTime::fromMSecsSinceEpoch(1'714'564'800'000 + n * gapMs).toUTC();
        file.write(u"{\"sid\":\"TZ%1\",\"received\":\"%2\",\"data\":{\"n\":%1}}\n"_s.arg(n)
                       .arg(at.toString(Qt::ISODateWithMs))
                       .toUtf8());
    }
    return path;
}

void TestReplayPanel::pick(const QString &path)
{
    m_panel->setPickFile([path] { return path; });
    auto *action = m_page->liveView()->findChild<QAction *>(u"replayAction"_s);
    QVERIFY(action);
    action->trigger(); // the file is read on a worker; the strip shows what it found
}

QList<int> TestReplayPanel::shownNumbers() const
{
    QList<int> numbers;
    const LiveMessageModel *model = m_page->liveView()->model();
    for (int row = 0; row < model->rowCount(); ++row)
        numbers.append(
            QJsonDocument::fromJson(model->messageAt(row).data).object().value(u"n"_s).toInt());
    return numbers;
}

void TestReplayPanel::replayFromTheToolbarPublishesInOrder()
{
    pick(writeRecording(u"orders.ndjson"_s, 30, 20));
    QTRY_COMPARE(m_panel->loadedCount(), 30);
    QVERIFY2(m_panel->statusText().startsWith(u"30 messages from orders.ndjson, recorded over"_s),
        qPrintable(m_panel->statusText()));
    QVERIFY(m_panel->startButton()->isVisible());

    m_panel->paceBox()->setCurrentIndex(
        m_panel->paceBox()->findData(QVariant::fromValue(StreamReplay::Pace::RecordedTenTimes)));
    QSignalSpy finished(m_panel, &ReplayPanel::finished);
    QTest::mouseClick(m_panel->startButton(), Qt::LeftButton);
    QVERIFY(m_panel->replay());
    QCOMPARE(m_panel->replay()->pace(), StreamReplay::Pace::RecordedTenTimes);
    QVERIFY(finished.wait(10'000));
    QCOMPARE(m_panel->statusText(), u"Replayed 30 messages"_s);
    QCOMPARE(m_panel->progressBar()->value(), 30);
    QCOMPARE(m_panel->progressBar()->maximum(), 30);

    // The live view on the same stream shows them, in the file's order.
    QList<int> expected;
    for (int n = 0; n < 30; ++n)
        expected.append(n);
    QTRY_COMPARE(m_page->liveView()->model()->rowCount(), 30);
    QCOMPARE(shownNumbers(), expected);
    QVERIFY(m_page->banner()->text().isEmpty());

    // Close hides the strip.
    QTest::mouseClick(m_panel->cancelButton(), Qt::LeftButton);
    QVERIFY(m_panel->isHidden());
}

void TestReplayPanel::progressShowsCountRateAndTimeLeftAndCancelStops()
{
    pick(writeRecording(u"slow.ndjson"_s, 200, 100)); // 20 s at the recorded pace
    QTRY_COMPARE(m_panel->loadedCount(), 200);
    QCOMPARE(m_panel->paceBox()->currentData().value<StreamReplay::Pace>(),
        StreamReplay::Pace::Recorded);
    QTest::mouseClick(m_panel->startButton(), Qt::LeftButton);
    QVERIFY(!m_panel->startButton()->isEnabled());
    QCOMPARE(m_panel->cancelButton()->text(), u"Cancel"_s);

    QTRY_VERIFY(m_panel->progressBar()->value() >= 5);
    // "12 of 200 messages · 9.8/s · 19 s left"
    const QString status = m_panel->statusText();
    QVERIFY2(status.contains(u" of 200 messages"_s), qPrintable(status));
    QVERIFY2(status.contains(u"/s"_s), qPrintable(status));
    QVERIFY2(status.contains(u" s left"_s), qPrintable(status));

    QSignalSpy finished(m_panel, &ReplayPanel::finished);
    QTest::mouseClick(m_panel->cancelButton(), Qt::LeftButton);
    QCOMPARE(finished.size(), 1); // at once
    QVERIFY(!m_panel->replay()->isRunning());
    const qsizetype published = m_panel->replay()->published();
    QVERIFY(published >= 5 && published < 200);
    QVERIFY2(m_panel->statusText().startsWith(u"Cancelled after %1 of 200"_s.arg(published)),
        qPrintable(m_panel->statusText()));
    QCOMPARE(m_panel->cancelButton()->text(), u"Close"_s);
    QVERIFY(m_page->banner()->text().isEmpty()); // a cancel is no error
}

void TestReplayPanel::badLineIsToldOnThePageBanner()
{
    const QString path = m_dir.filePath(u"bad.ndjson"_s);
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("{\"data\":{\"n\":0}}\n{\"data\":[1]}\n{\"data\":{\"n\":2}}\n");
    file.close();

    QSignalSpy failed(m_panel, &ReplayPanel::failed);
    pick(path);
    QTRY_COMPARE(failed.size(), 1);
    QTRY_VERIFY(m_panel->isHidden());
    QCOMPARE(m_page->banner()->kind(), PageBanner::Kind::Error);
    QVERIFY2(m_page->banner()->text().contains(u"line 2: \"data\" must be a JSON object"_s),
        qPrintable(m_page->banner()->text()));
    QVERIFY(!m_panel->replay()); // nothing was published: the file was refused whole
    QCOMPARE(m_panel->loadedCount(), 0);
}

void TestReplayPanel::durationText_data()
{
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<QString>("text");
    QTest::addRow("under a second rounds up") << qint64(1) << u"1 s"_s;
    QTest::addRow("seconds") << qint64(59'000) << u"59 s"_s;
    QTest::addRow("minutes") << qint64(125'000) << u"2 min 5 s"_s;
    QTest::addRow("hours") << qint64(4'800'000) << u"1 h 20 min"_s;
}

void TestReplayPanel::durationText()
{
    QFETCH(qint64, ms);
    QFETCH(QString, text);
    QCOMPARE(ReplayPanel::durationText(ms), text);
}

QTEST_MAIN(TestReplayPanel)
#include "tst_replaypanel.moc"
