#include "ui/connections/secretprompt.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace streams {

SecretPrompt::SecretPrompt(
    const ConnectionProfile &profile, const QString &why, bool keychainAvailable, QWidget *parent)
    : QDialog(parent),
      m_profile(profile),
      m_keychainAvailable(keychainAvailable),
      m_reason(new QLabel(this)),
      m_secret(new QLineEdit(this)),
      m_show(new QToolButton(this)),
      m_remember(new QCheckBox(tr("&Remember for this session"), this)),
      m_save(new QCheckBox(tr("Sa&ve in the keychain"), this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setObjectName(QStringLiteral("secretPrompt"));
    const bool apiKey = profile.authMethod == ConnectionProfile::AuthMethod::ApiKey;
    setWindowTitle(tr("Secret for “%1”").arg(profile.name));

    auto *heading = new QLabel(
        tr("<b>Open “%1”</b> (%2)")
            .arg(profile.name.toHtmlEscaped(), ConnectionProfile::kindName(profile.kind)),
        this);
    m_reason->setObjectName(QStringLiteral("reasonLabel"));
    m_reason->setText(why);
    m_reason->setWordWrap(true);
    m_reason->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_secret->setObjectName(QStringLiteral("secretEdit"));
    m_secret->setEchoMode(QLineEdit::Password);
    m_secret->setInputMethodHints(
        Qt::ImhHiddenText | Qt::ImhSensitiveData | Qt::ImhNoPredictiveText);
    m_show->setText(tr("Show"));
    m_show->setCheckable(true);
    m_show->setToolTip(tr("Show or hide the secret as you type it"));
    connect(m_show, &QToolButton::toggled, this, [this](bool on) {
        m_secret->setEchoMode(on ? QLineEdit::Normal : QLineEdit::Password);
        m_show->setText(on ? tr("Hide") : tr("Show"));
    });

    m_remember->setObjectName(QStringLiteral("rememberCheckBox"));
    m_remember->setChecked(true);
    m_remember->setToolTip(
        tr("Keep it in memory until the console quits, so reopening does not ask again"));
    m_save->setObjectName(QStringLiteral("saveCheckBox"));
    m_save->setVisible(keychainAvailable);
    m_save->setChecked(keychainAvailable);
    m_save->setToolTip(tr("Store it in the system keychain for next time"));

    auto *secretRow = new QHBoxLayout;
    secretRow->addWidget(m_secret, 1);
    secretRow->addWidget(m_show);
    auto *form = new QFormLayout;
    form->addRow(tr("Account SID:"), new QLabel(profile.accountSid, this));
    if (apiKey)
        form->addRow(tr("API Key SID:"), new QLabel(profile.apiKeySid, this));
    auto *secretLabel = new QLabel(apiKey ? tr("API key &secret:") : tr("Auth &Token:"), this);
    secretLabel->setBuddy(m_secret);
    form->addRow(secretLabel, secretRow);

    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Open"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(heading);
    layout->addWidget(m_reason);
    layout->addLayout(form);
    layout->addWidget(m_remember);
    layout->addWidget(m_save);
    layout->addWidget(m_buttons);

    connect(m_secret, &QLineEdit::textChanged, this, &SecretPrompt::validate);
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        if (!secret().isEmpty())
            accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    validate();
    setMinimumWidth(480);
    m_secret->setFocus();
}

SecretPrompt::~SecretPrompt()
{
    // The secret stays in this process for as long as it is needed, not in a dead widget.
    m_secret->clear();
}

QString SecretPrompt::secret() const
{
    return m_secret->text().trimmed();
}

bool SecretPrompt::rememberForSession() const
{
    return m_remember->isChecked();
}

bool SecretPrompt::saveInKeychain() const
{
    return m_keychainAvailable && m_save->isChecked();
}

void SecretPrompt::validate()
{
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!secret().isEmpty());
}

} // namespace streams
