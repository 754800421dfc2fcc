#include "jsonlayout.h"

namespace streams::jsonlayout {

namespace {
bool isBlank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// The index just past the string that starts at `from` (the opening quote).
qsizetype endOfString(QByteArrayView text, qsizetype from)
{
    qsizetype i = from + 1;
    while (i < text.size() && text[i] != '"')
        i += text[i] == '\\' ? 2 : 1;
    return qMin(i + 1, text.size());
}
} // namespace

QByteArray relayout(QByteArrayView json, int indent)
{
    QByteArray out;
    out.reserve(json.size() * (indent > 0 ? 2 : 1));
    int depth = 0;
    const auto newline = [&] {
        if (indent <= 0)
            return;
        out += '\n';
        out += QByteArray(qMax(0, depth) * indent, ' ');
    };
    const qsizetype size = json.size();
    for (qsizetype i = 0; i < size; ++i) {
        const char c = json[i];
        if (isBlank(c))
            continue;
        if (c == '"') {
            const qsizetype end = endOfString(json, i);
            out += json.sliced(i, end - i);
            i = end - 1;
            continue;
        }
        if (c == '{' || c == '[') {
            out += c;
            qsizetype next = i + 1;
            while (next < size && isBlank(json[next]))
                ++next;
            if (next < size && (json[next] == '}' || json[next] == ']')) {
                out += json[next]; // an empty container stays on one line
                i = next;
                continue;
            }
            ++depth;
            newline();
        } else if (c == '}' || c == ']') {
            --depth;
            newline();
            out += c;
        } else if (c == ',') {
            out += c;
            newline();
        } else if (c == ':') {
            out += c;
            if (indent > 0)
                out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

QList<QByteArrayView> arrayElements(QByteArrayView array)
{
    QList<QByteArrayView> elements;
    qsizetype i = 0;
    while (i < array.size() && isBlank(array[i]))
        ++i;
    if (i == array.size() || array[i] != '[')
        return elements;
    int depth = 0;
    qsizetype start = -1;
    const auto close = [&](qsizetype end) {
        if (start < 0)
            return;
        qsizetype last = end;
        while (last > start && isBlank(array[last - 1]))
            --last;
        elements.append(array.sliced(start, last - start));
        start = -1;
    };
    for (++i; i < array.size(); ++i) {
        const char c = array[i];
        if (c == '"') {
            if (start < 0)
                start = i;
            i = endOfString(array, i) - 1;
            continue;
        }
        if (isBlank(c))
            continue;
        if (depth == 0 && (c == ',' || c == ']')) {
            close(i);
            if (c == ']')
                break;
            continue;
        }
        if (start < 0)
            start = i;
        if (c == '{' || c == '[')
            ++depth;
        else if (c == '}' || c == ']')
            --depth;
    }
    return elements;
}

} // namespace streams::jsonlayout
