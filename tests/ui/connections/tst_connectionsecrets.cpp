// Secrets in the console: asked for when the keychain has none (saying why), remembered for the
// session or saved in the keychain, profiles reopened at start without blocking, an Auth Token
// connection that says why it has no live view — and, after a whole remote session, no secret
// in the settings, the profiles file, the log or an NDJSON export.

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "backend/remotebackend.h"
#include "consolewindow.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "engineprocess.h"
#include "engineprofile.h"
#include "live/livesubscription.h"
#include "profiles/secretstore.h"
#include "ui/connections/connectionmanagerdialog.h"
#include "ui/connections/connectionstatuswidget.h"
#include "ui/connections/profileeditor.h"
#include "ui/connections/secretprompt.h"
#include "ui/liveview/livemessagemodel.h"
#include "ui/liveview/liveviewwidget.h"
#include "ui/mainwindow.h"
#include "ui/stream/composerwidget.h"
#include "ui/stream/pagebanner.h"
#include "ui/stream/streampage.h"
#include "ui/tree/connectiontreemodel.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDirIterator>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMutex>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <tuple>

using namespace streams;
using namespace streams::testing;

namespace {
bool keyringMode()
{
    return qgetenv("STREAMS_TEST_KEYRING") == "throwaway";
}

// Into the keychain. Without one (these tests run both ways) write() answers NoKeychain and keeps
// the secret for this session, which is all the tests need: that error is ignored on purpose.
void storeSecret(SecretStore &secrets, const QString &key, const QString &secret)
{
    std::ignore = await(secrets.write(key, secret));
}

// Everything the process logs, kept to be searched for secrets. Messages still reach the normal
// output, with the secrets this test knows blanked out: a leak fails the test without printing
// what leaked.
QMutex g_logMutex;
QByteArray g_log;
QList<QByteArray> g_secrets;
QtMessageHandler g_previous = nullptr;

void captureMessage(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    QString shown = message;
    {
        QMutexLocker lock(&g_logMutex);
        g_log += message.toUtf8() + '\n';
        for (const QByteArray &secret : std::as_const(g_secrets))
            shown.replace(QString::fromUtf8(secret), QStringLiteral("<secret>"));
    }
    if (g_previous)
        g_previous(type, context, shown);
}

QByteArray fileBytes(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}
} // namespace

class TestConnectionSecrets final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void promptSaysWhyAndOpens();
    void cancelledPromptOpensNothing();
    void openProfilesComeBackAtStart();
    void authTokenConnectionSaysWhyNoLiveView();
    void noSecretLeavesTheKeychainAfterASession();

private:
    QString saveProfile(const QString &name, ConnectionProfile::AuthMethod method);
    SecretPrompt *waitForPrompt();

    EngineProcess m_engine;
    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_local;
    ConsoleWindow m_console;
};

void TestConnectionSecrets::initTestCase()
{
    QVERIFY(m_engine.start({QStringLiteral("--publish-rate"), QStringLiteral("unlimited")}));
    g_secrets = {m_engine.apiKeySecret().toUtf8(), m_engine.authToken().toUtf8()};
    g_previous = qInstallMessageHandler(captureMessage);

    auto local =
        startEmbeddedEngine(m_dir.filePath(QStringLiteral("embedded")), kEnginePublishRate);
    QVERIFY2(local, qPrintable(local ? QString() : local.error()));
    m_local = std::move(*local);
}

void TestConnectionSecrets::init()
{
    QVERIFY(m_console.open(m_dir.path(), m_local.get(), TwilsockClient::Options{}));
}

void TestConnectionSecrets::cleanup()
{
    m_console.close();
}

QString TestConnectionSecrets::saveProfile(
    const QString &name, ConnectionProfile::AuthMethod method)
{
    const auto saved = m_console.profiles().save(engineProfile(m_engine, name, method));
    return saved ? saved->id : QString();
}

SecretPrompt *TestConnectionSecrets::waitForPrompt()
{
    if (!QTest::qWaitFor([this] { return m_console.window()->secretPrompt() != nullptr; }, 10000))
        qWarning("no secret prompt appeared");
    return m_console.window()->secretPrompt();
}

