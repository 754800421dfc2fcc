// durationformat: TTLs as users type and read them, within the contract's 0..31,536,000 s.

#include "api/limits.h"
#include "ui/common/durationformat.h"

#include <QTest>

using namespace streams;

class TestDurationFormat final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesValidInput_data();
    void parsesValidInput();
    void refusesBadInput_data();
    void refusesBadInput();
    void formats_data();
    void formats();
    void countsDown_data();
    void countsDown();
    void formatRoundTrips_data();
    void formatRoundTrips();
};

void TestDurationFormat::parsesValidInput_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("seconds");
    QTest::addRow("plain seconds") << QStringLiteral("90") << qint64(90);
    QTest::addRow("seconds unit") << QStringLiteral("90s") << qint64(90);
    QTest::addRow("minutes") << QStringLiteral("5m") << qint64(300);
    QTest::addRow("hours and minutes") << QStringLiteral("1h30m") << qint64(5400);
    QTest::addRow("days") << QStringLiteral("2d") << qint64(172'800);
    QTest::addRow("spaced components") << QStringLiteral("1h 5m 3s") << qint64(3903);
    QTest::addRow("space before unit") << QStringLiteral("5 m") << qint64(300);
    QTest::addRow("long unit names") << QStringLiteral("2 hours 1 minute") << qint64(7260);
    QTest::addRow("weeks") << QStringLiteral("1w") << qint64(604'800);
    QTest::addRow("upper case") << QStringLiteral("1H30M") << qint64(5400);
    QTest::addRow("surrounding spaces") << QStringLiteral("  42  ") << qint64(42);
    QTest::addRow("never") << QStringLiteral("never") << qint64(0);
    QTest::addRow("Never") << QStringLiteral("Never") << qint64(0);
    QTest::addRow("zero") << QStringLiteral("0") << qint64(0);
    QTest::addRow("zero seconds") << QStringLiteral("0s") << qint64(0);
    QTest::addRow("leading zeros") << QStringLiteral("007") << qint64(7);
    QTest::addRow("limit in seconds") << QStringLiteral("31536000") << limits::kMaxTtlSeconds;
    QTest::addRow("limit in days") << QStringLiteral("365d") << limits::kMaxTtlSeconds;
    QTest::addRow("just under the limit")
        << QStringLiteral("364d 23h 59m 59s") << limits::kMaxTtlSeconds - 1;
}

void TestDurationFormat::parsesValidInput()
{
    QFETCH(QString, text);
    QFETCH(qint64, seconds);
    const auto parsed = durationformat::parse(text);
    QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error()));
    QCOMPARE(*parsed, seconds);
}

void TestDurationFormat::refusesBadInput_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("errorContains");
    QTest::addRow("empty") << QString() << QStringLiteral("Enter seconds");
    QTest::addRow("blank") << QStringLiteral("   ") << QStringLiteral("Enter seconds");
    QTest::addRow("word") << QStringLiteral("soon") << QStringLiteral("Expected a number");
    QTest::addRow("unknown unit") << QStringLiteral("5x") << QStringLiteral("Unknown unit");
    QTest::addRow("milliseconds") << QStringLiteral("500ms") << QStringLiteral("Unknown unit");
    QTest::addRow("bare number after a unit")
        << QStringLiteral("1h30") << QStringLiteral("needs a unit");
    QTest::addRow("negative") << QStringLiteral("-5") << QStringLiteral("negative");
    QTest::addRow("negative duration") << QStringLiteral("-5m") << QStringLiteral("negative");
    QTest::addRow("fraction") << QStringLiteral("1.5h") << QStringLiteral("whole numbers");
    QTest::addRow("smallest first") << QStringLiteral("30m 1h") << QStringLiteral("largest");
    QTest::addRow("unit twice") << QStringLiteral("5m 5m") << QStringLiteral("largest");
    QTest::addRow("trailing junk") << QStringLiteral("5m!") << QStringLiteral("Expected a number");
    QTest::addRow("one over the limit")
        << QStringLiteral("31536001") << QStringLiteral("maximum TTL of 365d (31536000 s)");
    QTest::addRow("a day over the limit")
        << QStringLiteral("366d") << QStringLiteral("maximum TTL of 365d (31536000 s)");
    QTest::addRow("one second over in parts")
        << QStringLiteral("365d 1s") << QStringLiteral("31536000");
    QTest::addRow("digits that would overflow")
        << QStringLiteral("99999999999999999999999") << QStringLiteral("31536000");
    QTest::addRow("unit that would overflow")
        << QStringLiteral("99999999999999999999w") << QStringLiteral("31536000");
    QTest::addRow("non-ASCII digits")
        << QStringLiteral("\u0661\u0662") << QStringLiteral("Expected a number");
}

