// streams-cli's engine commands end to end: the built binary, run as a real process, against the
// control plane (/_engine/…) of real streams-engine processes on loopback. Every command in both
// output modes, the exit codes (2 for a bad DURATION or option, 1 for what the engine refuses,
// 3 for no engine at all), a state export imported into a second engine, the traffic log
// showing a request made before, and `traffic --follow` printing one made after it started
// until a signal ends it with exit 0.

#include "clirunner.h"
#include "engineprocess.h"
#include "engineprofile.h"
#include "profiles/profilestore.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <sys/types.h>

using namespace streams;
using namespace streams::testing;

namespace {
QJsonObject object(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

QStringList words(const char *text)
{
    return QString::fromUtf8(text).split(u' ', Qt::SkipEmptyParts);
}

bool matchesLine(const QByteArray &text, const QString &pattern)
{
    const QRegularExpression line(pattern, QRegularExpression::MultilineOption);
    return line.match(QString::fromUtf8(text)).hasMatch();
}

/// Every member of `expected` is in `actual` with the same value; objects compared the same way,
/// so a test names only the fields it is about.
bool containsAll(const QJsonObject &actual, const QJsonObject &expected, QString &why)
{
    for (auto it = expected.begin(); it != expected.end(); ++it) {
        const QJsonValue value = actual.value(it.key());
        if (it->isObject() && value.isObject()) {
            if (!containsAll(value.toObject(), it->toObject(), why))
                return false;
            continue;
        }
        if (value != *it) {
            why = QStringLiteral("%1: %2, expected %3")
                      .arg(it.key(),
                          QString::fromUtf8(
                              QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact)),
                          QString::fromUtf8(
                              QJsonDocument(QJsonArray{*it}).toJson(QJsonDocument::Compact)));
            return false;
        }
    }
    return true;
}
} // namespace

class TestCliEngine final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void helpListsTheEngineCommands();
    void usageErrorsExitTwo_data();
    void usageErrorsExitTwo();
    void twilioCloudIsRefused_data();
    void twilioCloudIsRefused();
    void engineProfileConnects();
    void healthInBothOutputModes();
    void stateExportImportRoundTrip();
    void stateFileProblemsExitTwo_data();
    void stateFileProblemsExitTwo();
    void failedExportLeavesTheFileAsItWas();
    void resetLeavesTheDefaultServiceOnly();
    void clockAdvance_data();
    void clockAdvance();
    void clockAdvanceExpiresStreams();
    void faultsAddMapsOptions_data();
    void faultsAddMapsOptions();
    void faultRuleActsAndIsCounted();
    void faultsRemoveAndClear();
    void apiErrorsExitOne_data();
    void apiErrorsExitOne();
    void wrongSecretExitsOne();
    void noEngineListeningExitsThree_data();
    void noEngineListeningExitsThree();
    void trafficShowsAnEarlierRequest();
    void trafficFollowPrintsNewEntries_data();
    void trafficFollowPrintsNewEntries();

private:
    CliRun cli(const QStringList &arguments, const QByteArray &input = {});
    CliRun cliWith(const QStringList &arguments, const QProcessEnvironment &environment,
        const QByteArray &input = {});
    CliRun cliAt(
        const EngineProcess &engine, const QStringList &arguments, const QByteArray &input = {});
    QStringList at(const QStringList &arguments) const;
    QProcessEnvironment environment() const;
    bool leaksSecret(const CliRun &run) const;
    QString createStream(const QString &uniqueName, const QStringList &options = {});
    QString closedPortUrl() const;

    QTemporaryDir m_dir;
    QString m_profilesFile;
    EngineProcess m_engine;
};

void TestCliEngine::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_profilesFile = m_dir.filePath(QStringLiteral("profiles.ini"));
    QVERIFY2(QFile::exists(CliRunner::binary()), qPrintable(CliRunner::binary()));
    QVERIFY2(m_engine.start(), m_engine.output().constData());
}

void TestCliEngine::cleanupTestCase()
{
    QCOMPARE(m_engine.stop(), 0);
}

void TestCliEngine::cleanup()
{
    // A rule left behind (a REST error on every request, say) would fail the tests after it.
    cli(at(words("engine faults clear")));
}

bool TestCliEngine::leaksSecret(const CliRun &run) const
{
    for (const QString &secret : {m_engine.apiKeySecret(), m_engine.authToken()}) {
        const QByteArray bytes = secret.toUtf8();
        if (run.out.contains(bytes) || run.err.contains(bytes))
            return true;
    }
    return false;
}

QProcessEnvironment TestCliEngine::environment() const
{
    return CliRunner::withEngineCredentials(
        CliRunner::isolatedEnvironment(m_profilesFile, false), m_engine);
}

CliRun TestCliEngine::cliWith(
    const QStringList &arguments, const QProcessEnvironment &environment, const QByteArray &input)
{
    CliRun run = CliRunner::run(arguments, environment, input);
    // Whatever the command, no secret may show up in what it printed.
    if (leaksSecret(run)) {
        run.exitCode = -2;
        run.err = "[a secret appeared in streams-cli's output]";
        run.out.clear();
    }
    return run;
}

CliRun TestCliEngine::cli(const QStringList &arguments, const QByteArray &input)
{
    return cliWith(arguments, environment(), input);
}

CliRun TestCliEngine::cliAt(
    const EngineProcess &engine, const QStringList &arguments, const QByteArray &input)
{
    return CliRunner::run(QStringList{QStringLiteral("--url"), engine.baseUrl()} + arguments,
        CliRunner::withEngineCredentials(
            CliRunner::isolatedEnvironment(m_profilesFile, false), engine),
        input);
}

