#pragma once

#include "api/apierror.h"
#include "api/service.h"
#include "api/stream.h"

#include <QAbstractItemModel>
#include <QHash>
#include <QPointer>
#include <memory>
#include <optional>
#include <vector>

namespace streams {

class Backend;

/// Connections → services → streams, loaded lazily a page at a time. A node with more pages on
/// the server ends in a visible "Load more…" row; views fetch the next page through
/// canFetchMore()/fetchMore() when the user reaches it. Nothing here ever lists a whole service.
/// Refreshing merges by SID, so nodes that still exist keep their persistent indexes (and with
/// them the view's selection); streams removed anywhere vanish as soon as the backend says so.
class ConnectionTreeModel final : public QAbstractItemModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionTreeModel)

public:
    enum class NodeKind {
        Connection,
        Service,
        Stream,
        LoadMore
    };
    Q_ENUM(NodeKind)

    enum Role {
        KindRole = Qt::UserRole + 1, // NodeKind
        SidRole,
        UniqueNameRole,
        UrlRole, // the resource's REST URL on its connection
        ServiceSidRole, // for services and streams
        ServiceRole, // QVariant::fromValue(Service)
        StreamRole, // QVariant::fromValue(Stream)
        ErrorRole, // last load error of the node, empty if none
        LoadingRole, // a page request is in flight for the node
        ConnectionKindRole, // connections: ConnectionKind
        BadgeRole, // connections: "Local", "Engine" or "Twilio"; streams: "Fault" while a rule is
        FaultsRole, // streams: what the engine's fault rules on it do (QStringList), empty if none
        ConnectionStateRole, // connections: Backend::State
        ConnectionProblemRole, // connections: why it is failing or reconnecting, empty if fine
    };

    /// What a connection node points at, for its badge.
    enum class ConnectionKind {
        Local, // the embedded engine
        Engine, // a streams-engine at a URL
        Twilio // Twilio's cloud
    };
    Q_ENUM(ConnectionKind)

    explicit ConnectionTreeModel(QObject *parent = nullptr);
    ~ConnectionTreeModel() override;

    int pageSize() const { return m_pageSize; }
    void setPageSize(int size) { m_pageSize = size; }

    /// Adds a connection (not owned; remove it before destroying it).
    QModelIndex addConnection(Backend *backend);
    void removeConnection(Backend *backend);
    Backend *backend(const QModelIndex &index) const;
    NodeKind kind(const QModelIndex &index) const;
    static ConnectionKind connectionKind(const Backend *backend);
    static QString badgeText(ConnectionKind kind);
    /// Why a connection is failing or reconnecting (the last error without an answer, refused
    /// credentials…), shown on its node; empty clears it. Cleared by itself when it connects.
    void setConnectionProblem(const Backend *backend, const QString &problem);

    QModelIndex connectionIndex(const Backend *backend) const;
    QModelIndex serviceIndex(const Backend *backend, const QString &serviceSid) const;
    QModelIndex streamIndex(
        const Backend *backend, const QString &serviceSid, const QString &streamSid) const;

    /// Fetches the next page under a connection or service, or under the owner of a "load more"
    /// row; also retries after a failure.
    void loadMore(const QModelIndex &index);
    /// Reloads the pages already shown under a connection or service and merges by SID.
    void refresh(const QModelIndex &index);
    /// Adds what this console created, without waiting for a refresh.
    void addService(const Backend *backend, const Service &service);
    void addStream(const Backend *backend, const Stream &stream);
    void updateStream(const Backend *backend, const Stream &stream);
    void removeService(const Backend *backend, const QString &serviceSid);
    void removeStream(const Backend *backend, const QString &serviceSid, const QString &streamSid);

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    bool hasChildren(const QModelIndex &parent = {}) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

Q_SIGNALS:
    /// A page failed to load; the node shows the error too.
    void loadFailed(const QModelIndex &index, const streams::ApiError &error);

private:
    struct Node;
    Node *nodeFor(const QModelIndex &index) const;
    QModelIndex indexFor(const Node *node) const;
    int rowOf(const Node *node) const;
    Node *findChild(const Node *parent, const QString &sid) const;
    int realChildCount(const Node *node) const;
    void setLoadMoreRow(Node *node, bool wanted);
    void appendChildren(Node *parent, std::vector<std::unique_ptr<Node>> nodes);
    void removeChild(Node *parent, Node *child);
    void requestPage(Node *node);
    void applyPage(
        Node *node, std::vector<std::unique_ptr<Node>> items, std::optional<QString> nextToken);
    void merge(
        Node *node, std::vector<std::unique_ptr<Node>> items, std::optional<QString> nextToken);
    void loadFailure(Node *node, const ApiError &error);
    void nodeChanged(Node *node);
    void forget(Node *node);
    void connectionStateChanged(Node *connection);
    /// The connection's fault rules changed: its stream rows' badges may have.
    void faultMarksChanged(Node *connection);
    QStringList faultsOf(const Node *stream) const;
    /// data() for the model's own roles, then for Qt's roles by the kind of node.
    QVariant roleData(const Node &node, int role) const;
    static QVariant connectionData(const Node &node, int role);
    static QVariant serviceData(const Node &node, int role);
    QVariant streamData(const Node &node, int role) const;
    static QVariant loadMoreData(const Node &node, int role);
    template<typename Item>
    std::vector<std::unique_ptr<Node>> makeNodes(Node *parent, const QList<Item> &items);

    std::unique_ptr<Node> m_root;
    QHash<quint64, Node *> m_live; // node id -> node, for continuations that outlive nodes
    quint64 m_nextId = 1;
    int m_pageSize = 50;
};

} // namespace streams
