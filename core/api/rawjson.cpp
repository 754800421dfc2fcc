#include "api/rawjson.h"

namespace streams::rawjson {

std::optional<QByteArrayView> member(QByteArrayView json, QByteArrayView name)
{
    const qsizetype n = json.size();
    qsizetype i = 0;
    const auto skipSpace = [&] {
        while (i < n && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
            ++i;
    };
    // One past the closing quote of the string whose opening quote is at `at`.
    const auto skipString = [&](qsizetype at) {
        qsizetype k = at + 1;
        while (k < n && json[k] != '"')
            k += json[k] == '\\' ? 2 : 1;
        return qMin(k + 1, n);
    };
    const auto skipValue = [&](qsizetype at) {
        qsizetype k = at;
        int depth = 0;
        while (k < n) {
            const char c = json[k];
            if (c == '"') {
                k = skipString(k);
                if (depth == 0)
                    return k;
                continue;
            }
            if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (depth == 0)
                    return k;
                if (--depth == 0)
                    return k + 1;
            } else if (c == ',' && depth == 0) {
                return k;
            }
            ++k;
        }
        return k;
    };

    // QJsonDocument reads past a UTF-8 byte order mark before the value; so does this (found by
    // fuzz_rawjson).
    if (json.startsWith("\xEF\xBB\xBF"))
        i = 3;
    skipSpace();
    if (i >= n || json[i] != '{')
        return std::nullopt;
    ++i;
    std::optional<QByteArrayView> found; // the last occurrence wins, as in QJsonObject
    while (true) {
        skipSpace();
        if (i >= n || json[i] != '"')
            return found;
        const qsizetype keyEnd = skipString(i);
        if (keyEnd - i < 2)
            return std::nullopt;
        const QByteArrayView key = json.sliced(i + 1, keyEnd - i - 2);
        if (key.contains('\\'))
            return std::nullopt;
        i = keyEnd;
        skipSpace();
        if (i >= n || json[i] != ':')
            return std::nullopt;
        ++i;
        skipSpace();
        const qsizetype valueEnd = skipValue(i);
        if (key == name)
            found = json.sliced(i, valueEnd - i).trimmed();
        i = valueEnd;
        skipSpace();
        if (i < n && json[i] == ',') {
            ++i;
            continue;
        }
        return found;
    }
}

} // namespace streams::rawjson
