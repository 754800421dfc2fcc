#include "api/sid.h"
#include "engine/engine.h"
#include "engine/expiryscheduler.h"
#include "engine/streamstore.h"
#include "manualclock.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLockFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <memory>
#include <sys/stat.h>

using namespace streams;
using namespace Qt::StringLiterals;

namespace QTest {
template<>
char *toString(const std::optional<qint64> &t)
{
    return t ? QTest::toString(*t) : qstrdup("nullopt");
}
} // namespace QTest

namespace {
constexpr qint64 kStartSeconds = 1'795'000'000;
constexpr qint64 kStartMs = kStartSeconds * 1000;

const QString kEnvAccount = QStringLiteral("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
const QString kEnvToken = QStringLiteral("env-auth-token-0123456789");
const QString kEnvKey = QStringLiteral("SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
const QString kEnvSecret = QStringLiteral("env-api-secret-9876543210");

int modeOf(const QString &path)
{
    struct stat info
    {
    };
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return -1;
    return int(info.st_mode & 07777);
}

// A compact JSON object of exactly `bytes` bytes, mostly 3-byte characters.
QByteArray payloadOfSize(qsizetype bytes)
{
    const QByteArray open = "{\"k\":\"", close = "\"}";
    const qsizetype room = bytes - open.size() - close.size();
    return open + QByteArray("\xE2\x82\xAC").repeated(room / 3) + QByteArray(room % 3, 'a') + close;
}

QString errorText(const ApiError &error)
{
    return QStringLiteral("%1 (%2): %3")
        .arg(error.code())
        .arg(error.httpStatus())
        .arg(error.message());
}
} // namespace

// Each evaluates `result` exactly once: it is often a call with side effects.
#define VERIFY_OK(result)                                                                          \
    do {                                                                                           \
        const auto &r_ = (result);                                                                 \
        QVERIFY2(r_.has_value(), qPrintable(r_.has_value() ? QString() : errorText(r_.error())));  \
    } while (false)

#define VERIFY_ERROR(result, expectedCode, expectedStatus)                                         \
    do {                                                                                           \
        const auto &r_ = (result);                                                                 \
        QVERIFY2(!r_.has_value(), "expected an error, got success");                               \
        QCOMPARE(r_.error().code(), expectedCode);                                                 \
        QCOMPARE(r_.error().httpStatus(), expectedStatus);                                         \
    } while (false)

class TestEngine final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void openNeedsADataDir();
    void defaultService();
    void deletedDefaultServiceIsProvisionedAgain();
    void serviceLifecycle();
    void serviceFieldValidation_data();
    void serviceFieldValidation();
    void streamLifecycle();
    void streamByNameAndAcrossServices();
    void createStreamValidation_data();
    void createStreamValidation();
    void updateStreamTtl_data();
    void updateStreamTtl();
    void listStreams();
    void deleteServiceDeletesStreamsAndNotifies();
    void expiredStreamIsGoneBeforeTheSweep();
    void expiredUniqueNameCanBeReused();
    void expirySweepNotifiesSubscribers();
    void expiryTimerFires();
    void publishDelivers();
    void publishValidationOrder_data();
    void publishValidationOrder();
    void refusedPublishesCostNoToken();
    void unlimitedPublishRate();
    void subscribeToMissingStream();
    void secondOpenOnTheSameDirFails();
    void staleLockFromACrashedEngineIsTakenOver();
    void unreadableCredentialsFile_data();
    void unreadableCredentialsFile();
    void credentialsAreGeneratedOnce_data();
    void credentialsAreGeneratedOnce();
    void environmentOverridesCredentials_data();
    void environmentOverridesCredentials();
    void invalidEnvironmentCredentials_data();
    void invalidEnvironmentCredentials();
    void accepts_data();
    void accepts();

private:
    std::unique_ptr<Engine> open(const QProcessEnvironment &environment = QProcessEnvironment(),
        std::optional<double> rate = limits::kDefaultPublishRatePerSecond);
    QString m_error;

    std::unique_ptr<QTemporaryDir> m_tmp;
    QString m_dataDir;
    std::unique_ptr<ManualClock> m_clock;
};

std::unique_ptr<Engine> TestEngine::open(
    const QProcessEnvironment &environment, std::optional<double> rate)
{
    EngineOptions options;
    options.dataDir = m_dataDir;
    options.environment = environment;
    options.clock = m_clock.get();
    options.publishRatePerSecond = rate;
    options.subscriberQueueCapacity = 100;
    auto engine = Engine::open(options);
    if (!engine) {
        m_error = engine.error();
        return nullptr;
    }
    m_error.clear();
    return std::move(*engine);
}

void TestEngine::init()
{
    m_tmp = std::make_unique<QTemporaryDir>();
    QVERIFY(m_tmp->isValid());
    m_dataDir = m_tmp->filePath(QStringLiteral("data"));
    m_clock = std::make_unique<ManualClock>(kStartMs);
}

void TestEngine::cleanup()
{
    m_tmp.reset();
    m_clock.reset();
}

void TestEngine::openNeedsADataDir()
{
    EngineOptions options;
    options.environment = QProcessEnvironment();
    options.clock = m_clock.get();
    const auto engine = Engine::open(options);
    QVERIFY(!engine);
    QVERIFY2(engine.error().contains(QStringLiteral("data directory")), qPrintable(engine.error()));

    // A data dir that cannot be created (a regular file is in the way).
    QFile blocker(m_tmp->filePath(QStringLiteral("file")));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    m_dataDir = m_tmp->filePath(QStringLiteral("file/data"));
    QVERIFY(!open());
    QVERIFY2(m_error.contains(m_dataDir), qPrintable(m_error));
}

void TestEngine::defaultService()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    QCOMPARE(engine->dataDir(), QDir(m_dataDir).absolutePath());

    const auto byName = engine->fetchService(u"default");
    VERIFY_OK(byName);
    QVERIFY(sid::isValid(byName->sid, SidKind::Service));
    QCOMPARE(byName->uniqueName, QStringLiteral("default"));
    QCOMPARE(byName->friendlyName, QStringLiteral("Default Service"));
    QCOMPARE(byName->accountSid, engine->credentials().accountSid);
    QCOMPARE(byName->dateCreated, kStartSeconds);

