#pragma once

#include "api/stream.h"

#include <QMainWindow>
#include <QPointer>
#include <optional>

class QLineEdit;
class QTabWidget;
class QTreeView;
class QLabel;

namespace streams {

class Backend;
class ConnectionFilterProxy;
class ConnectionStatusWidget;
class ConnectionTreeModel;
class ConsoleSettings;
class StreamPage;

/// The console: the connection tree on the left, one tab per watched stream, and the status bar
/// with the current connection's address and credentials.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(ConsoleSettings &settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Shows a connection (not owned) in the tree and expands it.
    void addConnection(Backend *backend);
    /// Opens (or brings forward) the page of a stream.
    StreamPage *openStream(Backend *backend, const Stream &stream);
    /// Looks the stream up by SID or unique name, then opens it; reports failure in the status bar.
    void openStream(Backend *backend, const QString &serviceId, const QString &streamId);

    ConnectionTreeModel *treeModel() const { return m_model; }
    QTreeView *treeView() const { return m_tree; }
    QTabWidget *tabs() const { return m_tabs; }
    ConnectionStatusWidget *statusWidget() const { return m_status; }
    StreamPage *currentPage() const;

    // Actions, public so tests and menus share them.
    QAction *newServiceAction() const { return m_newService; }
    QAction *newStreamAction() const { return m_newStream; }
    QAction *deleteAction() const { return m_delete; }
    QAction *refreshAction() const { return m_refresh; }

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void createTree();
    void updateActions();
    QModelIndex currentSourceIndex() const;
    void activate(const QModelIndex &proxyIndex);
    void showTreeMenu(const QPoint &position);
    void newService();
    void newStream();
    void deleteSelected();
    void copyRole(int role);
    void streamRemoved(Backend *backend, const QString &serviceSid, const QString &streamSid);
    /// Selects a stream in the tree, listing its service first if needed.
    void revealInTree(Backend *backend, const Stream &stream);
    bool selectStreamNode();

    ConsoleSettings &m_settings;
    ConnectionTreeModel *m_model;
    ConnectionFilterProxy *m_proxy;
    QTreeView *m_tree = nullptr;
    QLineEdit *m_filter = nullptr;
    QTabWidget *m_tabs;
    ConnectionStatusWidget *m_status;

    QAction *m_newService = nullptr;
    QAction *m_newStream = nullptr;
    QAction *m_delete = nullptr;
    QAction *m_refresh = nullptr;
    QAction *m_open = nullptr;
    QAction *m_copySid = nullptr;
    QAction *m_copyName = nullptr;
    QAction *m_copyUrl = nullptr;
    QAction *m_loadMore = nullptr;
    QAction *m_closeTab = nullptr;
    QAction *m_focusFilter = nullptr;

    struct PendingReveal
    {
        QPointer<Backend> backend;
        QString serviceSid;
        QString streamSid;
    };
    std::optional<PendingReveal> m_pendingReveal;
};

} // namespace streams
