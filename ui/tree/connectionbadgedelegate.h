#pragma once

#include <QStyledItemDelegate>

namespace streams {

/// Paints the connection tree's rows as usual, and on connection rows a small pill after the
/// name saying what the connection is — Local, Engine or Twilio — so several open connections
/// can be told apart at a glance (ConnectionTreeModel::BadgeRole); on stream rows an amber
/// "Fault" pill while an engine fault rule touches the stream.
class ConnectionBadgeDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionBadgeDelegate)

public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter *painter, const QStyleOptionViewItem &option,
        const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;

    /// The pill's colour for a badge, readable on light and dark palettes.
    static QColor badgeColor(int connectionKind);
};

} // namespace streams