void TestConnectionSecrets::promptSaysWhyAndOpens()
{
    const QString id = saveProfile(QStringLiteral("Asked"), ConnectionProfile::AuthMethod::ApiKey);
    QVERIFY(!id.isEmpty());
    QSignalSpy requested(m_console.window(), &MainWindow::secretRequested);
    QSignalSpy opened(m_console.window(), &MainWindow::connectionOpened);
    m_console.window()->openProfile(id);
    // Nothing waits for the keychain: the call is back before its answer.
    QCOMPARE(opened.count(), 0);
    QCOMPARE(m_console.window()->openProfileIds(), QStringList{id});

    SecretPrompt *prompt = waitForPrompt();
    QVERIFY(prompt);
    QCOMPARE(requested.count(), 1);
    QVERIFY(prompt->isVisible());
    const QString why = prompt->reasonLabel()->text();
    if (keyringMode()) {
        QVERIFY2(why.contains(u"No secret is stored"), qPrintable(why));
        QVERIFY(prompt->saveCheckBox()->isVisibleTo(prompt));
    } else {
        QVERIFY2(why.contains(u"no keychain"), qPrintable(why));
        QVERIFY(!prompt->saveCheckBox()->isVisibleTo(prompt));
    }
    QVERIFY(prompt->rememberCheckBox()->isChecked());
    QCOMPARE(prompt->secretEdit()->echoMode(), QLineEdit::Password);
    QTest::keyClicks(prompt->secretEdit(), m_engine.apiKeySecret());
    prompt->accept();

    QVERIFY(opened.wait(10000) || opened.count() == 1);
    Backend *remote = opened.at(0).at(0).value<Backend *>();
    QTRY_COMPARE_WITH_TIMEOUT(remote->state(), Backend::State::Connected, 10000);

    // Remembered (or saved): opening it again in this session asks nothing.
    const auto stored = await(m_console.secrets().read(m_console.profiles().find(id)->secretKey()));
    QVERIFY(stored && *stored == m_engine.apiKeySecret());
    m_console.window()->closeConnection(remote);
    requested.clear();
    QSignalSpy reopened(m_console.window(), &MainWindow::connectionOpened);
    m_console.window()->openProfile(id);
    QVERIFY(reopened.count() == 1 || reopened.wait(10000));
    QCOMPARE(requested.count(), 0);
}

void TestConnectionSecrets::cancelledPromptOpensNothing()
{
    const QString id =
        saveProfile(QStringLiteral("Declined"), ConnectionProfile::AuthMethod::ApiKey);
    QSignalSpy failed(m_console.window(), &MainWindow::openFailed);
    m_console.window()->openProfile(id);
    SecretPrompt *prompt = waitForPrompt();
    QVERIFY(prompt);
    prompt->reject();
    QCOMPARE(failed.count(), 1);
    QVERIFY(m_console.window()->openProfileIds().isEmpty());
    QVERIFY(m_console.profiles().openProfileIds().isEmpty());
    QCOMPARE(m_console.window()->treeModel()->rowCount(), 1); // the embedded engine only
}

void TestConnectionSecrets::openProfilesComeBackAtStart()
{
    const QString first =
        saveProfile(QStringLiteral("First"), ConnectionProfile::AuthMethod::ApiKey);
    const QString second =
        saveProfile(QStringLiteral("Second"), ConnectionProfile::AuthMethod::AuthToken);
    storeSecret(m_console.secrets(), m_console.profiles().find(first)->secretKey(),
        m_engine.apiKeySecret());
    storeSecret(
        m_console.secrets(), m_console.profiles().find(second)->secretKey(), m_engine.authToken());
    QSignalSpy opened(m_console.window(), &MainWindow::connectionOpened);
    m_console.window()->openProfile(first);
    m_console.window()->openProfile(second);
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 2, 10000);
    QCOMPARE(m_console.profiles().openProfileIds(), (QStringList{first, second}));

    // The console quits and starts again.
    QVERIFY(m_console.reopen());
    QSignalSpy restored(m_console.window(), &MainWindow::connectionOpened);
    m_console.window()->restoreOpenProfiles();
    // Back from the call at once; the connections come as their secrets are read.
    QCOMPARE(m_console.window()->openProfileIds(), (QStringList{first, second}));
    QTRY_COMPARE_WITH_TIMEOUT(restored.count(), 2, 10000);
    QVERIFY(!m_console.window()->secretPrompt());
    QCOMPARE(m_console.window()->treeModel()->rowCount(), 3);
    for (const QString &id : {first, second}) {
        Backend *backend = m_console.window()->profileBackend(id);
        QVERIFY(backend);
        QTRY_COMPARE_WITH_TIMEOUT(backend->state(), Backend::State::Connected, 10000);
    }

    // Closing one forgets it for the next start.
    m_console.window()->closeConnection(m_console.window()->profileBackend(first));
    QCOMPARE(m_console.profiles().openProfileIds(), QStringList{second});
}

