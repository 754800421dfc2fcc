// streams-cli end to end: the built binary, run as a real process with TWILIO_* variables,
// against real streams-engine processes on loopback. Every command in both output modes, the
// exit codes, NDJSON publishing (bad lines, the engine's rate limit), subscribe piped into a
// file while another streams-cli publishes, and --profile with the secret from the
// environment. The keychain paths that need a Secret Service are in tst_clikeychain.cpp.

#include "clirunner.h"
#include "engineprocess.h"
#include "engineprofile.h"
#include "httpclient.h"
#include "profiles/profilestore.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using namespace streams::testing;

namespace {
QJsonObject object(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

QJsonArray array(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).array();
}

bool isSid(const QString &text, QLatin1StringView prefix)
{
    static const QRegularExpression shape(QStringLiteral("^[A-Z]{2}[0-9a-f]{32}$"));
    return text.startsWith(prefix) && shape.match(text).hasMatch();
}

QByteArray ndjson(int count, const QByteArray &key)
{
    QByteArray lines;
    for (int i = 1; i <= count; ++i)
        lines += "{\"" + key + "\":" + QByteArray::number(i) + "}\n";
    return lines;
}
} // namespace

class TestCli final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void versionAndHelp();
    void usageErrorsExitTwo_data();
    void usageErrorsExitTwo();
    void noConnectionIsAUsageError();
    void servicesInBothOutputModes();
    void streamsInBothOutputModes();
    void listsFollowEveryPage();
    void apiErrorsExitOneWithTwilioCode_data();
    void apiErrorsExitOneWithTwilioCode();
    void wrongCredentialsExitOne();
    void closedPortExitsThree();
    void publishArgumentInBothOutputModes();
    void publishNdjsonSkipsBadLines();
    void publishKeepsUpWithTheEngineRateLimit();
    void subscribePipedIntoFileWhilePublishing();
    void subscribeEndsWhenTheStreamIsRemoved();
    void subscribeToMissingStreamExitsOne();
    void profileWithSecretFromEnvironment();
    void profileWithoutAnySecretExitsThree();
    void profilesListInBothOutputModes();
    void localEngineProfileWithoutEngineExitsThree();
    void importWithoutKeychainStoresNothing();

private:
    CliRun cli(const QStringList &arguments, const QByteArray &input = {}, int timeoutMs = 60000);
    CliRun cliWith(const QStringList &arguments, const QProcessEnvironment &environment,
        const QByteArray &input = {}, int timeoutMs = 60000);
    QStringList at(const QStringList &arguments) const;
    QString createStream(const QString &uniqueName);
    bool leaksSecret(const CliRun &run) const;

    QTemporaryDir m_dir;
    QString m_profilesFile;
    EngineProcess m_engine;
};

void TestCli::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_profilesFile = m_dir.filePath(QStringLiteral("profiles.ini"));
    QVERIFY2(QFile::exists(CliRunner::binary()), qPrintable(CliRunner::binary()));
    QVERIFY2(m_engine.start(), m_engine.output().constData());
}

void TestCli::cleanupTestCase()
{
    QCOMPARE(m_engine.stop(), 0);
}

bool TestCli::leaksSecret(const CliRun &run) const
{
    for (const QString &secret : {m_engine.apiKeySecret(), m_engine.authToken()}) {
        const QByteArray bytes = secret.toUtf8();
        if (run.out.contains(bytes) || run.err.contains(bytes))
            return true;
    }
    return false;
}

CliRun TestCli::cliWith(const QStringList &arguments, const QProcessEnvironment &environment,
    const QByteArray &input, int timeoutMs)
{
    CliRun run = CliRunner::run(arguments, environment, input, timeoutMs);
    // Whatever the command, no secret may show up in what it printed.
    if (leaksSecret(run)) {
        run.exitCode = -2;
        run.err = "[a secret appeared in streams-cli's output]";
        run.out.clear();
    }
    return run;
}

CliRun TestCli::cli(const QStringList &arguments, const QByteArray &input, int timeoutMs)
{
    return cliWith(arguments,
        CliRunner::withEngineCredentials(
            CliRunner::isolatedEnvironment(m_profilesFile, false), m_engine),
        input, timeoutMs);
}

QStringList TestCli::at(const QStringList &arguments) const
{
    return QStringList{QStringLiteral("--url"), m_engine.baseUrl()} + arguments;
}

QString TestCli::createStream(const QString &uniqueName)
{
    const CliRun run = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("streams"), QStringLiteral("create"), QStringLiteral("default"),
        QStringLiteral("--unique-name"), uniqueName}));
    if (run.exitCode != 0)
        qWarning("streams create failed: %s", run.describe().constData());
    return object(run.out).value(u"sid").toString();
}

