#include "ui/mainwindow.h"

#include "backend/backend.h"
#include "backend/openconnections.h"
#include "profiles/profilestore.h"
#include "profiles/secretstore.h"
#include "ui/common/consolesettings.h"
#include "ui/connections/connectionmanagerdialog.h"
#include "ui/connections/connectionstatuswidget.h"
#include "ui/connections/secretprompt.h"
#include "ui/engine/enginemenu.h"
#include "ui/engine/trafficdock.h"
#include "ui/stream/pagebanner.h"
#include "ui/stream/streampage.h"
#include "ui/tree/connectionbadgedelegate.h"
#include "ui/tree/connectionfilterproxy.h"
#include "ui/tree/connectiontreemodel.h"
#include "ui/tree/newservicedialog.h"
#include "ui/tree/newstreamdialog.h"

#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDockWidget>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QTreeView>
#include <QVBoxLayout>

namespace streams {

using Kind = ConnectionTreeModel::NodeKind;

MainWindow::MainWindow(ConsoleSettings &settings, QWidget *parent)
    : QMainWindow(parent),
      m_settings(settings),
      m_model(new ConnectionTreeModel(this)),
      m_proxy(new ConnectionFilterProxy(this)),
      m_tabs(new QTabWidget(this)),
      m_status(new ConnectionStatusWidget(this))
{
    setWindowTitle(tr("Sync Streams Console"));
    setObjectName(QStringLiteral("MainWindow"));
    m_proxy->setSourceModel(m_model);

    m_tabs->setTabsClosable(true);
    m_tabs->setMovable(true);
    m_tabs->setDocumentMode(true);
    connect(m_tabs, &QTabWidget::tabCloseRequested, this, [this](int index) {
        QWidget *page = m_tabs->widget(index);
        m_tabs->removeTab(index);
        delete page;
    });
    auto *placeholder = new QLabel(
        tr("<h3>No stream open</h3><p>Pick a stream in the tree and press Enter, or create one "
           "with "
           "<b>Ctrl+N</b>.</p><p>Your own code can use this engine too: see the address and "
           "credentials below.</p>"),
        this);
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setWordWrap(true);
    m_tabs->setCornerWidget(nullptr);
    auto *central = new QWidget(this);
    auto *centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->addWidget(m_tabs);
    centralLayout->addWidget(placeholder);
    const auto syncPlaceholder = [this, placeholder] {
        placeholder->setVisible(m_tabs->count() == 0);
        m_tabs->setVisible(m_tabs->count() > 0);
    };
    connect(m_tabs, &QTabWidget::currentChanged, this, syncPlaceholder);
    syncPlaceholder();
    setCentralWidget(central);

    createTree();
    // What reaches the engine, below the pages; hidden until asked for (View → Traffic).
    m_traffic = new TrafficDock(this);
    addDockWidget(Qt::BottomDockWidgetArea, m_traffic);
    m_traffic->hide();
    m_traffic->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
    // Shown the first time with room for a screenful of rows, not the few a bare dock gets (once
    // it is laid out: resizing a dock that is not yet placed does nothing).
    connect(m_traffic, &QDockWidget::visibilityChanged, this,
        [this, sized = false](bool visible) mutable {
            if (!visible || std::exchange(sized, true))
                return;
            QTimer::singleShot(0, this, [this] {
                if (m_traffic->isVisible() && m_traffic->height() < height() / 4)
                    resizeDocks({m_traffic}, {height() / 3}, Qt::Vertical);
            });
        });
    createActions();
    // No stretch: the space on its left is where status messages (showMessage) appear.
    statusBar()->addPermanentWidget(m_status);

    restoreGeometry(m_settings.value(ConsoleSettings::Key::MainWindowGeometry).toByteArray());
    restoreState(m_settings.value(ConsoleSettings::Key::MainWindowState).toByteArray());
    if (m_settings.value(ConsoleSettings::Key::MainWindowGeometry).toByteArray().isEmpty()) {
        // First start: most of the screen, since the live view wants width.
        const QSize available = screen() ? screen()->availableGeometry().size() : QSize(1600, 1000);
        resize(QSize(1280, 800).expandedTo(available * 0.85).boundedTo(available));
    }
    updateActions();
}

MainWindow::~MainWindow()
{
    // The connections opened from profiles go first, while everything their settling requests
    // report to is still whole (see closeConnection()).
    dropConnections();
    // Then the pages: they may still reference backends owned elsewhere.
    while (m_tabs->count() > 0) {
        QWidget *page = m_tabs->widget(0);
        m_tabs->removeTab(0);
        delete page;
    }
}

void MainWindow::createTree()
{
    auto *panel = new QWidget(this);
    auto *layout = new QVBoxLayout(panel);
    layout->setContentsMargins(4, 4, 4, 4);
    m_filter = new QLineEdit(panel);
    m_filter->setPlaceholderText(tr("Filter by name or SID (Ctrl+F)"));
    m_filter->setClearButtonEnabled(true);
    m_tree = new QTreeView(panel);
    m_tree->setModel(m_proxy);
    m_tree->setHeaderHidden(true);
    m_tree->setUniformRowHeights(true);
    m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->setExpandsOnDoubleClick(false);
    m_tree->setItemDelegate(new ConnectionBadgeDelegate(m_tree));
    layout->addWidget(m_filter);
    layout->addWidget(m_tree);

    auto *dock = new QDockWidget(tr("Connections"), this);
    dock->setObjectName(QStringLiteral("connections"));
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    dock->setWidget(panel);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    resizeDocks({dock}, {300}, Qt::Horizontal);

    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setFilterFixedString(text);
        if (!text.isEmpty())
            m_tree->expandAll();
    });
    connect(m_tree, &QTreeView::activated, this, &MainWindow::activate);
    connect(m_tree, &QTreeView::doubleClicked, this, &MainWindow::activate);
    connect(m_tree, &QTreeView::customContextMenuRequested, this, &MainWindow::showTreeMenu);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, [this] {
        updateActions();
        if (Backend *backend = m_model->backend(currentSourceIndex()))
            m_status->setBackend(backend);
    });
    // A connection's state changes what can be done with it (Close, New Service…).
    connect(m_model, &QAbstractItemModel::dataChanged, this, [this] { updateActions(); });
    // A stream being revealed may arrive with a page that is still loading.
    connect(m_model, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_pendingReveal && selectStreamNode())
            m_pendingReveal.reset();
    });
    connect(m_model, &ConnectionTreeModel::loadFailed, this,
        [this](const QModelIndex &, const ApiError &error) {
            statusBar()->showMessage(
                tr("Could not load: %1 (error %2)").arg(error.message()).arg(error.code()), 10000);
        });
}

