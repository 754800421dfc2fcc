// The connection manager: profiles saved without their secrets (which go to the keychain, or to
// this session's memory when there is none, and the dialog says why), imports from the
// environment and from twilio-cli (moving secrets out of its file only into a keychain), remove,
// and "Test connection" against a real engine.

#include "awaitfuture.h"
#include "engineprocess.h"
#include "engineprofile.h"
#include "profiles/profilestore.h"
#include "profiles/secretstore.h"
#include "ui/connections/connectionmanagerdialog.h"
#include "ui/connections/profileeditor.h"
#include "ui/connections/twiliocliimportdialog.h"
#include "ui/stream/pagebanner.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>
#include <tuple>

using namespace streams;
using namespace streams::testing;
using Kind = ConnectionProfile::Kind;

namespace {
bool keyringMode()
{
    return qgetenv("STREAMS_TEST_KEYRING") == "throwaway";
}

QByteArray fileBytes(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(bytes);
}
} // namespace

class TestConnectionManager final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void localEngineFirstAndFixed();
    void keychainStateIsShown();
    void addSavesProfileButNotItsSecret();
    void editKeepsTheStoredSecret();
    void importFromEnvironment();
    void importFromTwilioCliMovesSecretsOnlyIntoAKeychain();
    void removeAsksThenForgets();
    void testSelectedProfile();
    void openRequestsTheProfile();

private:
    QString saveEngineProfile(const QString &name, const QString &secret);

    EngineProcess m_engine;
    QTemporaryDir m_dir;
    std::unique_ptr<ProfileStore> m_profiles;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<ConnectionManagerDialog> m_manager;
    QString m_profilesPath;
};

void TestConnectionManager::initTestCase()
{
    if (keyringMode())
        QVERIFY2(qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS"),
            "with-keyring.sh should have started a private bus");
    QVERIFY(m_engine.start());
}

void TestConnectionManager::init()
{
    const QString name = QString::fromLatin1(QTest::currentTestFunction());
    m_profilesPath = m_dir.filePath(name + QStringLiteral("-profiles.ini"));
    m_profiles = std::make_unique<ProfileStore>(m_profilesPath);
    // A service name of its own per test: nothing read back can come from an earlier one.
    m_secrets = std::make_unique<SecretStore>(QStringLiteral("sync-streams-console-test-%1")
                                                  .arg(QUuid::createUuid().toString(QUuid::Id128)));
    m_manager = std::make_unique<ConnectionManagerDialog>(*m_profiles, *m_secrets);
    m_manager->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_manager.get()));
}

void TestConnectionManager::cleanup()
{
    m_manager.reset();
    m_secrets.reset();
    m_profiles.reset();
}

QString TestConnectionManager::saveEngineProfile(const QString &name, const QString &secret)
{
    const auto saved = m_profiles->save(engineProfile(m_engine, name));
    if (!saved)
        return {};
    // The keychain, or this session (NoKeychain, ignored) when the test runs without one.
    std::ignore = await(m_secrets->write(saved->secretKey(), secret));
    return saved->id;
}

void TestConnectionManager::localEngineFirstAndFixed()
{
    QListWidget *list = m_manager->profileList();
    QVERIFY(list->count() >= 1);
    m_manager->selectProfile(ConnectionProfile::localEngine().id);
    QCOMPARE(list->currentRow(), 0);
    QVERIFY(list->item(0)->text().contains(ConnectionProfile::localEngine().name));
    QVERIFY(!m_manager->editButton()->isEnabled());
    QVERIFY(!m_manager->removeButton()->isEnabled());
    QVERIFY(!m_manager->testButton()->isEnabled());
    QVERIFY(!m_manager->openButton()->isEnabled());
    QVERIFY(m_manager->addButton()->isEnabled());
}

void TestConnectionManager::keychainStateIsShown()
{
    if (keyringMode()) {
        // The probe the dialog makes finds the throwaway keyring: nothing to warn about. The
        // same question asked here gets the same answer once the keyring has given it.
        const auto probed = await(m_secrets->read(ConnectionProfile::localEngine().secretKey()));
        QVERIFY(probed || probed.error().kind == SecretStore::Error::Kind::NotFound);
        QVERIFY(m_secrets->keychainAvailable());
        QVERIFY(!m_manager->keychainNote()->isVisible());
    } else {
        QTRY_VERIFY_WITH_TIMEOUT(!m_secrets->keychainAvailable(), 10000);
        QTRY_VERIFY(m_manager->keychainNote()->isVisible());
        QVERIFY(m_manager->keychainNote()->text().contains(u"session only"));
        QVERIFY(m_manager->keychainNote()->text().contains(
            m_secrets->unavailableReason().toHtmlEscaped()));
    }
}

