#include "api/restjson.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QTimeZone>

namespace streams::restjson {

namespace {
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
    QByteArray text;
    JsonWriter::appendDate(text, secondsSinceEpoch);
    return QString::fromLatin1(text);
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

void writeService(JsonWriter &json, const Service &service, QStringView baseUrl)
{
    const QString url = serviceUrl(baseUrl, service.sid);
    json.beginObject()
        .key(QLatin1StringView("sid"))
        .value(QStringView(service.sid))
        .key(QLatin1StringView("unique_name"))
        .nullableValue(service.uniqueName)
        .key(QLatin1StringView("account_sid"))
        .value(QStringView(service.accountSid))
        .key(QLatin1StringView("friendly_name"))
        .nullableValue(service.friendlyName)
        .key(QLatin1StringView("date_created"))
        .dateValue(service.dateCreated)
        .key(QLatin1StringView("date_updated"))
        .dateValue(service.dateUpdated)
        .key(QLatin1StringView("url"))
        .value(QStringView(url))
        .key(QLatin1StringView("webhook_url"))
        .nullableValue(service.webhookUrl)
        .key(QLatin1StringView("webhooks_from_rest_enabled"))
        .value(service.webhooksFromRestEnabled)
        .key(QLatin1StringView("reachability_webhooks_enabled"))
        .value(service.reachabilityWebhooksEnabled)
        .key(QLatin1StringView("acl_enabled"))
        .value(service.aclEnabled)
        .key(QLatin1StringView("reachability_debouncing_enabled"))
        .value(service.reachabilityDebouncingEnabled)
        .key(QLatin1StringView("reachability_debouncing_window"))
        .value(service.reachabilityDebouncingWindowMs)
        .key(QLatin1StringView("links"))
        .beginObject()
        .key(QLatin1StringView("documents"))
        .value(QStringView(url + QLatin1StringView("/Documents")))
        .key(QLatin1StringView("lists"))
        .value(QStringView(url + QLatin1StringView("/Lists")))
        .key(QLatin1StringView("maps"))
        .value(QStringView(url + QLatin1StringView("/Maps")))
        .key(QLatin1StringView("streams"))
        .value(QStringView(url + QLatin1StringView("/Streams")))
        .endObject()
        .endObject();
}

void writeStream(JsonWriter &json, const Stream &stream, QStringView baseUrl)
{
    writeStreamAt(json, stream, streamUrl(baseUrl, stream.serviceSid, stream.sid));
}

void writeStreamAt(JsonWriter &json, const Stream &stream, const QString &url)
{
    json.beginObject()
        .key(QLatin1StringView("sid"))
        .value(QStringView(stream.sid))
        .key(QLatin1StringView("unique_name"))
        .nullableValue(stream.uniqueName)
        .key(QLatin1StringView("account_sid"))
        .value(QStringView(stream.accountSid))
        .key(QLatin1StringView("service_sid"))
        .value(QStringView(stream.serviceSid))
        .key(QLatin1StringView("url"))
        .value(QStringView(url))
        .key(QLatin1StringView("links"))
        .beginObject()
        .key(QLatin1StringView("messages"))
        .value(QStringView(url + QLatin1StringView("/Messages")))
        .endObject()
        .key(QLatin1StringView("date_expires"));
    if (stream.dateExpires)
        json.dateValue(*stream.dateExpires);
    else
        json.nullValue();
    json.key(QLatin1StringView("date_created"))
        .dateValue(stream.dateCreated)
        .key(QLatin1StringView("date_updated"))
        .dateValue(stream.dateUpdated)
        .key(QLatin1StringView("created_by"))
        .value(QStringView(stream.createdBy))
        .endObject();
}

void writeMessage(JsonWriter &json, const StreamMessage &message)
{
    // `data` is validated compact JSON already: it goes out byte for byte as subscribers get it.
    json.beginObject()
        .key(QLatin1StringView("sid"))
        .value(QStringView(message.sid))
        .key(QLatin1StringView("data"))
        .rawValue(message.data)
        .endObject();
}

void writeListMeta(JsonWriter &json, QLatin1StringView key, const QString &listUrl, int page,
    int pageSize, const std::optional<QString> &pageToken,
    const std::optional<QString> &nextPageToken, const std::optional<QString> &previousPageToken)
{
    const auto pageUrl = [&](int number, const std::optional<QString> &token) {
        QString url = listUrl + QStringLiteral("?PageSize=%1&Page=%2").arg(pageSize).arg(number);
        if (token)
            url += QLatin1StringView("&PageToken=") + *token; // tokens are URL-safe by construction
        return url;
    };
    const auto urlOrNull = [&](int number, const std::optional<QString> &token) {
        if (token)
            json.value(QStringView(pageUrl(number, token)));
        else
            json.nullValue();
    };
    json.key(QLatin1StringView("meta"))
        .beginObject()
        .key(QLatin1StringView("page"))
        .value(page)
        .key(QLatin1StringView("page_size"))
        .value(pageSize)
        .key(QLatin1StringView("first_page_url"))
        .value(QStringView(pageUrl(0, std::nullopt)))
        .key(QLatin1StringView("previous_page_url"));
    urlOrNull(qMax(0, page - 1), previousPageToken);
    json.key(QLatin1StringView("url"))
        .value(QStringView(pageUrl(page, pageToken)))
        .key(QLatin1StringView("next_page_url"));
    urlOrNull(page + 1, nextPageToken);
    json.key(QLatin1StringView("key")).value(key).endObject();
}

namespace {
template<typename Write>
QJsonObject asObject(Write write)
{
    QByteArray bytes;
    JsonWriter json(bytes);
    write(json);
    return QJsonDocument::fromJson(bytes).object();
}
} // namespace

QJsonObject serviceJson(const Service &service, QStringView baseUrl)
{
    return asObject([&](JsonWriter &json) { writeService(json, service, baseUrl); });
}

QJsonObject streamJson(const Stream &stream, QStringView baseUrl)
{
    return asObject([&](JsonWriter &json) { writeStream(json, stream, baseUrl); });
}

QJsonObject messageJson(const StreamMessage &message)
{
    return asObject([&](JsonWriter &json) { writeMessage(json, message); });
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
    const QByteArray keyBytes = key.toLatin1();
    return asObject([&](JsonWriter &json) {
        json.beginObject()
            .key(QLatin1StringView(keyBytes))
            .rawValue(QJsonDocument(items).toJson(QJsonDocument::Compact));
        writeListMeta(json, QLatin1StringView(keyBytes), listUrl, page, pageSize, pageToken,
            nextPageToken, previousPageToken);
        json.endObject();
    });
}

} // namespace streams::restjson
