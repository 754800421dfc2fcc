#include "ui/mainwindow.h"

#include "backend/backend.h"
#include "ui/connectionfilterproxy.h"
#include "ui/connectionstatuswidget.h"
#include "ui/connectiontreemodel.h"
#include "ui/consolesettings.h"
#include "ui/newservicedialog.h"
#include "ui/newstreamdialog.h"
#include "ui/streampage.h"

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
    createActions();
    statusBar()->addPermanentWidget(m_status, 1);

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
    // Pages first: they may still reference backends owned elsewhere.
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
    m_pendingReveal = PendingReveal{backend, stream.serviceSid, stream.sid};
    m_model->addStream(backend, stream); // lists the service if it was not listed yet
    if (selectStreamNode())
        m_pendingReveal.reset();
}

bool MainWindow::selectStreamNode()
{
    const QModelIndex stream = m_model->streamIndex(
        m_pendingReveal->backend, m_pendingReveal->serviceSid, m_pendingReveal->streamSid);
    if (!stream.isValid())
        return false;
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
        .then(this, [this, backend, serviceId, streamId](const ApiResult<Stream> &stream) {
            if (!stream) {
                statusBar()->showMessage(tr("Cannot open %1/%2: %3 (error %4)")
                                             .arg(serviceId, streamId, stream.error().message())
                                             .arg(stream.error().code()));
                return;
            }
            openStream(backend, *stream);
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
    auto report = [this, backend, kind, serviceSid, sid](const ApiResult<void> &result) {
        if (!result) {
            statusBar()->showMessage(tr("Delete failed: %1 (error %2)")
                                         .arg(result.error().message())
                                         .arg(result.error().code()),
                10000);
            return;
        }
        if (kind == Kind::Service)
            m_model->removeService(backend, sid);
        else
            m_model->removeStream(backend, serviceSid, sid);
        statusBar()->showMessage(tr("Deleted %1").arg(sid), 5000);
    };
    if (kind == Kind::Service)
        backend->deleteService(sid).then(this, report);
    else
        backend->deleteStream(serviceSid, sid).then(this, report);
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

void MainWindow::closeEvent(QCloseEvent *event)
{
    m_settings.setValue(ConsoleSettings::Key::MainWindowGeometry, saveGeometry());
    m_settings.setValue(ConsoleSettings::Key::MainWindowState, saveState());
    m_settings.sync();
    event->accept();
}

} // namespace streams