QStringList TestCliEngine::at(const QStringList &arguments) const
{
    return QStringList{QStringLiteral("--url"), m_engine.baseUrl()} + arguments;
}

QString TestCliEngine::createStream(const QString &uniqueName, const QStringList &options)
{
    const CliRun run =
        cli(at(QStringList{QStringLiteral("-o"), QStringLiteral("json"), QStringLiteral("streams"),
                   QStringLiteral("create"), QStringLiteral("default"),
                   QStringLiteral("--unique-name"), uniqueName}
            + options));
    if (run.exitCode != 0)
        qWarning("streams create failed: %s", run.describe().constData());
    return object(run.out).value(u"sid").toString();
}

QString TestCliEngine::closedPortUrl() const
{
    // A port that was free a moment ago: nothing listens, every connection is refused.
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return {};
    const quint16 port = probe.serverPort();
    probe.close();
    return QStringLiteral("http://127.0.0.1:%1").arg(port);
}

void TestCliEngine::helpListsTheEngineCommands()
{
    const CliRun help = cli({QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    for (const char *expected : {"engine health", "engine state export", "engine state import",
             "engine reset", "engine clock advance DURATION", "engine faults list",
             "engine faults add", "engine faults remove ID", "engine faults clear",
             "engine traffic", "--follow", "--rest-error", "--disconnect"})
        QVERIFY2(help.out.contains(expected), expected);
}

void TestCliEngine::usageErrorsExitTwo_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("message");
    const auto row = [](const char *name, const char *arguments, const QByteArray &message) {
        QTest::addRow("%s", name) << words(arguments) << message;
    };
    const auto duration = [](const char *name, const QString &text, const QByteArray &message) {
        QTest::addRow("duration %s", name) << QStringList{QStringLiteral("engine"),
            QStringLiteral("clock"), QStringLiteral("advance"),
            text} << "engine clock advance: bad DURATION '" + text.toUtf8() + "': " + message;
    };
    duration("empty", QString(), "it is empty");
    duration("no number", QStringLiteral("x"), "'x' where a number belongs");
    duration("unknown unit", QStringLiteral("1x"), "unknown unit 'x'; the units are d, h, m and s");
    duration("unit alone", QStringLiteral("h"), "no number before 'h'");
    duration("unit twice", QStringLiteral("1h1h"), "'h' given twice");
    duration("out of order", QStringLiteral("30m1h"), "units out of order");
    duration("fraction", QStringLiteral("1.5h"), "fractions are not taken");
    duration("trailing number", QStringLiteral("1h30"), "'30' has no unit");
    duration("upper case", QStringLiteral("2H"), "unknown unit 'H'");
    duration("blank", QStringLiteral("1h 30m"), "' ' where a number belongs");
    duration("overflow", QStringLiteral("99999999999999999999"), "too large");
    duration("overflow with units", QStringLiteral("999999999999999d"), "too large");

    row("no duration", "engine clock advance", "engine clock advance needs DURATION");
    row("clock alone", "engine clock", "unknown engine command 'clock'");
    row("unknown engine command", "engine frobnicate", "unknown engine command 'frobnicate'");
    row("extra argument", "engine health now", "unexpected argument 'now' after engine health");
    row("import without file", "engine state import", "engine state import needs FILE");
    row("two files", "engine state export a.json b.json", "unexpected argument 'b.json'");
    row("remove without id", "engine faults remove",
        "engine faults remove needs a fault rule's ID");
    row("fault without action", "engine faults add --service default",
        "engine faults add needs something to do");
    row("jitter alone", "engine faults add --jitter 5", "engine faults add needs something to do");
    row("drop not a number", "engine faults add --drop often",
        "--drop expects a probability from 0 to 1, not 'often'");
    row("delay with a fraction", "engine faults add --delay 1.5",
        "--delay expects whole milliseconds, not '1.5'");
    row("reorder not a number", "engine faults add --reorder some",
        "--reorder expects a number of messages");
    row("seed not an integer", "engine faults add --drop 0.1 --seed x",
        "--seed expects an integer");
    row("rest error not a status", "engine faults add --rest-error teapot",
        "--rest-error expects STATUS or STATUS:CODE (e.g. 429:54009), not 'teapot'");
    row("rest error with two codes", "engine faults add --rest-error 429:1:2",
        "--rest-error expects STATUS or STATUS:CODE");
    row("count without rest error", "engine faults add --drop 0.5 --count 3",
        "--count qualifies --rest-error");
    row("method without rest error", "engine faults add --delay 5 --method POST",
        "--method qualifies --rest-error");
    row("count not a number", "engine faults add --rest-error 503 --count many",
        "--count expects a number of requests");
    row("fault option elsewhere", "engine faults list --drop 0.5",
        "--drop applies only to engine faults add");
    row("follow elsewhere", "engine health --follow", "--follow applies only to engine traffic");
    row("limit elsewhere", "services list --limit 5", "--limit applies only to engine traffic");
    row("limit not a number", "engine traffic --limit all",
        "--limit expects a number of entries, not 'all'");
    row("service option elsewhere", "streams list default --service x",
        "--service applies only to engine faults add");
}

void TestCliEngine::usageErrorsExitTwo()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, message);
    const CliRun run = cli(at(arguments));
    QVERIFY2(run.exitCode == 2, run.describe().constData());
    QVERIFY2(run.err.contains(message), run.err.constData());
    QVERIFY(run.out.isEmpty());
}