    const auto bySid = engine->fetchService(byName->sid);
    VERIFY_OK(bySid);
    QCOMPARE(*bySid, *byName);
    const auto list = engine->listServices(PageRequest{});
    VERIFY_OK(list);
    QCOMPARE(list->items.size(), 1);
    QCOMPARE(list->items.first(), *byName);

    // Streams are addressable through "default" as through the SID.
    const auto stream = engine->createStream(u"default", {QStringLiteral("s"), std::nullopt});
    VERIFY_OK(stream);
    QCOMPARE(stream->serviceSid, byName->sid);
    QCOMPARE(engine->fetchStream(byName->sid, u"s").value(), *stream);

    // The same default service after a restart, not a new one.
    const Service &before = *byName;
    engine.reset();
    m_clock->advanceMs(3'600'000);
    engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    QCOMPARE(engine->fetchService(u"default").value(), before);
    QCOMPARE(engine->fetchStream(u"default", u"s").value(), *stream);
}

void TestEngine::deletedDefaultServiceIsProvisionedAgain()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    const Service original = engine->fetchService(u"default").value();
    VERIFY_OK(engine->createStream(u"default", {QStringLiteral("s"), std::nullopt}));
    VERIFY_OK(engine->deleteService(u"default"));
    VERIFY_ERROR(engine->fetchService(original.sid), 20404, 404);

    const auto again = engine->fetchService(u"default");
    VERIFY_OK(again);
    QVERIFY(again->sid != original.sid);
    VERIFY_ERROR(engine->fetchStream(u"default", u"s"), 20404, 404);
}

