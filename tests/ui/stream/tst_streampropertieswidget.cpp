// StreamPropertiesWidget against a real embedded engine: every field, copy buttons, Apply of a
// new TTL through the backend, the live countdown and expiry.

#include "api/restjson.h"
#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "ui/common/durationformat.h"
#include "ui/stream/streampropertieswidget.h"
#include "ui/stream/ttleditor.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QDateTime>
#include <QFutureWatcher>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

using namespace streams;
using streams::testing::await;
using streams::testing::startEmbeddedEngine;

namespace {

QString field(const StreamPropertiesWidget &widget, const char *name)
{
    const auto *edit = widget.findChild<QLineEdit *>(QLatin1StringView(name));
    return edit ? edit->text() : QStringLiteral("<no field %1>").arg(QLatin1StringView(name));
}

QToolButton *copyButton(const StreamPropertiesWidget &widget, const char *name)
{
    return widget.findChild<QToolButton *>(QStringLiteral("copy_%1").arg(QLatin1StringView(name)));
}

QPushButton *applyButton(const StreamPropertiesWidget &widget)
{
    return widget.findChild<QPushButton *>(QStringLiteral("applyTtl"));
}

// Seconds the countdown shows ("in 59m 58s" -> 3598).
qint64 countdownSeconds(const StreamPropertiesWidget &widget)
{
    const QString text = widget.countdownText();
    if (!text.startsWith(QLatin1StringView("in ")))
        return -1;
    return durationformat::parse(text.mid(3)).value_or(-1);
}

// Records every change of a widget's enabled state.
class EnabledHistory final : public QObject
{
public:
    explicit EnabledHistory(QWidget *widget) : m_widget(widget)
    {
        widget->installEventFilter(this);
    }
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (watched == m_widget && event->type() == QEvent::EnabledChange)
            states.append(m_widget->isEnabled());
        return false;
    }
    QList<bool> states;

private:
    QWidget *m_widget;
};

} // namespace

class TestStreamPropertiesWidget final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void cleanupTestCase();
    void showsEveryField();
    void nullFieldsShowPlaceholders();
    void copyButtonsPutTheValueOnTheClipboard();
    void applySetsANewTtl_data();
    void applySetsANewTtl();
    void applyIsDisabledWhileTheTtlIsInvalid();
    void serviceErrorIsShownAtTheField();
    void countdownReachesExpiry();
    void deletionElsewhereIsNotAnExpiry();
    void refreshKeepsWhatTheUserTyped();

private:
    Stream createStream(std::optional<qint64> ttl, const QString &uniqueName = {});

    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_backend;
    QString m_serviceSid;
    std::unique_ptr<StreamPropertiesWidget> m_widget;
};

void TestStreamPropertiesWidget::initTestCase()
{
    QVERIFY(m_dir.isValid());
    auto backend = startEmbeddedEngine(m_dir.path());
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    m_backend = std::move(*backend);
    const auto service = await(m_backend->fetchService(QStringLiteral("default")));
    QVERIFY(service);
    m_serviceSid = service->sid;
}

void TestStreamPropertiesWidget::init()
{
    m_widget = std::make_unique<StreamPropertiesWidget>(*m_backend);
    m_widget->resize(720, m_widget->sizeHint().height());
    m_widget->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_widget.get()));
}

void TestStreamPropertiesWidget::cleanup()
{
    m_widget.reset();
}

void TestStreamPropertiesWidget::cleanupTestCase()
{
    m_backend.reset();
}

Stream TestStreamPropertiesWidget::createStream(
    std::optional<qint64> ttl, const QString &uniqueName)
{
    StreamCreate create;
    if (!uniqueName.isEmpty())
        create.uniqueName = uniqueName;
    create.ttlSeconds = ttl;
    const auto created = await(m_backend->createStream(m_serviceSid, create));
    if (!created)
        qWarning() << created.error().message();
    return created.value_or(Stream{});
}