void TestCliEngine::twilioCloudIsRefused_data()
{
    QTest::addColumn<QStringList>("connection");
    QTest::addColumn<bool>("profile");
    // No --url and no --profile: the TWILIO_* variables mean Twilio's cloud.
    QTest::addRow("environment") << QStringList() << false;
    QTest::addRow("Twilio account profile")
        << QStringList{QStringLiteral("--profile"), QStringLiteral("cli cloud")} << true;
}

void TestCliEngine::twilioCloudIsRefused()
{
    QFETCH(QStringList, connection);
    QFETCH(bool, profile);
    if (profile) {
        ConnectionProfile cloud;
        cloud.name = QStringLiteral("cli cloud");
        cloud.kind = ConnectionProfile::Kind::TwilioAccount;
        cloud.accountSid = m_engine.accountSid();
        cloud.apiKeySid = m_engine.apiKeySid();
        ProfileStore store(m_profilesFile);
        const auto saved = store.save(cloud);
        QVERIFY2(saved.has_value(), qPrintable(saved ? QString() : saved.error()));
    }
    for (const char *command : {"engine health", "engine faults list", "engine traffic --follow",
             "engine clock advance 1h"}) {
        const CliRun run = cli(connection + words(command));
        QVERIFY2(run.exitCode == 2, run.describe().constData());
        QVERIFY2(run.err.contains(
                     "engine commands need a streams-engine connection (--url URL or an engine "
                     "profile), not Twilio's cloud"),
            run.err.constData());
        QVERIFY(run.out.isEmpty());
    }
}

void TestCliEngine::engineProfileConnects()
{
    // Profiles resolve as for every other command: here an Engine at URL profile with its
    // secret from TWILIO_API_SECRET (no keychain in this test).
    ProfileStore store(m_profilesFile);
    const auto saved = store.save(engineProfile(m_engine, QStringLiteral("cli engine control")));
    QVERIFY2(saved.has_value(), qPrintable(saved ? QString() : saved.error()));
    QProcessEnvironment environment = CliRunner::isolatedEnvironment(m_profilesFile, false);
    environment.insert(QStringLiteral("TWILIO_API_SECRET"), m_engine.apiKeySecret());
    const CliRun run =
        cliWith({QStringLiteral("--profile"), QStringLiteral("cli engine control"),
                    QStringLiteral("-o"), QStringLiteral("json"), QStringLiteral("engine"),
                    QStringLiteral("faults"), QStringLiteral("list")},
            environment);
    QVERIFY2(run.exitCode == 0, run.describe().constData());
    QVERIFY2(object(run.out).value(u"faults").isArray(), run.out.constData());
}

void TestCliEngine::healthInBothOutputModes()
{
    const CliRun json = cli(at(words("-o json engine health")));
    QVERIFY2(json.exitCode == 0, json.describe().constData());
    const QJsonObject health = object(json.out);
    QCOMPARE(health.value(u"status").toString(), QStringLiteral("ready"));
    QVERIFY(!health.value(u"version").toString().isEmpty());
    QVERIFY(health.value(u"services").toInteger() >= 1);
    QVERIFY(health.value(u"streams").isDouble());
    QVERIFY(health.value(u"live_connections").isDouble());
    // Printed indented, one member per line.
    QVERIFY2(json.out.startsWith("{\n  \""), json.out.constData());

    const CliRun table = cli(at(words("engine health")));
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    QVERIFY2(matchesLine(table.out, QStringLiteral("^status +ready$")), table.out.constData());
    QVERIFY2(matchesLine(table.out,
                 QStringLiteral("^version +%1$")
                     .arg(QRegularExpression::escape(health.value(u"version").toString()))),
        table.out.constData());
    for (const char *key : {"^services +\\d+$", "^streams +\\d+$", "^live_connections +\\d+$"})
        QVERIFY2(matchesLine(table.out, QString::fromLatin1(key)), table.out.constData());
    QVERIFY(table.err.isEmpty());
}

