#include "ui/connections/connectionmanagerdialog.h"

#include "profiles/profileimport.h"
#include "profiles/profilestore.h"
#include "profiles/secretstore.h"
#include "ui/connections/connectiontest.h"
#include "ui/connections/profileeditor.h"
#include "ui/connections/twiliocliimportdialog.h"
#include "ui/stream/pagebanner.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

namespace streams {

// SecretStore's futures finish on the GUI thread, and this dialog may be closed before they do:
// continuations here take no context object (Qt 6.4 asserts when a context dies first) and check
// a QPointer to the dialog instead.

namespace {
using Kind = ConnectionProfile::Kind;
constexpr int kIdRole = Qt::UserRole + 1;

// The list's second line: what the connection is and where, in a few words (the details pane
// has the rest).
QString summaryOf(const ConnectionProfile &profile)
{
    switch (profile.kind) {
    case Kind::LocalEngine: return ConnectionManagerDialog::tr("Embedded · always open");
    case Kind::EngineAtUrl:
        return QStringLiteral("%1 · %2").arg(
            ConnectionProfile::kindName(profile.kind), profile.engineUrl.toDisplayString());
    case Kind::TwilioAccount: {
        QString where = profile.region.isEmpty() ? QStringLiteral("us1") : profile.region;
        if (!profile.edge.isEmpty())
            where += u'/' + profile.edge;
        return QStringLiteral("%1 · %2").arg(ConnectionProfile::kindName(profile.kind), where);
    }
    }
    return {};
}

QIcon iconOf(const QStyle *style, Kind kind)
{
    switch (kind) {
    case Kind::LocalEngine: return style->standardIcon(QStyle::SP_ComputerIcon);
    case Kind::EngineAtUrl: return style->standardIcon(QStyle::SP_DriveNetIcon);
    case Kind::TwilioAccount: return style->standardIcon(QStyle::SP_DirLinkIcon);
    }
    return {};
}
} // namespace

ConnectionManagerDialog::ConnectionManagerDialog(
    ProfileStore &profiles, SecretStore &secrets, QWidget *parent)
    : QDialog(parent),
      m_profiles(profiles),
      m_secrets(secrets),
      m_banner(new PageBanner(this)),
      m_keychainNote(new QLabel(this)),
      m_list(new QListWidget(this)),
      m_details(new QLabel(this)),
      m_testResult(new QLabel(this)),
      m_add(new QPushButton(tr("&Add…"), this)),
      m_edit(new QPushButton(tr("&Edit…"), this)),
      m_remove(new QPushButton(tr("&Remove…"), this)),
      m_test(new QPushButton(tr("&Test connection"), this)),
      m_import(new QToolButton(this)),
      m_open(new QPushButton(tr("&Open"), this)),
      m_tester(new ConnectionTest(this))
{
    setObjectName(QStringLiteral("connectionManager"));
    setWindowTitle(tr("Connections"));

    m_keychainNote->setObjectName(QStringLiteral("keychainNote"));
    m_keychainNote->setWordWrap(true);
    m_keychainNote->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_list->setObjectName(QStringLiteral("profileList"));
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setIconSize(QSize(24, 24));
    m_list->setSpacing(2);
    m_list->setMinimumWidth(300);

    m_details->setObjectName(QStringLiteral("profileDetails"));
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_testResult->setObjectName(QStringLiteral("testResult"));
    m_testResult->setWordWrap(true);
    m_testResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_testResult->setAlignment(Qt::AlignTop | Qt::AlignLeft);

    m_import->setText(tr("&Import"));
    m_import->setPopupMode(QToolButton::InstantPopup);
    m_import->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_import->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
    auto *importMenu = new QMenu(m_import);
    importMenu->addAction(
        tr("From the TWILIO_* &environment"), this, [this] { importFromEnvironment(); });
    importMenu->addAction(
        tr("From &twilio-cli's profiles…"), this, [this] { importFromTwilioCli(); });
    m_import->setMenu(importMenu);
    m_open->setDefault(true);
    for (QPushButton *button : {m_add, m_edit, m_remove, m_test})
        button->setAutoDefault(false);

    auto *buttons = new QVBoxLayout;
    buttons->addWidget(m_add);
    buttons->addWidget(m_edit);
    buttons->addWidget(m_remove);
    buttons->addSpacing(8);
    buttons->addWidget(m_test);
    buttons->addWidget(m_import);
    buttons->addStretch(1);
    buttons->addWidget(m_open);

    auto *side = new QVBoxLayout;
    side->addWidget(m_details);
    side->addWidget(m_testResult);
    side->addStretch(1);

    auto *middle = new QHBoxLayout;
    middle->addWidget(m_list, 2);
    middle->addLayout(side, 3);
    middle->addLayout(buttons);

    auto *close = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_banner);
    layout->addWidget(m_keychainNote);
    layout->addLayout(middle, 1);
    layout->addWidget(close);

    connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_add, &QPushButton::clicked, this, &ConnectionManagerDialog::addProfile);
    connect(m_edit, &QPushButton::clicked, this, &ConnectionManagerDialog::editSelected);
    connect(m_remove, &QPushButton::clicked, this, &ConnectionManagerDialog::removeSelected);
    connect(m_test, &QPushButton::clicked, this, &ConnectionManagerDialog::testSelected);
    connect(m_open, &QPushButton::clicked, this, &ConnectionManagerDialog::openSelected);
    connect(m_list, &QListWidget::itemActivated, this, [this] { openSelected(); });
    connect(m_list, &QListWidget::currentRowChanged, this, [this] {
        updateButtons();
        showDetails();
    });
    connect(&m_profiles, &ProfileStore::profilesChanged, this, &ConnectionManagerDialog::reload);
    connect(&m_secrets, &SecretStore::keychainAvailabilityChanged, this,
        &ConnectionManagerDialog::updateKeychainNote);
    connect(m_tester, &ConnectionTest::finished, this, [this](bool ok, const QString &message) {
        m_test->setEnabled(selectedProfile().has_value());
        showDetails();
        Q_EMIT testFinished(ok, message);
    });

    reload();
    updateKeychainNote();
    // Asking once tells whether there is a keychain at all, so the dialog can say so before the
    // user types a secret rather than after.
    m_secrets.read(ConnectionProfile::localEngine().secretKey())
        .then([guard = QPointer(this)](const std::expected<QString, SecretStore::Error> &) {
            if (guard)
                guard->updateKeychainNote();
        });
    resize(900, 460);
}

ConnectionManagerDialog::~ConnectionManagerDialog() = default;

ProfileEditor *ConnectionManagerDialog::editor() const
{
    return m_editor;
}

TwilioCliImportDialog *ConnectionManagerDialog::importDialog() const
{
    return m_importDialog;
}

QMessageBox *ConnectionManagerDialog::removeQuestion() const
{
    return m_question;
}

void ConnectionManagerDialog::reload()
{
    const QString selected = selectedProfileId();
    const QSignalBlocker blocker(m_list);
    m_list->clear();
    for (const ConnectionProfile &profile : m_profiles.profiles()) {
        QString title = profile.name;
        if (profile.kind != Kind::LocalEngine && m_openIds.contains(profile.id))
            title += tr("  (open)");
        auto *item = new QListWidgetItem(iconOf(style(), profile.kind),
            QStringLiteral("%1\n%2").arg(title, summaryOf(profile)), m_list);
        item->setData(kIdRole, profile.id);
        item->setToolTip(profile.name);
    }
    selectProfile(selected.isEmpty() && m_list->count() > 0
            ? m_list->item(0)->data(kIdRole).toString()
            : selected);
    if (m_list->currentRow() < 0 && m_list->count() > 0)
        m_list->setCurrentRow(0);
    updateButtons();
    showDetails();
}

void ConnectionManagerDialog::updateKeychainNote()
{
    if (m_secrets.keychainAvailable()) {
        m_keychainNote->hide();
        return;
    }
    m_keychainNote->setText(
        tr("<b>No keychain:</b> %1. Secrets are kept in memory for this session only and asked "
           "for again next time; they are never written to a file.")
            .arg(m_secrets.unavailableReason().toHtmlEscaped()));
    m_keychainNote->show();
}

void ConnectionManagerDialog::setOpenProfileIds(const QStringList &ids)
{
    m_openIds = ids;
    reload();
}

QString ConnectionManagerDialog::selectedProfileId() const
{
    const QListWidgetItem *item = m_list->currentItem();
    return item ? item->data(kIdRole).toString() : QString();
}

void ConnectionManagerDialog::selectProfile(const QString &id)
{
    for (int row = 0; row < m_list->count(); ++row) {
        if (m_list->item(row)->data(kIdRole).toString() == id) {
            m_list->setCurrentRow(row);
            return;
        }
    }
}

std::optional<ConnectionProfile> ConnectionManagerDialog::selectedProfile() const
{
    const QString id = selectedProfileId();
    return id.isEmpty() ? std::nullopt : m_profiles.find(id);
}