void MainWindow::createActions()
{
    const auto action = [this](const QString &text, const QKeySequence &shortcut, auto slot) {
        auto *a = new QAction(text, this);
        a->setShortcut(shortcut);
        a->setShortcutContext(Qt::WindowShortcut);
        connect(a, &QAction::triggered, this, slot);
        addAction(a);
        return a;
    };
    m_newService = action(tr("New &Service…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N),
        &MainWindow::newService);
    m_newStream = action(tr("&New Stream…"), QKeySequence::New, &MainWindow::newStream);
    m_delete = action(tr("&Delete…"), QKeySequence::Delete, &MainWindow::deleteSelected);
    m_refresh = action(
        tr("&Refresh"), QKeySequence::Refresh, [this] { m_model->refresh(currentSourceIndex()); });
    m_open = action(tr("&Open Stream"), QKeySequence(Qt::CTRL | Qt::Key_O),
        [this] { activate(m_tree->currentIndex()); });
    m_loadMore = action(
        tr("&Load More"), QKeySequence(), [this] { m_model->loadMore(currentSourceIndex()); });
    m_copySid = action(tr("Copy &SID"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C),
        [this] { copyRole(ConnectionTreeModel::SidRole); });
    m_copyName = action(tr("Copy &Unique Name"), QKeySequence(),
        [this] { copyRole(ConnectionTreeModel::UniqueNameRole); });
    m_copyUrl = action(tr("Copy &URL"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_U),
        [this] { copyRole(ConnectionTreeModel::UrlRole); });
    m_closeTab = action(tr("&Close Stream Tab"), QKeySequence::Close, [this] {
        if (m_tabs->count() > 0)
            Q_EMIT m_tabs->tabCloseRequested(m_tabs->currentIndex());
    });
    m_focusFilter = action(tr("&Filter Tree"), QKeySequence::Find, [this] {
        m_filter->setFocus();
        m_filter->selectAll();
    });
    auto *quit = action(tr("&Quit"), QKeySequence::Quit, &QWidget::close);
    m_manageConnections = action(tr("&Manage Connections…"),
        QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M), [this] { showConnectionManager(); });
    m_closeConnection = action(tr("&Close Connection"), QKeySequence(),
        [this] { closeConnection(m_model->backend(currentSourceIndex())); });

    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_newService);
    file->addAction(m_newStream);
    file->addSeparator();
    file->addAction(m_closeTab);
    file->addAction(quit);
    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_copySid);
    edit->addAction(m_copyName);
    edit->addAction(m_copyUrl);
    edit->addSeparator();
    edit->addAction(m_delete);
    edit->addSeparator();
    edit->addAction(m_focusFilter);
    QMenu *connection = menuBar()->addMenu(tr("&Connection"));
    connection->setObjectName(QStringLiteral("connectionMenu"));
    connection->addAction(m_manageConnections);
    QMenu *openMenu = connection->addMenu(tr("&Open"));
    openMenu->setObjectName(QStringLiteral("openConnectionMenu"));
    connect(openMenu, &QMenu::aboutToShow, this, [this, openMenu] { populateOpenMenu(openMenu); });
    populateOpenMenu(openMenu);
    connection->addAction(m_closeConnection);
    connection->addSeparator();
    // The status bar's button, for the connection it shows.
    connection->addAction(
        action(tr("&Use from Your Code…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Y),
            [this] { m_status->showProxyEnvironment(); }));
    m_engineMenu = new EngineMenu([this] { return m_model->backend(currentSourceIndex()); }, this);
    menuBar()->addMenu(m_engineMenu);
    connect(m_engineMenu, &EngineMenu::message, this,
        [this](const QString &text) { statusBar()->showMessage(text, 15000); });
    connect(m_engineMenu, &EngineMenu::stateReplaced, this, [this](Backend *backend) {
        const QModelIndex index = m_model->connectionIndex(backend);
        if (index.isValid())
            m_model->refresh(index);
    });
    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_refresh);
    view->addAction(m_open);
    view->addAction(m_loadMore);
    view->addSeparator();
    for (QDockWidget *dock : findChildren<QDockWidget *>(QString(), Qt::FindDirectChildrenOnly))
        view->addAction(dock->toggleViewAction());
    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About"), this, [this] {
        QMessageBox::about(this, tr("About Sync Streams Console"),
            tr("<h3>Sync Streams Console %1</h3><p>A desktop console for Twilio Sync "
               "Streams, with an embedded local engine that speaks Twilio's own "
               "protocols.</p>")
                .arg(QApplication::applicationVersion()));
    });
}

