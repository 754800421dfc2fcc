#include "ui/connections/twiliocliimportdialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace streams {

TwilioCliImportDialog::TwilioCliImportDialog(QString configPath, QList<ImportedProfile> found,
    bool keychainAvailable, const QString &unavailableReason, QWidget *parent)
    : QDialog(parent),
      m_configPath(std::move(configPath)),
      m_found(std::move(found)),
      m_keychainAvailable(keychainAvailable),
      m_list(new QListWidget(this)),
      m_move(new QCheckBox(tr("&Move secrets out of twilio-cli's file"), this)),
      m_note(new QLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setObjectName(QStringLiteral("twilioCliImportDialog"));
    setWindowTitle(tr("Import from twilio-cli"));
    const QString shownPath = QDir::toNativeSeparators(m_configPath);

    auto *intro =
        new QLabel(tr("twilio-cli profiles in %1. Pick the ones to import:").arg(shownPath), this);
    intro->setWordWrap(true);
    intro->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_list->setObjectName(QStringLiteral("importList"));
    bool anySecret = false;
    for (const ImportedProfile &imported : m_found) {
        const ConnectionProfile &p = imported.profile;
        QStringList details{p.accountSid};
        if (p.authMethod == ConnectionProfile::AuthMethod::ApiKey)
            details.append(tr("API key %1").arg(p.apiKeySid));
        else
            details.append(tr("Auth Token"));
        if (!p.region.isEmpty())
            details.append(tr("region %1").arg(p.region));
        if (!p.edge.isEmpty())
            details.append(tr("edge %1").arg(p.edge));
        details.append(
            imported.secret.isEmpty() ? tr("no secret in the file") : tr("secret in the file"));
        anySecret = anySecret || !imported.secret.isEmpty();
        auto *item = new QListWidgetItem(
            QStringLiteral("%1 — %2").arg(p.name, details.join(QStringLiteral(" · "))), m_list);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsSelectable);
        item->setCheckState(Qt::Checked);
    }

    m_move->setObjectName(QStringLiteral("moveSecretsCheckBox"));
    m_note->setObjectName(QStringLiteral("moveNote"));
    m_note->setWordWrap(true);
    m_note->setTextInteractionFlags(Qt::TextSelectableByMouse);
    if (!anySecret) {
        m_move->setChecked(false);
        m_move->setEnabled(false);
        m_note->setText(tr("The file holds no secrets (twilio-cli keeps them in its own "
                           "keychain): you will be asked for each one when you open it."));
    } else if (!m_keychainAvailable) {
        // Moving a secret out of the file with nowhere safe to put it would lose it.
        m_move->setChecked(false);
        m_move->setEnabled(false);
        m_note->setText(tr("No keychain (%1): the secrets can be kept for this session only, so "
                           "they stay in twilio-cli's file.")
                            .arg(unavailableReason));
    } else {
        m_move->setChecked(true);
        m_note->setText(tr("The secrets go into the system keychain and are removed from %1, so "
                           "they are kept in one protected place. twilio-cli will then need them "
                           "from its own keychain: if it has none, run “twilio profiles:add” "
                           "again there.")
                            .arg(shownPath));
    }

    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Import"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_list, 1);
    layout->addWidget(m_move);
    layout->addWidget(m_note);
    layout->addWidget(m_buttons);
    connect(m_list, &QListWidget::itemChanged, this, &TwilioCliImportDialog::updateButtons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    updateButtons();
    setMinimumWidth(560);
}

TwilioCliImportDialog::~TwilioCliImportDialog() = default;

QList<ImportedProfile> TwilioCliImportDialog::selected() const
{
    QList<ImportedProfile> result;
    for (int row = 0; row < m_list->count() && row < m_found.size(); ++row) {
        if (m_list->item(row)->checkState() == Qt::Checked)
            result.append(m_found[row]);
    }
    return result;
}

bool TwilioCliImportDialog::moveSecrets() const
{
    return m_keychainAvailable && m_move->isEnabled() && m_move->isChecked();
}

void TwilioCliImportDialog::updateButtons()
{
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!selected().isEmpty());
}

} // namespace streams
