#include "ui/connections/connectionstatuswidget.h"

#include "backend/backend.h"
#include "backend/localbackend.h"
#include "ui/connections/proxyenvironmentdialog.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QMetaEnum>
#include <QStyle>
#include <QToolButton>

namespace streams {

namespace {

QString secretOf(Backend *backend)
{
    auto *local = qobject_cast<LocalBackend *>(backend);
    return local ? local->authToken() : QString();
}
} // namespace

ConnectionStatusWidget::ConnectionStatusWidget(QWidget *parent)
    : QWidget(parent),
      m_state(new QLabel(this)),
      m_address(new QLabel(this)),
      m_account(new QLabel(this)),
      m_apiKey(new QLabel(this)),
      m_secret(new QLabel(this)),
      m_reveal(new QToolButton(this)),
      m_useFromCode(new QToolButton(this))
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_state);
    layout->addSpacing(12);
    layout->addWidget(m_address);
    layout->addWidget(copyButton(tr("Copy the base URL"),
        [this] { return m_backend ? m_backend->endpoint().baseUrl : QString(); }));
    layout->addSpacing(12);
    layout->addWidget(m_account);
    layout->addWidget(copyButton(tr("Copy the Account SID"),
        [this] { return m_backend ? m_backend->endpoint().accountSid : QString(); }));
    layout->addSpacing(12);
    m_apiKey->setObjectName(QStringLiteral("apiKeyLabel"));
    layout->addWidget(m_apiKey);
    m_copyApiKey = copyButton(tr("Copy the API key SID"),
        [this] { return m_backend ? m_backend->endpoint().apiKeySid : QString(); });
    layout->addWidget(m_copyApiKey);
    layout->addWidget(m_secret);
    m_reveal->setText(tr("Show"));
    m_reveal->setCheckable(true);
    m_reveal->setToolTip(tr("Show or hide the auth token"));
    m_reveal->setAutoRaise(true);
    connect(m_reveal, &QToolButton::toggled, this, [this](bool on) {
        m_revealed = on;
        m_reveal->setText(on ? tr("Hide") : tr("Show"));
        refresh();
    });
    layout->addWidget(m_reveal);
    m_copySecret = copyButton(tr("Copy the auth token"), [this] { return secretOf(m_backend); });
    layout->addWidget(m_copySecret);
    layout->addSpacing(12);
    m_useFromCode->setText(tr("Use from your code…"));
    m_useFromCode->setToolTip(tr("The shell lines that send your own Twilio code, unchanged, to "
                                 "this connection"));
    m_useFromCode->setAutoRaise(true);
    connect(
        m_useFromCode, &QToolButton::clicked, this, &ConnectionStatusWidget::showProxyEnvironment);
    layout->addWidget(m_useFromCode);
    refresh();
}

ProxyEnvironmentDialog *ConnectionStatusWidget::showProxyEnvironment()
{
    if (!m_backend)
        return nullptr;
    // One at a time, for the connection it was opened on.
    if (m_proxyEnvironment && m_proxyEnvironment->backend() != m_backend) {
        m_proxyEnvironment->close(); // deleted later
        m_proxyEnvironment = nullptr;
    }
    if (!m_proxyEnvironment) {
        m_proxyEnvironment = new ProxyEnvironmentDialog(m_backend, window());
        m_proxyEnvironment->setAttribute(Qt::WA_DeleteOnClose);
    }
    m_proxyEnvironment->show();
    m_proxyEnvironment->raise();
    m_proxyEnvironment->activateWindow();
    return m_proxyEnvironment;
}

QToolButton *ConnectionStatusWidget::copyButton(
    const QString &toolTip, std::function<QString()> text)
{
    auto *button = new QToolButton(this);
    button->setIcon(style()->standardIcon(QStyle::SP_FileDialogContentsView));
    button->setIcon(QIcon::fromTheme(QStringLiteral("edit-copy"), button->icon()));
    button->setToolTip(toolTip);
    button->setAutoRaise(true);
    connect(button, &QToolButton::clicked, this, [text = std::move(text)] {
        const QString value = text();
        if (!value.isEmpty())
            QGuiApplication::clipboard()->setText(value);
    });
    return button;
}

void ConnectionStatusWidget::setBackend(Backend *backend)
{
    if (m_backend)
        disconnect(m_backend, nullptr, this, nullptr);
    m_backend = backend;
    m_reveal->setChecked(false);
    if (m_backend)
        connect(m_backend, &Backend::stateChanged, this, &ConnectionStatusWidget::refresh);
    refresh();
}

QString ConnectionStatusWidget::shownSecretText() const
{
    return m_secret->text();
}

QString ConnectionStatusWidget::shownText() const
{
    QStringList parts;
    for (const QLabel *label : {m_state, m_address, m_account, m_apiKey, m_secret}) {
        if (!label->isHidden() && !label->text().isEmpty())
            parts.append(label->text());
    }
    return parts.join(QStringLiteral("  "));
}

void ConnectionStatusWidget::refresh()
{
    if (!m_backend) {
        m_state->setText(tr("No connection"));
        m_address->clear();
        m_account->clear();
        m_apiKey->clear();
        m_apiKey->hide();
        m_copyApiKey->hide();
        m_secret->clear();
        m_reveal->hide();
        m_copySecret->hide();
        m_useFromCode->hide();
        return;
    }
    m_useFromCode->show();
    const Backend::Endpoint endpoint = m_backend->endpoint();
    const Backend::State state = m_backend->state();
    const QString stateName =
        QString::fromLatin1(QMetaEnum::fromType<Backend::State>().valueToKey(int(state)));
    m_state->setText(QStringLiteral("● %1 · %2").arg(endpoint.displayName, stateName.toLower()));
    m_state->setStyleSheet(state == Backend::State::Connected ? QStringLiteral("color: #2e7d32")
                                                              : QStringLiteral("color: #e65100"));
    m_address->setText(endpoint.baseUrl);
    m_account->setText(endpoint.accountSid);
    m_account->setToolTip(tr("Account SID"));
    // A remote connection names the key it signs in with; the embedded engine's own key is for
    // the user's code and stays behind its token, as before.
    const bool showKey = !endpoint.embedded && !endpoint.apiKeySid.isEmpty();
    m_apiKey->setVisible(showKey);
    m_copyApiKey->setVisible(showKey);
    m_apiKey->setText(showKey ? tr("key %1").arg(endpoint.apiKeySid) : QString());
    m_apiKey->setToolTip(tr("API key SID (its secret stays in the keychain)"));
    const QString secret = secretOf(m_backend);
    const bool hasSecret = !secret.isEmpty();
    m_secret->setVisible(hasSecret);
    m_reveal->setVisible(hasSecret);
    m_copySecret->setVisible(hasSecret);
    m_secret->setText(tr("token %1").arg(m_revealed ? secret : kSecretMask.toString()));
}

} // namespace streams
