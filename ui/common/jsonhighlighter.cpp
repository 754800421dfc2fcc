#include "ui/common/jsonhighlighter.h"

#include "api/jsonscanner.h"

namespace streams {

namespace {

// Two colour sets after GitHub's light and dark themes, which were tuned for at least 4.5:1
// contrast against their backgrounds; deriving hues from QPalette roles gives unreadable results
// on palettes that reuse one colour for several roles.
struct Colors
{
    QColor key, string, number, keyword, punctuation, placeholder;
};

const Colors kLight{QColor(0x05, 0x50, 0xAE), QColor(0x0A, 0x6B, 0x2A), QColor(0x95, 0x38, 0x00),
    QColor(0x82, 0x50, 0xDF), QColor(0x57, 0x60, 0x6A), QColor(0xA4, 0x0E, 0x6E)};
const Colors kDark{QColor(0x79, 0xC0, 0xFF), QColor(0x7E, 0xE7, 0x87), QColor(0xFF, 0xA6, 0x57),
    QColor(0xD2, 0xA8, 0xFF), QColor(0x9D, 0xA5, 0xAE), QColor(0xFF, 0x9B, 0xCE)};

bool isWordChar(QChar c)
{
    return c.isLetterOrNumber() || c == u'_';
}

// Length of a `{{ name }}` placeholder starting at `from`, or 0.
qsizetype placeholderLength(const QString &text, qsizetype from)
{
    if (!QStringView(text).mid(from).startsWith(u"{{"))
        return 0;
    qsizetype i = from + 2;
    while (i < text.size() && text[i] == u' ')
        ++i;
    const qsizetype nameStart = i;
    while (i < text.size() && isWordChar(text[i]))
        ++i;
    if (i == nameStart)
        return 0;
    while (i < text.size() && text[i] == u' ')
        ++i;
    if (!QStringView(text).mid(i).startsWith(u"}}"))
        return 0;
    return i + 2 - from;
}

} // namespace

JsonHighlighter::JsonHighlighter(QTextDocument *document, const QPalette &palette)
    : QSyntaxHighlighter(document)
{
    setPalette(palette);
}

JsonHighlighter::~JsonHighlighter() = default;

void JsonHighlighter::setPalette(const QPalette &palette)
{
    const bool dark = palette.color(QPalette::Base).lightness() < 128;
    const Colors &colors = dark ? kDark : kLight;
    const QColor foregrounds[] = {colors.key, colors.string, colors.number, colors.keyword,
        colors.punctuation, colors.placeholder};
    for (int i = 0; i < 6; ++i) {
        QTextCharFormat format;
        format.setForeground(foregrounds[i]);
        m_formats[i] = format;
    }
    m_formats[int(Token::Key)].setFontWeight(QFont::DemiBold);
    m_formats[int(Token::Placeholder)].setFontItalic(true);
    const bool changed = dark != m_dark;
    m_dark = dark;
    if (changed || document())
        rehighlight();
}

QTextCharFormat JsonHighlighter::format(Token token) const
{
    return m_formats[int(token)];
}

void JsonHighlighter::highlightBlock(const QString &text)
{
    // The JSON scanner reads UTF-8; QSyntaxHighlighter counts UTF-16 code units. Tokens never
    // split a character, so each byte offset a token starts or ends at has a position here.
    const QByteArray utf8 = text.toUtf8();
    QList<qsizetype> positionOf(utf8.size() + 1); // byte offset -> UTF-16 position
    QList<qsizetype> offsetOf(text.size() + 1); // UTF-16 position -> byte offset
    for (qsizetype b = 0, u = 0; b <= utf8.size(); ++b) {
        positionOf[b] = u;
        if (b == utf8.size() || (static_cast<unsigned char>(utf8[b]) & 0xC0) != 0x80) {
            offsetOf[u] = b;
            if (b < utf8.size())
                u += static_cast<unsigned char>(utf8[b]) >= 0xF0 ? 2 : 1;
        }
    }
    const auto setSpan = [&](qsizetype from, qsizetype to, Token token) {
        setFormat(int(from), int(to - from), m_formats[int(token)]);
    };
    const json::Scanner scanner(utf8);
    const qsizetype size = text.size();
    qsizetype i = 0;
    while (i < size) {
        // A placeholder is the composer's, not JSON's: it goes first.
        if (const qsizetype length = placeholderLength(text, i); length > 0) {
            setSpan(i, i + length, Token::Placeholder);
            i += length;
            continue;
        }
        const json::Token token = scanner.tokenAt(offsetOf[i]);
        const qsizetype end = positionOf[token.end()];
        switch (token.kind) {
        case json::TokenKind::String: {
            // An unterminated string runs to the end of the line.
            qsizetype next = end;
            while (next < size && text[next].isSpace())
                ++next;
            const bool isKey = next < size && text[next] == u':';
            setSpan(i, end, isKey ? Token::Key : Token::String);
            for (qsizetype p = i + 1; p < end; ++p) {
                if (const qsizetype length = placeholderLength(text, p);
                    length > 0 && p + length <= end) {
                    setSpan(p, p + length, Token::Placeholder);
                    p += length - 1;
                }
            }
            break;
        }
        case json::TokenKind::Number: setSpan(i, end, Token::Number); break;
        case json::TokenKind::Literal: {
            const QStringView word = QStringView(text).mid(i, end - i);
            if (word == u"true" || word == u"false" || word == u"null")
                setSpan(i, end, Token::Keyword);
            break;
        }
        case json::TokenKind::BeginObject:
        case json::TokenKind::EndObject:
        case json::TokenKind::BeginArray:
        case json::TokenKind::EndArray:
        case json::TokenKind::Colon:
        case json::TokenKind::Comma: setSpan(i, end, Token::Punctuation); break;
        default: break; // whitespace, a byte order mark, bytes JSON has no use for
        }
        i = end;
    }
}

} // namespace streams
