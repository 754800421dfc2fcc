#include "api/restjson.h"

#include <QJsonDocument>
#include <QScopeGuard>
#include <QTest>
#include <ctime>

using namespace streams;

Q_DECLARE_METATYPE(std::optional<QString>)

namespace {
const QString kBase = QStringLiteral("http://127.0.0.1:4567");
const QString kAccount = QStringLiteral("AC0123456789abcdef0123456789abcdef");
const QString kService = QStringLiteral("IS0123456789abcdef0123456789abcdef");
const QString kStream = QStringLiteral("TO0123456789abcdef0123456789abcdef");

QStringList sortedKeys(const QJsonObject &object)
{
    QStringList keys = object.keys();
    keys.sort();
    return keys;
}

QStringList sorted(QStringList list)
{
    list.sort();
    return list;
}

Stream sampleStream()
{
    Stream stream;
    stream.sid = kStream;
    stream.uniqueName = QStringLiteral("orders");
    stream.accountSid = kAccount;
    stream.serviceSid = kService;
    stream.createdBy = QStringLiteral("system");
    stream.dateCreated = 1'709'251'199;
    stream.dateUpdated = 1'709'251'200;
    stream.dateExpires = 1'709'254'799;
    return stream;
}

Service sampleService()
{
    Service service;
    service.sid = kService;
    service.uniqueName = QStringLiteral("default");
    service.accountSid = kAccount;
    service.friendlyName = QStringLiteral("Default Service");
    service.webhookUrl = QStringLiteral("https://example.com/hook");
    service.reachabilityWebhooksEnabled = true;
    service.aclEnabled = false;
    service.reachabilityDebouncingEnabled = true;
    service.reachabilityDebouncingWindowMs = 12'000;
    service.webhooksFromRestEnabled = true;
    service.dateCreated = 951'782'400;
    service.dateUpdated = 1'795'000'000;
    return service;
}
} // namespace

class TestRestJson final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void formatDate_data();
    void formatDate();
    void parseDateRoundTrip_data();
    void parseDateRoundTrip();
    void parseDateRejects_data();
    void parseDateRejects();
    void parseDateIgnoresLocalZone_data();
    void parseDateIgnoresLocalZone();
    void urls();
    void streamJson();
    void streamJsonNulls();
    void streamRoundTrip();
    void serviceJson();
    void serviceJsonNulls();
    void serviceRoundTrip();
    void messageJson();
    void listJson_data();
    void listJson();
};

