#include "engine/enginesnapshot.h"

#include "api/restjson.h"
#include "api/sid.h"
#include "api/validation.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

namespace streams {

namespace {
QLatin1StringView key(const char *name)
{
    return QLatin1StringView(name);
}

QJsonValue textOrNull(const QString &text)
{
    return text.isNull() ? QJsonValue() : QJsonValue(text);
}

ApiError bad(const QString &field, const QString &reason)
{
    return ApiError::badRequest(QStringLiteral("Invalid snapshot: %1 %2").arg(field, reason));
}

// Reads one object's fields, each error naming its path.
class Fields
{
public:
    Fields(const QJsonObject &json, QString path) : m_json(json), m_path(std::move(path)) { }

    QString field(const char *name) const { return m_path + QLatin1StringView(name); }

    std::expected<QString, ApiError> text(const char *name, bool required, bool nullable) const
    {
        const QJsonValue value = m_json.value(key(name));
        if (value.isUndefined() || (value.isNull() && nullable)) {
            if (required)
                return std::unexpected(bad(field(name), QStringLiteral("is required")));
            return QString();
        }
        if (!value.isString())
            return std::unexpected(bad(field(name), QStringLiteral("must be a string")));
        return value.toString();
    }

    std::expected<QString, ApiError> sid(const char *name, SidKind kind, const char *what) const
    {
        auto value = text(name, true, false);
        if (!value)
            return value;
        if (!sid::isValid(*value, kind))
            return std::unexpected(bad(field(name),
                QStringLiteral("\"%1\" is not %2").arg(value->left(64), QLatin1StringView(what))));
        return value;
    }

    std::expected<bool, ApiError> boolean(const char *name, bool fallback) const
    {
        const QJsonValue value = m_json.value(key(name));
        if (value.isUndefined() || value.isNull())
            return fallback;
        if (!value.isBool())
            return std::unexpected(bad(field(name), QStringLiteral("must be true or false")));
        return value.toBool();
    }

    std::expected<std::optional<qint64>, ApiError> date(const char *name) const
    {
        const QJsonValue value = m_json.value(key(name));
        if (value.isUndefined() || value.isNull())
            return std::optional<qint64>();
        const auto parsed = value.isString() ? restjson::parseDate(value.toString()) : std::nullopt;
        if (!parsed)
            return std::unexpected(
                bad(field(name), QStringLiteral("must be a date like 2026-12-06T08:40:00Z")));
        return parsed;
    }

