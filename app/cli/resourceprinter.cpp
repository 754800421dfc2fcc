#include "resourceprinter.h"

#include "api/jsonwriter.h"
#include "api/restjson.h"
#include "connectionresolver.h"

#include <QJsonObject>
#include <cstdio>

namespace streams {

namespace {
using Output = CliInvocation::Output;

// Table cells: JSON null as "-", so an empty column still reads as "nothing here".
QString cell(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined: return QStringLiteral("-");
    case QJsonValue::Bool: return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double: return QString::number(value.toInteger());
    case QJsonValue::String:
        return value.toString().isEmpty() ? QStringLiteral("-") : value.toString();
    default: return QString();
    }
}

QList<std::pair<QString, QString>> fields(const QJsonObject &object, const QStringList &keys)
{
    QList<std::pair<QString, QString>> pairs;
    for (const QString &key : keys)
        pairs.append({key, cell(object.value(key))});
    return pairs;
}

const QStringList kServiceKeys{QStringLiteral("sid"), QStringLiteral("unique_name"),
    QStringLiteral("friendly_name"), QStringLiteral("account_sid"), QStringLiteral("webhook_url"),
    QStringLiteral("webhooks_from_rest_enabled"), QStringLiteral("reachability_webhooks_enabled"),
    QStringLiteral("acl_enabled"), QStringLiteral("reachability_debouncing_enabled"),
    QStringLiteral("reachability_debouncing_window"), QStringLiteral("date_created"),
    QStringLiteral("date_updated"), QStringLiteral("url")};

const QStringList kStreamKeys{QStringLiteral("sid"), QStringLiteral("unique_name"),
    QStringLiteral("service_sid"), QStringLiteral("account_sid"), QStringLiteral("created_by"),
    QStringLiteral("date_created"), QStringLiteral("date_updated"), QStringLiteral("date_expires"),
    QStringLiteral("url")};

QString kindKey(ConnectionProfile::Kind kind)
{
    switch (kind) {
    case ConnectionProfile::Kind::LocalEngine: return QStringLiteral("local_engine");
    case ConnectionProfile::Kind::EngineAtUrl: return QStringLiteral("engine_at_url");
    case ConnectionProfile::Kind::TwilioAccount: return QStringLiteral("twilio_account");
    }
    return QString();
}

QString profileAddress(const ConnectionProfile &profile)
{
    if (profile.kind == ConnectionProfile::Kind::LocalEngine)
        return ConnectionResolver::localEngineUrl().toString();
    return profile.endpoints().restBase.toString();
}

QString profileCredentials(const ConnectionProfile &profile)
{
    if (profile.kind == ConnectionProfile::Kind::LocalEngine)
        return QStringLiteral("the engine's credentials.json");
    if (profile.authMethod == ConnectionProfile::AuthMethod::ApiKey)
        return QStringLiteral("API key %1").arg(profile.apiKeySid);
    return QStringLiteral("auth token");
}

void writeNullableString(JsonWriter &json, QLatin1StringView key, const QString &text)
{
    json.key(key);
    if (text.isEmpty())
        json.nullValue();
    else
        json.value(QStringView(text));
}
} // namespace

ResourcePrinter::ResourcePrinter(CliInvocation::Output output, QString baseUrl)
    : m_baseUrl(std::move(baseUrl)), m_output(output)
{ }

void ResourcePrinter::writeOut(const QByteArray &bytes)
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

void ResourcePrinter::notice(const QString &line)
{
    const QByteArray bytes = (QStringLiteral("streams-cli: ") + line + u'\n').toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    std::fflush(stderr);
}

QString ResourcePrinter::table(const QStringList &header, const QList<QStringList> &rows)
{
    QList<qsizetype> widths;
    for (const QString &title : header)
        widths.append(title.size());
    for (const QStringList &row : rows)
        for (qsizetype column = 0; column < row.size() && column < widths.size(); ++column)
            widths[column] = qMax(widths[column], row.at(column).size());
    QString text;
    const auto appendRow = [&](const QStringList &row) {
        QString line;
        for (qsizetype column = 0; column < row.size(); ++column) {
            // The last column is not padded: no trailing blanks for scripts to trip over.
            if (column + 1 < row.size())
                line += row.at(column).leftJustified(widths.at(column) + 2);
            else
                line += row.at(column);
        }
        text += line + u'\n';
    };
    appendRow(header);
    for (const QStringList &row : rows)
        appendRow(row);
    return text;
}

QString ResourcePrinter::keyValues(const QList<std::pair<QString, QString>> &pairs)
{
    qsizetype width = 0;
    for (const auto &[key, value] : pairs)
        width = qMax(width, key.size());
    QString text;
    for (const auto &[key, value] : pairs)
        text += key.leftJustified(width + 2) + value + u'\n';
    return text;
}

void ResourcePrinter::printServices(const QList<Service> &services) const
{
    if (m_output == Output::Json) {
        QByteArray bytes;
        JsonWriter json(bytes);
        json.beginArray();
        for (const Service &service : services)
            restjson::writeService(json, service, m_baseUrl);
        json.endArray();
        writeOut(bytes + '\n');
        return;
    }
    QList<QStringList> rows;
    for (const Service &service : services) {
        const QJsonObject object = restjson::serviceJson(service, m_baseUrl);
        rows.append({service.sid, cell(object.value(u"unique_name")),
            cell(object.value(u"friendly_name")), restjson::formatDate(service.dateCreated)});
    }
    writeOut(table({QStringLiteral("SID"), QStringLiteral("UNIQUE NAME"),
                       QStringLiteral("FRIENDLY NAME"), QStringLiteral("CREATED")},
        rows)
                 .toUtf8());
}

