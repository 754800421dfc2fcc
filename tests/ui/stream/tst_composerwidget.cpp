// ComposerWidget against a real embedded engine (default limit, 30/s): validation and the byte
// meter at exactly 4095/4096/4097 bytes of multi-byte UTF-8, JSON errors at line and column,
// Pretty/Compact, Ctrl+Enter publishing seen by a subscriber, history, templates, publish
// errors, and repeat publishing from the widget.

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "live/livesubscription.h"
#include "palettes.h"
#include "ui/common/consolesettings.h"
#include "ui/common/jsonhighlighter.h"
#include "ui/stream/bytemeter.h"
#include "ui/stream/composerwidget.h"
#include "ui/stream/repeatpublisher.h"

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFutureWatcher>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using streams::testing::await;
using streams::testing::darkDesktopPalette;
using streams::testing::kEnginePublishRate;
using streams::testing::startEmbeddedEngine;

namespace {

// A string whose UTF-8 form is exactly `bytes` long, mostly of 2-, 3- and 4-byte characters.
QString multiByteContent(qsizetype bytes)
{
    QString content;
    while (bytes >= 9) {
        content += QStringLiteral(u"é€😀"); // 2 + 3 + 4 bytes, 4 UTF-16 units, 3 characters
        bytes -= 9;
    }
    while (bytes >= 2) {
        content += QStringLiteral(u"é");
        bytes -= 2;
    }
    if (bytes == 1)
        content += u'a';
    return content;
}

QAction *actionWithData(QMenu *menu, const QVariant &data)
{
    for (QAction *action : menu->actions()) {
        if (action->data() == data)
            return action;
    }
    return nullptr;
}

} // namespace

class TestComposerWidget final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void meterAndPublishAtTheLimit_data();
    void meterAndPublishAtTheLimit();
    void problemsAtLineAndColumn_data();
    void problemsAtLineAndColumn();
    void typingShowsValidityAsYouType();
    void publishNeverUsesAStaleVerdict();
    void prettyAndCompactRoundTrip();
    void ctrlEnterPublishesAndRecordsHistory();
    void templatesSaveLoadDelete();
    void publishErrorShowsMessageAndCode();
    void repeatFromTheComposer();
    void screenshot();

private:
    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_backend;
    std::unique_ptr<ConsoleSettings> m_settings;
    QString m_serviceSid;
    QString m_streamSid;
    std::unique_ptr<LiveSubscription> m_subscription;
    QList<StreamMessage> m_received;
    std::unique_ptr<ComposerWidget> m_composer;
};

void TestComposerWidget::initTestCase()
{
    // The default limit (30/s, a 300-message budget): the tests stay well inside it.
    auto backend =
        startEmbeddedEngine(m_dir.filePath(QStringLiteral("engine")), kEnginePublishRate);
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    m_backend = std::move(*backend);
    const auto service = await(m_backend->fetchService(QStringLiteral("default")));
    QVERIFY(service);
    m_serviceSid = service->sid;
    const auto stream = await(m_backend->createStream(m_serviceSid, {}));
    QVERIFY(stream);
    m_streamSid = stream->sid;

    m_subscription = m_backend->subscribe(m_serviceSid, m_streamSid);
    connect(m_subscription.get(), &LiveSubscription::messagesReceived, this,
        [this](const QList<StreamMessage> &messages, quint64) { m_received += messages; });
    QSignalSpy state(m_subscription.get(), &LiveSubscription::stateChanged);
    QVERIFY(state.wait(10000));
    QCOMPARE(m_subscription->state(), LiveSubscription::State::Active);

    m_settings = std::make_unique<ConsoleSettings>(m_dir.filePath(QStringLiteral("console.ini")));
}

void TestComposerWidget::init()
{
    m_received.clear();
    m_composer = std::make_unique<ComposerWidget>(*m_backend, *m_settings);
    m_composer->setStream(m_serviceSid, m_streamSid);
}

void TestComposerWidget::cleanup()
{
    m_composer.reset();
}