void ConnectionManagerDialog::updateButtons()
{
    const auto profile = selectedProfile();
    const bool remote = profile && profile->kind != Kind::LocalEngine;
    m_edit->setEnabled(remote);
    m_remove->setEnabled(remote);
    m_test->setEnabled(remote && !m_tester->isRunning());
    m_open->setEnabled(remote && !m_openIds.contains(profile->id));
}

void ConnectionManagerDialog::showDetails()
{
    const auto profile = selectedProfile();
    if (!profile) {
        m_details->clear();
        m_testResult->clear();
        return;
    }
    QStringList lines;
    lines.append(QStringLiteral("<b>%1</b>").arg(profile->name.toHtmlEscaped()));
    lines.append(ConnectionProfile::kindName(profile->kind));
    if (profile->kind == Kind::LocalEngine) {
        lines.append(tr("The console's own engine. Its address and credentials are in the "
                        "status bar when it is selected in the tree."));
    } else {
        const RemoteEndpoints endpoints = profile->endpoints();
        lines.append(tr("REST: %1").arg(endpoints.restBase.toDisplayString().toHtmlEscaped()));
        lines.append(tr("Live: %1").arg(endpoints.twilsockUrl.toDisplayString().toHtmlEscaped()));
        lines.append(tr("Account SID: %1").arg(profile->accountSid.toHtmlEscaped()));
        if (profile->authMethod == ConnectionProfile::AuthMethod::ApiKey) {
            lines.append(tr("API key: %1").arg(profile->apiKeySid.toHtmlEscaped()));
        } else {
            lines.append(tr("Auth Token"));
            lines.append(QStringLiteral("<i>%1</i>")
                             .arg(tr("Live subscriptions need an API key; an Auth Token gives "
                                     "admin and publishing only.")));
        }
    }
    m_details->setText(lines.join(QStringLiteral("<br>")));
    if (m_testedId == profile->id)
        m_testResult->setText(m_tester->isRunning() ? tr("Testing…") : m_tester->resultText());
    else
        m_testResult->clear();
}

QStringList ConnectionManagerDialog::namesExcept(const QString &id) const
{
    QStringList names;
    for (const ConnectionProfile &profile : m_profiles.profiles()) {
        if (profile.id != id)
            names.append(profile.name);
    }
    return names;
}

QString ConnectionManagerDialog::uniqueName(const QString &wanted) const
{
    const QStringList taken = namesExcept({});
    const auto isTaken = [&taken](const QString &name) {
        return std::any_of(taken.cbegin(), taken.cend(), [&name](const QString &other) {
            return other.compare(name, Qt::CaseInsensitive) == 0;
        });
    };
    const QString base = wanted.trimmed().isEmpty() ? tr("Imported") : wanted.trimmed();
    QString name = base;
    for (int n = 2; isTaken(name); ++n)
        name = QStringLiteral("%1 (%2)").arg(base).arg(n);
    return name;
}

void ConnectionManagerDialog::addProfile()
{
    ConnectionProfile profile;
    profile.kind = Kind::TwilioAccount;
    openEditor(profile);
}

void ConnectionManagerDialog::editSelected()
{
    const auto profile = selectedProfile();
    if (profile && profile->kind != Kind::LocalEngine)
        openEditor(*profile);
}

void ConnectionManagerDialog::openEditor(const ConnectionProfile &profile, const QString &secret)
{
    if (m_editor)
        m_editor->close();
    auto *editor = new ProfileEditor(profile, namesExcept(profile.id), m_secrets, this);
    editor->setAttribute(Qt::WA_DeleteOnClose);
    if (!secret.isEmpty())
        editor->setSecret(secret);
    m_editor = editor;
    connect(editor, &QDialog::accepted, this,
        [this, editor] { save(editor->profile(), editor->secret().trimmed()); });
    // Window-modal, without a nested event loop: live views keep streaming behind it.
    editor->open();
}