void TestStreamPropertiesWidget::showsEveryField()
{
    const Stream stream = createStream(3600, QStringLiteral("props-every-field"));
    QVERIFY(!stream.sid.isEmpty());
    QVERIFY(stream.dateExpires);
    m_widget->setStream(stream);
    QCOMPARE(m_widget->stream(), stream);

    const QString url =
        restjson::streamUrl(m_backend->endpoint().baseUrl, stream.serviceSid, stream.sid);
    QVERIFY(url.startsWith(QLatin1StringView("http")));
    QCOMPARE(field(*m_widget, "sid"), stream.sid);
    QCOMPARE(field(*m_widget, "unique_name"), QStringLiteral("props-every-field"));
    QCOMPARE(field(*m_widget, "account_sid"), stream.accountSid);
    QVERIFY(stream.accountSid.startsWith(QLatin1StringView("AC")));
    QCOMPARE(field(*m_widget, "service_sid"), m_serviceSid);
    QCOMPARE(field(*m_widget, "url"), url);
    QCOMPARE(field(*m_widget, "links.messages"), url + QLatin1StringView("/Messages"));
    QCOMPARE(field(*m_widget, "created_by"), QStringLiteral("system"));
    QCOMPARE(field(*m_widget, "date_created"), restjson::formatDate(stream.dateCreated));
    QCOMPARE(field(*m_widget, "date_updated"), restjson::formatDate(stream.dateUpdated));
    QCOMPARE(field(*m_widget, "date_expires"), restjson::formatDate(*stream.dateExpires));

    // The countdown runs from the stream's own expiry; the editor shows the TTL it was given.
    const qint64 left = countdownSeconds(*m_widget);
    QVERIFY2(left > 3590 && left <= 3600, qPrintable(m_widget->countdownText()));
    QCOMPARE(m_widget->ttlEditor()->ttlSeconds(), std::optional<qint64>(3600));
    QCOMPARE(m_widget->ttlEditor()->lineEdit()->text(), QStringLiteral("1h"));
    QVERIFY(applyButton(*m_widget)->isEnabled());

    // It ticks: within a couple of seconds the countdown shows less.
    QTRY_VERIFY_WITH_TIMEOUT(countdownSeconds(*m_widget) < left, 2500);

    if (const QString dir = qEnvironmentVariable("STREAMS_SCREENSHOT_DIR"); !dir.isEmpty())
        QVERIFY(m_widget->grab().save(dir + QLatin1StringView("/properties.png")));
}

void TestStreamPropertiesWidget::nullFieldsShowPlaceholders()
{
    const Stream stream = createStream(std::nullopt);
    QVERIFY(!stream.sid.isEmpty());
    QVERIFY(stream.uniqueName.isNull());
    m_widget->setStream(stream);
    QCOMPARE(field(*m_widget, "unique_name"), QStringLiteral("\u2014"));
    QCOMPARE(field(*m_widget, "date_expires"), QStringLiteral("never"));
    QCOMPARE(m_widget->countdownText(), QStringLiteral("never expires"));
    QVERIFY(!copyButton(*m_widget, "unique_name")->isEnabled());
    QVERIFY(!copyButton(*m_widget, "date_expires")->isEnabled());
    QVERIFY(m_widget->ttlEditor()->neverExpiresCheckBox()->isChecked());
}

void TestStreamPropertiesWidget::copyButtonsPutTheValueOnTheClipboard()
{
    const Stream stream = createStream(3600, QStringLiteral("props-copy"));
    m_widget->setStream(stream);
    QClipboard *clipboard = QGuiApplication::clipboard();
    clipboard->clear();

    QToolButton *copySid = copyButton(*m_widget, "sid");
    QVERIFY(copySid);
    QVERIFY(copySid->isEnabled());
    QTest::mouseClick(copySid, Qt::LeftButton);
    QCOMPARE(clipboard->text(), stream.sid);

    QTest::mouseClick(copyButton(*m_widget, "links.messages"), Qt::LeftButton);
    QCOMPARE(clipboard->text(), field(*m_widget, "links.messages"));
    QVERIFY(clipboard->text().endsWith(stream.sid + QLatin1StringView("/Messages")));
}

void TestStreamPropertiesWidget::applySetsANewTtl_data()
{
    QTest::addColumn<QString>("typed"); // empty: tick "Never expires" instead
    QTest::addColumn<bool>("useEnter"); // Enter in the field rather than the Apply button
    QTest::addColumn<qint64>("expectedTtl"); // 0: date_expires null
    QTest::addRow("2m with Enter") << QStringLiteral("2m") << true << qint64(120);
    QTest::addRow("1h30m with Apply") << QStringLiteral("1h30m") << false << qint64(5400);
    QTest::addRow("plain seconds") << QStringLiteral("90") << true << qint64(90);
    QTest::addRow("typed never") << QStringLiteral("never") << false << qint64(0);
    QTest::addRow("never expires box") << QString() << false << qint64(0);
}