void TestEngine::serviceLifecycle()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));

    ServiceFields fields;
    fields.friendlyName = QStringLiteral("Orders");
    fields.webhookUrl = QStringLiteral("https://example.com/hook");
    fields.aclEnabled = true;
    fields.reachabilityDebouncingEnabled = true;
    fields.reachabilityDebouncingWindowMs = 12'000;
    const auto created = engine->createService(fields);
    VERIFY_OK(created);
    QVERIFY(sid::isValid(created->sid, SidKind::Service));
    QVERIFY(created->uniqueName.isNull());
    QCOMPARE(created->accountSid, engine->credentials().accountSid);
    QCOMPARE(created->friendlyName, QStringLiteral("Orders"));
    QCOMPARE(created->webhookUrl, QStringLiteral("https://example.com/hook"));
    QCOMPARE(created->aclEnabled, true);
    QCOMPARE(created->reachabilityDebouncingEnabled, true);
    QCOMPARE(created->reachabilityDebouncingWindowMs, 12'000);
    QCOMPARE(created->reachabilityWebhooksEnabled, false);
    QCOMPARE(created->webhooksFromRestEnabled, false);
    QCOMPARE(created->dateCreated, kStartSeconds);
    QCOMPARE(created->dateUpdated, kStartSeconds);
    QCOMPARE(engine->fetchService(created->sid).value(), *created);

    // Defaults for what was not given.
    const auto plain = engine->createService(ServiceFields{});
    VERIFY_OK(plain);
    QVERIFY(plain->friendlyName.isNull());
    QVERIFY(plain->webhookUrl.isNull());
    QCOMPARE(plain->reachabilityDebouncingWindowMs, limits::kDefaultDebouncingWindowMs);
    QCOMPARE(engine->listServices(PageRequest{})->items.size(), 3);

    // An update changes what it names and nothing else.
    m_clock->advanceMs(5'000);
    ServiceFields change;
    change.friendlyName = QStringLiteral("Renamed");
    change.aclEnabled = false;
    const auto updated = engine->updateService(created->sid, change);
    VERIFY_OK(updated);
    Service expected = *created;
    expected.friendlyName = QStringLiteral("Renamed");
    expected.aclEnabled = false;
    expected.dateUpdated = kStartSeconds + 5;
    QCOMPARE(*updated, expected);
    QCOMPARE(engine->fetchService(created->sid).value(), expected);

    VERIFY_OK(engine->deleteService(created->sid));
    VERIFY_ERROR(engine->fetchService(created->sid), 20404, 404);
    VERIFY_ERROR(engine->deleteService(created->sid), 20404, 404);
    VERIFY_ERROR(engine->updateService(created->sid, change), 20404, 404);
    VERIFY_ERROR(engine->fetchService(u"no-such-service"), 20404, 404);
    QCOMPARE(engine->listServices(PageRequest{})->items.size(), 2);
}

void TestEngine::serviceFieldValidation_data()
{
    QTest::addColumn<std::optional<int>>("window");
    QTest::addColumn<std::optional<QString>>("webhookUrl");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("parameter");

    const std::optional<int> noWindow;
    const std::optional<QString> noUrl;
    QTest::addRow("window 999") << std::optional<int>(999) << noUrl << false
                                << QStringLiteral("ReachabilityDebouncingWindow");
    QTest::addRow("window 1000") << std::optional<int>(1000) << noUrl << true << QString();
    QTest::addRow("window 30000") << std::optional<int>(30'000) << noUrl << true << QString();
    QTest::addRow("window 30001") << std::optional<int>(30'001) << noUrl << false
                                  << QStringLiteral("ReachabilityDebouncingWindow");
    QTest::addRow("window 0") << std::optional<int>(0) << noUrl << false
                              << QStringLiteral("ReachabilityDebouncingWindow");
    QTest::addRow("window -5000") << std::optional<int>(-5000) << noUrl << false
                                  << QStringLiteral("ReachabilityDebouncingWindow");

    const auto url = [](const char *text) {
        return std::optional<QString>(QString::fromUtf8(text));
    };
    QTest::addRow("https url") << noWindow << url("https://example.com/hook") << true << QString();
    QTest::addRow("http url with port and query")
        << noWindow << url("http://127.0.0.1:8080/sync?x=1") << true << QString();
    QTest::addRow("empty url (clears)") << noWindow << url("") << true << QString();
    QTest::addRow("ftp url") << noWindow << url("ftp://example.com/hook") << false
                             << QStringLiteral("WebhookUrl");
    QTest::addRow("no scheme") << noWindow << url("example.com/hook") << false
                               << QStringLiteral("WebhookUrl");
    QTest::addRow("no host") << noWindow << url("https://") << false
                             << QStringLiteral("WebhookUrl");
    QTest::addRow("empty host with path")
        << noWindow << url("http:///hook") << false << QStringLiteral("WebhookUrl");
    QTest::addRow("not a url") << noWindow << url("not a url") << false
                               << QStringLiteral("WebhookUrl");
    QTest::addRow("javascript") << noWindow << url("javascript:alert(1)") << false
                                << QStringLiteral("WebhookUrl");
    QTest::addRow("relative path")
        << noWindow << url("/hook") << false << QStringLiteral("WebhookUrl");
}

void TestEngine::serviceFieldValidation()
{
    QFETCH(std::optional<int>, window);
    QFETCH(std::optional<QString>, webhookUrl);
    QFETCH(bool, valid);
    QFETCH(QString, parameter);

    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    ServiceFields fields;
    fields.reachabilityDebouncingWindowMs = window;
    fields.webhookUrl = webhookUrl;

    const Service before = engine->fetchService(u"default").value();
    const auto created = engine->createService(fields);
    const auto updated = engine->updateService(u"default", fields);
    if (valid) {
        VERIFY_OK(created);
        VERIFY_OK(updated);
        if (window) {
            QCOMPARE(created->reachabilityDebouncingWindowMs, *window);
            QCOMPARE(engine->fetchService(u"default")->reachabilityDebouncingWindowMs, *window);
        }
        if (webhookUrl)
            QCOMPARE(engine->fetchService(created->sid)->webhookUrl, *webhookUrl);
    } else {
        VERIFY_ERROR(created, 20400, 400);
        VERIFY_ERROR(updated, 20400, 400);
        QVERIFY2(
            created.error().message().contains(parameter), qPrintable(created.error().message()));
        // Nothing was created or changed.
        QCOMPARE(engine->listServices(PageRequest{})->items.size(), 1);
        QCOMPARE(engine->fetchService(u"default").value(), before);
    }
}

void TestEngine::streamLifecycle()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    QSignalSpy removed(engine.get(), &Engine::streamRemoved);
    const Service service = engine->fetchService(u"default").value();

    const auto created = engine->createStream(u"default", {QStringLiteral("orders"), qint64(3600)});
    VERIFY_OK(created);
    QVERIFY(sid::isValid(created->sid, SidKind::Stream));
    QCOMPARE(created->uniqueName, QStringLiteral("orders"));
    QCOMPARE(created->serviceSid, service.sid);
    QCOMPARE(created->accountSid, service.accountSid);
    QCOMPARE(created->createdBy, QStringLiteral("system"));
    QCOMPARE(created->dateCreated, kStartSeconds);
    QCOMPARE(created->dateUpdated, kStartSeconds);
    QCOMPARE(created->dateExpires, std::optional<qint64>(kStartSeconds + 3600));
    QCOMPARE(engine->expiryScheduler().armedFor(), std::optional<qint64>(kStartSeconds + 3600));

    QCOMPARE(engine->fetchStream(u"default", created->sid).value(), *created);
    QCOMPARE(engine->fetchStream(service.sid, u"orders").value(), *created);

    const auto unnamed =
        engine->createStream(u"default", {std::nullopt, std::nullopt, QStringLiteral("alice")});
    VERIFY_OK(unnamed);
    QVERIFY(unnamed->uniqueName.isNull());
    QCOMPARE(unnamed->dateExpires, std::nullopt);
    QCOMPARE(unnamed->createdBy, QStringLiteral("alice"));

    VERIFY_OK(engine->deleteStream(u"default", u"orders"));
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.at(0).at(0).toString(), service.sid);
    QCOMPARE(removed.at(0).at(1).toString(), created->sid);
    VERIFY_ERROR(engine->fetchStream(u"default", created->sid), 20404, 404);
    VERIFY_ERROR(engine->fetchStream(u"default", u"orders"), 20404, 404);
    VERIFY_ERROR(engine->deleteStream(u"default", created->sid), 20404, 404);
    QCOMPARE(removed.size(), 1);
    VERIFY_ERROR(engine->createStream(u"no-such-service", {}), 20404, 404);
    VERIFY_ERROR(engine->fetchStream(u"no-such-service", unnamed->sid), 20404, 404);
}

void TestEngine::streamByNameAndAcrossServices()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    const Service other = engine->createService(ServiceFields{}).value();

    VERIFY_OK(engine->createStream(u"default", {QStringLiteral("orders"), std::nullopt}));
    const auto duplicate =
        engine->createStream(u"default", {QStringLiteral("orders"), std::nullopt});
    VERIFY_ERROR(duplicate, 54301, 409);
    const auto elsewhere =
        engine->createStream(other.sid, {QStringLiteral("orders"), std::nullopt});
    VERIFY_OK(elsewhere);
    QCOMPARE(engine->fetchStream(other.sid, u"orders").value(), *elsewhere);
    // A stream is only found through its own service.
    VERIFY_ERROR(engine->fetchStream(u"default", elsewhere->sid), 20404, 404);
}

void TestEngine::createStreamValidation_data()
{
    QTest::addColumn<std::optional<QString>>("name");
    QTest::addColumn<std::optional<qint64>>("ttl");
    QTest::addColumn<int>("code"); // 0 = created
    QTest::addColumn<std::optional<qint64>>("expiresAfter");

    const std::optional<QString> noName;
    const std::optional<qint64> never;
    const auto name = [](const QString &text) { return std::optional<QString>(text); };
    const auto ttl = [](qint64 seconds) { return std::optional<qint64>(seconds); };
    QTest::addRow("nothing") << noName << never << 0 << never;
    QTest::addRow("ttl 0 means never") << noName << ttl(0) << 0 << never;
    QTest::addRow("ttl 1") << noName << ttl(1) << 0 << ttl(1);
    QTest::addRow("ttl one year") << noName << ttl(31'536'000) << 0 << ttl(31'536'000);
    QTest::addRow("ttl one year + 1") << noName << ttl(31'536'001) << 54011 << never;
    QTest::addRow("ttl -1") << noName << ttl(-1) << 54011 << never;
    QTest::addRow("empty name") << name(QString()) << never << 54302 << never;
    QTest::addRow("320-char name") << name(QString(320, u'n')) << never << 0 << never;
    QTest::addRow("321-char name") << name(QString(321, u'n')) << never << 54302 << never;
    QTest::addRow("SID-shaped name")
        << name(QStringLiteral("TO0123456789abcdef0123456789abcdef")) << never << 54302 << never;
    QTest::addRow("bad name and bad ttl: name first")
        << name(QString()) << ttl(-1) << 54302 << never;
}

