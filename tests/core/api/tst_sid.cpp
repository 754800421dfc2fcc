#include "api/sid.h"

#include <QDateTime>
#include <QRegularExpression>
#include <QSet>
#include <QTest>
#include <QThread>

using namespace streams;

Q_DECLARE_METATYPE(streams::SidKind)

namespace {
const QString kHex32 = QStringLiteral("0123456789abcdef0123456789abcdef");
const QString kHex32Upper = QStringLiteral("0123456789ABCDEF0123456789ABCDEF");
} // namespace

class TestSid final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void prefix_data();
    void prefix();
    void generate_data();
    void generate();
    void generateIsUnique();
    void generateOrdered_data();
    void generateOrdered();
    void generateOrderedSortsByTime();
    void isValid_data();
    void isValid();
    void looksLikeSid_data();
    void looksLikeSid();
};

void TestSid::prefix_data()
{
    QTest::addColumn<SidKind>("kind");
    QTest::addColumn<QString>("expected");
    QTest::addRow("account") << SidKind::Account << QStringLiteral("AC");
    QTest::addRow("service") << SidKind::Service << QStringLiteral("IS");
    QTest::addRow("stream") << SidKind::Stream << QStringLiteral("TO");
    QTest::addRow("message") << SidKind::Message << QStringLiteral("TZ");
    QTest::addRow("api key") << SidKind::ApiKey << QStringLiteral("SK");
    QTest::addRow("request id") << SidKind::RequestId << QStringLiteral("RQ");
}

void TestSid::prefix()
{
    QFETCH(SidKind, kind);
    QFETCH(QString, expected);
    QCOMPARE(QString(sid::prefix(kind)), expected);
}

void TestSid::generate_data()
{
    prefix_data();
}

void TestSid::generate()
{
    QFETCH(SidKind, kind);
    QFETCH(QString, expected);
    static const QRegularExpression shape(QStringLiteral("^[A-Z]{2}[0-9a-f]{32}$"));

    for (int i = 0; i < 100; ++i) {
        const QString generated = sid::generate(kind);
        QCOMPARE(generated.size(), 34);
        QCOMPARE(generated.first(2), expected);
        QVERIFY2(shape.match(generated).hasMatch(), qPrintable(generated));
        QVERIFY(sid::isValid(generated, kind));
        QVERIFY(sid::looksLikeSid(generated));
    }
    // A SID of one kind is never valid as another.
    const QString generated = sid::generate(kind);
    for (SidKind other : {SidKind::Account, SidKind::Service, SidKind::Stream, SidKind::Message,
             SidKind::ApiKey, SidKind::RequestId}) {
        if (other != kind)
            QVERIFY2(!sid::isValid(generated, other), qPrintable(generated));
    }
}

void TestSid::generateIsUnique()
{
    constexpr int kCount = 20000;
    QSet<QString> seen;
    seen.reserve(kCount);
    // Every nibble position should take more than one value: catches a tail that is
    // accidentally constant (e.g. uninitialised words or a fixed-width counter).
    QList<QSet<QChar>> perPosition(32);
    for (int i = 0; i < kCount; ++i) {
        const QString generated = sid::generate(SidKind::Stream);
        seen.insert(generated);
        for (int p = 0; p < 32; ++p)
            perPosition[p].insert(generated[2 + p]);
    }
    QCOMPARE(seen.size(), kCount);
    for (int p = 0; p < 32; ++p)
        QCOMPARE(perPosition[p].size(), 16);
}

void TestSid::generateOrdered_data()
{
    prefix_data();
}

void TestSid::generateOrdered()
{
    QFETCH(SidKind, kind);
    QFETCH(QString, expected);
    static const QRegularExpression shape(QStringLiteral("^[A-Z]{2}[0-9a-f]{32}$"));

    constexpr int kCount = 20000;
    QSet<QString> seen;
    seen.reserve(kCount);
    QList<QSet<QChar>> perPosition(32);
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    for (int i = 0; i < kCount; ++i) {
        const QString generated = sid::generateOrdered(kind);
        QCOMPARE(generated.first(2), expected);
        QVERIFY2(shape.match(generated).hasMatch(), qPrintable(generated));
        QVERIFY(sid::isValid(generated, kind));
        seen.insert(generated);
        for (int p = 0; p < 32; ++p)
            perPosition[p].insert(generated[2 + p]);
        // The first 12 digits are the time it was made, in milliseconds.
        bool ok = false;
        const qint64 ms = generated.sliced(2, 12).toLongLong(&ok, 16);
        QVERIFY(ok);
        QVERIFY2(ms >= before && ms <= QDateTime::currentMSecsSinceEpoch(), qPrintable(generated));
    }
    QCOMPARE(seen.size(), kCount);
    // The 20 digits after the time are random: each takes every value.
    for (int p = 12; p < 32; ++p)
        QVERIFY2(perPosition[p].size() == 16, qPrintable(QString::number(p)));
}

