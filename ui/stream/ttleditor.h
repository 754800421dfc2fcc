#pragma once

#include <QWidget>
#include <optional>

class QCheckBox;
class QLabel;
class QLineEdit;

namespace streams {

/// A stream TTL as the user gives it: seconds or a duration ("3600", "90s", "1h30m", "2d") in a
/// text field, or "Never expires". Parse errors (durationformat::parse, whose range is
/// validation::parseTtl's) show at the field while typing: a red message under it, a red frame
/// and a tooltip. Errors from elsewhere (the service refusing an update) can be shown the same way
/// with showError().
class TtlEditor final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TtlEditor)

public:
    explicit TtlEditor(QWidget *parent = nullptr);
    ~TtlEditor() override;

    /// Seconds, 0 for never; empty while the text does not parse.
    std::optional<qint64> ttlSeconds() const;
    bool isValid() const;
    /// Shows `seconds` (0 checks "Never expires") and forgets any error and user edits.
    void setTtlSeconds(qint64 seconds);
    /// True once the user typed or toggled since the last setTtlSeconds().
    bool isModified() const;

    /// The message shown under the field, empty when none is.
    QString errorText() const;
    /// Shows an error at the field until the user edits it again (e.g. the service's answer).
    void showError(const QString &message);
    void clearError();

    QLineEdit *lineEdit() const;
    QCheckBox *neverExpiresCheckBox() const;

Q_SIGNALS:
    /// The parsed value changed (0 = never). Not emitted while the text is invalid.
    void ttlChanged(qint64 seconds);
    void validityChanged(bool valid);
    /// Enter was pressed in the text field.
    void returnPressed();

private:
    void reparse();
    void presentError(const QString &message);

    QLineEdit *m_text = nullptr;
    QLabel *m_hint = nullptr;
    QCheckBox *m_never = nullptr;
    QLabel *m_error = nullptr;
    std::optional<qint64> m_seconds;
    QString m_parseError;
    bool m_modified = false;
    bool m_settingValue = false; // programmatic changes are not user edits
};

} // namespace streams