QModelIndex MainWindow::currentSourceIndex() const
{
    return m_proxy->mapToSource(m_tree->currentIndex());
}

void MainWindow::updateActions()
{
    const QModelIndex index = currentSourceIndex();
    const Kind kind = index.isValid() ? m_model->kind(index) : Kind::LoadMore;
    const bool resource = index.isValid() && (kind == Kind::Service || kind == Kind::Stream);
    m_newService->setEnabled(index.isValid() && m_model->backend(index));
    m_newStream->setEnabled(index.isValid() && (kind == Kind::Service || kind == Kind::Stream));
    m_delete->setEnabled(resource);
    m_copySid->setEnabled(resource);
    m_copyName->setEnabled(
        resource && !index.data(ConnectionTreeModel::UniqueNameRole).toString().isEmpty());
    m_copyUrl->setEnabled(index.isValid() && kind != Kind::LoadMore);
    m_open->setEnabled(kind == Kind::Stream);
    m_loadMore->setEnabled(index.isValid() && kind != Kind::Stream);
    m_refresh->setEnabled(index.isValid());
    m_manageConnections->setEnabled(m_profiles && m_secrets);
    m_closeConnection->setEnabled(
        m_connections && !m_connections->profileId(m_model->backend(index)).isEmpty());
    m_engineMenu->updateActions();
    m_traffic->setConnection(m_model->backend(index));
    m_traffic->setSelectedStream(kind == Kind::Stream
            ? QStringList{index.data(ConnectionTreeModel::SidRole).toString(),
                index.data(ConnectionTreeModel::UniqueNameRole).toString()}
            : QStringList());
}

