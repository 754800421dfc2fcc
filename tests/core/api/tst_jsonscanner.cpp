// json::Scanner and the layers over it: tokens that cover any input, JSON's escapes read in one
// place, the canonical compact form and the re-layout the composer uses.
#include "api/jsonscanner.h"

#include <QTest>

using namespace streams;
using namespace Qt::StringLiterals;

namespace {

// A token as a short word: its kind, its length, and 'e' (escapes) or 'u' (unterminated) for a
// string; e.g. "{ S5 : N1 }" for {"abc":1}.
QString describe(const json::Token &token)
{
    switch (token.kind) {
    case json::TokenKind::BeginObject: return u"{"_s;
    case json::TokenKind::EndObject: return u"}"_s;
    case json::TokenKind::BeginArray: return u"["_s;
    case json::TokenKind::EndArray: return u"]"_s;
    case json::TokenKind::Colon: return u":"_s;
    case json::TokenKind::Comma: return u","_s;
    default: break;
    }
    const char kind = token.kind == json::TokenKind::Whitespace ? 'W'
        : token.kind == json::TokenKind::ByteOrderMark          ? 'B'
        : token.kind == json::TokenKind::String                 ? 'S'
        : token.kind == json::TokenKind::Number                 ? 'N'
        : token.kind == json::TokenKind::Literal                ? 'L'
                                                                : 'X';
    QString word = QChar::fromLatin1(kind) + QString::number(token.length);
    if (token.hasEscapes)
        word += u'e';
    if (!token.terminated)
        word += u'u';
    return word;
}

// Every token of `json`, checking on the way that they follow each other without gap or
// overlap, each at least one byte, from the first byte to the last.
QStringList tokensOf(QByteArrayView json)
{
    json::Scanner scanner(json);
    QStringList words;
    json::Token token;
    qsizetype expected = 0;
    while (scanner.next(token)) {
        if (token.offset != expected || token.length < 1 || token.end() > json.size())
            return {u"gap or overlap at %1"_s.arg(token.offset)};
        expected = token.end();
        words.append(describe(token));
    }
    if (expected != json.size())
        return {u"stopped at %1 of %2"_s.arg(expected).arg(json.size())};
    return words;
}

} // namespace

class TestJsonScanner final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void tokens_data();
    void tokens();
    void deepNesting();
    void escape_data();
    void escape();
    void decodedString_data();
    void decodedString();
    void canonicalCompact_data();
    void canonicalCompact();
    void relayout_data();
    void relayout();
};

void TestJsonScanner::tokens_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("tokens");

    QTest::addRow("empty") << QByteArray() << QString();
    QTest::addRow("object") << QByteArray(R"({"abc":1})") << u"{ S5 : N1 }"_s;
    QTest::addRow("whitespace runs")
        << QByteArray(" [ 1 ,\t\r\n2 ]  ") << u"W1 [ W1 N1 W1 , W3 N1 W1 ] W2"_s;
    QTest::addRow("literals and bare words")
        << QByteArray("[true,false,null,nil_1]") << u"[ L4 , L5 , L4 , L5 ]"_s;
    QTest::addRow("number spelling is not checked")
        << QByteArray("-0.5e+3 1-2 .5") << u"N7 W1 N3 W1 X1 N1"_s;
    QTest::addRow("escapes") << QByteArray(R"(["a\"b\\","\u00e9"])") << u"[ S8e , S8e ]"_s;
    QTest::addRow("surrogate pair") << QByteArray(R"("\ud83d\ude00")") << u"S14e"_s;
    QTest::addRow("raw UTF-8 in a string") << QByteArray("\"caf\xC3\xA9\"") << u"S7"_s;
    QTest::addRow("byte order mark first") << QByteArray("\xEF\xBB\xBF{}") << u"B3 { }"_s;
    QTest::addRow("byte order mark later is not one") << QByteArray(" \xEF\xBB\xBF") << u"W1 X3"_s;
    QTest::addRow("invalid bytes") << QByteArray("\x80\xFF\v\x01_") << u"X1 X1 X1 X1 X1"_s;
    QTest::addRow("a UTF-8 character outside strings stays whole")
        << QByteArray("\xF0\x9F\x98\x80\xC3\xA9") << u"X4 X2"_s;
    QTest::addRow("a truncated UTF-8 character") << QByteArray("\xE2\x82") << u"X2"_s;
    QTest::addRow("truncated string") << QByteArray(R"({"a":"b)") << u"{ S3 : S2u"_s;
    QTest::addRow("truncated after a backslash") << QByteArray("\"ab\\") << u"S4eu"_s;
    QTest::addRow("escaped quote at the end") << QByteArray(R"("a\")") << u"S4eu"_s;
    QTest::addRow("truncated literal") << QByteArray("[tr") << u"[ L2"_s;
    QTest::addRow("lone quote") << QByteArray("\"") << u"S1u"_s;
    QTest::addRow("placeholder is plain punctuation") << QByteArray("{{n}}") << u"{ { L1 } }"_s;
}

