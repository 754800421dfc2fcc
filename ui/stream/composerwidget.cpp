#include "ui/stream/composerwidget.h"

#include "api/jsonscanner.h"
#include "api/validation.h"
#include "backend/backend.h"
#include "backend/ratelimitbackoff.h"
#include "ui/common/consolesettings.h"
#include "ui/common/jsonhighlighter.h"
#include "ui/stream/bytemeter.h"
#include "ui/stream/payloadtemplate.h"
#include "ui/stream/repeatpublisher.h"

#include <QAction>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QJsonDocument>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace streams {

namespace {

// Long enough to skip work between keystrokes, short enough to feel immediate. Publishing
// validates again at once, so the pause can never let a stale verdict through.
constexpr int kValidationDelayMs = 100;
constexpr int kMenuPreviewChars = 80;

bool isDarkPalette(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

QColor errorColor(const QPalette &palette)
{
    return isDarkPalette(palette) ? QColor(0xFF, 0x6B, 0x6B) : QColor(0xB3, 0x1D, 0x1D);
}

QColor warningColor(const QPalette &palette)
{
    return isDarkPalette(palette) ? QColor(0xFF, 0xB7, 0x4D) : QColor(0x8A, 0x57, 0x00);
}

// The validator's reason without its "Invalid JSON: " prefix and " at line L, column C" suffix:
// the field already says it is about JSON, and the composer puts the position first, where the
// eye lands.
QString reasonOf(const validation::JsonProblem &problem)
{
    QString message = problem.error.message();
    if (problem.error.code() == ApiError::InvalidJson) {
        const QString prefix = ApiError::invalidJson(QString()).message();
        if (message.startsWith(prefix))
            message.remove(0, prefix.size());
    }
    const QString suffix =
        QStringLiteral(" at line %1, column %2").arg(problem.line).arg(problem.column);
    if (message.endsWith(suffix))
        message.chop(suffix.size());
    return message;
}

// Lays out JSON text that Qt's parser accepted: whitespace outside strings is dropped and, with
// `indent` > 0, put back as one member per line. Works on the text itself rather than through
// QJsonDocument, which would sort the keys and respell numbers, while the engine now delivers
// both exactly as written.
QString relayout(const QString &text, int indent)
{
    return QString::fromUtf8(json::relayout(text.toUtf8(), indent));
}

QString oneLine(const QString &text)
{
    QString line = text.simplified();
    if (line.size() > kMenuPreviewChars)
        line = line.left(kMenuPreviewChars - 1) + QChar(0x2026);
    // A menu treats '&' as a mnemonic marker.
    line.replace(u'&', QStringLiteral("&&"));
    return line;
}

} // namespace

struct ComposerWidget::Private
{
    ComposerWidget *q = nullptr;
    Backend &backend;
    ConsoleSettings &settings;
    QString serviceSid;
    QString streamSid;
    quint64 generation = 0; // bumped on setStream so late answers for another stream are dropped

    QPlainTextEdit *editor = nullptr;
    JsonHighlighter *highlighter = nullptr;
    QLabel *problemLabel = nullptr;
    ByteMeter *meter = nullptr;
    QPushButton *publishButton = nullptr;
    QAction *publishAction = nullptr;
    QToolButton *prettyButton = nullptr;
    QToolButton *compactButton = nullptr;
    QToolButton *historyButton = nullptr;
    QToolButton *templatesButton = nullptr;
    QMenu *historyMenu = nullptr;
    QMenu *templatesMenu = nullptr;
    bool historyStale = false;
    bool templatesStale = false;
    QLabel *statusLabel = nullptr;
    bool statusError = false;
    bool statusTransient = false; // a refusal about the text; the next edit clears it
    QTimer validationTimer;

    QToolButton *repeatToggle = nullptr;
    QWidget *repeatPanel = nullptr;
    QSpinBox *repeatCount = nullptr;
    QDoubleSpinBox *repeatRate = nullptr;
    QPushButton *repeatStart = nullptr;
    QPushButton *repeatStop = nullptr;
    QProgressBar *repeatProgress = nullptr;
    QLabel *budgetLabel = nullptr;
    QLabel *repeatCounters = nullptr;
    QLabel *rateWarningLabel = nullptr;
    RepeatPublisher *repeat = nullptr;
    QString repeatTemplateText;
    bool repeatRecorded = false; // the run's template went into history once

