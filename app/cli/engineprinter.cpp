#include "engineprinter.h"

#include "api/rawjson.h"
#include "jsonlayout.h"
#include "resourceprinter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <cmath>

namespace streams {

namespace {
using Output = CliInvocation::Output;

constexpr int kIndent = 2;

// Numbers as a reader writes them: integers without a fraction, others to as many digits as
// they carry (0.42, not 0.420000).
QString number(double value)
{
    if (std::isfinite(value) && value == std::floor(value) && std::abs(value) < 1e15)
        return QString::number(qint64(value));
    return QString::number(value, 'g', 12);
}

QString cell(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined: return QStringLiteral("-");
    case QJsonValue::Bool: return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double: return number(value.toDouble());
    case QJsonValue::String:
        return value.toString().isEmpty() ? QStringLiteral("-") : value.toString();
    default: return QString();
    }
}

// The keys a reader looks for first, in this order; any other scalar the engine adds follows.
QList<std::pair<QString, QString>> fields(const QJsonObject &object, const QStringList &first)
{
    QList<std::pair<QString, QString>> pairs;
    for (const QString &key : first) {
        if (object.contains(key))
            pairs.append({key, cell(object.value(key))});
    }
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!first.contains(it.key()) && !it->isObject() && !it->isArray())
            pairs.append({it.key(), cell(*it)});
    }
    return pairs;
}

QString counted(qint64 count, const QString &singular, const QString &plural)
{
    return QStringLiteral("%1 %2").arg(count).arg(count == 1 ? singular : plural);
}

QString servicesAndStreams(qint64 services, qint64 streams)
{
    return counted(services, QStringLiteral("service"), QStringLiteral("services"))
        + QStringLiteral(", ")
        + counted(streams, QStringLiteral("stream"), QStringLiteral("streams"));
}

QString faultTarget(const QJsonObject &rule)
{
    const auto part = [&rule](const QString &key) {
        const QString value = rule.value(key).toString();
        return value.isEmpty() ? QStringLiteral("*") : value;
    };
    return part(QStringLiteral("service")) + u'/' + part(QStringLiteral("stream"));
}

QString faultActions(const QJsonObject &rule)
{
    // The engine lists every field with its default filled in (drop 0, delay_ms 0, method "*");
    // only what the rule actually does is named.
    const auto positive = [&rule](const char *key) {
        return rule.value(QLatin1StringView(key)).toDouble() > 0;
    };
    QStringList actions;
    if (positive("drop"))
        actions << QStringLiteral("drop %1").arg(number(rule.value(u"drop").toDouble()));
    if (positive("delay_ms") || positive("jitter_ms")) {
        QString delay = QStringLiteral("delay %1").arg(number(rule.value(u"delay_ms").toDouble()));
        if (positive("jitter_ms"))
            delay += QStringLiteral("±%1").arg(number(rule.value(u"jitter_ms").toDouble()));
        actions << delay + QStringLiteral(" ms");
    }
    if (positive("reorder_window"))
        actions
            << QStringLiteral("reorder %1").arg(number(rule.value(u"reorder_window").toDouble()));
    if (rule.value(u"rest_error").isObject()) {
        const QJsonObject error = rule.value(u"rest_error").toObject();
        QString text = QStringLiteral("rest-error %1").arg(cell(error.value(u"status")));
        if (error.value(u"code").isDouble())
            text += u':' + cell(error.value(u"code"));
        const auto given = [&error](const char *key) {
            const QJsonValue value = error.value(QLatin1StringView(key));
            return value.isString() && !value.toString().isEmpty() && value.toString() != u"*";
        };
        QStringList qualifiers;
        if (given("method"))
            qualifiers << error.value(u"method").toString();
        if (given("on"))
            qualifiers << QStringLiteral("on %1").arg(error.value(u"on").toString());
        if (error.value(u"probability").isDouble() && error.value(u"probability").toDouble() != 1)
            qualifiers << QStringLiteral("p %1").arg(cell(error.value(u"probability")));
        if (error.value(u"count").isDouble())
            qualifiers << QStringLiteral("count %1").arg(cell(error.value(u"count")));
        if (!qualifiers.isEmpty())
            text += QStringLiteral(" (%1)").arg(qualifiers.join(QStringLiteral(", ")));
        actions << text;
    }
    if (rule.value(u"disconnect").toBool())
        actions << QStringLiteral("disconnect");
    if (rule.value(u"seed").isDouble())
        actions << QStringLiteral("seed %1").arg(cell(rule.value(u"seed")));
    return actions.isEmpty() ? QStringLiteral("-") : actions.join(QStringLiteral(", "));
}