void TestStreamPropertiesWidget::applySetsANewTtl()
{
    QFETCH(QString, typed);
    QFETCH(bool, useEnter);
    QFETCH(qint64, expectedTtl);

    const Stream stream = createStream(3600);
    m_widget->setStream(stream);
    QSignalSpy updated(m_widget.get(), &StreamPropertiesWidget::streamUpdated);
    TtlEditor *editor = m_widget->ttlEditor();
    QPushButton *apply = applyButton(*m_widget);

    if (typed.isEmpty()) {
        QCheckBox *never = editor->neverExpiresCheckBox();
        QTest::mouseClick(never, Qt::LeftButton, {}, QPoint(8, never->height() / 2));
        QVERIFY(never->isChecked());
    } else {
        editor->lineEdit()->setFocus();
        editor->lineEdit()->selectAll();
        QTest::keyClicks(editor->lineEdit(), typed);
        QCOMPARE(editor->lineEdit()->text(), typed);
    }
    QVERIFY(editor->isValid());
    QVERIFY(apply->isEnabled());

    EnabledHistory applyStates(apply);
    const qint64 before = QDateTime::currentSecsSinceEpoch();
    if (useEnter)
        QTest::keyClick(editor->lineEdit(), Qt::Key_Return);
    else
        QTest::mouseClick(apply, Qt::LeftButton);
    QTRY_COMPARE(updated.count(), 1);
    // Disabled while the update was in flight (the engine may answer before the click returns,
    // so the history of the button tells, not its state right after the click).
    QCOMPARE(applyStates.states, (QList<bool>{false, true}));
    const auto emitted = updated.at(0).at(0).value<Stream>();
    QCOMPARE(emitted.sid, stream.sid);
    QCOMPARE(m_widget->stream(), emitted);
    QVERIFY(apply->isEnabled());
    QVERIFY(editor->errorText().isEmpty());

    const auto fetched = await(m_backend->fetchStream(m_serviceSid, stream.sid));
    QVERIFY(fetched);
    QCOMPARE(*fetched, emitted);
    const qint64 after = QDateTime::currentSecsSinceEpoch();
    if (expectedTtl == 0) {
        QVERIFY(!fetched->dateExpires);
        QCOMPARE(field(*m_widget, "date_expires"), QStringLiteral("never"));
        QCOMPARE(m_widget->countdownText(), QStringLiteral("never expires"));
    } else {
        QVERIFY(fetched->dateExpires);
        QVERIFY2(*fetched->dateExpires >= before + expectedTtl
                && *fetched->dateExpires <= after + expectedTtl,
            qPrintable(restjson::formatDate(*fetched->dateExpires)));
        QCOMPARE(field(*m_widget, "date_expires"), restjson::formatDate(*fetched->dateExpires));
        const qint64 left = countdownSeconds(*m_widget);
        QVERIFY2(
            left > expectedTtl - 5 && left <= expectedTtl, qPrintable(m_widget->countdownText()));
        QCOMPARE(editor->ttlSeconds(), std::optional<qint64>(expectedTtl));
    }
}

void TestStreamPropertiesWidget::applyIsDisabledWhileTheTtlIsInvalid()
{
    m_widget->setStream(createStream(3600));
    TtlEditor *editor = m_widget->ttlEditor();
    editor->lineEdit()->selectAll();
    QTest::keyClicks(editor->lineEdit(), QStringLiteral("366d"));
    QVERIFY(!applyButton(*m_widget)->isEnabled());
    QVERIFY(editor->errorText().contains(QLatin1StringView("31536000")));
    if (const QString dir = qEnvironmentVariable("STREAMS_SCREENSHOT_DIR"); !dir.isEmpty())
        QVERIFY(m_widget->grab().save(dir + QLatin1StringView("/properties-error.png")));

    // Enter does not apply an invalid value either.
    QSignalSpy updated(m_widget.get(), &StreamPropertiesWidget::streamUpdated);
    QTest::keyClick(editor->lineEdit(), Qt::Key_Return);
    QVERIFY(!applyButton(*m_widget)->isEnabled());

    QTest::keyClick(editor->lineEdit(), Qt::Key_Backspace);
    QTest::keyClick(editor->lineEdit(), Qt::Key_Backspace);
    QTest::keyClicks(editor->lineEdit(), QStringLiteral("5d"));
    QVERIFY(applyButton(*m_widget)->isEnabled());
    QVERIFY(editor->errorText().isEmpty());
    QCOMPARE(updated.count(), 0);
}

