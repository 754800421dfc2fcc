#include "ui/tree/connectiontreemodel.h"

#include "api/restjson.h"
#include "backend/backend.h"
#include "backend/remotebackend.h"

#include <QApplication>
#include <QCoreApplication>
#include <QDateTime>
#include <QFont>
#include <QStyle>

namespace streams {

struct ConnectionTreeModel::Node
{
    NodeKind kind = NodeKind::LoadMore;
    quint64 id = 0;
    Node *parent = nullptr;
    std::vector<std::unique_ptr<Node>> children;

    QPointer<Backend> backend; // connections only
    Service service; // services
    Stream stream; // streams

    bool fetchedOnce = false;
    bool loading = false;
    std::optional<QString> nextToken;
    int nextPage = 0;
    std::optional<ApiError> error;
    quint64 generation = 0; // bumped by refresh, so stale pages are ignored
    QList<Stream> pendingStreams; // created here before the service was first listed
    QString connectionProblem; // connections: why it fails or reconnects

    QString sid() const
    {
        switch (kind) {
        case NodeKind::Service: return service.sid;
        case NodeKind::Stream: return stream.sid;
        default: return {};
        }
    }
    bool hasLoadMoreRow() const
    {
        return !children.empty() && children.back()->kind == NodeKind::LoadMore;
    }
    /// The backend of the connection the node is under; null once that has closed.
    Backend *connectionBackend() const
    {
        const Node *node = this;
        while (node && node->kind != NodeKind::Connection)
            node = node->parent;
        return node ? node->backend.data() : nullptr;
    }
};

ConnectionTreeModel::ConnectionTreeModel(QObject *parent)
    : QAbstractItemModel(parent), m_root(std::make_unique<Node>())
{ }

ConnectionTreeModel::~ConnectionTreeModel() = default;

QModelIndex ConnectionTreeModel::addConnection(Backend *backend)
{
    auto node = std::make_unique<Node>();
    node->kind = NodeKind::Connection;
    node->backend = backend;
    const int row = int(m_root->children.size());
    std::vector<std::unique_ptr<Node>> nodes;
    nodes.push_back(std::move(node));
    appendChildren(m_root.get(), std::move(nodes));
    Node *added = m_root->children[row].get();
    connect(backend, &Backend::streamRemoved, this,
        [this, backend](const QString &serviceSid, const QString &streamSid) {
            removeStream(backend, serviceSid, streamSid);
        });
    connect(backend, &Backend::stateChanged, this, [this, id = added->id] {
        if (Node *n = m_live.value(id))
            connectionStateChanged(n);
    });
    connect(backend, &Backend::faultMarksChanged, this, [this, id = added->id] {
        if (Node *n = m_live.value(id))
            faultMarksChanged(n);
    });
    return indexFor(added);
}

void ConnectionTreeModel::faultMarksChanged(Node *connection)
{
    const QList<int> roles{BadgeRole, FaultsRole, Qt::ToolTipRole, Qt::SizeHintRole};
    for (const auto &service : connection->children) {
        // Only the streams listed so far; one range per service.
        const auto &streams = service->children;
        if (service->kind != NodeKind::Service || streams.empty())
            continue;
        Q_EMIT dataChanged(indexFor(streams.front().get()), indexFor(streams.back().get()), roles);
    }
}

QStringList ConnectionTreeModel::faultsOf(const Node *stream) const
{
    const Node *service = stream->parent;
    const Backend *backend = service && service->parent ? service->parent->backend.data() : nullptr;
    if (!backend)
        return {};
    QStringList faults;
    for (const Backend::FaultMark &mark :
        backend->faultsOn(stream->stream, service->service.uniqueName))
        faults.append(QStringLiteral("%1: %2").arg(mark.id, mark.summary));
    return faults;
}

void ConnectionTreeModel::connectionStateChanged(Node *connection)
{
    Backend *backend = connection->backend.data();
    if (backend && backend->state() == Backend::State::Connected) {
        connection->connectionProblem.clear();
        // Pages that failed while the connection was down are read again now that it is back,
        // so the tree heals by itself instead of keeping "Failed — activate to retry" rows.
        if (connection->error && !connection->loading)
            requestPage(connection);
        for (const auto &child : connection->children) {
            if (child->kind == NodeKind::Service && child->error && !child->loading)
                requestPage(child.get());
        }
    }
    nodeChanged(connection);
}

ConnectionTreeModel::ConnectionKind ConnectionTreeModel::connectionKind(const Backend *backend)
{
    if (!backend || backend->endpoint().embedded)
        return ConnectionKind::Local;
    const auto *remote = qobject_cast<const RemoteBackend *>(backend);
    return remote && remote->connection().twilioCloud ? ConnectionKind::Twilio
                                                      : ConnectionKind::Engine;
}

QString ConnectionTreeModel::badgeText(ConnectionKind kind)
{
    switch (kind) {
    case ConnectionKind::Local: return tr("Local");
    case ConnectionKind::Engine: return tr("Engine");
    case ConnectionKind::Twilio: return tr("Twilio");
    }
    return {};
}

void ConnectionTreeModel::setConnectionProblem(const Backend *backend, const QString &problem)
{
    Node *connection = nodeFor(connectionIndex(backend));
    if (!connection || connection->connectionProblem == problem)
        return;
    connection->connectionProblem = problem;
    nodeChanged(connection);
}

void ConnectionTreeModel::removeConnection(Backend *backend)
{
    const QModelIndex index = connectionIndex(backend);
    if (!index.isValid())
        return;
    disconnect(backend, nullptr, this, nullptr);
    removeChild(m_root.get(), nodeFor(index));
}

Backend *ConnectionTreeModel::backend(const QModelIndex &index) const
{
    const Node *node = nodeFor(index);
    return node ? node->connectionBackend() : nullptr;
}

ConnectionTreeModel::NodeKind ConnectionTreeModel::kind(const QModelIndex &index) const
{
    const Node *node = nodeFor(index);
    return node ? node->kind : NodeKind::LoadMore;
}

QModelIndex ConnectionTreeModel::connectionIndex(const Backend *backend) const
{
    for (const auto &child : m_root->children) {
        if (child->backend == backend)
            return indexFor(child.get());
    }
    return {};
}

QModelIndex ConnectionTreeModel::serviceIndex(
    const Backend *backend, const QString &serviceSid) const
{
    const Node *connection = nodeFor(connectionIndex(backend));
    const Node *service = connection ? findChild(connection, serviceSid) : nullptr;
    return service ? indexFor(service) : QModelIndex();
}

QModelIndex ConnectionTreeModel::streamIndex(
    const Backend *backend, const QString &serviceSid, const QString &streamSid) const
{
    const Node *service = nodeFor(serviceIndex(backend, serviceSid));
    const Node *stream = service ? findChild(service, streamSid) : nullptr;
    return stream ? indexFor(stream) : QModelIndex();
}

// -- tree plumbing ---------------------------------------------------------------------------

ConnectionTreeModel::Node *ConnectionTreeModel::nodeFor(const QModelIndex &index) const
{
    if (!index.isValid())
        return nullptr;
    Q_ASSERT(index.model() == this);
    return static_cast<Node *>(index.internalPointer());
}

int ConnectionTreeModel::rowOf(const Node *node) const
{
    if (!node || !node->parent)
        return -1;
    const auto &siblings = node->parent->children;
    for (size_t i = 0; i < siblings.size(); ++i) {
        if (siblings[i].get() == node)
            return int(i);
    }
    return -1;
}

QModelIndex ConnectionTreeModel::indexFor(const Node *node) const
{
    if (!node || node == m_root.get())
        return {};
    return createIndex(rowOf(node), 0, const_cast<Node *>(node));
}

ConnectionTreeModel::Node *ConnectionTreeModel::findChild(
    const Node *parent, const QString &sid) const
{
    for (const auto &child : parent->children) {
        if (child->kind != NodeKind::LoadMore && child->sid() == sid)
            return child.get();
    }
    return nullptr;
}

int ConnectionTreeModel::realChildCount(const Node *node) const
{
    return int(node->children.size()) - (node->hasLoadMoreRow() ? 1 : 0);
}

void ConnectionTreeModel::appendChildren(Node *parent, std::vector<std::unique_ptr<Node>> nodes)
{
    if (nodes.empty())
        return;
    // Real rows go before the "load more" row, which always stays last.
    const int first = realChildCount(parent);
    const int last = first + int(nodes.size()) - 1; // inclusive
    beginInsertRows(indexFor(parent), first, last);
    int row = first;
    for (auto &node : nodes) {
        node->parent = parent;
        node->id = m_nextId++;
        m_live.insert(node->id, node.get());
        parent->children.insert(parent->children.begin() + row++, std::move(node));
    }
    endInsertRows();
}

void ConnectionTreeModel::forget(Node *node)
{
    m_live.remove(node->id);
    for (const auto &child : node->children)
        forget(child.get());
}

void ConnectionTreeModel::removeChild(Node *parent, Node *child)
{
    const int row = rowOf(child);
    if (row < 0)
        return;
    beginRemoveRows(indexFor(parent), row, row);
    forget(child);
    parent->children.erase(parent->children.begin() + row);
    endRemoveRows();
}

void ConnectionTreeModel::setLoadMoreRow(Node *node, bool wanted)
{
    if (wanted == node->hasLoadMoreRow()) {
        if (wanted)
            nodeChanged(node->children.back().get());
        return;
    }
    const int row = int(node->children.size()) - (wanted ? 0 : 1);
    if (wanted) {
        beginInsertRows(indexFor(node), row, row);
        auto loadMore = std::make_unique<Node>();
        loadMore->kind = NodeKind::LoadMore;
        loadMore->parent = node;
        loadMore->id = m_nextId++;
        m_live.insert(loadMore->id, loadMore.get());
        node->children.push_back(std::move(loadMore));
        endInsertRows();
    } else {
        beginRemoveRows(indexFor(node), row, row);
        forget(node->children.back().get());
        node->children.pop_back();
        endRemoveRows();
    }
}

void ConnectionTreeModel::nodeChanged(Node *node)
{
    const QModelIndex index = indexFor(node);
    if (index.isValid())
        Q_EMIT dataChanged(index, index);
}

// -- paging ----------------------------------------------------------------------------------

template<typename Item>
std::vector<std::unique_ptr<ConnectionTreeModel::Node>> ConnectionTreeModel::makeNodes(
    Node *parent, const QList<Item> &items)
{
    std::vector<std::unique_ptr<Node>> nodes;
    nodes.reserve(items.size());
    for (const Item &item : items) {
        auto node = std::make_unique<Node>();
        if constexpr (std::is_same_v<Item, Service>) {
            node->kind = NodeKind::Service;
            node->service = item;
        } else {
            node->kind = NodeKind::Stream;
            node->stream = item;
        }
        node->parent = parent;
        nodes.push_back(std::move(node));
    }
    return nodes;
}

bool ConnectionTreeModel::canFetchMore(const QModelIndex &parent) const
{
    const Node *node = nodeFor(parent);
    if (!node || (node->kind != NodeKind::Connection && node->kind != NodeKind::Service))
        return false;
    // After a failure only an explicit loadMore() retries: views call fetchMore() on their own
    // and would otherwise hammer a failing server.
    if (node->loading || node->error)
        return false;
    return !node->fetchedOnce || node->nextToken.has_value();
}

void ConnectionTreeModel::fetchMore(const QModelIndex &parent)
{
    if (!canFetchMore(parent))
        return;
    requestPage(nodeFor(parent));
}

void ConnectionTreeModel::loadMore(const QModelIndex &index)
{
    Node *node = nodeFor(index);
    if (node && node->kind == NodeKind::LoadMore)
        node = node->parent;
    if (!node || node->loading
        || (node->kind != NodeKind::Connection && node->kind != NodeKind::Service))
        return;
    if (node->fetchedOnce && !node->nextToken && !node->error)
        return;
    requestPage(node);
}

void ConnectionTreeModel::requestPage(Node *node)
{
    Backend *backend = node->connectionBackend();
    if (!backend)
        return;
    node->loading = true;
    node->error.reset();
    // Rows never change inside fetchMore(): views call it from their own rowsInserted handlers,
    // and an insertion there would nest in theirs. An existing "load more" row turns into
    // "Loading…" through dataChanged; rows arrive with the page.
    if (node->hasLoadMoreRow())
        nodeChanged(node->children.back().get());
    nodeChanged(node);

    PageRequest request;
    request.pageSize = m_pageSize;
    request.page = node->nextPage;
    request.pageToken = node->nextToken.value_or(QString());
    const quint64 id = node->id, generation = node->generation;
    const auto accept = [this, id, generation]() -> Node * {
        Node *n = m_live.value(id);
        return n && n->generation == generation ? n : nullptr;
    };
    const auto apply = [this, accept](const auto &page) {
        // then() runs a continuation at once when the future has already finished, which would
        // insert rows inside fetchMore(); always apply pages on a fresh turn of the event loop.
        QMetaObject::invokeMethod(
            this,
            [this, accept, page] {
                if (Node *n = accept()) {
                    if (page)
                        applyPage(n, makeNodes(n, page->items), page->nextPageToken);
                    else
                        loadFailure(n, page.error());
                }
            },
            Qt::QueuedConnection);
    };
    // The continuation's context is the application, not this model: a backend may answer after
    // the model is gone (a window closed while a page loads, a connection settling its requests
    // as it is destroyed), and Qt 6.4 asserts when a context dies before its continuation runs.
    // The application outlives both and runs it on the GUI thread, where the guard is checked.
    QObject *gui = QCoreApplication::instance();
    if (node->kind == NodeKind::Connection)
        backend->listServices(request).then(
            gui, [guard = QPointer(this), apply](const ApiResult<Page<Service>> &page) {
                if (guard)
                    apply(page);
            });
    else
        backend->listStreams(node->service.sid, request)
            .then(gui, [guard = QPointer(this), apply](const ApiResult<Page<Stream>> &page) {
                if (guard)
                    apply(page);
            });
}

void ConnectionTreeModel::applyPage(
    Node *node, std::vector<std::unique_ptr<Node>> items, std::optional<QString> nextToken)
{
    node->loading = false;
    node->fetchedOnce = true;
    node->nextToken = std::move(nextToken);
    ++node->nextPage;
    // Skip what is already here (added by this console since the last page).
    std::erase_if(
        items, [&](const std::unique_ptr<Node> &item) { return findChild(node, item->sid()); });
    appendChildren(node, std::move(items));
    if (!node->pendingStreams.isEmpty()) {
        auto pending = makeNodes(node, std::exchange(node->pendingStreams, {}));
        std::erase_if(pending,
            [&](const std::unique_ptr<Node> &item) { return findChild(node, item->sid()); });
        appendChildren(node, std::move(pending));
    }
    setLoadMoreRow(node, node->nextToken.has_value());
    nodeChanged(node);
}

void ConnectionTreeModel::loadFailure(Node *node, const ApiError &error)
{
    node->loading = false;
    node->error = error;
    // Keep a row the user can activate to try again.
    setLoadMoreRow(node, true);
    nodeChanged(node);
    Q_EMIT loadFailed(indexFor(node), error);
}

void ConnectionTreeModel::refresh(const QModelIndex &index)
{
    Node *node = nodeFor(index);
    if (node && node->kind == NodeKind::Stream)
        node = node->parent;
    if (!node || (node->kind != NodeKind::Connection && node->kind != NodeKind::Service))
        return;
    Backend *backend = node->connectionBackend();
    if (!backend)
        return;
    backend->refreshFaultMarks(); // an engine at a URL tells its rules only when asked
    if (!node->fetchedOnce) {
        requestPage(node);
        return;
    }
    // Re-read as many pages as are shown, then merge: survivors keep their rows.
    ++node->generation;
    node->loading = true;
    node->error.reset();
    nodeChanged(node);
    const int wanted = qMax(1, realChildCount(node));
    const quint64 id = node->id, generation = node->generation;
    const bool services = node->kind == NodeKind::Connection;
    const QString serviceSid = node->service.sid;

    struct Collector
    {
        std::vector<std::unique_ptr<Node>> items;
        int page = 0;
    };
    auto collector = std::make_shared<Collector>();
    auto step = std::make_shared<std::function<void(std::optional<QString>)>>();
    *step = [this, backend = QPointer<Backend>(backend), collector, step, id, generation, wanted,
                services, serviceSid](const std::optional<QString> &token) {
        Node *n = m_live.value(id);
        if (!n || n->generation != generation || !backend) {
            *step = nullptr; // break the self-reference
            return;
        }
        PageRequest request;
        request.pageSize = m_pageSize;
        request.page = collector->page++;
        request.pageToken = token.value_or(QString());
        const auto onPage = [this, collector, step, id, generation, wanted](const auto &result) {
            Node *owner = m_live.value(id);
            if (!owner || owner->generation != generation) {
                *step = nullptr;
                return;
            }
            if (!result) {
                *step = nullptr;
                loadFailure(owner, result.error());
                return;
            }
            auto nodes = makeNodes(owner, result->items);
            for (auto &item : nodes)
                collector->items.push_back(std::move(item));
            if (result->nextPageToken && int(collector->items.size()) < wanted) {
                (*step)(result->nextPageToken);
                return;
            }
            owner->nextPage = collector->page;
            merge(owner, std::move(collector->items), result->nextPageToken);
            *step = nullptr;
        };
        // Spelled out: QFuture::then would take a generic lambda for one wanting the future.
        // Queued for the same reason as in requestPage().
        const auto later = [this, onPage](const auto &result) {
            QMetaObject::invokeMethod(
                this, [onPage, result] { onPage(result); }, Qt::QueuedConnection);
        };
        // The application as context, for the reason given in requestPage().
        QObject *gui = QCoreApplication::instance();
        if (services)
            backend->listServices(request).then(
                gui, [guard = QPointer(this), later](const ApiResult<Page<Service>> &result) {
                    if (guard)
                        later(result);
                });
        else
            backend->listStreams(serviceSid, request)
                .then(gui, [guard = QPointer(this), later](const ApiResult<Page<Stream>> &result) {
                    if (guard)
                        later(result);
                });
    };
    (*step)(std::nullopt);
}

void ConnectionTreeModel::merge(
    Node *node, std::vector<std::unique_ptr<Node>> items, std::optional<QString> nextToken)
{
    node->loading = false;
    node->fetchedOnce = true;
    node->nextToken = std::move(nextToken);

    QSet<QString> present;
    for (const auto &item : items)
        present.insert(item->sid());
    // Rows that are gone, removed from the bottom up so earlier rows keep their numbers.
    for (int row = realChildCount(node) - 1; row >= 0; --row) {
        Node *child = node->children[size_t(row)].get();
        if (!present.contains(child->sid()))
            removeChild(node, child);
    }
    std::vector<std::unique_ptr<Node>> added;
    for (auto &item : items) {
        if (Node *existing = findChild(node, item->sid())) {
            existing->service = item->service;
            existing->stream = item->stream;
            nodeChanged(existing);
        } else {
            added.push_back(std::move(item));
        }
    }
    appendChildren(node, std::move(added));
    setLoadMoreRow(node, node->nextToken.has_value());
    nodeChanged(node);
}

// -- edits from this console and from the backend --------------------------------------------

void ConnectionTreeModel::addService(const Backend *backend, const Service &service)
{
    Node *connection = nodeFor(connectionIndex(backend));
    if (!connection || findChild(connection, service.sid))
        return;
    appendChildren(connection, makeNodes(connection, QList<Service>{service}));
}

void ConnectionTreeModel::addStream(const Backend *backend, const Stream &stream)
{
    Node *service = nodeFor(serviceIndex(backend, stream.serviceSid));
    if (!service || findChild(service, stream.sid))
        return;
    if (!service->fetchedOnce) {
        // Not listed yet: list its first page now and add the new stream with it, so what the
        // user just created is in the tree either way.
        service->pendingStreams.append(stream);
        if (!service->loading && !service->error)
            requestPage(service);
        return;
    }
    appendChildren(service, makeNodes(service, QList<Stream>{stream}));
}

void ConnectionTreeModel::updateStream(const Backend *backend, const Stream &stream)
{
    Node *node = nodeFor(streamIndex(backend, stream.serviceSid, stream.sid));
    if (!node)
        return;
    node->stream = stream;
    nodeChanged(node);
}

void ConnectionTreeModel::removeService(const Backend *backend, const QString &serviceSid)
{
    Node *node = nodeFor(serviceIndex(backend, serviceSid));
    if (node)
        removeChild(node->parent, node);
}

void ConnectionTreeModel::removeStream(
    const Backend *backend, const QString &serviceSid, const QString &streamSid)
{
    Node *node = nodeFor(streamIndex(backend, serviceSid, streamSid));
    if (node)
        removeChild(node->parent, node);
}

// -- QAbstractItemModel ----------------------------------------------------------------------

QModelIndex ConnectionTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    const Node *node = parent.isValid() ? nodeFor(parent) : m_root.get();
    if (!node || column != 0 || row < 0 || row >= int(node->children.size()))
        return {};
    return createIndex(row, 0, node->children[size_t(row)].get());
}