QString faultActed(const QJsonObject &rule)
{
    const QJsonObject acted = rule.value(u"acted").toObject();
    QStringList parts;
    for (const char *key : {"dropped", "delayed", "reordered", "rest_errors", "disconnected"}) {
        const QString name = QString::fromLatin1(key);
        const double count = acted.value(name).toDouble();
        if (count > 0)
            parts << QStringLiteral("%1 %2").arg(name, number(count));
    }
    QString text = number(acted.value(u"total").toDouble());
    if (!parts.isEmpty())
        text += QStringLiteral(" (%1)").arg(parts.join(QStringLiteral(", ")));
    return text;
}

qint64 streamCount(const QJsonObject &snapshot)
{
    qint64 streams = 0;
    for (const QJsonValue &service : snapshot.value(u"services").toArray())
        streams += service.toObject().value(u"streams").toArray().size();
    return streams;
}

void reportDropped(const QJsonObject &page)
{
    const qint64 dropped = page.value(u"dropped").toInteger();
    if (dropped > 0)
        ResourcePrinter::notice(
            QStringLiteral("%1 older than these left the traffic log before they were read")
                .arg(counted(dropped, QStringLiteral("entry"), QStringLiteral("entries"))));
}
} // namespace

EnginePrinter::EnginePrinter(CliInvocation::Output output) : m_output(output) { }

void EnginePrinter::printJson(const EngineReply &reply) const
{
    ResourcePrinter::writeOut(jsonlayout::relayout(reply.body, kIndent) + '\n');
}

QByteArray EnginePrinter::snapshotText(const EngineReply &reply)
{
    return jsonlayout::relayout(reply.body, kIndent) + '\n';
}

QString EnginePrinter::trafficLine(const QJsonObject &entry)
{
    QStringList cells{cell(entry.value(u"time")), cell(entry.value(u"kind")).leftJustified(4),
        cell(entry.value(u"who")), cell(entry.value(u"method")).leftJustified(6),
        cell(entry.value(u"path")), cell(entry.value(u"status")), cell(entry.value(u"code")),
        QStringLiteral("%1 ms").arg(entry.value(u"duration_ms").toDouble(), 0, 'f', 2)};
    if (entry.value(u"fault").isString())
        cells << entry.value(u"fault").toString();
    return cells.join(QStringLiteral("  "));
}

void EnginePrinter::printHealth(const EngineReply &reply) const
{
    if (m_output == Output::Json)
        return printJson(reply);
    ResourcePrinter::writeOut(ResourcePrinter::keyValues(
        fields(reply.object,
            {QStringLiteral("status"), QStringLiteral("version"), QStringLiteral("services"),
                QStringLiteral("streams"), QStringLiteral("live_connections")}))
                                  .toUtf8());
}

void EnginePrinter::printExported(const QString &file, const EngineReply &snapshot) const
{
    const qint64 services = snapshot.object.value(u"services").toArray().size();
    const qint64 streams = streamCount(snapshot.object);
    if (m_output == Output::Json) {
        const QJsonObject summary{{QStringLiteral("file"), file},
            {QStringLiteral("services"), services}, {QStringLiteral("streams"), streams}};
        ResourcePrinter::writeOut(QJsonDocument(summary).toJson(QJsonDocument::Indented));
        return;
    }
    ResourcePrinter::writeOut(QStringLiteral("exported %1 to %2\n")
                                  .arg(servicesAndStreams(services, streams), file)
                                  .toUtf8());
}