void TestConnectionManager::addSavesProfileButNotItsSecret()
{
    const QString secret = m_engine.apiKeySecret();
    m_manager->addButton()->click();
    ProfileEditor *editor = m_manager->editor();
    QVERIFY(editor);
    QVERIFY(QTest::qWaitForWindowExposed(editor));
    editor->kindCombo()->setCurrentIndex(editor->kindCombo()->findData(int(Kind::EngineAtUrl)));
    QTest::keyClicks(editor->nameEdit(), QStringLiteral("Staging engine"));
    QTest::keyClicks(editor->urlEdit(), m_engine.baseUrl());
    QTest::keyClicks(editor->accountSidEdit(), m_engine.accountSid());
    QTest::keyClicks(editor->apiKeySidEdit(), m_engine.apiKeySid());
    QTest::keyClicks(editor->secretEdit(), secret);
    QVERIFY2(editor->saveButton()->isEnabled(), qPrintable(editor->problems().join(u'\n')));

    QSignalSpy saved(m_manager.get(), &ConnectionManagerDialog::profileSaved);
    editor->saveButton()->click();
    QVERIFY(saved.wait(15000));
    const QString id = saved.at(0).at(0).toString();
    const auto profile = m_profiles->find(id);
    QVERIFY(profile);
    QCOMPARE(profile->name, QStringLiteral("Staging engine"));
    QCOMPARE(profile->kind, Kind::EngineAtUrl);
    QCOMPARE(profile->apiKeySid, m_engine.apiKeySid());
    QCOMPARE(m_manager->selectedProfileId(), id);

    // The profile file has the profile and not its secret (compared as booleans: a failing
    // QCOMPARE would print the secret).
    const QByteArray ini = fileBytes(m_profilesPath);
    QVERIFY(ini.contains(m_engine.apiKeySid().toUtf8()));
    QVERIFY(!ini.contains(secret.toUtf8()));
    const auto stored = await(m_secrets->read(profile->secretKey()));
    QVERIFY(stored.has_value());
    QVERIFY(*stored == secret);

    const QString banner = m_manager->banner()->displayedText();
    if (keyringMode()) {
        QVERIFY(m_secrets->keychainAvailable());
        QVERIFY2(banner.contains(u"in the keychain"), qPrintable(banner));
    } else {
        QVERIFY(!m_secrets->keychainAvailable());
        QVERIFY2(banner.contains(u"No keychain") && banner.contains(u"this session only"),
            qPrintable(banner));
    }
}

void TestConnectionManager::editKeepsTheStoredSecret()
{
    const QString id = saveEngineProfile(QStringLiteral("Edited"), m_engine.apiKeySecret());
    QVERIFY(!id.isEmpty());
    m_manager->selectProfile(id);
    QVERIFY(m_manager->editButton()->isEnabled());
    m_manager->editButton()->click();
    ProfileEditor *editor = m_manager->editor();
    QVERIFY(editor);
    QVERIFY(editor->secret().isEmpty());
    // Test with the stored secret, not retyped.
    QSignalSpy tested(editor, &ProfileEditor::testFinished);
    editor->testButton()->click();
    QVERIFY(tested.wait(15000));
    QVERIFY2(tested.at(0).at(0).toBool(), qPrintable(editor->testResultText()));

    editor->nameEdit()->setText(QStringLiteral("Edited again"));
    QSignalSpy saved(m_manager.get(), &ConnectionManagerDialog::profileSaved);
    editor->saveButton()->click();
    QTRY_COMPARE(saved.count(), 1); // no secret typed: nothing to wait for
    QCOMPARE(m_profiles->find(id)->name, QStringLiteral("Edited again"));
    const auto stored = await(m_secrets->read(m_profiles->find(id)->secretKey()));
    QVERIFY(stored && *stored == m_engine.apiKeySecret());
}

