// The profile editor: problems shown at their fields as the user types, the fields each kind
// and auth method need, the secret masked, and "Test connection" against a real engine.

#include "awaitfuture.h"
#include "engineprocess.h"
#include "engineprofile.h"
#include "profiles/secretstore.h"
#include "ui/connections/profileeditor.h"

#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>
#include <QToolButton>

using namespace streams;
using namespace streams::testing;
using Field = ProfileEditor::Field;
using Kind = ConnectionProfile::Kind;

namespace {
const QString kAccount = QStringLiteral("AC0123456789abcdef0123456789abcdef");
const QString kKey = QStringLiteral("SK0123456789abcdef0123456789abcdef");

ConnectionProfile stagingProfile(const EngineProcess &engine)
{
    ConnectionProfile profile = testing::engineProfile(engine, QStringLiteral("Staging engine"));
    profile.id = QStringLiteral("5b0c7a8e-0000-4000-8000-000000000001");
    return profile;
}

void selectKind(ProfileEditor &editor, Kind kind)
{
    editor.kindCombo()->setCurrentIndex(editor.kindCombo()->findData(int(kind)));
}
} // namespace

class TestProfileEditor final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void problemsShowAtTheirFields_data();
    void problemsShowAtTheirFields();
    void untouchedFieldsWaitForTheUser();
    void eachKindShowsItsFields();
    void authMethodSaysWhatLiveNeeds();
    void secretIsMaskedUntilShown();
    void validFormSavesWhatItShows();
    void existingProfileIsCheckedWhole();
    void testConnectionAgainstEngine();
    void testConnectionReportsRefusal();
    void testConnectionReportsNoAnswer();

private:
    EngineProcess m_engine;
    SecretStore m_secrets{QStringLiteral("sync-streams-console-test")};
};

void TestProfileEditor::initTestCase()
{
    QVERIFY(m_engine.start());
}

void TestProfileEditor::problemsShowAtTheirFields_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("fieldName");
    QTest::addColumn<QString>("typed");
    QTest::addColumn<int>("field");
    QTest::addColumn<QString>("expected");

    const int twilio = int(Kind::TwilioAccount), engine = int(Kind::EngineAtUrl);
    QTest::addRow("account sid too short") << twilio << "accountSidEdit"
                                           << "AC123" << int(Field::AccountSid) << "32 hexadecimal";
    QTest::addRow("account sid wrong prefix")
        << twilio << "accountSidEdit"
        << "SK0123456789abcdef0123456789abcdef" << int(Field::AccountSid) << "starts with";
    QTest::addRow("api key not hex")
        << twilio << "apiKeySidEdit"
        << "SK0123456789abcdef0123456789abcdeZ" << int(Field::ApiKeySid) << "not hexadecimal";
    QTest::addRow("region with capitals") << twilio << "regionEdit"
                                          << "US1" << int(Field::Region) << "lowercase";
    QTest::addRow("edge with hyphen at end") << twilio << "edgeEdit"
                                             << "dublin-" << int(Field::Edge) << "hyphen";
    QTest::addRow("url without scheme")
        << engine << "urlEdit"
        << "example.org" << int(Field::EngineUrl) << "must start with http";
    QTest::addRow("url with password")
        << engine << "urlEdit"
        << "http://me:pw@127.0.0.1:8080" << int(Field::EngineUrl) << "password";
    QTest::addRow("url with path") << engine << "urlEdit"
                                   << "http://127.0.0.1:8080/v1" << int(Field::EngineUrl) << "path";
    QTest::addRow("name taken (any case)") << twilio << "nameEdit"
                                           << "production" << int(Field::Name) << "already called";
    QTest::addRow("secret pasted with a newline") << twilio << "secretEdit"
                                                  << "abc\n"
                                                  << int(Field::Secret) << "space or line break";
}

void TestProfileEditor::problemsShowAtTheirFields()
{
    QFETCH(int, kind);
    QFETCH(QString, fieldName);
    QFETCH(QString, typed);
    QFETCH(int, field);
    QFETCH(QString, expected);

    ProfileEditor editor(ConnectionProfile{}, {QStringLiteral("Production")}, m_secrets);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    selectKind(editor, Kind(kind));
    auto *edit = editor.findChild<QLineEdit *>(fieldName);
    QVERIFY(edit);
    QVERIFY(edit->isVisible());
    if (typed.contains(u'\n')) {
        // A line edit drops typed newlines; a paste keeps them as they came.
        edit->setFocus();
        edit->insert(typed);
        Q_EMIT edit->textEdited(edit->text());
    } else {
        QTest::keyClicks(edit, typed);
    }

    const QString shown = editor.problemAt(Field(field));
    QVERIFY2(shown.contains(expected, Qt::CaseInsensitive), qPrintable(shown));
    auto *label = editor.findChild<QLabel *>(QStringLiteral("problem_%1").arg(fieldName));
    QVERIFY(label);
    QVERIFY(label->isVisible()); // under the field, where the user is looking
    QVERIFY(!editor.saveButton()->isEnabled());

    // Clearing the mistake takes its message away as soon as it is typed.
    edit->clear();
    const QString fixed = fieldName == u"nameEdit" ? QStringLiteral("Production 2")
        : fieldName == u"urlEdit"                  ? QStringLiteral("http://127.0.0.1:8080")
        : fieldName == u"accountSidEdit"           ? kAccount
        : fieldName == u"apiKeySidEdit"            ? kKey
        : fieldName == u"secretEdit"               ? QStringLiteral("abc")
                                                   : QString();
    QTest::keyClicks(edit, fixed);
    QVERIFY2(editor.problemAt(Field(field)).isEmpty(), qPrintable(editor.problemAt(Field(field))));
    QVERIFY(!label->isVisible());
}

