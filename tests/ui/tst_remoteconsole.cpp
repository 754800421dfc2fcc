// The console on a saved "Engine at URL" connection next to its embedded engine: the same tree,
// publishing from the composer over REST and watching over twilsock, the connection node's badge
// and state, and the engine killed and restarted under an open page — reconnecting shown live,
// errors where they happened, never a modal box.

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "backend/remotebackend.h"
#include "consolewindow.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "engineprocess.h"
#include "engineprofile.h"
#include "faultserver.h"
#include "live/livesubscription.h"
#include "ui/connections/connectionstatuswidget.h"
#include "ui/liveview/livemessagemodel.h"
#include "ui/liveview/liveviewwidget.h"
#include "ui/mainwindow.h"
#include "ui/stream/composerwidget.h"
#include "ui/stream/pagebanner.h"
#include "ui/stream/streampage.h"
#include "ui/tree/connectiontreemodel.h"
#include "waits.h"

#include <QAbstractProxyModel>
#include <QApplication>
#include <QElapsedTimer>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <tuple>

using namespace streams;
using namespace streams::testing;
using NodeKind = ConnectionTreeModel::NodeKind;

namespace {
TwilsockClient::Options quickLive()
{
    TwilsockClient::Options options;
    options.requestTimeoutMs = 5000;
    options.backoffInitialMs = 200;
    options.backoffMaxMs = 1000;
    return options;
}

RemoteConnection directConnection(const EngineProcess &engine)
{
    RemoteConnection connection;
    connection.displayName = QStringLiteral("seeding");
    connection.endpoints = RemoteEndpoints::engine(QUrl(engine.baseUrl()));
    connection.credentials.accountSid = engine.accountSid();
    connection.credentials.apiKeySid = engine.apiKeySid();
    connection.credentials.apiKeySecret = engine.apiKeySecret();
    connection.rest = quickRest();
    connection.twilsock = quickLive();
    return connection;
}

/// The same streams and services on any backend, so two trees can be compared.
bool seed(Backend &backend)
{
    for (const char *name : {"orders", "telemetry", "chat-room-42"}) {
        StreamCreate create;
        create.uniqueName = QString::fromLatin1(name);
        create.ttlSeconds = 7200;
        if (!await(backend.createStream(QStringLiteral("default"), create)))
            return false;
    }
    ServiceFields staging;
    staging.friendlyName = QStringLiteral("Staging");
    return await(backend.createService(staging)).has_value();
}

/// A connection's subtree as text: what a user sees of it, without SIDs.
QStringList outline(const QAbstractItemModel *model, const QModelIndex &parent, int depth = 0)
{
    QStringList lines;
    for (int row = 0; row < model->rowCount(parent); ++row) {
        const QModelIndex index = model->index(row, 0, parent);
        lines.append(QString(depth * 2, u' ') + index.data().toString());
        lines += outline(model, index, depth + 1);
    }
    return lines;
}

/// The longest the event loop went without running a 5 ms timer while this object lived: what
/// a user feels as a frozen window.
class StallMonitor
{
public:
    StallMonitor()
    {
        m_clock.start();
        m_timer.setInterval(5);
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            const qint64 now = m_clock.elapsed();
            m_longest = std::max(m_longest, now - m_last);
            m_last = now;
        });
        m_timer.start();
    }
    qint64 longestMs() const { return m_longest; }

private:
    QElapsedTimer m_clock;
    QTimer m_timer;
    qint64 m_last = 0;
    qint64 m_longest = 0;
};

bool modalShown()
{
    if (QApplication::activeModalWidget())
        return true;
    const auto windows = QApplication::topLevelWidgets();
    return std::any_of(windows.cbegin(), windows.cend(),
        [](QWidget *window) { return window->isVisible() && qobject_cast<QMessageBox *>(window); });
}
} // namespace

class TestRemoteConsole final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void engineProfileShowsTheSameTreeAsLocal();
    void statusBarShowsWhoButNoSecret();
    void publishFromComposerReachesEngine();
    void refusedSecretFailsOnTheNode();
    void closeConnectionTakesItsPagesAlong();
    void killedEngineShowsLiveAndComesBack();
    void faultyServerNeverFreezesTheWindow_data();
    void faultyServerNeverFreezesTheWindow();

