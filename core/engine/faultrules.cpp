#include "engine/faultrules.h"

#include "engine/subscription.h"

#include <QDateTime>
#include <QJsonArray>
#include <QLocale>
#include <QTimeZone>
#include <algorithm>
#include <cmath>

namespace streams {

namespace {
constexpr qint64 kMaxDelayMs = 60'000;
constexpr int kMaxReorderWindow = 1000;

QLatin1StringView key(const char *name)
{
    return QLatin1StringView(name);
}

ApiError invalid(const QString &field, const QString &reason)
{
    return ApiError::invalidParameter(field, reason);
}

// A number in [minimum, maximum] at `field` of `json`, if present.
std::expected<std::optional<double>, ApiError> number(const QJsonObject &json, const char *name,
    const QString &field, double minimum, double maximum, bool integral)
{
    const QJsonValue value = json.value(key(name));
    if (value.isUndefined() || value.isNull())
        return std::optional<double>();
    const double n = value.toDouble(std::nan(""));
    if (!value.isDouble() || !std::isfinite(n) || n < minimum || n > maximum
        || (integral && n != std::floor(n)))
        return std::unexpected(invalid(field,
            QStringLiteral("must be %1 from %2 to %3")
                .arg(integral ? QStringLiteral("a whole number") : QStringLiteral("a number"))
                .arg(
                    minimum, 0, integral ? 'f' : 'g', integral ? 0 : QLocale::FloatingPointShortest)
                .arg(maximum, 0, integral ? 'f' : 'g',
                    integral ? 0 : QLocale::FloatingPointShortest)));
    return std::optional<double>(n);
}

std::expected<QString, ApiError> target(const QJsonObject &json, const char *name)
{
    const QJsonValue value = json.value(key(name));
    if (value.isUndefined() || value.isNull())
        return QStringLiteral("*");
    if (!value.isString() || value.toString().isEmpty())
        return std::unexpected(invalid(
            QString::fromLatin1(name), QStringLiteral("must be a SID, a unique name or \"*\"")));
    return value.toString();
}

std::expected<void, ApiError> onlyKnownKeys(
    const QJsonObject &json, std::initializer_list<const char *> known, const QString &prefix)
{
    for (auto it = json.begin(); it != json.end(); ++it) {
        const bool isKnown = std::any_of(known.begin(), known.end(),
            [&](const char *name) { return it.key() == QLatin1StringView(name); });
        if (!isKnown)
            return std::unexpected(
                invalid(prefix + it.key(), QStringLiteral("is not a field of a fault rule")));
    }
    return {};
}

QString scopeName(FaultScope scope)
{
    switch (scope) {
    case FaultScope::Messages: return QStringLiteral("messages");
    case FaultScope::Streams: return QStringLiteral("streams");
    case FaultScope::Services: return QStringLiteral("services");
    case FaultScope::Any: break;
    }
    return QStringLiteral("*");
}

bool matchesOne(const QString &pattern, const QString &sid, const QString &name)
{
    return pattern == u"*" || pattern == sid || (!name.isEmpty() && pattern == name);
}
} // namespace

bool FaultRule::matches(const FaultTarget &target) const
{
    if (!matchesOne(service, target.serviceSid, target.serviceName))
        return false;
    if (stream == u"*")
        return true;
    return !target.streamSid.isEmpty() && matchesOne(stream, target.streamSid, target.streamName);
}

std::expected<FaultRule, ApiError> FaultRule::fromJson(const QJsonObject &json)
{
    if (auto known = onlyKnownKeys(json,
            {"service", "stream", "drop", "delay_ms", "jitter_ms", "reorder_window", "rest_error",
                "disconnect", "seed"},
            {});
        !known)
        return std::unexpected(known.error());
    FaultRule rule;
    auto service = target(json, "service");
    if (!service)
        return std::unexpected(service.error());
    rule.service = *service;
    auto stream = target(json, "stream");
    if (!stream)
        return std::unexpected(stream.error());
    rule.stream = *stream;

    auto drop = number(json, "drop", QStringLiteral("drop"), 0, 1, false);
    if (!drop)
        return std::unexpected(drop.error());
    rule.drop = drop->value_or(0);
    auto delay = number(json, "delay_ms", QStringLiteral("delay_ms"), 0, kMaxDelayMs, true);
    if (!delay)
        return std::unexpected(delay.error());
    rule.delayMs = qint64(delay->value_or(0));
    auto jitter = number(json, "jitter_ms", QStringLiteral("jitter_ms"), 0, kMaxDelayMs, true);
    if (!jitter)
        return std::unexpected(jitter.error());
    rule.jitterMs = qint64(jitter->value_or(0));
    auto window = number(
        json, "reorder_window", QStringLiteral("reorder_window"), 0, kMaxReorderWindow, true);
    if (!window)
        return std::unexpected(window.error());
    if (window->value_or(0) == 1)
        return std::unexpected(invalid(QStringLiteral("reorder_window"),
            QStringLiteral("must be 0 (off) or from 2 to %1 messages").arg(kMaxReorderWindow)));
    rule.reorderWindow = int(window->value_or(0));
    auto seed = number(json, "seed", QStringLiteral("seed"), 0, 9007199254740991.0, true);
    if (!seed)
        return std::unexpected(seed.error());
    if (*seed)
        rule.seed = quint64(**seed);

    const QJsonValue disconnect = json.value(key("disconnect"));
    if (!disconnect.isUndefined() && !disconnect.isNull() && !disconnect.isBool())
        return std::unexpected(
            invalid(QStringLiteral("disconnect"), QStringLiteral("must be true or false")));
    rule.disconnect = disconnect.toBool(false);

    const QJsonValue restValue = json.value(key("rest_error"));
    if (!restValue.isUndefined() && !restValue.isNull()) {
        if (!restValue.isObject())
            return std::unexpected(
                invalid(QStringLiteral("rest_error"), QStringLiteral("must be an object")));
        const QJsonObject rest = restValue.toObject();
        const QString prefix = QStringLiteral("rest_error.");
        if (auto known = onlyKnownKeys(rest,
                {"status", "code", "message", "probability", "count", "method", "on"}, prefix);
            !known)
            return std::unexpected(known.error());
        RestError error;
        auto status = number(rest, "status", prefix + QLatin1StringView("status"), 400, 599, true);
        if (!status)
            return std::unexpected(status.error());
        if (!*status)
            return std::unexpected(invalid(prefix + QLatin1StringView("status"),
                QStringLiteral("is required: the HTTP status to answer, 400 to 599")));
        error.status = int(**status);
        auto code = number(rest, "code", prefix + QLatin1StringView("code"), 1, 99999, true);
        if (!code)
            return std::unexpected(code.error());
        error.code = int(code->value_or(20000 + error.status));
        const QJsonValue message = rest.value(key("message"));
        if (!message.isUndefined() && !message.isNull()) {
            if (!message.isString())
                return std::unexpected(invalid(
                    prefix + QLatin1StringView("message"), QStringLiteral("must be a string")));
            error.message = message.toString();
        }
        auto probability =
            number(rest, "probability", prefix + QLatin1StringView("probability"), 0, 1, false);
        if (!probability)
            return std::unexpected(probability.error());
        error.probability = probability->value_or(1);
        auto count =
            number(rest, "count", prefix + QLatin1StringView("count"), 1, 9007199254740991.0, true);
        if (!count)
            return std::unexpected(count.error());
        if (*count)
            error.count = qint64(**count);
        const QJsonValue method = rest.value(key("method"));
        if (!method.isUndefined() && !method.isNull()) {
            const QString m = method.toString().toUpper();
            if (m != u"GET" && m != u"POST" && m != u"DELETE" && m != u"*")
                return std::unexpected(invalid(prefix + QLatin1StringView("method"),
                    QStringLiteral("must be GET, POST, DELETE or \"*\"")));
            error.method = m == u"*" ? QString() : m;
        }
        const QJsonValue on = rest.value(key("on"));
        if (!on.isUndefined() && !on.isNull()) {
            const QString scope = on.toString();
            if (scope == u"messages")
                error.on = FaultScope::Messages;
            else if (scope == u"streams")
                error.on = FaultScope::Streams;
            else if (scope == u"services")
                error.on = FaultScope::Services;
            else if (scope == u"*")
                error.on = FaultScope::Any;
            else
                return std::unexpected(invalid(prefix + QLatin1StringView("on"),
                    QStringLiteral("must be messages, streams, services or \"*\"")));
        }
        rule.restError = error;
    }

    if (!rule.affectsDelivery() && !rule.restError && !rule.disconnect)
        return std::unexpected(ApiError::badRequest(
            QStringLiteral("A fault rule needs at least one of drop, delay_ms, jitter_ms, "
                           "reorder_window, rest_error and disconnect")));
    return rule;
}

QJsonObject FaultRule::toJson() const
{
    QJsonObject json{{key("id"), id}, {key("service"), service}, {key("stream"), stream},
        {key("drop"), drop}, {key("delay_ms"), delayMs}, {key("jitter_ms"), jitterMs},
        {key("reorder_window"), reorderWindow}, {key("disconnect"), disconnect},
        {key("seed"), seed ? QJsonValue(double(*seed)) : QJsonValue()},
        {key("created_at"),
            QDateTime::fromMSecsSinceEpoch(createdAtMs, QTimeZone::utc())
                .toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzzZ"))},
        {key("acted"),
            QJsonObject{{key("total"), double(acted.total())},
                {key("dropped"), double(acted.dropped)}, {key("delayed"), double(acted.delayed)},
                {key("reordered"), double(acted.reordered)},
                {key("rest_errors"), double(acted.restErrors)},
                {key("disconnected"), double(acted.disconnected)}}}};
    if (restError) {
        json.insert(key("rest_error"),
            QJsonObject{{key("status"), restError->status}, {key("code"), restError->code},
                {key("message"),
                    restError->message.isEmpty() ? QJsonValue() : QJsonValue(restError->message)},
                {key("probability"), restError->probability},
                {key("count"),
                    restError->count ? QJsonValue(double(*restError->count)) : QJsonValue()},
                {key("method"),
                    restError->method.isEmpty() ? QJsonValue(QStringLiteral("*"))
                                                : QJsonValue(restError->method)},
                {key("on"), scopeName(restError->on)}});
    } else {
        json.insert(key("rest_error"), QJsonValue());
    }
    return json;
}

FaultRules::FaultRules(QObject *parent) : QObject(parent)
{
    m_monotonic.start();
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &FaultRules::onTimer);
}

FaultRules::~FaultRules()
{
    clear();
}

FaultRule FaultRules::add(FaultRule rule, qint64 nowMs)
{
    rule.id = QStringLiteral("fault-%1").arg(m_nextId++);
    if (rule.restError && rule.restError->message.isEmpty())
        rule.restError->message = QStringLiteral("Injected by engine fault rule %1").arg(rule.id);
    rule.createdAtMs = nowMs;
    rule.acted = {};
    auto active = std::make_unique<Active>();
    active->rule = rule;
    active->random.seed(rule.seed ? *rule.seed : std::random_device{}());
    m_rules.push_back(std::move(active));
    recount();
    Q_EMIT rulesChanged();
    return rule;
}

bool FaultRules::remove(const QString &id)
{
    for (auto it = m_rules.begin(); it != m_rules.end(); ++it) {
        if ((*it)->rule.id != id)
            continue;
        // What the rule holds back goes out now: removing a fault loses nothing.
        flushWindows(**it, true);
        m_rules.erase(it);
        recount();
        Q_EMIT rulesChanged();
        return true;
    }
    return false;
}

void FaultRules::clear()
{
    for (const auto &active : std::as_const(m_rules))
        flushWindows(*active, true);
    const bool hadRules = !m_rules.empty();
    m_rules.clear();
    recount();
    if (hadRules)
        Q_EMIT rulesChanged();
    // Delayed deliveries are not the rule's any more: they go now.
    const auto delayed = std::exchange(m_delayed, {});
    for (const auto &[due, held] : delayed) {
        if (const auto subscription = held.subscription.lock())
            subscription->deliver(held.message);
    }
    m_timer.stop();
}

QList<FaultRule> FaultRules::rules() const
{
    QList<FaultRule> out;
    out.reserve(qsizetype(m_rules.size()));
    for (const auto &active : m_rules)
        out.append(active->rule);
    return out;
}

void FaultRules::countDisconnected(const QString &id, quint64 connections)
{
    for (const auto &active : std::as_const(m_rules)) {
        if (active->rule.id == id)
            active->rule.acted.disconnected += connections;
    }
}

void FaultRules::recount()
{
    int delivery = 0, rest = 0;
    for (const auto &active : std::as_const(m_rules)) {
        delivery += active->rule.affectsDelivery() ? 1 : 0;
        rest += active->rule.restError ? 1 : 0;
    }
    m_deliveryRules.store(delivery, std::memory_order_relaxed);
    m_restRules.store(rest, std::memory_order_relaxed);
}

bool FaultRules::deliver(const FaultTarget &target, const StreamMessage &message,
    const QList<std::shared_ptr<Subscription>> &subscribers)
{
    Active *active = nullptr;
    for (const auto &candidate : std::as_const(m_rules)) {
        if (candidate->rule.affectsDelivery() && candidate->rule.matches(target)) {
            active = candidate.get();
            break;
        }
    }
    if (!active)
        return false;
    FaultRule &rule = active->rule;
    for (const auto &subscription : subscribers) {
        if (rule.drop > 0 && active->uniform() < rule.drop) {
            ++rule.acted.dropped;
            continue;
        }
        Held held{subscription, message};
        if (rule.reorderWindow > 1) {
            Window &window = active->windows[subscription.get()];
            if (window.held.isEmpty())
                window.flushAtMs = m_monotonic.elapsed() + kReorderFlushMs;
            window.held.append(std::move(held));
            if (window.held.size() >= rule.reorderWindow) {
                QList<Held> full = std::exchange(window.held, {});
                active->windows.remove(subscription.get());
                std::shuffle(full.begin(), full.end(), active->random);
                rule.acted.reordered += quint64(full.size());
                release(*active, std::move(full));
            }
            continue;
        }
        release(*active, {std::move(held)});
    }
    arm();
    return true;
}

void FaultRules::release(Active &active, QList<Held> held)
{
    for (Held &one : held) {
        if (active.rule.delayMs > 0 || active.rule.jitterMs > 0)
            sendLater(active, std::move(one));
        else if (const auto subscription = one.subscription.lock())
            subscription->deliver(one.message);
    }
}

void FaultRules::sendLater(Active &active, Held held)
{
    qint64 wait = active.rule.delayMs;
    if (active.rule.jitterMs > 0)
        wait += std::uniform_int_distribution<qint64>(-active.rule.jitterMs, active.rule.jitterMs)(
            active.random);
    ++active.rule.acted.delayed;
    m_delayed.emplace(m_monotonic.elapsed() + qMax<qint64>(0, wait), std::move(held));
}

void FaultRules::flushWindows(Active &active, bool all)
{
    const qint64 now = m_monotonic.elapsed();
    for (auto it = active.windows.begin(); it != active.windows.end();) {
        if (!all && it->flushAtMs > now) {
            ++it;
            continue;
        }
        QList<Held> held = std::move(it->held);
        it = active.windows.erase(it);
        std::shuffle(held.begin(), held.end(), active.random);
        active.rule.acted.reordered += quint64(held.size());
        if (all) {
            for (const Held &one : std::as_const(held)) {
                if (const auto subscription = one.subscription.lock())
                    subscription->deliver(one.message);
            }
        } else {
            release(active, std::move(held));
        }
    }
}

void FaultRules::onTimer()
{
    for (const auto &active : std::as_const(m_rules))
        flushWindows(*active, false);
    const qint64 now = m_monotonic.elapsed();
    while (!m_delayed.empty() && m_delayed.begin()->first <= now) {
        const Held held = std::move(m_delayed.begin()->second);
        m_delayed.erase(m_delayed.begin());
        if (const auto subscription = held.subscription.lock())
            subscription->deliver(held.message);
    }
    arm();
}

void FaultRules::arm()
{
    std::optional<qint64> next;
    if (!m_delayed.empty())
        next = m_delayed.begin()->first;
    for (const auto &active : std::as_const(m_rules)) {
        for (const Window &window : std::as_const(active->windows))
            next = next ? qMin(*next, window.flushAtMs) : window.flushAtMs;
    }
    if (!next) {
        m_timer.stop();
        return;
    }
    const qint64 wait = qMax<qint64>(0, *next - m_monotonic.elapsed());
    if (!m_timer.isActive() || m_timer.remainingTime() > wait)
        m_timer.start(std::chrono::milliseconds(wait));
}

std::optional<FaultRules::Refusal> FaultRules::refuse(
    QByteArrayView method, FaultScope scope, const FaultTarget &target)
{
    for (const auto &active : std::as_const(m_rules)) {
        FaultRule &rule = active->rule;
        if (!rule.restError)
            continue;
        const FaultRule::RestError &error = *rule.restError;
        if (error.count && qint64(rule.acted.restErrors) >= *error.count)
            continue;
        if (error.on != FaultScope::Any && error.on != scope)
            continue;
        if (!error.method.isEmpty() && QByteArrayView(error.method.toLatin1()) != method)
            continue;
        if (!rule.matches(target))
            continue;
        if (error.probability < 1 && active->uniform() >= error.probability)
            continue;
        ++rule.acted.restErrors;
        if (error.count && qint64(rule.acted.restErrors) == *error.count)
            Q_EMIT rulesChanged(); // spent: no longer a fault anyone meets
        const QString message = error.message.isEmpty()
            ? QStringLiteral("Injected by engine fault rule %1").arg(rule.id)
            : error.message;
        return Refusal{ApiError(error.code, error.status, message), rule.id};
    }
    return std::nullopt;
}

} // namespace streams