void TestConnectionManager::importFromEnvironment()
{
    const QString token =
        QStringLiteral("env-secret-%1").arg(QUuid::createUuid().toString(QUuid::Id128));
    QProcessEnvironment environment;
    environment.insert(QStringLiteral("TWILIO_ACCOUNT_SID"), m_engine.accountSid());
    environment.insert(QStringLiteral("TWILIO_API_KEY"), m_engine.apiKeySid());
    environment.insert(QStringLiteral("TWILIO_API_SECRET"), token);
    environment.insert(QStringLiteral("TWILIO_REGION"), QStringLiteral("ie1"));
    m_manager->importFromEnvironment(environment);
    ProfileEditor *editor = m_manager->editor();
    QVERIFY(editor);
    // Shown for the user to check and name before anything is saved.
    QVERIFY(m_profiles->profiles().size() == 1);
    QCOMPARE(editor->accountSidEdit()->text(), m_engine.accountSid());
    QCOMPARE(editor->apiKeySidEdit()->text(), m_engine.apiKeySid());
    QCOMPARE(editor->regionEdit()->text(), QStringLiteral("ie1"));
    QVERIFY(editor->secret() == token);
    QVERIFY(editor->saveButton()->isEnabled());
    QSignalSpy saved(m_manager.get(), &ConnectionManagerDialog::profileSaved);
    editor->saveButton()->click();
    QVERIFY(saved.wait(15000));
    QVERIFY(!fileBytes(m_profilesPath).contains(token.toUtf8()));
    const auto stored =
        await(m_secrets->read(m_profiles->find(saved.at(0).at(0).toString())->secretKey()));
    QVERIFY(stored && *stored == token);

    // Nothing set: nothing to import, and the dialog says so.
    m_manager->importFromEnvironment(QProcessEnvironment());
    QVERIFY(m_manager->banner()->displayedText().contains(u"TWILIO_ACCOUNT_SID is not set"));
}

void TestConnectionManager::importFromTwilioCliMovesSecretsOnlyIntoAKeychain()
{
    // Let the dialog's first look at the keychain settle, as a user's first glance would.
    if (!keyringMode())
        QTRY_VERIFY_WITH_TIMEOUT(!m_secrets->keychainAvailable(), 10000);

    const QString apiSecret =
        QStringLiteral("cli-api-secret-%1").arg(QUuid::createUuid().toString(QUuid::Id128));
    const QString authToken =
        QStringLiteral("cli-token-%1").arg(QUuid::createUuid().toString(QUuid::Id128));
    const QString config = m_dir.filePath(QStringLiteral("twilio-cli-config.json"));
    writeFile(config,
        QStringLiteral(R"({
  "profiles": {
    "work": {
      "accountSid": "%1",
      "apiKey": "%2",
      "apiSecret": "%3",
      "region": "ie1"
    },
    "legacy": {
      "accountSid": "%1",
      "apiKey": "%1",
      "apiSecret": "%4"
    }
  },
  "activeProfile": "work"
}
)")
            .arg(m_engine.accountSid(), m_engine.apiKeySid(), apiSecret, authToken)
            .toUtf8());

    m_manager->importFromTwilioCli(config);
    TwilioCliImportDialog *dialog = m_manager->importDialog();
    QVERIFY(dialog);
    QCOMPARE(dialog->list()->count(), 2);
    QCOMPARE(
        dialog->moveCheckBox()->text(), QStringLiteral("&Move secrets out of twilio-cli's file"));
    if (keyringMode()) {
        QVERIFY(dialog->moveCheckBox()->isEnabled());
        QVERIFY(dialog->moveCheckBox()->isChecked());
        QVERIFY(dialog->moveNote()->text().contains(
            u"twilio-cli will then need them from its own keychain"));
    } else {
        // Nowhere safe to move them to: they stay where they are.
        QVERIFY(!dialog->moveCheckBox()->isEnabled());
        QVERIFY(!dialog->moveSecrets());
        QVERIFY(dialog->moveNote()->text().contains(u"No keychain"));
    }

    QSignalSpy finished(m_manager.get(), &ConnectionManagerDialog::importFinished);
    dialog->accept();
    QVERIFY(finished.wait(15000));
    QCOMPARE(finished.at(0).at(0).toInt(), 2);

    const auto work = m_profiles->find(QStringLiteral("twilio-cli: work"));
    const auto legacy = m_profiles->find(QStringLiteral("twilio-cli: legacy"));
    QVERIFY(work && legacy);
    QCOMPARE(work->apiKeySid, m_engine.apiKeySid());
    QCOMPARE(work->region, QStringLiteral("ie1"));
    QCOMPARE(legacy->authMethod, ConnectionProfile::AuthMethod::AuthToken);
    const QByteArray ini = fileBytes(m_profilesPath);
    QVERIFY(!ini.contains(apiSecret.toUtf8()));
    QVERIFY(!ini.contains(authToken.toUtf8()));
    const auto workSecret = await(m_secrets->read(work->secretKey()));
    const auto legacySecret = await(m_secrets->read(legacy->secretKey()));
    QVERIFY(workSecret && *workSecret == apiSecret);
    QVERIFY(legacySecret && *legacySecret == authToken);

    const QByteArray after = fileBytes(config);
    if (keyringMode()) {
        // Moved, never copied: the file no longer has them, the keychain does.
        QVERIFY(!after.contains(apiSecret.toUtf8()));
        QVERIFY(!after.contains(authToken.toUtf8()));
        QVERIFY(after.contains("\"activeProfile\": \"work\""));
        QVERIFY(m_manager->banner()->displayedText().contains(u"moved to the keychain"));
    } else {
        QVERIFY(after.contains(apiSecret.toUtf8()));
        QVERIFY(after.contains(authToken.toUtf8()));
        QVERIFY(m_manager->banner()->displayedText().contains(u"this session only"));
    }
}