QModelIndex ConnectionTreeModel::parent(const QModelIndex &child) const
{
    const Node *node = nodeFor(child);
    if (!node || !node->parent || node->parent == m_root.get())
        return {};
    return indexFor(node->parent);
}

int ConnectionTreeModel::rowCount(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return 0;
    const Node *node = parent.isValid() ? nodeFor(parent) : m_root.get();
    return node ? int(node->children.size()) : 0;
}

int ConnectionTreeModel::columnCount(const QModelIndex &) const
{
    return 1;
}

bool ConnectionTreeModel::hasChildren(const QModelIndex &parent) const
{
    const Node *node = parent.isValid() ? nodeFor(parent) : m_root.get();
    if (!node)
        return false;
    switch (node->kind) {
    case NodeKind::Connection:
    case NodeKind::Service: return !node->fetchedOnce || !node->children.empty();
    case NodeKind::Stream:
    case NodeKind::LoadMore: return node == m_root.get() && !node->children.empty();
    }
    return false;
}

Qt::ItemFlags ConnectionTreeModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags flags = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (kind(index) != NodeKind::Service && kind(index) != NodeKind::Connection)
        flags |= Qt::ItemNeverHasChildren;
    return flags;
}

namespace {
QString stateText(Backend::State state)
{
    switch (state) {
    case Backend::State::Connecting: return QObject::tr("connecting…");
    case Backend::State::Connected: return QObject::tr("connected");
    case Backend::State::Reconnecting: return QObject::tr("reconnecting…");
    case Backend::State::Disconnected: return QObject::tr("disconnected");
    case Backend::State::Failed: return QObject::tr("failed");
    }
    return {};
}

// The node's text stays one readable line; the whole message is in the tooltip.
QString elidedProblem(const QString &problem)
{
    constexpr qsizetype kMaxChars = 60;
    const QString line = problem.simplified();
    return line.size() <= kMaxChars ? line : line.left(kMaxChars - 1) + QChar(0x2026);
}

QString countdown(qint64 secondsLeft)
{
    if (secondsLeft <= 0)
        return QObject::tr("expiring");
    if (secondsLeft < 120)
        return QObject::tr("%1 s").arg(secondsLeft);
    if (secondsLeft < 7200)
        return QObject::tr("%1 min").arg(secondsLeft / 60);
    if (secondsLeft < 172800)
        return QObject::tr("%1 h").arg(secondsLeft / 3600);
    return QObject::tr("%1 d").arg(secondsLeft / 86400);
}

// Why a connection is failing: what it was told, else its last load error.
QString problemOf(const QString &connectionProblem, const std::optional<ApiError> &error)
{
    return connectionProblem.isEmpty() && error ? error->message() : connectionProblem;
}

QString connectionText(const Backend &backend, const QString &problem, bool loadFailed)
{
    const Backend::State state = backend.state();
    QString text = backend.endpoint().displayName;
    if (state == Backend::State::Failed && !problem.isEmpty())
        text += QStringLiteral(" — ")
            + ConnectionTreeModel::tr("failed: %1").arg(elidedProblem(problem));
    else if (state != Backend::State::Connected)
        text += QStringLiteral(" — ") + stateText(state);
    else if (loadFailed)
        text += QStringLiteral(" — ") + ConnectionTreeModel::tr("error");
    return text;
}

QString connectionToolTip(const Backend &backend, const QString &problem)
{
    using Kind = ConnectionTreeModel::ConnectionKind;
    const Backend::Endpoint endpoint = backend.endpoint();
    const Kind kind = ConnectionTreeModel::connectionKind(&backend);
    QStringList lines{endpoint.displayName,
        kind == Kind::Local        ? ConnectionTreeModel::tr("Embedded engine")
            : kind == Kind::Twilio ? ConnectionTreeModel::tr("Twilio account")
                                   : ConnectionTreeModel::tr("Engine at URL"),
        endpoint.baseUrl, ConnectionTreeModel::tr("Account SID %1").arg(endpoint.accountSid)};
    if (!endpoint.apiKeySid.isEmpty() && !endpoint.embedded)
        lines.append(ConnectionTreeModel::tr("API key %1").arg(endpoint.apiKeySid));
    lines.append(ConnectionTreeModel::tr("State: %1").arg(stateText(backend.state())));
    if (!problem.isEmpty())
        lines.append(problem);
    return lines.join(u'\n');
}

QVariant connectionIcon(const Backend &backend, bool loadFailed)
{
    QStyle *style = QApplication::style();
    switch (backend.state()) {
    case Backend::State::Connecting:
    case Backend::State::Reconnecting: return style->standardIcon(QStyle::SP_BrowserReload);
    case Backend::State::Failed:
    case Backend::State::Disconnected: return style->standardIcon(QStyle::SP_MessageBoxCritical);
    case Backend::State::Connected: break;
    }
    if (loadFailed)
        return style->standardIcon(QStyle::SP_MessageBoxWarning);
    switch (ConnectionTreeModel::connectionKind(&backend)) {
    case ConnectionTreeModel::ConnectionKind::Local:
        return style->standardIcon(QStyle::SP_ComputerIcon);
    case ConnectionTreeModel::ConnectionKind::Engine:
    case ConnectionTreeModel::ConnectionKind::Twilio:
        return style->standardIcon(QStyle::SP_DriveNetIcon);
    }
    return {};
}
} // namespace