void TestStreamPropertiesWidget::serviceErrorIsShownAtTheField()
{
    // A well-formed stream the service does not have: the update answers 404. (Deleting a real
    // one would also announce its removal, which rightly disables Apply.)
    Stream ghost = createStream(3600);
    ghost.sid = QStringLiteral("TO") + QString(32, u'0');
    m_widget->setStream(ghost);
    QSignalSpy updated(m_widget.get(), &StreamPropertiesWidget::streamUpdated);
    QVERIFY(applyButton(*m_widget)->isEnabled());
    QTest::mouseClick(applyButton(*m_widget), Qt::LeftButton);

    QTRY_VERIFY(!m_widget->ttlEditor()->errorText().isEmpty());
    QVERIFY2(m_widget->ttlEditor()->errorText().contains(QLatin1StringView("20404")),
        qPrintable(m_widget->ttlEditor()->errorText()));
    auto *errorLabel = m_widget->ttlEditor()->findChild<QLabel *>(QStringLiteral("ttlError"));
    QVERIFY(errorLabel->isVisible());
    QCOMPARE(updated.count(), 0);
    QVERIFY(applyButton(*m_widget)->isEnabled()); // the user may try again
    QCOMPARE(m_widget->stream(), ghost);
}

void TestStreamPropertiesWidget::countdownReachesExpiry()
{
    const Stream stream = createStream(1);
    QVERIFY(stream.dateExpires);
    QSignalSpy expired(m_widget.get(), &StreamPropertiesWidget::expired);
    m_widget->setStream(stream);
    QTRY_COMPARE_WITH_TIMEOUT(expired.count(), 1, 5000);
    QCOMPARE(m_widget->countdownText(), QStringLiteral("expired"));
    QVERIFY(!applyButton(*m_widget)->isEnabled());

    // Once per stream: showing it again, or the engine's removal arriving, does not repeat it.
    m_widget->setStream(stream);
    QCOMPARE(expired.count(), 1);
    QCOMPARE(m_widget->countdownText(), QStringLiteral("expired"));
    QTRY_VERIFY(!await(m_backend->fetchStream(m_serviceSid, stream.sid)).has_value());
    QCOMPARE(expired.count(), 1);
    QCOMPARE(m_widget->countdownText(), QStringLiteral("expired"));
}

void TestStreamPropertiesWidget::deletionElsewhereIsNotAnExpiry()
{
    const Stream stream = createStream(3600);
    m_widget->setStream(stream);
    QSignalSpy expired(m_widget.get(), &StreamPropertiesWidget::expired);
    QVERIFY(await(m_backend->deleteStream(m_serviceSid, stream.sid)));
    QTRY_COMPARE(m_widget->countdownText(), QStringLiteral("deleted"));
    QVERIFY(!applyButton(*m_widget)->isEnabled());
    QCOMPARE(expired.count(), 0);
}

void TestStreamPropertiesWidget::refreshKeepsWhatTheUserTyped()
{
    const Stream stream = createStream(3600);
    m_widget->setStream(stream);
    TtlEditor *editor = m_widget->ttlEditor();
    editor->lineEdit()->selectAll();
    QTest::keyClicks(editor->lineEdit(), QStringLiteral("10m"));

    m_widget->setStream(stream); // e.g. the tree refreshed the resource
    QCOMPARE(editor->lineEdit()->text(), QStringLiteral("10m"));

    const Stream other = createStream(60);
    m_widget->setStream(other); // another stream starts from its own TTL
    QCOMPARE(editor->lineEdit()->text(), QStringLiteral("1m"));
    QVERIFY(!editor->isModified());
}

QTEST_MAIN(TestStreamPropertiesWidget)
#include "tst_streampropertieswidget.moc"
