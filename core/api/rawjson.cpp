#include "api/rawjson.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace streams::rawjson {

namespace {

// The one byte-level JSON scanner behind member() and pointerAt(). It trusts its input to be
// valid JSON (both callers' documents have parsed) but never reads out of bounds when it is not.
struct Scanner
{
    QByteArrayView json;

    qsizetype size() const { return json.size(); }

    qsizetype skipSpace(qsizetype i) const
    {
        while (
            i < size() && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
            ++i;
        return i;
    }

    // One past the closing quote of the string whose opening quote is at `at`.
    qsizetype skipString(qsizetype at) const
    {
        qsizetype k = at + 1;
        while (k < size() && json[k] != '"')
            k += json[k] == '\\' ? 2 : 1;
        return qMin(k + 1, size());
    }

    // The end of the value at `at`: one past a container's closing bracket or a string's quote,
    // or the ',' / closing bracket after a scalar (whose text then needs trimming).
    qsizetype skipValue(qsizetype at) const
    {
        qsizetype k = at;
        int depth = 0;
        while (k < size()) {
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
    }

    // QJsonDocument reads past a UTF-8 byte order mark before the value; so does this (found by
    // fuzz_rawjson).
    qsizetype start() const { return skipSpace(json.startsWith("\xEF\xBB\xBF") ? 3 : 0); }
};

// A key's text between its quotes, unescaped.
QString keyText(QByteArrayView quoted)
{
    if (!quoted.contains('\\'))
        return QString::fromUtf8(quoted.sliced(1, quoted.size() - 2));
    const QJsonDocument decoded =
        QJsonDocument::fromJson(QByteArray("[") + quoted.toByteArray() + QByteArray("]"));
    return decoded.array().at(0).toString();
}

// Walks the value at `at` with `path` naming it, and records in `found` the path of the deepest
// member or element whose key or value covers `offset`. Returns the value's end.
struct PointerFinder
{
    const Scanner &scanner;
    qsizetype offset = 0;
    QStringList path;
    std::optional<QStringList> found;

    // Siblings never overlap, so the first record (made on the way back up, deepest first) is
    // the one that counts.
    void record(qsizetype from, qsizetype to)
    {
        if (!found && offset >= from && offset < to)
            found = path;
    }

    qsizetype walk(qsizetype at, int depth)
    {
        const qsizetype n = scanner.size();
        // Messages are at most 4 KiB, but a hostile document should not blow the stack.
        if (at >= n || depth > 256 || (scanner.json[at] != '{' && scanner.json[at] != '['))
            return scanner.skipValue(at);
        const bool object = scanner.json[at] == '{';
        qsizetype i = scanner.skipSpace(at + 1);
        for (int index = 0; i < n; ++index) {
            if (scanner.json[i] == '}' || scanner.json[i] == ']')
                return i + 1;
            const qsizetype memberStart = i;
            if (object) {
                if (scanner.json[i] != '"')
                    return n;
                const qsizetype keyEnd = scanner.skipString(i);
                path.append(keyText(scanner.json.sliced(i, keyEnd - i)));
                i = scanner.skipSpace(keyEnd);
                if (i >= n || scanner.json[i] != ':')
                    return n;
                i = scanner.skipSpace(i + 1);
            } else {
                path.append(QString::number(index));
            }
            const qsizetype valueEnd = walk(i, depth + 1);
            record(memberStart, valueEnd);
            path.removeLast();
            i = scanner.skipSpace(valueEnd);
            if (i < n && scanner.json[i] == ',')
                i = scanner.skipSpace(i + 1);
        }
        return n;
    }
};

} // namespace

std::optional<QByteArrayView> member(QByteArrayView json, QByteArrayView name)
{
    const Scanner scanner{json};
    const qsizetype n = scanner.size();
    qsizetype i = scanner.start();
    if (i >= n || json[i] != '{')
        return std::nullopt;
    ++i;
    std::optional<QByteArrayView> found; // the last occurrence wins, as in QJsonObject
    while (true) {
        i = scanner.skipSpace(i);
        if (i >= n || json[i] != '"')
            return found;
        const qsizetype keyEnd = scanner.skipString(i);
        if (keyEnd - i < 2)
            return std::nullopt;
        const QByteArrayView key = json.sliced(i + 1, keyEnd - i - 2);
        if (key.contains('\\'))
            return std::nullopt;
        i = scanner.skipSpace(keyEnd);
        if (i >= n || json[i] != ':')
            return std::nullopt;
        i = scanner.skipSpace(i + 1);
        const qsizetype valueEnd = scanner.skipValue(i);
        if (key == name)
            found = json.sliced(i, valueEnd - i).trimmed();
        i = scanner.skipSpace(valueEnd);
        if (i < n && json[i] == ',') {
            ++i;
            continue;
        }
        return found;
    }
}

std::optional<QStringList> pointerAt(QByteArrayView json, qsizetype offset)
{
    const Scanner scanner{json};
    PointerFinder finder{scanner, offset, {}, {}};
    finder.walk(scanner.start(), 0);
    return finder.found;
}

} // namespace streams::rawjson