void TestCli::versionAndHelp()
{
    const CliRun version = cli({QStringLiteral("--version")});
    QCOMPARE(version.exitCode, 0);
    QCOMPARE(version.out.trimmed(), QByteArray("streams-cli " STREAMS_VERSION));

    const CliRun help = cli({QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    for (const char *expected : {"services list", "streams create SERVICE",
             "publish SERVICE/STREAM", "subscribe SERVICE/STREAM", "profiles import twilio-cli",
             "--output", "--profile", "--url", "Exit codes"})
        QVERIFY2(help.out.contains(expected), expected);
}

void TestCli::usageErrorsExitTwo_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("message");
    const auto row = [](const char *name, const QStringList &arguments, const QByteArray &message) {
        QTest::addRow("%s", name) << arguments << message;
    };
    row("no command", {}, "no command given");
    row("unknown command", {QStringLiteral("frobnicate")}, "unknown command 'frobnicate'");
    row("unknown services command", {QStringLiteral("services"), QStringLiteral("purge")},
        "unknown services command 'purge'");
    row("unknown option",
        {QStringLiteral("--frobnicate"), QStringLiteral("services"), QStringLiteral("list")},
        "frobnicate");
    row("url and profile",
        {QStringLiteral("--url"), QStringLiteral("http://127.0.0.1:1"), QStringLiteral("--profile"),
            QStringLiteral("x"), QStringLiteral("services"), QStringLiteral("list")},
        "--profile and --url exclude each other");
    row("bad output",
        {QStringLiteral("--output"), QStringLiteral("xml"), QStringLiteral("services"),
            QStringLiteral("list")},
        "--output expects json or table");
    row("bad url",
        {QStringLiteral("--url"), QStringLiteral("ftp://host"), QStringLiteral("services"),
            QStringLiteral("list")},
        "--url expects");
    row("missing service", {QStringLiteral("services"), QStringLiteral("fetch")},
        "services fetch needs SERVICE");
    row("missing stream",
        {QStringLiteral("streams"), QStringLiteral("fetch"), QStringLiteral("default")},
        "takes SERVICE/STREAM");
    row("stream where service",
        {QStringLiteral("streams"), QStringLiteral("list"), QStringLiteral("default/x")},
        "takes SERVICE");
    row("extra argument",
        {QStringLiteral("services"), QStringLiteral("list"), QStringLiteral("more")},
        "unexpected argument 'more'");
    row("publish unquoted",
        {QStringLiteral("publish"), QStringLiteral("default/s"), QStringLiteral("{\"a\":"),
            QStringLiteral("1}")},
        "quote the JSON");
    row("update without ttl",
        {QStringLiteral("streams"), QStringLiteral("update"), QStringLiteral("default/s")},
        "streams update needs --ttl");
    row("update without fields",
        {QStringLiteral("services"), QStringLiteral("update"), QStringLiteral("default")},
        "needs at least one field");
    row("ttl not a number",
        {QStringLiteral("streams"), QStringLiteral("create"), QStringLiteral("default"),
            QStringLiteral("--ttl"), QStringLiteral("soon")},
        "--ttl:");
    row("ttl too long",
        {QStringLiteral("streams"), QStringLiteral("create"), QStringLiteral("default"),
            QStringLiteral("--ttl"), QStringLiteral("31536001")},
        "--ttl:");
    row("ttl elsewhere",
        {QStringLiteral("services"), QStringLiteral("list"), QStringLiteral("--ttl"),
            QStringLiteral("5")},
        "--ttl applies only to");
    row("boolean",
        {QStringLiteral("services"), QStringLiteral("update"), QStringLiteral("default"),
            QStringLiteral("--acl-enabled"), QStringLiteral("yes")},
        "--acl-enabled expects true or false");
    row("keep-source elsewhere",
        {QStringLiteral("profiles"), QStringLiteral("list"), QStringLiteral("--keep-source")},
        "--keep-source applies only to");
    row("url with profiles",
        {QStringLiteral("--url"), QStringLiteral("http://127.0.0.1:1"), QStringLiteral("profiles"),
            QStringLiteral("list")},
        "do not apply to the profiles");
    row("unknown profile",
        {QStringLiteral("--profile"), QStringLiteral("no such profile"), QStringLiteral("services"),
            QStringLiteral("list")},
        "no profile named 'no such profile'");
}

void TestCli::usageErrorsExitTwo()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, message);
    const CliRun run = cli(arguments);
    QVERIFY2(run.exitCode == 2, run.describe().constData());
    QVERIFY2(run.err.contains(message), run.err.constData());
    QVERIFY(run.out.isEmpty());
}

void TestCli::noConnectionIsAUsageError()
{
    // No --url, no --profile and no TWILIO_ACCOUNT_SID: nowhere to go.
    const CliRun run = cliWith({QStringLiteral("services"), QStringLiteral("list")},
        CliRunner::isolatedEnvironment(m_profilesFile, false));
    QVERIFY2(run.exitCode == 2, run.describe().constData());
    QVERIFY2(run.err.contains("--profile NAME, --url URL, or set TWILIO_ACCOUNT_SID"),
        run.err.constData());

    // --url without credentials.
    const CliRun noSecret = cliWith(at({QStringLiteral("services"), QStringLiteral("list")}),
        CliRunner::isolatedEnvironment(m_profilesFile, false));
    QVERIFY2(noSecret.exitCode == 2, noSecret.describe().constData());
    QVERIFY2(noSecret.err.contains("--url needs credentials"), noSecret.err.constData());
}