void TestJsonScanner::tokens()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, tokens);

    QCOMPARE(tokensOf(json).join(u' '), tokens);
    // tokenAt() gives the same token from its offset, whatever came before.
    json::Scanner scanner(json);
    json::Token token;
    while (scanner.next(token)) {
        const json::Token again = scanner.tokenAt(token.offset);
        QCOMPARE(describe(again), describe(token));
    }
}

void TestJsonScanner::deepNesting()
{
    // The scanner and its layers keep no stack: nesting depth costs nothing.
    const int depth = 100000;
    const QByteArray json = QByteArray(depth, '[') + "1" + QByteArray(depth, ']');
    const QStringList tokens = tokensOf(json);
    QCOMPARE(int(tokens.size()), 2 * depth + 1);
    QCOMPARE(tokens.at(depth), u"N1"_s);
    QCOMPARE(json::canonicalCompact(json).value(), json);
    QCOMPARE(json::relayout(json, 0), json);
    // Pretty-printed, each level is a line (kept shallower: the indentation grows with depth).
    const int shallower = 1000;
    const QByteArray nested = json.sliced(depth - shallower, 2 * shallower + 1);
    const QByteArray pretty = json::relayout(nested, 2);
    QCOMPARE(int(pretty.count('\n')), 2 * shallower);
    QVERIFY(pretty.contains("\n" + QByteArray(2 * shallower, ' ') + "1\n"));
    QCOMPARE(json::relayout(pretty, 0), nested);
}

void TestJsonScanner::escape_data()
{
    QTest::addColumn<QByteArray>("text"); // the escape first
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("length");
    QTest::addColumn<uint>("codePoint");

    const int valid = json::Escape::Valid;
    const int lone = json::Escape::LoneSurrogate;
    const int bad = json::Escape::Bad;
    QTest::addRow("quote") << QByteArray(R"(\")") << valid << 2 << uint('"');
    QTest::addRow("solidus") << QByteArray(R"(\/)") << valid << 2 << uint('/');
    QTest::addRow("newline") << QByteArray(R"(\n)") << valid << 2 << uint('\n');
    QTest::addRow("backspace") << QByteArray(R"(\b)") << valid << 2 << uint('\b');
    QTest::addRow("\\u lower case") << QByteArray(R"(\u00e9)") << valid << 6 << 0xE9u;
    QTest::addRow("\\u upper case") << QByteArray(R"(\u00E9x)") << valid << 6 << 0xE9u;
    QTest::addRow("\\u NUL") << QByteArray(R"(\u0000)") << valid << 6 << 0u;
    QTest::addRow("surrogate pair") << QByteArray(R"(\ud83d\ude00)") << valid << 12 << 0x1F600u;
    QTest::addRow("surrogate pair, upper case")
        << QByteArray(R"(\uDBFF\uDFFF)") << valid << 12 << 0x10FFFFu;
    QTest::addRow("lone high at the end") << QByteArray(R"(\ud83d)") << lone << 6 << 0xD83Du;
    QTest::addRow("high, then not a low") << QByteArray(R"(\ud83d\u0041)") << lone << 6 << 0xD83Du;
    QTest::addRow("high, then a broken escape")
        << QByteArray(R"(\ud83d\uZZZZ)") << lone << 6 << 0xD83Du;
    QTest::addRow("high, then high") << QByteArray(R"(\ud83d\ud83d)") << lone << 6 << 0xD83Du;
    QTest::addRow("lone low") << QByteArray(R"(\ude00\ud83d)") << lone << 6 << 0xDE00u;
    QTest::addRow("unknown letter") << QByteArray(R"(\q)") << bad << 2 << 0u;
    QTest::addRow("backslash before UTF-8") << QByteArray("\\\xC3\xA9") << bad << 2 << 0u;
    QTest::addRow("bad hex digit") << QByteArray(R"(\u12G4)") << bad << 2 << 0u;
    QTest::addRow("truncated \\u") << QByteArray(R"(\u12)") << bad << 2 << 0u;
    QTest::addRow("backslash at the end") << QByteArray("\\") << bad << 1 << 0u;
}