private:
    QString saveProfile(const QString &name, const QString &secret);
    Backend *openProfile(const QString &id);
    QModelIndex waitForService(Backend *backend, const QString &uniqueName);
    StreamPage *openRemoteStream(Backend *backend, const QString &uniqueName);

    EngineProcess m_engine;
    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_local;
    ConsoleWindow m_console;
};

void TestRemoteConsole::initTestCase()
{
    QVERIFY(m_engine.start({QStringLiteral("--publish-rate"), QStringLiteral("unlimited")}));
    RemoteBackend seeding(directConnection(m_engine));
    QVERIFY(seed(seeding));

    auto local =
        startEmbeddedEngine(m_dir.filePath(QStringLiteral("embedded")), kEnginePublishRate);
    QVERIFY2(local, qPrintable(local ? QString() : local.error()));
    m_local = std::move(*local);
    QVERIFY(seed(*m_local));
}

void TestRemoteConsole::init()
{
    QVERIFY(m_console.open(m_dir.path(), m_local.get(), quickLive()));
}

void TestRemoteConsole::cleanup()
{
    m_console.close();
}

QString TestRemoteConsole::saveProfile(const QString &name, const QString &secret)
{
    const auto saved = m_console.profiles().save(engineProfile(m_engine, name));
    if (!saved) {
        qWarning("profile not saved: %s", qPrintable(saved.error()));
        return {};
    }
    // The keychain, or this session (NoKeychain, ignored) when the test runs without one.
    std::ignore = await(m_console.secrets().write(saved->secretKey(), secret));
    return saved->id;
}

Backend *TestRemoteConsole::openProfile(const QString &id)
{
    QSignalSpy opened(m_console.window(), &MainWindow::connectionOpened);
    m_console.window()->openProfile(id);
    if (opened.isEmpty() && !opened.wait(10000))
        return nullptr;
    return opened.at(0).at(0).value<Backend *>();
}

QModelIndex TestRemoteConsole::waitForService(Backend *backend, const QString &uniqueName)
{
    ConnectionTreeModel *model = m_console.window()->treeModel();
    QModelIndex found;
    const bool appeared = QTest::qWaitFor(
        [&] {
            const QModelIndex connection = model->connectionIndex(backend);
            for (int row = 0; row < model->rowCount(connection); ++row) {
                const QModelIndex child = model->index(row, 0, connection);
                if (child.data(ConnectionTreeModel::UniqueNameRole).toString() == uniqueName
                    || child.data().toString() == uniqueName)
                    found = child;
            }
            return found.isValid();
        },
        10000);
    if (!appeared)
        qWarning("service %s never appeared in the tree", qPrintable(uniqueName));
    return found;
}

StreamPage *TestRemoteConsole::openRemoteStream(Backend *backend, const QString &uniqueName)
{
    const auto stream = await(backend->fetchStream(QStringLiteral("default"), uniqueName));
    if (!stream)
        return nullptr;
    return m_console.window()->openStream(backend, *stream);
}

