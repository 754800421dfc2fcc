#include "ui/stream/ttleditor.h"

#include "api/limits.h"
#include "ui/common/durationformat.h"

#include <QCheckBox>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>

namespace streams {

namespace {

// Red that stays readable on both the light and the dark palette.
QColor errorColor(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128 ? QColor(0xff, 0x6b, 0x6b)
                                                             : QColor(0xc6, 0x28, 0x28);
}

QString fieldToolTip()
{
    return TtlEditor::tr("Seconds, or a duration such as 90s, 5m, 1h30m or 2d; at most %1")
        .arg(durationformat::format(limits::kMaxTtlSeconds));
}

} // namespace

TtlEditor::TtlEditor(QWidget *parent)
    : QWidget(parent),
      m_text(new QLineEdit(this)),
      m_hint(new QLabel(this)),
      m_never(new QCheckBox(tr("Never expires"), this)),
      m_error(new QLabel(this))
{
    m_text->setObjectName(QStringLiteral("ttlText"));
    m_text->setPlaceholderText(tr("e.g. 3600, 90s, 5m, 1h30m, 2d"));
    m_text->setClearButtonEnabled(true);
    m_text->setToolTip(fieldToolTip());
    m_hint->setObjectName(QStringLiteral("ttlHint"));
    m_hint->setForegroundRole(QPalette::PlaceholderText);
    m_never->setObjectName(QStringLiteral("neverExpires"));
    m_error->setObjectName(QStringLiteral("ttlError"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->hide();

    auto *layout = new QGridLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setVerticalSpacing(2);
    layout->addWidget(m_text, 0, 0);
    layout->addWidget(m_never, 0, 1);
    // The hint and the error share the row under the field, so the form does not jump when one
    // replaces the other.
    layout->addWidget(m_hint, 1, 0, 1, 2);
    layout->addWidget(m_error, 1, 0, 1, 2);
    layout->setColumnStretch(0, 1);
    setFocusProxy(m_text);

    connect(m_text, &QLineEdit::textEdited, this, [this] {
        m_modified = true;
        reparse();
    });
    connect(m_never, &QCheckBox::toggled, this, [this](bool never) {
        m_text->setEnabled(!never);
        if (!m_settingValue) {
            m_modified = true;
            if (!never)
                m_text->setFocus();
        }
        reparse();
    });
    connect(m_text, &QLineEdit::returnPressed, this, [this] {
        // An empty field stays quiet while typing; asking to apply it deserves the reason.
        if (!isValid() && m_error->isHidden() && !m_parseError.isEmpty())
            presentError(m_parseError);
        Q_EMIT returnPressed();
    });

    setTtlSeconds(0); // the contract's default: no Ttl, no expiry
}

TtlEditor::~TtlEditor() = default;

std::optional<qint64> TtlEditor::ttlSeconds() const
{
    return m_seconds;
}

bool TtlEditor::isValid() const
{
    return m_seconds.has_value();
}

void TtlEditor::setTtlSeconds(qint64 seconds)
{
    m_settingValue = true;
    if (seconds > 0)
        m_text->setText(durationformat::format(seconds));
    m_never->setChecked(seconds <= 0);
    m_settingValue = false;
    m_modified = false;
    reparse();
}

bool TtlEditor::isModified() const
{
    return m_modified;
}

QString TtlEditor::errorText() const
{
    return m_error->isHidden() ? QString() : m_error->text();
}

void TtlEditor::showError(const QString &message)
{
    presentError(message);
}

void TtlEditor::clearError()
{
    presentError({});
}

QLineEdit *TtlEditor::lineEdit() const
{
    return m_text;
}

QCheckBox *TtlEditor::neverExpiresCheckBox() const
{
    return m_never;
}

void TtlEditor::reparse()
{
    const std::optional<qint64> before = m_seconds;
    const bool wasValid = before.has_value();
    QString hint;
    m_parseError.clear();
    if (m_never->isChecked()) {
        m_seconds = 0;
        hint = tr("The stream stays until it is deleted");
    } else if (m_text->text().trimmed().isEmpty()) {
        // Invalid, but not an error yet: the user has not typed anything wrong.
        m_seconds.reset();
        m_parseError = durationformat::parse(QString()).error();
        hint = tr("Seconds, or a duration: 90s \u00b7 5m \u00b7 1h30m \u00b7 2d");
    } else if (auto parsed = durationformat::parse(m_text->text())) {
        m_seconds = *parsed;
        hint = *parsed == 0 ? tr("= never expires")
                            : tr("= %1 (%2 s)").arg(durationformat::format(*parsed)).arg(*parsed);
    } else {
        m_seconds.reset();
        m_parseError = parsed.error();
    }
    m_hint->setText(hint);
    // Any edit replaces an error from elsewhere: it described the previous value.
    presentError(
        m_text->text().trimmed().isEmpty() || m_never->isChecked() ? QString() : m_parseError);
    if (wasValid != m_seconds.has_value())
        Q_EMIT validityChanged(m_seconds.has_value());
    if (m_seconds && m_seconds != before)
        Q_EMIT ttlChanged(*m_seconds);
}

void TtlEditor::presentError(const QString &message)
{
    const bool show = !message.isEmpty();
    m_error->setText(message);
    m_error->setVisible(show);
    m_hint->setVisible(!show && !m_hint->text().isEmpty());
    if (show) {
        const QString red = errorColor(palette()).name();
        QPalette errorPalette = m_error->palette();
        errorPalette.setColor(QPalette::WindowText, errorColor(palette()));
        m_error->setPalette(errorPalette);
        // A style sheet is the one portable way to colour a line edit's frame; it is scoped to
        // this field and removed again once the text is valid.
        m_text->setStyleSheet(
            QStringLiteral("QLineEdit { border: 1px solid %1; border-radius: 3px; padding: 2px; }")
                .arg(red));
        m_text->setToolTip(message);
        m_text->setAccessibleDescription(message);
    } else {
        m_text->setStyleSheet({});
        m_text->setToolTip(fieldToolTip());
        m_text->setAccessibleDescription({});
    }
}

} // namespace streams