void TestJsonScanner::escape()
{
    QFETCH(QByteArray, text);
    QFETCH(int, kind);
    QFETCH(int, length);
    QFETCH(uint, codePoint);

    // Read in the middle of other text, so that nothing depends on the escape being first.
    const QByteArray json = "ab" + text;
    const json::Escape escape = json::readEscape(json, 2);
    QCOMPARE(int(escape.kind), kind);
    QCOMPARE(int(escape.length), length);
    if (kind != json::Escape::Bad)
        QCOMPARE(uint(escape.codePoint), codePoint);
}

void TestJsonScanner::decodedString_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("text");

    QTest::addRow("plain") << QByteArray("\"caf\xC3\xA9\"") << u"café"_s;
    QTest::addRow("escapes") << QByteArray(R"("a\"b\\c\/d\n\t")") << u"a\"b\\c/d\n\t"_s;
    QTest::addRow("\\u and a pair") << QByteArray(R"("\u00e9\ud83d\ude00!")")
                                    << QString(u"é"_s + QString::fromUcs4(U"\U0001F600") + u"!"_s);
    QTest::addRow("lone surrogate kept as it is")
        << QByteArray(R"("x\ud800y")") << QString(u"x"_s + QChar(0xD800) + u"y"_s);
    QTest::addRow("unterminated") << QByteArray(R"("ab)") << u"ab"_s;
    QTest::addRow("unterminated after a backslash") << QByteArray("\"ab\\") << u"ab\\"_s;
    QTest::addRow("empty") << QByteArray(R"("")") << QString();
    // As Qt's parser reads them: U+FEFF is kept after an escape, dropped at a string's start.
    QTest::addRow("U+FEFF after an escape") << QByteArray("\"\\t\xEF\xBB\xBF"
                                                          "data\"")
                                            << QString(u"\t"_s + QChar(0xFEFF) + u"data"_s);
    QTest::addRow("U+FEFF starting a string") << QByteArray("\"\xEF\xBB\xBF"
                                                            "a\"")
                                              << u"a"_s;
}

void TestJsonScanner::decodedString()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, text);

    const json::Scanner scanner(json);
    QCOMPARE(json::decodedString(json, scanner.tokenAt(0)), text);
}

void TestJsonScanner::canonicalCompact_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<bool>("keepLoneSurrogates");
    QTest::addColumn<QByteArray>("compact"); // empty: refused
    QTest::addColumn<int>("problem");
    QTest::addColumn<int>("offset");

    const int none = -1;
    const int control = json::CompactProblem::RawControl;
    const int badEscape = json::CompactProblem::BadEscape;
    const int lone = json::CompactProblem::LoneSurrogate;
    QTest::addRow("whitespace dropped, spelling kept")
        << QByteArray("{ \"b\" : 1.50 ,\n\"a\" :[ true , null ] }") << false
        << QByteArray(R"({"b":1.50,"a":[true,null]})") << none << 0;
    QTest::addRow("whitespace inside strings kept")
        << QByteArray(R"({"a b":" x "})") << false << QByteArray(R"({"a b":" x "})") << none << 0;
    QTest::addRow("byte order mark before the value dropped")
        << QByteArray("\xEF\xBB\xBF {}") << false << QByteArray("{}") << none << 0;
    QTest::addRow("required escapes kept, solidus unescaped")
        << QByteArray(R"(["\"\\\/\b\f\n\r\t"])") << false << QByteArray(R"(["\"\\/\b\f\n\r\t"])")
        << none << 0;
    QTest::addRow("\\u to UTF-8") << QByteArray(R"(["\u00e9\u20AC"])") << false
                                  << QByteArray("[\"\xC3\xA9\xE2\x82\xAC\"]") << none << 0;
    QTest::addRow("\\u of a quote and a backslash")
        << QByteArray(R"(["\u0022\u005C"])") << false << QByteArray(R"(["\"\\"])") << none << 0;
    QTest::addRow("\\u of a control character stays, lower case")
        << QByteArray(R"(["\u001F\u000A"])") << false << QByteArray(R"(["\u001f\u000a"])") << none
        << 0;
    QTest::addRow("surrogate pair to UTF-8") << QByteArray(R"(["\uD83D\uDE00"])") << false
                                             << QByteArray("[\"\xF0\x9F\x98\x80\"]") << none << 0;
    QTest::addRow("U+FEFF first in a string stays escaped")
        << QByteArray("[\"\xEF\xBB\xBF\",\"\\uFEFF\",\"a\xEF\xBB\xBF\"]") << false
        << QByteArray("[\"\\ufeff\",\"\\ufeff\",\"a\xEF\xBB\xBF\"]") << none << 0;
    QTest::addRow("raw control character")
        << QByteArray("[\"a\tb\"]") << false << QByteArray() << control << 3;
    QTest::addRow("unknown escape")
        << QByteArray(R"(["ab\q"])") << false << QByteArray() << badEscape << 4;
    QTest::addRow("short \\u") << QByteArray(R"(["\u12"])") << false << QByteArray() << badEscape
                               << 2;
    QTest::addRow("lone high surrogate refused")
        << QByteArray(R"(["x\ud800y"])") << false << QByteArray() << lone << 3;
    QTest::addRow("lone low surrogate refused")
        << QByteArray(R"(["\uDC00"])") << false << QByteArray() << lone << 2;
    QTest::addRow("lone surrogate kept when asked")
        << QByteArray(R"(["x\uD800y",  "\uDC00\u00e9"])") << true
        << QByteArray("[\"x\\ud800y\",\"\\udc00\xC3\xA9\"]") << none << 0;
    QTest::addRow("unterminated string closed")
        << QByteArray(R"(["ab)") << false << QByteArray(R"(["ab")") << none << 0;
    QTest::addRow("backslash at the end")
        << QByteArray("[\"ab\\") << false << QByteArray() << badEscape << 4;
}