void TestRemoteConsole::engineProfileShowsTheSameTreeAsLocal()
{
    const QString id = saveProfile(QStringLiteral("Staging engine"), m_engine.apiKeySecret());
    QVERIFY(!id.isEmpty());
    Backend *remote = openProfile(id);
    QVERIFY(remote);
    QCOMPARE(m_console.window()->profileBackend(id), remote);
    ConnectionTreeModel *model = m_console.window()->treeModel();
    const QModelIndex remoteNode = model->connectionIndex(remote);
    const QModelIndex localNode = model->connectionIndex(m_local.get());
    QVERIFY(remoteNode.isValid() && localNode.isValid());
    QTRY_COMPARE_WITH_TIMEOUT(
        remoteNode.data(ConnectionTreeModel::ConnectionStateRole).value<Backend::State>(),
        Backend::State::Connected, 10000);

    // List every service's streams on both connections, as a user expanding them would.
    for (Backend *backend : {static_cast<Backend *>(m_local.get()), remote}) {
        for (const QString &service : {QStringLiteral("default"), QStringLiteral("Staging")}) {
            const QModelIndex index = waitForService(backend, service);
            QVERIFY(index.isValid());
            m_console.window()->treeView()->expand(
                qobject_cast<QAbstractProxyModel *>(m_console.window()->treeView()->model())
                    ->mapFromSource(index));
            QTRY_VERIFY(!index.data(ConnectionTreeModel::LoadingRole).toBool()
                && !model->canFetchMore(index));
        }
    }
    QTRY_COMPARE(model->rowCount(waitForService(remote, QStringLiteral("default"))), 3);
    QTRY_COMPARE(model->rowCount(waitForService(m_local.get(), QStringLiteral("default"))), 3);

    // Below the connection row, the two trees read the same.
    const QStringList remoteTree = outline(model, remoteNode);
    const QStringList localTree = outline(model, localNode);
    QCOMPARE(remoteTree, localTree);
    QVERIFY(remoteTree.contains(QStringLiteral("  orders")));
    QVERIFY(remoteTree.contains(QStringLiteral("Staging")));

    // And the rows behave the same: kinds, SIDs, URLs on the connection's own address.
    const QModelIndex orders =
        model->index(0, 0, waitForService(remote, QStringLiteral("default")));
    QCOMPARE(model->kind(orders), NodeKind::Stream);
    QVERIFY(orders.data(ConnectionTreeModel::SidRole).toString().startsWith(u"TO"));
    QVERIFY(orders.data(ConnectionTreeModel::UrlRole).toString().startsWith(m_engine.baseUrl()));
    QVERIFY(orders.data(ConnectionTreeModel::StreamRole).isValid());

    // The connection rows tell them apart: badge and kind, and state.
    QCOMPARE(localNode.data(ConnectionTreeModel::BadgeRole).toString(), QStringLiteral("Local"));
    QCOMPARE(remoteNode.data(ConnectionTreeModel::BadgeRole).toString(), QStringLiteral("Engine"));
    QCOMPARE(remoteNode.data(ConnectionTreeModel::ConnectionKindRole)
                 .value<ConnectionTreeModel::ConnectionKind>(),
        ConnectionTreeModel::ConnectionKind::Engine);
    QCOMPARE(remoteNode.data().toString(), QStringLiteral("Staging engine"));
    const QString tip = remoteNode.data(Qt::ToolTipRole).toString();
    QVERIFY(tip.contains(m_engine.baseUrl()));
    QVERIFY(tip.contains(m_engine.apiKeySid()));
    QVERIFY(tip.contains(u"Engine at URL"));
    QVERIFY(!tip.contains(m_engine.apiKeySecret()));
    QVERIFY(!modalShown());
}

void TestRemoteConsole::statusBarShowsWhoButNoSecret()
{
    const QString id = saveProfile(QStringLiteral("Status"), m_engine.apiKeySecret());
    Backend *remote = openProfile(id);
    QVERIFY(remote);
    ConnectionStatusWidget *status = m_console.window()->statusWidget();
    QTRY_VERIFY(status->shownText().contains(u"connected"));
    const QString shown = status->shownText();
    QVERIFY2(shown.contains(m_engine.baseUrl()), qPrintable(shown));
    QVERIFY(shown.contains(m_engine.accountSid()));
    QVERIFY(shown.contains(m_engine.apiKeySid()));
    QVERIFY(!shown.contains(m_engine.apiKeySecret()));
    QVERIFY(!status->isSecretRevealed());

    // The local engine keeps its masked token and no key line.
    m_console.window()->treeView()->setCurrentIndex(
        qobject_cast<QAbstractProxyModel *>(m_console.window()->treeView()->model())
            ->mapFromSource(m_console.window()->treeModel()->connectionIndex(m_local.get())));
    QVERIFY(status->shownText().contains(u"token ••••"));
    QVERIFY(!status->shownText().contains(u"key SK"));
}

