#include "ui/stream/streampage.h"

#include "backend/backend.h"
#include "ui/common/consolesettings.h"
#include "ui/engine/streamfaultswidget.h"
#include "ui/liveview/liveviewwidget.h"
#include "ui/stream/composerwidget.h"
#include "ui/stream/pagebanner.h"
#include "ui/stream/streampropertieswidget.h"

#include <QAction>
#include <QDockWidget>
#include <QScrollArea>
#include <QScrollBar>

namespace streams {

namespace {
enum class Scroll {
    No,
    /// A form that can give up height: it scrolls instead of holding the window to its size,
    /// so a dock below the pages (Traffic) can grow on a small screen.
    Vertically
};

QDockWidget *dock(const QString &title, const QString &objectName, QWidget *content,
    QWidget *parent, Scroll scroll = Scroll::No)
{
    auto *dock = new QDockWidget(title, parent);
    dock->setObjectName(objectName); // saveState/restoreState key
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    if (scroll == Scroll::Vertically) {
        auto *area = new QScrollArea(dock);
        area->setWidgetResizable(true);
        area->setFrameShape(QFrame::NoFrame);
        area->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        area->setWidget(content);
        // As narrow as the form allows, no narrower: a scroll area alone would let it be cut.
        area->setMinimumWidth(
            content->minimumSizeHint().width() + area->verticalScrollBar()->sizeHint().width());
        dock->setWidget(area);
    } else {
        dock->setWidget(content);
    }
    return dock;
}
} // namespace

StreamPage::StreamPage(
    Backend &backend, const Stream &stream, ConsoleSettings &settings, QWidget *parent)
    : QMainWindow(parent),
      m_backend(&backend),
      m_stream(stream),
      m_settings(settings),
      m_properties(new StreamPropertiesWidget(backend, this)),
      m_composer(new ComposerWidget(backend, settings, this)),
      m_liveView(new LiveViewWidget(backend, settings, this)),
      m_banner(new PageBanner(this))
{
    // An inner main window only for its docking: it sits inside a tab of the real one.
    setWindowFlags(Qt::Widget);
    setDockOptions(
        QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks | QMainWindow::AllowNestedDocks);
    setCentralWidget(nullptr);
    // The menu-bar slot spans the page above every dock, whatever their arrangement, and takes
    // no room while the banner is hidden.
    setMenuWidget(m_banner);

    auto *properties = dock(
        tr("Properties"), QStringLiteral("properties"), m_properties, this, Scroll::Vertically);
    auto *composer = dock(tr("Composer"), QStringLiteral("composer"), m_composer, this);
    auto *live = dock(tr("Live messages"), QStringLiteral("live"), m_liveView, this);
    addDockWidget(Qt::LeftDockWidgetArea, properties);
    addDockWidget(Qt::LeftDockWidgetArea, composer);
    addDockWidget(Qt::RightDockWidgetArea, live);
    if (backend.hasControlPlane()) {
        // On an engine: faults on purpose, in a tab beside the properties.
        m_faults = new StreamFaultsWidget(backend, this);
        auto *faults =
            dock(tr("Faults"), QStringLiteral("faults"), m_faults, this, Scroll::Vertically);
        addDockWidget(Qt::LeftDockWidgetArea, faults);
        tabifyDockWidget(properties, faults);
        properties->raise();
        connect(m_faults, &StreamFaultsWidget::failed, this, &StreamPage::showError);
        // From the keyboard: Faults, and back to Properties (when they share a place).
        auto *showFaults = new QAction(tr("Faults"), this);
        showFaults->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_X));
        connect(showFaults, &QAction::triggered, this, [faults, properties] {
            if (faults->visibleRegion().isEmpty()) {
                faults->show();
                faults->raise();
            } else {
                properties->raise();
            }
        });
        addAction(showFaults);
    }
    m_layoutRestored =
        restoreState(m_settings.value(ConsoleSettings::Key::StreamPageState).toByteArray());

    m_properties->setStream(stream);
    m_composer->setStream(stream.serviceSid, stream.sid);
    m_liveView->setStream(stream.serviceSid, stream.sid);
    if (m_faults)
        m_faults->setStream(stream);

    connect(
        m_properties, &StreamPropertiesWidget::streamUpdated, this, [this](const Stream &updated) {
            m_stream = updated;
            Q_EMIT streamUpdated(updated);
        });
    connect(m_properties, &StreamPropertiesWidget::expired, this, &StreamPage::markRemoved);
    connect(m_composer, &ComposerWidget::publishFailed, this, [this](const ApiError &error) {
        showError(tr("Publish failed: %1").arg(PageBanner::errorText(error)));
    });
    connect(
        m_properties, &StreamPropertiesWidget::updateFailed, this, [this](const ApiError &error) {
            showError(tr("The TTL was not changed: %1").arg(PageBanner::errorText(error)));
        });
    connect(m_liveView, &LiveViewWidget::streamRemoved, this, &StreamPage::markRemoved);
    connect(m_liveView, &LiveViewWidget::replayFailed, this, &StreamPage::showError);
}

StreamPage::~StreamPage()
{
    m_settings.setValue(ConsoleSettings::Key::StreamPageState, saveState());
}

void StreamPage::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    if (m_sized || m_layoutRestored)
        return;
    m_sized = true;
    // First layout, once the page has a size: the live view gets most of the width and the
    // composer most of the left column's height.
    const auto docks = findChildren<QDockWidget *>();
    QDockWidget *properties = nullptr, *composer = nullptr, *live = nullptr;
    for (QDockWidget *d : docks) {
        if (d->objectName() == u"properties")
            properties = d;
        else if (d->objectName() == u"composer")
            composer = d;
        else if (d->objectName() == u"live")
            live = d;
    }
    if (!properties || !composer || !live)
        return;
    resizeDocks({properties, live}, {width() / 3, width() * 2 / 3}, Qt::Horizontal);
    resizeDocks({properties, composer}, {height() * 9 / 20, height() * 11 / 20}, Qt::Vertical);
}

void StreamPage::showError(const QString &text)
{
    m_banner->showMessage(PageBanner::Kind::Error, text);
}

QString StreamPage::title() const
{
    const QString name = m_stream.uniqueName.isEmpty() ? m_stream.sid : m_stream.uniqueName;
    return m_removed ? tr("%1 (removed)").arg(name) : name;
}

void StreamPage::markRemoved()
{
    if (m_removed)
        return;
    m_removed = true;
    // What arrived stays readable and exportable; nothing can be written to a gone stream.
    m_composer->setEnabled(false);
    m_properties->setEnabled(false);
    Q_EMIT titleChanged(title());
}

} // namespace streams
