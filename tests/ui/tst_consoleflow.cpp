// The console end to end on the embedded engine, driven the way a person drives it.

#include "backend/localbackend.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "host/enginehost.h"
#include "httpclient.h"
#include "live/livesubscription.h"
#include "ui/common/consolesettings.h"
#include "ui/connections/connectionstatuswidget.h"
#include "ui/engine/streamfaultswidget.h"
#include "ui/liveview/livemessagemodel.h"
#include "ui/liveview/liveviewwidget.h"
#include "ui/mainwindow.h"
#include "ui/stream/composerwidget.h"
#include "ui/stream/streampage.h"
#include "ui/tree/connectiontreemodel.h"
#include "ui/tree/newstreamdialog.h"

#include <QApplication>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolButton>
#include <QTreeView>

using namespace streams;
using namespace streams::testing;
using Kind = ConnectionTreeModel::NodeKind;

class TestConsoleFlow final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void createPublishWatchAndDeleteElsewhere();
    void newStreamDialogValidatesAsYouType_data();
    void newStreamDialogValidatesAsYouType();
    void duplicateNameIsShownAtTheField();
    void secretIsMaskedUntilAsked();
    void droppingDeliveryStopsTheLiveViewOnly();

private:
    QModelIndex defaultServiceIndex();
    QByteArray authorization() const
    {
        return basicAuthorization(m_backend->endpoint().accountSid, m_backend->authToken());
    }

    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_backend;
    std::unique_ptr<ConsoleSettings> m_settings;
    std::unique_ptr<MainWindow> m_window;
};

