#include "api/restjson.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QTimeZone>

namespace streams::restjson {

namespace {
QJsonValue nullable(const QString &text)
{
    return text.isNull() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

QString nullableString(const QJsonValue &value)
{
    return value.isString() ? value.toString() : QString();
}

qint64 dateOrZero(const QJsonValue &value)
{
    return parseDate(value.toString()).value_or(0);
}
} // namespace

QString formatDate(qint64 secondsSinceEpoch)
{
    return QDateTime::fromSecsSinceEpoch(secondsSinceEpoch, QTimeZone::utc())
        .toString(QStringLiteral("yyyy-MM-ddTHH:mm:ssZ"));
}

std::optional<qint64> parseDate(QStringView text)
{
    if (text.size() != 20 || text[10] != u'T' || !text.endsWith(u'Z'))
        return std::nullopt;
    // Date and time are parsed apart and joined in UTC: parsed as one date-time they would be
    // read as local time first, and a UTC instant in the local zone's DST gap (such as
    // 2024-03-10T02:30:00Z in New York) would be refused.
    const QDate date = QDate::fromString(text.first(10).toString(), QStringLiteral("yyyy-MM-dd"));
    const QTime time = QTime::fromString(text.sliced(11, 8).toString(), QStringLiteral("HH:mm:ss"));
    if (!date.isValid() || !time.isValid())
        return std::nullopt;
    return QDateTime(date, time, QTimeZone::utc()).toSecsSinceEpoch();
}

QString serviceUrl(QStringView baseUrl, QStringView serviceSid)
{
    QString url = baseUrl.toString();
    url.append(QLatin1StringView("/v1/Services/")).append(serviceSid);
    return url;
}

QString streamUrl(QStringView baseUrl, QStringView serviceSid, QStringView streamSid)
{
    return serviceUrl(baseUrl, serviceSid).append(QLatin1StringView("/Streams/")).append(streamSid);
}

QJsonObject serviceJson(const Service &service, QStringView baseUrl)
{
    const QString url = serviceUrl(baseUrl, service.sid);
    return QJsonObject{
        {QStringLiteral("sid"), service.sid},
        {QStringLiteral("unique_name"), nullable(service.uniqueName)},
        {QStringLiteral("account_sid"), service.accountSid},
        {QStringLiteral("friendly_name"), nullable(service.friendlyName)},
        {QStringLiteral("date_created"), formatDate(service.dateCreated)},
        {QStringLiteral("date_updated"), formatDate(service.dateUpdated)},
        {QStringLiteral("url"), url},
        {QStringLiteral("webhook_url"), nullable(service.webhookUrl)},
        {QStringLiteral("webhooks_from_rest_enabled"), service.webhooksFromRestEnabled},
        {QStringLiteral("reachability_webhooks_enabled"), service.reachabilityWebhooksEnabled},
        {QStringLiteral("acl_enabled"), service.aclEnabled},
        {QStringLiteral("reachability_debouncing_enabled"), service.reachabilityDebouncingEnabled},
        {QStringLiteral("reachability_debouncing_window"), service.reachabilityDebouncingWindowMs},
        {QStringLiteral("links"),
            QJsonObject{{QStringLiteral("documents"), url + QLatin1StringView("/Documents")},
                {QStringLiteral("lists"), url + QLatin1StringView("/Lists")},
                {QStringLiteral("maps"), url + QLatin1StringView("/Maps")},
                {QStringLiteral("streams"), url + QLatin1StringView("/Streams")}}},
    };
}

QJsonObject streamJson(const Stream &stream, QStringView baseUrl)
{
    const QString url = streamUrl(baseUrl, stream.serviceSid, stream.sid);
    return QJsonObject{
        {QStringLiteral("sid"), stream.sid},
        {QStringLiteral("unique_name"), nullable(stream.uniqueName)},
        {QStringLiteral("account_sid"), stream.accountSid},
        {QStringLiteral("service_sid"), stream.serviceSid},
        {QStringLiteral("url"), url},
        {QStringLiteral("links"),
            QJsonObject{{QStringLiteral("messages"), url + QLatin1StringView("/Messages")}}},
        {QStringLiteral("date_expires"),
            stream.dateExpires ? QJsonValue(formatDate(*stream.dateExpires))
                               : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("date_created"), formatDate(stream.dateCreated)},
        {QStringLiteral("date_updated"), formatDate(stream.dateUpdated)},
        {QStringLiteral("created_by"), stream.createdBy},
    };
}

QJsonObject messageJson(const StreamMessage &message)
{
    // `data` is already validated compact JSON; re-parsing it here keeps the object exact.
    return QJsonObject{{QStringLiteral("sid"), message.sid},
        {QStringLiteral("data"), QJsonDocument::fromJson(message.data).object()}};
}

Service serviceFromJson(const QJsonObject &json)
{
    Service service;
    service.sid = json.value(QStringLiteral("sid")).toString();
    service.uniqueName = nullableString(json.value(QStringLiteral("unique_name")));
    service.accountSid = json.value(QStringLiteral("account_sid")).toString();
    service.friendlyName = nullableString(json.value(QStringLiteral("friendly_name")));
    service.webhookUrl = nullableString(json.value(QStringLiteral("webhook_url")));
    service.webhooksFromRestEnabled =
        json.value(QStringLiteral("webhooks_from_rest_enabled")).toBool();
    service.reachabilityWebhooksEnabled =
        json.value(QStringLiteral("reachability_webhooks_enabled")).toBool();
    service.aclEnabled = json.value(QStringLiteral("acl_enabled")).toBool();
    service.reachabilityDebouncingEnabled =
        json.value(QStringLiteral("reachability_debouncing_enabled")).toBool();
    service.reachabilityDebouncingWindowMs =
        json.value(QStringLiteral("reachability_debouncing_window")).toInt();
    service.dateCreated = dateOrZero(json.value(QStringLiteral("date_created")));
    service.dateUpdated = dateOrZero(json.value(QStringLiteral("date_updated")));
    return service;
}

Stream streamFromJson(const QJsonObject &json)
{
    Stream stream;
    stream.sid = json.value(QStringLiteral("sid")).toString();
    stream.uniqueName = nullableString(json.value(QStringLiteral("unique_name")));
    stream.accountSid = json.value(QStringLiteral("account_sid")).toString();
    stream.serviceSid = json.value(QStringLiteral("service_sid")).toString();
    stream.createdBy = json.value(QStringLiteral("created_by")).toString();
    stream.dateCreated = dateOrZero(json.value(QStringLiteral("date_created")));
    stream.dateUpdated = dateOrZero(json.value(QStringLiteral("date_updated")));
    if (const QJsonValue expires = json.value(QStringLiteral("date_expires")); expires.isString())
        stream.dateExpires = parseDate(expires.toString());
    return stream;
}

QJsonObject listJson(const QString &key, const QJsonArray &items, const QString &listUrl, int page,
    int pageSize, const std::optional<QString> &pageToken,
    const std::optional<QString> &nextPageToken, const std::optional<QString> &previousPageToken)
{
    const auto pageUrl = [&](int number, const std::optional<QString> &token) {
        QString url = listUrl + QStringLiteral("?PageSize=%1&Page=%2").arg(pageSize).arg(number);
        if (token)
            url += QLatin1StringView("&PageToken=") + *token; // tokens are URL-safe by construction
        return url;
    };
    const auto nullableUrl = [&](int number, const std::optional<QString> &token) {
        return token ? QJsonValue(pageUrl(number, token)) : QJsonValue(QJsonValue::Null);
    };
    QJsonObject meta{
        {QStringLiteral("page"), page},
        {QStringLiteral("page_size"), pageSize},
        {QStringLiteral("first_page_url"), pageUrl(0, std::nullopt)},
        {QStringLiteral("previous_page_url"), nullableUrl(qMax(0, page - 1), previousPageToken)},
        {QStringLiteral("url"), pageUrl(page, pageToken)},
        {QStringLiteral("next_page_url"), nullableUrl(page + 1, nextPageToken)},
        {QStringLiteral("key"), key},
    };
    return QJsonObject{{key, items}, {QStringLiteral("meta"), meta}};
}

} // namespace streams::restjson