void TestRemoteConsole::publishFromComposerReachesEngine()
{
    const QString id = saveProfile(QStringLiteral("Publisher"), m_engine.apiKeySecret());
    Backend *remote = openProfile(id);
    QVERIFY(remote);
    StreamPage *page = openRemoteStream(remote, QStringLiteral("telemetry"));
    QVERIFY(page);
    QCOMPARE(page->backend(), remote);
    QTRY_VERIFY_WITH_TIMEOUT(page->liveView()->subscription()
            && page->liveView()->subscription()->state() == LiveSubscription::State::Active,
        10000);
    QCOMPARE(page->liveView()->subscriptionStateText(), QStringLiteral("● live"));

    // Someone else watches the engine on a connection of their own.
    RemoteBackend watcher(directConnection(m_engine));
    const auto stream =
        await(watcher.fetchStream(QStringLiteral("default"), QStringLiteral("telemetry")));
    QVERIFY(stream);
    auto subscription = watcher.subscribe(stream->serviceSid, stream->sid);
    QTRY_COMPARE_WITH_TIMEOUT(subscription->state(), LiveSubscription::State::Active, 10000);
    QSignalSpy received(subscription.get(), &LiveSubscription::messagesReceived);

    ComposerWidget *composer = page->composer();
    composer->editor()->setPlainText(QStringLiteral(R"({"from": "the console", "n": 7})"));
    QVERIFY(composer->isPublishable());
    composer->publish();
    QTRY_VERIFY_WITH_TIMEOUT(composer->statusText().startsWith(u"Published TZ"), 10000);
    QVERIFY(!composer->statusIsError());

    // It reached the engine: its own subscriber and the page's live view both get it.
    QTRY_VERIFY_WITH_TIMEOUT(!received.isEmpty(), 10000);
    const auto messages = received.at(0).at(0).value<QList<StreamMessage>>();
    QCOMPARE(messages.size(), 1);
    QCOMPARE(messages.at(0).data, QByteArray(R"({"from":"the console","n":7})"));
    QTRY_COMPARE_WITH_TIMEOUT(page->liveView()->model()->rowCount(), 1, 10000);
    QVERIFY(page->banner()->displayedText().isEmpty());
}

void TestRemoteConsole::refusedSecretFailsOnTheNode()
{
    const QString id =
        saveProfile(QStringLiteral("Wrong secret"), QStringLiteral("not-the-secret"));
    Backend *remote = openProfile(id);
    QVERIFY(remote);
    ConnectionTreeModel *model = m_console.window()->treeModel();
    const QModelIndex node = model->connectionIndex(remote);
    QTRY_COMPARE_WITH_TIMEOUT(
        node.data(ConnectionTreeModel::ConnectionStateRole).value<Backend::State>(),
        Backend::State::Failed, 10000);
    QTRY_VERIFY(
        node.data(ConnectionTreeModel::ConnectionProblemRole).toString().contains(u"20003"));
    const QString text = node.data().toString();
    QVERIFY2(text.startsWith(u"Wrong secret — failed: "), qPrintable(text));
    QVERIFY(node.data(Qt::ToolTipRole).toString().contains(u"20003"));
    QVERIFY(!node.data(Qt::DecorationRole).isNull());
    QVERIFY(!modalShown());
    // Refused credentials are not retried on their own: the state must not move.
    QSignalSpy changed(remote, &Backend::stateChanged);
    QVERIFY(noSignalFor(changed, 300));
    QCOMPARE(remote->state(), Backend::State::Failed);
}

