#include "server/controlplane.h"

#include "api/restjson.h"
#include "engine/engine.h"
#include "engine/enginesnapshot.h"
#include "engine/trafficlog.h"
#include "server/formdecoder.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTimeZone>
#include <cmath>

namespace streams {

namespace {
constexpr QByteArrayView kPrefix = "/_engine";
// Ten years: far enough for any TTL (at most a year) and no overflow anywhere.
constexpr double kMaxAdvanceSeconds = 315'360'000;
constexpr qsizetype kDefaultTrafficLimit = 100;
constexpr qsizetype kMaxTrafficLimit = 1000;

QLatin1StringView key(const char *name)
{
    return QLatin1StringView(name);
}

RestReply json(int status, const QJsonObject &object)
{
    return RestReply{status, QJsonDocument(object).toJson(QJsonDocument::Compact), {}};
}

RestReply failed(const ApiError &error)
{
    return RestReply::error(error);
}

RestReply notAllowed(QByteArrayView method, QByteArrayView path, QByteArray allow)
{
    RestReply reply = failed(ApiError::methodNotAllowed(
        QString::fromLatin1(method.first(qMin<qsizetype>(16, method.size()))),
        QString::fromUtf8(path.first(qMin<qsizetype>(256, path.size())))));
    reply.allow = std::move(allow);
    return reply;
}

QString isoMs(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::utc())
        .toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzzZ"));
}
} // namespace

ControlPlane::ControlPlane(Engine &engine, const RestApi &rest) : m_engine(engine), m_rest(rest) { }

bool ControlPlane::handles(QByteArrayView encodedPath)
{
    return encodedPath == kPrefix
        || (encodedPath.startsWith(kPrefix) && encodedPath.size() > kPrefix.size()
            && encodedPath[kPrefix.size()] == '/');
}

QByteArrayView ControlPlane::route(QByteArrayView encodedPath)
{
    QByteArrayView path = encodedPath.sliced(kPrefix.size());
    if (path.size() > 1 && path.endsWith('/'))
        path.chop(1);
    return path;
}

RestReply ControlPlane::handle(QByteArrayView method, QByteArrayView encodedPath,
    QByteArrayView encodedQuery, QByteArrayView authorization, QByteArrayView body,
    std::optional<bool> *authenticated)
{
    if (route(encodedPath) != "/health") {
        const bool passed = m_rest.authorized(authorization);
        if (authenticated)
            *authenticated = passed;
        if (!passed)
            return failed(ApiError::authenticationFailed());
    }
    return answer(method, encodedPath, encodedQuery, body);
}

RestReply ControlPlane::answer(QByteArrayView method, QByteArrayView encodedPath,
    QByteArrayView encodedQuery, QByteArrayView body)
{
    const QByteArrayView path = route(encodedPath);
    if (method == "HEAD")
        method = "GET";

    if (path == "/health") {
        if (method != "GET")
            return notAllowed(method, encodedPath, "GET");
        return health();
    }
    if (path == "/state")
        return state(method, body);
    if (path == "/reset")
        return reset(method);
    if (path == "/clock")
        return clock(method, body);
    if (path == "/faults")
        return faults(method, {}, body);
    if (path.startsWith("/faults/") && path.size() > 8 && !path.sliced(8).contains('/'))
        return faults(method, path.sliced(8), body);
    if (path == "/traffic")
        return traffic(method, encodedQuery);
    return failed(ApiError::notFound(
        QString::fromUtf8(encodedPath.first(qMin<qsizetype>(256, encodedPath.size())))));
}

RestReply ControlPlane::health()
{
    return json(200,
        QJsonObject{{key("status"), key("ready")}, {key("version"), key(STREAMS_VERSION)},
            {key("services"), double(m_engine.serviceCount())},
            {key("streams"), double(m_engine.activeStreamCount())},
            {key("live_connections"), m_liveConnections ? double(m_liveConnections()) : 0.0}});
}

RestReply ControlPlane::state(QByteArrayView method, QByteArrayView body)
{
    if (method == "GET") {
        auto snapshot = m_engine.exportState();
        if (!snapshot)
            return failed(snapshot.error());
        return RestReply{200, m_engine.snapshotJson(*snapshot), {}};
    }
    if (method != "PUT")
        return notAllowed(method, "/_engine/state", "GET, PUT");
    auto snapshot = EngineSnapshot::fromJsonBytes(
        body, m_engine.credentials().accountSid, m_engine.clock().nowSeconds());
    if (!snapshot)
        return failed(snapshot.error());
    if (auto imported = m_engine.importState(*snapshot); !imported)
        return failed(imported.error());
    // What the engine holds now: streams already expired by its clock are gone.
    return json(200,
        QJsonObject{{key("services"), double(m_engine.serviceCount())},
            {key("streams"), double(m_engine.activeStreamCount())}});
}

RestReply ControlPlane::reset(QByteArrayView method)
{
    if (method != "POST")
        return notAllowed(method, "/_engine/reset", "POST");
    if (auto done = m_engine.reset(); !done)
        return failed(done.error());
    return json(200, QJsonObject{{key("services"), 1}, {key("streams"), 0}});
}

RestReply ControlPlane::clockNow(int status, std::optional<qsizetype> expired) const
{
    const qint64 now = m_engine.clock().nowMs();
    QJsonObject object{{key("now"), restjson::formatDate(m_engine.clock().nowSeconds())},
        {key("now_ms"), double(now)},
        {key("offset_seconds"), double(m_engine.clockOffsetMs()) / 1000}};
    if (expired)
        object.insert(key("expired_streams"), double(*expired));
    return json(status, object);
}

