#pragma once

#include "api/jsonwriter.h"
#include "api/page.h"
#include "api/service.h"
#include "api/stream.h"
#include "api/streammessage.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <optional>

// The REST resource shapes of Sync v1: snake_case fields, absolute `url`/`links` built from the
// base the client used (clients follow them verbatim), dates as YYYY-MM-DDTHH:MM:SSZ.
namespace streams::restjson {

/// UTC `YYYY-MM-DDTHH:MM:SSZ`, the only form python-twilio's deserialiser accepts.
QString formatDate(qint64 secondsSinceEpoch);
/// The inverse of formatDate; empty when `text` is not in exactly that form.
std::optional<qint64> parseDate(QStringView text);

QString serviceUrl(QStringView baseUrl, QStringView serviceSid);
QString streamUrl(QStringView baseUrl, QStringView serviceSid, QStringView streamSid);

/// The resources as the REST API writes them, appended to `json`. These are the one definition
/// of each shape; the QJsonObject forms below are derived from them.
void writeService(JsonWriter &json, const Service &service, QStringView baseUrl);
void writeStream(JsonWriter &json, const Stream &stream, QStringView baseUrl);
/// The same stream shape with its `url` (and `links.messages` under it) given by the caller, for
/// protocols that address streams elsewhere (twilsock descriptors live under /v3).
void writeStreamAt(JsonWriter &json, const Stream &stream, const QString &url);
void writeMessage(JsonWriter &json, const StreamMessage &message);
/// `"meta": {...}` of a list page, inside the page object.
void writeListMeta(JsonWriter &json, QLatin1StringView key, const QString &listUrl, int page,
    int pageSize, const std::optional<QString> &pageToken,
    const std::optional<QString> &nextPageToken, const std::optional<QString> &previousPageToken);

QJsonObject serviceJson(const Service &service, QStringView baseUrl);
QJsonObject streamJson(const Stream &stream, QStringView baseUrl);
QJsonObject messageJson(const StreamMessage &message);

Service serviceFromJson(const QJsonObject &json);
Stream streamFromJson(const QJsonObject &json);

/// A list page: `{<key>: [...], meta: {...}}`. `listUrl` is the absolute URL of the list
/// without a query string.
QJsonObject listJson(const QString &key, const QJsonArray &items, const QString &listUrl, int page,
    int pageSize, const std::optional<QString> &pageToken,
    const std::optional<QString> &nextPageToken, const std::optional<QString> &previousPageToken);

} // namespace streams::restjson
