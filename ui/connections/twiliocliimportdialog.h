#pragma once

#include "profiles/profileimport.h"

#include <QDialog>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QListWidget;

namespace streams {

/// Picks which of twilio-cli's profiles to import, and whether to move the secrets found in its
/// config file into the keychain (checked by default: a secret should live in one protected
/// place, not in a plain JSON file). Moving is offered only when there is a keychain to move to.
class TwilioCliImportDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TwilioCliImportDialog)

public:
    TwilioCliImportDialog(QString configPath, QList<ImportedProfile> found, bool keychainAvailable,
        const QString &unavailableReason, QWidget *parent = nullptr);
    ~TwilioCliImportDialog() override;

    const QString &configPath() const { return m_configPath; }
    /// The profiles checked in the list.
    QList<ImportedProfile> selected() const;
    /// Remove the imported secrets from twilio-cli's file once they are in the keychain.
    bool moveSecrets() const;

    QListWidget *list() const { return m_list; }
    QCheckBox *moveCheckBox() const { return m_move; }
    QLabel *moveNote() const { return m_note; }

private:
    void updateButtons();

    const QString m_configPath;
    const QList<ImportedProfile> m_found;
    const bool m_keychainAvailable;
    QListWidget *m_list;
    QCheckBox *m_move;
    QLabel *m_note;
    QDialogButtonBox *m_buttons;
};

} // namespace streams