void TestConsoleFlow::init()
{
    auto backend =
        startEmbeddedEngine(m_dir.filePath(QString::fromLatin1(QTest::currentTestFunction())
                                + QStringLiteral("-engine")),
            kEnginePublishRate);
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    m_backend = std::move(*backend);
    m_settings = std::make_unique<ConsoleSettings>(
        m_dir.filePath(QString::fromLatin1(QTest::currentTestFunction()) + QStringLiteral(".ini")));
    m_window = std::make_unique<MainWindow>(*m_settings);
    m_window->addConnection(m_backend.get());
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestConsoleFlow::cleanup()
{
    m_window.reset();
    m_settings.reset();
    m_backend.reset();
}

QModelIndex TestConsoleFlow::defaultServiceIndex()
{
    ConnectionTreeModel *model = m_window->treeModel();
    QModelIndex service;
    const bool found = QTest::qWaitFor(
        [&] {
            const QModelIndex connection = model->connectionIndex(m_backend.get());
            for (int row = 0; row < model->rowCount(connection); ++row) {
                const QModelIndex child = model->index(row, 0, connection);
                if (child.data(ConnectionTreeModel::UniqueNameRole).toString() == u"default")
                    service = child;
            }
            return service.isValid();
        },
        10000);
    if (!found)
        qWarning("the default service never appeared in the tree");
    return service;
}

void TestConsoleFlow::createPublishWatchAndDeleteElsewhere()
{
    // Select the default service in the tree, as a click would.
    const QModelIndex service = defaultServiceIndex();
    QVERIFY(service.isValid());
    auto *proxy = qobject_cast<QSortFilterProxyModel *>(m_window->treeView()->model());
    m_window->treeView()->setCurrentIndex(proxy->mapFromSource(service));
    QVERIFY(m_window->newStreamAction()->isEnabled());

    // Ctrl+N opens the dialog; fill it in and press Create.
    bool dialogSeen = false;
    QTimer::singleShot(0, this, [&] {
        auto *dialog = qobject_cast<NewStreamDialog *>(QApplication::activeModalWidget());
        QVERIFY(dialog);
        dialogSeen = true;
        QTest::keyClicks(dialog->uniqueNameEdit(), QStringLiteral("flow"));
        QPushButton *create = dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        QVERIFY(create->isEnabled());
        QTest::mouseClick(create, Qt::LeftButton);
    });
    m_window->newStreamAction()->trigger();
    QVERIFY(dialogSeen);

    // The stream opened in a tab and sits in the tree.
    QTRY_COMPARE(m_window->tabs()->count(), 1);
    StreamPage *page = m_window->currentPage();
    QVERIFY(page);
    QCOMPARE(page->stream().uniqueName, QStringLiteral("flow"));
    const QString streamSid = page->stream().sid;
    QTRY_VERIFY(m_window->treeModel()
                    ->streamIndex(m_backend.get(), page->stream().serviceSid, streamSid)
                    .isValid());

    // The live view is subscribed before we publish.
    LiveMessageModel *live = page->liveView()->model();
    QTRY_VERIFY(page->liveView()->subscription()
        && page->liveView()->subscription()->state() == LiveSubscription::State::Active);

    // Type a payload in the composer and publish with Ctrl+Enter.
    auto *editor = page->composer()->findChild<QPlainTextEdit *>();
    QVERIFY(editor);
    // Shortcuts go to the active window; after the modal dialog the offscreen platform leaves
    // none active, where a desktop would give focus back to the main window.
    m_window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    editor->setFocus();
    editor->selectAll();
    QTest::keyClicks(editor, QStringLiteral(R"({"hello": "from the composer", "n": 1})"));
    QTest::keyClick(editor, Qt::Key_Return, Qt::ControlModifier);
    QTRY_COMPARE(live->rowCount(), 1);
    const QModelIndex preview = live->index(0, 3);
    QCOMPARE(preview.data().toString(), QStringLiteral(R"({"hello":"from the composer","n":1})"));

    // The user's own code publishes over REST: it shows up too.
    HttpResponse rest = httpExchange(m_backend->host().listening().port, "POST",
        "/v1/Services/default/Streams/flow/Messages", authorization(),
        "Data=%7B%22from%22%3A%22curl%22%7D");
    QCOMPARE(rest.status, 201);
    QTRY_COMPARE(live->rowCount(), 2);

    // And deletes the stream: the tree follows and the page says so, keeping what it received.
    rest = httpExchange(m_backend->host().listening().port, "DELETE",
        "/v1/Services/default/Streams/flow", authorization());
    QCOMPARE(rest.status, 204);
    QTRY_VERIFY(!m_window->treeModel()
                     ->streamIndex(m_backend.get(), page->stream().serviceSid, streamSid)
                     .isValid());
    QTRY_VERIFY(page->isRemoved());
    QVERIFY(m_window->tabs()->tabText(0).contains(QStringLiteral("removed")));
    QCOMPARE(live->rowCount(), 2);
    QVERIFY(!page->composer()->isEnabled());
}

void TestConsoleFlow::newStreamDialogValidatesAsYouType_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("acceptable");
    QTest::addRow("empty means no unique name") << QString() << true;
    QTest::addRow("plain") << QStringLiteral("orders") << true;
    QTest::addRow("spaces and non-ASCII") << QStringLiteral("a b ü") << true;
    QTest::addRow("320 characters") << QString(320, u'é') << true;
    QTest::addRow("321 characters") << QString(321, u'x') << false;
    QTest::addRow("SID-shaped") << QStringLiteral("TO0123456789abcdef0123456789abcdef") << false;
}

void TestConsoleFlow::newStreamDialogValidatesAsYouType()
{
    QFETCH(QString, name);
    QFETCH(bool, acceptable);
    const QModelIndex service = defaultServiceIndex();
    NewStreamDialog dialog(*m_backend, service.data(ConnectionTreeModel::SidRole).toString());
    dialog.show();
    // keyClicks types ASCII only; other text arrives as an input method would commit it.
    const bool ascii =
        std::all_of(name.cbegin(), name.cend(), [](QChar c) { return c.unicode() < 128; });
    if (ascii)
        QTest::keyClicks(dialog.uniqueNameEdit(), name);
    else
        dialog.uniqueNameEdit()->insert(name);
    QPushButton *create = dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
    QCOMPARE(create->isEnabled(), acceptable);
    // The reason is shown at the field.
    const auto labels = dialog.findChildren<QLabel *>();
    const bool errorShown = std::any_of(labels.cbegin(), labels.cend(), [](QLabel *label) {
        return label->isVisible() && label->text().contains(QStringLiteral("Invalid unique name"));
    });
    QCOMPARE(errorShown, !acceptable);
}

