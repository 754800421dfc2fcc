#pragma once

#include "profiles/connectionprofile.h"

#include <QDialog>
#include <QMap>

class QAbstractButton;
class QComboBox;
class QDialogButtonBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QRadioButton;
class QToolButton;

namespace streams {

class ConnectionTest;
class SecretStore;

/// Adds or edits a remote connection profile: an engine at a URL or a Twilio account, with the
/// Account SID, Auth Token or API key, and region/edge. Each field is checked as it is typed
/// (ConnectionProfile::problems(), the same rules streams-cli applies) and its problem is shown
/// under it; Save stays disabled until there is none. The secret is only ever held in the form:
/// whoever accepts the dialog hands it to the SecretStore. "Test connection" runs a real request
/// against the service from what the form says, without blocking the window.
class ProfileEditor final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProfileEditor)

public:
    using Field = ConnectionProfile::Problem::Field;

    /// `profile` with an empty id is a new one. `takenNames`: the other profiles' names.
    ProfileEditor(const ConnectionProfile &profile, QStringList takenNames, SecretStore &secrets,
        QWidget *parent = nullptr);
    ~ProfileEditor() override;

    /// The profile as the form says (id kept from the one being edited).
    ConnectionProfile profile() const;
    /// The secret typed; empty means "keep the stored one" for an existing profile.
    QString secret() const;
    /// Prefills the secret (an import), as if typed.
    void setSecret(const QString &secret);
    bool isNewProfile() const { return m_original.id.isEmpty(); }

    /// Problems per field as currently shown under the fields (only fields the user has been to).
    QString problemAt(Field field) const;
    /// Every problem of the form, shown or not; empty when it can be saved.
    QStringList problems() const;

    /// Runs the connection test from the form; testFinished() reports the result.
    void testConnection();
    QString testResultText() const;
    bool isTesting() const;

    // The pieces a user sees and drives, for tests.
    QComboBox *kindCombo() const { return m_kind; }
    QLineEdit *nameEdit() const { return m_name; }
    QLineEdit *urlEdit() const { return m_url; }
    QLineEdit *accountSidEdit() const { return m_accountSid; }
    QRadioButton *apiKeyRadio() const { return m_apiKey; }
    QRadioButton *authTokenRadio() const { return m_authToken; }
    QLineEdit *apiKeySidEdit() const { return m_apiKeySid; }
    QLineEdit *secretEdit() const { return m_secret; }
    QToolButton *showSecretButton() const { return m_showSecret; }
    QLineEdit *regionEdit() const { return m_region; }
    QLineEdit *edgeEdit() const { return m_edge; }
    QLabel *authNote() const { return m_authNote; }
    QLabel *keychainNote() const { return m_keychainNote; }
    QPushButton *testButton() const { return m_test; }
    QPushButton *saveButton() const;

Q_SIGNALS:
    void testFinished(bool ok, const QString &message);

private:
    void build();
    void buildFields();
    void buildAuthChoice();
    void buildTestAndButtons();
    void layOutForm();
    /// A form row: `editor` (with `beside` on its right) over its problem, then `below`.
    void addField(Field field, const QString &label, QWidget *editor, QWidget *beside = nullptr,
        QWidget *below = nullptr);
    void connectFields();
    void load(const ConnectionProfile &profile);
    void updateKind();
    void validate();
    void touch(Field field);
    void finishTest(bool ok, const QString &message);

    const ConnectionProfile m_original;
    const QStringList m_takenNames;
    SecretStore &m_secrets;

    QFormLayout *m_form = nullptr;
    QComboBox *m_kind = nullptr;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_url = nullptr;
    QLineEdit *m_accountSid = nullptr;
    QRadioButton *m_apiKey = nullptr;
    QRadioButton *m_authToken = nullptr;
    QLabel *m_authNote = nullptr;
    QLineEdit *m_apiKeySid = nullptr;
    QLabel *m_secretLabel = nullptr;
    QLineEdit *m_secret = nullptr;
    QToolButton *m_showSecret = nullptr;
    QLabel *m_keychainNote = nullptr;
    QLineEdit *m_region = nullptr;
    QLineEdit *m_edge = nullptr;
    QPushButton *m_test = nullptr;
    QLabel *m_testResult = nullptr;
    QDialogButtonBox *m_buttons = nullptr;

    struct FieldRow
    {
        QWidget *row = nullptr; // field and its message, hidden together
        QLabel *label = nullptr; // the form's label
        QLabel *error = nullptr;
        bool touched = false;
    };
    QMap<Field, FieldRow> m_rows;
    QMap<Field, QString> m_problems;

    ConnectionTest *m_tester = nullptr;
    quint64 m_testGeneration = 0;
};

} // namespace streams
