#pragma once

#include "api/apierror.h"
#include "api/streammessage.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QTimer>
#include <atomic>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

namespace streams {

class Subscription;

/// What a rule is matched against: a service and a stream, each by SID and unique name.
struct FaultTarget
{
    QString serviceSid;
    QString serviceName;
    QString streamSid; // empty: the request names no stream (services, stream lists)
    QString streamName;
};

/// Which REST requests a `rest_error` rule answers.
enum class FaultScope {
    Any,
    Messages,
    Streams,
    Services
};

/// One fault rule of the control plane (`POST /_engine/faults`): what it matches and what it
/// does. Parsed from and written back to the JSON the control plane speaks.
struct FaultRule
{
    struct RestError
    {
        int status = 429;
        int code = 0; // 0: 20000 + status
        QString message; // empty: "Injected by engine fault rule <id>"
        double probability = 1;
        std::optional<qint64> count; // refusals before the rule stops answering; empty: no end
        QString method; // empty: any
        FaultScope on = FaultScope::Any;
    };
    struct Acted
    {
        quint64 dropped = 0;
        quint64 delayed = 0;
        quint64 reordered = 0;
        quint64 restErrors = 0;
        quint64 disconnected = 0;
        quint64 total() const { return dropped + delayed + reordered + restErrors + disconnected; }
    };

    QString id;
    QString service = QStringLiteral("*");
    QString stream = QStringLiteral("*");
    double drop = 0;
    qint64 delayMs = 0;
    qint64 jitterMs = 0;
    int reorderWindow = 0;
    std::optional<RestError> restError;
    bool disconnect = false;
    std::optional<quint64> seed;
    qint64 createdAtMs = 0;
    Acted acted;

    bool affectsDelivery() const
    {
        return drop > 0 || delayMs > 0 || jitterMs > 0 || reorderWindow > 1;
    }
    bool matches(const FaultTarget &target) const;

    /// The rule a control-plane body asks for (id, created_at and acted are not read). Errors
    /// name the field: 400/20400.
    static std::expected<FaultRule, ApiError> fromJson(const QJsonObject &json);
    QJsonObject toJson() const;
};

/// The engine's fault rules and the faults they inject into live delivery: drops, delays with
/// jitter, and reordering within windows. Lives on the engine's thread and is used only there;
/// deliveries it holds back wait on one timer, by due time, and are never lost to the rule:
/// a rule removed hands what it holds to its subscribers at once.
class FaultRules final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FaultRules)

public:
    /// A window of a reorder rule that has not filled within this long goes out as it is.
    static constexpr int kReorderFlushMs = 200;

    explicit FaultRules(QObject *parent = nullptr);
    ~FaultRules() override;

    /// Adds `rule`, giving it an id ("fault-N") and a creation time; returns it as stored.
    FaultRule add(FaultRule rule, qint64 nowMs);
    bool remove(const QString &id);
    void clear();
    QList<FaultRule> rules() const;
    /// Counts connections a `disconnect` rule closed.
    void countDisconnected(const QString &id, quint64 connections);

    /// Whether any rule touches live delivery (cheap; the publish path asks every time).
    bool affectsDelivery() const { return m_deliveryRules.load(std::memory_order_relaxed) > 0; }
    /// Delivers `message` to `subscribers` through the first matching rule that affects
    /// delivery; false when none matches (the caller delivers as usual).
    bool deliver(const FaultTarget &target, const StreamMessage &message,
        const QList<std::shared_ptr<Subscription>> &subscribers);

    /// The refusal a `rest_error` rule makes of a request (`method` on `scope`, about
    /// `target`), with the id of the rule that made it; counts it.
    struct Refusal
    {
        ApiError error;
        QString ruleId;
    };
    std::optional<Refusal> refuse(
        QByteArrayView method, FaultScope scope, const FaultTarget &target);
    bool hasRestErrors() const { return m_restRules.load(std::memory_order_relaxed) > 0; }

Q_SIGNALS:
    /// A rule was added or removed, or a `rest_error` rule refused the last of its `count`:
    /// what the console marks in its tree changed (on the engine thread).
    void rulesChanged();

private:
    struct Held
    {
        std::weak_ptr<Subscription> subscription;
        StreamMessage message;
    };
    struct Window
    {
        QList<Held> held;
        qint64 flushAtMs = 0;
    };
    struct Active
    {
        FaultRule rule;
        std::mt19937_64 random;
        // Reorder windows by subscriber.
        QHash<const Subscription *, Window> windows;
        double uniform() { return std::uniform_real_distribution<double>(0, 1)(random); }
    };

    void recount();
    void sendLater(Active &active, Held held);
    void release(Active &active, QList<Held> held);
    void onTimer();
    void arm();
    void flushWindows(Active &active, bool all);

    std::vector<std::unique_ptr<Active>> m_rules;
    quint64 m_nextId = 1;
    std::atomic<int> m_deliveryRules{0};
    std::atomic<int> m_restRules{0};

    QElapsedTimer m_monotonic;
    std::multimap<qint64, Held> m_delayed; // by due time (monotonic ms), in arrival order
    QTimer m_timer;
};

} // namespace streams
