#include "server/formdecoder.h"

#include <QTest>

using namespace streams;
using namespace Qt::StringLiterals;

using Fields = FormDecoder::Fields;

class TestFormDecoder final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void decode_data();
    void decode();
    void decodeRejects_data();
    void decodeRejects();
    void decodeComponent_data();
    void decodeComponent();
};

void TestFormDecoder::decode_data()
{
    QTest::addColumn<QByteArray>("encoded");
    QTest::addColumn<Fields>("expected");

    const auto utf8 = [](const char *text) { return QString::fromUtf8(text); };
    QTest::addRow("empty body") << QByteArray() << Fields{};
    QTest::addRow("one field") << QByteArray("Ttl=60") << Fields{{u"Ttl"_s, u"60"_s}};
    QTest::addRow("two fields") << QByteArray("UniqueName=orders&Ttl=60")
                                << Fields{{u"UniqueName"_s, u"orders"_s}, {u"Ttl"_s, u"60"_s}};
    QTest::addRow("plus is a space")
        << QByteArray("FriendlyName=My+Service") << Fields{{u"FriendlyName"_s, u"My Service"_s}};
    QTest::addRow("%%20 is a space") << QByteArray("FriendlyName=My%20Service")
                                     << Fields{{u"FriendlyName"_s, u"My Service"_s}};
    QTest::addRow("%%2B is a plus") << QByteArray("Data=1%2B1") << Fields{{u"Data"_s, u"1+1"_s}};
    QTest::addRow("%%2b lowercase hex")
        << QByteArray("Data=1%2b1") << Fields{{u"Data"_s, u"1+1"_s}};
    QTest::addRow("encoded & and =")
        << QByteArray("UniqueName=a%26b%3Dc") << Fields{{u"UniqueName"_s, u"a&b=c"_s}};
    QTest::addRow("raw = in a value")
        << QByteArray("UniqueName=a=b") << Fields{{u"UniqueName"_s, u"a=b"_s}};
    QTest::addRow("encoded name") << QByteArray("Unique%20Name=x+y")
                                  << Fields{{u"Unique Name"_s, u"x y"_s}};
    QTest::addRow("JSON data") << QByteArray("Data=%7B%22text%22%3A%22hi+there%22%7D")
                               << Fields{{u"Data"_s, u"{\"text\":\"hi there\"}"_s}};
    QTest::addRow("2-byte UTF-8") << QByteArray("UniqueName=caf%C3%A9")
                                  << Fields{{u"UniqueName"_s, utf8("caf\xC3\xA9")}};
    QTest::addRow("3-byte UTF-8") << QByteArray("UniqueName=%E2%82%AC")
                                  << Fields{{u"UniqueName"_s, utf8("\xE2\x82\xAC")}};
    QTest::addRow("4-byte UTF-8") << QByteArray("UniqueName=%F0%9F%98%80")
                                  << Fields{{u"UniqueName"_s, utf8("\xF0\x9F\x98\x80")}};
    QTest::addRow("raw UTF-8 bytes")
        << QByteArray("UniqueName=caf\xC3\xA9") << Fields{{u"UniqueName"_s, utf8("caf\xC3\xA9")}};
    QTest::addRow("first value wins")
        << QByteArray("Ttl=1&Ttl=2&Ttl=3") << Fields{{u"Ttl"_s, u"1"_s}};
    QTest::addRow("first value wins, even if empty")
        << QByteArray("Ttl=&Ttl=2") << Fields{{u"Ttl"_s, u""_s}};
    QTest::addRow("empty values") << QByteArray("a=&b=")
                                  << Fields{{u"a"_s, u""_s}, {u"b"_s, u""_s}};
    QTest::addRow("name without =")
        << QByteArray("AclEnabled") << Fields{{u"AclEnabled"_s, u""_s}};
    QTest::addRow("names without = among others") << QByteArray(
        "a&b=2&c") << Fields{{u"a"_s, u""_s}, {u"b"_s, u"2"_s}, {u"c"_s, u""_s}};
    QTest::addRow("empty pairs are skipped")
        << QByteArray("&&a=1&&b=2&") << Fields{{u"a"_s, u"1"_s}, {u"b"_s, u"2"_s}};
    QTest::addRow("names are case-sensitive")
        << QByteArray("ttl=1&Ttl=2") << Fields{{u"ttl"_s, u"1"_s}, {u"Ttl"_s, u"2"_s}};
    QTest::addRow("semicolon is not a separator")
        << QByteArray("a=1;b=2") << Fields{{u"a"_s, u"1;b=2"_s}};
    // Found by fuzz_formdecoder: a leading U+FEFF was dropped, so "%EF%BB%BFa" named "a".
    QTest::addRow("leading BOM is kept")
        << QByteArray("UniqueName=%EF%BB%BFa&%EF%BB%BFb=1")
        << Fields{{u"UniqueName"_s, QChar(0xFEFF) + u"a"_s}, {QChar(0xFEFF) + u"b"_s, u"1"_s}};
}

