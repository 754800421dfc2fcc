#include "ui/connections/proxyenvironmentdialog.h"

#include <QCheckBox>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QGuiApplication>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace streams {

ProxyEnvironmentDialog::ProxyEnvironmentDialog(Backend *backend, QWidget *parent)
    : QDialog(parent),
      m_backend(backend),
      m_intro(new QLabel(this)),
      m_text(new QPlainTextEdit(this)),
      m_showSecrets(new QCheckBox(tr("Show &secrets"), this)),
      m_copy(new QPushButton(tr("&Copy"), this))
{
    setWindowTitle(tr("Use from Your Code — %1").arg(backend->endpoint().displayName));
    m_intro->setWordWrap(true);
    m_intro->setTextFormat(Qt::PlainText);
    m_intro->setText(tr("Making the engine's certificate authority…"));
    m_text->setReadOnly(true);
    m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setMinimumSize(640, 240);
    m_showSecrets->setToolTip(tr("Show the auth token and API key secret in the lines above"));
    m_showSecrets->setEnabled(false);
    m_copy->setToolTip(tr("Copy the lines, secrets included, for the shell that runs your code"));
    m_copy->setEnabled(false);
    connect(m_showSecrets, &QCheckBox::toggled, this, &ProxyEnvironmentDialog::render);
    connect(m_copy, &QPushButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(lines() + u'\n');
        m_copy->setText(tr("&Copied"));
    });

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->addButton(m_copy, QDialogButtonBox::ActionRole);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_intro);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_showSecrets);
    layout->addWidget(buttons);
    // Room for the longest comments; the wrapped label is measured at this width.
    resize(960, 600);

    // A watcher, not a continuation: the dialog may close before the engine answers.
    connect(&m_watcher, &QFutureWatcherBase::finished, this,
        [this] { arrived(m_watcher.future().result()); });
    m_watcher.setFuture(backend->proxyEnvironment());
}

void ProxyEnvironmentDialog::arrived(const std::expected<QStringList, QString> &result)
{
    if (result) {
        m_lines = *result;
        m_intro->setText(
            tr("Run your Twilio code against this engine with no change to it: paste these "
               "lines into the shell that runs it (or eval them). Twilio's helper libraries, "
               "twilio-cli and curl then reach https://sync.twilio.com here. In that shell "
               "every other HTTPS host is refused, so keep it to your Twilio program."));
        m_showSecrets->setEnabled(true);
        m_copy->setEnabled(true);
        m_copy->setDefault(true);
    } else {
        m_reason = result.error();
        m_intro->setText(tr("There are no lines to show for this connection."));
    }
    m_ready = true;
    render();
    Q_EMIT ready();
}

void ProxyEnvironmentDialog::render()
{
    if (m_lines.isEmpty()) {
        m_text->setPlainText(m_reason);
        return;
    }
    if (m_showSecrets->isChecked()) {
        m_text->setPlainText(lines());
        return;
    }
    m_text->setPlainText(Backend::maskSecrets(m_lines).join(u'\n'));
}

QString ProxyEnvironmentDialog::shownText() const
{
    return m_text->toPlainText();
}

} // namespace streams