    // The last verdict on the editor's text.
    bool empty = true;
    bool valid = false;
    bool reformattable = false;
    QString problem;

    Private(ComposerWidget *owner, Backend &b, ConsoleSettings &s)
        : q(owner), backend(b), settings(s)
    { }

    void buildUi();
    QHBoxLayout *buildToolbar();
    QPlainTextEdit *buildEditor();
    QLabel *buildProblemLabel();
    QHBoxLayout *buildPublishRow();
    QLabel *buildStatusLabel();
    QToolButton *buildRepeatToggle();
    QWidget *buildRepeatPanel();
    QHBoxLayout *buildRepeatControls();
    void addShortcuts();
    void validate();
    void setStatus(const QString &text, bool error, bool transient = false);
    void updateActions();
    void updateProblemStyle();
    void rebuildHistoryMenu();
    void rebuildTemplatesMenu();
    void refreshMenus();
    void replaceText(const QString &text);
    void reformat(bool pretty);
    void startRepeat();
    void updateRepeatCounters();
    void updateRateWarning();
    void updateBudget();
};

void ComposerWidget::Private::buildUi()
{
    auto *layout = new QVBoxLayout(q);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(4);
    layout->addLayout(buildToolbar());
    layout->addWidget(buildEditor(), 1);
    // The verdict sits right under the field it is about.
    layout->addWidget(buildProblemLabel());
    layout->addLayout(buildPublishRow());
    layout->addWidget(buildStatusLabel());
    // Repeat: collapsed until asked for, so the editor keeps the room.
    layout->addWidget(buildRepeatToggle());
    layout->addWidget(buildRepeatPanel());
    addShortcuts();
}

// History and templates on the left, formatting on the right.
QHBoxLayout *ComposerWidget::Private::buildToolbar()
{
    auto *toolbar = new QHBoxLayout;
    toolbar->setSpacing(4);
    historyButton = new QToolButton(q);
    historyButton->setText(tr("History"));
    historyButton->setToolTip(tr("Load a payload published earlier"));
    historyButton->setPopupMode(QToolButton::InstantPopup);
    historyMenu = new QMenu(historyButton);
    historyButton->setMenu(historyMenu);
    templatesButton = new QToolButton(q);
    templatesButton->setText(tr("Templates"));
    templatesButton->setToolTip(tr("Save the text as a named template, or load or delete one"));
    templatesButton->setPopupMode(QToolButton::InstantPopup);
    templatesMenu = new QMenu(templatesButton);
    templatesButton->setMenu(templatesMenu);
    prettyButton = new QToolButton(q);
    prettyButton->setText(tr("Pretty"));
    prettyButton->setToolTip(tr("Indent the JSON, one member per line (Ctrl+Shift+F)"));
    compactButton = new QToolButton(q);
    compactButton->setText(tr("Compact"));
    compactButton->setToolTip(tr("Write the JSON on one line, as it is sent (Ctrl+Shift+J)"));
    toolbar->addWidget(historyButton);
    toolbar->addWidget(templatesButton);
    toolbar->addStretch(1);
    toolbar->addWidget(prettyButton);
    toolbar->addWidget(compactButton);
    return toolbar;
}

QPlainTextEdit *ComposerWidget::Private::buildEditor()
{
    editor = new QPlainTextEdit(q);
    editor->setObjectName(QStringLiteral("composerEditor"));
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    editor->setFont(mono);
    editor->setTabStopDistance(QFontMetricsF(mono).horizontalAdvance(u' ') * 4);
    editor->setLineWrapMode(QPlainTextEdit::NoWrap);
    editor->setPlaceholderText(tr("{\"key\": \"value\"}"));
    editor->setAccessibleName(tr("Message data (JSON)"));
    highlighter = new JsonHighlighter(editor->document(), q->palette());
    return editor;
}

QLabel *ComposerWidget::Private::buildProblemLabel()
{
    problemLabel = new QLabel(q);
    problemLabel->setWordWrap(true);
    problemLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    problemLabel->setAccessibleName(tr("JSON problem"));
    return problemLabel;
}

QHBoxLayout *ComposerWidget::Private::buildPublishRow()
{
    auto *publishRow = new QHBoxLayout;
    meter = new ByteMeter(q);
    publishButton = new QPushButton(tr("Publish"), q);
    publishButton->setToolTip(tr("Publish this message (Ctrl+Enter)"));
    publishButton->setDefault(false);
    publishRow->addWidget(meter, 1);
    publishRow->addWidget(publishButton);
    return publishRow;
}

QLabel *ComposerWidget::Private::buildStatusLabel()
{
    statusLabel = new QLabel(q);
    statusLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    statusLabel->setAccessibleName(tr("Publish status"));
    return statusLabel;
}

QToolButton *ComposerWidget::Private::buildRepeatToggle()
{
    repeatToggle = new QToolButton(q);
    repeatToggle->setText(tr("Repeat…"));
    repeatToggle->setCheckable(true);
    repeatToggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    repeatToggle->setArrowType(Qt::RightArrow);
    repeatToggle->setAutoRaise(true);
    repeatToggle->setToolTip(tr("Publish the text N times at R per second; {{counter}}, {{now}}, "
                                "{{epoch_ms}}, {{uuid}} and {{random}} are filled in per message"));
    return repeatToggle;
}

QWidget *ComposerWidget::Private::buildRepeatPanel()
{
    repeatPanel = new QWidget(q);
    auto *repeatLayout = new QVBoxLayout(repeatPanel);
    repeatLayout->setContentsMargins(18, 0, 0, 0);
    repeatLayout->setSpacing(4);
    repeatLayout->addLayout(buildRepeatControls());
    repeatProgress = new QProgressBar(repeatPanel);
    repeatProgress->setRange(0, repeatCount->value());
    repeatProgress->setValue(0);
    repeatProgress->setFormat(tr("%v / %m"));
    repeatProgress->setAccessibleName(tr("Repeat progress"));
    repeatLayout->addWidget(repeatProgress);
    auto *info = new QHBoxLayout;
    budgetLabel = new QLabel(repeatPanel);
    budgetLabel->setToolTip(tr("The stream's publish budget as estimated here: a bucket that "
                               "holds %1 s of the stream's rate and refills at that rate")
                                .arg(limits::kPublishBurstSeconds));
    repeatCounters = new QLabel(repeatPanel);
    info->addWidget(budgetLabel);
    info->addStretch(1);
    info->addWidget(repeatCounters);
    repeatLayout->addLayout(info);
    rateWarningLabel = new QLabel(repeatPanel);
    rateWarningLabel->setWordWrap(true);
    repeatLayout->addWidget(rateWarningLabel);
    repeatPanel->setVisible(false);
    return repeatPanel;
}

QHBoxLayout *ComposerWidget::Private::buildRepeatControls()
{
    auto *controls = new QHBoxLayout;
    repeatCount = new QSpinBox(repeatPanel);
    repeatCount->setRange(1, 1'000'000);
    repeatCount->setGroupSeparatorShown(true);
    repeatCount->setValue(settings.value(ConsoleSettings::Key::RepeatCount).toInt());
    repeatCount->setAccessibleName(tr("Messages to publish"));
    repeatRate = new QDoubleSpinBox(repeatPanel);
    repeatRate->setRange(0.1, RepeatPublisher::kMaxRatePerSecond);
    repeatRate->setDecimals(1);
    repeatRate->setSuffix(tr(" /s"));
    repeatRate->setValue(settings.value(ConsoleSettings::Key::RepeatRatePerSecond).toDouble());
    repeatRate->setAccessibleName(tr("Messages per second"));
    auto *countLabel = new QLabel(tr("&Count"), repeatPanel);
    countLabel->setBuddy(repeatCount);
    auto *rateLabel = new QLabel(tr("&Rate"), repeatPanel);
    rateLabel->setBuddy(repeatRate);
    repeatStart = new QPushButton(tr("Start"), repeatPanel);
    repeatStop = new QPushButton(tr("Stop"), repeatPanel);
    controls->addWidget(countLabel);
    controls->addWidget(repeatCount);
    controls->addSpacing(8);
    controls->addWidget(rateLabel);
    controls->addWidget(repeatRate);
    controls->addStretch(1);
    controls->addWidget(repeatStart);
    controls->addWidget(repeatStop);
    return controls;
}

void ComposerWidget::Private::addShortcuts()
{
    // Ctrl+Enter anywhere in the composer; both keys, as "Enter" is the keypad's.
    publishAction = new QAction(tr("Publish"), q);
    publishAction->setShortcuts(
        {QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
    publishAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    q->addAction(publishAction);
    auto *prettyAction = new QAction(tr("Pretty"), q);
    prettyAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
    prettyAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    q->addAction(prettyAction);
    auto *compactAction = new QAction(tr("Compact"), q);
    compactAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_J));
    compactAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    q->addAction(compactAction);

    QObject::connect(publishAction, &QAction::triggered, q, &ComposerWidget::publish);
    QObject::connect(publishButton, &QPushButton::clicked, q, &ComposerWidget::publish);
    QObject::connect(prettyButton, &QToolButton::clicked, q, &ComposerWidget::formatPretty);
    QObject::connect(compactButton, &QToolButton::clicked, q, &ComposerWidget::formatCompact);
    QObject::connect(prettyAction, &QAction::triggered, q, &ComposerWidget::formatPretty);
    QObject::connect(compactAction, &QAction::triggered, q, &ComposerWidget::formatCompact);
}

ComposerWidget::ComposerWidget(Backend &backend, ConsoleSettings &settings, QWidget *parent)
    : QWidget(parent), d(std::make_unique<Private>(this, backend, settings))
{
    d->buildUi();
    d->repeat = new RepeatPublisher(backend, this);

    d->validationTimer.setSingleShot(true);
    d->validationTimer.setInterval(kValidationDelayMs);
    connect(&d->validationTimer, &QTimer::timeout, this, [this] { d->validate(); });
    connect(d->editor, &QPlainTextEdit::textChanged, this, [this] {
        d->validationTimer.start();
        if (d->statusTransient)
            d->setStatus({}, false);
    });

    // The menus are rebuilt after the change, not during it: the change may come from one of
    // their own actions (Delete, Clear History), which must not be deleted while it fires.
    connect(&settings, &ConsoleSettings::changed, this, [this](ConsoleSettings::Key key) {
        if (key == ConsoleSettings::Key::RecentPayloads)
            d->historyStale = true;
        else if (key == ConsoleSettings::Key::PayloadTemplates)
            d->templatesStale = true;
        else
            return;
        QMetaObject::invokeMethod(
            this, [this] { d->refreshMenus(); }, Qt::QueuedConnection);
    });
    connect(d->historyMenu, &QMenu::aboutToShow, this, [this] { d->refreshMenus(); });
    connect(d->templatesMenu, &QMenu::aboutToShow, this, [this] { d->refreshMenus(); });

    connect(d->repeatToggle, &QToolButton::toggled, this, [this](bool on) {
        d->repeatToggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
        d->repeatPanel->setVisible(on);
    });
    connect(d->repeatCount, &QSpinBox::valueChanged, this, [this](int value) {
        d->settings.setValue(ConsoleSettings::Key::RepeatCount, value);
        if (!d->repeat->isRunning()) { // the bar previews the run it would start
            d->repeatProgress->setRange(0, value);
            d->repeatProgress->setValue(0);
        }
    });
    connect(d->repeatRate, &QDoubleSpinBox::valueChanged, this, [this](double value) {
        d->settings.setValue(ConsoleSettings::Key::RepeatRatePerSecond, value);
        d->updateRateWarning();
    });
    connect(d->repeatStart, &QPushButton::clicked, this, [this] { d->startRepeat(); });
    connect(d->repeatStop, &QPushButton::clicked, d->repeat, &RepeatPublisher::cancel);
    connect(d->repeat, &RepeatPublisher::budgetChanged, this, [this] { d->updateBudget(); });
    connect(
        d->repeat, &RepeatPublisher::progressChanged, this, [this] { d->updateRepeatCounters(); });
    connect(d->repeat, &RepeatPublisher::runningChanged, this, [this] { d->updateActions(); });
    connect(d->repeat, &RepeatPublisher::messagePublished, this,
        [this](const StreamMessage &message, qint64) {
            if (!d->repeatRecorded) {
                d->settings.addRecentPayload(d->repeatTemplateText);
                d->repeatRecorded = true;
            }
            Q_EMIT published(message);
        });
    connect(d->repeat, &RepeatPublisher::messageFailed, this,
        [this](qint64 counter, const ApiError &error) {
            d->setStatus(
                tr("Message %1: %2 (error %3)").arg(counter).arg(error.message()).arg(error.code()),
                true);
        });
    connect(d->repeat, &RepeatPublisher::backingOff, this, [this](int delayMs, qint64 counter) {
        d->setStatus(tr("Rate limited (429): waiting %1 ms, then sending message %2 again")
                         .arg(delayMs)
                         .arg(counter),
            false);
    });
    connect(d->repeat, &RepeatPublisher::finished, this, [this](bool completed) {
        const RepeatPublisher &r = *d->repeat;
        if (r.abortError()) {
            d->setStatus(tr("Repeat stopped after %1 sent: %2 (error %3)")
                             .arg(r.sent())
                             .arg(r.abortError()->message())
                             .arg(r.abortError()->code()),
                true);
            Q_EMIT publishFailed(*r.abortError());
        } else if (completed) {
            d->setStatus(tr("Repeat finished: %1 sent, %2 failed, %3 retried after 429")
                             .arg(r.sent())
                             .arg(r.failed())
                             .arg(r.retried()),
                r.failed() > 0);
        } else {
            d->setStatus(
                tr("Repeat stopped: %1 sent, %2 not sent").arg(r.sent()).arg(r.remaining()), false);
        }
        d->updateRepeatCounters();
    });

    d->rebuildHistoryMenu();
    d->rebuildTemplatesMenu();
    d->updateBudget();
    d->updateRepeatCounters();
    d->updateRateWarning();
    d->updateProblemStyle();
    d->validate();
}

ComposerWidget::~ComposerWidget() = default;

void ComposerWidget::setStream(const QString &serviceSid, const QString &streamSid)
{
    if (serviceSid == d->serviceSid && streamSid == d->streamSid)
        return;
    ++d->generation;
    d->serviceSid = serviceSid;
    d->streamSid = streamSid;
    d->repeat->setStream(serviceSid, streamSid);
    d->setStatus({}, false);
    d->updateActions();
    d->updateRateWarning();
}

void ComposerWidget::validateNow()
{
    d->validationTimer.stop();
    d->validate();
}

void ComposerWidget::Private::validate()
{
    const QString text = editor->toPlainText();
    QList<QTextEdit::ExtraSelection> marks;
    empty = text.trimmed().isEmpty();
    if (empty) {
        valid = false;
        reformattable = false;
        problem.clear();
        meter->setBytes(-1);
        problemLabel->setText(tr("Write a JSON object to publish."));
        problemLabel->setProperty("problem", false);
        editor->setExtraSelections(marks);
        updateProblemStyle();
        updateActions();
        return;
    }

    const PayloadTemplate payloadTemplate(text);
    // A preview of message 1; one fixed context so that measuring an oversized payload below
    // sees exactly the same expansion.
    PayloadTemplate::Context context;
    context.now = QDateTime::currentDateTimeUtc();
    context.uuid = QUuid::createUuid();
    QRandomGenerator preview(1);
    context.random = &preview;
    const auto payload = payloadTemplate.expandAndValidate(context);

    valid = payload.has_value();
    reformattable = !payloadTemplate.hasPlaceholders() && (valid || payload.error().offset < 0);
    if (valid) {
        problem.clear();
        meter->setBytes(payload->compact.size());
        problemLabel->setText(payloadTemplate.hasPlaceholders()
                ? tr("Valid. Placeholders are filled in when published ({{counter}} is 1 for "
                     "a single message).")
                : tr("Valid JSON object."));
    } else {
        const validation::JsonProblem &p = payload.error();
        if (p.error.code() == ApiError::DataTooLarge) {
            // The validator measures the payload (its canonical compact form); take its number.
            // Should it carry none, measure the whitespace-free text instead.
            qsizetype bytes = p.error.reportedBytes().value_or(-1);
            if (bytes < 0) {
                preview.seed(1); // the same expansion: same instant, UUID and random sequence
                const auto expanded = payloadTemplate.expand(context);
                bytes =
                    expanded ? relayout(QString::fromUtf8(expanded->text), 0).toUtf8().size() : -1;
            }
            meter->setBytes(bytes);
            problem = tr("%1 bytes: over the %2-byte limit")
                          .arg(ByteMeter::formatBytes(bytes),
                              ByteMeter::formatBytes(limits::kMaxMessageBytes));
        } else if (p.offset >= 0) {
            meter->setBytes(-1);
            problem = tr("Line %1, column %2: %3").arg(p.line).arg(p.column).arg(reasonOf(p));
            // Underline the spot too, so the eye finds it in a long document.
            const QByteArray &utf8 = payloadTemplate.utf8();
            const int position = int(QString::fromUtf8(utf8.left(p.offset)).size());
            QTextEdit::ExtraSelection mark;
            mark.cursor = QTextCursor(editor->document());
            mark.cursor.setPosition(qMin(position, editor->document()->characterCount() - 1));
            // Qt often reports the position just past the bad token, at a line's end where an
            // underline would be invisible: mark the last character of the line instead.
            if (mark.cursor.atBlockEnd() && !mark.cursor.atBlockStart())
                mark.cursor.movePosition(QTextCursor::PreviousCharacter);
            mark.cursor.movePosition(QTextCursor::NextCharacter, QTextCursor::KeepAnchor);
            mark.format.setUnderlineStyle(QTextCharFormat::WaveUnderline);
            mark.format.setUnderlineColor(errorColor(q->palette()));
            marks.append(mark);
        } else {
            meter->setBytes(-1);
            problem = reasonOf(p);
        }
        problemLabel->setText(problem);
    }
    problemLabel->setProperty("problem", !valid);
    editor->setExtraSelections(marks);
    updateProblemStyle();
    updateActions();
}

void ComposerWidget::Private::updateProblemStyle()
{
    QPalette palette = q->palette();
    const bool isProblem = problemLabel->property("problem").toBool();
    if (isProblem)
        palette.setColor(QPalette::WindowText, errorColor(q->palette()));
    else
        palette.setColor(QPalette::WindowText, q->palette().color(QPalette::PlaceholderText));
    problemLabel->setPalette(palette);

    QPalette statusPalette = q->palette();
    if (statusError)
        statusPalette.setColor(QPalette::WindowText, errorColor(q->palette()));
    statusLabel->setPalette(statusPalette);

    QPalette warningPalette = q->palette();
    warningPalette.setColor(QPalette::WindowText, warningColor(q->palette()));
    rateWarningLabel->setPalette(warningPalette);
}

void ComposerWidget::Private::updateActions()
{
    const bool hasStream = !serviceSid.isEmpty() && !streamSid.isEmpty();
    const bool running = repeat && repeat->isRunning();
    publishButton->setEnabled(hasStream && valid);
    publishAction->setEnabled(hasStream);
    prettyButton->setEnabled(reformattable);
    compactButton->setEnabled(reformattable);
    repeatStart->setEnabled(hasStream && !running); // start() says why it cannot
    repeatStop->setEnabled(running);
    repeatCount->setEnabled(!running);
    repeatRate->setEnabled(!running);
}

void ComposerWidget::Private::setStatus(const QString &text, bool error, bool transient)
{
    statusError = error && !text.isEmpty();
    statusTransient = transient;
    statusLabel->setText(text);
    updateProblemStyle();
}

bool ComposerWidget::isPublishable()
{
    validateNow();
    return d->valid && !d->serviceSid.isEmpty() && !d->streamSid.isEmpty();
}

QString ComposerWidget::problemText() const
{
    return d->problem;
}

QString ComposerWidget::statusText() const
{
    return d->statusLabel->text();
}

bool ComposerWidget::statusIsError() const
{
    return d->statusError;
}

void ComposerWidget::publish()
{
    if (d->serviceSid.isEmpty() || d->streamSid.isEmpty()) {
        d->setStatus(tr("Select a stream first."), true);
        return;
    }
    validateNow(); // never publish on a verdict from before the last keystroke
    if (!d->valid) {
        if (!d->empty)
            d->setStatus(tr("Not published: %1").arg(d->problem), true, true);
        return;
    }
    const QString text = d->editor->toPlainText();
    const PayloadTemplate payloadTemplate(text);
    const auto payload = payloadTemplate.expandAndValidate({}); // fresh {{now}}, {{uuid}}, …
    if (!payload) {
        d->setStatus(tr("Not published: %1").arg(payload.error().error.message()), true, true);
        return;
    }
    // History keeps the compact form of plain JSON (so reformatting does not duplicate entries)
    // and the text as written when it has placeholders (they are the point of keeping it).
    const QString historyEntry =
        payloadTemplate.hasPlaceholders() ? text : QString::fromUtf8(payload->compact);
    d->setStatus(tr("Publishing…"), false);
    const quint64 generation = d->generation;
    d->backend.publish(d->serviceSid, d->streamSid, payload->compact)
        .then(this, [this, generation, historyEntry](const ApiResult<StreamMessage> &result) {
            const bool rateLimited = !result && RateLimitBackoff::isRateLimited(result.error());
            if (generation != d->generation)
                return; // the composer moved to another stream meanwhile
            d->repeat->noteExternalPublish(rateLimited);
            if (!result) {
                d->setStatus(
                    tr("%1 (error %2)").arg(result.error().message()).arg(result.error().code()),
                    true);
                Q_EMIT publishFailed(result.error());
                return;
            }
            d->setStatus(tr("Published %1").arg(result->sid), false);
            d->settings.addRecentPayload(historyEntry);
            Q_EMIT published(*result);
        });
}

void ComposerWidget::Private::replaceText(const QString &text)
{
    // Through a cursor, so the change is one step on the undo stack.
    QTextCursor cursor(editor->document());
    cursor.beginEditBlock();
    cursor.select(QTextCursor::Document);
    cursor.insertText(text);
    cursor.endEditBlock();
    q->validateNow();
}

void ComposerWidget::Private::reformat(bool pretty)
{
    const QString text = editor->toPlainText();
    // Only text Qt's parser accepts (an object, also an oversized one, or an array); the
    // placeholders of a template are not JSON and are left alone.
    if (PayloadTemplate(text).hasPlaceholders()) {
        q->validateNow();
        return;
    }
    QJsonParseError error;
    QJsonDocument::fromJson(text.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError) {
        q->validateNow();
        return;
    }
    if (!pretty) {
        // Exactly what would be sent, when it can be sent.
        if (const auto payload = validation::parseMessageData(text.toUtf8())) {
            replaceText(QString::fromUtf8(payload->compact));
            return;
        }
    }
    replaceText(relayout(text, pretty ? 4 : 0));
}

void ComposerWidget::formatPretty()
{
    d->reformat(true);
}

void ComposerWidget::formatCompact()
{
    d->reformat(false);
}

void ComposerWidget::loadPayload(const QString &payload)
{
    QJsonParseError error;
    QJsonDocument::fromJson(payload.toUtf8(), &error);
    const bool plainJson =
        !PayloadTemplate(payload).hasPlaceholders() && error.error == QJsonParseError::NoError;
    d->replaceText(plainJson ? relayout(payload, 4) : payload);
    d->editor->setFocus();
}

void ComposerWidget::Private::refreshMenus()
{
    if (historyStale) {
        historyStale = false;
        rebuildHistoryMenu();
    }
    if (templatesStale) {
        templatesStale = false;
        rebuildTemplatesMenu();
    }
}

void ComposerWidget::Private::rebuildHistoryMenu()
{
    historyMenu->clear();
    const QStringList recent = settings.recentPayloads();
    if (recent.isEmpty()) {
        historyMenu->addAction(tr("No messages published yet"))->setEnabled(false);
        return;
    }
    for (const QString &payload : recent) {
        QAction *action = historyMenu->addAction(oneLine(payload));
        action->setData(payload);
        action->setToolTip(payload);
        QObject::connect(
            action, &QAction::triggered, q, [this, payload] { q->loadPayload(payload); });
    }
    historyMenu->addSeparator();
    QAction *clear = historyMenu->addAction(tr("Clear History"));
    clear->setObjectName(QStringLiteral("clearHistory"));
    QObject::connect(clear, &QAction::triggered, q,
        [this] { settings.setValue(ConsoleSettings::Key::RecentPayloads, QStringList()); });
}

void ComposerWidget::Private::rebuildTemplatesMenu()
{
    templatesMenu->clear();
    QAction *save = templatesMenu->addAction(tr("Save as Template…"));
    save->setObjectName(QStringLiteral("saveTemplate"));
    QObject::connect(save, &QAction::triggered, q, [this] {
        bool ok = false;
        const QString name = QInputDialog::getText(q, tr("Save Template"),
            tr("Template name (an existing one of that name is replaced):"), QLineEdit::Normal,
            QString(), &ok)
                                 .trimmed();
        if (ok && !name.isEmpty())
            q->saveTemplate(name);
    });
    const QVariantMap templates = settings.payloadTemplates();
    if (templates.isEmpty())
        return;
    templatesMenu->addSeparator();
    for (auto it = templates.cbegin(); it != templates.cend(); ++it) {
        const QString &name = it.key();
        QAction *load = templatesMenu->addAction(oneLine(name));
        load->setData(name);
        load->setToolTip(it.value().toString());
        QObject::connect(load, &QAction::triggered, q, [this, name] { q->loadTemplate(name); });
    }
    templatesMenu->addSeparator();
    QMenu *remove = templatesMenu->addMenu(tr("Delete"));
    remove->setObjectName(QStringLiteral("deleteTemplates"));
    for (auto it = templates.cbegin(); it != templates.cend(); ++it) {
        const QString &name = it.key();
        QAction *action = remove->addAction(oneLine(name));
        action->setData(name);
        QObject::connect(action, &QAction::triggered, q, [this, name] { q->removeTemplate(name); });
    }
}

void ComposerWidget::saveTemplate(const QString &name)
{
    if (name.trimmed().isEmpty())
        return;
    d->settings.setPayloadTemplate(name.trimmed(), d->editor->toPlainText());
    d->setStatus(tr("Saved template \"%1\"").arg(name.trimmed()), false);
}

bool ComposerWidget::loadTemplate(const QString &name)
{
    const QVariantMap templates = d->settings.payloadTemplates();
    const auto it = templates.constFind(name);
    if (it == templates.cend())
        return false;
    // Verbatim: a template's layout and placeholders are the user's.
    d->replaceText(it->toString());
    d->editor->setFocus();
    return true;
}

void ComposerWidget::removeTemplate(const QString &name)
{
    d->settings.removePayloadTemplate(name);
}

void ComposerWidget::Private::startRepeat()
{
    q->validateNow();
    repeatTemplateText = editor->toPlainText();
    repeatRecorded = false;
    repeatProgress->setRange(0, repeatCount->value());
    repeatProgress->setValue(0);
    const auto started =
        repeat->start(repeatTemplateText, repeatCount->value(), repeatRate->value());
    if (!started) {
        setStatus(tr("Repeat not started: %1").arg(started.error()), true, true);
        return;
    }
    setStatus(tr("Repeating %1 messages at %2/s…")
                  .arg(ByteMeter::formatBytes(repeatCount->value()))
                  .arg(repeatRate->value()),
        false);
    updateRepeatCounters();
}

void ComposerWidget::Private::updateRepeatCounters()
{
    const RepeatPublisher &r = *repeat;
    if (r.count() > 0) {
        repeatProgress->setRange(0, r.count());
        repeatProgress->setValue(r.sent() + r.failed());
    }
    repeatCounters->setText(tr("sent %1 · failed %2 · retried %3 · remaining %4")
                                .arg(r.sent())
                                .arg(r.failed())
                                .arg(r.retried())
                                .arg(r.remaining()));
}

void ComposerWidget::Private::updateRateWarning()
{
    const QString warning = repeat->rateWarning(repeatRate->value());
    rateWarningLabel->setText(warning);
    rateWarningLabel->setVisible(!warning.isEmpty());
}

void ComposerWidget::Private::updateBudget()
{
    budgetLabel->setText(repeat->budgetText());
}

QString ComposerWidget::budgetText() const
{
    return d->budgetLabel->text();
}

void ComposerWidget::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange && d && d->highlighter) {
        // Our own palette: the editor inherits it, but hears of the change only after us.
        d->highlighter->setPalette(palette());
        d->updateProblemStyle();
        d->validate(); // recolours the error underline
    }
    QWidget::changeEvent(event);
}