void TestEngine::createStreamValidation()
{
    QFETCH(std::optional<QString>, name);
    QFETCH(std::optional<qint64>, ttl);
    QFETCH(int, code);
    QFETCH(std::optional<qint64>, expiresAfter);

    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    const auto created = engine->createStream(u"default", {name, ttl});
    if (code == 0) {
        VERIFY_OK(created);
        QCOMPARE(created->dateExpires,
            expiresAfter ? std::optional<qint64>(kStartSeconds + *expiresAfter) : std::nullopt);
        QCOMPARE(engine->store().streamCount().value(), qint64(1));
    } else {
        VERIFY_ERROR(created, code, 400);
        QCOMPARE(engine->store().streamCount().value(), qint64(0));
    }
}

void TestEngine::updateStreamTtl_data()
{
    QTest::addColumn<std::optional<qint64>>("ttl");
    QTest::addColumn<int>("code");
    QTest::addColumn<std::optional<qint64>>("expiresAfter"); // from the time of the update

    const std::optional<qint64> none;
    QTest::addRow("60") << std::optional<qint64>(60) << 0 << std::optional<qint64>(60);
    QTest::addRow("one year") << std::optional<qint64>(31'536'000) << 0
                              << std::optional<qint64>(31'536'000);
    QTest::addRow("0 clears the expiry") << std::optional<qint64>(0) << 0 << none;
    QTest::addRow("no parameter") << none << 54010 << none;
    QTest::addRow("-1") << std::optional<qint64>(-1) << 54011 << none;
    QTest::addRow("one year + 1") << std::optional<qint64>(31'536'001) << 54011 << none;
}

void TestEngine::updateStreamTtl()
{
    QFETCH(std::optional<qint64>, ttl);
    QFETCH(int, code);
    QFETCH(std::optional<qint64>, expiresAfter);

    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    const Stream created =
        engine->createStream(u"default", {QStringLiteral("s"), qint64(50)}).value();
    m_clock->advanceMs(40'000); // the update counts from now, not from creation
    const qint64 now = kStartSeconds + 40;

    const auto updated = engine->updateStream(u"default", u"s", ttl);
    if (code) {
        VERIFY_ERROR(updated, code, 400);
        QCOMPARE(engine->fetchStream(u"default", u"s").value(), created);
        return;
    }
    VERIFY_OK(updated);
    QCOMPARE(updated->dateUpdated, now);
    QCOMPARE(updated->dateCreated, kStartSeconds);
    QCOMPARE(updated->dateExpires,
        expiresAfter ? std::optional<qint64>(now + *expiresAfter) : std::nullopt);
    QCOMPARE(engine->fetchStream(u"default", created.sid).value(), *updated);
    QCOMPARE(engine->store().nextExpiry().value(), updated->dateExpires);

    // The old expiry (creation + 50 s) no longer applies.
    m_clock->setNowMs((kStartSeconds + 50) * 1000);
    engine->expiryScheduler().sweep();
    VERIFY_OK(engine->fetchStream(u"default", created.sid));
}

void TestEngine::listStreams()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    QStringList sids;
    for (int i = 0; i < 5; ++i)
        sids.append(engine->createStream(u"default", {}).value().sid);

    PageRequest request;
    request.pageSize = 2;
    QStringList seen;
    for (int page = 0; page < 3; ++page) {
        request.page = page;
        const auto result = engine->listStreams(u"default", request);
        VERIFY_OK(result);
        for (const Stream &s : result->items)
            seen.append(s.sid);
        QCOMPARE(result->nextPageToken.has_value(), page < 2);
        if (result->nextPageToken)
            request.pageToken = *result->nextPageToken;
    }
    QCOMPARE(seen, sids);
    VERIFY_ERROR(engine->listStreams(u"no-such-service", PageRequest{}), 20404, 404);
    request.pageToken = QStringLiteral("bogus");
    VERIFY_ERROR(engine->listStreams(u"default", request), 21481, 400);
}

void TestEngine::deleteServiceDeletesStreamsAndNotifies()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    const Service doomed = engine->createService(ServiceFields{}).value();
    QSet<QString> doomedSids;
    for (int i = 0; i < 3; ++i)
        doomedSids.insert(engine->createStream(doomed.sid, {}).value().sid);
    const Stream kept = engine->createStream(u"default", {}).value();
    const QString watched = *doomedSids.cbegin();

    int wakes = 0;
    auto subscription = engine->subscribe(doomed.sid, watched, [&wakes] { ++wakes; });
    VERIFY_OK(subscription);
    auto keptSubscription = engine->subscribe(u"default", kept.sid, {});
    VERIFY_OK(keptSubscription);
    QSignalSpy removed(engine.get(), &Engine::streamRemoved);

    VERIFY_OK(engine->deleteService(doomed.sid));

    QCOMPARE(removed.size(), 3);
    QSet<QString> removedSids;
    for (const QList<QVariant> &args : std::as_const(removed)) {
        QCOMPARE(args.at(0).toString(), doomed.sid);
        removedSids.insert(args.at(1).toString());
    }
    QCOMPARE(removedSids, doomedSids);
    QCOMPARE(wakes, 1);
    QVERIFY((*subscription)->drain().streamRemoved);
    QVERIFY(!(*keptSubscription)->drain().streamRemoved);
    QCOMPARE(engine->hub().subscriberCount(watched), 0);
    QCOMPARE(engine->hub().subscriberCount(kept.sid), 1);
    QCOMPARE(engine->store().streamCount().value(), qint64(1));
    VERIFY_ERROR(engine->fetchStream(doomed.sid, watched), 20404, 404);
    VERIFY_OK(engine->fetchStream(u"default", kept.sid));
}