void TestCliEngine::stateExportImportRoundTrip()
{
    QVERIFY(!createStream(QStringLiteral("roundtrip-kept")).isEmpty());
    QVERIFY(!createStream(
        QStringLiteral("roundtrip-expiring"), {QStringLiteral("--ttl"), QStringLiteral("3600")})
                 .isEmpty());
    const CliRun service = cli(at(words("-o json services create --friendly-name Roundtrip")));
    QVERIFY2(service.exitCode == 0, service.describe().constData());
    const QString serviceSid = object(service.out).value(u"sid").toString();
    const CliRun inService = cli(at({QStringLiteral("streams"), QStringLiteral("create"),
        serviceSid, QStringLiteral("--unique-name"), QStringLiteral("elsewhere")}));
    QVERIFY2(inService.exitCode == 0, inService.describe().constData());

    // To stdout: the snapshot, whatever the output mode.
    const CliRun toStdout = cli(at(words("engine state export")));
    QVERIFY2(toStdout.exitCode == 0, toStdout.describe().constData());
    const QJsonObject snapshot = object(toStdout.out);
    QCOMPARE(snapshot.value(u"format").toInt(), 1);
    const QJsonArray services = snapshot.value(u"services").toArray();
    QVERIFY(services.size() >= 2);
    qint64 streamCount = 0;
    bool serviceFound = false;
    for (const QJsonValue &value : services) {
        streamCount += value.toObject().value(u"streams").toArray().size();
        serviceFound |= value.toObject().value(u"sid").toString() == serviceSid;
    }
    QVERIFY(serviceFound);
    QVERIFY(streamCount >= 3);

    // To a file: written whole, and a line says what went in.
    const QString file = m_dir.filePath(QStringLiteral("snapshot.json"));
    const CliRun toFile = cli(
        at({QStringLiteral("engine"), QStringLiteral("state"), QStringLiteral("export"), file}));
    QVERIFY2(toFile.exitCode == 0, toFile.describe().constData());
    QCOMPARE(toFile.out,
        QStringLiteral("exported %1 services, %2 streams to %3\n")
            .arg(services.size())
            .arg(streamCount)
            .arg(file)
            .toUtf8());
    QFile saved(file);
    QVERIFY(saved.open(QIODevice::ReadOnly));
    const QJsonObject fromFile = object(saved.readAll());
    QCOMPARE(fromFile.value(u"services"), snapshot.value(u"services"));

    // Into a second engine: the same services and streams, SIDs and dates included.
    EngineProcess second;
    QVERIFY2(second.start(), second.output().constData());
    const CliRun imported = cliAt(second,
        {QStringLiteral("engine"), QStringLiteral("state"), QStringLiteral("import"), file});
    QVERIFY2(imported.exitCode == 0, imported.describe().constData());
    QCOMPARE(imported.out,
        QStringLiteral("imported %1 services, %2 streams\n")
            .arg(services.size())
            .arg(streamCount)
            .toUtf8());
    const CliRun again = cliAt(second, words("engine state export"));
    QVERIFY2(again.exitCode == 0, again.describe().constData());
    QCOMPARE(object(again.out).value(u"services"), snapshot.value(u"services"));
    // The REST API serves what was imported.
    const CliRun fetched = cliAt(second, words("-o json streams fetch default/roundtrip-kept"));
    QVERIFY2(fetched.exitCode == 0, fetched.describe().constData());

    // A pipe: export to stdout, import from stdin ("-"), with the JSON answer.
    QVERIFY(!createStream(QStringLiteral("roundtrip-piped")).isEmpty());
    const CliRun piped = cli(at(words("engine state export -")));
    QVERIFY2(piped.exitCode == 0, piped.describe().constData());
    const CliRun fromStdin = cliAt(second, words("-o json engine state import -"), piped.out);
    QVERIFY2(fromStdin.exitCode == 0, fromStdin.describe().constData());
    QCOMPARE(object(fromStdin.out).value(u"streams").toInteger(), streamCount + 1);
    const CliRun pipedFetch = cliAt(second, words("streams fetch default/roundtrip-piped"));
    QVERIFY2(pipedFetch.exitCode == 0, pipedFetch.describe().constData());
    QCOMPARE(second.stop(), 0);
}

void TestCliEngine::stateFileProblemsExitTwo_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("message");
    const QString missing = m_dir.filePath(QStringLiteral("no-such-snapshot.json"));
    const QString unwritable = m_dir.filePath(QStringLiteral("no-such-directory/snapshot.json"));
    QTest::addRow("import a missing file") << QStringList{QStringLiteral("engine"),
        QStringLiteral("state"), QStringLiteral("import"), missing}
                                           << "cannot read " + missing.toUtf8();
    QTest::addRow("export into a missing directory") << QStringList{QStringLiteral("engine"),
        QStringLiteral("state"), QStringLiteral("export"), unwritable}
                                                     << "cannot write " + unwritable.toUtf8();
}

void TestCliEngine::stateFileProblemsExitTwo()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, message);
    const CliRun run = cli(at(arguments));
    QVERIFY2(run.exitCode == 2, run.describe().constData());
    QVERIFY2(run.err.contains(message), run.err.constData());
    QVERIFY(run.out.isEmpty());
}

void TestCliEngine::failedExportLeavesTheFileAsItWas()
{
    // No engine answers: the file keeps its old content, and no temporary file is left over.
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("snapshot.json"));
    {
        QFile old(file);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("{\"format\":1,\"services\":[]}\n");
    }
    const CliRun run = cli({QStringLiteral("--url"), closedPortUrl(), QStringLiteral("engine"),
        QStringLiteral("state"), QStringLiteral("export"), file});
    QVERIFY2(run.exitCode == 3, run.describe().constData());
    QFile kept(file);
    QVERIFY(kept.open(QIODevice::ReadOnly));
    QCOMPARE(kept.readAll(), QByteArray("{\"format\":1,\"services\":[]}\n"));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden),
        QStringList{QStringLiteral("snapshot.json")});
}