void TestCli::servicesInBothOutputModes()
{
    // create (json): Twilio's resource shape.
    const CliRun created = cli(at({QStringLiteral("--output"), QStringLiteral("json"),
        QStringLiteral("services"), QStringLiteral("create"), QStringLiteral("--friendly-name"),
        QStringLiteral("CLI service")}));
    QVERIFY2(created.exitCode == 0, created.describe().constData());
    const QJsonObject service = object(created.out);
    const QString sid = service.value(u"sid").toString();
    QVERIFY2(isSid(sid, QLatin1StringView("IS")), created.out.constData());
    QCOMPARE(service.value(u"friendly_name").toString(), QStringLiteral("CLI service"));
    QCOMPARE(service.value(u"account_sid").toString(), m_engine.accountSid());
    QCOMPARE(service.value(u"url").toString(),
        m_engine.baseUrl() + QStringLiteral("/v1/Services/") + sid);
    QVERIFY(service.value(u"links").toObject().contains(u"streams"));

    // list (table): a header and one aligned row per service.
    const CliRun table = cli(at({QStringLiteral("services"), QStringLiteral("list")}));
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    const QList<QByteArray> rows = table.outLines();
    QVERIFY(rows.size() >= 3); // header, default, ours
    QVERIFY2(rows.first().startsWith("SID  "), rows.first().constData());
    QVERIFY(rows.first().contains("FRIENDLY NAME"));
    const qsizetype nameColumn = rows.first().indexOf("FRIENDLY NAME");
    bool found = false;
    for (const QByteArray &row : rows.mid(1)) {
        if (!row.startsWith(sid.toUtf8()))
            continue;
        found = true;
        QCOMPARE(row.mid(nameColumn, 11), QByteArray("CLI service"));
    }
    QVERIFY2(found, table.out.constData());

    // list (json): an array of resources.
    const CliRun json = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("services"), QStringLiteral("list")}));
    QVERIFY2(json.exitCode == 0, json.describe().constData());
    const QJsonArray services = array(json.out);
    QVERIFY(services.size() >= 2);
    QVERIFY(std::ranges::any_of(services,
        [&](const QJsonValue &value) { return value.toObject().value(u"sid").toString() == sid; }));

    // fetch (table): "key  value" lines, values aligned.
    const CliRun fetched = cli(at({QStringLiteral("services"), QStringLiteral("fetch"), sid}));
    QVERIFY2(fetched.exitCode == 0, fetched.describe().constData());
    const QList<QByteArray> lines = fetched.outLines();
    QVERIFY(lines.contains("sid                              " + sid.toUtf8()));
    QVERIFY2(
        lines.contains("friendly_name                    CLI service"), fetched.out.constData());
    QVERIFY(lines.contains("acl_enabled                      false"));
    QVERIFY(lines.contains("webhook_url                      -"));

    // update: every writable field from its flag.
    const CliRun updated = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("services"), QStringLiteral("update"), sid,
        QStringLiteral("--friendly-name"), QStringLiteral("Renamed"),
        QStringLiteral("--webhook-url"), QStringLiteral("https://example.com/hook"),
        QStringLiteral("--acl-enabled"), QStringLiteral("true"),
        QStringLiteral("--reachability-webhooks-enabled"), QStringLiteral("True"),
        QStringLiteral("--reachability-debouncing-enabled"), QStringLiteral("true"),
        QStringLiteral("--reachability-debouncing-window"), QStringLiteral("2000"),
        QStringLiteral("--webhooks-from-rest-enabled"), QStringLiteral("true")}));
    QVERIFY2(updated.exitCode == 0, updated.describe().constData());
    const QJsonObject after = object(updated.out);
    QCOMPARE(after.value(u"friendly_name").toString(), QStringLiteral("Renamed"));
    QCOMPARE(after.value(u"webhook_url").toString(), QStringLiteral("https://example.com/hook"));
    QCOMPARE(after.value(u"acl_enabled").toBool(), true);
    QCOMPARE(after.value(u"reachability_webhooks_enabled").toBool(), true);
    QCOMPARE(after.value(u"reachability_debouncing_enabled").toBool(), true);
    QCOMPARE(after.value(u"reachability_debouncing_window").toInt(), 2000);
    QCOMPARE(after.value(u"webhooks_from_rest_enabled").toBool(), true);

    // fetch (json) sees the update.
    const CliRun refetched = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("services"), QStringLiteral("fetch"), sid}));
    QVERIFY2(refetched.exitCode == 0, refetched.describe().constData());
    QCOMPARE(object(refetched.out), after);

    // delete: "deleted …" in a table, nothing in JSON (the API's 204 has no body).
    const CliRun deleted = cli(at({QStringLiteral("services"), QStringLiteral("delete"), sid}));
    QVERIFY2(deleted.exitCode == 0, deleted.describe().constData());
    QCOMPARE(deleted.out, "deleted " + sid.toUtf8() + '\n');
    const CliRun gone = cli(at({QStringLiteral("services"), QStringLiteral("fetch"), sid}));
    QVERIFY2(gone.exitCode == 1, gone.describe().constData());
    QVERIFY2(gone.err.contains("error 20404: "), gone.err.constData());

    const CliRun second = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("services"), QStringLiteral("create")}));
    QVERIFY2(second.exitCode == 0, second.describe().constData());
    const QString secondSid = object(second.out).value(u"sid").toString();
    const CliRun deletedJson = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("services"), QStringLiteral("delete"), secondSid}));
    QVERIFY2(deletedJson.exitCode == 0, deletedJson.describe().constData());
    QVERIFY(deletedJson.out.isEmpty());
}