void TestComposerWidget::meterAndPublishAtTheLimit_data()
{
    QTest::addColumn<qsizetype>("bytes");
    QTest::addColumn<ByteMeter::Level>("level");
    QTest::addColumn<bool>("publishable");
    QTest::addColumn<bool>("escaped"); // typed as \uXXXX escapes, which count as what they mean

    QTest::addRow("3686 neutral") << qsizetype(3686) << ByteMeter::Level::Normal << true << false;
    QTest::addRow("3687 amber") << qsizetype(3687) << ByteMeter::Level::Near << true << false;
    QTest::addRow("4095 amber") << qsizetype(4095) << ByteMeter::Level::Near << true << false;
    QTest::addRow("4096 amber, still publishable")
        << qsizetype(4096) << ByteMeter::Level::Near << true << false;
    QTest::addRow("4097 red, not publishable")
        << qsizetype(4097) << ByteMeter::Level::Over << false << false;
    QTest::addRow("4096 typed as escapes")
        << qsizetype(4096) << ByteMeter::Level::Near << true << true;
    QTest::addRow("4097 typed as escapes")
        << qsizetype(4097) << ByteMeter::Level::Over << false << true;
}

void TestComposerWidget::meterAndPublishAtTheLimit()
{
    QFETCH(qsizetype, bytes);
    QFETCH(ByteMeter::Level, level);
    QFETCH(bool, publishable);
    QFETCH(bool, escaped);

    // Compact: {"text":"…"} is 11 bytes around the content.
    const QString content = multiByteContent(bytes - 11);
    const QByteArray compact = QStringLiteral("{\"text\":\"%1\"}").arg(content).toUtf8();
    QCOMPARE(compact.size(), bytes);
    QVERIFY(content.size() < content.toUtf8().size()); // characters are not bytes here
    QString written = content;
    if (escaped) {
        written.clear();
        for (const QChar c : content) {
            written += c.unicode() < 0x80
                ? QString(c)
                : QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QLatin1Char('0'));
        }
    }
    // Typed pretty, so the editor's own size is not what the meter must show.
    const QString typed = QStringLiteral("{\n    \"text\" :  \"%1\"\n}\n").arg(written);
    QVERIFY(typed.toUtf8().size() != bytes);

    m_composer->editor()->setPlainText(typed);
    QTRY_COMPARE(m_composer->byteMeter()->bytes(), bytes); // after the typing pause
    ByteMeter *meter = m_composer->byteMeter();
    QCOMPARE(meter->level(), level);
    QVERIFY2(meter->text().startsWith(
                 QStringLiteral("%1 / 4,096 bytes").arg(ByteMeter::formatBytes(bytes))),
        qPrintable(meter->text()));
    QCOMPARE(m_composer->publishButton()->isEnabled(), publishable);
    QCOMPARE(m_composer->isPublishable(), publishable);

    if (!publishable) {
        QCOMPARE(
            m_composer->problemText(), QStringLiteral("4,097 bytes: over the 4,096-byte limit"));
        QVERIFY(meter->text().endsWith(QStringLiteral("over the limit")));
        // Ctrl+Enter is refused too.
        m_composer->publishAction()->trigger();
        QVERIFY(m_composer->statusIsError());
        QVERIFY(m_composer->statusText().contains(QStringLiteral("over the 4,096-byte limit")));
        return;
    }
    QVERIFY(m_composer->problemText().isEmpty());
    QTest::mouseClick(m_composer->publishButton(), Qt::LeftButton);
    QTRY_VERIFY2(m_composer->statusText().startsWith(QStringLiteral("Published TZ")),
        qPrintable(m_composer->statusText()));
    // The engine agrees on the size: the subscriber gets exactly these bytes.
    QTRY_COMPARE(m_received.size(), 1);
    QCOMPARE(m_received.first().data, compact);
}

