// streams-engine --show-proxy-env, run as a user would: its output evaluated by bash.

#include "engineprocess.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>

using namespace streams::testing;

namespace {
QString str(const char *text)
{
    return QString::fromUtf8(text);
}

int modeOf(const QString &path)
{
    struct stat status = {};
    if (::stat(QFile::encodeName(path).constData(), &status) != 0)
        return -1;
    return int(status.st_mode & 0777);
}

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run runEngine(const QStringList &arguments)
{
    QProcess process;
    process.start(EngineProcess::binary(), arguments);
    Run run;
    if (!process.waitForFinished(15000))
        return run;
    run.exitCode = process.exitCode();
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

// What bash makes of `script` after `eval "$script"`: NAME=value for each of `names`, one a line.
QMap<QString, QString> evaluate(const QByteArray &script, const QStringList &names)
{
    QProcess bash;
    QString print;
    for (const QString &name : names)
        print += QStringLiteral("printf '%s=%s\\n' %1 \"${%1-unset}\"; ").arg(name);
    bash.start(str("bash"),
        {str("-euc"), str("eval \"$1\"; ") + print, str("bash"), QString::fromUtf8(script)});
    QMap<QString, QString> values;
    if (!bash.waitForFinished(10000) || bash.exitCode() != 0)
        return values;
    for (const QString &line : QString::fromUtf8(bash.readAllStandardOutput()).split(u'\n')) {
        const qsizetype equals = line.indexOf(u'=');
        if (equals > 0)
            values.insert(line.left(equals), line.mid(equals + 1));
    }
    return values;
}

const QStringList kCaVariables{str("NODE_EXTRA_CA_CERTS"), str("TWILIO_CA_BUNDLE"),
    str("REQUESTS_CA_BUNDLE"), str("CURL_CA_BUNDLE"), str("SSL_CERT_FILE")};
const QStringList kProxyVariables{
    str("HTTPS_PROXY"), str("https_proxy"), str("HTTP_PROXY"), str("http_proxy")};
} // namespace

class TestEngineProxyEnv final : public QObject
{
    Q_OBJECT

private slots:
    void printsExportsAShellEvaluates()
    {
        QTemporaryDir root;
        // A path a shell must be careful with, in a directory that does not exist yet.
        const QString dataDir = root.filePath(str("it's my data/engine"));
        const Run run = runEngine({str("--show-proxy-env"), str("--data-dir"), dataDir,
            str("--listen"), str("127.0.0.1:18555")});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY2(run.err.isEmpty(), run.err.constData());
        // Nothing but exports and comments: eval runs nothing else.
        for (const QByteArray &line : run.out.split('\n'))
            QVERIFY2(line.isEmpty() || line.startsWith("export ") || line.startsWith("# "),
                line.constData());

        const QStringList names = kProxyVariables + kCaVariables
            + QStringList{str("NO_PROXY"), str("no_proxy"), str("TWILIO_ACCOUNT_SID"),
                str("TWILIO_AUTH_TOKEN"), str("TWILIO_API_KEY"), str("TWILIO_API_SECRET")};
        const QMap<QString, QString> values = evaluate(run.out, names);
        QCOMPARE(values.size(), names.size());
        for (const QString &name : kProxyVariables)
            QCOMPARE(values[name], str("http://127.0.0.1:18555"));
        QCOMPARE(values[str("NO_PROXY")], str("localhost,127.0.0.1,::1"));
        QCOMPARE(values[str("no_proxy")], values[str("NO_PROXY")]);
        const QString caPath = dataDir + str("/proxy-ca.pem");
        for (const QString &name : kCaVariables)
            QCOMPARE(values[name], caPath);

        // The CA is there, its certificate public and its key private, in a private directory.
        const auto certificates = QSslCertificate::fromPath(caPath);
        QCOMPARE(certificates.size(), 1);
        QVERIFY(certificates[0].isSelfSigned());
        QCOMPARE(modeOf(dataDir), 0700);
        QCOMPARE(modeOf(caPath), 0644);
        QCOMPARE(modeOf(dataDir + str("/proxy-ca.key")), 0600);
        QVERIFY(run.out.contains("# No engine is running on"));

        // The credentials are --show-credentials' own lines; a second run keeps the same CA.
        const Run credentials = runEngine({str("--show-credentials"), str("--data-dir"), dataDir});
        QCOMPARE(credentials.exitCode, 0);
        QVERIFY(!credentials.out.isEmpty());
        QVERIFY(run.out.endsWith(credentials.out));
        QCOMPARE(values[str("TWILIO_ACCOUNT_SID")].size(), 34);
        const Run again = runEngine({str("--show-proxy-env"), str("--data-dir"), dataDir,
            str("--listen"), str("127.0.0.1:18555")});
        QCOMPARE(again.exitCode, 0);
        QCOMPARE(again.out, run.out);
        QCOMPARE(QSslCertificate::fromPath(caPath), certificates);
    }