void TestRemoteConsole::closeConnectionTakesItsPagesAlong()
{
    const QString id = saveProfile(QStringLiteral("Closing"), m_engine.apiKeySecret());
    Backend *remote = openProfile(id);
    QVERIFY(remote);
    QVERIFY(openRemoteStream(remote, QStringLiteral("orders")));
    QVERIFY(m_console.window()->openStream(m_local.get(),
        *await(m_local->fetchStream(QStringLiteral("default"), QStringLiteral("orders")))));
    QCOMPARE(m_console.window()->tabs()->count(), 2);
    QCOMPARE(m_console.profiles().openProfileIds(), QStringList{id});

    // The embedded engine cannot be closed.
    m_console.window()->treeView()->setCurrentIndex(
        qobject_cast<QAbstractProxyModel *>(m_console.window()->treeView()->model())
            ->mapFromSource(m_console.window()->treeModel()->connectionIndex(m_local.get())));
    QVERIFY(!m_console.window()->closeConnectionAction()->isEnabled());

    m_console.window()->treeView()->setCurrentIndex(
        qobject_cast<QAbstractProxyModel *>(m_console.window()->treeView()->model())
            ->mapFromSource(m_console.window()->treeModel()->connectionIndex(remote)));
    QVERIFY(m_console.window()->closeConnectionAction()->isEnabled());
    QSignalSpy closed(m_console.window(), &MainWindow::connectionClosed);
    m_console.window()->closeConnectionAction()->trigger();
    QCOMPARE(closed.count(), 1);
    QCOMPARE(m_console.window()->tabs()->count(), 1);
    QCOMPARE(m_console.window()->currentPage()->backend(), m_local.get());
    QVERIFY(!m_console.window()->profileBackend(id));
    QCOMPARE(m_console.window()->treeModel()->rowCount(), 1);
    QVERIFY(m_console.profiles().openProfileIds().isEmpty());
}