void TestCli::streamsInBothOutputModes()
{
    // create (json) with a unique name and a TTL.
    const CliRun created =
        cli(at({QStringLiteral("-o"), QStringLiteral("json"), QStringLiteral("streams"),
            QStringLiteral("create"), QStringLiteral("default"), QStringLiteral("--unique-name"),
            QStringLiteral("cli/lifecycle"), QStringLiteral("--ttl"), QStringLiteral("3600")}));
    QVERIFY2(created.exitCode == 0, created.describe().constData());
    const QJsonObject stream = object(created.out);
    const QString sid = stream.value(u"sid").toString();
    QVERIFY2(isSid(sid, QLatin1StringView("TO")), created.out.constData());
    QCOMPARE(stream.value(u"unique_name").toString(), QStringLiteral("cli/lifecycle"));
    QVERIFY(stream.value(u"date_expires").isString());
    QCOMPARE(stream.value(u"created_by").toString(), QStringLiteral("system"));
    const QString serviceSid = stream.value(u"service_sid").toString();

    // create (table) without options: never expires.
    const CliRun plain =
        cli(at({QStringLiteral("streams"), QStringLiteral("create"), QStringLiteral("default")}));
    QVERIFY2(plain.exitCode == 0, plain.describe().constData());
    QVERIFY(plain.outLines().contains("date_expires  -"));
    QVERIFY(plain.outLines().contains("unique_name   -"));

    // list (table): name and expiry columns.
    const CliRun table =
        cli(at({QStringLiteral("streams"), QStringLiteral("list"), QStringLiteral("default")}));
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    QVERIFY(table.outLines().first().startsWith("SID  "));
    QVERIFY(table.outLines().first().contains("EXPIRES"));
    bool found = false;
    for (const QByteArray &row : table.outLines()) {
        if (row.startsWith(sid.toUtf8())) {
            found = true;
            QVERIFY2(row.contains("  cli/lifecycle  "), row.constData());
        }
    }
    QVERIFY2(found, table.out.constData());

    // fetch by unique name (the name holds a slash: only the first one separates) and by SID.
    const CliRun byName =
        cli(at({QStringLiteral("-o"), QStringLiteral("json"), QStringLiteral("streams"),
            QStringLiteral("fetch"), QStringLiteral("default/cli/lifecycle")}));
    QVERIFY2(byName.exitCode == 0, byName.describe().constData());
    QCOMPARE(object(byName.out).value(u"sid").toString(), sid);
    const CliRun bySid =
        cli(at({QStringLiteral("streams"), QStringLiteral("fetch"), serviceSid + u'/' + sid}));
    QVERIFY2(bySid.exitCode == 0, bySid.describe().constData());
    QVERIFY(bySid.outLines().contains("unique_name   cli/lifecycle"));

    // update: --ttl 0 clears the expiry.
    const CliRun updated = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("streams"), QStringLiteral("update"), QStringLiteral("default/") + sid,
        QStringLiteral("--ttl"), QStringLiteral("0")}));
    QVERIFY2(updated.exitCode == 0, updated.describe().constData());
    QVERIFY(object(updated.out).value(u"date_expires").isNull());
    const CliRun updatedTable = cli(at({QStringLiteral("streams"), QStringLiteral("update"),
        QStringLiteral("default/") + sid, QStringLiteral("--ttl"), QStringLiteral("60")}));
    QVERIFY2(updatedTable.exitCode == 0, updatedTable.describe().constData());
    QVERIFY(!updatedTable.outLines().contains("date_expires  -"));

    // list (json) has it; delete; gone.
    const CliRun json = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("streams"), QStringLiteral("list"), QStringLiteral("default")}));
    QVERIFY2(json.exitCode == 0, json.describe().constData());
    QVERIFY(std::ranges::any_of(array(json.out),
        [&](const QJsonValue &value) { return value.toObject().value(u"sid").toString() == sid; }));
    const CliRun deleted = cli(at({QStringLiteral("streams"), QStringLiteral("delete"),
        QStringLiteral("default/cli/lifecycle")}));
    QVERIFY2(deleted.exitCode == 0, deleted.describe().constData());
    QCOMPARE(deleted.out, QByteArray("deleted default/cli/lifecycle\n"));
    const CliRun gone = cli(
        at({QStringLiteral("streams"), QStringLiteral("fetch"), QStringLiteral("default/") + sid}));
    QVERIFY2(gone.exitCode == 1, gone.describe().constData());
    QVERIFY2(gone.err.contains("error 20404: "), gone.err.constData());
}

void TestCli::listsFollowEveryPage()
{
    // More streams than one page holds (100): the list must follow next_page_url.
    const CliRun service = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("services"), QStringLiteral("create")}));
    QVERIFY2(service.exitCode == 0, service.describe().constData());
    const QString serviceSid = object(service.out).value(u"sid").toString();
    const QByteArray path = "/v1/Services/" + serviceSid.toUtf8() + "/Streams";
    constexpr int kStreams = 130;
    QSet<QString> created;
    for (int i = 0; i < kStreams; ++i) {
        const HttpResponse response =
            httpExchange(m_engine.port(), "POST", path, m_engine.authorization());
        QCOMPARE(response.status, 201);
        created.insert(response.json().value(u"sid").toString());
    }
    const CliRun json = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("streams"), QStringLiteral("list"), serviceSid}));
    QVERIFY2(json.exitCode == 0, json.describe().constData());
    QSet<QString> listed;
    for (const QJsonValue &value : array(json.out))
        listed.insert(value.toObject().value(u"sid").toString());
    QCOMPARE(listed.size(), kStreams);
    QVERIFY(listed == created);

    const CliRun table = cli(at({QStringLiteral("streams"), QStringLiteral("list"), serviceSid}));
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    QCOMPARE(table.outLines().size(), kStreams + 1);
}

void TestCli::apiErrorsExitOneWithTwilioCode_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("message");
    QTest::addRow("missing service") << QStringList{QStringLiteral("services"),
        QStringLiteral("fetch"), QStringLiteral("ISffffffffffffffffffffffffffffffff")}
                                     << QByteArray("error 20404: The requested resource");
    QTest::addRow("missing stream") << QStringList{QStringLiteral("streams"),
        QStringLiteral("delete"), QStringLiteral("default/no-such-stream")}
                                    << QByteArray("error 20404: ");
    QTest::addRow("sid-shaped unique name") << QStringList{QStringLiteral("streams"),
        QStringLiteral("create"), QStringLiteral("default"), QStringLiteral("--unique-name"),
        QStringLiteral("TO00000000000000000000000000000000")}
                                            << QByteArray("error 54302: ");
    QTest::addRow("debouncing window out of range") << QStringList{QStringLiteral("services"),
        QStringLiteral("update"), QStringLiteral("default"),
        QStringLiteral("--reachability-debouncing-window"), QStringLiteral("5")}
                                                    << QByteArray("error ");
    QTest::addRow("publish to missing stream") << QStringList{QStringLiteral("publish"),
        QStringLiteral("default/no-such-stream"), QStringLiteral("{\"a\":1}")}
                                               << QByteArray("error 20404: ");
}

void TestCli::apiErrorsExitOneWithTwilioCode()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, message);
    const CliRun run = cli(at(arguments));
    QVERIFY2(run.exitCode == 1, run.describe().constData());
    QVERIFY2(run.err.contains(message), run.err.constData());
    QVERIFY(run.out.isEmpty());
}