QVariant ConnectionTreeModel::data(const QModelIndex &index, int role) const
{
    const Node *node = nodeFor(index);
    if (!node)
        return {};
    if (role >= Qt::UserRole) // the model's own roles, the same for every kind of node
        return roleData(*node, role);
    switch (node->kind) {
    case NodeKind::Connection: return connectionData(*node, role);
    case NodeKind::Service: return serviceData(*node, role);
    case NodeKind::Stream: return streamData(*node, role);
    case NodeKind::LoadMore: return loadMoreData(*node, role);
    }
    return {};
}

QVariant ConnectionTreeModel::roleData(const Node &node, int role) const
{
    const bool isConnection = node.kind == NodeKind::Connection;
    const bool isService = node.kind == NodeKind::Service;
    const bool isStream = node.kind == NodeKind::Stream;
    const Backend *backend = node.connectionBackend();
    switch (role) {
    case KindRole: return QVariant::fromValue(node.kind);
    case SidRole: return node.sid();
    case UniqueNameRole:
        return isService ? node.service.uniqueName : isStream ? node.stream.uniqueName : QString();
    case UrlRole: {
        const QString baseUrl = backend ? backend->endpoint().baseUrl : QString();
        if (isService)
            return restjson::serviceUrl(baseUrl, node.service.sid);
        if (isStream)
            return restjson::streamUrl(baseUrl, node.stream.serviceSid, node.stream.sid);
        return isConnection ? QVariant(baseUrl) : QVariant();
    }
    case ServiceSidRole:
        return isService ? node.service.sid : isStream ? node.stream.serviceSid : QString();
    case ServiceRole: return isService ? QVariant::fromValue(node.service) : QVariant();
    case StreamRole: return isStream ? QVariant::fromValue(node.stream) : QVariant();
    case ErrorRole: return node.error ? node.error->message() : QString();
    case LoadingRole: return node.loading;
    case ConnectionKindRole:
        return isConnection && backend ? QVariant::fromValue(connectionKind(backend)) : QVariant();
    case BadgeRole:
        if (isStream)
            return faultsOf(&node).isEmpty() ? QString() : tr("Fault");
        return isConnection && backend ? badgeText(connectionKind(backend)) : QString();
    case FaultsRole: return isStream ? faultsOf(&node) : QStringList();
    case ConnectionStateRole:
        return isConnection && backend ? QVariant::fromValue(backend->state()) : QVariant();
    case ConnectionProblemRole: return isConnection ? node.connectionProblem : QString();
    default: return {};
    }
}

