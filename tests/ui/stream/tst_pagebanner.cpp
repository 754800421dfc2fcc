// PageBanner: the inline error strip that replaces modal boxes. A repeated message counts up
// instead of stacking, a new one replaces it, and the close button dismisses it.

#include "api/apierror.h"
#include "ui/stream/pagebanner.h"

#include <QSignalSpy>
#include <QTest>
#include <QToolButton>
#include <QVBoxLayout>

using namespace streams;

class TestPageBanner final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hiddenUntilAMessage();
    void repeatsCountUpInsteadOfStacking();
    void aNewMessageReplacesTheOld();
    void closeDismisses();
    void errorTextNamesTheCode();
};

namespace {
struct Page
{
    QWidget widget;
    PageBanner *banner = new PageBanner(&widget);
    Page()
    {
        auto *layout = new QVBoxLayout(&widget);
        layout->addWidget(banner);
        layout->addStretch(1);
        widget.resize(600, 200);
        widget.show();
    }
};
} // namespace

void TestPageBanner::hiddenUntilAMessage()
{
    Page page;
    QVERIFY(QTest::qWaitForWindowExposed(&page.widget));
    QVERIFY(!page.banner->isVisible());
    QVERIFY(page.banner->displayedText().isEmpty());
    page.banner->showMessage(PageBanner::Kind::Error, QStringLiteral("Publish failed: boom"));
    QVERIFY(page.banner->isVisible());
    QCOMPARE(page.banner->displayedText(), QStringLiteral("Publish failed: boom"));
    QCOMPARE(page.banner->kind(), PageBanner::Kind::Error);
}

void TestPageBanner::repeatsCountUpInsteadOfStacking()
{
    Page page;
    for (int i = 0; i < 5; ++i)
        page.banner->showMessage(PageBanner::Kind::Error, QStringLiteral("Rate limited"));
    QCOMPARE(page.banner->repeatCount(), 5);
    QVERIFY2(page.banner->displayedText().startsWith(u"Rate limited (×5, last at "),
        qPrintable(page.banner->displayedText()));
    QCOMPARE(page.banner->text(), QStringLiteral("Rate limited"));
    // One banner, however many times it was told.
    QCOMPARE(page.widget.findChildren<PageBanner *>().size(), 1);
}

void TestPageBanner::aNewMessageReplacesTheOld()
{
    Page page;
    page.banner->showMessage(PageBanner::Kind::Error, QStringLiteral("first"));
    page.banner->showMessage(PageBanner::Kind::Error, QStringLiteral("first"));
    page.banner->showMessage(PageBanner::Kind::Warning, QStringLiteral("second"));
    QCOMPARE(page.banner->repeatCount(), 1);
    QCOMPARE(page.banner->displayedText(), QStringLiteral("second"));
    QCOMPARE(page.banner->kind(), PageBanner::Kind::Warning);
    // Same words, other severity: a new message, not a repeat.
    page.banner->showMessage(PageBanner::Kind::Error, QStringLiteral("second"));
    QCOMPARE(page.banner->repeatCount(), 1);
}

void TestPageBanner::closeDismisses()
{
    Page page;
    QVERIFY(QTest::qWaitForWindowExposed(&page.widget));
    page.banner->showMessage(PageBanner::Kind::Info, QStringLiteral("hello"));
    QSignalSpy dismissed(page.banner, &PageBanner::dismissed);
    page.banner->closeButton()->click();
    QCOMPARE(dismissed.count(), 1);
    QVERIFY(!page.banner->isVisible());
    QVERIFY(page.banner->text().isEmpty());
    // After a dismissal the same message is news again.
    page.banner->showMessage(PageBanner::Kind::Info, QStringLiteral("hello"));
    QCOMPARE(page.banner->repeatCount(), 1);
}

void TestPageBanner::errorTextNamesTheCode()
{
    QCOMPARE(PageBanner::errorText(ApiError::rateLimitExceeded()),
        ApiError::rateLimitExceeded().message() + QStringLiteral(" (error 54009)"));
    // No answer at all has no Twilio code to show.
    const ApiError refused = ApiError::connectionFailed(QStringLiteral("Connection refused"));
    QCOMPARE(PageBanner::errorText(refused), QStringLiteral("Connection refused"));
}

QTEST_MAIN(TestPageBanner)
#include "tst_pagebanner.moc"