void TestComposerWidget::problemsAtLineAndColumn_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("problem");
    QTest::addColumn<bool>("marked"); // underlined in the editor

    QTest::addRow("missing name separator")
        << QStringLiteral("{\n  \"a\": 1,\n  \"b\" 2\n}")
        << QStringLiteral("Line 3, column 8: missing name separator") << true;
    QTest::addRow("missing value separator on line 4")
        << QStringLiteral("{\n  \"a\": 1,\n  \"b\": \"x\",\n  \"c\": [1 2]\n}")
        << QStringLiteral("Line 4, column 12: missing value separator") << true;
    // Columns count characters: é, € and 😀 are one column each (2, 3 and 4 bytes).
    QTest::addRow("multi-byte before the error")
        << QStringLiteral(u"{\"é€😀\": 1 \"b\": 2}")
        << QStringLiteral("Line 1, column 12: unterminated object") << true;
    QTest::addRow("unterminated string")
        << QStringLiteral("{\n  \"a\": \"abc\n}")
        << QStringLiteral("Line 3, column 2: unterminated string") << true;
    QTest::addRow("array") << QStringLiteral("[1, 2, 3]")
                           << QStringLiteral("Data must be a JSON object") << false;
    // Qt's parser, and so the engine, takes only an object or an array at the top level.
    QTest::addRow("string") << QStringLiteral("\"hello\"")
                            << QStringLiteral("Line 1, column 2: illegal value") << true;
    // Half a surrogate pair is refused as the engine refuses it, at its backslash.
    QTest::addRow("lone surrogate")
        << QStringLiteral("{\"s\": \"x\\ude00\"}")
        << QStringLiteral("Line 1, column 9: lone UTF-16 surrogate \\ude00 in a string (a "
                          "surrogate escape must be a high one followed by a low one)")
        << true;
    QTest::addRow("unknown placeholder")
        << QStringLiteral("{\"n\": {{nope}}}")
        << QStringLiteral("Line 1, column 7: Unknown placeholder {{nope}}") << true;
}

void TestComposerWidget::problemsAtLineAndColumn()
{
    QFETCH(QString, text);
    QFETCH(QString, problem);
    QFETCH(bool, marked);

    m_composer->editor()->setPlainText(text);
    QTRY_COMPARE(m_composer->problemText(), problem);
    QVERIFY(!m_composer->publishButton()->isEnabled());
    QCOMPARE(m_composer->byteMeter()->level(), ByteMeter::Level::Unknown);
    QCOMPARE(m_composer->editor()->extraSelections().size(), marked ? 1 : 0);
    // Nothing reaches the engine.
    m_composer->publish();
    QVERIFY(m_composer->statusIsError());
    QVERIFY(m_received.isEmpty());
}

void TestComposerWidget::typingShowsValidityAsYouType()
{
    m_composer->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_composer.get()));
    QVERIFY(m_composer->problemText().isEmpty());
    QVERIFY(!m_composer->publishButton()->isEnabled()); // empty

    m_composer->editor()->setFocus();
    QTest::keyClicks(m_composer->editor(), QStringLiteral("{\"a\": "));
    QTRY_VERIFY(!m_composer->problemText().isEmpty());
    QVERIFY2(m_composer->problemText().startsWith(QStringLiteral("Line 1, column ")),
        qPrintable(m_composer->problemText()));
    QVERIFY(!m_composer->publishButton()->isEnabled());

    QTest::keyClicks(m_composer->editor(), QStringLiteral("1}"));
    QTRY_VERIFY(m_composer->problemText().isEmpty());
    QVERIFY(m_composer->publishButton()->isEnabled());
    QCOMPARE(m_composer->byteMeter()->bytes(), qsizetype(7)); // {"a":1}
    QCOMPARE(m_composer->byteMeter()->level(), ByteMeter::Level::Normal);
}

