#include "ui/engine/streamfaultswidget.h"

#include "backend/backend.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace streams {

namespace {
QLatin1StringView key(const char *name)
{
    return QLatin1StringView(name);
}

QSpinBox *spin(QWidget *parent, int minimum, int maximum, const QString &suffix)
{
    auto *box = new QSpinBox(parent);
    box->setRange(minimum, maximum);
    box->setSuffix(suffix);
    return box;
}

int acted(const QJsonObject &rule, const char *what)
{
    return rule.value(key("acted")).toObject().value(key(what)).toInt();
}
} // namespace

StreamFaultsWidget::StreamFaultsWidget(Backend &backend, QWidget *parent)
    : QWidget(parent), m_backend(&backend)
{
    auto *layout = new QVBoxLayout(this);

    auto *delivery = new QGroupBox(tr("Delivery to subscribers"), this);
    auto *form = new QFormLayout(delivery);
    m_drop = spin(delivery, 0, 100, tr(" %"));
    m_drop->setToolTip(tr("Each delivery to each subscriber is lost with this probability"));
    m_delay = spin(delivery, 0, 60'000, tr(" ms"));
    m_jitter = spin(delivery, 0, 60'000, tr(" ms"));
    auto *delayRow = new QHBoxLayout;
    delayRow->addWidget(m_delay);
    delayRow->addWidget(new QLabel(tr("±"), delivery));
    delayRow->addWidget(m_jitter);
    m_reorder = spin(delivery, 0, 1000, tr(" messages"));
    m_reorder->setSpecialValueText(tr("off"));
    m_reorder->setToolTip(tr("Deliveries are shuffled within windows of this many messages"));
    form->addRow(tr("Drop"), m_drop);
    form->addRow(tr("Delay"), delayRow);
    form->addRow(tr("Reorder window"), m_reorder);
    auto *buttons = new QHBoxLayout;
    m_apply = new QPushButton(tr("Apply"), delivery);
    m_off = new QPushButton(tr("Off"), delivery);
    buttons->addWidget(m_apply);
    buttons->addWidget(m_off);
    buttons->addStretch();
    form->addRow(buttons);
    m_deliveryState = new QLabel(delivery);
    m_deliveryState->setWordWrap(true);
    form->addRow(m_deliveryState);
    layout->addWidget(delivery);

    auto *publishes = new QGroupBox(tr("Publishes"), this);
    auto *publishRow = new QHBoxLayout(publishes);
    m_fail = new QPushButton(tr("Fail the next"), publishes);
    m_failCount = spin(publishes, 1, 1000, tr(" with 429"));
    m_failCount->setValue(3);
    m_failState = new QLabel(publishes);
    publishRow->addWidget(m_fail);
    publishRow->addWidget(m_failCount);
    publishRow->addWidget(m_failState, 1);
    layout->addWidget(publishes);

    auto *live = new QGroupBox(tr("Live clients"), this);
    auto *liveRow = new QHBoxLayout(live);
    m_disconnect = new QPushButton(tr("Disconnect Now"), live);
    m_disconnect->setToolTip(tr("Close the live connections subscribed to this stream, as a "
                                "service going away would; the SDKs reconnect"));
    m_disconnectState = new QLabel(live);
    liveRow->addWidget(m_disconnect);
    liveRow->addWidget(m_disconnectState, 1);
    layout->addWidget(live);
    layout->addStretch();

    connect(m_apply, &QPushButton::clicked, this, &StreamFaultsWidget::setDelivery);
    connect(m_off, &QPushButton::clicked, this, &StreamFaultsWidget::removeDelivery);
    connect(m_fail, &QPushButton::clicked, this, [this] {
        addRule(QJsonObject{{key("service"), m_serviceSid}, {key("stream"), m_streamSid},
                    {key("rest_error"),
                        QJsonObject{{key("status"), 429}, {key("code"), 54009},
                            {key("count"), m_failCount->value()}, {key("method"), key("POST")},
                            {key("on"), key("messages")}}}},
            [this](const QJsonObject &rule) { m_failRule = rule.value(key("id")).toString(); });
    });
    connect(m_disconnect, &QPushButton::clicked, this, [this] {
        addRule(QJsonObject{{key("service"), m_serviceSid}, {key("stream"), m_streamSid},
                    {key("disconnect"), true}},
            [this](const QJsonObject &rule) {
                // It acted once, when added; nothing of it is left to keep.
                m_disconnectState->setText(
                    tr("closed %n connection(s)", nullptr, acted(rule, "disconnected")));
                if (m_backend)
                    m_backend->control("DELETE",
                        QStringLiteral("/_engine/faults/") + rule.value(key("id")).toString());
            });
    });
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &StreamFaultsWidget::refresh);
    showRules({});
}

StreamFaultsWidget::~StreamFaultsWidget() = default;

void StreamFaultsWidget::setStream(const QString &serviceSid, const QString &streamSid)
{
    m_serviceSid = serviceSid;
    m_streamSid = streamSid;
    m_deliveryRule.clear();
    m_failRule.clear();
    m_timer.start();
    refresh();
}

void StreamFaultsWidget::addRule(
    const QJsonObject &rule, std::function<void(const QJsonObject &)> added)
{
    if (!m_backend)
        return;
    ++m_changes;
    m_backend
        ->control("POST", QStringLiteral("/_engine/faults"),
            QJsonDocument(rule).toJson(QJsonDocument::Compact))
        .then(this, [this, added](const ApiResult<Backend::ControlReply> &reply) {
            if (!reply) {
                Q_EMIT failed(tr("The fault was not set: %1").arg(reply.error().message()));
                return;
            }
            ++m_changes;
            added(QJsonDocument::fromJson(reply->body).object());
            refresh();
        });
}

void StreamFaultsWidget::setDelivery()
{
    QJsonObject rule{{key("service"), m_serviceSid}, {key("stream"), m_streamSid}};
    if (m_drop->value() > 0)
        rule.insert(key("drop"), m_drop->value() / 100.0);
    if (m_delay->value() > 0 || m_jitter->value() > 0) {
        rule.insert(key("delay_ms"), m_delay->value());
        rule.insert(key("jitter_ms"), m_jitter->value());
    }
    if (m_reorder->value() > 0)
        rule.insert(key("reorder_window"), qMax(2, m_reorder->value()));
    if (rule.size() == 2) {
        removeDelivery();
        return;
    }
    // One delivery rule per stream from here: the new one replaces the old.
    const QString previous = m_deliveryRule;
    addRule(rule, [this, previous](const QJsonObject &added) {
        m_deliveryRule = added.value(key("id")).toString();
        if (!previous.isEmpty() && m_backend)
            m_backend->control("DELETE", QStringLiteral("/_engine/faults/") + previous);
    });
}

void StreamFaultsWidget::removeDelivery()
{
    if (!m_backend || m_deliveryRule.isEmpty())
        return;
    const QString id = std::exchange(m_deliveryRule, QString());
    ++m_changes;
    m_backend->control("DELETE", QStringLiteral("/_engine/faults/") + id)
        .then(this, [this](const ApiResult<Backend::ControlReply> &) {
            ++m_changes;
            refresh();
        });
}

void StreamFaultsWidget::refresh()
{
    if (!m_backend || m_streamSid.isEmpty() || m_refreshing || !isVisible())
        return;
    m_refreshing = true;
    const quint64 asked = m_changes;
    m_backend->control("GET", QStringLiteral("/_engine/faults"))
        .then(this, [this, asked](const ApiResult<Backend::ControlReply> &reply) {
            m_refreshing = false;
            if (asked != m_changes) {
                // A rule was added or removed while this list was on its way: it is stale.
                refresh();
                return;
            }
            if (!reply)
                return;
            QList<QJsonObject> mine;
            for (const QJsonValue &value :
                QJsonDocument::fromJson(reply->body).object().value(key("faults")).toArray()) {
                const QJsonObject rule = value.toObject();
                const QString id = rule.value(key("id")).toString();
                if (id == m_deliveryRule || id == m_failRule)
                    mine.append(rule);
            }
            showRules(mine);
        });
}

void StreamFaultsWidget::showRules(const QList<QJsonObject> &rules)
{
    QJsonObject delivery, failing;
    for (const QJsonObject &rule : rules) {
        if (rule.value(key("id")).toString() == m_deliveryRule)
            delivery = rule;
        else
            failing = rule;
    }
    if (delivery.isEmpty()) {
        if (!m_deliveryRule.isEmpty())
            m_deliveryRule.clear(); // removed elsewhere (Engine menu, CLI, reset)
        m_deliveryState->setText(tr("Off: every delivery goes out at once, in order."));
        m_off->setEnabled(false);
    } else {
        m_deliveryState->setText(tr("<b>On</b> (%1): %2 dropped, %3 delayed, %4 reordered so far")
                                     .arg(delivery.value(key("id")).toString())
                                     .arg(acted(delivery, "dropped"))
                                     .arg(acted(delivery, "delayed"))
                                     .arg(acted(delivery, "reordered")));
        m_off->setEnabled(true);
    }
    if (failing.isEmpty()) {
        m_failRule.clear();
        m_failState->setText(tr("Off"));
    } else {
        const int count = failing.value(key("rest_error")).toObject().value(key("count")).toInt();
        const int done = acted(failing, "rest_errors");
        m_failState->setText(done >= count
                ? tr("Done: %n publish(es) failed", nullptr, done)
                : tr("<b>On</b>: %1 of %2 failed so far").arg(done).arg(count));
    }
}

} // namespace streams
