#pragma once

#include "backend/backend.h"

#include <QPointer>
#include <QWidget>

class QLabel;
class QToolButton;

namespace streams {

/// The status bar's view of one connection: its state, address and account, each with a copy
/// button; for a remote connection the API key SID it authenticates with (never its secret,
/// which the console does not show); and — for the embedded engine — its auth token, masked
/// until the user asks. "Use from your code…" opens the shell lines that send the user's own
/// code to the connection (ProxyEnvironmentDialog).
class ProxyEnvironmentDialog;

class ConnectionStatusWidget final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionStatusWidget)

public:
    explicit ConnectionStatusWidget(QWidget *parent = nullptr);
    void setBackend(Backend *backend);
    bool isSecretRevealed() const { return m_revealed; }
    QString shownSecretText() const;
    /// Everything the widget shows, for tests ("● Staging · connected  http://…  AC…  SK…").
    QString shownText() const;
    QToolButton *useFromCodeButton() const { return m_useFromCode; }
    /// Opens (or raises) "Use from your code…" for the current connection; null without one.
    ProxyEnvironmentDialog *showProxyEnvironment();

private:
    void refresh();
    QToolButton *copyButton(const QString &toolTip, std::function<QString()> text);

    QPointer<Backend> m_backend;
    QLabel *m_state;
    QLabel *m_address;
    QLabel *m_account;
    QLabel *m_apiKey;
    QToolButton *m_copyApiKey = nullptr;
    QLabel *m_secret;
    QToolButton *m_reveal;
    QToolButton *m_copySecret = nullptr;
    QToolButton *m_useFromCode;
    QPointer<ProxyEnvironmentDialog> m_proxyEnvironment;
    bool m_revealed = false;
};

} // namespace streams
