#include "api/jsonscanner.h"

#include "api/hexdigit.h"

namespace streams::json {

namespace {

constexpr QByteArrayView kByteOrderMark("\xEF\xBB\xBF");

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isLetter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isNumberByte(char c)
{
    return isDigit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

bool isContinuationByte(char c)
{
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The 16-bit value of the four hex digits at `offset`, or -1.
int readHex4(QByteArrayView json, qsizetype offset)
{
    if (offset < 0 || offset + 4 > json.size())
        return -1;
    int value = 0;
    for (qsizetype k = offset; k < offset + 4; ++k) {
        const int digit = hexDigitValue(json[k]);
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

void appendUtf8(QByteArray &out, char32_t codePoint)
{
    if (codePoint < 0x80) {
        out += char(codePoint);
    } else if (codePoint < 0x800) {
        out += char(0xC0 | (codePoint >> 6));
        out += char(0x80 | (codePoint & 0x3F));
    } else if (codePoint < 0x10000) {
        out += char(0xE0 | (codePoint >> 12));
        out += char(0x80 | ((codePoint >> 6) & 0x3F));
        out += char(0x80 | (codePoint & 0x3F));
    } else {
        out += char(0xF0 | (codePoint >> 18));
        out += char(0x80 | ((codePoint >> 12) & 0x3F));
        out += char(0x80 | ((codePoint >> 6) & 0x3F));
        out += char(0x80 | (codePoint & 0x3F));
    }
}

void appendUnicodeEscape(QByteArray &out, unsigned unit)
{
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4)
        out += hex[(unit >> shift) & 0xF];
}

// A string token in canonical form (see canonicalCompact), appended to `out`.
std::optional<CompactProblem> appendCanonicalString(
    QByteArray &out, QByteArrayView json, const Token &token, bool keepLoneSurrogates)
{
    out += '"';
    // U+FEFF first in a string stays escaped: Qt's parser (and so the console) drops it there
    // when it is raw UTF-8, which would change the value (found by fuzz_messagedata).
    const qsizetype stringStart = out.size();
    const qsizetype end = token.terminated ? token.end() - 1 : token.end();
    qsizetype i = token.offset + 1;
    while (i < end) {
        const char ch = json[i];
        if (static_cast<unsigned char>(ch) < 0x20)
            return CompactProblem{CompactProblem::RawControl, i};
        if (out.size() == stringStart && json.sliced(i).startsWith(kByteOrderMark)) {
            out += "\\ufeff";
            i += kByteOrderMark.size();
            continue;
        }
        if (ch != '\\') {
            out += ch;
            ++i;
            continue;
        }
        const Escape escape = readEscape(json, i);
        switch (escape.kind) {
        case Escape::Bad: return CompactProblem{CompactProblem::BadEscape, i};
        case Escape::LoneSurrogate:
            if (!keepLoneSurrogates)
                return CompactProblem{CompactProblem::LoneSurrogate, i};
            appendUnicodeEscape(out, escape.unit);
            break;
        case Escape::Valid:
            if (!escape.unicode) {
                // "\/" needs no escape; the others are the shortest spelling already.
                if (escape.codePoint == '/')
                    out += '/';
                else
                    out += json.sliced(i, 2);
            } else if (escape.unit == 0xFEFF && out.size() == stringStart) {
                out += "\\ufeff";
            } else if (escape.unit == '"' || escape.unit == '\\') {
                out += '\\';
                out += char(escape.unit);
            } else if (escape.unit >= 0x20) {
                appendUtf8(out, escape.codePoint);
            } else {
                appendUnicodeEscape(out, escape.unit); // control characters stay escaped
            }
            break;
        }
        i += escape.length;
    }
    out += '"';
    return std::nullopt;
}

} // namespace

Token Scanner::tokenAt(qsizetype offset) const
{
    const qsizetype n = m_json.size();
    Token token;
    token.offset = offset;
    token.length = 1;
    const char c = m_json[offset];
    switch (c) {
    case '{': token.kind = TokenKind::BeginObject; return token;
    case '}': token.kind = TokenKind::EndObject; return token;
    case '[': token.kind = TokenKind::BeginArray; return token;
    case ']': token.kind = TokenKind::EndArray; return token;
    case ':': token.kind = TokenKind::Colon; return token;
    case ',': token.kind = TokenKind::Comma; return token;
    case '"': {
        token.kind = TokenKind::String;
        qsizetype k = offset + 1;
        while (k < n && m_json[k] != '"') {
            if (m_json[k] == '\\') {
                token.hasEscapes = true;
                k += 2;
            } else {
                ++k;
            }
        }
        token.terminated = k < n;
        token.length = qMin(k + 1, n) - offset;
        return token;
    }
    default: break;
    }
    qsizetype k = offset + 1;
    if (isSpace(c)) {
        token.kind = TokenKind::Whitespace;
        while (k < n && isSpace(m_json[k]))
            ++k;
    } else if (offset == 0 && m_json.startsWith(kByteOrderMark)) {
        token.kind = TokenKind::ByteOrderMark;
        k = kByteOrderMark.size();
    } else if (c == '-' || isDigit(c)) {
        token.kind = TokenKind::Number;
        while (k < n && isNumberByte(m_json[k]))
            ++k;
    } else if (isLetter(c)) {
        token.kind = TokenKind::Literal;
        while (k < n && (isLetter(m_json[k]) || isDigit(m_json[k]) || m_json[k] == '_'))
            ++k;
    } else {
        token.kind = TokenKind::Invalid;
        // A UTF-8 sequence stays whole: a lead byte and at most three continuation bytes.
        if (static_cast<unsigned char>(c) >= 0xC0) {
            while (k < n && k - offset < 4 && isContinuationByte(m_json[k]))
                ++k;
        }
    }
    token.length = k - offset;
    return token;
}

qsizetype Scanner::skipWhitespace(qsizetype offset) const
{
    while (offset < m_json.size() && isSpace(m_json[offset]))
        ++offset;
    return offset;
}

Escape readEscape(QByteArrayView json, qsizetype offset)
{
    Escape escape;
    const char letter = offset + 1 < json.size() ? json[offset + 1] : '\0';
    escape.length = offset + 1 < json.size() ? 2 : 1;
    escape.kind = Escape::Valid;
    switch (letter) {
    case '"': escape.codePoint = '"'; return escape;
    case '\\': escape.codePoint = '\\'; return escape;
    case '/': escape.codePoint = '/'; return escape;
    case 'b': escape.codePoint = '\b'; return escape;
    case 'f': escape.codePoint = '\f'; return escape;
    case 'n': escape.codePoint = '\n'; return escape;
    case 'r': escape.codePoint = '\r'; return escape;
    case 't': escape.codePoint = '\t'; return escape;
    case 'u': break;
    default: escape.kind = Escape::Bad; return escape;
    }
    const int unit = readHex4(json, offset + 2);
    if (unit < 0) {
        escape.kind = Escape::Bad;
        return escape;
    }
    escape.unicode = true;
    escape.unit = quint16(unit);
    escape.codePoint = char32_t(unit);
    escape.length = 6;
    if (unit < 0xD800 || unit >= 0xE000)
        return escape;
    // A surrogate pair spells one code point in two escapes; half a pair is no character.
    const qsizetype lowAt = offset + 6;
    const int low =
        unit < 0xDC00 && lowAt + 1 < json.size() && json[lowAt] == '\\' && json[lowAt + 1] == 'u'
        ? readHex4(json, lowAt + 2)
        : -1;
    if (low < 0xDC00 || low >= 0xE000) {
        escape.kind = Escape::LoneSurrogate;
        return escape;
    }
    escape.codePoint = 0x10000 + ((char32_t(unit) - 0xD800) << 10) + (char32_t(low) - 0xDC00);
    escape.length = 12;
    return escape;
}

QString decodedString(QByteArrayView json, const Token &token)
{
    const qsizetype end = token.terminated ? token.end() - 1 : token.end();
    const qsizetype begin = qMin(token.offset + 1, end);
    if (!token.hasEscapes)
        return QString::fromUtf8(json.sliced(begin, end - begin));
    QString out;
    qsizetype i = begin;
    while (i < end) {
        qsizetype plain = i;
        while (plain < end && json[plain] != '\\')
            ++plain;
        const QByteArrayView run = json.sliced(i, plain - i);
        // QString::fromUtf8 drops one U+FEFF that starts what it decodes. Qt's parser does so
        // only at the start of a string (kept: the console shows what Qt parsed), not after an
        // escape (found by fuzz_rawjson).
        if (i != begin && run.startsWith(kByteOrderMark))
            out += QChar(0xFEFF);
        out += QString::fromUtf8(run);
        if (plain == end)
            break;
        const Escape escape = readEscape(json, plain);
        if (escape.kind == Escape::Bad)
            out += QString::fromUtf8(json.sliced(plain, qMin(escape.length, end - plain)));
        else if (escape.kind == Escape::LoneSurrogate)
            out += QChar(escape.unit);
        else
            out += QString::fromUcs4(&escape.codePoint, 1);
        i = qMin(plain + escape.length, end);
    }
    return out;
}

std::expected<QByteArray, CompactProblem> canonicalCompact(
    QByteArrayView json, bool keepLoneSurrogates)
{
    QByteArray out;
    out.reserve(json.size());
    Scanner scanner(json);
    Token token;
    while (scanner.next(token)) {
        switch (token.kind) {
        case TokenKind::Whitespace:
        case TokenKind::ByteOrderMark: // it must not reach subscribers (found by fuzz_messagedata)
            break;
        case TokenKind::String:
            if (const auto problem = appendCanonicalString(out, json, token, keepLoneSurrogates))
                return std::unexpected(*problem);
            break;
        default: out += json.sliced(token.offset, token.length); break;
        }
    }
    return out;
}

QByteArray relayout(QByteArrayView json, int indent)
{
    QByteArray out;
    out.reserve(json.size() * (indent > 0 ? 2 : 1));
    int depth = 0;
    const auto newline = [&] {
        if (indent > 0) {
            out += '\n';
            out += QByteArray(qMax(0, depth) * indent, ' ');
        }
    };
    Scanner scanner(json);
    Token token;
    while (scanner.next(token)) {
        switch (token.kind) {
        case TokenKind::Whitespace: break;
        case TokenKind::BeginObject:
        case TokenKind::BeginArray: {
            out += json[token.offset];
            const qsizetype next = scanner.skipWhitespace(token.end());
            if (next < json.size() && (json[next] == '}' || json[next] == ']')) {
                out += json[next]; // an empty container stays on one line
                scanner.seek(next + 1);
                break;
            }
            ++depth;
            newline();
            break;
        }
        case TokenKind::EndObject:
        case TokenKind::EndArray:
            --depth;
            newline();
            out += json[token.offset];
            break;
        case TokenKind::Comma:
            out += ',';
            newline();
            break;
        case TokenKind::Colon:
            out += ':';
            if (indent > 0)
                out += ' ';
            break;
        default: out += json.sliced(token.offset, token.length); break;
        }
    }
    return out;
}

} // namespace streams::json
