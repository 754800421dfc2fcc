#include "api/rawjson.h"

#include "api/jsonscanner.h"

namespace streams::rawjson {

namespace {

// member() and pointerAt() over the JSON scanner. It trusts its input to be valid JSON (both
// callers' documents have parsed) but never reads out of bounds when it is not.
struct Scanner
{
    json::Scanner tokens;

    QByteArrayView text() const { return tokens.text(); }
    qsizetype size() const { return tokens.size(); }
    qsizetype skipSpace(qsizetype i) const { return tokens.skipWhitespace(i); }

    // The end of the value at `at`: one past a container's closing bracket or a string's quote,
    // or the ',' / closing bracket after a scalar (whose text then needs trimming).
    qsizetype skipValue(qsizetype at) const
    {
        qsizetype k = at;
        int depth = 0;
        while (k < size()) {
            const json::Token token = tokens.tokenAt(k);
            switch (token.kind) {
            case json::TokenKind::String:
                if (depth == 0)
                    return token.end();
                break;
            case json::TokenKind::BeginObject:
            case json::TokenKind::BeginArray: ++depth; break;
            case json::TokenKind::EndObject:
            case json::TokenKind::EndArray:
                if (depth == 0)
                    return k;
                if (--depth == 0)
                    return k + 1;
                break;
            case json::TokenKind::Comma:
                if (depth == 0)
                    return k;
                break;
            default: break;
            }
            k = token.end();
        }
        return k;
    }

    // QJsonDocument reads past a UTF-8 byte order mark before the value; so does this (found by
    // fuzz_rawjson).
    qsizetype start() const
    {
        const bool bom = size() > 0 && tokens.tokenAt(0).kind == json::TokenKind::ByteOrderMark;
        return skipSpace(bom ? 3 : 0);
    }
};

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
        if (at >= n || depth > 256 || (scanner.text()[at] != '{' && scanner.text()[at] != '['))
            return scanner.skipValue(at);
        const bool object = scanner.text()[at] == '{';
        qsizetype i = scanner.skipSpace(at + 1);
        for (int index = 0; i < n; ++index) {
            if (scanner.text()[i] == '}' || scanner.text()[i] == ']')
                return i + 1;
            const qsizetype memberStart = i;
            if (object) {
                if (scanner.text()[i] != '"')
                    return n;
                const json::Token key = scanner.tokens.tokenAt(i);
                const qsizetype keyEnd = key.end();
                path.append(json::decodedString(scanner.text(), key));
                i = scanner.skipSpace(keyEnd);
                if (i >= n || scanner.text()[i] != ':')
                    return n;
                i = scanner.skipSpace(i + 1);
            } else {
                path.append(QString::number(index));
            }
            const qsizetype valueEnd = walk(i, depth + 1);
            record(memberStart, valueEnd);
            path.removeLast();
            i = scanner.skipSpace(valueEnd);
            if (i < n && scanner.text()[i] == ',')
                i = scanner.skipSpace(i + 1);
        }
        return n;
    }
};

} // namespace

std::optional<QByteArrayView> member(QByteArrayView json, QByteArrayView name)
{
    const Scanner scanner{json::Scanner(json)};
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
        const json::Token keyToken = scanner.tokens.tokenAt(i);
        const qsizetype keyEnd = keyToken.end();
        if (keyToken.length < 2 || keyToken.hasEscapes)
            return std::nullopt;
        const QByteArrayView key = json.sliced(i + 1, keyEnd - i - 2);
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
    const Scanner scanner{json::Scanner(json)};
    PointerFinder finder{scanner, offset, {}, {}};
    finder.walk(scanner.start(), 0);
    return finder.found;
}

} // namespace streams::rawjson
