#pragma once

#include <QByteArray>
#include <QList>
#include <QStringView>

namespace streams {

/// Appends compact JSON straight to a byte buffer, for hot response paths where building a
/// QJsonObject first and serialising it costs more than the rest of the request. Commas are
/// placed automatically; the caller keeps keys and values paired.
class JsonWriter final
{
public:
    explicit JsonWriter(QByteArray &out) : m_out(out) { }

    JsonWriter &beginObject();
    JsonWriter &endObject();
    JsonWriter &beginArray();
    JsonWriter &endArray();
    JsonWriter &key(QLatin1StringView name);

    JsonWriter &value(QStringView text);
    JsonWriter &value(QLatin1StringView text);
    JsonWriter &value(bool flag);
    JsonWriter &value(qint64 number);
    JsonWriter &value(int number) { return value(qint64(number)); }
    JsonWriter &nullValue();
    /// A null QString is written as JSON null.
    JsonWriter &nullableValue(const QString &text);
    /// A value that is already valid compact JSON (a stored message payload, say).
    JsonWriter &rawValue(QByteArrayView json);
    /// `YYYY-MM-DDTHH:MM:SSZ`, without going through QDateTime and QLocale.
    JsonWriter &dateValue(qint64 secondsSinceEpoch);

    /// Appends `text` as a JSON string body (quotes not included), escaped.
    static void appendEscaped(QByteArray &out, QStringView text);
    static void appendDate(QByteArray &out, qint64 secondsSinceEpoch);

private:
    void separate();

    QByteArray &m_out;
    // Per open container: has it written an element yet? Depth rarely exceeds 3.
    QList<bool> m_hasElement;
    bool m_afterKey = false;
};

} // namespace streams
