// "Use from your code…" in the status bar: the embedded engine's zero-change lines, evaluated by a
// real shell and used by curl against https://sync.twilio.com with no base URL anywhere; secrets
// masked on screen; and, for an engine at a URL, why there are none and what to run instead.

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "backend/remotebackend.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "engineprocess.h"
#include "ui/connections/connectionstatuswidget.h"
#include "ui/connections/proxyenvironmentdialog.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QFileInfo>
#include <QProcess>
#include <QPushButton>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

using namespace streams;
using streams::testing::await;
using streams::testing::EngineProcess;
using streams::testing::startEmbeddedEngine;
using namespace Qt::StringLiterals;

class TestProxyEnvironment final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void embeddedEngineLinesWorkInAShell();
    void engineAtAUrlSaysWhatToRunInstead();
};

void TestProxyEnvironment::embeddedEngineLinesWorkInAShell()
{
    QTemporaryDir dir;
    const QString dataDir = dir.filePath(u"engine"_s);
    auto backend = startEmbeddedEngine(dataDir);
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    LocalBackend &engine = **backend;

    QWidget window;
    auto *status = new ConnectionStatusWidget(&window);
    status->setBackend(&engine);
    window.show();
    QVERIFY(status->useFromCodeButton()->isVisible());
    status->useFromCodeButton()->click();
    auto *dialog = window.findChild<ProxyEnvironmentDialog *>();
    QVERIFY(dialog);
    QTRY_VERIFY(dialog->isReady());
    QCOMPARE(status->showProxyEnvironment(), dialog); // raised, not opened twice

    // On screen the secrets are masked until asked for.
    const QString token = engine.authToken();
    const QString secret = engine.apiKeySecret();
    QVERIFY(!dialog->shownText().contains(token));
    QVERIFY(!dialog->shownText().contains(secret));
    QVERIFY(dialog->shownText().contains(u"export TWILIO_AUTH_TOKEN=••••"_s));
    const QString port = QString::number(QUrl(engine.endpoint().baseUrl).port());
    QVERIFY2(dialog->shownText().contains(u"export HTTPS_PROXY=http://127.0.0.1:"_s + port),
        qPrintable(dialog->shownText()));
    QVERIFY(dialog->shownText().contains(
        u"# The engine (pid %1) using "_s.arg(QCoreApplication::applicationPid())));
    dialog->showSecrets()->setChecked(true);
    QVERIFY(dialog->shownText().contains(token));
    QCOMPARE(dialog->shownText(), dialog->lines());
    dialog->showSecrets()->setChecked(false);
    QVERIFY(!dialog->shownText().contains(token));

    // The CA it names is the engine's, made in its data directory.
    QVERIFY(QFileInfo::exists(dataDir + u"/proxy-ca.pem"_s));
    QCOMPARE(QFileInfo(dataDir + u"/proxy-ca.key"_s).permissions()
            & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther),
        QFile::Permissions());

    // Copy takes the lines as they are; a shell that evaluates them reaches the engine as
    // https://sync.twilio.com, through its proxy, trusting its CA.
    QVERIFY(dialog->copyButton()->isEnabled());
    dialog->copyButton()->click();
    const QString copied = QGuiApplication::clipboard()->text();
    QCOMPARE(copied, dialog->lines() + u'\n');
    const QString curl = QStandardPaths::findExecutable(u"curl"_s);
    QVERIFY2(!curl.isEmpty(), "curl is missing: apt-get install curl");
    QProcess shell;
    // Nothing of this process's environment but PATH: what the lines set is all there is.
    QProcessEnvironment clean;
    clean.insert(u"PATH"_s, qEnvironmentVariable("PATH"));
    shell.setProcessEnvironment(clean);
    shell.start(u"bash"_s,
        {u"-c"_s,
            u"eval \"$0\" && curl -sS --fail-with-body -u "
            u"\"$TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN\" "
            "-d UniqueName=from-my-code https://sync.twilio.com/v1/Services/default/Streams"_s,
            copied});
    // The engine answers on its own thread: this one may wait.
    QVERIFY(shell.waitForFinished(30000));
    const QByteArray out = shell.readAllStandardOutput();
    QVERIFY2(shell.exitCode() == 0, (out + shell.readAllStandardError()).constData());
    QVERIFY2(out.contains("\"url\":\"https://sync.twilio.com/v1/Services/"), out.constData());
    auto stream = await(engine.fetchStream(u"default"_s, u"from-my-code"_s));
    QVERIFY(stream);
    QCOMPARE(stream->uniqueName, u"from-my-code"_s);

    // Another connection: the dialog is for the one it was opened on.
    status->setBackend(nullptr);
    QVERIFY(!status->useFromCodeButton()->isVisible());
    QCOMPARE(status->showProxyEnvironment(), nullptr);
}

void TestProxyEnvironment::engineAtAUrlSaysWhatToRunInstead()
{
    EngineProcess engineProcess;
    QVERIFY2(engineProcess.start(), engineProcess.output().constData());
    RemoteConnection connection;
    connection.displayName = u"elsewhere"_s;
    connection.endpoints = RemoteEndpoints::engine(QUrl(engineProcess.baseUrl()));
    connection.credentials.accountSid = engineProcess.accountSid();
    connection.credentials.apiKeySid = engineProcess.apiKeySid();
    connection.credentials.apiKeySecret = engineProcess.apiKeySecret();
    RemoteBackend remote(connection);

    ProxyEnvironmentDialog dialog(&remote);
    dialog.show();
    QTRY_VERIFY(dialog.isReady());
    QVERIFY(dialog.lines().isEmpty());
    QVERIFY(!dialog.copyButton()->isEnabled());
    QVERIFY(!dialog.showSecrets()->isEnabled());
    QVERIFY2(dialog.shownText().contains(engineProcess.baseUrl()), qPrintable(dialog.shownText()));
    QVERIFY(dialog.shownText().contains(u"streams-engine --show-proxy-env --data-dir"_s));
    QVERIFY(!dialog.shownText().contains(engineProcess.apiKeySecret()));
}

QTEST_MAIN(TestProxyEnvironment)
#include "tst_proxyenvironment.moc"
