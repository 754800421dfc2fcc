#include "ui/engine/trafficdock.h"

#include "backend/backend.h"
#include "ui/engine/trafficmodel.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QUrl>
#include <QVBoxLayout>

namespace streams {

namespace {
constexpr int kPollMs = 500;
constexpr int kPage = 1000; // the most the engine gives at once
} // namespace

void TrafficFilterProxy::setText(const QString &text)
{
    m_text = text.trimmed();
    invalidateFilter();
}

void TrafficFilterProxy::setStatusClass(int statusClass)
{
    m_statusClass = statusClass;
    invalidateFilter();
}

void TrafficFilterProxy::setStream(const QStringList &ids)
{
    m_stream = ids;
    invalidateFilter();
}

bool TrafficFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    const int statusClass = index.data(TrafficModel::StatusClassRole).toInt();
    if (m_statusClass == 45 ? statusClass < 4 : m_statusClass != 0 && statusClass != m_statusClass)
        return false;
    const QJsonObject entry = index.data(TrafficModel::EntryRole).toJsonObject();
    const QString path =
        QUrl::fromPercentEncoding(entry.value(QLatin1StringView("path")).toString().toUtf8());
    if (!m_stream.isEmpty()) {
        const bool about = std::any_of(m_stream.cbegin(), m_stream.cend(), [&](const QString &id) {
            return !id.isEmpty()
                && (path.contains(QStringLiteral("/Streams/") + id)
                    || path.contains(QStringLiteral("/Streams/") + id + u'/'));
        });
        if (!about)
            return false;
    }
    if (m_text.isEmpty())
        return true;
    for (const char *key : {"method", "who"}) {
        if (entry.value(QLatin1StringView(key)).toString().contains(m_text, Qt::CaseInsensitive))
            return true;
    }
    return path.contains(m_text, Qt::CaseInsensitive);
}

TrafficDock::TrafficDock(QWidget *parent) : QDockWidget(tr("Traffic"), parent)
{
    setObjectName(QStringLiteral("trafficDock"));
    m_model = new TrafficModel(5000, this);
    m_proxy = new TrafficFilterProxy(this);
    m_proxy->setSourceModel(m_model);

    auto *content = new QWidget(this);
    auto *layout = new QVBoxLayout(content);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *bar = new QHBoxLayout;
    m_filter = new QLineEdit(content);
    m_filter->setPlaceholderText(tr("Filter by method, path or who"));
    m_filter->setClearButtonEnabled(true);
    m_status = new QComboBox(content);
    m_status->addItem(tr("Any status"), 0);
    m_status->addItem(tr("2xx"), 2);
    m_status->addItem(tr("3xx"), 3);
    m_status->addItem(tr("4xx"), 4);
    m_status->addItem(tr("5xx"), 5);
    m_status->addItem(tr("Errors (4xx, 5xx)"), 45);
    m_follow = new QCheckBox(tr("Selected stream only"), content);
    auto *copy = new QPushButton(tr("Copy as curl"), content);
    copy->setObjectName(QStringLiteral("copyCurl"));
    bar->addWidget(m_filter, 1);
    bar->addWidget(m_status);
    bar->addWidget(m_follow);
    bar->addWidget(copy);
    layout->addLayout(bar);

    m_note = new QLabel(content);
    m_note->setWordWrap(true);
    m_note->hide();
    layout->addWidget(m_note);

    // Side by side: the dock sits below the pages, wide and short, so the rows get its height.
    auto *split = new QSplitter(Qt::Horizontal, content);
    m_table = new QTableView(split);
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    // Compact rows: a log is read by scanning many lines.
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->setWordWrap(false);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(TrafficModel::Path, QHeaderView::Stretch);
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto *copyAction = new QAction(tr("Copy as curl"), m_table);
    m_table->addAction(copyAction);
    m_details = new QPlainTextEdit(split);
    m_details->setReadOnly(true);
    m_details->setPlaceholderText(tr("Select a row for its details"));
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({3000, 1000}); // proportions
    layout->addWidget(split, 1);
    setWidget(content);

    const auto copyCurl = [this] {
        const QString curl = selectedCurl();
        if (!curl.isEmpty())
            QApplication::clipboard()->setText(curl);
    };
    connect(copy, &QPushButton::clicked, this, copyCurl);
    connect(copyAction, &QAction::triggered, this, copyCurl);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &TrafficFilterProxy::setText);
    connect(m_status, &QComboBox::currentIndexChanged, this,
        [this] { m_proxy->setStatusClass(m_status->currentData().toInt()); });
    connect(m_follow, &QCheckBox::toggled, this, &TrafficDock::applyStreamFilter);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        &TrafficDock::showDetails);

    m_timer.setInterval(kPollMs);
    connect(&m_timer, &QTimer::timeout, this, &TrafficDock::poll);
    // Polled only while someone can see it.
    connect(this, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible && m_backend && m_backend->hasControlPlane()) {
            m_timer.start();
            poll();
        } else {
            m_timer.stop();
        }
    });
}