void TestProfileEditor::untouchedFieldsWaitForTheUser()
{
    ProfileEditor editor(ConnectionProfile{}, {}, m_secrets);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    QVERIFY(editor.isNewProfile());
    // An empty form is not a wall of red, but it cannot be saved, and Save says why.
    QVERIFY(editor.problemAt(Field::Name).isEmpty());
    QVERIFY(editor.problemAt(Field::AccountSid).isEmpty());
    QVERIFY(!editor.saveButton()->isEnabled());
    QVERIFY(editor.saveButton()->toolTip().contains(u"Still to fill in"));
    QVERIFY(editor.saveButton()->toolTip().contains(u"Account SID"));

    // Leaving a required field empty after visiting it says so at the field.
    editor.nameEdit()->setFocus();
    QTest::keyClicks(editor.nameEdit(), QStringLiteral("x"));
    QTest::keyClick(editor.nameEdit(), Qt::Key_Backspace);
    QVERIFY(editor.problemAt(Field::Name).contains(u"required"));
}

void TestProfileEditor::eachKindShowsItsFields()
{
    ProfileEditor editor(ConnectionProfile{}, {}, m_secrets);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));

    selectKind(editor, Kind::TwilioAccount);
    QVERIFY(!editor.urlEdit()->isVisible());
    QVERIFY(editor.regionEdit()->isVisible());
    QVERIFY(editor.edgeEdit()->isVisible());

    selectKind(editor, Kind::EngineAtUrl);
    QVERIFY(editor.urlEdit()->isVisible());
    QVERIFY(!editor.regionEdit()->isVisible());
    QVERIFY(!editor.edgeEdit()->isVisible());

    // What a kind cannot use is not saved with it.
    editor.urlEdit()->setText(QStringLiteral("http://127.0.0.1:9"));
    selectKind(editor, Kind::TwilioAccount);
    editor.regionEdit()->setText(QStringLiteral("ie1"));
    QVERIFY(editor.profile().engineUrl.isEmpty());
    QCOMPARE(editor.profile().region, QStringLiteral("ie1"));
    selectKind(editor, Kind::EngineAtUrl);
    QVERIFY(editor.profile().region.isEmpty());
    QCOMPARE(editor.profile().engineUrl, QUrl(QStringLiteral("http://127.0.0.1:9")));
}

void TestProfileEditor::authMethodSaysWhatLiveNeeds()
{
    ProfileEditor editor(ConnectionProfile{}, {}, m_secrets);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    selectKind(editor, Kind::TwilioAccount);
    QVERIFY(editor.authNote()->isVisible());
    QCOMPARE(editor.authNote()->text(),
        QStringLiteral("Live subscriptions to the Twilio cloud need an API key; an Auth Token "
                       "gives admin and publishing only."));

    QVERIFY(editor.apiKeyRadio()->isChecked());
    QVERIFY(editor.apiKeySidEdit()->isVisible());
    editor.authTokenRadio()->click();
    QVERIFY(!editor.apiKeySidEdit()->isVisible());
    editor.apiKeySidEdit()->setText(kKey); // hidden: not part of the profile
    QVERIFY(editor.profile().apiKeySid.isEmpty());
    QCOMPARE(editor.profile().authMethod, ConnectionProfile::AuthMethod::AuthToken);
    bool labelled = false;
    for (QLabel *label : editor.findChildren<QLabel *>()) {
        if (label->buddy() == editor.secretEdit())
            labelled = label->text().contains(u"Auth") && label->text().contains(u"Token");
    }
    QVERIFY(labelled);

    selectKind(editor, Kind::EngineAtUrl);
    QVERIFY(editor.authNote()->text().contains(u"Live subscriptions need an API key"));
}

void TestProfileEditor::secretIsMaskedUntilShown()
{
    ProfileEditor editor(ConnectionProfile{}, {}, m_secrets);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    QCOMPARE(editor.secretEdit()->echoMode(), QLineEdit::Password);
    editor.showSecretButton()->click();
    QCOMPARE(editor.secretEdit()->echoMode(), QLineEdit::Normal);
    editor.showSecretButton()->click();
    QCOMPARE(editor.secretEdit()->echoMode(), QLineEdit::Password);
    QVERIFY(editor.keychainNote()->isVisible());
    QVERIFY(!editor.keychainNote()->text().isEmpty());
}