void TestCliEngine::resetLeavesTheDefaultServiceOnly()
{
    const CliRun before = cli(at(words("-o json services fetch default")));
    QVERIFY2(before.exitCode == 0, before.describe().constData());
    const QString defaultSid = object(before.out).value(u"sid").toString();
    QVERIFY(!createStream(QStringLiteral("reset-me")).isEmpty());
    QVERIFY2(cli(at(words("services create --friendly-name Doomed"))).exitCode == 0, "create");
    QVERIFY2(cli(at(words("engine faults add --drop 0.5"))).exitCode == 0, "faults add");
    const CliRun clockBefore = cli(at(words("-o json engine clock show")));
    QVERIFY2(clockBefore.exitCode == 0, clockBefore.describe().constData());

    const CliRun table = cli(at(words("engine reset")));
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    QCOMPARE(
        table.out, QByteArray("reset to a first start: 1 service, 0 streams, no fault rules\n"));

    const CliRun services = cli(at(words("-o json services list")));
    QVERIFY2(services.exitCode == 0, services.describe().constData());
    const QJsonArray list = QJsonDocument::fromJson(services.out).array();
    QCOMPARE(list.size(), 1);
    QCOMPARE(list.first().toObject().value(u"unique_name").toString(), QStringLiteral("default"));
    QVERIFY(list.first().toObject().value(u"sid").toString() != defaultSid); // a new SID
    const CliRun faults = cli(at(words("-o json engine faults list")));
    QCOMPARE(object(faults.out).value(u"faults").toArray().size(), 0);
    // The clock never goes back.
    const CliRun clockAfter = cli(at(words("-o json engine clock show")));
    QCOMPARE(object(clockAfter.out).value(u"offset_seconds"),
        object(clockBefore.out).value(u"offset_seconds"));

    const CliRun json = cli(at(words("-o json engine reset")));
    QVERIFY2(json.exitCode == 0, json.describe().constData());
    QCOMPARE(object(json.out),
        (QJsonObject{{QStringLiteral("services"), 1}, {QStringLiteral("streams"), 0}}));
}

void TestCliEngine::clockAdvance_data()
{
    QTest::addColumn<QString>("duration");
    QTest::addColumn<qint64>("seconds");
    QTest::addRow("plain seconds") << QStringLiteral("90") << qint64(90);
    QTest::addRow("seconds") << QStringLiteral("90s") << qint64(90);
    QTest::addRow("minutes") << QStringLiteral("15m") << qint64(900);
    QTest::addRow("hours") << QStringLiteral("2h") << qint64(7200);
    QTest::addRow("days") << QStringLiteral("1d") << qint64(86400);
    QTest::addRow("hours and minutes") << QStringLiteral("1h30m") << qint64(5400);
    QTest::addRow("every unit") << QStringLiteral("1d2h3m4s") << qint64(93784);
    QTest::addRow("zero") << QStringLiteral("0") << qint64(0);
}

void TestCliEngine::clockAdvance()
{
    QFETCH(QString, duration);
    QFETCH(qint64, seconds);
    const CliRun before = cli(at(words("-o json engine clock show")));
    QVERIFY2(before.exitCode == 0, before.describe().constData());
    const double offset = object(before.out).value(u"offset_seconds").toDouble();

    const CliRun json = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("engine"), QStringLiteral("clock"), QStringLiteral("advance"), duration}));
    QVERIFY2(json.exitCode == 0, json.describe().constData());
    const QJsonObject clock = object(json.out);
    QCOMPARE(clock.value(u"offset_seconds").toDouble(), offset + double(seconds));
    QVERIFY(clock.value(u"expired_streams").isDouble());
    QVERIFY(!clock.value(u"now").toString().isEmpty());
    QVERIFY(clock.value(u"now_ms").toDouble() > 0);

    const CliRun table = cli(at(words("engine clock show")));
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    QVERIFY2(matchesLine(
                 table.out, QStringLiteral("^offset_seconds +%1$").arg(qint64(offset) + seconds)),
        table.out.constData());
    QVERIFY2(matchesLine(table.out, QStringLiteral("^now +\\d{4}-\\d\\d-\\d\\dT")),
        table.out.constData());
}

void TestCliEngine::clockAdvanceExpiresStreams()
{
    QVERIFY(!createStream(
        QStringLiteral("expires-soon"), {QStringLiteral("--ttl"), QStringLiteral("60")})
                 .isEmpty());
    QVERIFY(!createStream(QStringLiteral("never-expires")).isEmpty());
    const CliRun table = cli(at(words("engine clock advance 2m")));
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    QVERIFY2(matchesLine(table.out, QStringLiteral("^expired_streams +[1-9]\\d*$")),
        table.out.constData());

    const CliRun gone = cli(at(words("streams fetch default/expires-soon")));
    QVERIFY2(gone.exitCode == 1, gone.describe().constData());
    QVERIFY2(gone.err.contains("error 20404: "), gone.err.constData());
    QVERIFY2(cli(at(words("streams fetch default/never-expires"))).exitCode == 0, "kept");
}

