#include "api/jsonwriter.h"

#include <algorithm>
#include <chrono>

namespace streams {

void JsonWriter::separate()
{
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (!m_hasElement.isEmpty()) {
        if (m_hasElement.last())
            m_out += ',';
        m_hasElement.last() = true;
    }
}

JsonWriter &JsonWriter::beginObject()
{
    separate();
    m_out += '{';
    m_hasElement.append(false);
    return *this;
}

JsonWriter &JsonWriter::endObject()
{
    m_out += '}';
    m_hasElement.removeLast();
    return *this;
}

JsonWriter &JsonWriter::beginArray()
{
    separate();
    m_out += '[';
    m_hasElement.append(false);
    return *this;
}

JsonWriter &JsonWriter::endArray()
{
    m_out += ']';
    m_hasElement.removeLast();
    return *this;
}

JsonWriter &JsonWriter::key(QLatin1StringView name)
{
    separate();
    m_out += '"';
    m_out += QByteArrayView(name.data(), name.size()); // keys are plain ASCII identifiers
    m_out += "\":";
    m_afterKey = true;
    return *this;
}

JsonWriter &JsonWriter::value(QStringView text)
{
    separate();
    m_out += '"';
    appendEscaped(m_out, text);
    m_out += '"';
    return *this;
}

JsonWriter &JsonWriter::value(QLatin1StringView text)
{
    return value(QStringView(QString(text)));
}

JsonWriter &JsonWriter::value(bool flag)
{
    separate();
    m_out += flag ? "true" : "false";
    return *this;
}

JsonWriter &JsonWriter::value(qint64 number)
{
    separate();
    m_out += QByteArray::number(number);
    return *this;
}

JsonWriter &JsonWriter::nullValue()
{
    separate();
    m_out += "null";
    return *this;
}

JsonWriter &JsonWriter::nullableValue(const QString &text)
{
    return text.isNull() ? nullValue() : value(QStringView(text));
}

JsonWriter &JsonWriter::rawValue(QByteArrayView json)
{
    separate();
    m_out += json;
    return *this;
}

JsonWriter &JsonWriter::dateValue(qint64 secondsSinceEpoch)
{
    separate();
    m_out += '"';
    appendDate(m_out, secondsSinceEpoch);
    m_out += '"';
    return *this;
}

void JsonWriter::appendEscaped(QByteArray &out, QStringView text)
{
    static constexpr char hex[] = "0123456789abcdef";
    // ASCII without anything to escape (SIDs, URLs, dates, most names) goes in one append;
    // appending byte by byte was a fifth of a list request's CPU time.
    const bool plain = std::all_of(text.begin(), text.end(), [](QChar c) {
        return c.unicode() >= 0x20 && c.unicode() < 0x80 && c != u'"' && c != u'\\';
    });
    if (plain) {
        const qsizetype at = out.size();
        out.resize(at + text.size());
        char *to = out.data() + at;
        for (QChar c : text)
            *to++ = char(c.unicode());
        return;
    }
    const QByteArray utf8 = text.toUtf8();
    const char *run = utf8.constData(); // start of the bytes not yet copied
    const char *const end = run + utf8.size();
    for (const char *at = run; at != end; ++at) {
        const auto byte = static_cast<unsigned char>(*at);
        if (byte >= 0x20 && byte != '"' && byte != '\\')
            continue; // UTF-8 passes through, as QJsonDocument writes it
        out.append(run, at - run);
        run = at + 1;
        switch (byte) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default: {
            const char escape[] = {'\\', 'u', '0', '0', hex[byte >> 4], hex[byte & 0xF]};
            out.append(escape, sizeof escape);
        }
        }
    }
    out.append(run, end - run);
}

void JsonWriter::appendDate(QByteArray &out, qint64 secondsSinceEpoch)
{
    using namespace std::chrono;
    const sys_seconds instant{seconds{secondsSinceEpoch}};
    const sys_days day = floor<days>(instant);
    const year_month_day date{day};
    const hh_mm_ss<seconds> time{instant - day};
    char text[21];
    const auto two = [](char *at, unsigned value) {
        at[0] = char('0' + value / 10);
        at[1] = char('0' + value % 10);
    };
    const int year = int(date.year());
    if (year < 0 || year > 9999) { // outside what the format can say; never for real data
        out += "0000-01-01T00:00:00Z";
        return;
    }
    two(text, unsigned(year / 100));
    two(text + 2, unsigned(year % 100));
    text[4] = '-';
    two(text + 5, unsigned(date.month()));
    text[7] = '-';
    two(text + 8, unsigned(date.day()));
    text[10] = 'T';
    two(text + 11, unsigned(time.hours().count()));
    text[13] = ':';
    two(text + 14, unsigned(time.minutes().count()));
    text[16] = ':';
    two(text + 17, unsigned(time.seconds().count()));
    text[19] = 'Z';
    text[20] = '\0';
    out.append(text, 20);
}

} // namespace streams