void TestEngine::expiredStreamIsGoneBeforeTheSweep()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    const Stream stream =
        engine->createStream(u"default", {QStringLiteral("s"), qint64(10)}).value();
    QSignalSpy removed(engine.get(), &Engine::streamRemoved);

    m_clock->setNowMs(kStartMs + 9'999);
    VERIFY_OK(engine->fetchStream(u"default", stream.sid));
    QCOMPARE(engine->listStreams(u"default", PageRequest{})->items.size(), 1);

    // No event loop runs here, so the expiry timer cannot have fired: reads must not wait for it.
    m_clock->setNowMs(kStartMs + 10'000);
    VERIFY_ERROR(engine->fetchStream(u"default", stream.sid), 20404, 404);
    VERIFY_ERROR(engine->fetchStream(u"default", u"s"), 20404, 404);
    QCOMPARE(engine->listStreams(u"default", PageRequest{})->items.size(), 0);
    VERIFY_ERROR(engine->publish(u"default", u"s", QByteArrayView("{}")), 20404, 404);
    VERIFY_ERROR(engine->updateStream(u"default", u"s", qint64(60)), 20404, 404);
    VERIFY_ERROR(engine->subscribe(u"default", u"s", {}), 20404, 404);
    QCOMPARE(engine->store().streamCount().value(), qint64(1)); // the row awaits the sweep
    QCOMPARE(removed.size(), 0);
}

void TestEngine::expiredUniqueNameCanBeReused()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    const Stream first =
        engine->createStream(u"default", {QStringLiteral("orders"), qint64(10)}).value();
    QSignalSpy removed(engine.get(), &Engine::streamRemoved);

    m_clock->setNowMs(kStartMs + 9'000);
    VERIFY_ERROR(
        engine->createStream(u"default", {QStringLiteral("orders"), std::nullopt}), 54301, 409);

    m_clock->setNowMs(kStartMs + 10'000);
    const auto second = engine->createStream(u"default", {QStringLiteral("orders"), std::nullopt});
    VERIFY_OK(second);
    QVERIFY(second->sid != first.sid);
    QCOMPARE(engine->fetchStream(u"default", u"orders").value(), *second);
    // The expired one was removed (and announced) to make room.
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.at(0).at(1).toString(), first.sid);
    QCOMPARE(engine->store().streamCount().value(), qint64(1));
}

void TestEngine::expirySweepNotifiesSubscribers()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    const Stream stream = engine->createStream(u"default", {std::nullopt, qint64(30)}).value();
    int wakes = 0;
    auto subscription = engine->subscribe(u"default", stream.sid, [&wakes] { ++wakes; });
    VERIFY_OK(subscription);
    QSignalSpy removed(engine.get(), &Engine::streamRemoved);

    m_clock->setNowMs(kStartMs + 30'000);
    engine->expiryScheduler().sweep();
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.at(0).at(1).toString(), stream.sid);
    QCOMPARE(wakes, 1);
    QVERIFY((*subscription)->drain().streamRemoved);
    QCOMPARE(engine->store().streamCount().value(), qint64(0));
    QCOMPARE(engine->expiryScheduler().armedFor(), std::optional<qint64>());
}

void TestEngine::expiryTimerFires()
{
    // 50 ms of real time before a 1 s TTL runs out.
    m_clock->setNowMs(kStartMs + 950);
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    const Stream stream = engine->createStream(u"default", {std::nullopt, qint64(1)}).value();
    QCOMPARE(stream.dateExpires, std::optional<qint64>(kStartSeconds + 1));
    QSignalSpy removed(engine.get(), &Engine::streamRemoved);

    m_clock->setNowMs(kStartMs + 1000);
    // Nobody calls sweep(): the engine's one timer does.
    QVERIFY(removed.wait(5000));
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.at(0).at(1).toString(), stream.sid);
    QCOMPARE(engine->store().streamCount().value(), qint64(0));
}

void TestEngine::publishDelivers()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    const Stream stream =
        engine->createStream(u"default", {QStringLiteral("s"), std::nullopt}).value();
    const Stream other = engine->createStream(u"default", {}).value();
    auto subscription = engine->subscribe(u"default", u"s", {});
    VERIFY_OK(subscription);
    QCOMPARE((*subscription)->capacity(), 100); // EngineOptions::subscriberQueueCapacity
    auto bigger = engine->subscribe(u"default", u"s", {}, 5000);
    QCOMPARE((*bigger)->capacity(), 5000);
    auto otherSubscription = engine->subscribe(u"default", other.sid, {});

    const auto message =
        engine->publish(u"default", u"s", QByteArrayView("{ \"text\" : \"h\xC3\xA9llo\" }"));
    VERIFY_OK(message);
    QVERIFY(sid::isValid(message->sid, SidKind::Message));
    QCOMPARE(message->streamSid, stream.sid);
    QCOMPARE(message->serviceSid, stream.serviceSid);
    QCOMPARE(message->data, QByteArray("{\"text\":\"h\xC3\xA9llo\"}"));

    const Subscription::Batch batch = (*subscription)->drain();
    QCOMPARE(batch.messages.size(), 1);
    QCOMPARE(batch.messages[0].sid, message->sid);
    QCOMPARE(batch.messages[0].data, message->data);
    QCOMPARE((*bigger)->drain().messages.size(), 1);
    QCOMPARE((*otherSubscription)->pending(), 0);

    // Each publish gets its own SID.
    const auto second = engine->publish(stream.serviceSid, stream.sid, QByteArrayView("{}"));
    VERIFY_OK(second);
    QVERIFY(second->sid != message->sid);

    // The pre-validated overload still enforces the size limit.
    validation::MessagePayload tooBig;
    tooBig.compact = payloadOfSize(4097);
    VERIFY_ERROR(engine->publish(u"default", u"s", tooBig), 54006, 413);
}