void MainWindow::addConnection(Backend *backend)
{
    const QModelIndex index = m_model->addConnection(backend);
    connect(backend, &Backend::streamRemoved, this,
        [this, backend](const QString &service, const QString &stream) {
            streamRemoved(backend, service, stream);
        });
    const QModelIndex proxyIndex = m_proxy->mapFromSource(index);
    m_tree->expand(proxyIndex); // the view fetches the first page of services
    if (!m_tree->currentIndex().isValid())
        m_tree->setCurrentIndex(proxyIndex);
    m_status->setBackend(backend);
}

StreamPage *MainWindow::currentPage() const
{
    return qobject_cast<StreamPage *>(m_tabs->currentWidget());
}

StreamPage *MainWindow::openStream(Backend *backend, const Stream &stream)
{
    for (int i = 0; i < m_tabs->count(); ++i) {
        auto *page = qobject_cast<StreamPage *>(m_tabs->widget(i));
        if (page && page->backend() == backend && page->stream().sid == stream.sid
            && !page->isRemoved()) {
            m_tabs->setCurrentIndex(i);
            return page;
        }
    }
    auto *page = new StreamPage(*backend, stream, m_settings, m_tabs);
    const int index = m_tabs->addTab(page, page->title());
    m_tabs->setTabToolTip(index, stream.sid);
    connect(page, &StreamPage::titleChanged, this, [this, page](const QString &title) {
        const int i = m_tabs->indexOf(page);
        if (i >= 0)
            m_tabs->setTabText(i, title);
    });
    connect(page, &StreamPage::streamUpdated, this,
        [this, backend](const Stream &updated) { m_model->updateStream(backend, updated); });
    m_tabs->setCurrentIndex(index);
    revealInTree(backend, stream);
    return page;
}

void MainWindow::revealInTree(Backend *backend, const Stream &stream)
{
    m_pendingReveal =
        PendingReveal{backend, stream, m_model->serviceIndex(backend, stream.serviceSid).isValid()};
    m_model->addStream(backend, stream); // lists the service if it was not listed yet
    if (selectStreamNode())
        m_pendingReveal.reset();
}

bool MainWindow::selectStreamNode()
{
    PendingReveal &reveal = *m_pendingReveal;
    const QModelIndex stream =
        m_model->streamIndex(reveal.backend, reveal.stream.serviceSid, reveal.stream.sid);
    if (!stream.isValid()) {
        // The stream may have been opened before its service was listed (a --stream at start):
        // once the service is there, ask for the stream under it, once.
        if (!reveal.serviceAsked
            && m_model->serviceIndex(reveal.backend, reveal.stream.serviceSid).isValid()) {
            reveal.serviceAsked = true;
            // Queued: this runs inside the model's rowsInserted, where rows must not change.
            QMetaObject::invokeMethod(
                this,
                [this] {
                    if (m_pendingReveal && m_pendingReveal->backend)
                        m_model->addStream(m_pendingReveal->backend, m_pendingReveal->stream);
                },
                Qt::QueuedConnection);
        }
        return false;
    }
    const QModelIndex proxyIndex = m_proxy->mapFromSource(stream);
    if (!proxyIndex.isValid())
        return true; // filtered out: nothing to select, nothing to wait for
    m_tree->expand(proxyIndex.parent());
    m_tree->setCurrentIndex(proxyIndex);
    m_tree->scrollTo(proxyIndex);
    return true;
}

void MainWindow::openStream(Backend *backend, const QString &serviceId, const QString &streamId)
{
    backend->fetchStream(serviceId, streamId)
        .then(QCoreApplication::instance(),
            [this, window = QPointer(this), guard = QPointer(backend), serviceId, streamId](
                const ApiResult<Stream> &stream) {
                if (!window || !guard)
                    return; // closed meanwhile (see ConnectionTreeModel::requestPage())
                if (!stream) {
                    statusBar()->showMessage(tr("Cannot open %1/%2: %3 (error %4)")
                                                 .arg(serviceId, streamId, stream.error().message())
                                                 .arg(stream.error().code()));
                    return;
                }
                openStream(guard.data(), *stream);
            });
}

void MainWindow::activate(const QModelIndex &proxyIndex)
{
    const QModelIndex index = m_proxy->mapToSource(proxyIndex);
    if (!index.isValid())
        return;
    switch (m_model->kind(index)) {
    case Kind::Stream:
        openStream(
            m_model->backend(index), index.data(ConnectionTreeModel::StreamRole).value<Stream>());
        break;
    case Kind::LoadMore: m_model->loadMore(index); break;
    case Kind::Connection:
    case Kind::Service: m_tree->setExpanded(proxyIndex, !m_tree->isExpanded(proxyIndex)); break;
    }
}