QVariant ConnectionTreeModel::connectionData(const Node &node, int role)
{
    const Backend *backend = node.backend.data();
    if (!backend)
        return role == Qt::DisplayRole ? QVariant(tr("(closed)")) : QVariant();
    switch (role) {
    case Qt::DisplayRole:
        return connectionText(
            *backend, problemOf(node.connectionProblem, node.error), node.error.has_value());
    case Qt::ToolTipRole:
        return connectionToolTip(*backend, problemOf(node.connectionProblem, node.error));
    case Qt::DecorationRole: return connectionIcon(*backend, node.error.has_value());
    case Qt::FontRole: {
        QFont font;
        font.setBold(true);
        return font;
    }
    case Qt::ForegroundRole:
        if (backend->state() != Backend::State::Connected)
            return QApplication::palette().brush(QPalette::Disabled, QPalette::Text);
        return {};
    default: return {};
    }
}

QVariant ConnectionTreeModel::serviceData(const Node &node, int role)
{
    const Service &s = node.service;
    switch (role) {
    case Qt::DisplayRole:
        if (!s.friendlyName.isEmpty() && !s.uniqueName.isEmpty())
            return QStringLiteral("%1 (%2)").arg(s.friendlyName, s.uniqueName);
        return !s.friendlyName.isEmpty() ? s.friendlyName
            : !s.uniqueName.isEmpty()    ? s.uniqueName
                                         : s.sid;
    case Qt::ToolTipRole: {
        QString tip = s.sid;
        if (node.error)
            tip += u'\n' + node.error->message();
        return tip;
    }
    case Qt::DecorationRole:
        return QApplication::style()->standardIcon(
            node.error ? QStyle::SP_MessageBoxWarning : QStyle::SP_DirIcon);
    default: return {};
    }
}