RestReply ControlPlane::clock(QByteArrayView method, QByteArrayView body)
{
    if (method == "GET")
        return clockNow(200);
    if (method != "POST")
        return notAllowed(method, "/_engine/clock", "GET, POST");
    auto object = parseJsonObject(body);
    if (!object)
        return failed(object.error());
    const QJsonValue advance = object->value(key("advance_seconds"));
    const auto invalid = [](const QString &reason) {
        return failed(ApiError::invalidParameter(QStringLiteral("advance_seconds"), reason));
    };
    if (advance.isUndefined())
        return invalid(QStringLiteral("is required: how many seconds to move the clock forward"));
    if (!advance.isDouble() || !std::isfinite(advance.toDouble()))
        return invalid(QStringLiteral("must be a number of seconds"));
    const double seconds = advance.toDouble();
    if (seconds < 0)
        return invalid(QStringLiteral("must not be negative: the engine's clock never goes back"));
    if (seconds > kMaxAdvanceSeconds)
        return invalid(
            QStringLiteral("must be at most %1 (ten years)").arg(qint64(kMaxAdvanceSeconds)));
    for (auto it = object->begin(); it != object->end(); ++it) {
        if (it.key() != u"advance_seconds")
            return failed(ApiError::invalidParameter(
                it.key(), QStringLiteral("is not a field of a clock change")));
    }
    const qsizetype expired = m_engine.advanceClock(qint64(std::llround(seconds * 1000)));
    return clockNow(200, expired);
}

RestReply ControlPlane::faults(QByteArrayView method, QByteArrayView id, QByteArrayView body)
{
    FaultRules &rules = m_engine.faults();
    if (!id.isEmpty()) {
        if (method != "DELETE")
            return notAllowed(method, "/_engine/faults/{id}", "DELETE");
        const QString ruleId = QString::fromUtf8(QByteArray::fromPercentEncoding(id.toByteArray()));
        if (!rules.remove(ruleId))
            return failed(
                ApiError::notFound(QStringLiteral("/_engine/faults/%1").arg(ruleId.left(64))));
        return RestReply{204, {}, {}};
    }
    if (method == "GET") {
        QJsonArray list;
        for (const FaultRule &rule : rules.rules())
            list.append(rule.toJson());
        return json(200, QJsonObject{{key("faults"), list}});
    }
    if (method == "DELETE") {
        rules.clear();
        return RestReply{204, {}, {}};
    }
    if (method != "POST")
        return notAllowed(method, "/_engine/faults", "GET, POST, DELETE");
    auto object = parseJsonObject(body);
    if (!object)
        return failed(object.error());
    auto rule = FaultRule::fromJson(*object);
    if (!rule)
        return failed(rule.error());
    return json(201, m_engine.addFault(std::move(*rule)).toJson());
}

QJsonObject ControlPlane::entryJson(const TrafficEntry &entry)
{
    QJsonObject object{{key("id"), double(entry.id)}, {key("time"), isoMs(entry.timeMs)},
        {key("kind"), entry.kind == TrafficEntry::Kind::Rest ? key("rest") : key("live")},
        {key("who"), entry.who.isEmpty() ? QJsonValue() : QJsonValue(entry.who)},
        {key("method"), QString::fromLatin1(entry.method)},
        {key("path"), QString::fromUtf8(entry.path)}, {key("status"), entry.status},
        {key("code"), entry.code != 0 ? QJsonValue(entry.code) : QJsonValue()},
        {key("duration_ms"), std::round(entry.durationMs * 1000) / 1000},
        {key("bytes_in"), double(entry.bytesIn)}, {key("bytes_out"), double(entry.bytesOut)}};
    if (!entry.fault.isEmpty())
        object.insert(key("fault"), entry.fault);
    if (!entry.body.isNull())
        object.insert(key("body"), QString::fromUtf8(entry.body));
    return object;
}

RestReply ControlPlane::traffic(QByteArrayView method, QByteArrayView encodedQuery)
{
    if (method != "GET")
        return notAllowed(method, "/_engine/traffic", "GET");
    auto query = FormDecoder::decode(encodedQuery);
    if (!query)
        return failed(query.error());
    std::optional<quint64> after;
    if (const auto it = query->constFind(QStringLiteral("after")); it != query->cend()) {
        bool ok = false;
        const quint64 value = it->toULongLong(&ok);
        if (!ok)
            return failed(ApiError::invalidParameter(
                QStringLiteral("after"), QStringLiteral("must be an entry id (a whole number)")));
        after = value;
    }
    qsizetype limit = kDefaultTrafficLimit;
    if (const auto it = query->constFind(QStringLiteral("limit")); it != query->cend()) {
        bool ok = false;
        limit = it->toLongLong(&ok);
        if (!ok || limit < 1 || limit > kMaxTrafficLimit)
            return failed(ApiError::invalidParameter(QStringLiteral("limit"),
                QStringLiteral("must be a whole number from 1 to %1").arg(kMaxTrafficLimit)));
    }
    const TrafficLog::Slice slice = m_engine.traffic().read(after, limit);
    QJsonArray entries;
    for (const TrafficEntry &entry : slice.entries)
        entries.append(entryJson(entry));
    return json(200,
        QJsonObject{{key("entries"), entries}, {key("last_id"), double(slice.lastId)},
            {key("dropped"), double(slice.dropped)}});
}

} // namespace streams