void TestRestJson::formatDate_data()
{
    QTest::addColumn<qint64>("seconds");
    QTest::addColumn<QString>("expected");

    QTest::addRow("epoch") << qint64(0) << QStringLiteral("1970-01-01T00:00:00Z");
    QTest::addRow("before the epoch") << qint64(-1) << QStringLiteral("1969-12-31T23:59:59Z");
    QTest::addRow("leap day 2000") << qint64(951'782'400) << QStringLiteral("2000-02-29T00:00:00Z");
    QTest::addRow("leap day 2024, last second")
        << qint64(1'709'251'199) << QStringLiteral("2024-02-29T23:59:59Z");
    QTest::addRow("end of 1999") << qint64(946'684'799) << QStringLiteral("1999-12-31T23:59:59Z");
    QTest::addRow("past 2^31") << qint64(2'147'483'648) << QStringLiteral("2038-01-19T03:14:08Z");
    QTest::addRow("2100 is not a leap year")
        << qint64(4'107'542'400) << QStringLiteral("2100-03-01T00:00:00Z");
    QTest::addRow("manual clock default")
        << qint64(1'795'000'000) << QStringLiteral("2026-11-18T11:06:40Z");
}

void TestRestJson::formatDate()
{
    QFETCH(qint64, seconds);
    QFETCH(QString, expected);
    const QString formatted = restjson::formatDate(seconds);
    QCOMPARE(formatted, expected);
    QCOMPARE(formatted.size(), 20);
}

void TestRestJson::parseDateRoundTrip_data()
{
    formatDate_data();
}

void TestRestJson::parseDateRoundTrip()
{
    QFETCH(qint64, seconds);
    QFETCH(QString, expected);
    QCOMPARE(restjson::parseDate(expected), std::optional<qint64>(seconds));
    QCOMPARE(restjson::parseDate(restjson::formatDate(seconds)), std::optional<qint64>(seconds));
}

void TestRestJson::parseDateRejects_data()
{
    QTest::addColumn<QString>("text");

    QTest::addRow("empty") << QString();
    QTest::addRow("no zone") << QStringLiteral("2024-02-29T23:59:59");
    QTest::addRow("offset instead of Z") << QStringLiteral("2024-02-29T23:59:59+00:00");
    QTest::addRow("milliseconds") << QStringLiteral("2024-02-29T23:59:59.000Z");
    QTest::addRow("space separator") << QStringLiteral("2024-02-29 23:59:59Z");
    QTest::addRow("other letter as separator") << QStringLiteral("2024-02-29X23:59:59Z");
    QTest::addRow("lowercase t and z") << QStringLiteral("2024-02-29t23:59:59z");
    QTest::addRow("date only") << QStringLiteral("2024-02-29");
    QTest::addRow("unpadded month") << QStringLiteral("2024-2-29T23:59:59ZZ");
    QTest::addRow("space-padded second") << QStringLiteral("2024-02-29T23:59: 9Z");
    QTest::addRow("leading space") << QStringLiteral(" 2024-02-29T23:59:59Z");
    QTest::addRow("trailing space") << QStringLiteral("2024-02-29T23:59:59Z ");
    QTest::addRow("RFC 2822") << QStringLiteral("Thu, 29 Feb 2024 23:59:59 +0000");
    QTest::addRow("29 Feb in a common year") << QStringLiteral("2023-02-29T00:00:00Z");
    QTest::addRow("30 Feb") << QStringLiteral("2024-02-30T00:00:00Z");
    QTest::addRow("month 13") << QStringLiteral("2024-13-01T00:00:00Z");
    QTest::addRow("hour 24") << QStringLiteral("2024-01-01T24:00:00Z");
    QTest::addRow("minute 60") << QStringLiteral("2024-01-01T00:60:00Z");
    QTest::addRow("leap second") << QStringLiteral("2016-12-31T23:59:60Z");
    QTest::addRow("signed year") << QStringLiteral("+024-02-29T23:59:59Z");
    QTest::addRow("epoch seconds") << QStringLiteral("1709251199");
}

void TestRestJson::parseDateRejects()
{
    QFETCH(QString, text);
    const std::optional<qint64> parsed = restjson::parseDate(text);
    QVERIFY2(!parsed, qPrintable(QString::number(parsed.value_or(0))));
}

void TestRestJson::parseDateIgnoresLocalZone_data()
{
    QTest::addColumn<QByteArray>("zone");
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("expected");

    // Instants that do not exist (or exist twice) as local wall-clock times somewhere. The text
    // is UTC, so the process's zone must not matter.
    QTest::addRow("New York spring-forward gap")
        << QByteArray("America/New_York") << QStringLiteral("2024-03-10T02:30:00Z")
        << qint64(1'710'037'800);
    QTest::addRow("Berlin spring-forward gap")
        << QByteArray("Europe/Berlin") << QStringLiteral("2024-03-31T02:30:00Z")
        << qint64(1'711'852'200);
    QTest::addRow("Apia skipped 30 Dec 2011")
        << QByteArray("Pacific/Apia") << QStringLiteral("2011-12-30T12:00:00Z")
        << qint64(1'325'246'400);
    QTest::addRow("New York fall-back overlap")
        << QByteArray("America/New_York") << QStringLiteral("2024-11-03T01:30:00Z")
        << qint64(1'730'597'400);
    QTest::addRow("Kathmandu ordinary time")
        << QByteArray("Asia/Kathmandu") << QStringLiteral("2024-02-29T23:59:59Z")
        << qint64(1'709'251'199);
}

void TestRestJson::parseDateIgnoresLocalZone()
{
    QFETCH(QByteArray, zone);
    QFETCH(QString, text);
    QFETCH(qint64, expected);

    const QByteArray previous = qgetenv("TZ");
    const bool hadPrevious = qEnvironmentVariableIsSet("TZ");
    const auto restore = qScopeGuard([&] {
        if (hadPrevious)
            qputenv("TZ", previous);
        else
            qunsetenv("TZ");
        tzset();
    });
    qputenv("TZ", zone);
    tzset();

    QCOMPARE(restjson::parseDate(text), std::optional<qint64>(expected));
    QCOMPARE(restjson::formatDate(expected), text);
}

void TestRestJson::urls()
{
    QCOMPARE(restjson::serviceUrl(kBase, kService),
        QStringLiteral("http://127.0.0.1:4567/v1/Services/") + kService);
    QCOMPARE(restjson::streamUrl(kBase, kService, kStream),
        QStringLiteral("http://127.0.0.1:4567/v1/Services/") + kService
            + QStringLiteral("/Streams/") + kStream);
    QCOMPARE(restjson::serviceUrl(QStringLiteral("https://sync.twilio.com"), kService),
        QStringLiteral("https://sync.twilio.com/v1/Services/") + kService);
}

void TestRestJson::streamJson()
{
    const QJsonObject json = restjson::streamJson(sampleStream(), kBase);
    QCOMPARE(sortedKeys(json),
        sorted({QStringLiteral("sid"), QStringLiteral("unique_name"), QStringLiteral("account_sid"),
            QStringLiteral("service_sid"), QStringLiteral("url"), QStringLiteral("links"),
            QStringLiteral("date_expires"), QStringLiteral("date_created"),
            QStringLiteral("date_updated"), QStringLiteral("created_by")}));
    const QString url = QStringLiteral("http://127.0.0.1:4567/v1/Services/") + kService
        + QStringLiteral("/Streams/") + kStream;
    QCOMPARE(json.value(QStringLiteral("sid")).toString(), kStream);
    QCOMPARE(json.value(QStringLiteral("unique_name")).toString(), QStringLiteral("orders"));
    QCOMPARE(json.value(QStringLiteral("account_sid")).toString(), kAccount);
    QCOMPARE(json.value(QStringLiteral("service_sid")).toString(), kService);
    QCOMPARE(json.value(QStringLiteral("url")).toString(), url);
    QCOMPARE(json.value(QStringLiteral("links")).toObject(),
        QJsonObject({{QStringLiteral("messages"), url + QStringLiteral("/Messages")}}));
    QCOMPARE(json.value(QStringLiteral("date_created")).toString(),
        QStringLiteral("2024-02-29T23:59:59Z"));
    QCOMPARE(json.value(QStringLiteral("date_updated")).toString(),
        QStringLiteral("2024-03-01T00:00:00Z"));
    QCOMPARE(json.value(QStringLiteral("date_expires")).toString(),
        QStringLiteral("2024-03-01T00:59:59Z"));
    QCOMPARE(json.value(QStringLiteral("created_by")).toString(), QStringLiteral("system"));
}

void TestRestJson::streamJsonNulls()
{
    Stream stream = sampleStream();
    stream.uniqueName = QString();
    stream.dateExpires.reset();
    const QJsonObject json = restjson::streamJson(stream, kBase);
    QVERIFY(json.contains(QStringLiteral("unique_name")));
    QVERIFY(json.value(QStringLiteral("unique_name")).isNull());
    QVERIFY(json.contains(QStringLiteral("date_expires")));
    QVERIFY(json.value(QStringLiteral("date_expires")).isNull());
    QCOMPARE(restjson::streamFromJson(json), stream);
}

void TestRestJson::streamRoundTrip()
{
    const Stream stream = sampleStream();
    const QJsonObject json = restjson::streamJson(stream, kBase);
    // Through text, as a client sees it.
    const QJsonObject parsed =
        QJsonDocument::fromJson(QJsonDocument(json).toJson(QJsonDocument::Compact)).object();
    QCOMPARE(restjson::streamFromJson(parsed), stream);
}

void TestRestJson::serviceJson()
{
    const QJsonObject json = restjson::serviceJson(sampleService(), kBase);
    QCOMPARE(sortedKeys(json),
        sorted({QStringLiteral("sid"), QStringLiteral("unique_name"), QStringLiteral("account_sid"),
            QStringLiteral("friendly_name"), QStringLiteral("date_created"),
            QStringLiteral("date_updated"), QStringLiteral("url"), QStringLiteral("webhook_url"),
            QStringLiteral("webhooks_from_rest_enabled"),
            QStringLiteral("reachability_webhooks_enabled"), QStringLiteral("acl_enabled"),
            QStringLiteral("reachability_debouncing_enabled"),
            QStringLiteral("reachability_debouncing_window"), QStringLiteral("links")}));
    const QString url = QStringLiteral("http://127.0.0.1:4567/v1/Services/") + kService;
    QCOMPARE(json.value(QStringLiteral("sid")).toString(), kService);
    QCOMPARE(json.value(QStringLiteral("unique_name")).toString(), QStringLiteral("default"));
    QCOMPARE(json.value(QStringLiteral("account_sid")).toString(), kAccount);
    QCOMPARE(
        json.value(QStringLiteral("friendly_name")).toString(), QStringLiteral("Default Service"));
    QCOMPARE(json.value(QStringLiteral("date_created")).toString(),
        QStringLiteral("2000-02-29T00:00:00Z"));
    QCOMPARE(json.value(QStringLiteral("date_updated")).toString(),
        QStringLiteral("2026-11-18T11:06:40Z"));
    QCOMPARE(json.value(QStringLiteral("url")).toString(), url);
    QCOMPARE(json.value(QStringLiteral("webhook_url")).toString(),
        QStringLiteral("https://example.com/hook"));
    QCOMPARE(json.value(QStringLiteral("webhooks_from_rest_enabled")), QJsonValue(true));
    QCOMPARE(json.value(QStringLiteral("reachability_webhooks_enabled")), QJsonValue(true));
    QCOMPARE(json.value(QStringLiteral("acl_enabled")), QJsonValue(false));
    QCOMPARE(json.value(QStringLiteral("reachability_debouncing_enabled")), QJsonValue(true));
    QCOMPARE(json.value(QStringLiteral("reachability_debouncing_window")), QJsonValue(12000));
    QCOMPARE(json.value(QStringLiteral("links")).toObject(),
        QJsonObject({{QStringLiteral("documents"), url + QStringLiteral("/Documents")},
            {QStringLiteral("lists"), url + QStringLiteral("/Lists")},
            {QStringLiteral("maps"), url + QStringLiteral("/Maps")},
            {QStringLiteral("streams"), url + QStringLiteral("/Streams")}}));
}

void TestRestJson::serviceJsonNulls()
{
    Service service = sampleService();
    service.uniqueName = QString();
    service.friendlyName = QString();
    service.webhookUrl = QString();
    const QJsonObject json = restjson::serviceJson(service, kBase);
    for (const char *key : {"unique_name", "friendly_name", "webhook_url"}) {
        QVERIFY2(json.contains(QLatin1StringView(key)), key);
        QVERIFY2(json.value(QLatin1StringView(key)).isNull(), key);
    }
    QCOMPARE(restjson::serviceFromJson(json), service);
}

void TestRestJson::serviceRoundTrip()
{
    const Service service = sampleService();
    const QJsonObject parsed = QJsonDocument::fromJson(
        QJsonDocument(restjson::serviceJson(service, kBase)).toJson(QJsonDocument::Compact))
                                   .object();
    QCOMPARE(restjson::serviceFromJson(parsed), service);
}

void TestRestJson::messageJson()
{
    const StreamMessage message{QStringLiteral("TZ0123456789abcdef0123456789abcdef"), kService,
        kStream, QByteArray("{\"a\":1,\"b\":\"\xC3\xA9\"}")};
    const QJsonObject json = restjson::messageJson(message);
    QCOMPARE(sortedKeys(json), sorted({QStringLiteral("sid"), QStringLiteral("data")}));
    QCOMPARE(json.value(QStringLiteral("sid")).toString(), message.sid);
    QCOMPARE(json.value(QStringLiteral("data")).toObject(),
        QJsonObject(
            {{QStringLiteral("a"), 1}, {QStringLiteral("b"), QString::fromUtf8("\xC3\xA9")}}));
}

void TestRestJson::listJson_data()
{
    using OptString = std::optional<QString>;
    QTest::addColumn<int>("page");
    QTest::addColumn<int>("pageSize");
    QTest::addColumn<OptString>("token");
    QTest::addColumn<OptString>("next");
    QTest::addColumn<OptString>("previous");
    QTest::addColumn<QJsonValue>("expectedUrl");
    QTest::addColumn<QJsonValue>("expectedNext");
    QTest::addColumn<QJsonValue>("expectedPrevious");

    const QString list = QStringLiteral("http://127.0.0.1:4567/v1/Services/") + kService
        + QStringLiteral("/Streams");
    const QJsonValue null(QJsonValue::Null);
    const OptString none;
    QTest::addRow("only page") << 0 << 50 << none << none << none
                               << QJsonValue(list + QStringLiteral("?PageSize=50&Page=0")) << null
                               << null;
    QTest::addRow("first of several")
        << 0 << 2 << none << OptString(QStringLiteral("PA0000000000000002")) << none
        << QJsonValue(list + QStringLiteral("?PageSize=2&Page=0"))
        << QJsonValue(list + QStringLiteral("?PageSize=2&Page=1&PageToken=PA0000000000000002"))
        << null;
    QTest::addRow("middle")
        << 1 << 2 << OptString(QStringLiteral("PA0000000000000002"))
        << OptString(QStringLiteral("PA0000000000000004"))
        << OptString(QStringLiteral("PB0000000000000003"))
        << QJsonValue(list + QStringLiteral("?PageSize=2&Page=1&PageToken=PA0000000000000002"))
        << QJsonValue(list + QStringLiteral("?PageSize=2&Page=2&PageToken=PA0000000000000004"))
        << QJsonValue(list + QStringLiteral("?PageSize=2&Page=0&PageToken=PB0000000000000003"));
    QTest::addRow("last")
        << 2 << 100 << OptString(QStringLiteral("PA00000000000000c8")) << none
        << OptString(QStringLiteral("PB00000000000000c9"))
        << QJsonValue(list + QStringLiteral("?PageSize=100&Page=2&PageToken=PA00000000000000c8"))
        << null
        << QJsonValue(list + QStringLiteral("?PageSize=100&Page=1&PageToken=PB00000000000000c9"));
}

void TestRestJson::listJson()
{
    using OptString = std::optional<QString>;
    QFETCH(int, page);
    QFETCH(int, pageSize);
    QFETCH(OptString, token);
    QFETCH(OptString, next);
    QFETCH(OptString, previous);
    QFETCH(QJsonValue, expectedUrl);
    QFETCH(QJsonValue, expectedNext);
    QFETCH(QJsonValue, expectedPrevious);

    const QString list = QStringLiteral("http://127.0.0.1:4567/v1/Services/") + kService
        + QStringLiteral("/Streams");
    const QJsonArray items{restjson::streamJson(sampleStream(), kBase)};
    const QJsonObject json = restjson::listJson(
        QStringLiteral("streams"), items, list, page, pageSize, token, next, previous);
    QCOMPARE(sortedKeys(json), sorted({QStringLiteral("streams"), QStringLiteral("meta")}));
    QCOMPARE(json.value(QStringLiteral("streams")).toArray(), items);

    const QJsonObject meta = json.value(QStringLiteral("meta")).toObject();
    QCOMPARE(sortedKeys(meta),
        sorted({QStringLiteral("page"), QStringLiteral("page_size"),
            QStringLiteral("first_page_url"), QStringLiteral("previous_page_url"),
            QStringLiteral("url"), QStringLiteral("next_page_url"), QStringLiteral("key")}));
    QCOMPARE(meta.value(QStringLiteral("page")), QJsonValue(page));
    QCOMPARE(meta.value(QStringLiteral("page_size")), QJsonValue(pageSize));
    QCOMPARE(meta.value(QStringLiteral("key")), QJsonValue(QStringLiteral("streams")));
    QCOMPARE(meta.value(QStringLiteral("first_page_url")),
        QJsonValue(list + QStringLiteral("?PageSize=%1&Page=0").arg(pageSize)));
    QCOMPARE(meta.value(QStringLiteral("url")), expectedUrl);
    QCOMPARE(meta.value(QStringLiteral("next_page_url")), expectedNext);
    QCOMPARE(meta.value(QStringLiteral("previous_page_url")), expectedPrevious);
}

QTEST_GUILESS_MAIN(TestRestJson)
#include "tst_restjson.moc"