void ConnectionManagerDialog::save(const ConnectionProfile &profile, const QString &secret)
{
    const auto stored = m_profiles.save(profile);
    if (!stored) {
        m_banner->showMessage(PageBanner::Kind::Error,
            tr("“%1” was not saved: %2").arg(profile.name, stored.error()));
        return;
    }
    const ConnectionProfile &saved = *stored;
    reload();
    selectProfile(saved.id);
    const QString reopen = m_openIds.contains(saved.id)
        ? u' ' + tr("It is open: close it and open it again to use the changes.")
        : QString();
    if (secret.isEmpty()) {
        m_banner->showMessage(PageBanner::Kind::Info, tr("Saved “%1”.").arg(saved.name) + reopen);
        Q_EMIT profileSaved(saved.id);
        return;
    }
    m_secrets.write(saved.secretKey(), secret)
        .then([this, guard = QPointer(this), saved, reopen](
                  const std::expected<void, SecretStore::Error> &written) {
            if (!guard)
                return;
            if (written) {
                m_banner->showMessage(PageBanner::Kind::Info,
                    tr("Saved “%1”; its secret is in the keychain.").arg(saved.name) + reopen);
            } else if (written.error().kind == SecretStore::Error::Kind::NoKeychain) {
                m_banner->showMessage(PageBanner::Kind::Warning,
                    tr("Saved “%1”. No keychain (%2): its secret is kept for this session only "
                       "and will be asked for next time.")
                            .arg(saved.name, written.error().message)
                        + reopen);
            } else {
                m_banner->showMessage(PageBanner::Kind::Error,
                    tr("Saved “%1”, but the keychain refused its secret: %2. You will be asked "
                       "for it when you open the connection.")
                            .arg(saved.name, written.error().message)
                        + reopen);
            }
            updateKeychainNote();
            Q_EMIT profileSaved(saved.id);
        });
}

void ConnectionManagerDialog::removeSelected()
{
    const auto profile = selectedProfile();
    if (!profile || profile->kind == Kind::LocalEngine)
        return;
    if (m_question)
        m_question->close();
    const QString question = m_openIds.contains(profile->id)
        ? tr("Remove the connection “%1”? It is open and will be closed. Its secret is removed "
             "from the keychain too.")
              .arg(profile->name)
        : tr("Remove the connection “%1”? Its secret is removed from the keychain too.")
              .arg(profile->name);
    auto *box = new QMessageBox(QMessageBox::Question, tr("Remove connection"), question,
        QMessageBox::Yes | QMessageBox::Cancel, this);
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    m_question = box;
    const ConnectionProfile &removed = *profile;
    connect(box, &QMessageBox::finished, this, [this, box, removed](int) {
        if (box->clickedButton() != box->button(QMessageBox::Yes))
            return;
        m_profiles.remove(removed.id);
        m_openIds.removeAll(removed.id);
        reload();
        m_banner->showMessage(PageBanner::Kind::Info, tr("Removed “%1”.").arg(removed.name));
        m_secrets.remove(removed.secretKey())
            .then([this, guard = QPointer(this), removed](
                      const std::expected<void, SecretStore::Error> &gone) {
                if (guard && !gone && gone.error().kind != SecretStore::Error::Kind::NotFound
                    && gone.error().kind != SecretStore::Error::Kind::NoKeychain)
                    m_banner->showMessage(PageBanner::Kind::Warning,
                        tr("Removed “%1”, but its secret could not be removed from the "
                           "keychain: %2")
                            .arg(removed.name, gone.error().message));
            });
        Q_EMIT profileRemoved(removed.id);
    });
    box->open();
}

void ConnectionManagerDialog::testSelected()
{
    const auto profile = selectedProfile();
    if (!profile || profile->kind == Kind::LocalEngine)
        return;
    m_testedId = profile->id;
    m_test->setEnabled(false);
    m_testResult->setText(tr("Testing…"));
    const quint64 generation = ++m_testGeneration;
    const ConnectionProfile &tested = *profile;
    m_secrets.read(tested.secretKey())
        .then([this, guard = QPointer(this), tested, generation](
                  const std::expected<QString, SecretStore::Error> &secret) {
            if (!guard || generation != m_testGeneration)
                return;
            if (!secret) {
                m_test->setEnabled(true);
                const QString message =
                    tr("No secret to test with: %1. Edit the connection to enter it.")
                        .arg(secret.error().message);
                m_testResult->setText(message);
                Q_EMIT testFinished(false, message);
                return;
            }
            m_tester->start(tested, *secret);
        });
}

void ConnectionManagerDialog::openSelected()
{
    const auto profile = selectedProfile();
    if (!profile || profile->kind == Kind::LocalEngine || m_openIds.contains(profile->id))
        return;
    Q_EMIT openRequested(profile->id);
    accept();
}

void ConnectionManagerDialog::importFromEnvironment(const QProcessEnvironment &environment)
{
    const std::optional<ImportedProfile> found = profileimport::fromEnvironment(environment);
    if (!found) {
        m_banner->showMessage(PageBanner::Kind::Info,
            tr("TWILIO_ACCOUNT_SID is not set in the environment: nothing to import."));
        return;
    }
    ConnectionProfile profile = found->profile;
    profile.id.clear();
    profile.name = uniqueName(profile.name.isEmpty() ? tr("From environment") : profile.name);
    // Through the editor, so the user sees what was found and names it before anything is saved.
    openEditor(profile, found->secret);
}

