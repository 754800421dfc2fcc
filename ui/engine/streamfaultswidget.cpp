#include "ui/engine/streamfaultswidget.h"

#include "backend/backend.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHash>
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

bool affectsDelivery(const QJsonObject &rule)
{
    return rule.value(key("drop")).toDouble() > 0 || rule.value(key("delay_ms")).toInt() > 0
        || rule.value(key("jitter_ms")).toInt() > 0
        || rule.value(key("reorder_window")).toInt() > 1;
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
    m_others = new QLabel(this);
    m_others->setWordWrap(true);
    m_others->setToolTip(tr("Engine fault rules that touch this stream among others; the Engine "
                            "menu lists and clears them"));
    m_others->hide();
    layout->addWidget(m_others);
    layout->addStretch();

    connect(m_apply, &QPushButton::clicked, this, &StreamFaultsWidget::setDelivery);
    connect(m_off, &QPushButton::clicked, this, &StreamFaultsWidget::removeDelivery);
    connect(m_fail, &QPushButton::clicked, this, [this] {
        addRule(QJsonObject{{key("service"), m_stream.serviceSid}, {key("stream"), m_stream.sid},
                    {key("rest_error"),
                        QJsonObject{{key("status"), 429}, {key("code"), 54009},
                            {key("count"), m_failCount->value()}, {key("method"), key("POST")},
                            {key("on"), key("messages")}}}},
            [this](const QJsonObject &rule) { m_failRule = rule.value(key("id")).toString(); });
    });
    connect(m_disconnect, &QPushButton::clicked, this, [this] {
        addRule(QJsonObject{{key("service"), m_stream.serviceSid}, {key("stream"), m_stream.sid},
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

void StreamFaultsWidget::setStream(const Stream &stream)
{
    m_stream = stream;
    m_serviceName.clear();
    m_deliveryRule.clear();
    m_failRule.clear();
    m_timer.start();
    refresh();
    // Rules may name the service by its unique name ("default"): learn it to match them.
    if (m_backend) {
        m_backend->fetchService(stream.serviceSid)
            .then(this, [this, sid = stream.serviceSid](const ApiResult<Service> &service) {
                if (service && sid == m_stream.serviceSid) {
                    m_serviceName = service->uniqueName;
                    refresh();
                }
            });
    }
}

void StreamFaultsWidget::addRule(
    const QJsonObject &rule, const std::function<void(const QJsonObject &)> &added)
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
    QJsonObject rule{{key("service"), m_stream.serviceSid}, {key("stream"), m_stream.sid}};
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
    if (!m_backend || m_stream.sid.isEmpty() || m_refreshing || !isVisible())
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
            QHash<QString, QJsonObject> rules;
            for (const QJsonValue &value :
                QJsonDocument::fromJson(reply->body).object().value(key("faults")).toArray()) {
                const QJsonObject rule = value.toObject();
                rules.insert(rule.value(key("id")).toString(), rule);
            }
            // The rules in force here, as the backend noted them on the way (Backend::control).
            const QList<Backend::FaultMark> here = m_backend->faultsOn(m_stream, m_serviceName);
            // A rule set elsewhere (CI, streams-cli, another console) for this stream alone is
            // this section's to show and turn off, as if it had been set here.
            for (const Backend::FaultMark &mark : here) {
                if (mark.stream == u'*')
                    continue;
                const QJsonObject rule = rules.value(mark.id);
                if (m_deliveryRule.isEmpty() && affectsDelivery(rule)) {
                    m_deliveryRule = mark.id;
                    showDeliveryValues(rule);
                } else if (m_failRule.isEmpty() && mark.id != m_deliveryRule
                    && rule.value(key("rest_error")).toObject().value(key("count")).isDouble()) {
                    m_failRule = mark.id;
                }
            }
            QList<QJsonObject> mine;
            QStringList others;
            for (const Backend::FaultMark &mark : here) {
                if (mark.id == m_deliveryRule || mark.id == m_failRule)
                    continue;
                others.append(mark.stream == u'*'
                        ? tr("%1 (every stream): %2").arg(mark.id, mark.summary)
                        : tr("%1: %2").arg(mark.id, mark.summary));
            }
            for (const QString &id : {m_deliveryRule, m_failRule}) {
                if (rules.contains(id))
                    mine.append(rules.value(id));
            }
            showRules(mine);
            m_others->setVisible(!others.isEmpty());
            m_others->setText(tr("Also in force here: %1").arg(others.join(QStringLiteral("; "))));
        });
}

void StreamFaultsWidget::showDeliveryValues(const QJsonObject &rule)
{
    m_drop->setValue(qRound(rule.value(key("drop")).toDouble() * 100));
    m_delay->setValue(rule.value(key("delay_ms")).toInt());
    m_jitter->setValue(rule.value(key("jitter_ms")).toInt());
    const int window = rule.value(key("reorder_window")).toInt();
    m_reorder->setValue(window > 1 ? window : 0);
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