void TestFormDecoder::decode()
{
    QFETCH(QByteArray, encoded);
    QFETCH(Fields, expected);

    const auto fields = FormDecoder::decode(encoded);
    QVERIFY2(fields, qPrintable(fields ? QString() : fields.error().message()));
    QCOMPARE(*fields, expected);
    // "Present but empty" and "absent" stay distinguishable.
    for (auto it = expected.cbegin(); it != expected.cend(); ++it)
        QVERIFY(!fields->value(it.key()).isNull());
}

void TestFormDecoder::decodeRejects_data()
{
    QTest::addColumn<QByteArray>("encoded");
    QTest::addColumn<QString>("field"); // named in the message when the value is bad

    QTest::addRow("lone %%") << QByteArray("Data=%") << u"Data"_s;
    QTest::addRow("%% and one digit") << QByteArray("Data=%4") << u"Data"_s;
    QTest::addRow("%% and one digit, then more") << QByteArray("Data=%4&Ttl=1") << u"Data"_s;
    QTest::addRow("%%zz") << QByteArray("Data=%zz") << u"Data"_s;
    QTest::addRow("%%G1") << QByteArray("Data=%G1") << u"Data"_s;
    QTest::addRow("%%4g") << QByteArray("Data=%4g") << u"Data"_s;
    QTest::addRow("%% then space") << QByteArray("Data=% 1") << u"Data"_s;
    QTest::addRow("%%C3%%28: bad continuation")
        << QByteArray("UniqueName=%C3%28") << u"UniqueName"_s;
    QTest::addRow("%%FF") << QByteArray("UniqueName=%FF") << u"UniqueName"_s;
    QTest::addRow("truncated sequence") << QByteArray("UniqueName=%C3") << u"UniqueName"_s;
    QTest::addRow("overlong /") << QByteArray("UniqueName=%C0%AF") << u"UniqueName"_s;
    QTest::addRow("UTF-16 surrogate") << QByteArray("UniqueName=%ED%A0%80") << u"UniqueName"_s;
    QTest::addRow("beyond U+10FFFF") << QByteArray("UniqueName=%F4%90%80%80") << u"UniqueName"_s;
    QTest::addRow("raw invalid byte") << QByteArray("UniqueName=\xFF") << u"UniqueName"_s;
    QTest::addRow("bad later field") << QByteArray("Ttl=1&UniqueName=%zz") << u"UniqueName"_s;
    QTest::addRow("bad name") << QByteArray("Unique%zzName=x") << QString();
    QTest::addRow("bad name without =") << QByteArray("%E2%82") << QString();
}

void TestFormDecoder::decodeRejects()
{
    QFETCH(QByteArray, encoded);
    QFETCH(QString, field);

    const auto fields = FormDecoder::decode(encoded);
    QVERIFY(!fields);
    QCOMPARE(fields.error().code(), 20400);
    QCOMPARE(fields.error().httpStatus(), 400);
    if (!field.isEmpty())
        QVERIFY2(fields.error().message().contains(field), qPrintable(fields.error().message()));
}

void TestFormDecoder::decodeComponent_data()
{
    QTest::addColumn<QByteArray>("encoded");
    QTest::addColumn<bool>("plusIsSpace");
    QTest::addColumn<QString>("expected"); // null = rejected

    QTest::addRow("form: plus") << QByteArray("a+b") << true << u"a b"_s;
    QTest::addRow("path: plus stays") << QByteArray("a+b") << false << u"a+b"_s;
    QTest::addRow("path: %%20") << QByteArray("a%20b") << false << u"a b"_s;
    QTest::addRow("path: %%2F") << QByteArray("a%2Fb") << false << u"a/b"_s;
    QTest::addRow("path: %%2B") << QByteArray("a%2Bb") << false << u"a+b"_s;
    QTest::addRow("empty") << QByteArray() << false << u""_s;
    QTest::addRow("%%00") << QByteArray("a%00b") << false << QStringLiteral("a") + QChar(0) + u'b';
    QTest::addRow("path: malformed") << QByteArray("%zz") << false << QString();
    QTest::addRow("path: trailing %%") << QByteArray("abc%") << false << QString();
    QTest::addRow("path: invalid UTF-8") << QByteArray("%C3%28") << false << QString();
}

void TestFormDecoder::decodeComponent()
{
    QFETCH(QByteArray, encoded);
    QFETCH(bool, plusIsSpace);
    QFETCH(QString, expected);

    const auto decoded = FormDecoder::decodeComponent(encoded, plusIsSpace);
    if (expected.isNull()) {
        QVERIFY(!decoded);
        QCOMPARE(decoded.error().code(), 20400);
        QCOMPARE(decoded.error().httpStatus(), 400);
    } else {
        QVERIFY(decoded);
        QCOMPARE(*decoded, expected);
    }
}

QTEST_GUILESS_MAIN(TestFormDecoder)
#include "tst_formdecoder.moc"