void TestComposerWidget::publishNeverUsesAStaleVerdict()
{
    m_composer->editor()->setPlainText(QStringLiteral("{\"ok\": true}"));
    m_composer->validateNow();
    QVERIFY(m_composer->publishButton()->isEnabled());

    // Broken within the typing pause: the button still shows the old verdict...
    m_composer->editor()->setPlainText(QStringLiteral("{\"ok\": tru"));
    QVERIFY(m_composer->publishButton()->isEnabled());
    // ...but pressing it validates first.
    QTest::mouseClick(m_composer->publishButton(), Qt::LeftButton);
    QVERIFY(m_composer->statusIsError());
    QVERIFY2(m_composer->statusText().startsWith(QStringLiteral("Not published: Line 1")),
        qPrintable(m_composer->statusText()));
    QVERIFY(!m_composer->publishButton()->isEnabled());

    // The next message that does go out is the only one that arrives.
    m_composer->editor()->setPlainText(QStringLiteral("{\"marker\": 1}"));
    QVERIFY(m_composer->statusText().isEmpty()); // the refusal was about the old text
    m_composer->publish();
    QTRY_COMPARE(m_received.size(), 1);
    QCOMPARE(m_received.first().data, QByteArray(R"({"marker":1})"));
}

void TestComposerWidget::prettyAndCompactRoundTrip()
{
    // Keys out of order, a number spelt "2.50", empty containers and a ":" and "," in a string:
    // the engine delivers all of it as written, so reformatting must keep it too.
    const QString compact = QStringLiteral(
        u"{\"z\":1,\"a\":[true,null,2.50],\"m\":{\"d\":\"é€😀 {x: 1, y}\",\"e\":{},\"f\":[]}}");
    m_composer->editor()->setPlainText(compact);
    m_composer->validateNow();
    QVERIFY(m_composer->prettyButton()->isEnabled());

    QTest::mouseClick(m_composer->prettyButton(), Qt::LeftButton);
    const QString pretty = m_composer->editor()->toPlainText();
    QCOMPARE(pretty,
        QStringLiteral(u"{\n"
                       u"    \"z\": 1,\n"
                       u"    \"a\": [\n"
                       u"        true,\n"
                       u"        null,\n"
                       u"        2.50\n"
                       u"    ],\n"
                       u"    \"m\": {\n"
                       u"        \"d\": \"é€😀 {x: 1, y}\",\n"
                       u"        \"e\": {},\n"
                       u"        \"f\": []\n"
                       u"    }\n"
                       u"}"));
    QCOMPARE(m_composer->byteMeter()->bytes(), compact.toUtf8().size());

    QTest::mouseClick(m_composer->compactButton(), Qt::LeftButton);
    QCOMPARE(m_composer->editor()->toPlainText(), compact);

    // Each reformat is one undo step.
    m_composer->editor()->undo();
    QCOMPARE(m_composer->editor()->toPlainText(), pretty);

    // Compact is exactly what is sent.
    m_composer->publish();
    QTRY_COMPARE(m_received.size(), 1);
    QCOMPARE(m_received.first().data, compact.toUtf8());

    // An array is not publishable but can still be reformatted.
    m_composer->editor()->setPlainText(QStringLiteral("[ 1,  {\"b\" : 2} ]"));
    m_composer->validateNow();
    QVERIFY(m_composer->compactButton()->isEnabled());
    m_composer->formatCompact();
    QCOMPARE(m_composer->editor()->toPlainText(), QStringLiteral("[1,{\"b\":2}]"));

    // Text that is not JSON cannot be reformatted and is left alone.
    m_composer->editor()->setPlainText(QStringLiteral("{\"a\": "));
    m_composer->validateNow();
    QVERIFY(!m_composer->prettyButton()->isEnabled());
    m_composer->formatPretty();
    QCOMPARE(m_composer->editor()->toPlainText(), QStringLiteral("{\"a\": "));
}