void ConnectionManagerDialog::importFromTwilioCli(const QString &configPath)
{
    const QString path = configPath.isEmpty()
        ? profileimport::twilioCliConfigPath(QProcessEnvironment::systemEnvironment())
        : configPath;
    const auto found = profileimport::fromTwilioCli(path);
    if (!found) {
        m_banner->showMessage(PageBanner::Kind::Error,
            tr("Cannot read twilio-cli's profiles: %1").arg(found.error()));
        return;
    }
    if (found->isEmpty()) {
        m_banner->showMessage(
            PageBanner::Kind::Info, tr("No profiles in %1.").arg(QDir::toNativeSeparators(path)));
        return;
    }
    if (m_importDialog)
        m_importDialog->close();
    auto *dialog = new TwilioCliImportDialog(
        path, *found, m_secrets.keychainAvailable(), m_secrets.unavailableReason(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_importDialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        importFromCli(dialog->selected(), dialog->configPath(), dialog->moveSecrets());
    });
    dialog->open();
}

void ConnectionManagerDialog::importFromCli(
    const QList<ImportedProfile> &chosen, const QString &configPath, bool moveSecrets)
{
    // Every secret write reports back; the file is changed only once all of them are in: a
    // secret is removed from twilio-cli's file only when the keychain holds it.
    struct Progress
    {
        int pending = 0;
        int imported = 0;
        QStringList stored; // twilio-cli profile names whose secret is now in the keychain
        QStringList failures;
        QStringList refused; // profiles the store would not take, with why
        QString firstId;
    };
    auto progress = std::make_shared<Progress>();
    const auto done = [this, guard = QPointer(this), progress, configPath, moveSecrets] {
        if (!guard)
            return;
        reload();
        if (!progress->firstId.isEmpty())
            selectProfile(progress->firstId);
        QString text = progress->imported == 1
            ? tr("Imported 1 profile from twilio-cli.")
            : tr("Imported %1 profiles from twilio-cli.").arg(progress->imported);
        PageBanner::Kind kind = PageBanner::Kind::Info;
        if (!progress->refused.isEmpty()) {
            kind = PageBanner::Kind::Warning;
            text +=
                u' ' + tr("Not imported: %1.").arg(progress->refused.join(QStringLiteral("; ")));
        }
        if (!progress->failures.isEmpty()) {
            kind = PageBanner::Kind::Warning;
            text += u' '
                + tr("Secrets not in the keychain (kept for this session only, and left in "
                     "twilio-cli's file): %1.")
                      .arg(progress->failures.join(QStringLiteral(", ")));
        }
        if (moveSecrets && !progress->stored.isEmpty()) {
            const auto moved =
                profileimport::removeSecretsFromTwilioCli(configPath, progress->stored);
            if (moved) {
                text += u' '
                    + tr("Their secrets moved to the keychain and out of %1.")
                          .arg(QDir::toNativeSeparators(configPath));
            } else {
                kind = PageBanner::Kind::Error;
                text += u' '
                    + tr("The secrets are in the keychain, but could not be removed from "
                         "twilio-cli's file: %1")
                          .arg(moved.error());
            }
        }
        m_banner->showMessage(kind, text);
        updateKeychainNote();
        Q_EMIT importFinished(progress->imported);
    };

    for (const ImportedProfile &imported : chosen) {
        ConnectionProfile profile = imported.profile;
        const QString cliName = profile.name;
        profile.id.clear();
        profile.name = uniqueName(profile.name);
        const auto stored = m_profiles.save(profile);
        if (!stored) {
            progress->refused.append(QStringLiteral("%1 (%2)").arg(cliName, stored.error()));
            continue;
        }
        const ConnectionProfile &saved = *stored;
        ++progress->imported;
        if (progress->firstId.isEmpty())
            progress->firstId = saved.id;
        if (imported.secret.isEmpty())
            continue;
        ++progress->pending;
        m_secrets.write(saved.secretKey(), imported.secret)
            .then(
                [progress, done, cliName](const std::expected<void, SecretStore::Error> &written) {
                    if (written)
                        progress->stored.append(cliName);
                    else
                        progress->failures.append(cliName);
                    if (--progress->pending == 0)
                        done();
                });
    }
    if (progress->pending == 0)
        done();
}

} // namespace streams
