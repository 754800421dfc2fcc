// TtlEditor: seconds or a duration, "Never expires", and parse errors shown at the field while
// the user types.

#include "ui/stream/ttleditor.h"

#include <QCheckBox>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTest>

using namespace streams;

namespace {

QLabel *errorLabel(TtlEditor &editor)
{
    return editor.findChild<QLabel *>(QStringLiteral("ttlError"));
}

// As a user would: untick "Never expires" with the mouse, then type into the field.
void startTyping(TtlEditor &editor)
{
    QCheckBox *never = editor.neverExpiresCheckBox();
    if (never->isChecked())
        QTest::mouseClick(never, Qt::LeftButton, {}, QPoint(8, never->height() / 2));
    QVERIFY(!never->isChecked());
    QVERIFY(editor.lineEdit()->isEnabled());
    editor.lineEdit()->setFocus();
    editor.lineEdit()->selectAll();
    QTest::keyClick(editor.lineEdit(), Qt::Key_Backspace);
}

} // namespace

class TestTtlEditor final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void startsAsNeverExpires();
    void typingShowsOrHidesTheErrorAtTheField_data();
    void typingShowsOrHidesTheErrorAtTheField();
    void fixingTheTextClearsTheError();
    void emptyFieldIsInvalidButQuietUntilEnter();
    void neverExpiresDisablesTheText();
    void setTtlSecondsShowsADuration();
    void signalsFollowTheValue();
    void externalErrorStaysUntilTheNextEdit();

private:
    std::unique_ptr<TtlEditor> m_editor;
};

void TestTtlEditor::init()
{
    m_editor = std::make_unique<TtlEditor>();
    m_editor->resize(420, m_editor->sizeHint().height());
    m_editor->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_editor.get()));
}

void TestTtlEditor::cleanup()
{
    m_editor.reset();
}

void TestTtlEditor::startsAsNeverExpires()
{
    QVERIFY(m_editor->neverExpiresCheckBox()->isChecked());
    QVERIFY(!m_editor->lineEdit()->isEnabled());
    QVERIFY(m_editor->isValid());
    QCOMPARE(m_editor->ttlSeconds(), std::optional<qint64>(0));
    QVERIFY(!errorLabel(*m_editor)->isVisible());
    QVERIFY(!m_editor->isModified());
}

void TestTtlEditor::typingShowsOrHidesTheErrorAtTheField_data()
{
    QTest::addColumn<QString>("typed");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<qint64>("seconds");
    QTest::addColumn<QString>("errorContains");
    QTest::addRow("seconds") << QStringLiteral("3600") << true << qint64(3600) << QString();
    QTest::addRow("duration") << QStringLiteral("1h30m") << true << qint64(5400) << QString();
    QTest::addRow("spaced duration")
        << QStringLiteral("1h 5m 3s") << true << qint64(3903) << QString();
    QTest::addRow("never") << QStringLiteral("never") << true << qint64(0) << QString();
    QTest::addRow("zero") << QStringLiteral("0") << true << qint64(0) << QString();
    QTest::addRow("the limit") << QStringLiteral("31536000") << true << qint64(31'536'000)
                               << QString();
    QTest::addRow("one over the limit")
        << QStringLiteral("31536001") << false << qint64(-1) << QStringLiteral("31536000");
    QTest::addRow("a year and a day")
        << QStringLiteral("366d") << false << qint64(-1) << QStringLiteral("31536000");
    QTest::addRow("unknown unit") << QStringLiteral("5x") << false << qint64(-1)
                                  << QStringLiteral("Unknown unit");
    QTest::addRow("negative") << QStringLiteral("-1") << false << qint64(-1)
                              << QStringLiteral("negative");
}

void TestTtlEditor::typingShowsOrHidesTheErrorAtTheField()
{
    QFETCH(QString, typed);
    QFETCH(bool, valid);
    QFETCH(qint64, seconds);
    QFETCH(QString, errorContains);

    startTyping(*m_editor);
    QTest::keyClicks(m_editor->lineEdit(), typed);
    QCOMPARE(m_editor->lineEdit()->text(), typed);
    QCOMPARE(m_editor->isValid(), valid);
    QVERIFY(m_editor->isModified());
    QLabel *error = errorLabel(*m_editor);
    QVERIFY(error);
    if (valid) {
        QCOMPARE(m_editor->ttlSeconds(), std::optional<qint64>(seconds));
        QVERIFY(!error->isVisible());
        QVERIFY(m_editor->errorText().isEmpty());
        QVERIFY(m_editor->lineEdit()->styleSheet().isEmpty());
    } else {
        QCOMPARE(m_editor->ttlSeconds(), std::nullopt);
        QVERIFY(error->isVisible());
        QVERIFY2(error->text().contains(errorContains), qPrintable(error->text()));
        QCOMPARE(m_editor->errorText(), error->text());
        // At the field itself too: a red frame and the message as its tooltip.
        QVERIFY(m_editor->lineEdit()->styleSheet().contains(QLatin1StringView("border")));
        QCOMPARE(m_editor->lineEdit()->toolTip(), error->text());
        // Under the field, not somewhere else in the window.
        QVERIFY(error->geometry().top() >= m_editor->lineEdit()->geometry().bottom());
    }
}