void TestComposerWidget::ctrlEnterPublishesAndRecordsHistory()
{
    m_composer->show();
    m_composer->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(m_composer.get()));
    QSignalSpy published(m_composer.get(), &ComposerWidget::published);

    const QString typed = QStringLiteral(u"{\n    \"greeting\": \"héllo €\",\n    \"n\": 1\n}");
    const QByteArray compact = QStringLiteral(u"{\"greeting\":\"héllo €\",\"n\":1}").toUtf8();
    m_composer->editor()->setPlainText(typed);
    m_composer->editor()->setFocus();
    QTest::keyClick(m_composer->editor(), Qt::Key_Return, Qt::ControlModifier);

    QTRY_COMPARE(m_received.size(), 1);
    QCOMPARE(m_received.first().data, compact);
    QTRY_COMPARE(published.size(), 1);
    const auto message = published.first().first().value<StreamMessage>();
    QCOMPARE(message.sid, m_received.first().sid);
    QVERIFY(message.sid.startsWith(u"TZ"));
    QCOMPARE(message.data, compact);
    QCOMPARE(m_composer->statusText(), QStringLiteral("Published %1").arg(message.sid));
    QVERIFY(!m_composer->statusIsError());
    // The shortcut published; it did not type a line break.
    QCOMPARE(m_composer->editor()->toPlainText(), typed);

    // History has it, newest first, and the menu offers it.
    QCOMPARE(m_settings->recentPayloads().value(0), QString::fromUtf8(compact));
    QAction *entry = actionWithData(m_composer->historyMenu(), QString::fromUtf8(compact));
    QVERIFY(entry);

    // The keypad's Enter works too.
    m_composer->editor()->setPlainText(QStringLiteral("{\"second\": 2}"));
    QTest::keyClick(m_composer->editor(), Qt::Key_Enter, Qt::ControlModifier | Qt::KeypadModifier);
    QTRY_COMPARE(m_received.size(), 2);
    QCOMPARE(m_received.at(1).data, QByteArray(R"({"second":2})"));
    QTRY_COMPARE(m_settings->recentPayloads().value(0), QStringLiteral(R"({"second":2})"));
    QCOMPARE(m_settings->recentPayloads().value(1), QString::fromUtf8(compact));

    // Choosing the older entry loads it back (pretty-printed).
    entry = actionWithData(m_composer->historyMenu(), QString::fromUtf8(compact));
    QVERIFY(entry);
    entry->trigger();
    QCOMPARE(QJsonDocument::fromJson(m_composer->editor()->toPlainText().toUtf8())
                 .toJson(QJsonDocument::Compact),
        compact);
    QVERIFY(m_composer->editor()->toPlainText().contains(u'\n'));
    QVERIFY(m_composer->isPublishable());

    // Pretty and Compact have shortcuts too.
    m_composer->editor()->setPlainText(QStringLiteral("{ \"b\" : [ 1 ,2 ] }"));
    QTest::keyClick(m_composer->editor(), Qt::Key_J, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(m_composer->editor()->toPlainText(), QStringLiteral("{\"b\":[1,2]}"));
    QTest::keyClick(m_composer->editor(), Qt::Key_F, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(m_composer->editor()->toPlainText(),
        QStringLiteral("{\n    \"b\": [\n        1,\n        2\n    ]\n}"));

    // Clear History empties it, from its own menu.
    QAction *clear =
        m_composer->historyMenu()->findChild<QAction *>(QStringLiteral("clearHistory"));
    QVERIFY(clear);
    clear->trigger();
    QVERIFY(m_settings->recentPayloads().isEmpty());
    QCOMPARE(m_composer->historyMenu()->actions().size(), 1);
    QVERIFY(!m_composer->historyMenu()->actions().first()->isEnabled());
}

void TestComposerWidget::templatesSaveLoadDelete()
{
    const QString text = QStringLiteral("{\n  \"n\": {{counter}},\n  \"at\": \"{{now}}\"\n}");
    m_composer->editor()->setPlainText(text);
    QTRY_VERIFY(m_composer->publishButton()->isEnabled()); // valid once expanded
    QVERIFY(m_composer->problemText().isEmpty());
    m_composer->saveTemplate(QStringLiteral("tick"));
    QCOMPARE(m_settings->payloadTemplates().value(QStringLiteral("tick")).toString(), text);

    QAction *load = actionWithData(m_composer->templatesMenu(), QStringLiteral("tick"));
    QVERIFY(load);
    m_composer->editor()->setPlainText(QStringLiteral("{}"));
    load->trigger();
    QCOMPARE(m_composer->editor()->toPlainText(), text); // verbatim, placeholders and all

    // A single publish fills the placeholders in ({{counter}} = 1).
    m_composer->publish();
    QTRY_COMPARE(m_received.size(), 1);
    const QJsonObject sent = QJsonDocument::fromJson(m_received.first().data).object();
    QCOMPARE(sent.value(u"n").toInt(), 1);
    QVERIFY(sent.value(u"at").toString().endsWith(u'Z'));
    // History keeps the template text, not one expansion of it.
    QTRY_COMPARE(m_settings->recentPayloads().value(0), text);

    QMenu *deleteMenu =
        m_composer->templatesMenu()->findChild<QMenu *>(QStringLiteral("deleteTemplates"));
    QVERIFY(deleteMenu);
    QAction *remove = actionWithData(deleteMenu, QStringLiteral("tick"));
    QVERIFY(remove);
    remove->trigger();
    QVERIFY(!m_settings->payloadTemplates().contains(QStringLiteral("tick")));
    QVERIFY(!actionWithData(m_composer->templatesMenu(), QStringLiteral("tick")));
    QVERIFY(!m_composer->loadTemplate(QStringLiteral("tick")));
}

void TestComposerWidget::publishErrorShowsMessageAndCode()
{
    const auto doomed = await(m_backend->createStream(m_serviceSid, {}));
    QVERIFY(doomed);
    m_composer->setStream(m_serviceSid, doomed->sid);
    QVERIFY(await(m_backend->deleteStream(m_serviceSid, doomed->sid)));

    QSignalSpy published(m_composer.get(), &ComposerWidget::published);
    m_composer->editor()->setPlainText(QStringLiteral("{\"lost\": true}"));
    m_composer->publish();
    QTRY_VERIFY(m_composer->statusText().contains(QStringLiteral("(error 20404)")));
    QVERIFY(m_composer->statusIsError());
    QCOMPARE(published.size(), 0);
    QVERIFY(m_settings->recentPayloads().value(0) != QStringLiteral(R"({"lost":true})"));
}

void TestComposerWidget::repeatFromTheComposer()
{
    QVERIFY(!m_composer->repeatCountBox()->isVisibleTo(m_composer.get()));
    m_composer->repeatToggle()->click();
    QVERIFY(m_composer->repeatCountBox()->isVisibleTo(m_composer.get()));
    QCOMPARE(m_composer->budgetText(), QStringLiteral("budget: 300/300, refills 30/s"));

    m_composer->repeatCountBox()->setValue(5);
    m_composer->repeatRateBox()->setValue(50);
    QCOMPARE(m_settings->value(ConsoleSettings::Key::RepeatCount).toInt(), 5);
    QCOMPARE(m_settings->value(ConsoleSettings::Key::RepeatRatePerSecond).toDouble(), 50.0);

    QSignalSpy published(m_composer.get(), &ComposerWidget::published);
    double lowestBudget = 300;
    const auto watch =
        connect(m_composer->repeatPublisher(), &RepeatPublisher::messagePublished, this, [&] {
            lowestBudget = qMin(lowestBudget, m_composer->repeatPublisher()->budgetAvailable());
        });
    const auto unwatch = qScopeGuard([watch] { disconnect(watch); });
    m_composer->editor()->setPlainText(QStringLiteral("{\"r\": {{counter}}}"));
    QTest::mouseClick(m_composer->repeatStartButton(), Qt::LeftButton);
    QVERIFY(m_composer->repeatPublisher()->isRunning());
    QVERIFY(m_composer->repeatStopButton()->isEnabled());
    QVERIFY(!m_composer->repeatStartButton()->isEnabled());
    QVERIFY(m_composer->statusText().startsWith(QStringLiteral("Repeating 5 messages at 50")));

    QTRY_COMPARE(m_composer->repeatProgress()->value(), 5);
    QCOMPARE(m_composer->repeatProgress()->maximum(), 5);
    QTRY_VERIFY2(m_composer->statusText().startsWith(QStringLiteral("Repeat finished: 5 sent")),
        qPrintable(m_composer->statusText()));
    QVERIFY(!m_composer->repeatStopButton()->isEnabled());
    QCOMPARE(published.size(), 5);
    QTRY_COMPARE(m_received.size(), 5);
    for (int i = 0; i < 5; ++i)
        QCOMPARE(
            QJsonDocument::fromJson(m_received.at(i).data).object().value(u"r").toInt(), i + 1);
    // The run drew on the budget (it refills at 30/s, so it may be full again by now).
    QVERIFY2(lowestBudget <= 299.0, qPrintable(QString::number(lowestBudget)));
    QVERIFY2(QRegularExpression(QStringLiteral("^budget: \\d+/300, refills 30/s$"))
                 .match(m_composer->budgetText())
                 .hasMatch(),
        qPrintable(m_composer->budgetText()));
    QCOMPARE(m_settings->recentPayloads().value(0), QStringLiteral("{\"r\": {{counter}}}"));
}

void TestComposerWidget::screenshot()
{
    // Something a person would write, in the amber band (3,687–4,096 bytes).
    QJsonObject reading{{QStringLiteral("device"), QStringLiteral("greenhouse-sensor-07")},
        {QStringLiteral("site"), QStringLiteral(u"Zürich Nord")},
        {QStringLiteral("firmware"), QStringLiteral("2.4.1")}, {QStringLiteral("online"), true},
        {QStringLiteral("battery"), 0.87}, {QStringLiteral("alarm"), QJsonValue::Null}};
    QJsonArray samples;
    qsizetype size = 0;
    for (int i = 0; size < 3850; ++i) {
        samples.append(double(200 + (i * 37) % 97) / 10.0);
        reading.insert(QStringLiteral("samples"), samples);
        size = QJsonDocument(reading).toJson(QJsonDocument::Compact).size();
    }
    QVERIFY2(
        ByteMeter::levelFor(size) == ByteMeter::Level::Near, qPrintable(QString::number(size)));

    m_composer->resize(640, 640);
    m_composer->editor()->setPlainText(
        QString::fromUtf8(QJsonDocument(reading).toJson(QJsonDocument::Compact)));
    m_composer->formatPretty();
    m_composer->repeatToggle()->click();
    m_composer->repeatRateBox()->setValue(50); // above the 30/s limit: the warning shows
    m_composer->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_composer.get()));
    QTRY_COMPARE(m_composer->byteMeter()->level(), ByteMeter::Level::Near);
    m_composer->publish();
    QTRY_VERIFY(m_composer->statusText().startsWith(QStringLiteral("Published")));

    const QString path = QDir::temp().filePath(QStringLiteral("composer.png"));
    QVERIFY(m_composer->grab().save(path));
    qInfo("screenshot: %s", qPrintable(path));

    // The same on a dark palette: the highlighter and the meter switch colour sets.
    const QPalette dark = darkDesktopPalette();
    const auto *highlighter = m_composer->editor()->document()->findChild<JsonHighlighter *>();
    QVERIFY(highlighter);
    QVERIFY(!highlighter->isDark());
    const QColor lightAmber = m_composer->byteMeter()->barColor();
    m_composer->setPalette(dark);
    QVERIFY(highlighter->isDark());
    QVERIFY(m_composer->byteMeter()->barColor() != lightAmber);
    const QString darkPath = QDir::temp().filePath(QStringLiteral("composer-dark.png"));
    QVERIFY(m_composer->grab().save(darkPath));
    qInfo("screenshot: %s", qPrintable(darkPath));
}

QTEST_MAIN(TestComposerWidget)
#include "tst_composerwidget.moc"
