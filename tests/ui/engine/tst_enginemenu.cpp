// The Engine menu on the embedded engine: the clock, snapshots to and from a file, reset and
// fault rules, each through the control plane, with the confirmations it asks for; and nothing
// of it for Twilio's cloud.

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "backend/remotebackend.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "ui/engine/enginemenu.h"
#include "ui/stream/streampropertieswidget.h"
#include "waits.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using namespace streams::testing;
using namespace Qt::StringLiterals;

class TestEngineMenu final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void advancesTheClock();
    void savesAndLoadsASnapshot();
    void resetAsksFirst();
    void listsAndClearsFaultRules();
    void twiliosCloudHasNone();
    void countdownFollowsTheEngineClock();

private:
    QJsonObject control(const QByteArray &method, const QString &path, const QByteArray &body = {});
    QString lastMessage(QSignalSpy &spy, int count);

    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_backend;
    std::unique_ptr<EngineMenu> m_menu;
};

QJsonObject TestEngineMenu::control(
    const QByteArray &method, const QString &path, const QByteArray &body)
{
    const auto reply = await(m_backend->control(method, path, body));
    if (!reply)
        qFatal("%s", qPrintable(reply.error().message()));
    return QJsonDocument::fromJson(reply->body).object();
}

QString TestEngineMenu::lastMessage(QSignalSpy &spy, int count)
{
    if (!QTest::qWaitFor([&] { return spy.size() >= count; }, 10000))
        return {};
    return spy.at(count - 1).at(0).toString();
}

void TestEngineMenu::initTestCase()
{
    auto backend =
        startEmbeddedEngine(m_dir.filePath(u"engine"_s), limits::kDefaultPublishRatePerSecond);
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    m_backend = std::move(*backend);
    m_menu = std::make_unique<EngineMenu>([this] { return m_backend.get(); });
    m_menu->setConfirm([](const QString &, const QString &) { return true; });
}

void TestEngineMenu::cleanupTestCase()
{
    m_menu.reset();
    m_backend.reset();
}

void TestEngineMenu::advancesTheClock()
{
    QVERIFY(m_menu->advanceHour()->isEnabled());
    const double before = control("GET", u"/_engine/clock"_s).value(u"offset_seconds"_s).toDouble();
    const auto stream = await(m_backend->createStream(u"default"_s, {u"hourly"_s, 3600}));
    QVERIFY(stream);
    QSignalSpy messages(m_menu.get(), &EngineMenu::message);
    m_menu->advanceHour()->trigger();
    const QString said = lastMessage(messages, 1);
    QVERIFY2(said.contains(u"clock +1h, 1 stream(s) expired"_s), qPrintable(said));
    QCOMPARE(
        control("GET", u"/_engine/clock"_s).value(u"offset_seconds"_s).toDouble(), before + 3600);
    QCOMPARE(await(m_backend->fetchStream(u"default"_s, u"hourly"_s)).error().code(), 20404);

    // A duration typed by the user.
    m_menu->setAskDuration([] { return std::optional<qint64>(90); });
    m_menu->advanceOther()->trigger();
    QVERIFY(lastMessage(messages, 2).contains(u"1m 30s"_s));
    QCOMPARE(
        control("GET", u"/_engine/clock"_s).value(u"offset_seconds"_s).toDouble(), before + 3690);
    // Cancelled: nothing happens, no message comes.
    m_menu->setAskDuration([] { return std::optional<qint64>(); });
    m_menu->advanceOther()->trigger();
    QVERIFY(noSignalFor(messages, 50));
}