void TestDurationFormat::refusesBadInput()
{
    QFETCH(QString, text);
    QFETCH(QString, errorContains);
    const auto parsed = durationformat::parse(text);
    QVERIFY2(!parsed, qPrintable(QStringLiteral("parsed as %1").arg(parsed.value_or(-1))));
    QVERIFY2(parsed.error().contains(errorContains), qPrintable(parsed.error()));
}

void TestDurationFormat::formats_data()
{
    QTest::addColumn<qint64>("seconds");
    QTest::addColumn<QString>("text");
    QTest::addRow("zero") << qint64(0) << QStringLiteral("0s");
    QTest::addRow("negative") << qint64(-5) << QStringLiteral("0s");
    QTest::addRow("seconds") << qint64(45) << QStringLiteral("45s");
    QTest::addRow("a minute") << qint64(60) << QStringLiteral("1m");
    QTest::addRow("minute and a half") << qint64(90) << QStringLiteral("1m 30s");
    QTest::addRow("an hour") << qint64(3600) << QStringLiteral("1h");
    QTest::addRow("hour and a half") << qint64(5400) << QStringLiteral("1h 30m");
    QTest::addRow("skips zero parts") << qint64(3603) << QStringLiteral("1h 3s");
    QTest::addRow("a day") << qint64(86400) << QStringLiteral("1d");
    QTest::addRow("every part") << qint64(90061) << QStringLiteral("1d 1h 1m 1s");
    QTest::addRow("a week shown in days") << qint64(604'800) << QStringLiteral("7d");
    QTest::addRow("the limit") << limits::kMaxTtlSeconds << QStringLiteral("365d");
}

void TestDurationFormat::formats()
{
    QFETCH(qint64, seconds);
    QFETCH(QString, text);
    QCOMPARE(durationformat::format(seconds), text);
}

void TestDurationFormat::countsDown_data()
{
    QTest::addColumn<qint64>("secondsLeft");
    QTest::addColumn<QString>("text");
    QTest::addRow("an hour less two seconds") << qint64(3598) << QStringLiteral("in 59m 58s");
    QTest::addRow("one second") << qint64(1) << QStringLiteral("in 1s");
    QTest::addRow("days") << qint64(2 * 86400 + 5) << QStringLiteral("in 2d 5s");
    QTest::addRow("none left") << qint64(0) << QStringLiteral("expired");
    QTest::addRow("overdue") << qint64(-30) << QStringLiteral("expired");
}

void TestDurationFormat::countsDown()
{
    QFETCH(qint64, secondsLeft);
    QFETCH(QString, text);
    QCOMPARE(durationformat::countdown(secondsLeft), text);
}

void TestDurationFormat::formatRoundTrips_data()
{
    QTest::addColumn<qint64>("seconds");
    for (qint64 s : {qint64(1), qint64(59), qint64(61), qint64(3599), qint64(3661), qint64(86399),
             qint64(1'000'000), limits::kMaxTtlSeconds - 1, limits::kMaxTtlSeconds})
        QTest::addRow("%lld", static_cast<long long>(s)) << s;
}

void TestDurationFormat::formatRoundTrips()
{
    QFETCH(qint64, seconds);
    const QString text = durationformat::format(seconds);
    const auto parsed = durationformat::parse(text);
    QVERIFY2(parsed, qPrintable(text));
    QCOMPARE(*parsed, seconds);
}

QTEST_GUILESS_MAIN(TestDurationFormat)
#include "tst_durationformat.moc"