void MainWindow::showTreeMenu(const QPoint &position)
{
    const QModelIndex index = currentSourceIndex();
    if (!index.isValid())
        return;
    updateActions();
    QMenu menu(this);
    switch (m_model->kind(index)) {
    case Kind::Connection:
        menu.addAction(m_newService);
        menu.addAction(m_refresh);
        menu.addSeparator();
        menu.addAction(m_copyUrl);
        menu.addSeparator();
        menu.addAction(m_manageConnections);
        if (m_closeConnection->isEnabled())
            menu.addAction(m_closeConnection);
        break;
    case Kind::Service:
        menu.addAction(m_newStream);
        menu.addAction(m_refresh);
        menu.addSeparator();
        menu.addAction(m_copySid);
        menu.addAction(m_copyName);
        menu.addAction(m_copyUrl);
        menu.addSeparator();
        menu.addAction(m_delete);
        break;
    case Kind::Stream:
        menu.addAction(m_open);
        menu.addAction(m_newStream);
        menu.addAction(m_refresh);
        menu.addSeparator();
        menu.addAction(m_copySid);
        menu.addAction(m_copyName);
        menu.addAction(m_copyUrl);
        menu.addSeparator();
        menu.addAction(m_delete);
        break;
    case Kind::LoadMore: menu.addAction(m_loadMore); break;
    }
    menu.exec(m_tree->viewport()->mapToGlobal(position));
}