void TestProfileEditor::validFormSavesWhatItShows()
{
    ProfileEditor editor(ConnectionProfile{}, {QStringLiteral("Other")}, m_secrets);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    selectKind(editor, Kind::TwilioAccount);
    QTest::keyClicks(editor.nameEdit(), QStringLiteral("Production"));
    QTest::keyClicks(editor.accountSidEdit(), kAccount);
    QTest::keyClicks(editor.apiKeySidEdit(), kKey);
    QTest::keyClicks(editor.secretEdit(), QStringLiteral("not-a-real-secret"));
    QTest::keyClicks(editor.regionEdit(), QStringLiteral("au1"));
    QTest::keyClicks(editor.edgeEdit(), QStringLiteral("sydney"));
    QVERIFY2(editor.problems().isEmpty(), qPrintable(editor.problems().join(u'\n')));
    QVERIFY(editor.saveButton()->isEnabled());

    const ConnectionProfile profile = editor.profile();
    QCOMPARE(profile.name, QStringLiteral("Production"));
    QCOMPARE(profile.kind, Kind::TwilioAccount);
    QCOMPARE(profile.accountSid, kAccount);
    QCOMPARE(profile.apiKeySid, kKey);
    QCOMPARE(profile.region, QStringLiteral("au1"));
    QCOMPARE(profile.edge, QStringLiteral("sydney"));
    QVERIFY(editor.secret() == QStringLiteral("not-a-real-secret"));

    QSignalSpy accepted(&editor, &QDialog::accepted);
    editor.saveButton()->click();
    QCOMPARE(accepted.count(), 1);
}

void TestProfileEditor::existingProfileIsCheckedWhole()
{
    ConnectionProfile broken = stagingProfile(m_engine);
    broken.accountSid = QStringLiteral("AC12");
    ProfileEditor editor(broken, {}, m_secrets);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    QVERIFY(!editor.isNewProfile());
    QVERIFY(editor.problemAt(Field::AccountSid).contains(u"32 hexadecimal"));
    QVERIFY(editor.windowTitle().contains(broken.name));
    // Its secret stays where it is unless the user types a new one.
    QVERIFY(editor.secret().isEmpty());
    QVERIFY(editor.secretEdit()->placeholderText().contains(u"keep"));
}

void TestProfileEditor::testConnectionAgainstEngine()
{
    ProfileEditor editor(stagingProfile(m_engine), {}, m_secrets);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    editor.setSecret(m_engine.apiKeySecret());
    QSignalSpy finished(&editor, &ProfileEditor::testFinished);
    editor.testButton()->click();
    // The click returns before the answer: the window keeps running while the test does.
    QVERIFY(editor.isTesting());
    QCOMPARE(editor.testResultText(), QStringLiteral("Testing…"));
    QVERIFY(finished.wait(15000));
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(editor.testResultText()));
    QCOMPARE(editor.testResultText(), QStringLiteral("OK: 1 service."));
    QVERIFY(!editor.isTesting());
}

void TestProfileEditor::testConnectionReportsRefusal()
{
    ProfileEditor editor(stagingProfile(m_engine), {}, m_secrets);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    editor.setSecret(QStringLiteral("wrong-secret"));
    QSignalSpy finished(&editor, &ProfileEditor::testFinished);
    editor.testButton()->click();
    QVERIFY(finished.wait(15000));
    QVERIFY(!finished.at(0).at(0).toBool());
    QVERIFY2(editor.testResultText().startsWith(u"Failed:"), qPrintable(editor.testResultText()));
    QVERIFY2(editor.testResultText().contains(u"20003"), qPrintable(editor.testResultText()));
}

void TestProfileEditor::testConnectionReportsNoAnswer()
{
    // A port that was free a moment ago: nothing listens there.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost));
    const quint16 port = probe.serverPort();
    probe.close();
    ConnectionProfile profile = stagingProfile(m_engine);
    profile.engineUrl = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
    ProfileEditor editor(profile, {}, m_secrets);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    editor.setSecret(m_engine.apiKeySecret());
    QSignalSpy finished(&editor, &ProfileEditor::testFinished);
    editor.testButton()->click();
    QVERIFY(finished.wait(30000));
    QVERIFY(!finished.at(0).at(0).toBool());
    QVERIFY2(editor.testResultText().startsWith(u"Failed:"), qPrintable(editor.testResultText()));
}

int main(int argc, char *argv[])
{
    // Never the user's own keyring: only a throwaway one (tests/support/with-keyring.sh), or
    // none at all.
    if (qgetenv("STREAMS_TEST_KEYRING") != "throwaway")
        qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/streams-test-bus");
    QApplication app(argc, argv);
    TestProfileEditor test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_profileeditor.moc"