QVariant ConnectionTreeModel::streamData(const Node &node, int role) const
{
    const Stream &stream = node.stream;
    switch (role) {
    case Qt::DisplayRole: return stream.uniqueName.isEmpty() ? stream.sid : stream.uniqueName;
    case Qt::ToolTipRole: {
        QString tip = stream.sid;
        if (stream.dateExpires) {
            const qint64 left = *stream.dateExpires - QDateTime::currentSecsSinceEpoch();
            tip += u'\n'
                + tr("expires %1 (in %2)")
                      .arg(restjson::formatDate(*stream.dateExpires), countdown(left));
        } else {
            tip += u'\n' + tr("never expires");
        }
        if (const QStringList faults = faultsOf(&node); !faults.isEmpty())
            tip += u'\n' + tr("Engine fault rules in force:") + u'\n' + faults.join(u'\n');
        return tip;
    }
    case Qt::DecorationRole: return QApplication::style()->standardIcon(QStyle::SP_FileIcon);
    default: return {};
    }
}

QVariant ConnectionTreeModel::loadMoreData(const Node &node, int role)
{
    const Node *owner = node.parent;
    switch (role) {
    case Qt::DisplayRole:
        if (owner->loading)
            return tr("Loading…");
        if (owner->error)
            return tr("Failed: %1 — activate to retry").arg(owner->error->message());
        return tr("Load more…");
    case Qt::ForegroundRole:
        return QApplication::palette().brush(QPalette::Disabled, QPalette::Text);
    case Qt::FontRole: {
        QFont font;
        font.setItalic(true);
        return font;
    }
    default: return {};
    }
}

} // namespace streams