void TestCliEngine::faultsAddMapsOptions_data()
{
    QTest::addColumn<QStringList>("options");
    QTest::addColumn<QJsonObject>("expected");
    QTest::addColumn<QStringList>("listed"); // the table row's TARGET, ACTIONS and ACTED
    const auto rest = [](QJsonObject error) {
        return QJsonObject{{QStringLiteral("rest_error"), error}};
    };
    QTest::addRow("drop with a seed")
        << words("--drop 0.25 --seed 42")
        << QJsonObject{{QStringLiteral("drop"), 0.25}, {QStringLiteral("seed"), 42},
               {QStringLiteral("service"), QStringLiteral("*")},
               {QStringLiteral("stream"), QStringLiteral("*")}}
        << QStringList{
               QStringLiteral("*/*"), QStringLiteral("drop 0.25, seed 42"), QStringLiteral("0")};
    QTest::addRow("delay with jitter on one stream")
        << words("--service default --stream orders --delay 200 --jitter 50")
        << QJsonObject{{QStringLiteral("service"), QStringLiteral("default")},
               {QStringLiteral("stream"), QStringLiteral("orders")},
               {QStringLiteral("delay_ms"), 200}, {QStringLiteral("jitter_ms"), 50}}
        << QStringList{QStringLiteral("default/orders"), QStringLiteral("delay 200±50 ms"),
               QStringLiteral("0")};
    QTest::addRow("reorder") << words("--reorder 5")
                             << QJsonObject{{QStringLiteral("reorder_window"), 5}}
                             << QStringList{QStringLiteral("*/*"), QStringLiteral("reorder 5"),
                                    QStringLiteral("0")};
    QTest::addRow("rest error with every qualifier")
        << words("--stream orders --rest-error 429:54009 --count 3 --probability 0.5 --method "
                 "post --on messages")
        << rest({{QStringLiteral("status"), 429}, {QStringLiteral("code"), 54009},
               {QStringLiteral("count"), 3}, {QStringLiteral("probability"), 0.5},
               {QStringLiteral("method"), QStringLiteral("POST")},
               {QStringLiteral("on"), QStringLiteral("messages")}})
        << QStringList{QStringLiteral("*/orders"),
               QStringLiteral("rest-error 429:54009 (POST, on messages, p 0.5, count 3)"),
               QStringLiteral("0")};
    QTest::addRow("rest error with the engine's defaults")
        << words("--stream no-such-stream --rest-error 503")
        << rest({{QStringLiteral("status"), 503}, {QStringLiteral("code"), 20503},
               {QStringLiteral("probability"), 1}, {QStringLiteral("on"), QStringLiteral("*")}})
        << QStringList{QStringLiteral("*/no-such-stream"), QStringLiteral("rest-error 503:20503"),
               QStringLiteral("0")};
    QTest::addRow("disconnect") << words("--service default --disconnect")
                                << QJsonObject{{QStringLiteral("disconnect"), true}}
                                << QStringList{QStringLiteral("default/*"),
                                       QStringLiteral("disconnect"), QStringLiteral("0")};
}

void TestCliEngine::faultsAddMapsOptions()
{
    QFETCH(QStringList, options);
    QFETCH(QJsonObject, expected);
    QFETCH(QStringList, listed);

    const CliRun added = cli(at(words("engine faults add") + options));
    QVERIFY2(added.exitCode == 0, added.describe().constData());
    QVERIFY2(matchesLine(added.out, QStringLiteral("^fault-\\d+$")), added.out.constData());
    QCOMPARE(added.outLines().size(), 1);
    const QString id = QString::fromUtf8(added.outLines().first());

    const CliRun json = cli(at(words("-o json engine faults list")));
    QVERIFY2(json.exitCode == 0, json.describe().constData());
    const QJsonArray faults = object(json.out).value(u"faults").toArray();
    const auto found = std::ranges::find_if(
        faults, [&id](const QJsonValue &rule) { return rule.toObject().value(u"id") == id; });
    QVERIFY2(found != faults.end(), json.out.constData());
    const QJsonObject rule = found->toObject();
    QString why;
    QVERIFY2(containsAll(rule, expected, why), qPrintable(why));
    QVERIFY(!rule.value(u"created_at").toString().isEmpty());
    QCOMPARE(rule.value(u"acted").toObject().value(u"total").toInteger(), 0);

    const CliRun table = cli(at(words("engine faults list")));
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    QVERIFY2(table.out.startsWith("ID  "), table.out.constData());
    QStringList cells{id};
    for (const QString &cell : listed)
        cells << QRegularExpression::escape(cell);
    QVERIFY2(matchesLine(table.out, u'^' + cells.join(QStringLiteral("  +")) + u'$'),
        table.out.constData());
}

void TestCliEngine::faultRuleActsAndIsCounted()
{
    QVERIFY(!createStream(QStringLiteral("faulty")).isEmpty());
    // A 503 to one publish: a POST is never repeated, so the CLI sees the engine's refusal.
    const CliRun added = cli(at(words("-o json engine faults add --stream faulty --rest-error 503 "
                                      "--count 1 --method POST --on messages")));
    QVERIFY2(added.exitCode == 0, added.describe().constData());
    const QString id = object(added.out).value(u"id").toString();
    QVERIFY2(id.startsWith(u"fault-"), added.out.constData());

    const CliRun refused = cli(at({QStringLiteral("publish"), QStringLiteral("default/faulty"),
        QStringLiteral("{\"n\":1}")}));
    QVERIFY2(refused.exitCode == 1, refused.describe().constData());
    QVERIFY2(refused.err.contains("error 20503: Injected by engine fault rule " + id.toUtf8()),
        refused.err.constData());
    // Its count used up, the rule lets the next one through.
    const CliRun published = cli(at({QStringLiteral("publish"), QStringLiteral("default/faulty"),
        QStringLiteral("{\"n\":2}")}));
    QVERIFY2(published.exitCode == 0, published.describe().constData());

    const CliRun json = cli(at(words("-o json engine faults list")));
    const QJsonArray faults = object(json.out).value(u"faults").toArray();
    QCOMPARE(faults.size(), 1);
    const QJsonObject acted = faults.first().toObject().value(u"acted").toObject();
    QCOMPARE(acted.value(u"total").toInteger(), 1);
    QCOMPARE(acted.value(u"rest_errors").toInteger(), 1);
    const CliRun table = cli(at(words("engine faults list")));
    QVERIFY2(matchesLine(table.out, QStringLiteral("^%1 .*  1 \\(rest_errors 1\\)$").arg(id)),
        table.out.constData());

    // The traffic log names the rule that answered.
    const CliRun traffic = cli(at(words("-o json engine traffic --limit 10")));
    QVERIFY2(traffic.exitCode == 0, traffic.describe().constData());
    bool named = false;
    for (const QJsonValue &entry : object(traffic.out).value(u"entries").toArray())
        named |= entry.toObject().value(u"fault").toString() == id
            && entry.toObject().value(u"status").toInt() == 503;
    QVERIFY2(named, traffic.out.constData());
    const CliRun lines = cli(at(words("engine traffic --limit 10")));
    QVERIFY2(matchesLine(lines.out, QStringLiteral("  503  20503  .* ms  %1$").arg(id)),
        lines.out.constData());
}