void TestEngineMenu::savesAndLoadsASnapshot()
{
    QVERIFY(await(m_backend->createStream(u"default"_s, {u"kept"_s, std::nullopt})));
    const QString path = m_dir.filePath(u"snapshot.json"_s);
    m_menu->setPickFile([path](bool) { return path; });
    QSignalSpy messages(m_menu.get(), &EngineMenu::message);
    m_menu->saveSnapshot()->trigger();
    QVERIFY2(lastMessage(messages, 1).startsWith(u"Saved 1 service(s) and 1 stream(s)"_s),
        qPrintable(lastMessage(messages, 1)));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(file.readAll()).object().value(u"format"_s).toInt(), 1);

    // Something made after the save is gone once the snapshot is loaded; the tree is told.
    QVERIFY(await(m_backend->createStream(u"default"_s, {u"later"_s, std::nullopt})));
    QStringList asked;
    m_menu->setConfirm([&asked](const QString &, const QString &text) {
        asked.append(text);
        return true;
    });
    QSignalSpy replaced(m_menu.get(), &EngineMenu::stateReplaced);
    m_menu->loadSnapshot()->trigger();
    QVERIFY(QTest::qWaitFor([&] { return replaced.size() == 1; }, 10000));
    QCOMPARE(asked.size(), 1);
    QVERIFY(asked.first().contains(path));
    QCOMPARE(await(m_backend->fetchStream(u"default"_s, u"later"_s)).error().code(), 20404);
    QVERIFY(await(m_backend->fetchStream(u"default"_s, u"kept"_s)));

    // A file that is not a snapshot: the engine's reason, nothing changed.
    QFile bad(m_dir.filePath(u"bad.json"_s));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write(R"({"format":1,"services":[{"sid":"nope"}]})");
    bad.close();
    m_menu->setPickFile([&bad](bool) { return bad.fileName(); });
    const int before = int(messages.size());
    m_menu->loadSnapshot()->trigger();
    const QString said = lastMessage(messages, before + 1);
    QVERIFY2(said.contains(u"nothing changed"_s) && said.contains(u"services[0].sid"_s),
        qPrintable(said));
    QVERIFY(await(m_backend->fetchStream(u"default"_s, u"kept"_s)));
}

void TestEngineMenu::resetAsksFirst()
{
    QVERIFY(await(m_backend->createStream(u"default"_s, {u"before-reset"_s, std::nullopt})));
    QSignalSpy replaced(m_menu.get(), &EngineMenu::stateReplaced);
    m_menu->setConfirm([](const QString &, const QString &) { return false; });
    m_menu->reset()->trigger();
    QVERIFY(noSignalFor(replaced, 100)); // refused: no reset goes out
    QVERIFY(await(m_backend->fetchStream(u"default"_s, u"before-reset"_s)));
    m_menu->setConfirm([](const QString &, const QString &) { return true; });
    m_menu->reset()->trigger();
    QVERIFY(QTest::qWaitFor([&] { return replaced.size() == 1; }, 10000));
    QCOMPARE(await(m_backend->fetchStream(u"default"_s, u"before-reset"_s)).error().code(), 20404);
}

void TestEngineMenu::listsAndClearsFaultRules()
{
    control("POST", u"/_engine/faults"_s, R"({"stream":"orders","drop":0.5})");
    QSignalSpy messages(m_menu.get(), &EngineMenu::message);
    m_menu->listFaults()->trigger();
    QVERIFY(lastMessage(messages, 1).contains(u"1 fault rule(s)"_s));
    m_menu->clearFaults()->trigger();
    QVERIFY(lastMessage(messages, 2).contains(u"every fault rule removed"_s));
    QCOMPARE(control("GET", u"/_engine/faults"_s).value(u"faults"_s).toArray().size(), 0);
}

void TestEngineMenu::twiliosCloudHasNone()
{
    RemoteBackend twilio(twilioCloudConnection());
    EngineMenu menu([&twilio] { return &twilio; });
    for (QAction *action : {menu.advanceMinute(), menu.saveSnapshot(), menu.loadSnapshot(),
             menu.reset(), menu.listFaults(), menu.clearFaults()}) {
        QVERIFY(!action->isEnabled());
        QVERIFY(action->toolTip().contains(u"Twilio's cloud"_s));
    }
    EngineMenu none([] { return static_cast<Backend *>(nullptr); });
    QVERIFY(!none.reset()->isEnabled());
}

void TestEngineMenu::countdownFollowsTheEngineClock()
{
    const auto stream = await(m_backend->createStream(u"default"_s, {u"countdown"_s, 3 * 86'400}));
    QVERIFY(stream);
    StreamPropertiesWidget properties(*m_backend);
    properties.setStream(*stream);
    QVERIFY2(properties.countdownText().contains(u"2d 23h"_s)
            || properties.countdownText().contains(u"3d"_s),
        qPrintable(properties.countdownText()));
    QSignalSpy messages(m_menu.get(), &EngineMenu::message);
    m_menu->advanceDay()->trigger();
    QVERIFY(!lastMessage(messages, 1).isEmpty());
    // Two days left by the engine's clock, whoever moved it.
    QTRY_VERIFY2(properties.countdownText().contains(u"1d 23h"_s)
            || properties.countdownText().contains(u"2d"_s),
        qPrintable(properties.countdownText()));
    control("POST", u"/_engine/clock"_s, R"({"advance_seconds":86400})");
    QTRY_VERIFY2(properties.countdownText().contains(u"23h"_s)
            && !properties.countdownText().contains(u"d "_s),
        qPrintable(properties.countdownText()));
}

QTEST_MAIN(TestEngineMenu)
#include "tst_enginemenu.moc"