void TestEngine::publishValidationOrder_data()
{
    QTest::addColumn<bool>("streamExists");
    QTest::addColumn<bool>("rateExhausted");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("code"); // 0 = published
    QTest::addColumn<int>("status");

    const QByteArray ok = "{\"a\":1}";
    const QByteArray bad = "{\"a\":";
    const QByteArray array = "[1]";
    const QByteArray max = payloadOfSize(4096);
    const QByteArray over = payloadOfSize(4097);
    QTest::addRow("valid") << true << false << ok << 0 << 201;
    QTest::addRow("4096 bytes") << true << false << max << 0 << 201;
    QTest::addRow("4097 bytes") << true << false << over << 54006 << 413;
    QTest::addRow("not JSON") << true << false << bad << 54008 << 400;
    QTest::addRow("not an object") << true << false << array << 54008 << 400;
    QTest::addRow("missing stream") << false << false << ok << 20404 << 404;
    QTest::addRow("not JSON to a missing stream") << false << false << bad << 54008 << 400;
    QTest::addRow("too large to a missing stream") << false << false << over << 54006 << 413;
    QTest::addRow("rate limited") << true << true << ok << 54009 << 429;
    QTest::addRow("not JSON while rate limited") << true << true << bad << 54008 << 400;
    QTest::addRow("too large while rate limited") << true << true << over << 54006 << 413;
}

void TestEngine::publishValidationOrder()
{
    QFETCH(bool, streamExists);
    QFETCH(bool, rateExhausted);
    QFETCH(QByteArray, data);
    QFETCH(int, code);
    QFETCH(int, status);

    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    VERIFY_OK(engine->createStream(u"default", {QStringLiteral("s"), std::nullopt}));
    const QString target = streamExists ? QStringLiteral("s") : QStringLiteral("missing");
    if (rateExhausted) {
        for (int i = 0; i < 300; ++i)
            VERIFY_OK(engine->publish(u"default", u"s", QByteArrayView("{}")));
    }

    const auto published = engine->publish(u"default", target, data);
    if (code == 0) {
        VERIFY_OK(published);
        QCOMPARE(published->data.size(), data.size());
    } else {
        VERIFY_ERROR(published, code, status);
    }
}

void TestEngine::refusedPublishesCostNoToken()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    VERIFY_OK(engine->createStream(u"default", {QStringLiteral("s"), std::nullopt}));
    for (int i = 0; i < 299; ++i)
        VERIFY_OK(engine->publish(u"default", u"s", QByteArrayView("{}")));
    for (int i = 0; i < 10; ++i) {
        VERIFY_ERROR(engine->publish(u"default", u"s", QByteArrayView("nope")), 54008, 400);
        VERIFY_ERROR(engine->publish(u"default", u"s", payloadOfSize(5000)), 54006, 413);
    }
    VERIFY_OK(engine->publish(u"default", u"s", QByteArrayView("{}")));
    VERIFY_ERROR(engine->publish(u"default", u"s", QByteArrayView("{}")), 54009, 429);
    m_clock->advanceMs(1000);
    for (int i = 0; i < 30; ++i)
        VERIFY_OK(engine->publish(u"default", u"s", QByteArrayView("{}")));
    VERIFY_ERROR(engine->publish(u"default", u"s", QByteArrayView("{}")), 54009, 429);

    // A deleted and recreated name is a new stream with a full bucket.
    VERIFY_OK(engine->deleteStream(u"default", u"s"));
    VERIFY_OK(engine->createStream(u"default", {QStringLiteral("s"), std::nullopt}));
    for (int i = 0; i < 300; ++i)
        VERIFY_OK(engine->publish(u"default", u"s", QByteArrayView("{}")));
}

void TestEngine::unlimitedPublishRate()
{
    auto engine = open(QProcessEnvironment(), std::nullopt);
    QVERIFY2(engine, qPrintable(m_error));
    QCOMPARE(engine->publishRatePerSecond(), std::optional<double>());
    VERIFY_OK(engine->createStream(u"default", {QStringLiteral("s"), std::nullopt}));
    for (int i = 0; i < 2000; ++i)
        VERIFY_OK(engine->publish(u"default", u"s", QByteArrayView("{}")));
}

void TestEngine::subscribeToMissingStream()
{
    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    VERIFY_ERROR(engine->subscribe(u"default", u"missing", {}), 20404, 404);
    VERIFY_ERROR(engine->subscribe(u"no-such-service", u"missing", {}), 20404, 404);
}

void TestEngine::secondOpenOnTheSameDirFails()
{
    auto first = open();
    QVERIFY2(first, qPrintable(m_error));
    const EngineCredentials credentials = first->credentials();

    auto second = open();
    QVERIFY(!second);
    QVERIFY2(m_error.contains(QStringLiteral("another engine")), qPrintable(m_error));
    QVERIFY2(m_error.contains(QDir(m_dataDir).absolutePath()), qPrintable(m_error));
    QVERIFY2(
        m_error.contains(QString::number(QCoreApplication::applicationPid())), qPrintable(m_error));
    // The failed attempt changed nothing for the first engine.
    VERIFY_OK(first->createStream(u"default", {}));

    first.reset();
    auto third = open();
    QVERIFY2(third, qPrintable(m_error));
    QVERIFY(!third->credentialsWereGenerated());
    QCOMPARE(third->credentials().authToken, credentials.authToken);
    QCOMPARE(third->store().streamCount().value(), qint64(1));
}

