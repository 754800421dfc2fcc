#pragma once

#include "api/apierror.h"
#include "api/streammessage.h"

#include <QWidget>
#include <memory>

QT_BEGIN_NAMESPACE
class QAbstractButton;
class QAction;
class QDoubleSpinBox;
class QMenu;
class QPlainTextEdit;
class QProgressBar;
class QSpinBox;
QT_END_NAMESPACE

namespace streams {

class Backend;
class ByteMeter;
class ConsoleSettings;
class RepeatPublisher;

/// Writes and publishes messages: a JSON editor with highlighting, validity as you type (line and
/// column), a byte meter of the compact UTF-8 form against the 4 KiB limit (validation::
/// parseMessageData, the engine's own check), Pretty/Compact, Publish (Ctrl+Enter), history and
/// templates, and "repeat" publishing N messages at R/s with {{counter}}/{{now}} placeholders
/// within the stream's publish budget.
class ComposerWidget final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ComposerWidget)

public:
    ComposerWidget(Backend &backend, ConsoleSettings &settings, QWidget *parent = nullptr);
    ~ComposerWidget() override;

    void setStream(const QString &serviceSid, const QString &streamSid);

    /// Validates the editor's text now instead of after the typing pause.
    void validateNow();
    /// True when the text (validated now) is a JSON object within the limit and a stream is set.
    bool isPublishable();
    /// The message shown at the editor, e.g. "Line 3, column 7: unterminated string"; empty
    /// when the text is valid.
    QString problemText() const;
    /// The publish status line ("Published TZ…", or an error with its code).
    QString statusText() const;
    bool statusIsError() const;

    /// Saves the editor's text as a named template (replacing one of the same name).
    void saveTemplate(const QString &name);
    /// Loads a saved template into the editor; false when there is none of that name.
    bool loadTemplate(const QString &name);
    void removeTemplate(const QString &name);
    /// Loads a payload into the editor, pretty-printed when it is plain JSON.
    void loadPayload(const QString &payload);

    // The pieces a user sees and drives, for tests.
    QPlainTextEdit *editor() const;
    ByteMeter *byteMeter() const;
    QAbstractButton *publishButton() const;
    QAction *publishAction() const;
    QAbstractButton *prettyButton() const;
    QAbstractButton *compactButton() const;
    /// The History and Templates menus, brought up to date with the settings first.
    QMenu *historyMenu() const;
    QMenu *templatesMenu() const;
    QAbstractButton *repeatToggle() const;
    QSpinBox *repeatCountBox() const;
    QDoubleSpinBox *repeatRateBox() const;
    QAbstractButton *repeatStartButton() const;
    QAbstractButton *repeatStopButton() const;
    QProgressBar *repeatProgress() const;
    RepeatPublisher *repeatPublisher() const;
    /// The budget line as shown ("budget: 287/300, refills 30/s").
    QString budgetText() const;

public Q_SLOTS:
    void publish();
    void formatPretty();
    void formatCompact();

Q_SIGNALS:
    /// A message this composer published, by Publish or by a repeat run (once per message).
    void published(const streams::StreamMessage &message);
    /// The service refused a message or could not be reached: once per Publish, and once when
    /// a repeat run stops on an error (not per message of a run, which the status line counts).
    void publishFailed(const streams::ApiError &error);

protected:
    void changeEvent(QEvent *event) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace streams
