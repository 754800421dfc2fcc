#pragma once

#include "api/stream.h"
#include "profiles/connectionprofile.h"

#include <QMainWindow>
#include <QPointer>
#include <memory>
#include <optional>

class QLineEdit;
class QTabWidget;
class QTreeView;
class QLabel;
class QMenu;

namespace streams {

class Backend;
class ConnectionFilterProxy;
class ConnectionManagerDialog;
class EngineMenu;
class OpenConnections;
class ProfileStore;
class SecretStore;
class SecretPrompt;
class ConnectionStatusWidget;
class ConnectionTreeModel;
class ConsoleSettings;
class StreamPage;
class TrafficDock;

/// The console: the connection tree on the left, one tab per watched stream, and the status bar
/// with the current connection's address and credentials. Several connections can be open at
/// once — the embedded engine and any saved profile (an engine at a URL, a Twilio account) —
/// each a node of the tree showing what it is and its state live. Profiles are opened without
/// blocking: the secret comes from the keychain asynchronously, or from a prompt that says why
/// it asks; the set of open profiles is saved and reopened at the next start.
///
/// Errors show where they happened: a failing connection on its tree node, a failed publish,
/// TTL change or delete on the stream's page. Nothing on these paths opens a modal error box.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(ConsoleSettings &settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Shows a connection (not owned) in the tree and expands it.
    void addConnection(Backend *backend);

    /// Turns on saved connections (not owned): the Connection menu, opening profiles, and
    /// restoring the ones open last time.
    void setProfileStores(ProfileStore &profiles, SecretStore &secrets);
    /// The connections opened from profiles (and their remote options); null until
    /// setProfileStores().
    OpenConnections *openConnections() const { return m_connections.get(); }
    /// Opens a saved profile as a connection in the tree: reads its secret without blocking (and
    /// asks for it when the keychain has none), then checks the connection. An open profile is
    /// only selected.
    void openProfile(const QString &profileId);
    /// Opens the profiles that were open when the console last closed (secrets read async).
    void restoreOpenProfiles();
    /// Closes a connection opened from a profile: its pages, its node, the connection. The
    /// embedded engine cannot be closed.
    void closeConnection(Backend *backend);
    /// The connection opened from a profile, if it is open.
    Backend *profileBackend(const QString &profileId) const;
    /// Profiles open or being opened, in the order they were opened.
    QStringList openProfileIds() const;
    /// Shows the connection manager (window-modal, no nested event loop) and returns it.
    ConnectionManagerDialog *showConnectionManager();
    ConnectionManagerDialog *connectionManager() const;
    /// The secret prompt being shown, if any.
    SecretPrompt *secretPrompt() const;
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
    QAction *manageConnectionsAction() const { return m_manageConnections; }
    QAction *closeConnectionAction() const { return m_closeConnection; }

Q_SIGNALS:
    /// A profile's connection is in the tree (its check may still be running).
    void connectionOpened(streams::Backend *backend, const QString &profileId);
    void connectionClosed(const QString &profileId);
    /// A profile was not opened: the prompt was cancelled, or the profile is gone.
    void openFailed(const QString &profileId, const QString &reason);
    /// A secret prompt is shown (window-modal), e.g. for tests to answer it.
    void secretRequested(streams::SecretPrompt *prompt);

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

    void profileOpened(Backend *backend, const QString &profileId);
    /// Closes the profiles' connections with their nodes and pages, keeping their open order.
    void dropConnections();
    void askForSecret(const ConnectionProfile &profile, const QString &why);
    void populateOpenMenu(QMenu *menu);
    QList<StreamPage *> pagesOf(const Backend *backend, const QString &streamSid = {}) const;
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
    QAction *m_manageConnections = nullptr;
    EngineMenu *m_engineMenu = nullptr;
    TrafficDock *m_traffic = nullptr;
    QAction *m_closeConnection = nullptr;

    ProfileStore *m_profiles = nullptr;
    SecretStore *m_secrets = nullptr;
    std::unique_ptr<OpenConnections> m_connections;
    QPointer<SecretPrompt> m_prompt;
    QPointer<ConnectionManagerDialog> m_manager;

    struct PendingReveal
    {
        QPointer<Backend> backend;
        Stream stream;
        bool serviceAsked = false; // addStream() reached the service node
    };
    std::optional<PendingReveal> m_pendingReveal;
};

} // namespace streams