void TestEngine::staleLockFromACrashedEngineIsTakenOver()
{
    {
        auto engine = open();
        QVERIFY2(engine, qPrintable(m_error));
    }
    // What a kill -9 leaves behind: a lock file naming a process that no longer exists.
    QProcess child;
    child.start(QStringLiteral("true"), QStringList());
    QVERIFY(child.waitForStarted());
    const qint64 deadPid = child.processId();
    QVERIFY(deadPid > 0);
    QVERIFY(child.waitForFinished());
    QLockFile probe(QDir(m_dataDir).filePath(QStringLiteral("engine.lock")));
    QVERIFY(probe.tryLock(0));
    qint64 pid = 0;
    QString host, app;
    QVERIFY(probe.getLockInfo(&pid, &host, &app));
    QFile lock(QDir(m_dataDir).filePath(QStringLiteral("engine.lock")));
    QVERIFY(lock.open(QIODevice::ReadOnly));
    QByteArray contents = lock.readAll();
    lock.close();
    QVERIFY(contents.startsWith(QByteArray::number(pid) + '\n'));
    contents.replace(0, QByteArray::number(pid).size(), QByteArray::number(deadPid));
    // Leave the file behind as a crash would (QLockFile removes it on unlock).
    QFile copy(QDir(m_dataDir).filePath(QStringLiteral("engine.lock.crashed")));
    QVERIFY(copy.open(QIODevice::WriteOnly));
    copy.write(contents);
    copy.close();
    probe.unlock();
    QVERIFY(QFile::rename(copy.fileName(), lock.fileName()));

    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
}

void TestEngine::unreadableCredentialsFile_data()
{
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<QString>("message");

    QTest::addRow("not JSON") << QByteArray("{ oops") << QStringLiteral("not valid JSON");
    QTest::addRow("empty object") << QByteArray("{}") << QStringLiteral("delete it");
    QTest::addRow("missing token")
        << QByteArray("{\"account_sid\":\"AC0123456789abcdef0123456789abcdef\","
                      "\"api_key_sid\":\"SK0123456789abcdef0123456789abcdef\","
                      "\"api_key_secret\":\"s\"}")
        << QStringLiteral("delete it");
}

void TestEngine::unreadableCredentialsFile()
{
    QFETCH(QByteArray, contents);
    QFETCH(QString, message);

    QVERIFY(QDir().mkpath(m_dataDir));
    const QString path = QDir(m_dataDir).filePath(EngineCredentials::fileName());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(contents);
    file.close();

    QVERIFY(!open());
    QVERIFY2(m_error.contains(message), qPrintable(m_error));
    QVERIFY2(m_error.contains(path), qPrintable(m_error));
    // Nothing was overwritten.
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), contents);
}

void TestEngine::credentialsAreGeneratedOnce_data()
{
    QTest::addColumn<bool>("dirExists");
    QTest::addRow("fresh data dir") << false;
    QTest::addRow("existing world-readable dir") << true;
}

void TestEngine::credentialsAreGeneratedOnce()
{
    QFETCH(bool, dirExists);
    if (dirExists) {
        QVERIFY(QDir().mkpath(m_dataDir));
        QVERIFY(::chmod(QFile::encodeName(m_dataDir).constData(), 0755) == 0);
        QCOMPARE(modeOf(m_dataDir), 0755);
    }

    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    QVERIFY(engine->credentialsWereGenerated());
    const EngineCredentials credentials = engine->credentials();
    QVERIFY(sid::isValid(credentials.accountSid, SidKind::Account));
    QVERIFY(sid::isValid(credentials.apiKeySid, SidKind::ApiKey));
    static const QRegularExpression secretShape(QStringLiteral("^[0-9a-f]{32}$"));
    QVERIFY(secretShape.match(credentials.authToken).hasMatch());
    QVERIFY(secretShape.match(credentials.apiKeySecret).hasMatch());
    QVERIFY(credentials.authToken != credentials.apiKeySecret);

    const QString path = QDir(m_dataDir).filePath(EngineCredentials::fileName());
    QCOMPARE(modeOf(m_dataDir), 0700);
    QCOMPARE(modeOf(path), 0600);
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject json = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(json.value(QStringLiteral("account_sid")).toString(), credentials.accountSid);
    QCOMPARE(json.value(QStringLiteral("auth_token")).toString(), credentials.authToken);
    QCOMPARE(json.value(QStringLiteral("api_key_sid")).toString(), credentials.apiKeySid);
    QCOMPARE(json.value(QStringLiteral("api_key_secret")).toString(), credentials.apiKeySecret);
    file.close();

    engine.reset();
    engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    QVERIFY(!engine->credentialsWereGenerated());
    QCOMPARE(engine->credentials().accountSid, credentials.accountSid);
    QCOMPARE(engine->credentials().authToken, credentials.authToken);
    QCOMPARE(engine->credentials().apiKeySid, credentials.apiKeySid);
    QCOMPARE(engine->credentials().apiKeySecret, credentials.apiKeySecret);
    QCOMPARE(modeOf(path), 0600);
}

void TestEngine::environmentOverridesCredentials_data()
{
    QTest::addColumn<bool>("fileFirst"); // the file exists before the environment is set
    QTest::addColumn<bool>("tokenPair");
    QTest::addColumn<bool>("keyPair");

    QTest::addRow("all four, fresh dir") << false << true << true;
    QTest::addRow("all four, existing file") << true << true << true;
    QTest::addRow("account pair only") << true << true << false;
    QTest::addRow("account pair only, fresh dir") << false << true << false;
    QTest::addRow("api key pair only") << true << false << true;
}