void EnginePrinter::printImported(const EngineReply &reply) const
{
    if (m_output == Output::Json)
        return printJson(reply);
    ResourcePrinter::writeOut(
        QStringLiteral("imported %1\n")
            .arg(servicesAndStreams(reply.object.value(u"services").toInteger(),
                reply.object.value(u"streams").toInteger()))
            .toUtf8());
}

void EnginePrinter::printReset(const EngineReply &reply) const
{
    if (m_output == Output::Json)
        return printJson(reply);
    ResourcePrinter::writeOut(
        QStringLiteral("reset to a first start: %1, no fault rules\n")
            .arg(servicesAndStreams(reply.object.value(u"services").toInteger(),
                reply.object.value(u"streams").toInteger()))
            .toUtf8());
}

void EnginePrinter::printClock(const EngineReply &reply) const
{
    if (m_output == Output::Json)
        return printJson(reply);
    ResourcePrinter::writeOut(ResourcePrinter::keyValues(
        fields(reply.object,
            {QStringLiteral("now"), QStringLiteral("now_ms"), QStringLiteral("offset_seconds"),
                QStringLiteral("expired_streams")}))
                                  .toUtf8());
}

void EnginePrinter::printFaults(const EngineReply &reply) const
{
    if (m_output == Output::Json)
        return printJson(reply);
    QList<QStringList> rows;
    for (const QJsonValue &value : reply.object.value(u"faults").toArray()) {
        const QJsonObject rule = value.toObject();
        rows.append(
            {cell(rule.value(u"id")), faultTarget(rule), faultActions(rule), faultActed(rule)});
    }
    ResourcePrinter::writeOut(
        ResourcePrinter::table({QStringLiteral("ID"), QStringLiteral("TARGET"),
                                   QStringLiteral("ACTIONS"), QStringLiteral("ACTED")},
            rows)
            .toUtf8());
}

void EnginePrinter::printFaultAdded(const EngineReply &reply) const
{
    if (m_output == Output::Json)
        return printJson(reply);
    ResourcePrinter::writeOut(reply.object.value(u"id").toString().toUtf8() + '\n');
}

void EnginePrinter::printFaultsRemoved(const QString &id) const
{
    if (m_output == Output::Json)
        return;
    ResourcePrinter::writeOut(id.isEmpty() ? QByteArrayLiteral("removed every fault rule\n")
                                           : QStringLiteral("removed %1\n").arg(id).toUtf8());
}

void EnginePrinter::printTraffic(const EngineReply &reply) const
{
    reportDropped(reply.object);
    if (m_output == Output::Json)
        return printJson(reply);
    QByteArray lines;
    for (const QJsonValue &entry : reply.object.value(u"entries").toArray())
        lines += trafficLine(entry.toObject()).toUtf8() + '\n';
    ResourcePrinter::writeOut(lines);
}

void EnginePrinter::printTrafficEntries(const EngineReply &reply) const
{
    reportDropped(reply.object);
    if (m_output == Output::Table) {
        QByteArray lines;
        for (const QJsonValue &entry : reply.object.value(u"entries").toArray())
            lines += trafficLine(entry.toObject()).toUtf8() + '\n';
        if (!lines.isEmpty())
            ResourcePrinter::writeOut(lines);
        return;
    }
    // Each entry as the engine wrote it, on one line: NDJSON a pipe can read as it comes.
    QByteArray lines;
    if (const auto entries = rawjson::member(reply.body, "entries")) {
        for (const QByteArrayView entry : jsonlayout::arrayElements(*entries))
            lines += jsonlayout::relayout(entry, 0) + '\n';
    } else {
        // A key written with escapes: the parsed entries, keys sorted.
        for (const QJsonValue &entry : reply.object.value(u"entries").toArray())
            lines += QJsonDocument(entry.toObject()).toJson(QJsonDocument::Compact) + '\n';
    }
    if (!lines.isEmpty())
        ResourcePrinter::writeOut(lines);
}

} // namespace streams