void TestConsoleFlow::duplicateNameIsShownAtTheField()
{
    QVERIFY(httpExchange(m_backend->host().listening().port, "POST", "/v1/Services/default/Streams",
                authorization(), "UniqueName=taken")
                .status
        == 201);
    const QModelIndex service = defaultServiceIndex();
    NewStreamDialog dialog(*m_backend, service.data(ConnectionTreeModel::SidRole).toString());
    dialog.show();
    QTest::keyClicks(dialog.uniqueNameEdit(), QStringLiteral("taken"));
    QTest::mouseClick(
        dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok), Qt::LeftButton);
    const auto errorVisible = [&] {
        const auto labels = dialog.findChildren<QLabel *>();
        return std::any_of(labels.cbegin(), labels.cend(), [](QLabel *label) {
            return label->isVisible() && label->text().contains(QStringLiteral("54301"));
        });
    };
    QTRY_VERIFY(errorVisible());
    QVERIFY(dialog.isVisible()); // still open for a new name
}

void TestConsoleFlow::secretIsMaskedUntilAsked()
{
    ConnectionStatusWidget *status = m_window->statusWidget();
    const QString token = m_backend->authToken();
    QVERIFY(!status->shownSecretText().contains(token));
    const auto buttons = status->findChildren<QToolButton *>();
    QToolButton *show = nullptr;
    for (QToolButton *button : buttons) {
        if (button->isCheckable())
            show = button;
    }
    QVERIFY(show);
    QTest::mouseClick(show, Qt::LeftButton);
    QVERIFY(status->shownSecretText().contains(token));
    QTest::mouseClick(show, Qt::LeftButton);
    QVERIFY(!status->shownSecretText().contains(token));
    // Nothing secret was written to the settings file.
    m_settings->sync();
    QFile file(m_settings->fileName());
    if (file.open(QIODevice::ReadOnly))
        QVERIFY(!file.readAll().contains(token.toUtf8()));
}

void TestConsoleFlow::droppingDeliveryStopsTheLiveViewOnly()
{
    // A stream the user's code publishes to, watched in the console.
    const quint16 port = m_backend->host().listening().port;
    const auto publish = [&](int n) {
        return httpExchange(port, "POST", "/v1/Services/default/Streams/flaky/Messages",
            authorization(), "Data=%7B%22n%22%3A" + QByteArray::number(n) + "%7D")
            .status;
    };
    QCOMPARE(httpExchange(
                 port, "POST", "/v1/Services/default/Streams", authorization(), "UniqueName=flaky")
                 .status,
        201);
    m_window->openStream(m_backend.get(), QStringLiteral("default"), QStringLiteral("flaky"));
    QTRY_VERIFY(m_window->currentPage());
    StreamPage *page = m_window->currentPage();
    LiveMessageModel *live = page->liveView()->model();
    QTRY_VERIFY(page->liveView()->subscription()
        && page->liveView()->subscription()->state() == LiveSubscription::State::Active);
    QCOMPARE(publish(1), 201);
    QTRY_COMPARE(live->rowCount(), 1);

    // Drop 100% from the page's Faults section: the tree marks the stream.
    StreamFaultsWidget *faults = page->faults();
    QVERIFY(faults);
    faults->dropPercent()->setValue(100);
    QTest::mouseClick(faults->applyDelivery(), Qt::LeftButton);
    const QPersistentModelIndex row = m_window->treeModel()->streamIndex(
        m_backend.get(), page->stream().serviceSid, page->stream().sid);
    QTRY_COMPARE(row.data(ConnectionTreeModel::BadgeRole).toString(), QStringLiteral("Fault"));

    // REST publishes still succeed; the live view gets none of them (the section counts them).
    for (int n = 2; n <= 6; ++n)
        QCOMPARE(publish(n), 201);
    faults->refresh();
    QTRY_VERIFY(faults->deliveryState()->text().contains(QStringLiteral("5 dropped")));
    QCOMPARE(live->rowCount(), 1);

    // Off again: the badge goes, and what is published next arrives.
    QTest::mouseClick(faults->deliveryOff(), Qt::LeftButton);
    QTRY_VERIFY(row.data(ConnectionTreeModel::BadgeRole).toString().isEmpty());
    QCOMPARE(publish(7), 201);
    QTRY_COMPARE(live->rowCount(), 2);
    QCOMPARE(live->index(1, 3).data().toString(), QStringLiteral(R"({"n":7})"));
}

QTEST_MAIN(TestConsoleFlow)
#include "tst_consoleflow.moc"