    const QJsonObject &json() const { return m_json; }

private:
    const QJsonObject &m_json;
    const QString m_path;
};

template<typename T>
std::unexpected<ApiError> failure(const std::expected<T, ApiError> &result)
{
    return std::unexpected(result.error());
}
} // namespace

QJsonObject EngineSnapshot::toJson(const QString &engineVersion, qint64 exportedAtSeconds) const
{
    QHash<QString, QJsonArray> streamsByService;
    for (const Stream &stream : streams) {
        streamsByService[stream.serviceSid].append(QJsonObject{{key("sid"), stream.sid},
            {key("unique_name"), textOrNull(stream.uniqueName)},
            {key("account_sid"), stream.accountSid}, {key("created_by"), stream.createdBy},
            {key("date_created"), restjson::formatDate(stream.dateCreated)},
            {key("date_updated"), restjson::formatDate(stream.dateUpdated)},
            {key("date_expires"),
                stream.dateExpires ? QJsonValue(restjson::formatDate(*stream.dateExpires))
                                   : QJsonValue()}});
    }
    QJsonArray servicesJson;
    for (const Service &service : services) {
        servicesJson.append(QJsonObject{{key("sid"), service.sid},
            {key("unique_name"), textOrNull(service.uniqueName)},
            {key("account_sid"), service.accountSid},
            {key("friendly_name"), textOrNull(service.friendlyName)},
            {key("webhook_url"), textOrNull(service.webhookUrl)},
            {key("reachability_webhooks_enabled"), service.reachabilityWebhooksEnabled},
            {key("acl_enabled"), service.aclEnabled},
            {key("reachability_debouncing_enabled"), service.reachabilityDebouncingEnabled},
            {key("reachability_debouncing_window"), service.reachabilityDebouncingWindowMs},
            {key("webhooks_from_rest_enabled"), service.webhooksFromRestEnabled},
            {key("date_created"), restjson::formatDate(service.dateCreated)},
            {key("date_updated"), restjson::formatDate(service.dateUpdated)},
            {key("streams"), streamsByService.value(service.sid)}});
    }
    return QJsonObject{{key("format"), kFormat}, {key("engine_version"), engineVersion},
        {key("exported_at"), restjson::formatDate(exportedAtSeconds)},
        {key("services"), servicesJson}};
}

QByteArray EngineSnapshot::toJsonBytes(const QString &engineVersion, qint64 exportedAtSeconds) const
{
    return QJsonDocument(toJson(engineVersion, exportedAtSeconds)).toJson(QJsonDocument::Indented);
}

std::expected<QJsonObject, ApiError> parseJsonObject(QByteArrayView bytes)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(bytes.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError) {
        int line = 1, column = 1;
        for (qsizetype i = 0; i < error.offset && i < bytes.size(); ++i) {
            if (bytes[i] == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
        }
        return std::unexpected(
            ApiError::badRequest(QStringLiteral("Invalid JSON: %1 at line %2, column %3")
                                     .arg(error.errorString())
                                     .arg(line)
                                     .arg(column)));
    }
    if (!document.isObject())
        return std::unexpected(
            ApiError::badRequest(QStringLiteral("Invalid JSON: expected an object")));
    return document.object();
}

std::expected<EngineSnapshot, ApiError> EngineSnapshot::fromJsonBytes(
    QByteArrayView bytes, const QString &accountSid, qint64 nowSeconds)
{
    auto json = parseJsonObject(bytes);
    if (!json)
        return failure(json);
    return fromJson(*json, accountSid, nowSeconds);
}

std::expected<EngineSnapshot, ApiError> EngineSnapshot::fromJson(
    const QJsonObject &json, const QString &accountSid, qint64 nowSeconds)
{
    const QJsonValue format = json.value(key("format"));
    if (format.isUndefined())
        return std::unexpected(bad(QStringLiteral("format"), QStringLiteral("is required")));
    if (!format.isDouble() || format.toDouble() != kFormat)
        return std::unexpected(bad(QStringLiteral("format"),
            QStringLiteral("must be %1 (this engine reads format %1)").arg(kFormat)));
    const QJsonValue servicesValue = json.value(key("services"));
    if (!servicesValue.isArray())
        return std::unexpected(
            bad(QStringLiteral("services"), QStringLiteral("must be an array of services")));

    EngineSnapshot snapshot;
    QSet<QString> serviceSids, serviceNames, streamSids;
    const QJsonArray servicesJson = servicesValue.toArray();
    for (qsizetype i = 0; i < servicesJson.size(); ++i) {
        const QString path = QStringLiteral("services[%1].").arg(i);
        if (!servicesJson.at(i).isObject())
            return std::unexpected(bad(path.chopped(1), QStringLiteral("must be an object")));
        const QJsonObject serviceJson = servicesJson.at(i).toObject();
        const Fields f(serviceJson, path);
        Service service;
        auto sid = f.sid("sid", SidKind::Service, "a service SID (IS + 32 hex digits)");
        if (!sid)
            return failure(sid);
        if (serviceSids.contains(*sid))
            return std::unexpected(
                bad(f.field("sid"), QStringLiteral("\"%1\" appears twice").arg(*sid)));
        serviceSids.insert(*sid);
        service.sid = *sid;
        auto name = f.text("unique_name", false, true);
        if (!name)
            return failure(name);
        if (!name->isNull()) {
            if (auto problem = validation::checkUniqueName(*name))
                return std::unexpected(bad(f.field("unique_name"), problem->message()));
            if (serviceNames.contains(*name))
                return std::unexpected(bad(f.field("unique_name"),
                    QStringLiteral("\"%1\" is the unique name of another service").arg(*name)));
            serviceNames.insert(*name);
        }
        service.uniqueName = *name;
        if (serviceJson.contains(key("account_sid"))) {
            auto account =
                f.sid("account_sid", SidKind::Account, "an account SID (AC + 32 hex digits)");
            if (!account)
                return failure(account);
            service.accountSid = *account;
        } else {
            service.accountSid = accountSid;
        }
        for (const auto &[field, member] : {std::pair{"friendly_name", &Service::friendlyName},
                 {"webhook_url", &Service::webhookUrl}}) {
            auto value = f.text(field, false, true);
            if (!value)
                return failure(value);
            service.*member = *value;
        }
        for (const auto &[field, member] :
            {std::pair{"reachability_webhooks_enabled", &Service::reachabilityWebhooksEnabled},
                {"acl_enabled", &Service::aclEnabled},
                {"reachability_debouncing_enabled", &Service::reachabilityDebouncingEnabled},
                {"webhooks_from_rest_enabled", &Service::webhooksFromRestEnabled}}) {
            auto value = f.boolean(field, false);
            if (!value)
                return failure(value);
            service.*member = *value;
        }
        const QJsonValue window = serviceJson.value(key("reachability_debouncing_window"));
        if (!window.isUndefined() && !window.isNull()) {
            const double ms = window.toDouble(-1);
            // The range first: a double outside qint64's range has no conversion to test.
            if (!window.isDouble() || ms < limits::kMinDebouncingWindowMs
                || ms > limits::kMaxDebouncingWindowMs || ms != qint64(ms))
                return std::unexpected(bad(f.field("reachability_debouncing_window"),
                    QStringLiteral("must be a whole number of milliseconds from %1 to %2")
                        .arg(limits::kMinDebouncingWindowMs)
                        .arg(limits::kMaxDebouncingWindowMs)));
            service.reachabilityDebouncingWindowMs = int(ms);
        }
        auto created = f.date("date_created");
        if (!created)
            return failure(created);
        auto updated = f.date("date_updated");
        if (!updated)
            return failure(updated);
        service.dateCreated = created->value_or(nowSeconds);
        service.dateUpdated = updated->value_or(service.dateCreated);
        snapshot.services.append(service);

        const QJsonValue streamsValue = serviceJson.value(key("streams"));
        if (streamsValue.isUndefined() || streamsValue.isNull())
            continue;
        if (!streamsValue.isArray())
            return std::unexpected(
                bad(f.field("streams"), QStringLiteral("must be an array of streams")));
        QSet<QString> streamNames;
        const QJsonArray streamsJson = streamsValue.toArray();
        for (qsizetype j = 0; j < streamsJson.size(); ++j) {
            const QString streamPath = path + QStringLiteral("streams[%1].").arg(j);
            if (!streamsJson.at(j).isObject())
                return std::unexpected(
                    bad(streamPath.chopped(1), QStringLiteral("must be an object")));
            const QJsonObject streamJson = streamsJson.at(j).toObject();
            const Fields s(streamJson, streamPath);
            Stream stream;
            stream.serviceSid = service.sid;
            auto streamSid = s.sid("sid", SidKind::Stream, "a stream SID (TO + 32 hex digits)");
            if (!streamSid)
                return failure(streamSid);
            if (streamSids.contains(*streamSid))
                return std::unexpected(
                    bad(s.field("sid"), QStringLiteral("\"%1\" appears twice").arg(*streamSid)));
            streamSids.insert(*streamSid);
            stream.sid = *streamSid;
            auto streamName = s.text("unique_name", false, true);
            if (!streamName)
                return failure(streamName);
            if (!streamName->isNull()) {
                if (auto problem = validation::checkUniqueName(*streamName))
                    return std::unexpected(bad(s.field("unique_name"), problem->message()));
                if (streamNames.contains(*streamName))
                    return std::unexpected(bad(s.field("unique_name"),
                        QStringLiteral("\"%1\" is the unique name of another stream of the "
                                       "service")
                            .arg(*streamName)));
                streamNames.insert(*streamName);
            }
            stream.uniqueName = *streamName;
            if (streamJson.contains(key("account_sid"))) {
                auto account =
                    s.sid("account_sid", SidKind::Account, "an account SID (AC + 32 hex digits)");
                if (!account)
                    return failure(account);
                stream.accountSid = *account;
            } else {
                stream.accountSid = service.accountSid;
            }
            auto createdBy = s.text("created_by", false, true);
            if (!createdBy)
                return failure(createdBy);
            stream.createdBy = createdBy->isNull() ? QStringLiteral("system") : *createdBy;
            auto streamCreated = s.date("date_created");
            if (!streamCreated)
                return failure(streamCreated);
            auto streamUpdated = s.date("date_updated");
            if (!streamUpdated)
                return failure(streamUpdated);
            auto expires = s.date("date_expires");
            if (!expires)
                return failure(expires);
            stream.dateCreated = streamCreated->value_or(nowSeconds);
            stream.dateUpdated = streamUpdated->value_or(stream.dateCreated);
            stream.dateExpires = *expires;
            snapshot.streams.append(stream);
        }
    }
    return snapshot;
}

} // namespace streams