void TestCliEngine::faultsRemoveAndClear()
{
    const CliRun first = cli(at(words("engine faults add --drop 0.1")));
    const CliRun second = cli(at(words("engine faults add --delay 10")));
    QVERIFY2(first.exitCode == 0 && second.exitCode == 0, first.describe().constData());
    const QString firstId = QString::fromUtf8(first.out.trimmed());
    const QString secondId = QString::fromUtf8(second.out.trimmed());
    QVERIFY(firstId != secondId);

    const CliRun removed = cli(at(
        {QStringLiteral("engine"), QStringLiteral("faults"), QStringLiteral("remove"), firstId}));
    QVERIFY2(removed.exitCode == 0, removed.describe().constData());
    QCOMPARE(removed.out, QStringLiteral("removed %1\n").arg(firstId).toUtf8());
    const QJsonArray left =
        object(cli(at(words("-o json engine faults list"))).out).value(u"faults").toArray();
    QCOMPARE(left.size(), 1);
    QCOMPARE(left.first().toObject().value(u"id").toString(), secondId);

    // Ids are never reused: the removed one is unknown now.
    const CliRun again = cli(at(
        {QStringLiteral("engine"), QStringLiteral("faults"), QStringLiteral("remove"), firstId}));
    QVERIFY2(again.exitCode == 1, again.describe().constData());
    QVERIFY2(again.err.contains("error 20404: "), again.err.constData());

    const CliRun cleared = cli(at(words("engine faults clear")));
    QVERIFY2(cleared.exitCode == 0, cleared.describe().constData());
    QCOMPARE(cleared.out, QByteArray("removed every fault rule\n"));
    QCOMPARE(object(cli(at(words("-o json engine faults list"))).out).value(u"faults").toArray(),
        QJsonArray());
    // JSON mode prints nothing for a 204.
    const CliRun quiet = cli(at(words("-o json engine faults clear")));
    QVERIFY2(quiet.exitCode == 0, quiet.describe().constData());
    QVERIFY(quiet.out.isEmpty());
    const CliRun table = cli(at(words("engine faults list")));
    QCOMPARE(table.outLines().size(), 1); // the header only
}

void TestCliEngine::apiErrorsExitOne_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("snapshot"); // written to a file appended to the arguments

    QTest::addRow("unknown fault id") << words("engine faults remove fault-999999")
                                      << QByteArray("error 20404: ") << QByteArray();
    QTest::addRow("drop out of range")
        << words("engine faults add --drop 2") << QByteArray("error 20400: ") << QByteArray();
    QTest::addRow("status out of range") << words("engine faults add --rest-error 200")
                                         << QByteArray("error 20400: ") << QByteArray();
    QTest::addRow("limit out of range")
        << words("engine traffic --limit 0") << QByteArray("error 20400: ") << QByteArray();
    QTest::addRow("more than ten years") << words("engine clock advance 3651d")
                                         << QByteArray("error 20400: Invalid parameter "
                                                       "advance_seconds")
                                         << QByteArray();
    QTest::addRow("snapshot not JSON")
        << words("engine state import") << QByteArray("error 20400: Invalid JSON")
        << QByteArray("{\"format\": 1, \"services\": [");
    QTest::addRow("snapshot of another format")
        << words("engine state import") << QByteArray("format")
        << QByteArray("{\"format\":2,\"services\":[]}");
}

void TestCliEngine::apiErrorsExitOne()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, message);
    QFETCH(QByteArray, snapshot);
    if (!snapshot.isEmpty()) {
        const QString file = m_dir.filePath(
            QStringLiteral("%1.json").arg(QLatin1StringView(QTest::currentDataTag())));
        QFile out(file);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(snapshot);
        arguments.append(file);
    }
    const CliRun run = cli(at(arguments));
    QVERIFY2(run.exitCode == 1, run.describe().constData());
    QVERIFY2(run.err.contains(message), run.err.constData());
    QVERIFY(run.out.isEmpty());
}

void TestCliEngine::wrongSecretExitsOne()
{
    QProcessEnvironment environment = CliRunner::isolatedEnvironment(m_profilesFile, false);
    environment.insert(QStringLiteral("TWILIO_ACCOUNT_SID"), m_engine.accountSid());
    environment.insert(QStringLiteral("TWILIO_API_KEY"), m_engine.apiKeySid());
    environment.insert(QStringLiteral("TWILIO_API_SECRET"), QStringLiteral("not-the-secret"));
    for (const char *command :
        {"engine faults list", "engine state export", "engine reset", "engine traffic --follow"}) {
        const CliRun run = cliWith(at(words(command)), environment);
        QVERIFY2(run.exitCode == 1, (command + (": " + run.describe())).constData());
        QVERIFY2(run.err.contains("error 20003: "), run.err.constData());
        QVERIFY(!run.err.contains("not-the-secret"));
        QVERIFY(run.out.isEmpty());
    }
}

void TestCliEngine::noEngineListeningExitsThree_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addRow("health") << words("engine health");
    QTest::addRow("faults list") << words("engine faults list");
    QTest::addRow("clock advance") << words("engine clock advance 1h");
    QTest::addRow("traffic") << words("engine traffic");
    QTest::addRow("traffic follow") << words("engine traffic --follow");
}

