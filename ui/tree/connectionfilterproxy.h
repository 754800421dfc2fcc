#pragma once

#include <QSortFilterProxyModel>

namespace streams {

/// Filters the connection tree by name, unique name or SID (case-insensitive), keeping the
/// ancestors of matches. "Load more" rows are hidden while a filter is set: the filter applies
/// to what is loaded.
class ConnectionFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionFilterProxy)

public:
    explicit ConnectionFilterProxy(QObject *parent = nullptr);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
};

} // namespace streams
