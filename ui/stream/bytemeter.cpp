#include "ui/stream/bytemeter.h"

#include <QAccessible>
#include <QEvent>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>

namespace streams {

namespace {

constexpr int kBarWidth = 140;
constexpr int kBarHeight = 8;
constexpr int kGap = 8;

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

// Amber and red that keep at least 3:1 against the window (the bar) and 4.5:1 (the words) on
// both a light and a dark palette; Qt's palettes have no warning colours of their own.
QColor amber(const QPalette &palette, bool forText)
{
    if (isDark(palette))
        return QColor(0xFF, 0xB7, 0x4D);
    return forText ? QColor(0x8A, 0x57, 0x00) : QColor(0xB8, 0x73, 0x00);
}

QColor red(const QPalette &palette)
{
    return isDark(palette) ? QColor(0xFF, 0x6B, 0x6B) : QColor(0xC6, 0x28, 0x28);
}

QString stateWords(ByteMeter::Level level)
{
    switch (level) {
    case ByteMeter::Level::Near: return QStringLiteral("near the limit");
    case ByteMeter::Level::Over: return QStringLiteral("over the limit");
    case ByteMeter::Level::Unknown:
    case ByteMeter::Level::Normal: break;
    }
    return {};
}

} // namespace

ByteMeter::ByteMeter(QWidget *parent) : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
    updateAccessibleText();
}

ByteMeter::~ByteMeter() = default;

ByteMeter::Level ByteMeter::levelFor(qsizetype bytes)
{
    if (bytes < 0)
        return Level::Unknown;
    if (bytes > kLimit)
        return Level::Over;
    if (bytes >= kNearThreshold)
        return Level::Near;
    return Level::Normal;
}

QString ByteMeter::formatBytes(qsizetype bytes)
{
    // The console's words are English, so its numbers are too ("4,096", as in the error texts).
    static const QLocale english(QLocale::English, QLocale::UnitedStates);
    return english.toString(static_cast<qlonglong>(bytes));
}

void ByteMeter::setBytes(qsizetype bytes)
{
    bytes = qMax<qsizetype>(-1, bytes);
    if (bytes == m_bytes)
        return;
    m_bytes = bytes;
    updateAccessibleText();
    updateGeometry();
    update();
}

QString ByteMeter::text() const
{
    const QString amount = m_bytes < 0 ? QStringLiteral("—") : formatBytes(m_bytes);
    QString text = QStringLiteral("%1 / %2 bytes").arg(amount, formatBytes(kLimit));
    if (const QString words = stateWords(level()); !words.isEmpty())
        text += QStringLiteral(" · ") + words;
    return text;
}

QColor ByteMeter::barColor() const
{
    switch (level()) {
    case Level::Near: return amber(palette(), false);
    case Level::Over: return red(palette());
    case Level::Unknown:
    case Level::Normal: break;
    }
    return palette().color(QPalette::Highlight);
}

QSize ByteMeter::sizeHint() const
{
    const QFontMetrics metrics = fontMetrics();
    // Wide enough for the longest text so the layout does not jump while typing.
    const QString widest =
        QStringLiteral("0,000 / %1 bytes · over the limit").arg(formatBytes(kLimit));
    return {kBarWidth + kGap + metrics.horizontalAdvance(widest) + 2,
        qMax(metrics.height(), kBarHeight) + 4};
}

QSize ByteMeter::minimumSizeHint() const
{
    return {
        kBarWidth / 2 + kGap + fontMetrics().horizontalAdvance(text()) + 2, sizeHint().height()};
}

void ByteMeter::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    const QPalette &pal = palette();
    const int barWidth = qMin(kBarWidth, qMax(40, width() / 3));
    const QRectF track(0.5, (height() - kBarHeight) / 2.0 + 0.5, barWidth - 1, kBarHeight - 1);

    QPainterPath trackPath;
    trackPath.addRoundedRect(track, kBarHeight / 2.0, kBarHeight / 2.0);
    painter.fillPath(trackPath, pal.color(QPalette::Base));
    if (m_bytes > 0) {
        const double fraction = qMin(1.0, double(m_bytes) / double(kLimit));
        QRectF fill = track;
        fill.setWidth(qMax(double(kBarHeight) - 1, track.width() * fraction));
        QPainterPath fillPath;
        fillPath.addRoundedRect(fill, kBarHeight / 2.0, kBarHeight / 2.0);
        painter.fillPath(fillPath.intersected(trackPath), barColor());
    }
    painter.setPen(QPen(pal.color(QPalette::Mid), 1));
    painter.drawPath(trackPath);

    // The number in the normal text colour; the state in words, coloured and bold.
    const QRect textRect = rect().adjusted(barWidth + kGap, 0, 0, 0);
    const QString amount =
        QStringLiteral("%1 / %2 bytes")
            .arg(m_bytes < 0 ? QStringLiteral("—") : formatBytes(m_bytes), formatBytes(kLimit));
    const QString words = stateWords(level());
    const QString lead = words.isEmpty() ? amount : amount + QStringLiteral(" · ");
    painter.setPen(pal.color(QPalette::WindowText));
    painter.drawText(textRect, Qt::AlignVCenter | Qt::AlignLeft, lead);
    if (!words.isEmpty()) {
        QFont bold = font();
        bold.setBold(true);
        painter.setFont(bold);
        painter.setPen(level() == Level::Over ? red(pal) : amber(pal, true));
        const int x = fontMetrics().horizontalAdvance(lead);
        painter.drawText(textRect.adjusted(x, 0, 0, 0), Qt::AlignVCenter | Qt::AlignLeft, words);
    }
}

void ByteMeter::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange)
        update();
    QWidget::changeEvent(event);
}

void ByteMeter::updateAccessibleText()
{
    const QString description = text();
    setAccessibleName(QStringLiteral("Payload size"));
    setAccessibleDescription(description);
    setToolTip(QStringLiteral("Size of the compact UTF-8 JSON: %1. Amber from %2 bytes, red over "
                              "%3 bytes (not publishable).")
                   .arg(description, formatBytes(kNearThreshold), formatBytes(kLimit)));
    if (QAccessible::isActive()) {
        QAccessibleEvent event(this, QAccessible::DescriptionChanged);
        QAccessible::updateAccessibility(&event);
    }
}

} // namespace streams