TrafficDock::~TrafficDock() = default;

void TrafficDock::setConnection(Backend *backend)
{
    if (backend == m_backend)
        return;
    m_backend = backend;
    ++m_generation;
    m_inFlight = false;
    m_after.reset();
    m_model->clear();
    m_details->clear();
    if (!backend) {
        m_note->setText(tr("Select a connection in the tree to see its traffic."));
        m_note->show();
        m_timer.stop();
        return;
    }
    if (!backend->hasControlPlane()) {
        m_note->setText(tr("Twilio's cloud keeps no traffic log the console can read: this view "
                           "shows what reaches a streams-engine (the embedded one, or one at a "
                           "URL). Point your code at an engine to see what it sends."));
        m_note->show();
        m_timer.stop();
        return;
    }
    m_note->hide();
    if (isVisible()) {
        m_timer.start();
        poll();
    }
}

void TrafficDock::setSelectedStream(const QStringList &ids)
{
    m_selectedStream = ids;
    applyStreamFilter();
}

void TrafficDock::applyStreamFilter()
{
    m_proxy->setStream(m_follow->isChecked() ? m_selectedStream : QStringList());
}

void TrafficDock::poll()
{
    if (!m_backend || !m_backend->hasControlPlane() || m_inFlight)
        return;
    m_inFlight = true;
    // The first read takes the most recent page; later ones only what came after.
    const QString path = m_after
        ? QStringLiteral("/_engine/traffic?after=%1&limit=%2").arg(*m_after).arg(kPage)
        : QStringLiteral("/_engine/traffic?limit=%1").arg(kPage);
    const quint64 generation = m_generation;
    m_backend->control("GET", path)
        .then(this, [this, generation](const ApiResult<Backend::ControlReply> &reply) {
            if (generation != m_generation)
                return;
            m_inFlight = false;
            if (!reply) {
                m_note->setText(
                    tr("The traffic log could not be read: %1").arg(reply.error().message()));
                m_note->show();
                return;
            }
            m_note->hide();
            const QJsonObject page = QJsonDocument::fromJson(reply->body).object();
            QList<QJsonObject> entries;
            for (const QJsonValue &entry : page.value(QLatin1StringView("entries")).toArray())
                entries.append(entry.toObject());
            if (!entries.isEmpty())
                m_after = qint64(entries.last().value(QLatin1StringView("id")).toDouble());
            else if (!m_after)
                m_after = qint64(page.value(QLatin1StringView("last_id")).toDouble());
            const bool atEnd =
                m_table->verticalScrollBar()->value() == m_table->verticalScrollBar()->maximum();
            m_model->append(entries);
            if (atEnd && !entries.isEmpty())
                m_table->scrollToBottom();
            // A full page means more is waiting.
            if (entries.size() == kPage)
                QMetaObject::invokeMethod(this, &TrafficDock::poll, Qt::QueuedConnection);
        });
}

QString TrafficDock::selectedCurl() const
{
    const QModelIndex current = m_table->currentIndex();
    if (!current.isValid() || !m_backend)
        return {};
    const QJsonObject entry = current.data(TrafficModel::EntryRole).toJsonObject();
    return TrafficModel::curlCommand(entry, m_backend->endpoint().baseUrl);
}

void TrafficDock::showDetails()
{
    const QModelIndex current = m_table->currentIndex();
    if (!current.isValid()) {
        m_details->clear();
        return;
    }
    const QJsonObject entry = current.data(TrafficModel::EntryRole).toJsonObject();
    QString text = QString::fromUtf8(QJsonDocument(entry).toJson(QJsonDocument::Indented));
    const QString curl = selectedCurl();
    if (!curl.isEmpty())
        text += QStringLiteral("\n") + curl + u'\n';
    m_details->setPlainText(text);
}

} // namespace streams
