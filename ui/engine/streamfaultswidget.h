#pragma once

#include "api/stream.h"

#include <QJsonObject>
#include <QPointer>
#include <QTimer>
#include <QWidget>
#include <functional>

class QLabel;
class QPushButton;
class QSpinBox;

namespace streams {

class Backend;

/// The Faults section of a stream's page on an engine connection: break delivery to this
/// stream's subscribers on purpose (drop a share, delay with jitter, reorder within windows),
/// fail the next N publishes with 429 / 54009, and close its live clients now. Each is an engine
/// fault rule (docs/engine.md); what is on shows how often it has acted, read from the engine
/// every second while the section is shown.
class StreamFaultsWidget final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StreamFaultsWidget)

public:
    explicit StreamFaultsWidget(Backend &backend, QWidget *parent = nullptr);
    ~StreamFaultsWidget() override;

    /// The stream whose faults this section shows and sets. Rules set elsewhere for this stream
    /// alone (by SID or unique name) are shown here as if set here; rules that touch it among
    /// others (`*`) are listed below.
    void setStream(const Stream &stream);

    QSpinBox *dropPercent() const { return m_drop; }
    QSpinBox *delayMs() const { return m_delay; }
    QSpinBox *jitterMs() const { return m_jitter; }
    QSpinBox *reorderWindow() const { return m_reorder; }
    QPushButton *applyDelivery() const { return m_apply; }
    QPushButton *deliveryOff() const { return m_off; }
    QLabel *deliveryState() const { return m_deliveryState; }
    QSpinBox *failCount() const { return m_failCount; }
    QPushButton *failPublishes() const { return m_fail; }
    QLabel *failState() const { return m_failState; }
    QPushButton *disconnectNow() const { return m_disconnect; }
    QLabel *disconnectState() const { return m_disconnectState; }
    /// The rules set elsewhere that touch this stream among others; hidden when there are none.
    QLabel *otherRules() const { return m_others; }

    /// Reads this stream's rules from the engine now (the timer does it every second).
    void refresh();

Q_SIGNALS:
    /// A change the engine refused, or could not be asked.
    void failed(const QString &message);

private:
    void setDelivery();
    void removeDelivery();
    void addRule(const QJsonObject &rule, const std::function<void(const QJsonObject &)> &added);
    void showRules(const QList<QJsonObject> &rules);
    void showDeliveryValues(const QJsonObject &rule);

    QPointer<Backend> m_backend;
    Stream m_stream;
    QString m_serviceName; // the service's unique name, once known
    QString m_deliveryRule; // the id of this section's delivery rule, if one is on
    QString m_failRule;
    QSpinBox *m_drop = nullptr;
    QSpinBox *m_delay = nullptr;
    QSpinBox *m_jitter = nullptr;
    QSpinBox *m_reorder = nullptr;
    QPushButton *m_apply = nullptr;
    QPushButton *m_off = nullptr;
    QLabel *m_deliveryState = nullptr;
    QSpinBox *m_failCount = nullptr;
    QPushButton *m_fail = nullptr;
    QLabel *m_failState = nullptr;
    QPushButton *m_disconnect = nullptr;
    QLabel *m_disconnectState = nullptr;
    QLabel *m_others = nullptr;
    QTimer m_timer;
    bool m_refreshing = false;
    quint64 m_changes = 0; // rules added or removed from here; older lists are stale
};

} // namespace streams
