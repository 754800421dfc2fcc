#include "ui/tree/newstreamdialog.h"

#include "api/validation.h"
#include "backend/backend.h"
#include "ui/stream/ttleditor.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

namespace streams {

namespace {
QLabel *errorLabel(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setWordWrap(true);
    label->setStyleSheet(QStringLiteral("color: #c62828"));
    label->hide();
    return label;
}
} // namespace

NewStreamDialog::NewStreamDialog(Backend &backend, QString serviceSid, QWidget *parent)
    : QDialog(parent),
      m_backend(backend),
      m_serviceSid(std::move(serviceSid)),
      m_uniqueName(new QLineEdit(this)),
      m_nameError(errorLabel(this)),
      m_ttl(new TtlEditor(this)),
      m_error(errorLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("New stream"));
    m_uniqueName->setPlaceholderText(tr("optional, up to 320 characters"));
    m_uniqueName->setClearButtonEnabled(true);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Create"));

    auto *form = new QFormLayout(this);
    form->addRow(tr("Unique name:"), m_uniqueName);
    form->addRow(QString(), m_nameError);
    form->addRow(tr("TTL:"), m_ttl);
    form->addRow(m_error);
    form->addRow(m_buttons);

    connect(m_uniqueName, &QLineEdit::textChanged, this, &NewStreamDialog::validate);
    connect(m_ttl, &TtlEditor::validityChanged, this, &NewStreamDialog::validate);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &NewStreamDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    validate();
    setMinimumWidth(480);
    resize(480, sizeHint().height());
}

void NewStreamDialog::validate()
{
    const QString name = m_uniqueName->text();
    // Empty means "no unique name"; anything typed must satisfy the contract.
    const auto problem = name.isEmpty() ? std::nullopt : validation::checkUniqueName(name);
    const bool wasVisible = m_nameError->isVisible();
    m_nameError->setVisible(problem.has_value());
    if (problem)
        m_nameError->setText(problem->message());
    if (wasVisible != m_nameError->isVisible())
        adjustSize(); // room for the message, and none left over once it is gone
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!m_busy && !problem && m_ttl->isValid());
}

void NewStreamDialog::accept()
{
    StreamCreate create;
    if (!m_uniqueName->text().isEmpty())
        create.uniqueName = m_uniqueName->text();
    if (const auto ttl = m_ttl->ttlSeconds(); ttl && *ttl > 0)
        create.ttlSeconds = ttl;
    m_busy = true;
    m_error->hide();
    validate();
    m_backend.createStream(m_serviceSid, create)
        .then(this, [this](const ApiResult<Stream> &result) {
            m_busy = false;
            validate();
            if (!result) {
                const ApiError &error = result.error();
                QLabel *at = (error.code() == ApiError::DuplicateUniqueName
                                 || error.code() == ApiError::InvalidUniqueName)
                    ? m_nameError
                    : m_error;
                at->setText(tr("%1 (error %2)").arg(error.message()).arg(error.code()));
                at->show();
                adjustSize();
                if (at == m_nameError)
                    m_uniqueName->setFocus();
                return;
            }
            m_stream = *result;
            QDialog::accept();
        });
}

} // namespace streams