void TestSid::generateOrderedSortsByTime()
{
    QString previous = sid::generateOrdered(SidKind::Stream);
    for (int i = 0; i < 5; ++i) {
        // The next one is of a later millisecond than the previous one (at most 1 ms away).
        const qint64 previousMs = QDateTime::currentMSecsSinceEpoch();
        while (QDateTime::currentMSecsSinceEpoch() <= previousMs)
            QThread::yieldCurrentThread();
        const QString next = sid::generateOrdered(SidKind::Stream);
        QVERIFY2(previous < next, qPrintable(previous + u' ' + next));
        previous = next;
    }
}

void TestSid::isValid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<SidKind>("kind");
    QTest::addColumn<bool>("expected");

    QTest::addRow("account") << QStringLiteral("AC") + kHex32 << SidKind::Account << true;
    QTest::addRow("service") << QStringLiteral("IS") + kHex32 << SidKind::Service << true;
    QTest::addRow("stream") << QStringLiteral("TO") + kHex32 << SidKind::Stream << true;
    QTest::addRow("message") << QStringLiteral("TZ") + kHex32 << SidKind::Message << true;
    QTest::addRow("api key") << QStringLiteral("SK") + kHex32 << SidKind::ApiKey << true;
    // The OpenAPI patterns are [0-9a-fA-F]{32}: uppercase hex is a valid SID, too.
    QTest::addRow("uppercase hex") << QStringLiteral("TO") + kHex32Upper << SidKind::Stream << true;
    QTest::addRow("mixed-case hex")
        << QStringLiteral("TO0123456789ABCDEF0123456789abcdef") << SidKind::Stream << true;

    QTest::addRow("wrong kind") << QStringLiteral("IS") + kHex32 << SidKind::Stream << false;
    QTest::addRow("lowercase prefix") << QStringLiteral("to") + kHex32 << SidKind::Stream << false;
    QTest::addRow("mixed-case prefix") << QStringLiteral("To") + kHex32 << SidKind::Stream << false;
    QTest::addRow("31 hex digits")
        << QStringLiteral("TO") + kHex32.first(31) << SidKind::Stream << false;
    QTest::addRow("33 hex digits")
        << QStringLiteral("TO") + kHex32 + u'0' << SidKind::Stream << false;
    QTest::addRow("prefix only") << QStringLiteral("TO") << SidKind::Stream << false;
    QTest::addRow("empty") << QString() << SidKind::Stream << false;
    QTest::addRow("non-hex g") << QStringLiteral("TO0123456789abcdef0123456789abcdeg")
                               << SidKind::Stream << false;
    QTest::addRow("non-hex space")
        << QStringLiteral("TO0123456789abcdef 123456789abcdef") << SidKind::Stream << false;
    QTest::addRow("non-hex dash") << QStringLiteral("TO01234567-9abcdef0123456789abcdef")
                                  << SidKind::Stream << false;
    QTest::addRow("fullwidth digit")
        << QStringLiteral("TO0123456789abcdef0123456789abcde") + QChar(0xFF10) << SidKind::Stream
        << false;
    QTest::addRow("leading space")
        << QStringLiteral(" TO") + kHex32.first(31) << SidKind::Stream << false;
}

void TestSid::isValid()
{
    QFETCH(QString, text);
    QFETCH(SidKind, kind);
    QFETCH(bool, expected);
    QCOMPARE(sid::isValid(text, kind), expected);
}

void TestSid::looksLikeSid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("expected");

    QTest::addRow("stream") << QStringLiteral("TO") + kHex32 << true;
    QTest::addRow("service") << QStringLiteral("IS") + kHex32 << true;
    QTest::addRow("unknown prefix") << QStringLiteral("XY") + kHex32 << true;
    QTest::addRow("uppercase hex") << QStringLiteral("MB") + kHex32Upper << true;
    QTest::addRow("lowercase prefix") << QStringLiteral("to") + kHex32 << false;
    QTest::addRow("one lowercase letter") << QStringLiteral("tO") + kHex32 << false;
    QTest::addRow("digit in prefix") << QStringLiteral("T0") + kHex32 << false;
    QTest::addRow("31 hex digits") << QStringLiteral("TO") + kHex32.first(31) << false;
    QTest::addRow("33 hex digits") << QStringLiteral("TO") + kHex32 + u'a' << false;
    QTest::addRow("non-hex") << QStringLiteral("TO0123456789abcdef0123456789abcdez") << false;
    QTest::addRow("accented prefix") << QString(QChar(0xC0)) + u'O' + kHex32 << false;
    QTest::addRow("empty") << QString() << false;
    QTest::addRow("ordinary name") << QStringLiteral("my-stream") << false;
}

void TestSid::looksLikeSid()
{
    QFETCH(QString, text);
    QFETCH(bool, expected);
    QCOMPARE(sid::looksLikeSid(text), expected);
}

QTEST_GUILESS_MAIN(TestSid)
#include "tst_sid.moc"