void MainWindow::newService()
{
    const QModelIndex index = currentSourceIndex();
    Backend *backend = m_model->backend(index);
    if (!backend)
        return;
    NewServiceDialog dialog(*backend, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_model->addService(backend, dialog.service());
    statusBar()->showMessage(tr("Created service %1").arg(dialog.service().sid), 5000);
}

void MainWindow::newStream()
{
    const QModelIndex index = currentSourceIndex();
    Backend *backend = m_model->backend(index);
    const QString serviceSid = index.data(ConnectionTreeModel::ServiceSidRole).toString();
    if (!backend || serviceSid.isEmpty())
        return;
    NewStreamDialog dialog(*backend, serviceSid, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    openStream(backend, dialog.stream()); // opens the page and selects it in the tree
}

void MainWindow::deleteSelected()
{
    const QModelIndex index = currentSourceIndex();
    Backend *backend = m_model->backend(index);
    const Kind kind = m_model->kind(index);
    if (!backend || (kind != Kind::Service && kind != Kind::Stream))
        return;
    const QString name = index.data(Qt::DisplayRole).toString();
    const QString sid = index.data(ConnectionTreeModel::SidRole).toString();
    const QString serviceSid = index.data(ConnectionTreeModel::ServiceSidRole).toString();
    const QString question = kind == Kind::Service
        ? tr("Delete the service “%1” (%2) and all its streams?").arg(name, sid)
        : tr("Delete the stream “%1” (%2)?").arg(name, sid);
    if (QMessageBox::question(this, tr("Delete"), question, QMessageBox::Yes | QMessageBox::Cancel,
            QMessageBox::Cancel)
        != QMessageBox::Yes)
        return;
    auto report = [this, guard = QPointer<Backend>(backend), kind, serviceSid, sid](
                      const ApiResult<void> &result) {
        Backend *owner = guard.data();
        if (!owner)
            return; // closed meanwhile
        if (!result) {
            const QString text = tr("Delete failed: %1").arg(PageBanner::errorText(result.error()));
            // On the stream's page when it is open, where the user will look for it.
            const QList<StreamPage *> pages =
                kind == Kind::Stream ? pagesOf(owner, sid) : QList<StreamPage *>();
            for (StreamPage *page : pages)
                page->showError(text);
            statusBar()->showMessage(text, 10000);
            return;
        }
        if (kind == Kind::Service)
            m_model->removeService(owner, sid);
        else
            m_model->removeStream(owner, serviceSid, sid);
        statusBar()->showMessage(tr("Deleted %1").arg(sid), 5000);
    };
    // The application as context and a guard, as in ConnectionTreeModel::requestPage().
    const auto guarded = [window = QPointer(this), report](const ApiResult<void> &result) {
        if (window)
            report(result);
    };
    if (kind == Kind::Service)
        backend->deleteService(sid).then(QCoreApplication::instance(), guarded);
    else
        backend->deleteStream(serviceSid, sid).then(QCoreApplication::instance(), guarded);
}

QList<StreamPage *> MainWindow::pagesOf(const Backend *backend, const QString &streamSid) const
{
    QList<StreamPage *> pages;
    for (int i = 0; i < m_tabs->count(); ++i) {
        auto *page = qobject_cast<StreamPage *>(m_tabs->widget(i));
        if (page && page->backend() == backend
            && (streamSid.isEmpty() || page->stream().sid == streamSid))
            pages.append(page);
    }
    return pages;
}

void MainWindow::copyRole(int role)
{
    const QString text = currentSourceIndex().data(role).toString();
    if (!text.isEmpty()) {
        QGuiApplication::clipboard()->setText(text);
        statusBar()->showMessage(tr("Copied %1").arg(text), 3000);
    }
}

void MainWindow::streamRemoved(
    Backend *backend, const QString &serviceSid, const QString &streamSid)
{
    Q_UNUSED(serviceSid)
    for (int i = 0; i < m_tabs->count(); ++i) {
        auto *page = qobject_cast<StreamPage *>(m_tabs->widget(i));
        if (page && page->backend() == backend && page->stream().sid == streamSid)
            page->markRemoved();
    }
}

// -- connections from saved profiles ---------------------------------------------------------

void MainWindow::setProfileStores(ProfileStore &profiles, SecretStore &secrets)
{
    dropConnections();
    m_profiles = &profiles;
    m_secrets = &secrets;
    m_connections = std::make_unique<OpenConnections>(profiles, secrets);
    OpenConnections *connections = m_connections.get();
    connect(connections, &OpenConnections::opening, this, [this](const ConnectionProfile &profile) {
        statusBar()->showMessage(tr("Opening “%1”…").arg(profile.name), 5000);
    });
    connect(connections, &OpenConnections::opened, this, &MainWindow::profileOpened);
    connect(connections, &OpenConnections::openFailed, this,
        [this](const QString &profileId, const QString &reason) {
            statusBar()->showMessage(reason, 10000);
            Q_EMIT openFailed(profileId, reason);
        });
    connect(connections, &OpenConnections::secretNeeded, this, &MainWindow::askForSecret);
    connect(connections, &OpenConnections::secretNotSaved, this,
        [this](const QString &name, const QString &reason) {
            statusBar()->showMessage(
                tr("The secret of “%1” was not saved in the keychain: %2").arg(name, reason),
                10000);
        });
    connect(connections, &OpenConnections::problemFound, this,
        [this](Backend *backend, const ApiError &problem) {
            m_model->setConnectionProblem(backend, PageBanner::errorText(problem));
        });
    connect(connections, &OpenConnections::problemCleared, this,
        [this](Backend *backend) { m_model->setConnectionProblem(backend, QString()); });
    connect(
        connections, &OpenConnections::openProfileIdsChanged, this, [this](const QStringList &ids) {
            if (m_manager)
                m_manager->setOpenProfileIds(ids);
        });
    updateActions();
}

void MainWindow::dropConnections()
{
    // As closeConnection() does, but their open order stays saved for the next start.
    if (!m_connections)
        return;
    QList<StreamPage *> pages;
    for (Backend *backend : m_connections->backends()) {
        if (m_pendingReveal && m_pendingReveal->backend == backend)
            m_pendingReveal.reset();
        m_model->removeConnection(backend);
        pages += pagesOf(backend);
    }
    m_connections.reset();
    for (StreamPage *page : std::as_const(pages)) {
        m_tabs->removeTab(m_tabs->indexOf(page));
        delete page;
    }
}

Backend *MainWindow::profileBackend(const QString &profileId) const
{
    return m_connections ? m_connections->backend(profileId) : nullptr;
}

QStringList MainWindow::openProfileIds() const
{
    return m_connections ? m_connections->openProfileIds() : QStringList();
}

void MainWindow::restoreOpenProfiles()
{
    // Each one reads its secret asynchronously: the window is up and usable meanwhile.
    if (m_connections)
        m_connections->restore();
}

void MainWindow::openProfile(const QString &profileId)
{
    if (!m_connections)
        return;
    if (Backend *open = profileBackend(profileId)) {
        m_tree->setCurrentIndex(m_proxy->mapFromSource(m_model->connectionIndex(open)));
        return;
    }
    m_connections->open(profileId);
}

void MainWindow::askForSecret(const ConnectionProfile &profile, const QString &why)
{
    // OpenConnections asks for one secret at a time, so there is one prompt at a time.
    auto *prompt = new SecretPrompt(profile, why, m_secrets->keychainAvailable(), this);
    prompt->setAttribute(Qt::WA_DeleteOnClose);
    m_prompt = prompt;
    connect(prompt, &QDialog::finished, this, [this, prompt](int result) {
        m_prompt = nullptr;
        if (!m_connections)
            return; // the window is going
        const QString id = prompt->profile().id;
        if (result == QDialog::Accepted)
            m_connections->provideSecret(
                id, prompt->secret(), {prompt->rememberForSession(), prompt->saveInKeychain()});
        else
            m_connections->declineSecret(id);
    });
    prompt->open();
    Q_EMIT secretRequested(prompt);
}

void MainWindow::profileOpened(Backend *backend, const QString &profileId)
{
    addConnection(backend);
    m_tree->setCurrentIndex(m_proxy->mapFromSource(m_model->connectionIndex(backend)));
    m_status->setBackend(backend);
    updateActions();
    Q_EMIT connectionOpened(backend, profileId);
}

void MainWindow::closeConnection(Backend *backend)
{
    const QString profileId = m_connections ? m_connections->profileId(backend) : QString();
    if (profileId.isEmpty())
        return; // the embedded engine, or not ours
    if (m_pendingReveal && m_pendingReveal->backend == backend)
        m_pendingReveal.reset();
    m_model->removeConnection(backend);
    Backend *current = m_model->backend(currentSourceIndex());
    if (!current && m_model->rowCount() > 0)
        current = m_model->backend(m_model->index(0, 0));
    m_status->setBackend(current);

    // The connection goes before its pages, at once: it settles its requests as it is destroyed,
    // and their continuations (a publish in flight, a page of the tree) must find the objects
    // they report to still there. Qt 6.4 asserts on a continuation whose context died first.
    const QList<StreamPage *> pages = pagesOf(backend);
    m_connections->close(backend);
    for (StreamPage *page : pages) {
        m_tabs->removeTab(m_tabs->indexOf(page));
        delete page;
    }
    statusBar()->showMessage(tr("Closed the connection"), 5000);
    updateActions();
    Q_EMIT connectionClosed(profileId);
}

ConnectionManagerDialog *MainWindow::connectionManager() const
{
    return m_manager;
}

SecretPrompt *MainWindow::secretPrompt() const
{
    return m_prompt;
}

ConnectionManagerDialog *MainWindow::showConnectionManager()
{
    if (!m_profiles || !m_secrets)
        return nullptr;
    if (m_manager) {
        m_manager->raise();
        m_manager->activateWindow();
        return m_manager;
    }
    auto *manager = new ConnectionManagerDialog(*m_profiles, *m_secrets, this);
    manager->setAttribute(Qt::WA_DeleteOnClose);
    manager->setOpenProfileIds(m_connections->openProfileIds());
    m_manager = manager;
    connect(manager, &ConnectionManagerDialog::openRequested, this, &MainWindow::openProfile);
    connect(manager, &ConnectionManagerDialog::profileRemoved, this, [this](const QString &id) {
        if (Backend *open = profileBackend(id))
            closeConnection(open);
        m_connections->forget(id);
    });
    manager->open();
    return manager;
}

void MainWindow::populateOpenMenu(QMenu *menu)
{
    menu->clear();
    if (!m_profiles) {
        menu->setEnabled(false);
        return;
    }
    menu->setEnabled(true);
    int added = 0;
    for (const ConnectionProfile &profile : m_profiles->profiles()) {
        if (profile.kind == ConnectionProfile::Kind::LocalEngine)
            continue;
        QAction *open = menu->addAction(
            QStringLiteral("%1 (%2)").arg(profile.name, ConnectionProfile::kindName(profile.kind)),
            this, [this, id = profile.id] { openProfile(id); });
        open->setEnabled(!openProfileIds().contains(profile.id));
        ++added;
    }
    if (added == 0)
        menu->addAction(tr("No saved connections: add one in Manage Connections…"))
            ->setEnabled(false);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    m_settings.setValue(ConsoleSettings::Key::MainWindowGeometry, saveGeometry());
    m_settings.setValue(ConsoleSettings::Key::MainWindowState, saveState());
    m_settings.sync();
    event->accept();
}

} // namespace streams
