// ByteMeter: levels at the exact thresholds, the words it shows (not colour alone) and colours
// that stay distinguishable on light and dark palettes.

#include "contrast.h"
#include "palettes.h"
#include "ui/stream/bytemeter.h"

#include <QApplication>
#include <QImage>
#include <QTest>
#include <cmath>

using namespace streams;
using streams::testing::contrast;
using streams::testing::darkDesktopPalette;

namespace {

QPalette lightPalette()
{
    QPalette palette;
    palette.setColor(QPalette::Window, QColor(0xEF, 0xEF, 0xEF));
    palette.setColor(QPalette::WindowText, Qt::black);
    palette.setColor(QPalette::Base, Qt::white);
    palette.setColor(QPalette::Text, Qt::black);
    palette.setColor(QPalette::Highlight, QColor(0x30, 0x8C, 0xC6));
    return palette;
}

} // namespace

class TestByteMeter final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void levels_data();
    void levels();
    void nearThresholdIsNinetyPercentRoundedUp();
    void colorsPerLevelAndPalette_data();
    void colorsPerLevelAndPalette();
    void paintsTheBar();
};

void TestByteMeter::levels_data()
{
    QTest::addColumn<qsizetype>("bytes");
    QTest::addColumn<ByteMeter::Level>("level");
    QTest::addColumn<QString>("text");

    QTest::addRow("unknown") << qsizetype(-1) << ByteMeter::Level::Unknown
                             << QStringLiteral("— / 4,096 bytes");
    QTest::addRow("empty object") << qsizetype(2) << ByteMeter::Level::Normal
                                  << QStringLiteral("2 / 4,096 bytes");
    QTest::addRow("3686 just below 90 percent")
        << qsizetype(3686) << ByteMeter::Level::Normal << QStringLiteral("3,686 / 4,096 bytes");
    QTest::addRow("3687 first amber") << qsizetype(3687) << ByteMeter::Level::Near
                                      << QStringLiteral("3,687 / 4,096 bytes · near the limit");
    QTest::addRow("4095") << qsizetype(4095) << ByteMeter::Level::Near
                          << QStringLiteral("4,095 / 4,096 bytes · near the limit");
    QTest::addRow("4096 at the limit") << qsizetype(4096) << ByteMeter::Level::Near
                                       << QStringLiteral("4,096 / 4,096 bytes · near the limit");
    QTest::addRow("4097 over") << qsizetype(4097) << ByteMeter::Level::Over
                               << QStringLiteral("4,097 / 4,096 bytes · over the limit");
    QTest::addRow("far over") << qsizetype(123456) << ByteMeter::Level::Over
                              << QStringLiteral("123,456 / 4,096 bytes · over the limit");
}

void TestByteMeter::levels()
{
    QFETCH(qsizetype, bytes);
    QFETCH(ByteMeter::Level, level);
    QFETCH(QString, text);

    ByteMeter meter;
    meter.setBytes(bytes);
    QCOMPARE(meter.bytes(), bytes);
    QCOMPARE(meter.level(), level);
    QCOMPARE(ByteMeter::levelFor(bytes), level);
    QCOMPARE(meter.text(), text);
    // Screen readers get the same words, not just a colour.
    QCOMPARE(meter.accessibleDescription(), text);
    QVERIFY(meter.toolTip().contains(text));
}

void TestByteMeter::nearThresholdIsNinetyPercentRoundedUp()
{
    QCOMPARE(ByteMeter::kLimit, qsizetype(4096));
    QCOMPARE(ByteMeter::kNearThreshold, qsizetype(3687));
    QVERIFY(double(ByteMeter::kNearThreshold) >= 0.9 * 4096);
    QVERIFY(double(ByteMeter::kNearThreshold - 1) < 0.9 * 4096);
}

void TestByteMeter::colorsPerLevelAndPalette_data()
{
    QTest::addColumn<QPalette>("palette");
    QTest::addRow("light") << lightPalette();
    QTest::addRow("dark") << darkDesktopPalette();
}

void TestByteMeter::colorsPerLevelAndPalette()
{
    QFETCH(QPalette, palette);

    ByteMeter meter;
    meter.setPalette(palette);
    meter.setBytes(100);
    const QColor normal = meter.barColor();
    meter.setBytes(4000);
    const QColor amber = meter.barColor();
    meter.setBytes(5000);
    const QColor red = meter.barColor();

    QCOMPARE(normal, palette.color(QPalette::Highlight));
    QVERIFY(amber != normal && red != normal && amber != red);
    // Amber is warm (red > blue), red is red.
    QVERIFY(amber.red() > amber.blue() && amber.green() > amber.blue());
    QVERIFY(red.red() > red.green() && red.red() > red.blue());
    // Graphical objects need 3:1 against what surrounds them.
    const QColor window = palette.color(QPalette::Window);
    QVERIFY2(contrast(amber, window) >= 3.0, qPrintable(QString::number(contrast(amber, window))));
    QVERIFY2(contrast(red, window) >= 3.0, qPrintable(QString::number(contrast(red, window))));
}

void TestByteMeter::paintsTheBar()
{
    ByteMeter meter;
    meter.setPalette(lightPalette());
    meter.resize(meter.sizeHint());
    meter.setBytes(5000); // full bar, red
    const QImage image = meter.grab().toImage();
    // The middle of the bar is filled with the level's colour.
    const QColor middle = image.pixelColor(int(40 * image.devicePixelRatio()), image.height() / 2);
    QCOMPARE(middle.rgb(), meter.barColor().rgb());
    QVERIFY(meter.sizeHint().width() > 140 + meter.fontMetrics().horizontalAdvance(meter.text()));
}

QTEST_MAIN(TestByteMeter)
#include "tst_bytemeter.moc"