void TestEngine::environmentOverridesCredentials()
{
    QFETCH(bool, fileFirst);
    QFETCH(bool, tokenPair);
    QFETCH(bool, keyPair);

    EngineCredentials stored;
    if (fileFirst) {
        auto engine = open();
        QVERIFY2(engine, qPrintable(m_error));
        stored = engine->credentials();
    }

    QProcessEnvironment environment;
    if (tokenPair) {
        environment.insert(QStringLiteral("TWILIO_ACCOUNT_SID"), kEnvAccount);
        environment.insert(QStringLiteral("TWILIO_AUTH_TOKEN"), kEnvToken);
    }
    if (keyPair) {
        environment.insert(QStringLiteral("TWILIO_API_KEY"), kEnvKey);
        environment.insert(QStringLiteral("TWILIO_API_SECRET"), kEnvSecret);
    }
    auto engine = open(environment);
    QVERIFY2(engine, qPrintable(m_error));
    const EngineCredentials &credentials = engine->credentials();
    // Either the secrets in effect came from the environment or the file already existed: there
    // is nothing new to show the user.
    QCOMPARE(engine->credentialsWereGenerated(), !fileFirst && !tokenPair && !keyPair);

    QFile file(QDir(m_dataDir).filePath(EngineCredentials::fileName()));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray contents = file.readAll();
    const QJsonObject json = QJsonDocument::fromJson(contents).object();
    if (!fileFirst) {
        stored.accountSid = json.value(QStringLiteral("account_sid")).toString();
        stored.authToken = json.value(QStringLiteral("auth_token")).toString();
        stored.apiKeySid = json.value(QStringLiteral("api_key_sid")).toString();
        stored.apiKeySecret = json.value(QStringLiteral("api_key_secret")).toString();
    }
    // The environment's values are used but never written to disk.
    for (const QString &secret : {kEnvAccount, kEnvToken, kEnvKey, kEnvSecret})
        QVERIFY2(!contents.contains(secret.toUtf8()), qPrintable(secret));
    QCOMPARE(json.value(QStringLiteral("account_sid")).toString(), stored.accountSid);
    QCOMPARE(json.value(QStringLiteral("auth_token")).toString(), stored.authToken);
    QVERIFY(sid::isValid(stored.accountSid, SidKind::Account));

    QCOMPARE(credentials.accountSid, tokenPair ? kEnvAccount : stored.accountSid);
    QCOMPARE(credentials.authToken, tokenPair ? kEnvToken : stored.authToken);
    QCOMPARE(credentials.apiKeySid, keyPair ? kEnvKey : stored.apiKeySid);
    QCOMPARE(credentials.apiKeySecret, keyPair ? kEnvSecret : stored.apiKeySecret);

    QCOMPARE(credentials.accepts(kEnvAccount.toUtf8(), kEnvToken.toUtf8()), tokenPair);
    QCOMPARE(credentials.accepts(kEnvKey.toUtf8(), kEnvSecret.toUtf8()), keyPair);
    QCOMPARE(
        credentials.accepts(stored.accountSid.toUtf8(), stored.authToken.toUtf8()), !tokenPair);
    QCOMPARE(
        credentials.accepts(stored.apiKeySid.toUtf8(), stored.apiKeySecret.toUtf8()), !keyPair);
    // The default service belongs to the account in use.
    if (!fileFirst)
        QCOMPARE(engine->fetchService(u"default")->accountSid, credentials.accountSid);
}

void TestEngine::invalidEnvironmentCredentials_data()
{
    QTest::addColumn<QString>("variable");
    QTest::addColumn<QString>("value");

    QTest::addRow("account SID not hex") << QStringLiteral("TWILIO_ACCOUNT_SID")
                                         << QStringLiteral("ACnothexnothexnothexnothexnothexno");
    QTest::addRow("account SID wrong prefix") << QStringLiteral(
        "TWILIO_ACCOUNT_SID") << QStringLiteral("SK0123456789abcdef0123456789abcdef");
    QTest::addRow("api key too short")
        << QStringLiteral("TWILIO_API_KEY") << QStringLiteral("SK0123");
}

void TestEngine::invalidEnvironmentCredentials()
{
    QFETCH(QString, variable);
    QFETCH(QString, value);

    QProcessEnvironment environment;
    environment.insert(variable, value);
    auto engine = open(environment);
    QVERIFY(!engine);
    QVERIFY2(m_error.contains(variable), qPrintable(m_error));
    // The failed open released the data directory.
    engine = open();
    QVERIFY2(engine, qPrintable(m_error));
}

void TestEngine::accepts_data()
{
    QTest::addColumn<QString>("user"); // a selector resolved against the real credentials
    QTest::addColumn<QString>("password"); // likewise
    QTest::addColumn<bool>("expected");

    QTest::addRow("account + token") << u"account"_s << u"token"_s << true;
    QTest::addRow("api key + secret") << u"key"_s << u"secret"_s << true;
    QTest::addRow("account + secret") << u"account"_s << u"secret"_s << false;
    QTest::addRow("api key + token") << u"key"_s << u"token"_s << false;
    QTest::addRow("account + wrong token") << u"account"_s << u"wrong"_s << false;
    QTest::addRow("account + token with an extra char") << u"account"_s << u"token+"_s << false;
    QTest::addRow("account + truncated token") << u"account"_s << u"token-"_s << false;
    QTest::addRow("account + empty") << u"account"_s << u""_s << false;
    QTest::addRow("empty + token") << u""_s << u"token"_s << false;
    QTest::addRow("empty + empty") << u""_s << u""_s << false;
    QTest::addRow("uppercased account + token") << u"ACCOUNT"_s << u"token"_s << false;
    QTest::addRow("other account + token") << u"other"_s << u"token"_s << false;
}

void TestEngine::accepts()
{
    QFETCH(QString, user);
    QFETCH(QString, password);
    QFETCH(bool, expected);

    auto engine = open();
    QVERIFY2(engine, qPrintable(m_error));
    const EngineCredentials &c = engine->credentials();
    const auto resolve = [&c](const QString &selector) -> QByteArray {
        if (selector == u"account")
            return c.accountSid.toUtf8();
        if (selector == u"ACCOUNT")
            return c.accountSid.first(2).toUtf8() + c.accountSid.sliced(2).toUpper().toUtf8();
        if (selector == u"key")
            return c.apiKeySid.toUtf8();
        if (selector == u"token")
            return c.authToken.toUtf8();
        if (selector == u"token+")
            return c.authToken.toUtf8() + 'x';
        if (selector == u"token-")
            return c.authToken.chopped(1).toUtf8();
        if (selector == u"secret")
            return c.apiKeySecret.toUtf8();
        if (selector == u"wrong")
            return QByteArray(c.authToken.size(), '0');
        if (selector == u"other")
            return sid::generate(SidKind::Account).toUtf8();
        return QByteArray();
    };
    QCOMPARE(c.accepts(resolve(user), resolve(password)), expected);

    // Credentials with empty secrets accept nothing, not even empty input.
    const EngineCredentials empty;
    QVERIFY(!empty.accepts(QByteArrayView(""), QByteArrayView("")));
}

QTEST_GUILESS_MAIN(TestEngine)
#include "tst_engine.moc"