void TestCli::wrongCredentialsExitOne()
{
    // The duplicate unique name first: a second create with the same name is 54301.
    QVERIFY(!createStream(QStringLiteral("cli-duplicate")).isEmpty());
    const CliRun duplicate =
        cli(at({QStringLiteral("streams"), QStringLiteral("create"), QStringLiteral("default"),
            QStringLiteral("--unique-name"), QStringLiteral("cli-duplicate")}));
    QVERIFY2(duplicate.exitCode == 1, duplicate.describe().constData());
    QVERIFY2(duplicate.err.contains("error 54301: "), duplicate.err.constData());

    QProcessEnvironment environment = CliRunner::isolatedEnvironment(m_profilesFile, false);
    environment.insert(QStringLiteral("TWILIO_ACCOUNT_SID"), m_engine.accountSid());
    environment.insert(QStringLiteral("TWILIO_AUTH_TOKEN"), QStringLiteral("not-the-token"));
    const CliRun run =
        cliWith(at({QStringLiteral("services"), QStringLiteral("list")}), environment);
    QVERIFY2(run.exitCode == 1, run.describe().constData());
    QVERIFY2(run.err.contains("error 20003: "), run.err.constData());
    QVERIFY(!run.err.contains("not-the-token"));

    // The auth token works as well as the API key.
    environment.insert(QStringLiteral("TWILIO_AUTH_TOKEN"), m_engine.authToken());
    const CliRun token =
        cliWith(at({QStringLiteral("services"), QStringLiteral("list")}), environment);
    QVERIFY2(token.exitCode == 0, token.describe().constData());
}

void TestCli::closedPortExitsThree()
{
    // A port that was free a moment ago: nothing listens, every connection is refused.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const quint16 port = probe.serverPort();
    probe.close();
    const CliRun run =
        cli({QStringLiteral("--url"), QStringLiteral("http://127.0.0.1:%1").arg(port),
            QStringLiteral("services"), QStringLiteral("list")});
    QVERIFY2(run.exitCode == 3, run.describe().constData());
    QVERIFY2(run.err.contains("connection failed"), run.err.constData());
    QVERIFY(run.out.isEmpty());
}

void TestCli::publishArgumentInBothOutputModes()
{
    QVERIFY(!createStream(QStringLiteral("cli-argument")).isEmpty());
    const CliRun table = cli(at({QStringLiteral("publish"), QStringLiteral("default/cli-argument"),
        QStringLiteral("{\"text\": \"hello\", \"n\": 1}")}));
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    QCOMPARE(table.outLines().size(), 1);
    QVERIFY2(isSid(QString::fromUtf8(table.outLines().first()), QLatin1StringView("TZ")),
        table.out.constData());

    const CliRun json = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
        QStringLiteral("publish"), QStringLiteral("default/cli-argument"),
        QStringLiteral("{\"text\": \"hello\", \"n\": 2}")}));
    QVERIFY2(json.exitCode == 0, json.describe().constData());
    const QJsonObject message = object(json.out);
    QVERIFY(isSid(message.value(u"sid").toString(), QLatin1StringView("TZ")));
    QCOMPARE(message.value(u"data").toObject(),
        (QJsonObject{{QStringLiteral("text"), QStringLiteral("hello")}, {QStringLiteral("n"), 2}}));

    // Checked before anything is sent: 54008 with where the JSON broke.
    const CliRun invalid = cli(at({QStringLiteral("publish"),
        QStringLiteral("default/cli-argument"), QStringLiteral("{\"text\": }")}));
    QVERIFY2(invalid.exitCode == 1, invalid.describe().constData());
    QVERIFY2(invalid.err.contains("error 54008: "), invalid.err.constData());
    QVERIFY(invalid.err.contains("column"));
    const CliRun tooLarge =
        cli(at({QStringLiteral("publish"), QStringLiteral("default/cli-argument"),
            QStringLiteral("{\"x\":\"%1\"}").arg(QString(5000, u'a'))}));
    QVERIFY2(tooLarge.exitCode == 1, tooLarge.describe().constData());
    QVERIFY2(tooLarge.err.contains("error 54006: "), tooLarge.err.constData());
}

void TestCli::publishNdjsonSkipsBadLines()
{
    QVERIFY(!createStream(QStringLiteral("cli-ndjson")).isEmpty());
    const QByteArray input = "{\"n\":1}\n"
                             "{\"n\":2}\r\n"
                             "{\"n\": 3,, }\n" // line 3: a syntax error
                             "[4]\n" // line 4: not an object
                             "\n" // line 5: blank, skipped without complaint
                             "{\"n\":6}\n"
                             "{\"s\":\"\\ud83d\"}\n" // line 7: a lone surrogate
                             "{\"big\":\""
        + QByteArray(5000, 'b')
        + "\"}\n" // line 8: over 4 KiB
          "{\"n\":9}"; // line 9: no final line break
    const CliRun json = cli(at({QStringLiteral("-o"), QStringLiteral("json"),
                                QStringLiteral("publish"), QStringLiteral("default/cli-ndjson")}),
        input);
    QVERIFY2(json.exitCode == 1, json.describe().constData());
    QList<qint64> published;
    QSet<QString> sids;
    for (const QByteArray &line : json.outLines()) {
        const QJsonObject result = object(line);
        published.append(result.value(u"line").toInteger());
        QVERIFY(isSid(result.value(u"sid").toString(), QLatin1StringView("TZ")));
        sids.insert(result.value(u"sid").toString());
    }
    QCOMPARE(published, (QList<qint64>{1, 2, 6, 9}));
    QCOMPARE(sids.size(), 4);
    QVERIFY2(QRegularExpression(QStringLiteral("line 3, column \\d+: error 54008: "))
                 .match(QString::fromUtf8(json.err))
                 .hasMatch(),
        json.err.constData());
    QVERIFY2(json.err.contains("line 4: error 54008: "), json.err.constData());
    QVERIFY2(json.err.contains("line 7, column 7: error 54008: Invalid JSON: lone UTF-16 "
                               "surrogate \\ud83d"),
        json.err.constData());
    QVERIFY2(json.err.contains("line 8: error 54006: "), json.err.constData());
    QVERIFY(!json.err.contains("line 5"));
    QVERIFY2(json.err.contains("4 published, 4 not published"), json.err.constData());

    // "-" reads stdin too; the table prints one SID per line; all good lines → exit 0.
    const CliRun table = cli(
        at({QStringLiteral("publish"), QStringLiteral("default/cli-ndjson"), QStringLiteral("-")}),
        ndjson(5, "k"));
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    QCOMPARE(table.outLines().size(), 5);
    for (const QByteArray &line : table.outLines())
        QVERIFY(isSid(QString::fromUtf8(line), QLatin1StringView("TZ")));
    QVERIFY(table.err.isEmpty());

    // Empty input publishes nothing and succeeds.
    const CliRun empty = cli(at({QStringLiteral("publish"), QStringLiteral("default/cli-ndjson")}));
    QVERIFY2(empty.exitCode == 0, empty.describe().constData());
    QVERIFY(empty.out.isEmpty());
}

