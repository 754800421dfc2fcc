#pragma once

#include "backend/backend.h"

#include <QDialog>
#include <QFutureWatcher>
#include <QPointer>
#include <QStringList>
#include <expected>

class QCheckBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace streams {

/// "Use from your code…": the shell lines that send the user's own Twilio code, unchanged, to
/// the embedded engine (zero-change mode: Backend::proxyEnvironment(), what `streams-engine
/// --show-proxy-env` prints), to copy into the shell that runs it. The secrets among them are
/// masked on screen until asked for; Copy takes the lines as they are. For a connection that
/// has no such lines it says why, and what to do instead.
class ProxyEnvironmentDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProxyEnvironmentDialog)

public:
    explicit ProxyEnvironmentDialog(Backend *backend, QWidget *parent = nullptr);

    /// The connection it shows the lines of (null once that is gone).
    Backend *backend() const { return m_backend; }
    /// Whether the lines (or the reason there are none) have arrived.
    bool isReady() const { return m_ready; }
    /// The lines, secrets included; empty until ready, or when there are none.
    QString lines() const { return m_lines.join(u'\n'); }
    /// What the dialog shows.
    QString shownText() const;
    QCheckBox *showSecrets() const { return m_showSecrets; }
    QPushButton *copyButton() const { return m_copy; }

Q_SIGNALS:
    /// The lines, or why there are none, are shown.
    void ready();

private:
    void arrived(const std::expected<QStringList, QString> &result);
    void render();

    QPointer<Backend> m_backend;
    QLabel *m_intro;
    QPlainTextEdit *m_text;
    QCheckBox *m_showSecrets;
    QPushButton *m_copy;
    QFutureWatcher<std::expected<QStringList, QString>> m_watcher;
    QStringList m_lines;
    QString m_reason;
    bool m_ready = false;
};

} // namespace streams