void TestRemoteConsole::killedEngineShowsLiveAndComesBack()
{
    const QString id = saveProfile(QStringLiteral("Flaky"), m_engine.apiKeySecret());
    Backend *remote = openProfile(id);
    QVERIFY(remote);
    StreamPage *page = openRemoteStream(remote, QStringLiteral("orders"));
    QVERIFY(page);
    LiveViewWidget *live = page->liveView();
    QTRY_VERIFY_WITH_TIMEOUT(
        live->subscription() && live->subscription()->state() == LiveSubscription::State::Active,
        10000);
    ConnectionTreeModel *model = m_console.window()->treeModel();
    const QPersistentModelIndex node = model->connectionIndex(remote);
    QTRY_COMPARE(node.data(ConnectionTreeModel::ConnectionStateRole).value<Backend::State>(),
        Backend::State::Connected);
    QSignalSpy states(remote, &Backend::stateChanged);

    m_engine.kill();

    // The node says so by itself, live, and nothing pops up.
    QTRY_VERIFY_WITH_TIMEOUT(
        node.data(ConnectionTreeModel::ConnectionStateRole).value<Backend::State>()
            == Backend::State::Reconnecting,
        15000);
    QVERIFY2(
        node.data().toString().endsWith(u"— reconnecting…"), qPrintable(node.data().toString()));
    QTRY_VERIFY_WITH_TIMEOUT(live->gapCount() == 1, 10000);
    QVERIFY2(live->liveBanner()->displayedText().contains(u"Connection lost"),
        qPrintable(live->liveBanner()->displayedText()));
    QVERIFY(live->subscriptionStateText().contains(u"reconnecting since"));

    // A publish meanwhile fails on the page's banner, where the user is looking.
    page->composer()->editor()->setPlainText(QStringLiteral(R"({"while": "down"})"));
    page->composer()->publish();
    QTRY_VERIFY_WITH_TIMEOUT(
        page->banner()->displayedText().startsWith(u"Publish failed: "), 15000);
    QVERIFY(!modalShown());

    QVERIFY(m_engine.restart());

    // Back by itself: the node, the feed (with the gap it missed), and publishing.
    QTRY_VERIFY_WITH_TIMEOUT(
        node.data(ConnectionTreeModel::ConnectionStateRole).value<Backend::State>()
            == Backend::State::Connected,
        20000);
    QCOMPARE(node.data().toString(), QStringLiteral("Flaky"));
    QVERIFY(node.data(ConnectionTreeModel::ConnectionProblemRole).toString().isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(live->liveBanner()->displayedText().contains(u"resumed"), 20000);
    const QString gap = live->liveBanner()->displayedText();
    QVERIFY2(gap.contains(u"messages published in between were not received"), qPrintable(gap));
    QTRY_COMPARE_WITH_TIMEOUT(live->subscriptionStateText(), QStringLiteral("● live"), 10000);
    QVERIFY(!modalShown());

    page->composer()->editor()->setPlainText(QStringLiteral(R"({"after": "restart"})"));
    page->composer()->publish();
    QTRY_VERIFY_WITH_TIMEOUT(page->composer()->statusText().startsWith(u"Published TZ"), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(live->model()->rowCount(), 1, 10000);

    // Reconnecting was shown as it happened: the state went there and back.
    QList<Backend::State> seen;
    for (const QList<QVariant> &args : states)
        seen.append(args.at(0).value<Backend::State>());
    QVERIFY(seen.contains(Backend::State::Reconnecting));
    QCOMPARE(seen.last(), Backend::State::Connected);
}

int main(int argc, char *argv[])
{
    // Never the user's own keyring: only a throwaway one (tests/support/with-keyring.sh), or
    // none at all.
    if (qgetenv("STREAMS_TEST_KEYRING") != "throwaway")
        qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/streams-test-bus");
    QApplication app(argc, argv);
    TestRemoteConsole test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_remoteconsole.moc"

void TestRemoteConsole::faultyServerNeverFreezesTheWindow_data()
{
    QTest::addColumn<int>("fault");
    QTest::addColumn<QString>("problem"); // what the connection node says, in part
    QTest::newRow("resets every connection") << 0 << QStringLiteral("Cannot reach");
    QTest::newRow("never answers") << 1 << QStringLiteral("No answer from");
    QTest::newRow("answers HTML") << 2 << QStringLiteral("not a JSON object");
    QTest::newRow("answers 500") << 3 << QStringLiteral("database on fire");
    QTest::newRow("answers another API") << 4 << QStringLiteral("has no 'services' array");
}

void TestRemoteConsole::faultyServerNeverFreezesTheWindow()
{
    // A saved "Engine at URL" connection whose server misbehaves from the first request on: the
    // console shows why on the connection node and keeps painting; nothing pops up.
    QFETCH(int, fault);
    QFETCH(QString, problem);
    FaultServer server([fault](int, const QByteArray &) {
        switch (fault) {
        case 0: return Fault::reset();
        case 1: return Fault::silent();
        case 2:
            return Fault::answer(
                200, "OK", "<html><body>Sign in to the Wi-Fi</body></html>", "text/html");
        case 3:
            return Fault::answer(500, "Internal Server Error",
                R"({"code":20500,"message":"database on fire","more_info":"","status":500})");
        default: return Fault::answer(200, "OK", R"({"welcome":"to some other API"})");
        }
    });
    ConnectionProfile profile = engineProfile(
        m_engine, QStringLiteral("Faulty: %1").arg(QString::fromLatin1(QTest::currentDataTag())));
    profile.engineUrl = QUrl(server.baseUrl());
    const auto saved = m_console.profiles().save(profile);
    QVERIFY(saved);
    // The keychain, or this session (NoKeychain, ignored) when the test runs without one.
    std::ignore = await(m_console.secrets().write(saved->secretKey(), m_engine.apiKeySecret()));

    const StallMonitor stalls;
    Backend *remote = openProfile(saved->id);
    QVERIFY(remote);
    ConnectionTreeModel *model = m_console.window()->treeModel();
    const QPersistentModelIndex node = model->connectionIndex(remote);
    QVERIFY(node.isValid());
    // quickRest(): 3 s per attempt, 2 attempts; the silent server takes longest.
    const auto said = [&] {
        return node.data(ConnectionTreeModel::ConnectionProblemRole).toString() + u'|'
            + node.data(ConnectionTreeModel::ErrorRole).toString();
    };
    QTRY_VERIFY2_WITH_TIMEOUT(said().contains(problem), qPrintable(said()), 15000);
    QVERIFY(server.requestCount() >= 1);
    // The window stayed responsive the whole time, and a page can still be opened elsewhere.
    QVERIFY2(stalls.longestMs() < 250, qPrintable(QString::number(stalls.longestMs())));
    QVERIFY(!modalShown());
    m_console.window()->closeConnection(remote);
    QVERIFY(!model->connectionIndex(remote).isValid());
}