void TestCli::publishKeepsUpWithTheEngineRateLimit()
{
    // 5 messages/s with a 10 s burst budget: the first 50 go at once, the other 20 only as the
    // bucket refills. The engine answers 429 to the excess; every line must still get through,
    // once, in order.
    EngineProcess limited;
    QVERIFY2(limited.start({QStringLiteral("--publish-rate"), QStringLiteral("5")}),
        limited.output().constData());
    const QProcessEnvironment environment = CliRunner::withEngineCredentials(
        CliRunner::isolatedEnvironment(m_profilesFile, false), limited);
    const QStringList url{QStringLiteral("--url"), limited.baseUrl()};
    const CliRun stream = CliRunner::run(url
            + QStringList{QStringLiteral("streams"), QStringLiteral("create"),
                QStringLiteral("default"), QStringLiteral("--unique-name"),
                QStringLiteral("paced")},
        environment);
    QVERIFY2(stream.exitCode == 0, stream.describe().constData());

    constexpr int kLines = 70;
    QElapsedTimer elapsed;
    elapsed.start();
    const CliRun run = CliRunner::run(url
            + QStringList{QStringLiteral("-o"), QStringLiteral("json"), QStringLiteral("publish"),
                QStringLiteral("default/paced")},
        environment, ndjson(kLines, "seq"));
    const qint64 tookMs = elapsed.elapsed();
    QVERIFY2(run.exitCode == 0, run.describe().constData());
    const QList<QByteArray> lines = run.outLines();
    QCOMPARE(lines.size(), kLines);
    QSet<QString> sids;
    for (int i = 0; i < kLines; ++i) {
        const QJsonObject result = object(lines.at(i));
        QCOMPARE(result.value(u"line").toInteger(), i + 1);
        sids.insert(result.value(u"sid").toString());
    }
    QCOMPARE(sids.size(), kLines);
    // The engine cannot have accepted the last 20 faster than its bucket refills (4 s): proof
    // that the limit was hit and absorbed rather than skipped.
    QVERIFY2(tookMs >= 3500, qPrintable(QStringLiteral("took %1 ms").arg(tookMs)));
    QCOMPARE(limited.stop(), 0);
}

