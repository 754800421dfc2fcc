#include "ui/tree/newservicedialog.h"

#include "backend/backend.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

namespace streams {

NewServiceDialog::NewServiceDialog(Backend &backend, QWidget *parent)
    : QDialog(parent),
      m_backend(backend),
      m_friendlyName(new QLineEdit(this)),
      m_error(new QLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("New service"));
    m_friendlyName->setPlaceholderText(tr("optional"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #c62828"));
    m_error->hide();
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Create"));
    auto *form = new QFormLayout(this);
    form->addRow(tr("Friendly name:"), m_friendlyName);
    form->addRow(m_error);
    form->addRow(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &NewServiceDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    setMinimumWidth(420);
    resize(420, sizeHint().height());
}

void NewServiceDialog::accept()
{
    ServiceFields fields;
    if (!m_friendlyName->text().isEmpty())
        fields.friendlyName = m_friendlyName->text();
    m_buttons->setEnabled(false);
    m_backend.createService(fields).then(this, [this](const ApiResult<Service> &result) {
        m_buttons->setEnabled(true);
        if (!result) {
            m_error->setText(
                tr("%1 (error %2)").arg(result.error().message()).arg(result.error().code()));
            m_error->show();
            return;
        }
        m_service = *result;
        QDialog::accept();
    });
}

} // namespace streams
