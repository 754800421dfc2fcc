#pragma once

#include "profiles/connectionprofile.h"

#include <QDialog>
#include <QPointer>
#include <QProcessEnvironment>

class QLabel;
class QListWidget;
class QMessageBox;
class QPushButton;
class QToolButton;

namespace streams {

class ConnectionTest;
class PageBanner;
class ProfileEditor;
class ProfileStore;
class SecretStore;
class TwilioCliImportDialog;
struct ImportedProfile;

/// Connection → Manage Connections…: the saved profiles (the local engine first, neither
/// editable nor removable), with Add, Edit, Remove, Test connection, Import (from the TWILIO_*
/// environment or twilio-cli's config) and Open. Profiles go to the ProfileStore, secrets only to
/// the SecretStore; when there is no keychain the dialog says why and that secrets are kept for
/// this session only. Nothing here waits: editors and questions are opened window-modal without
/// a nested event loop, and tests and secret writes report through their futures.
class ConnectionManagerDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionManagerDialog)

public:
    ConnectionManagerDialog(
        ProfileStore &profiles, SecretStore &secrets, QWidget *parent = nullptr);
    ~ConnectionManagerDialog() override;

    /// Which profiles the console has open (marked in the list; Open is then disabled).
    void setOpenProfileIds(const QStringList &ids);
    QString selectedProfileId() const;
    void selectProfile(const QString &id);

    // What the buttons do, public for tests and menus.
    void addProfile();
    void editSelected();
    void removeSelected();
    void testSelected();
    void openSelected();
    void importFromEnvironment(
        const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment());
    /// `configPath` empty: twilio-cli's own (TWILIO_CONFIG_DIR, else ~/.twilio-cli).
    void importFromTwilioCli(const QString &configPath = {});

    // The pieces a user sees and drives, for tests.
    QListWidget *profileList() const { return m_list; }
    PageBanner *banner() const { return m_banner; }
    QLabel *keychainNote() const { return m_keychainNote; }
    QLabel *detailsLabel() const { return m_details; }
    QLabel *testResultLabel() const { return m_testResult; }
    QPushButton *addButton() const { return m_add; }
    QPushButton *editButton() const { return m_edit; }
    QPushButton *removeButton() const { return m_remove; }
    QPushButton *testButton() const { return m_test; }
    QToolButton *importButton() const { return m_import; }
    QPushButton *openButton() const { return m_open; }
    /// The editor, import dialog or question currently shown, if any.
    ProfileEditor *editor() const;
    TwilioCliImportDialog *importDialog() const;
    QMessageBox *removeQuestion() const;

Q_SIGNALS:
    void openRequested(const QString &profileId);
    /// After a profile was saved and its secret stored (or kept for the session).
    void profileSaved(const QString &profileId);
    void profileRemoved(const QString &profileId);
    /// Test connection finished for the selected profile.
    void testFinished(bool ok, const QString &message);
    /// An import from twilio-cli finished (profiles saved, secrets stored and moved as asked).
    void importFinished(int imported);

private:
    void reload();
    void updateButtons();
    void updateKeychainNote();
    void showDetails();
    std::optional<ConnectionProfile> selectedProfile() const;
    QStringList namesExcept(const QString &id) const;
    QString uniqueName(const QString &wanted) const;
    void openEditor(const ConnectionProfile &profile, const QString &secret = {});
    void save(const ConnectionProfile &profile, const QString &secret);
    void importFromCli(
        const QList<ImportedProfile> &chosen, const QString &configPath, bool moveSecrets);

    ProfileStore &m_profiles;
    SecretStore &m_secrets;
    QStringList m_openIds;

    PageBanner *m_banner;
    QLabel *m_keychainNote;
    QListWidget *m_list;
    QLabel *m_details;
    QLabel *m_testResult;
    QPushButton *m_add;
    QPushButton *m_edit;
    QPushButton *m_remove;
    QPushButton *m_test;
    QToolButton *m_import;
    QPushButton *m_open;
    ConnectionTest *m_tester;
    QString m_testedId;
    quint64 m_testGeneration = 0;

    QPointer<ProfileEditor> m_editor;
    QPointer<TwilioCliImportDialog> m_importDialog;
    QPointer<QMessageBox> m_question;
};

} // namespace streams
