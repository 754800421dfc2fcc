#include "ui/stream/pagebanner.h"

#include "api/apierror.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QStyle>
#include <QToolButton>

namespace streams {

PageBanner::PageBanner(QWidget *parent)
    : QFrame(parent),
      m_icon(new QLabel(this)),
      m_label(new QLabel(this)),
      m_close(new QToolButton(this))
{
    setObjectName(QStringLiteral("pageBanner"));
    m_label->setObjectName(QStringLiteral("pageBannerText"));
    m_label->setWordWrap(true);
    m_label->setTextFormat(Qt::PlainText);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_label->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    m_close->setObjectName(QStringLiteral("pageBannerClose"));
    m_close->setAutoRaise(true);
    m_close->setIcon(style()->standardIcon(QStyle::SP_TitleBarCloseButton));
    m_close->setToolTip(tr("Dismiss"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 4, 4);
    layout->setSpacing(8);
    layout->addWidget(m_icon, 0, Qt::AlignTop);
    layout->addWidget(m_label, 1);
    layout->addWidget(m_close, 0, Qt::AlignTop);
    connect(m_close, &QToolButton::clicked, this, [this] {
        clear();
        Q_EMIT dismissed();
    });
    applyStyle();
    hide();
}

PageBanner::~PageBanner() = default;

void PageBanner::showMessage(Kind kind, const QString &text)
{
    if (isVisibleTo(parentWidget()) && kind == m_kind && text == m_text) {
        ++m_count;
    } else {
        m_kind = kind;
        m_text = text;
        m_count = 1;
        applyStyle();
    }
    m_lastShown = QDateTime::currentDateTime();
    render();
    show();
}

void PageBanner::clear()
{
    m_text.clear();
    m_count = 0;
    m_label->clear();
    hide();
}

QString PageBanner::errorText(const ApiError &error)
{
    if (error.isConnectionFailure() || error.code() == 0)
        return error.message();
    return tr("%1 (error %2)").arg(error.message()).arg(error.code());
}

QString PageBanner::displayedText() const
{
    return isVisibleTo(parentWidget()) ? m_label->text() : QString();
}

void PageBanner::render()
{
    const QString time = m_lastShown.toString(QStringLiteral("HH:mm:ss"));
    // The count and the time tell a user who looks later whether it is still happening.
    m_label->setText(
        m_count > 1 ? tr("%1 (×%2, last at %3)").arg(m_text).arg(m_count).arg(time) : m_text);
    m_label->setToolTip(tr("At %1").arg(time));
}

void PageBanner::applyStyle()
{
    // A tinted strip that reads on light and dark palettes alike: the text keeps the palette's
    // own colour and only the background and border carry the hue.
    const char *rgb = "9, 105, 218";
    QStyle::StandardPixmap icon = QStyle::SP_MessageBoxInformation;
    switch (m_kind) {
    case Kind::Info: break;
    case Kind::Warning:
        rgb = "191, 135, 0";
        icon = QStyle::SP_MessageBoxWarning;
        break;
    case Kind::Error:
        rgb = "207, 34, 46";
        icon = QStyle::SP_MessageBoxCritical;
        break;
    }
    const QString colour = QString::fromLatin1(rgb);
    setStyleSheet(QStringLiteral("QFrame#pageBanner { background-color: rgba(%1, 0.14);"
                                 " border: 1px solid rgba(%1, 0.55); border-radius: 3px; }")
                      .arg(colour));
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, this);
    m_icon->setPixmap(style()->standardIcon(icon).pixmap(size, size));
}

} // namespace streams