QPlainTextEdit *ComposerWidget::editor() const
{
    return d->editor;
}

ByteMeter *ComposerWidget::byteMeter() const
{
    return d->meter;
}

QAbstractButton *ComposerWidget::publishButton() const
{
    return d->publishButton;
}

QAction *ComposerWidget::publishAction() const
{
    return d->publishAction;
}

QAbstractButton *ComposerWidget::prettyButton() const
{
    return d->prettyButton;
}

QAbstractButton *ComposerWidget::compactButton() const
{
    return d->compactButton;
}

QMenu *ComposerWidget::historyMenu() const
{
    d->refreshMenus();
    return d->historyMenu;
}

QMenu *ComposerWidget::templatesMenu() const
{
    d->refreshMenus();
    return d->templatesMenu;
}

QAbstractButton *ComposerWidget::repeatToggle() const
{
    return d->repeatToggle;
}

QSpinBox *ComposerWidget::repeatCountBox() const
{
    return d->repeatCount;
}

QDoubleSpinBox *ComposerWidget::repeatRateBox() const
{
    return d->repeatRate;
}

QAbstractButton *ComposerWidget::repeatStartButton() const
{
    return d->repeatStart;
}

QAbstractButton *ComposerWidget::repeatStopButton() const
{
    return d->repeatStop;
}

QProgressBar *ComposerWidget::repeatProgress() const
{
    return d->repeatProgress;
}

RepeatPublisher *ComposerWidget::repeatPublisher() const
{
    return d->repeat;
}

} // namespace streams