void ResourcePrinter::printService(const Service &service) const
{
    if (m_output == Output::Json) {
        QByteArray bytes;
        JsonWriter json(bytes);
        restjson::writeService(json, service, m_baseUrl);
        writeOut(bytes + '\n');
        return;
    }
    writeOut(keyValues(fields(restjson::serviceJson(service, m_baseUrl), kServiceKeys)).toUtf8());
}

void ResourcePrinter::printStreams(const QList<Stream> &streams) const
{
    if (m_output == Output::Json) {
        QByteArray bytes;
        JsonWriter json(bytes);
        json.beginArray();
        for (const Stream &stream : streams)
            restjson::writeStream(json, stream, m_baseUrl);
        json.endArray();
        writeOut(bytes + '\n');
        return;
    }
    QList<QStringList> rows;
    for (const Stream &stream : streams) {
        rows.append({stream.sid, cell(stream.uniqueName), cell(stream.createdBy),
            restjson::formatDate(stream.dateCreated),
            stream.dateExpires ? restjson::formatDate(*stream.dateExpires)
                               : QStringLiteral("never")});
    }
    writeOut(
        table({QStringLiteral("SID"), QStringLiteral("UNIQUE NAME"), QStringLiteral("CREATED BY"),
                  QStringLiteral("CREATED"), QStringLiteral("EXPIRES")},
            rows)
            .toUtf8());
}

void ResourcePrinter::printStream(const Stream &stream) const
{
    if (m_output == Output::Json) {
        QByteArray bytes;
        JsonWriter json(bytes);
        restjson::writeStream(json, stream, m_baseUrl);
        writeOut(bytes + '\n');
        return;
    }
    writeOut(keyValues(fields(restjson::streamJson(stream, m_baseUrl), kStreamKeys)).toUtf8());
}

void ResourcePrinter::printProfiles(const QList<ConnectionProfile> &profiles) const
{
    if (m_output == Output::Json) {
        // The profile as saved, never a secret (profiles hold none).
        QByteArray bytes;
        JsonWriter json(bytes);
        json.beginArray();
        for (const ConnectionProfile &profile : profiles) {
            json.beginObject()
                .key(QLatin1StringView("id"))
                .value(QStringView(profile.id))
                .key(QLatin1StringView("name"))
                .value(QStringView(profile.name))
                .key(QLatin1StringView("kind"))
                .value(QStringView(kindKey(profile.kind)))
                .key(QLatin1StringView("url"))
                .value(QStringView(profileAddress(profile)));
            writeNullableString(json, QLatin1StringView("account_sid"), profile.accountSid);
            json.key(QLatin1StringView("auth_method"));
            if (profile.kind == ConnectionProfile::Kind::LocalEngine)
                json.nullValue();
            else
                json.value(profile.authMethod == ConnectionProfile::AuthMethod::ApiKey
                        ? QLatin1StringView("api_key")
                        : QLatin1StringView("auth_token"));
            writeNullableString(json, QLatin1StringView("api_key_sid"),
                profile.authMethod == ConnectionProfile::AuthMethod::ApiKey ? profile.apiKeySid
                                                                            : QString());
            writeNullableString(json, QLatin1StringView("region"), profile.region);
            writeNullableString(json, QLatin1StringView("edge"), profile.edge);
            json.endObject();
        }
        json.endArray();
        writeOut(bytes + '\n');
        return;
    }
    QList<QStringList> rows;
    for (const ConnectionProfile &profile : profiles)
        rows.append({profile.name, ConnectionProfile::kindName(profile.kind),
            profileAddress(profile), cell(profile.accountSid), profileCredentials(profile)});
    writeOut(table({QStringLiteral("NAME"), QStringLiteral("KIND"), QStringLiteral("URL"),
                       QStringLiteral("ACCOUNT SID"), QStringLiteral("CREDENTIALS")},
        rows)
                 .toUtf8());
}

void ResourcePrinter::printDeleted(const QString &what) const
{
    if (m_output == Output::Table)
        writeOut(QStringLiteral("deleted %1\n").arg(what).toUtf8());
}

void ResourcePrinter::printPublished(const StreamMessage &message) const
{
    if (m_output == Output::Json) {
        QByteArray bytes;
        JsonWriter json(bytes);
        restjson::writeMessage(json, message);
        writeOut(bytes + '\n');
        return;
    }
    writeOut(message.sid.toUtf8() + '\n');
}

void ResourcePrinter::printPublishedLine(qint64 line, const QString &sid) const
{
    if (m_output == Output::Json) {
        QByteArray bytes;
        JsonWriter json(bytes);
        json.beginObject()
            .key(QLatin1StringView("line"))
            .value(line)
            .key(QLatin1StringView("sid"))
            .value(QStringView(sid))
            .endObject();
        writeOut(bytes + '\n');
        return;
    }
    writeOut(sid.toUtf8() + '\n');
}

} // namespace streams
