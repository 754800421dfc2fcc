#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QtGlobal>
#include <expected>

namespace streams::json {

/// What a token is. A scanner cuts any bytes, JSON or not, into tokens that follow each other
/// without gaps: their spans cover the input exactly, so a layer that copies every token it does
/// not change keeps the text byte for byte.
enum class TokenKind : quint8 {
    Whitespace, // a run of JSON whitespace: space, tab, line feed, carriage return
    ByteOrderMark, // U+FEFF in UTF-8 at offset 0 (QJsonDocument reads past it)
    BeginObject, // {
    EndObject, // }
    BeginArray, // [
    EndArray, // ]
    Colon, // :
    Comma, // ,
    String, // from its opening quote to its closing one, or to the end of the input
    Number, // '-' or a digit, then digits, '.', 'e', 'E', '+', '-' (spelling not checked)
    Literal, // an ASCII letter, then letters, digits and '_': true, false, null or a bare word
    Invalid, // any other byte, with the UTF-8 continuation bytes that follow it
};

struct Token
{
    TokenKind kind = TokenKind::Invalid;
    qsizetype offset = 0;
    qsizetype length = 0;
    bool hasEscapes = false; // String: a backslash inside
    bool terminated = true; // String: it has its closing quote

    qsizetype end() const { return offset + length; }
    bool isString() const { return kind == TokenKind::String; }
};

/// A byte-level JSON tokenizer over UTF-8 text that never allocates and never reads outside its
/// input. It is tolerant: it checks no grammar (that is for QJsonDocument or a caller), reads an
/// unterminated string to the end, and makes an Invalid token of a byte JSON has no use for. The
/// compact form, member lookup, pretty-printing and the console's highlighter are layers over it.
class Scanner final
{
public:
    explicit Scanner(QByteArrayView json) : m_json(json) { }

    QByteArrayView text() const { return m_json; }
    qsizetype size() const { return m_json.size(); }

    /// The token that starts at `offset` (< size()).
    Token tokenAt(qsizetype offset) const;

    /// The next token from the current position; false at the end of the input.
    bool next(Token &token)
    {
        if (m_at >= m_json.size())
            return false;
        token = tokenAt(m_at);
        m_at = token.end();
        return true;
    }
    qsizetype position() const { return m_at; }
    void seek(qsizetype offset) { m_at = offset; }

    /// The end of the whitespace run at `offset`, or `offset` when none starts there.
    qsizetype skipWhitespace(qsizetype offset) const;

private:
    QByteArrayView m_json;
    qsizetype m_at = 0;
};

/// One escape sequence inside a string: the one place JSON's escapes are read.
struct Escape
{
    enum Kind : quint8 {
        Valid, // one of JSON's escapes (a \u surrogate pair is one escape of 12 bytes)
        LoneSurrogate, // a \u escape of a surrogate that is not the high half of a pair
        Bad, // anything else: "\q", "\u12G4", a backslash at the end
    } kind = Bad;
    qsizetype length = 0; // bytes read from the backslash on
    char32_t codePoint = 0; // what it spells (for a lone surrogate, the surrogate itself)
    bool unicode = false; // written as \uXXXX
    quint16 unit = 0; // the first \u escape's value
};

/// The escape whose backslash is at `offset` of `json`.
Escape readEscape(QByteArrayView json, qsizetype offset);

/// A string token's text with its escapes decoded (lone surrogates as they are).
QString decodedString(QByteArrayView json, const Token &token);

/// Why canonicalCompact() refused text, and where.
struct CompactProblem
{
    enum Kind : quint8 {
        RawControl,
        BadEscape,
        LoneSurrogate
    } kind;
    qsizetype offset; // of the offending byte, or of the backslash that starts the escape
};

/// JSON text in its canonical compact form: no whitespace between tokens and no byte order mark
/// before the value, strings as raw UTF-8 with only the escapes JSON requires, every other token
/// as written. Unlike QJsonDocument::toJson this keeps the publisher's key order and number
/// spelling, so a subscriber receives the object as it was sent, and the size measured is that of
/// what is sent. QJsonDocument also accepts what JSON forbids and strict parsers (JavaScript's
/// JSON.parse, Twilio's Jackson) refuse: raw control characters (even NUL) inside strings and
/// escapes other than JSON's ("\q", a backslash before a UTF-8 byte). The offset of the first
/// such byte is returned instead, so the payload is refused rather than passed on to subscribers
/// that could not read it (found by fuzz_messagedata). A \u escape of a UTF-16 surrogate that is
/// not half of a high-low pair is refused too: it is no Unicode character, has no UTF-8 form, and
/// readers disagree on it (Qt's own writer drops the character before it); docs/engine.md says
/// why the engine refuses it rather than passing it on (found by fuzz_messagedata). With
/// `keepLoneSurrogates`, such an escape is copied (lower-case) instead, for text that was
/// published elsewhere and is only shown (messages received from Twilio's service). A U+FEFF
/// that starts a string stays escaped: Qt's parser drops it there when it is raw.
/// The text is meant to have parsed already; anything else is read safely, whatever it gives.
std::expected<QByteArray, CompactProblem> canonicalCompact(
    QByteArrayView json, bool keepLoneSurrogates = false);

/// The text with whitespace between tokens dropped and, with `indent` > 0, put back as one
/// member per line indented by `indent` spaces per level and a space after each colon. Every
/// other token is kept byte for byte; an empty object or array stays on one line.
QByteArray relayout(QByteArrayView json, int indent);

} // namespace streams::json
