#include "ui/tree/connectionfilterproxy.h"

#include "ui/tree/connectiontreemodel.h"

namespace streams {

ConnectionFilterProxy::ConnectionFilterProxy(QObject *parent) : QSortFilterProxyModel(parent)
{
    setRecursiveFilteringEnabled(true);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
}

bool ConnectionFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QString pattern = filterRegularExpression().pattern();
    if (pattern.isEmpty())
        return true;
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    const auto kind =
        index.data(ConnectionTreeModel::KindRole).value<ConnectionTreeModel::NodeKind>();
    if (kind == ConnectionTreeModel::NodeKind::LoadMore)
        return false;
    if (kind == ConnectionTreeModel::NodeKind::Connection)
        return false; // shown only as the ancestor of a match
    for (const int role : {int(Qt::DisplayRole), int(ConnectionTreeModel::SidRole),
             int(ConnectionTreeModel::UniqueNameRole)}) {
        if (index.data(role).toString().contains(pattern, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace streams