void TestConnectionSecrets::authTokenConnectionSaysWhyNoLiveView()
{
    const QString id =
        saveProfile(QStringLiteral("Token only"), ConnectionProfile::AuthMethod::AuthToken);
    storeSecret(
        m_console.secrets(), m_console.profiles().find(id)->secretKey(), m_engine.authToken());
    QSignalSpy opened(m_console.window(), &MainWindow::connectionOpened);
    m_console.window()->openProfile(id);
    QVERIFY(opened.count() == 1 || opened.wait(10000));
    Backend *remote = opened.at(0).at(0).value<Backend *>();
    const auto stream =
        await(remote->fetchStream(QStringLiteral("default"), QStringLiteral("token-only")));
    Stream target;
    if (stream) {
        target = *stream;
    } else {
        StreamCreate create;
        create.uniqueName = QStringLiteral("token-only");
        const auto created = await(remote->createStream(QStringLiteral("default"), create));
        QVERIFY(created);
        target = *created;
    }
    StreamPage *page = m_console.window()->openStream(remote, target);
    LiveViewWidget *live = page->liveView();
    // Where the messages would be, it says why there are none.
    QVERIFY(!live->subscription());
    const QString notice = live->liveBanner()->displayedText();
    QVERIFY2(notice.startsWith(u"No live messages on this connection:"), qPrintable(notice));
    QVERIFY(notice.contains(u"API key"));
    QCOMPARE(live->subscriptionStateText(), QStringLiteral("○ no live feed"));
    // Publishing works as usual.
    page->composer()->editor()->setPlainText(QStringLiteral(R"({"by": "auth token"})"));
    page->composer()->publish();
    QTRY_VERIFY_WITH_TIMEOUT(page->composer()->statusText().startsWith(u"Published TZ"), 10000);
    // The status bar names the account, and no key.
    QVERIFY(m_console.window()->statusWidget()->shownText().contains(m_engine.accountSid()));
    QVERIFY(!m_console.window()->statusWidget()->shownText().contains(m_engine.authToken()));
}

