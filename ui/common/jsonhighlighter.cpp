#include "ui/common/jsonhighlighter.h"

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
    const qsizetype size = text.size();
    qsizetype i = 0;
    while (i < size) {
        const QChar c = text[i];
        if (c.isSpace()) {
            ++i;
            continue;
        }
        if (c == u'"') {
            qsizetype end = i + 1;
            while (end < size && text[end] != u'"')
                end += text[end] == u'\\' ? 2 : 1;
            end = qMin(size, end + 1); // an unterminated string runs to the end of the line
            qsizetype next = end;
            while (next < size && text[next].isSpace())
                ++next;
            const bool isKey = next < size && text[next] == u':';
            setFormat(int(i), int(end - i), m_formats[int(isKey ? Token::Key : Token::String)]);
            for (qsizetype p = i + 1; p < end; ++p) {
                if (const qsizetype length = placeholderLength(text, p);
                    length > 0 && p + length <= end) {
                    setFormat(int(p), int(length), m_formats[int(Token::Placeholder)]);
                    p += length - 1;
                }
            }
            i = end;
            continue;
        }
        if (const qsizetype length = placeholderLength(text, i); length > 0) {
            setFormat(int(i), int(length), m_formats[int(Token::Placeholder)]);
            i += length;
            continue;
        }
        if (c == u'-' || c.isDigit()) {
            qsizetype end = i + 1;
            while (end < size
                && (text[end].isDigit() || text[end] == u'.' || text[end] == u'e'
                    || text[end] == u'E' || text[end] == u'+' || text[end] == u'-'))
                ++end;
            setFormat(int(i), int(end - i), m_formats[int(Token::Number)]);
            i = end;
            continue;
        }
        if (c.isLetter()) {
            qsizetype end = i + 1;
            while (end < size && isWordChar(text[end]))
                ++end;
            const QStringView word = QStringView(text).mid(i, end - i);
            if (word == u"true" || word == u"false" || word == u"null")
                setFormat(int(i), int(end - i), m_formats[int(Token::Keyword)]);
            i = end;
            continue;
        }
        if (c == u'{' || c == u'}' || c == u'[' || c == u']' || c == u':' || c == u',')
            setFormat(int(i), 1, m_formats[int(Token::Punctuation)]);
        ++i;
    }
}

} // namespace streams
