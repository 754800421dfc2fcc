#pragma once

#include <QDateTime>
#include <QFrame>

class QLabel;
class QToolButton;

namespace streams {

class ApiError;

/// An inline strip at the top of a page that says what went wrong (or what to know) where it
/// happened, instead of a modal box. The same message arriving again counts up ("×3") rather
/// than stacking or flashing, so a failing repeat run or a flapping connection cannot turn into
/// a storm. Dismissed by its close button or by clear().
class PageBanner final : public QFrame
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PageBanner)

public:
    enum class Kind {
        Info,
        Warning,
        Error
    };
    Q_ENUM(Kind)

    explicit PageBanner(QWidget *parent = nullptr);
    ~PageBanner() override;

    /// Shows `text` (plain text). A repeat of the message shown counts up instead.
    void showMessage(Kind kind, const QString &text);
    /// Hides the banner and forgets its message.
    void clear();

    Kind kind() const { return m_kind; }
    /// The message without the repeat count; empty when nothing is shown.
    QString text() const { return m_text; }
    /// How many times the current message arrived in a row (1 for a fresh one).
    int repeatCount() const { return m_count; }
    /// When the current message last arrived.
    QDateTime lastShown() const { return m_lastShown; }
    /// Shown text and hidden state as the user sees them, for tests.
    QString displayedText() const;
    QToolButton *closeButton() const { return m_close; }

    /// An error as the console words it everywhere: "message (error 54009)", or the message
    /// alone when there was no answer at all (no Twilio code to show).
    static QString errorText(const ApiError &error);

Q_SIGNALS:
    void dismissed();

private:
    void applyStyle();
    void render();

    QLabel *m_icon;
    QLabel *m_label;
    QToolButton *m_close;
    Kind m_kind = Kind::Info;
    QString m_text;
    int m_count = 0;
    QDateTime m_lastShown;
};

} // namespace streams