void TestCli::subscribePipedIntoFileWhilePublishing()
{
    QVERIFY(!createStream(QStringLiteral("cli-live")).isEmpty());
    const QString outputFile = m_dir.filePath(QStringLiteral("subscribed.ndjson"));

    QProcess subscriber;
    subscriber.setProcessEnvironment(CliRunner::withEngineCredentials(
        CliRunner::isolatedEnvironment(m_profilesFile, false), m_engine));
    subscriber.setStandardOutputFile(outputFile);
    subscriber.start(
        CliRunner::binary(), at({QStringLiteral("subscribe"), QStringLiteral("default/cli-live")}));
    QVERIFY(subscriber.waitForStarted());
    QByteArray subscriberErr;
    const auto subscribed = [&] {
        subscriberErr += subscriber.readAllStandardError();
        return subscriberErr.contains("subscribed to default/cli-live");
    };
    QTRY_VERIFY2_WITH_TIMEOUT(subscribed() || subscriber.state() == QProcess::NotRunning,
        subscriberErr.constData(), 20000);
    QVERIFY2(subscriber.state() == QProcess::Running, subscriberErr.constData());
    QVERIFY2(subscribed(), subscriberErr.constData());

    constexpr int kMessages = 60;
    const CliRun publisher =
        cli(at({QStringLiteral("-o"), QStringLiteral("json"), QStringLiteral("publish"),
                QStringLiteral("default/cli-live")}),
            ndjson(kMessages, "seq"));
    QVERIFY2(publisher.exitCode == 0, publisher.describe().constData());
    QStringList publishedSids;
    for (const QByteArray &line : publisher.outLines())
        publishedSids.append(object(line).value(u"sid").toString());
    QCOMPARE(publishedSids.size(), kMessages);

    const auto received = [&] {
        QFile file(outputFile);
        if (!file.open(QIODevice::ReadOnly))
            return QList<QByteArray>();
        QList<QByteArray> lines = file.readAll().split('\n');
        if (!lines.isEmpty() && lines.last().isEmpty())
            lines.removeLast();
        return lines;
    };
    QTRY_VERIFY_WITH_TIMEOUT(received().size() >= kMessages, 20000);

    const QList<QByteArray> lines = received();
    QCOMPARE(lines.size(), kMessages);
    static const QRegularExpression date(
        QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$"));
    for (int i = 0; i < kMessages; ++i) {
        const QJsonObject message = object(lines.at(i));
        QCOMPARE(message.value(u"sid").toString(), publishedSids.at(i));
        QVERIFY(date.match(message.value(u"received_at").toString()).hasMatch());
        QCOMPARE(message.value(u"data").toObject(), (QJsonObject{{QStringLiteral("seq"), i + 1}}));
        // The data is inline as delivered: compact, not re-serialised.
        QVERIFY2(lines.at(i).endsWith(",\"data\":{\"seq\":" + QByteArray::number(i + 1) + "}}"),
            lines.at(i).constData());
    }

    subscriber.terminate(); // SIGTERM
    QVERIFY(subscriber.waitForFinished(10000));
    subscriberErr += subscriber.readAllStandardError();
    QCOMPARE(subscriber.exitStatus(), QProcess::NormalExit);
    QVERIFY2(subscriber.exitCode() == 0, subscriberErr.constData());
}

void TestCli::subscribeEndsWhenTheStreamIsRemoved()
{
    QVERIFY(!createStream(QStringLiteral("cli-removed")).isEmpty());
    QProcess subscriber;
    subscriber.setProcessEnvironment(CliRunner::withEngineCredentials(
        CliRunner::isolatedEnvironment(m_profilesFile, false), m_engine));
    subscriber.start(CliRunner::binary(),
        at({QStringLiteral("subscribe"), QStringLiteral("default/cli-removed")}));
    QVERIFY(subscriber.waitForStarted());
    QByteArray err;
    const auto errSoFar = [&] { return err += subscriber.readAllStandardError(); };
    QTRY_VERIFY2_WITH_TIMEOUT(
        errSoFar().contains("subscribed to") || subscriber.state() == QProcess::NotRunning,
        err.constData(), 20000);
    QVERIFY2(subscriber.state() == QProcess::Running, err.constData());

    const CliRun deleted = cli(at({QStringLiteral("streams"), QStringLiteral("delete"),
        QStringLiteral("default/cli-removed")}));
    QVERIFY2(deleted.exitCode == 0, deleted.describe().constData());
    QVERIFY(subscriber.waitForFinished(20000));
    err += subscriber.readAllStandardError();
    QCOMPARE(subscriber.exitStatus(), QProcess::NormalExit);
    QVERIFY2(subscriber.exitCode() == 1, err.constData());
    QVERIFY2(err.contains("stream removed"), err.constData());
}

void TestCli::subscribeToMissingStreamExitsOne()
{
    const CliRun run = cli(at({QStringLiteral("subscribe"), QStringLiteral("default/nope")}));
    QVERIFY2(run.exitCode == 1, run.describe().constData());
    QVERIFY2(run.err.contains("error 20404: "), run.err.constData());
    QVERIFY(run.out.isEmpty());
}

void TestCli::profileWithSecretFromEnvironment()
{
    ProfileStore store(m_profilesFile);
    const ConnectionProfile byKey = engineProfile(m_engine, QStringLiteral("cli engine"));
    const auto savedKey = store.save(byKey);
    QVERIFY2(savedKey.has_value(), qPrintable(savedKey ? QString() : savedKey.error()));
    ConnectionProfile byToken = byKey;
    byToken.name = QStringLiteral("cli engine token");
    byToken.authMethod = ConnectionProfile::AuthMethod::AuthToken;
    byToken.apiKeySid.clear();
    const auto savedToken = store.save(byToken);
    QVERIFY2(savedToken.has_value(), qPrintable(savedToken ? QString() : savedToken.error()));

    // No keychain here, so the secret comes from TWILIO_API_SECRET, which the CLI says.
    QProcessEnvironment environment = CliRunner::isolatedEnvironment(m_profilesFile, false);
    environment.insert(QStringLiteral("TWILIO_API_SECRET"), m_engine.apiKeySecret());
    const CliRun run =
        cliWith({QStringLiteral("--profile"), QStringLiteral("cli engine"), QStringLiteral("-o"),
                    QStringLiteral("json"), QStringLiteral("services"), QStringLiteral("fetch"),
                    QStringLiteral("default")},
            environment);
    QVERIFY2(run.exitCode == 0, run.describe().constData());
    QCOMPARE(object(run.out).value(u"unique_name").toString(), QStringLiteral("default"));
    QVERIFY2(run.err.contains("secret taken from TWILIO_API_SECRET"), run.err.constData());

    // Names match case-insensitively; the auth token profile takes TWILIO_AUTH_TOKEN.
    QProcessEnvironment tokenEnvironment = CliRunner::isolatedEnvironment(m_profilesFile, false);
    tokenEnvironment.insert(QStringLiteral("TWILIO_AUTH_TOKEN"), m_engine.authToken());
    const CliRun token =
        cliWith({QStringLiteral("--profile"), QStringLiteral("CLI Engine Token"),
                    QStringLiteral("streams"), QStringLiteral("list"), QStringLiteral("default")},
            tokenEnvironment);
    QVERIFY2(token.exitCode == 0, token.describe().constData());
    QVERIFY(token.outLines().first().startsWith("SID  "));

    // A secret meant for another key is not used for this profile.
    environment.insert(
        QStringLiteral("TWILIO_API_KEY"), QStringLiteral("SK%1").arg(QString(32, u'0')));
    const CliRun otherKey = cliWith({QStringLiteral("--profile"), QStringLiteral("cli engine"),
                                        QStringLiteral("services"), QStringLiteral("list")},
        environment);
    QVERIFY2(otherKey.exitCode == 3, otherKey.describe().constData());
}

void TestCli::profileWithoutAnySecretExitsThree()
{
    ProfileStore store(m_profilesFile);
    const auto saved = store.save(engineProfile(m_engine, QStringLiteral("cli no secret")));
    QVERIFY2(saved.has_value(), qPrintable(saved ? QString() : saved.error()));

    const CliRun run = cliWith({QStringLiteral("--profile"), QStringLiteral("cli no secret"),
                                   QStringLiteral("services"), QStringLiteral("list")},
        CliRunner::isolatedEnvironment(m_profilesFile, false));
    QVERIFY2(run.exitCode == 3, run.describe().constData());
    // Where the secret should be: the keychain entry, and the variable for one run.
    QVERIFY2(run.err.contains("profile/" + saved->id.toUtf8()), run.err.constData());
    QVERIFY(run.err.contains("keychain"));
    QVERIFY(run.err.contains("TWILIO_API_SECRET"));
    QVERIFY(run.out.isEmpty());
}

void TestCli::profilesListInBothOutputModes()
{
    ProfileStore store(m_profilesFile);
    ConnectionProfile profile;
    profile.name = QStringLiteral("cli listed");
    profile.kind = ConnectionProfile::Kind::TwilioAccount;
    profile.accountSid = m_engine.accountSid();
    profile.apiKeySid = m_engine.apiKeySid();
    profile.region = QStringLiteral("ie1");
    QVERIFY(store.save(profile).has_value());

    const QProcessEnvironment environment = CliRunner::withEngineCredentials(
        CliRunner::isolatedEnvironment(m_profilesFile, false), m_engine);
    const CliRun table = cliWith({QStringLiteral("profiles"), QStringLiteral("list")}, environment);
    QVERIFY2(table.exitCode == 0, table.describe().constData());
    const QList<QByteArray> rows = table.outLines();
    QVERIFY(rows.first().startsWith("NAME  "));
    QVERIFY2(rows.at(1).startsWith("Local engine  "), table.out.constData());
    QVERIFY(rows.at(1).contains("http://127.0.0.1:18080"));
    bool found = false;
    for (const QByteArray &row : rows) {
        if (row.startsWith("cli listed  ")) {
            found = true;
            QVERIFY2(row.contains("Twilio account"), row.constData());
            QVERIFY2(row.contains("ie1"), row.constData());
            QVERIFY(row.contains(m_engine.apiKeySid().toUtf8()));
        }
    }
    QVERIFY2(found, table.out.constData());

    const CliRun json = cliWith({QStringLiteral("--output"), QStringLiteral("json"),
                                    QStringLiteral("profiles"), QStringLiteral("list")},
        environment);
    QVERIFY2(json.exitCode == 0, json.describe().constData());
    const QJsonArray profiles = array(json.out);
    QCOMPARE(profiles.first().toObject().value(u"kind").toString(), QStringLiteral("local_engine"));
    const auto listed = std::ranges::find_if(profiles, [](const QJsonValue &value) {
        return value.toObject().value(u"name").toString() == u"cli listed";
    });
    QVERIFY(listed != profiles.end());
    const QJsonObject entry = listed->toObject();
    QCOMPARE(entry.value(u"kind").toString(), QStringLiteral("twilio_account"));
    QCOMPARE(entry.value(u"region").toString(), QStringLiteral("ie1"));
    QCOMPARE(entry.value(u"auth_method").toString(), QStringLiteral("api_key"));
    QCOMPARE(entry.value(u"api_key_sid").toString(), m_engine.apiKeySid());
}

void TestCli::localEngineProfileWithoutEngineExitsThree()
{
    // A home with no engine data: the CLI must say so and must not create credentials.
    QTemporaryDir home;
    QProcessEnvironment environment = CliRunner::isolatedEnvironment(m_profilesFile, false);
    environment.insert(QStringLiteral("HOME"), home.path());
    environment.insert(QStringLiteral("XDG_DATA_HOME"), home.filePath(QStringLiteral("data")));
    const CliRun run = cliWith({QStringLiteral("--profile"), QStringLiteral("Local engine"),
                                   QStringLiteral("services"), QStringLiteral("list")},
        environment);
    QVERIFY2(run.exitCode == 3, run.describe().constData());
    QVERIFY2(run.err.contains("local engine is not running or has never been initialised"),
        run.err.constData());
    QVERIFY2(run.err.contains(
                 home.filePath(QStringLiteral("data/sync-streams-console/engine/credentials.json"))
                     .toUtf8()),
        run.err.constData());
    QVERIFY(!QFile::exists(
        home.filePath(QStringLiteral("data/sync-streams-console/engine/credentials.json"))));
}

void TestCli::importWithoutKeychainStoresNothing()
{
    // Secrets go into the keychain only: with none reachable, nothing is imported, nothing
    // written, and twilio-cli's file keeps its secret.
    QTemporaryDir home;
    const QString configDir = home.filePath(QStringLiteral(".twilio-cli"));
    QVERIFY(QDir().mkpath(configDir));
    const QString configPath = configDir + QStringLiteral("/config.json");
    const QByteArray config = "{\n  \"profiles\": {\n    \"main\": {\n      \"accountSid\": \""
        + m_engine.accountSid().toUtf8() + "\",\n      \"apiKey\": \""
        + m_engine.apiKeySid().toUtf8() + "\",\n      \"apiSecret\": \""
        + m_engine.apiKeySecret().toUtf8() + "\"\n    }\n  }\n}\n";
    {
        QFile file(configPath);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(config);
    }
    const QString profilesFile = home.filePath(QStringLiteral("profiles.ini"));
    QProcessEnvironment environment = CliRunner::isolatedEnvironment(profilesFile, false);
    environment.insert(QStringLiteral("HOME"), home.path());
    environment.insert(QStringLiteral("TWILIO_CONFIG_DIR"), configDir);

    const CliRun run = cliWith(
        {QStringLiteral("profiles"), QStringLiteral("import"), QStringLiteral("twilio-cli")},
        environment);
    QVERIFY2(run.exitCode == 3, run.describe().constData());
    QVERIFY2(run.err.contains("not imported: 'twilio-cli: main'"), run.err.constData());
    QFile file(configPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readAll() == config); // unchanged, secret included
    QVERIFY(!ProfileStore(profilesFile).find(QStringLiteral("twilio-cli: main")));

    QProcessEnvironment fromEnvironment = CliRunner::withEngineCredentials(
        CliRunner::isolatedEnvironment(profilesFile, false), m_engine);
    const CliRun env =
        cliWith({QStringLiteral("profiles"), QStringLiteral("import"), QStringLiteral("env")},
            fromEnvironment);
    QVERIFY2(env.exitCode == 3, env.describe().constData());
    QCOMPARE(ProfileStore(profilesFile).profiles().size(), 1); // only the Local engine

    const CliRun nothing =
        cliWith({QStringLiteral("profiles"), QStringLiteral("import"), QStringLiteral("env")},
            CliRunner::isolatedEnvironment(profilesFile, false));
    QVERIFY2(nothing.exitCode == 2, nothing.describe().constData());
    QVERIFY(nothing.err.contains("TWILIO_ACCOUNT_SID is not set"));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
