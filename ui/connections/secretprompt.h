#pragma once

#include "profiles/connectionprofile.h"

#include <QDialog>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QToolButton;

namespace streams {

/// Asks for a profile's Auth Token or API key secret when the keychain has none to give, and
/// says why (nothing stored, no keychain on this system, access refused). The answer can be
/// remembered for this session (memory only) and, when a keychain is there, saved in it. The
/// dialog never stores anything itself: whoever opened it reads secret() and the choices.
class SecretPrompt final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SecretPrompt)

public:
    SecretPrompt(const ConnectionProfile &profile, const QString &why, bool keychainAvailable,
        QWidget *parent = nullptr);
    ~SecretPrompt() override;

    const ConnectionProfile &profile() const { return m_profile; }
    QString secret() const;
    bool rememberForSession() const;
    bool saveInKeychain() const;

    QLineEdit *secretEdit() const { return m_secret; }
    QCheckBox *rememberCheckBox() const { return m_remember; }
    QCheckBox *saveCheckBox() const { return m_save; }
    QLabel *reasonLabel() const { return m_reason; }
    QToolButton *showSecretButton() const { return m_show; }

private:
    void validate();

    const ConnectionProfile m_profile;
    const bool m_keychainAvailable;
    QLabel *m_reason;
    QLineEdit *m_secret;
    QToolButton *m_show;
    QCheckBox *m_remember;
    QCheckBox *m_save;
    QDialogButtonBox *m_buttons;
};

} // namespace streams
