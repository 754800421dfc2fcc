#include "ui/liveview/jsondiff.h"

#include "api/jsonpointer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QStringList>
#include <algorithm>

namespace streams {

namespace {

void diffValues(const QString &pointer, const QJsonValue &before, const QJsonValue &after,
    QList<JsonDiff::Change> &out);

void diffObjects(const QString &pointer, const QJsonObject &before, const QJsonObject &after,
    QList<JsonDiff::Change> &out)
{
    // One sorted union of the keys, so the report reads in a stable order whatever the objects'
    // internal order is.
    QStringList keys = before.keys() + after.keys();
    keys.sort();
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (const QString &key : std::as_const(keys)) {
        const QString child = pointer + u'/' + jsonpointer::escapeToken(key);
        const auto b = before.constFind(key);
        const auto a = after.constFind(key);
        if (a == after.constEnd())
            out.append(
                {child, JsonDiff::Kind::Removed, b.value(), QJsonValue(QJsonValue::Undefined)});
        else if (b == before.constEnd())
            out.append(
                {child, JsonDiff::Kind::Added, QJsonValue(QJsonValue::Undefined), a.value()});
        else
            diffValues(child, b.value(), a.value(), out);
    }
}

void diffArrays(const QString &pointer, const QJsonArray &before, const QJsonArray &after,
    QList<JsonDiff::Change> &out)
{
    const qsizetype common = std::min(before.size(), after.size());
    for (qsizetype i = 0; i < common; ++i)
        diffValues(pointer + u'/' + QString::number(i), before.at(i), after.at(i), out);
    for (qsizetype i = common; i < before.size(); ++i)
        out.append({pointer + u'/' + QString::number(i), JsonDiff::Kind::Removed, before.at(i),
            QJsonValue(QJsonValue::Undefined)});
    for (qsizetype i = common; i < after.size(); ++i)
        out.append({pointer + u'/' + QString::number(i), JsonDiff::Kind::Added,
            QJsonValue(QJsonValue::Undefined), after.at(i)});
}

void diffValues(const QString &pointer, const QJsonValue &before, const QJsonValue &after,
    QList<JsonDiff::Change> &out)
{
    if (before.isObject() && after.isObject())
        return diffObjects(pointer, before.toObject(), after.toObject(), out);
    if (before.isArray() && after.isArray())
        return diffArrays(pointer, before.toArray(), after.toArray(), out);
    // QJsonValue compares numbers by value (1 == 1.0), which is JSON's own notion of equality.
    if (before != after)
        out.append({pointer, JsonDiff::Kind::Changed, before, after});
}

} // namespace

QList<JsonDiff::Change> JsonDiff::diff(const QJsonObject &before, const QJsonObject &after)
{
    QList<Change> changes;
    diffObjects(QString(), before, after, changes);
    return changes;
}

QString JsonDiff::toText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Undefined: return {};
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    default: {
        // A scalar: wrap it in an array to reuse Qt's JSON number and string formatting.
        const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
        return QString::fromUtf8(wrapped.mid(1, wrapped.size() - 2));
    }
    }
}

QString JsonDiff::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Added: return QStringLiteral("added");
    case Kind::Removed: return QStringLiteral("removed");
    case Kind::Changed: return QStringLiteral("changed");
    }
    return {};
}

} // namespace streams