void TestCliEngine::noEngineListeningExitsThree()
{
    QFETCH(QStringList, arguments);
    const CliRun run = cli(QStringList{QStringLiteral("--url"), closedPortUrl()} + arguments);
    QVERIFY2(run.exitCode == 3, run.describe().constData());
    QVERIFY2(run.err.startsWith("streams-cli: connection failed: Cannot reach 127.0.0.1:"),
        run.err.constData());
    QVERIFY(run.out.isEmpty());
}

void TestCliEngine::trafficShowsAnEarlierRequest()
{
    const CliRun missing = cli(at(words("streams fetch default/traffic-marker")));
    QVERIFY2(missing.exitCode == 1, missing.describe().constData());

    // The control plane's own requests are never logged, so the marker is the newest entry.
    const CliRun json = cli(at(words("-o json engine traffic --limit 1")));
    QVERIFY2(json.exitCode == 0, json.describe().constData());
    const QJsonObject page = object(json.out);
    const QJsonArray entries = page.value(u"entries").toArray();
    QCOMPARE(entries.size(), 1);
    const QJsonObject entry = entries.first().toObject();
    QCOMPARE(entry.value(u"kind").toString(), QStringLiteral("rest"));
    QCOMPARE(entry.value(u"method").toString(), QStringLiteral("GET"));
    QVERIFY2(
        entry.value(u"path").toString().endsWith(u"/Streams/traffic-marker"), json.out.constData());
    QCOMPARE(entry.value(u"status").toInt(), 404);
    QCOMPARE(entry.value(u"code").toInt(), 20404);
    QCOMPARE(entry.value(u"who").toString(), m_engine.apiKeySid());
    QCOMPARE(page.value(u"last_id"), entry.value(u"id"));

    const CliRun table = cli(at(words("engine traffic")));
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    QVERIFY2(matchesLine(table.out,
                 QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\S+Z  rest  %1  GET     "
                                "/v1/Services/default/Streams/traffic-marker  404  20404  "
                                "[0-9.]+ ms$")
                     .arg(m_engine.apiKeySid())),
        table.out.constData());
    QVERIFY(table.err.isEmpty());
}

void TestCliEngine::trafficFollowPrintsNewEntries_data()
{
    QTest::addColumn<bool>("json");
    QTest::addColumn<int>("signal");
    QTest::addRow("table, ended by SIGTERM") << false << int(SIGTERM);
    QTest::addRow("json, ended by SIGINT") << true << int(SIGINT);
}

void TestCliEngine::trafficFollowPrintsNewEntries()
{
    QFETCH(bool, json);
    QFETCH(int, signal);
    // Streams that do not exist: each fetch is one 404 in the log, with the name in its path.
    const QString tag = json ? QStringLiteral("json") : QStringLiteral("table");
    const QString before = QStringLiteral("/Streams/follow-before-%1").arg(tag);
    const QString after = QStringLiteral("/Streams/follow-after-%1").arg(tag);
    const auto fetch = [this](const QString &path) {
        return cli(at({QStringLiteral("streams"), QStringLiteral("fetch"),
                       QStringLiteral("default/") + path.section(u'/', 2)}))
            .exitCode;
    };
    QCOMPARE(fetch(before), 1);

    QProcess follower;
    follower.setProcessEnvironment(environment());
    follower.start(CliRunner::binary(),
        at((json ? words("-o json") : QStringList()) + words("engine traffic --follow")));
    QVERIFY(follower.waitForStarted());
    QByteArray out;
    QByteArray err;
    const auto printed = [&](const QString &what) {
        out += follower.readAllStandardOutput();
        err += follower.readAllStandardError();
        return out.contains(what.toUtf8());
    };
    // First the most recent entries, the earlier request among them.
    QTRY_VERIFY2_WITH_TIMEOUT(
        printed(before) || follower.state() == QProcess::NotRunning, err.constData(), 20000);
    QVERIFY2(follower.state() == QProcess::Running, (out + err).constData());

    // Then what comes after it started.
    QCOMPARE(fetch(after), 1);
    QTRY_VERIFY2_WITH_TIMEOUT(
        printed(after) || follower.state() == QProcess::NotRunning, err.constData(), 20000);
    QVERIFY2(printed(after), (out + err).constData());
    QCOMPARE(out.count(after.toUtf8()), 1); // printed once, not again with every poll

    const QList<QByteArray> lines = out.trimmed().split('\n');
    for (const QByteArray &line : lines) {
        if (json) {
            QJsonParseError error{};
            const QJsonDocument entry = QJsonDocument::fromJson(line, &error);
            QVERIFY2(error.error == QJsonParseError::NoError && entry.isObject(), line.constData());
        } else {
            QVERIFY2(
                matchesLine(line, QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\S+Z  (rest|live)  ")),
                line.constData());
        }
    }
    if (json) {
        const QJsonObject entry = object(lines.last());
        QVERIFY2(entry.value(u"path").toString().endsWith(after), lines.last().constData());
        QCOMPARE(entry.value(u"status").toInt(), 404);
    }

    QVERIFY(::kill(pid_t(follower.processId()), signal) == 0);
    QVERIFY(follower.waitForFinished(10000));
    QCOMPARE(follower.exitStatus(), QProcess::NormalExit);
    QCOMPARE(follower.exitCode(), 0);
    err += follower.readAllStandardError();
    QVERIFY2(err.isEmpty(), err.constData());
}

QTEST_GUILESS_MAIN(TestCliEngine)
#include "tst_cliengine.moc"
