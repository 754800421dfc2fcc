#include "ui/tree/connectionbadgedelegate.h"

#include "ui/tree/connectiontreemodel.h"

#include <QApplication>
#include <QPainter>
#include <QPainterPath>

namespace streams {

namespace {
constexpr int kGap = 6; // between the name and the pill
constexpr int kPadding = 5; // inside the pill, left and right
// A stream's "Fault" badge: amber, dark enough for white text, unlike any connection's.
constexpr QRgb kFaultColor = 0xbc4c00;

QFont badgeFont(const QFont &base)
{
    QFont font = base;
    font.setBold(true);
    font.setPointSizeF(base.pointSizeF() * 0.8);
    return font;
}

QSize badgeSize(const QFont &base, const QString &text)
{
    const QFontMetrics metrics(badgeFont(base));
    return {metrics.horizontalAdvance(text) + 2 * kPadding, metrics.height() + 2};
}
} // namespace

QColor ConnectionBadgeDelegate::badgeColor(int connectionKind)
{
    using Kind = ConnectionTreeModel::ConnectionKind;
    switch (Kind(connectionKind)) {
    case Kind::Local: return QColor(0x57, 0x60, 0x6a); // neutral: it is always there
    case Kind::Engine: return QColor(0x09, 0x69, 0xda);
    case Kind::Twilio: return QColor(0xd3, 0x1f, 0x3a); // Twilio's red, darkened for white text
    }
    return QColor(0x57, 0x60, 0x6a);
}

void ConnectionBadgeDelegate::paint(
    QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const QString badge = index.data(ConnectionTreeModel::BadgeRole).toString();
    if (badge.isEmpty()) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    QStyleOptionViewItem item = option;
    initStyleOption(&item, index);
    const QSize pill = badgeSize(item.font, badge);

    // The text gives up room for the pill, so a long name elides instead of running under it.
    const QWidget *widget = option.widget;
    QStyle *style = widget ? widget->style() : QApplication::style();
    const QRect fullText = style->subElementRect(QStyle::SE_ItemViewItemText, &item, widget);
    style->drawPrimitive(QStyle::PE_PanelItemViewItem, &item, painter, widget);
    QStyleOptionViewItem narrowed = item;
    narrowed.rect.setRight(option.rect.right() - pill.width() - kGap);
    style->drawControl(QStyle::CE_ItemViewItem, &narrowed, painter, widget);

    const int textWidth = QFontMetrics(item.font).horizontalAdvance(item.text) + 4;
    const int left =
        qMin(fullText.left() + textWidth + kGap, option.rect.right() - pill.width() - 2);
    const QRect rect(
        QPoint(left, option.rect.top() + (option.rect.height() - pill.height()) / 2), pill);

    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    QPainterPath path;
    path.addRoundedRect(
        QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5), pill.height() / 2.0, pill.height() / 2.0);
    const QVariant kind = index.data(ConnectionTreeModel::ConnectionKindRole);
    painter->fillPath(path,
        kind.isValid() ? badgeColor(int(kind.value<ConnectionTreeModel::ConnectionKind>()))
                       : QColor(kFaultColor));
    painter->setPen(Qt::white);
    painter->setFont(badgeFont(item.font));
    painter->drawText(rect, Qt::AlignCenter, badge);
    painter->restore();
}

QSize ConnectionBadgeDelegate::sizeHint(
    const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize size = QStyledItemDelegate::sizeHint(option, index);
    const QString badge = index.data(ConnectionTreeModel::BadgeRole).toString();
    if (!badge.isEmpty()) {
        QStyleOptionViewItem item = option;
        initStyleOption(&item, index);
        size.rwidth() += badgeSize(item.font, badge).width() + kGap;
    }
    return size;
}

} // namespace streams