    void namesTheRunningEngine()
    {
        EngineProcess engine; // on a free port, which only the engine knows
        QVERIFY2(engine.start(), engine.output().constData());
        const QString listen = str("127.0.0.1:%1").arg(engine.port());
        const QString recorded = engine.dataDir() + str("/engine.listening");
        QVERIFY(QFileInfo::exists(recorded));

        // No --listen: the running engine's own address.
        const Run run = runEngine({str("--show-proxy-env"), str("--data-dir"), engine.dataDir()});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY2(run.err.isEmpty(), run.err.constData());
        const QByteArray pid = QByteArray::number(engine.process().processId());
        QVERIFY2(run.out.contains("# The engine (pid " + pid + ") using "), run.out.constData());
        QVERIFY2(run.out.contains(" listens on " + listen.toUtf8() + '.'), run.out.constData());
        QCOMPARE(evaluate(run.out, {str("HTTPS_PROXY")}).value(str("HTTPS_PROXY")),
            str("http://") + listen);

        // A --listen that is not where it listens: said on stderr, the real address printed.
        const Run wrong = runEngine({str("--show-proxy-env"), str("--data-dir"), engine.dataDir(),
            str("--listen"), str("127.0.0.1:1")});
        QCOMPARE(wrong.exitCode, 0);
        QVERIFY2(wrong.err.contains("listens on " + listen.toUtf8()), wrong.err.constData());
        QCOMPARE(wrong.out, run.out);

        // Gone with the engine: afterwards there is nothing to name.
        QCOMPARE(engine.stop(), 0);
        QVERIFY(!QFileInfo::exists(recorded));
        const Run after = runEngine({str("--show-proxy-env"), str("--data-dir"), engine.dataDir()});
        QCOMPARE(after.exitCode, 0);
        QVERIFY2(after.out.contains("# No engine is running on"), after.out.constData());
        QCOMPARE(evaluate(after.out, {str("HTTPS_PROXY")}).value(str("HTTPS_PROXY")),
            str("http://127.0.0.1:18080"));
    }

    void ignoresACrashedEnginesAddress()
    {
        EngineProcess engine;
        QVERIFY2(engine.start(), engine.output().constData());
        const QString dataDir = engine.dataDir();
        engine.kill(); // SIGKILL: its lock and its address stay behind
        QVERIFY(QFileInfo::exists(dataDir + str("/engine.listening")));
        const Run run = runEngine({str("--show-proxy-env"), str("--data-dir"), dataDir});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.contains("# No engine is running on"), run.out.constData());
        QCOMPARE(evaluate(run.out, {str("HTTPS_PROXY")}).value(str("HTTPS_PROXY")),
            str("http://127.0.0.1:18080"));
    }

    void refusesWhatItCannotPrint_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("complaint");
        QTest::addRow("in memory") << QStringList{str("--in-memory")} << str("--in-memory");
        QTest::addRow("port 0, no engine")
            << QStringList{str("--listen"), str("127.0.0.1:0")} << str("port");
    }

    void refusesWhatItCannotPrint()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, complaint);
        QTemporaryDir home;
        // --in-memory uses no --data-dir: keep it from touching the real default one.
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(str("XDG_DATA_HOME"), home.path());
        QProcess process;
        process.setProcessEnvironment(environment);
        process.start(EngineProcess::binary(), QStringList{str("--show-proxy-env")} + arguments);
        QVERIFY(process.waitForFinished(15000));
        QCOMPARE(process.exitCode(), 2);
        QVERIFY(process.readAllStandardOutput().isEmpty());
        QVERIFY(QString::fromUtf8(process.readAllStandardError()).contains(complaint));
        QVERIFY(QDir(home.path()).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestEngineProxyEnv)
#include "tst_engineproxyenv.moc"
