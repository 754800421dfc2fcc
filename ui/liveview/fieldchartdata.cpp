#include "ui/liveview/fieldchartdata.h"

#include "api/jsonpointer.h"
#include "api/rawjson.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <charconv>
#include <optional>

namespace streams {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("FieldChartData", text);
}

enum class Found {
    Number,
    NotNumeric,
    Missing,
    Unknown // the fast path cannot tell; parse the message
};

// Reads the value at `keys` from compact JSON without building a document.
Found readRaw(QByteArrayView json, const QByteArrayList &keys, double &number)
{
    QByteArrayView value = json;
    for (const QByteArray &key : keys) {
        const auto member = rawjson::member(value, key);
        // Absent, an escaped key, or not an object (an array index): only a parse can say.
        if (!member)
            return Found::Unknown;
        value = *member;
    }
    if (value.isEmpty())
        return Found::Unknown;
    const char first = value.front();
    if (first != '-' && (first < '0' || first > '9'))
        return Found::NotNumeric;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (error != std::errc() || end != value.data() + value.size())
        return Found::Unknown; // out of double's range, say: let Qt decide
    return Found::Number;
}

} // namespace

FieldChartData::FieldChartData(int bucketCapacity) : m_bucketCapacity(bucketCapacity) { }

std::expected<int, QString> FieldChartData::addField(const QString &pointer)
{
    QString error;
    const std::optional<QStringList> tokens = jsonpointer::parse(pointer, &error);
    if (!tokens)
        return std::unexpected(error);
    if (tokens->isEmpty())
        return std::unexpected(tr("That is the whole message; name a field, such as /value"));
    if (indexOf(pointer) >= 0)
        return std::unexpected(tr("%1 is charted already").arg(pointer));
    if (fieldCount() >= kMaxFields)
        return std::unexpected(tr("At most %1 fields on one chart").arg(kMaxFields));
    auto field =
        std::make_unique<Field>(Field{pointer, *tokens, {}, FieldSeries(m_bucketCapacity)});
    for (const QString &token : *tokens)
        field->keys.append(token.toUtf8());
    m_fields.push_back(std::move(field));
    ++m_generation;
    return fieldCount() - 1;
}

bool FieldChartData::removeField(const QString &pointer)
{
    const int index = indexOf(pointer);
    if (index < 0)
        return false;
    m_fields.erase(m_fields.begin() + index);
    ++m_generation;
    return true;
}

int FieldChartData::indexOf(const QString &pointer) const
{
    for (size_t i = 0; i < m_fields.size(); ++i) {
        if (m_fields[i]->pointer == pointer)
            return int(i);
    }
    return -1;
}

QStringList FieldChartData::pointers() const
{
    QStringList list;
    for (const auto &field : m_fields)
        list.append(field->pointer);
    return list;
}

void FieldChartData::addMessage(qint64 timeMs, QByteArrayView json)
{
    if (m_fields.empty())
        return;
    ++m_messages;
    ++m_generation;
    std::optional<QJsonValue> parsed; // at most one parse per message, shared by every field
    for (const auto &field : m_fields) {
        double number = 0;
        Found found = readRaw(json, field->keys, number);
        if (found == Found::Unknown) {
            if (!parsed) {
                ++m_parses;
                const QJsonDocument document = QJsonDocument::fromJson(json.toByteArray());
                parsed = document.isObject() ? QJsonValue(document.object())
                    : document.isArray()     ? QJsonValue(document.array())
                                             : QJsonValue(QJsonValue::Undefined);
            }
            const QJsonValue value = jsonpointer::resolve(*parsed, field->tokens);
            found = value.isUndefined() ? Found::Missing
                : value.isDouble()      ? Found::Number
                                        : Found::NotNumeric;
            number = value.toDouble();
        }
        switch (found) {
        case Found::Number: field->series.addNumber(timeMs, number); break;
        case Found::NotNumeric: field->series.addNotNumeric(); break;
        case Found::Missing:
        case Found::Unknown: field->series.addMissing(); break;
        }
    }
}

void FieldChartData::clear()
{
    for (const auto &field : m_fields)
        field->series.clear();
    m_messages = 0;
    m_parses = 0;
    ++m_generation;
}

} // namespace streams