void TestConnectionManager::removeAsksThenForgets()
{
    const QString id = saveEngineProfile(QStringLiteral("Doomed"), QStringLiteral("doomed-secret"));
    QVERIFY(!id.isEmpty());
    m_manager->selectProfile(id);
    QSignalSpy removed(m_manager.get(), &ConnectionManagerDialog::profileRemoved);
    m_manager->removeButton()->click();
    QMessageBox *question = m_manager->removeQuestion();
    QVERIFY(question);
    QVERIFY(question->text().contains(u"Doomed"));
    // Cancel first: nothing happens.
    question->button(QMessageBox::Cancel)->click();
    QVERIFY(m_profiles->find(id));
    QCOMPARE(removed.count(), 0);

    m_manager->removeButton()->click();
    QTRY_VERIFY(m_manager->removeQuestion());
    m_manager->removeQuestion()->button(QMessageBox::Yes)->click();
    QCOMPARE(removed.count(), 1);
    QVERIFY(!m_profiles->find(id));
    QTRY_VERIFY(m_manager->banner()->displayedText().contains(u"Removed “Doomed”"));
    ConnectionProfile gone;
    gone.id = id;
    const auto secret = await(m_secrets->read(gone.secretKey()));
    QVERIFY(!secret.has_value());
}

void TestConnectionManager::testSelectedProfile()
{
    const QString good = saveEngineProfile(QStringLiteral("Good"), m_engine.apiKeySecret());
    const QString bad = saveEngineProfile(QStringLiteral("Bad"), QStringLiteral("not-the-secret"));
    QSignalSpy tested(m_manager.get(), &ConnectionManagerDialog::testFinished);

    m_manager->selectProfile(good);
    m_manager->testButton()->click();
    QCOMPARE(m_manager->testResultLabel()->text(), QStringLiteral("Testing…"));
    QVERIFY(tested.wait(15000));
    QVERIFY(tested.at(0).at(0).toBool());
    QCOMPARE(m_manager->testResultLabel()->text(), QStringLiteral("OK: 1 service."));

    m_manager->selectProfile(bad);
    QVERIFY(m_manager->testResultLabel()->text().isEmpty()); // the result was another profile's
    m_manager->testButton()->click();
    QVERIFY(tested.wait(15000));
    QVERIFY(!tested.at(1).at(0).toBool());
    QVERIFY2(m_manager->testResultLabel()->text().contains(u"20003"),
        qPrintable(m_manager->testResultLabel()->text()));
}

void TestConnectionManager::openRequestsTheProfile()
{
    const QString id = saveEngineProfile(QStringLiteral("To open"), m_engine.apiKeySecret());
    m_manager->setOpenProfileIds({});
    m_manager->selectProfile(id);
    QVERIFY(m_manager->openButton()->isEnabled());
    QSignalSpy open(m_manager.get(), &ConnectionManagerDialog::openRequested);
    m_manager->openButton()->click();
    QCOMPARE(open.count(), 1);
    QCOMPARE(open.at(0).at(0).toString(), id);

    // An open profile is marked and cannot be opened twice.
    m_manager->setOpenProfileIds({id});
    m_manager->selectProfile(id);
    QVERIFY(m_manager->profileList()->currentItem()->text().contains(u"(open)"));
    QVERIFY(!m_manager->openButton()->isEnabled());
}

int main(int argc, char *argv[])
{
    // Never the user's own keyring: only a throwaway one (tests/support/with-keyring.sh), or
    // none at all.
    if (qgetenv("STREAMS_TEST_KEYRING") != "throwaway")
        qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/streams-test-bus");
    QApplication app(argc, argv);
    TestConnectionManager test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_connectionmanager.moc"