void TestTtlEditor::fixingTheTextClearsTheError()
{
    startTyping(*m_editor);
    QTest::keyClicks(m_editor->lineEdit(), QStringLiteral("5x"));
    QVERIFY(errorLabel(*m_editor)->isVisible());
    QTest::keyClick(m_editor->lineEdit(), Qt::Key_Backspace);
    QTest::keyClicks(m_editor->lineEdit(), QStringLiteral("m"));
    QVERIFY(!errorLabel(*m_editor)->isVisible());
    QCOMPARE(m_editor->ttlSeconds(), std::optional<qint64>(300));
    QVERIFY(!m_editor->lineEdit()->toolTip().contains(QLatin1StringView("Unknown")));
}

void TestTtlEditor::emptyFieldIsInvalidButQuietUntilEnter()
{
    startTyping(*m_editor);
    QVERIFY(!m_editor->isValid());
    QVERIFY(!errorLabel(*m_editor)->isVisible());
    QSignalSpy returned(m_editor.get(), &TtlEditor::returnPressed);
    QTest::keyClick(m_editor->lineEdit(), Qt::Key_Return);
    QCOMPARE(returned.count(), 1);
    QVERIFY(errorLabel(*m_editor)->isVisible());
    QVERIFY(errorLabel(*m_editor)->text().contains(QLatin1StringView("Enter seconds")));
}

void TestTtlEditor::neverExpiresDisablesTheText()
{
    startTyping(*m_editor);
    QTest::keyClicks(m_editor->lineEdit(), QStringLiteral("5x"));
    QVERIFY(!m_editor->isValid());

    QCheckBox *never = m_editor->neverExpiresCheckBox();
    QTest::mouseClick(never, Qt::LeftButton, {}, QPoint(8, never->height() / 2));
    QVERIFY(never->isChecked());
    QVERIFY(!m_editor->lineEdit()->isEnabled());
    QVERIFY(m_editor->isValid());
    QCOMPARE(m_editor->ttlSeconds(), std::optional<qint64>(0));
    QVERIFY(!errorLabel(*m_editor)->isVisible());

    // Unticking brings the text (and its problem) back.
    QTest::mouseClick(never, Qt::LeftButton, {}, QPoint(8, never->height() / 2));
    QVERIFY(m_editor->lineEdit()->isEnabled());
    QCOMPARE(m_editor->lineEdit()->text(), QStringLiteral("5x"));
    QVERIFY(!m_editor->isValid());
    QVERIFY(errorLabel(*m_editor)->isVisible());
}

void TestTtlEditor::setTtlSecondsShowsADuration()
{
    m_editor->setTtlSeconds(5400);
    QVERIFY(!m_editor->neverExpiresCheckBox()->isChecked());
    QCOMPARE(m_editor->lineEdit()->text(), QStringLiteral("1h 30m"));
    QCOMPARE(m_editor->ttlSeconds(), std::optional<qint64>(5400));
    QVERIFY(!m_editor->isModified());

    m_editor->setTtlSeconds(0);
    QVERIFY(m_editor->neverExpiresCheckBox()->isChecked());
    QCOMPARE(m_editor->ttlSeconds(), std::optional<qint64>(0));
    QVERIFY(!m_editor->isModified());
}

void TestTtlEditor::signalsFollowTheValue()
{
    m_editor->setTtlSeconds(60);
    QSignalSpy changed(m_editor.get(), &TtlEditor::ttlChanged);
    QSignalSpy validity(m_editor.get(), &TtlEditor::validityChanged);

    startTyping(*m_editor); // empties the field: invalid
    QCOMPARE(validity.count(), 1);
    QCOMPARE(validity.takeFirst().at(0).toBool(), false);

    QTest::keyClicks(m_editor->lineEdit(), QStringLiteral("2m"));
    // "2" is valid (2 s), "2m" is 120 s.
    QCOMPARE(validity.count(), 1);
    QCOMPARE(validity.takeFirst().at(0).toBool(), true);
    QCOMPARE(changed.count(), 2);
    QCOMPARE(changed.at(0).at(0).value<qint64>(), 2);
    QCOMPARE(changed.at(1).at(0).value<qint64>(), 120);

    QTest::keyClicks(m_editor->lineEdit(), QStringLiteral("x"));
    QCOMPARE(validity.count(), 1);
    QCOMPARE(validity.takeFirst().at(0).toBool(), false);
    QCOMPARE(changed.count(), 2);
}

void TestTtlEditor::externalErrorStaysUntilTheNextEdit()
{
    m_editor->setTtlSeconds(60);
    m_editor->showError(QStringLiteral("The service said no (error 20404)"));
    QVERIFY(errorLabel(*m_editor)->isVisible());
    QCOMPARE(m_editor->errorText(), QStringLiteral("The service said no (error 20404)"));
    QVERIFY(m_editor->isValid()); // the text itself is fine

    QCOMPARE(m_editor->lineEdit()->text(), QStringLiteral("1m"));
    QTest::keyClick(m_editor->lineEdit(), Qt::Key_End);
    QTest::keyClick(m_editor->lineEdit(), Qt::Key_Backspace);
    QCOMPARE(m_editor->ttlSeconds(), std::optional<qint64>(1));
    QVERIFY(!errorLabel(*m_editor)->isVisible());
    QVERIFY(m_editor->errorText().isEmpty());
}

QTEST_MAIN(TestTtlEditor)
#include "tst_ttleditor.moc"
