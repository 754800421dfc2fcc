// JsonHighlighter: every token kind gets its own colour, on a light and on a dark palette, each
// readable against the editor's background.

#include "contrast.h"
#include "ui/common/jsonhighlighter.h"

#include <QTest>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextLayout>
#include <cmath>

using namespace streams;
using streams::testing::contrast;

namespace {

QPalette paletteWithBase(const QColor &base)
{
    QPalette palette;
    palette.setColor(QPalette::Base, base);
    palette.setColor(QPalette::Window, base);
    return palette;
}

// The colour the highlighter gave the character at `position` of the first block.
QColor colorAt(const QTextDocument &document, int position)
{
    const QTextBlock block = document.firstBlock();
    for (const QTextLayout::FormatRange &range : block.layout()->formats()) {
        if (position >= range.start && position < range.start + range.length)
            return range.format.foreground().color();
    }
    return {};
}

} // namespace

class TestJsonHighlighter final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void tokens_data();
    void tokens();
    void partialInput_data();
    void partialInput();
    void readableOnLightAndDark_data();
    void readableOnLightAndDark();
};

void TestJsonHighlighter::tokens_data()
{
    QTest::addColumn<QString>("fragment"); // found in the sample text
    QTest::addColumn<JsonHighlighter::Token>("token");

    QTest::addRow("key") << QStringLiteral("\"name\"") << JsonHighlighter::Token::Key;
    QTest::addRow("key with spaces before the colon")
        << QStringLiteral("\"spaced\"") << JsonHighlighter::Token::Key;
    QTest::addRow("string") << QStringLiteral("\"caf\\\"é\"") << JsonHighlighter::Token::String;
    QTest::addRow("negative exponent number")
        << QStringLiteral("-1.5e3") << JsonHighlighter::Token::Number;
    QTest::addRow("true") << QStringLiteral("true") << JsonHighlighter::Token::Keyword;
    QTest::addRow("null") << QStringLiteral("null") << JsonHighlighter::Token::Keyword;
    QTest::addRow("brace") << QStringLiteral("{") << JsonHighlighter::Token::Punctuation;
    QTest::addRow("bracket") << QStringLiteral("[") << JsonHighlighter::Token::Punctuation;
    QTest::addRow("placeholder") << QStringLiteral("{{counter}}")
                                 << JsonHighlighter::Token::Placeholder;
    QTest::addRow("placeholder in a string")
        << QStringLiteral("{{now}}") << JsonHighlighter::Token::Placeholder;
}

void TestJsonHighlighter::tokens()
{
    QFETCH(QString, fragment);
    QFETCH(JsonHighlighter::Token, token);

    QTextDocument document;
    document.setPlainText(
        QStringLiteral(u"{\"name\": \"caf\\\"é\", \"spaced\"  : -1.5e3, \"t\": true, \"z\": null, "
                       u"\"a\": [1, {{counter}}], \"at\": \"{{now}}\"}"));
    JsonHighlighter highlighter(&document, paletteWithBase(Qt::white));
    const int position = int(document.toPlainText().indexOf(fragment));
    QVERIFY(position >= 0);
    const QColor expected = highlighter.format(token).foreground().color();
    for (int i = 0; i < fragment.size(); ++i)
        QCOMPARE(colorAt(document, position + i), expected);
}

void TestJsonHighlighter::partialInput_data()
{
    QTest::addColumn<QString>("line"); // as the user is typing it
    QTest::addColumn<QString>("fragment"); // its first occurrence in the line
    QTest::addColumn<int>("token"); // a JsonHighlighter::Token, or -1: left uncoloured

    const auto row = [](const char *name, const QString &line, const QString &fragment, int token) {
        QTest::newRow(name) << line << fragment << token;
    };
    const int none = -1;
    row("unterminated string runs to the end", QStringLiteral(u"{\"name\": \"caf"),
        QStringLiteral(u"\"caf"), int(JsonHighlighter::Token::String));
    row("unterminated key is a string", QStringLiteral(u"{\"na"), QStringLiteral(u"\"na"),
        int(JsonHighlighter::Token::String));
    row("key once the colon is typed", QStringLiteral(u"{\"name\":"), QStringLiteral(u"\"name\""),
        int(JsonHighlighter::Token::Key));
    row("string ending in a backslash", QStringLiteral(u"{\"a\": \"b\\"), QStringLiteral(u"\"b\\"),
        int(JsonHighlighter::Token::String));
    row("half a keyword", QStringLiteral(u"{\"t\": tru"), QStringLiteral(u"tru"), none);
    row("keyword inside a longer word", QStringLiteral(u"[truex]"), QStringLiteral(u"truex"), none);
    row("half a number", QStringLiteral(u"[-1."), QStringLiteral(u"-1."),
        int(JsonHighlighter::Token::Number));
    row("half a placeholder is punctuation", QStringLiteral(u"[{{coun"), QStringLiteral(u"{"),
        int(JsonHighlighter::Token::Punctuation));
    row("placeholder in an unterminated string", QStringLiteral(u"[\"{{now}}"),
        QStringLiteral(u"{{now}}"), int(JsonHighlighter::Token::Placeholder));
    row("after a character outside strings", QStringLiteral(u"[é, 😀 true"), QStringLiteral(u"true"),
        int(JsonHighlighter::Token::Keyword));
}

void TestJsonHighlighter::partialInput()
{
    QFETCH(QString, line);
    QFETCH(QString, fragment);
    QFETCH(int, token);

    QTextDocument document;
    document.setPlainText(line);
    JsonHighlighter highlighter(&document, paletteWithBase(Qt::white));
    const int position = int(line.indexOf(fragment));
    QVERIFY(position >= 0);
    const QColor expected = token < 0
        ? QColor()
        : highlighter.format(JsonHighlighter::Token(token)).foreground().color();
    for (int i = 0; i < fragment.size(); ++i)
        QCOMPARE(colorAt(document, position + i), expected);
}

void TestJsonHighlighter::readableOnLightAndDark_data()
{
    QTest::addColumn<QColor>("base");
    QTest::addColumn<bool>("dark");
    QTest::addRow("white") << QColor(Qt::white) << false;
    QTest::addRow("light grey") << QColor(0xF5, 0xF5, 0xF5) << false;
    QTest::addRow("dark grey") << QColor(0x2A, 0x2A, 0x2A) << true;
    QTest::addRow("near black") << QColor(0x1E, 0x1E, 0x1E) << true;
}

void TestJsonHighlighter::readableOnLightAndDark()
{
    QFETCH(QColor, base);
    QFETCH(bool, dark);

    QTextDocument document;
    JsonHighlighter highlighter(&document, paletteWithBase(base));
    QCOMPARE(highlighter.isDark(), dark);
    QList<QRgb> seen;
    for (const auto token : {JsonHighlighter::Token::Key, JsonHighlighter::Token::String,
             JsonHighlighter::Token::Number, JsonHighlighter::Token::Keyword,
             JsonHighlighter::Token::Punctuation, JsonHighlighter::Token::Placeholder}) {
        const QColor color = highlighter.format(token).foreground().color();
        QVERIFY2(!seen.contains(color.rgb()), "two token kinds share a colour");
        seen.append(color.rgb());
        // WCAG AA for text.
        QVERIFY2(contrast(color, base) >= 4.5,
            qPrintable(QStringLiteral("%1 on %2: %3")
                           .arg(color.name(), base.name())
                           .arg(contrast(color, base))));
    }
}

QTEST_MAIN(TestJsonHighlighter)
#include "tst_jsonhighlighter.moc"