void TestConnectionSecrets::noSecretLeavesTheKeychainAfterASession()
{
    // A session as a user has it: the connection manager, a profile added with its secret, one
    // with an Auth Token, both opened, a page with a live view, messages published and received,
    // an export, a connection test, and the console closed.
    const QByteArray apiSecret = m_engine.apiKeySecret().toUtf8();
    const QByteArray authToken = m_engine.authToken().toUtf8();
    {
        QMutexLocker lock(&g_logMutex);
        g_log.clear();
    }

    ConnectionManagerDialog *manager = m_console.window()->showConnectionManager();
    QVERIFY(manager);
    manager->addButton()->click();
    ProfileEditor *editor = manager->editor();
    QVERIFY(editor);
    editor->kindCombo()->setCurrentIndex(
        editor->kindCombo()->findData(int(ConnectionProfile::Kind::EngineAtUrl)));
    QTest::keyClicks(editor->nameEdit(), QStringLiteral("Leak check"));
    QTest::keyClicks(editor->urlEdit(), m_engine.baseUrl());
    QTest::keyClicks(editor->accountSidEdit(), m_engine.accountSid());
    QTest::keyClicks(editor->apiKeySidEdit(), m_engine.apiKeySid());
    QTest::keyClicks(editor->secretEdit(), m_engine.apiKeySecret());
    QSignalSpy tested(editor, &ProfileEditor::testFinished);
    editor->testButton()->click();
    QVERIFY(tested.wait(15000));
    QVERIFY(tested.at(0).at(0).toBool());
    QSignalSpy saved(manager, &ConnectionManagerDialog::profileSaved);
    editor->saveButton()->click();
    QVERIFY(saved.wait(15000));
    const QString keyProfile = saved.at(0).at(0).toString();
    manager->selectProfile(keyProfile);
    QSignalSpy opened(m_console.window(), &MainWindow::connectionOpened);
    manager->openButton()->click();
    QVERIFY(opened.count() == 1 || opened.wait(10000));
    Backend *remote = opened.at(0).at(0).value<Backend *>();

    const QString tokenProfile =
        saveProfile(QStringLiteral("Leak check (token)"), ConnectionProfile::AuthMethod::AuthToken);
    storeSecret(m_console.secrets(), m_console.profiles().find(tokenProfile)->secretKey(),
        m_engine.authToken());
    m_console.window()->openProfile(tokenProfile);
    QTRY_VERIFY_WITH_TIMEOUT(m_console.window()->profileBackend(tokenProfile), 10000);

    StreamCreate create;
    create.uniqueName = QStringLiteral("leak-check");
    auto stream = await(remote->createStream(QStringLiteral("default"), create));
    QVERIFY(stream);
    StreamPage *page = m_console.window()->openStream(remote, *stream);
    QTRY_VERIFY_WITH_TIMEOUT(page->liveView()->subscription()
            && page->liveView()->subscription()->state() == LiveSubscription::State::Active,
        10000);
    for (int i = 0; i < 3; ++i) {
        page->composer()->editor()->setPlainText(QStringLiteral(R"({"n": %1})").arg(i));
        page->composer()->publish();
        QTRY_VERIFY_WITH_TIMEOUT(page->composer()->statusText().startsWith(u"Published TZ"), 10000);
    }
    QTRY_COMPARE_WITH_TIMEOUT(page->liveView()->model()->rowCount(), 3, 10000);
    const QString exported = m_dir.filePath(QStringLiteral("session.ndjson"));
    QSignalSpy exportDone(page->liveView(), &LiveViewWidget::exportFinished);
    page->liveView()->exportShown(exported);
    QVERIFY(exportDone.wait(10000));
    QVERIFY(exportDone.at(0).at(0).toBool());
    QVERIFY(fileBytes(exported).count('\n') == 3);

    // Every role of every row the tree shows, and the status bar.
    QStringList shown;
    ConnectionTreeModel *model = m_console.window()->treeModel();
    std::function<void(const QModelIndex &)> walk = [&](const QModelIndex &parent) {
        for (int row = 0; row < model->rowCount(parent); ++row) {
            const QModelIndex index = model->index(row, 0, parent);
            for (int role : {int(Qt::DisplayRole), int(Qt::ToolTipRole),
                     int(ConnectionTreeModel::UrlRole), int(ConnectionTreeModel::ErrorRole),
                     int(ConnectionTreeModel::ConnectionProblemRole)})
                shown.append(index.data(role).toString());
            walk(index);
        }
    };
    walk({});
    m_console.window()->treeView()->setCurrentIndex(
        m_console.window()->treeView()->model()->index(1, 0));
    shown.append(m_console.window()->statusWidget()->shownText());
    const QByteArray screen = shown.join(u'\n').toUtf8();

    // The console quits: settings written, windows gone.
    m_console.closeWindow();

    const QByteArray settings = fileBytes(m_console.settingsPath());
    const QByteArray profiles = fileBytes(m_console.profilesPath());
    const QByteArray ndjson = fileBytes(exported);
    QByteArray log;
    {
        QMutexLocker lock(&g_logMutex);
        log = g_log;
    }
    QVERIFY(!settings.isEmpty());
    QVERIFY(profiles.contains(m_engine.apiKeySid().toUtf8())); // the file is the right one
    QVERIFY(ndjson.contains("{\"n\":2}"));
    for (const QByteArray &secret : {apiSecret, authToken}) {
        // Booleans only: a failing comparison must not print the secret it found.
        QVERIFY2(!settings.contains(secret), "a secret is in the console settings");
        QVERIFY2(!profiles.contains(secret), "a secret is in the profiles file");
        QVERIFY2(!ndjson.contains(secret), "a secret is in the NDJSON export");
        QVERIFY2(!log.contains(secret), "a secret is in the log output");
        QVERIFY2(!screen.contains(secret), "a secret is shown in the tree or status bar");
        // Nor anywhere else under the test's files (temporary copies, lock files).
        QDirIterator files(m_dir.path(), QDir::Files, QDirIterator::Subdirectories);
        while (files.hasNext()) {
            const QString path = files.next();
            if (path.contains(u"/embedded/"))
                continue; // the embedded engine's own data directory holds its own credentials
            QVERIFY2(!fileBytes(path).contains(secret), qPrintable(path));
        }
    }
}

int main(int argc, char *argv[])
{
    // Never the user's own keyring: only a throwaway one (tests/support/with-keyring.sh), or
    // none at all.
    if (qgetenv("STREAMS_TEST_KEYRING") != "throwaway")
        qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/streams-test-bus");
    QApplication app(argc, argv);
    TestConnectionSecrets test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_connectionsecrets.moc"