void TestJsonScanner::canonicalCompact()
{
    QFETCH(QByteArray, json);
    QFETCH(bool, keepLoneSurrogates);
    QFETCH(QByteArray, compact);
    QFETCH(int, problem);
    QFETCH(int, offset);

    const auto result = json::canonicalCompact(json, keepLoneSurrogates);
    if (problem < 0) {
        QVERIFY(result.has_value());
        QCOMPARE(*result, compact);
        QCOMPARE(json::canonicalCompact(*result, keepLoneSurrogates).value(), compact);
    } else {
        QVERIFY(!result.has_value());
        QCOMPARE(int(result.error().kind), problem);
        QCOMPARE(int(result.error().offset), offset);
    }
}

void TestJsonScanner::relayout_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("indent");
    QTest::addColumn<QByteArray>("text");

    QTest::addRow("pretty") << QByteArray(R"({"a":[1,2],"b":{"c":null}})") << 2
                            << QByteArray("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {\n"
                                          "    \"c\": null\n  }\n}");
    QTest::addRow("flat") << QByteArray("{ \"a\" : [ 1 , 2 ] }") << 0
                          << QByteArray(R"({"a":[1,2]})");
    QTest::addRow("empty containers stay on one line") << QByteArray(
        "{\"a\":[ ],\"b\":{\n}}") << 4 << QByteArray("{\n    \"a\": [],\n    \"b\": {}\n}");
    QTest::addRow("strings byte for byte, escapes untouched") << QByteArray(
        R"(["a , b\"{\u00e9",  "\/"])") << 0 << QByteArray(R"(["a , b\"{\u00e9","\/"])");
    QTest::addRow("byte order mark kept")
        << QByteArray("\xEF\xBB\xBF[1]") << 0 << QByteArray("\xEF\xBB\xBF[1]");
    QTest::addRow("unterminated string runs to the end")
        << QByteArray("[\"a ,\n b") << 2 << QByteArray("[\n  \"a ,\n b");
    QTest::addRow("unbalanced closers do not indent below zero")
        << QByteArray("]]1") << 2 << QByteArray("\n]\n]1");
}

void TestJsonScanner::relayout()
{
    QFETCH(QByteArray, json);
    QFETCH(int, indent);
    QFETCH(QByteArray, text);

    QCOMPARE(json::relayout(json, indent), text);
    // Laying out again changes nothing, and flattening a pretty text gives the flat one.
    QCOMPARE(json::relayout(text, indent), text);
    QCOMPARE(json::relayout(json::relayout(json, 4), 0), json::relayout(json, 0));
}

QTEST_APPLESS_MAIN(TestJsonScanner)
#include "tst_jsonscanner.moc"
