// PayloadTemplate: placeholder expansion for repeat publishing, and validation of the result with
// errors pointing into the template as typed.

#include "ui/stream/payloadtemplate.h"

#include <QRandomGenerator>
#include <QTest>

using namespace streams;

namespace {

const QDateTime kNow =
    QDateTime::fromString(QStringLiteral("2024-05-06T07:08:09.123Z"), Qt::ISODateWithMs);
const QUuid kUuid(QStringLiteral("12345678-9abc-4def-8123-456789abcdef"));

PayloadTemplate::Context fixedContext(qint64 counter)
{
    PayloadTemplate::Context context;
    context.counter = counter;
    context.now = kNow;
    context.uuid = kUuid;
    return context;
}

} // namespace

class TestPayloadTemplate final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void expansion_data();
    void expansion();
    void randomIsFreshPerOccurrenceAndRepeatable();
    void defaultsFillInNowAndUuid();
    void validatesAfterExpansion();
    void syntaxErrorsPointIntoTheTemplate_data();
    void syntaxErrorsPointIntoTheTemplate();
    void unknownPlaceholderIsAProblemAtItsPosition();
    void sizeLimitAppliesToTheExpandedText();
};

void TestPayloadTemplate::expansion_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("counter");
    QTest::addColumn<QString>("expected"); // empty when an error is expected
    QTest::addColumn<QString>("error");

    QTest::addRow("no placeholders")
        << QStringLiteral(R"({"a":1})") << qint64(1) << QStringLiteral(R"({"a":1})") << QString();
    QTest::addRow("counter") << QStringLiteral(R"({"n": {{counter}}})") << qint64(7)
                             << QStringLiteral(R"({"n": 7})") << QString();
    QTest::addRow("spaces inside braces") << QStringLiteral(R"({"n": {{ counter }}})") << qint64(7)
                                          << QStringLiteral(R"({"n": 7})") << QString();
    QTest::addRow("large counter") << QStringLiteral("{{counter}}") << qint64(1'000'000)
                                   << QStringLiteral("1000000") << QString();
    QTest::addRow("now") << QStringLiteral(R"({"at": "{{now}}"})") << qint64(1)
                         << QStringLiteral(R"({"at": "2024-05-06T07:08:09.123Z"})") << QString();
    QTest::addRow("epoch_ms") << QStringLiteral(R"({"t": {{epoch_ms}}})") << qint64(1)
                              << QStringLiteral(R"({"t": 1714979289123})") << QString();
    QTest::addRow("uuid") << QStringLiteral(R"({"id": "{{uuid}}"})") << qint64(1)
                          << QStringLiteral(R"({"id": "12345678-9abc-4def-8123-456789abcdef"})")
                          << QString();
    QTest::addRow("several, repeated")
        << QStringLiteral(R"({"n": {{counter}}, "at": "{{now}}", "again": {{counter}}})")
        << qint64(3) << QStringLiteral(R"({"n": 3, "at": "2024-05-06T07:08:09.123Z", "again": 3})")
        << QString();
    QTest::addRow("nested objects close with }}}")
        << QStringLiteral(R"({"a":{"b":{"c":{{counter}}}}})") << qint64(3)
        << QStringLiteral(R"({"a":{"b":{"c":3}}})") << QString();
    QTest::addRow("brace before a placeholder")
        << QStringLiteral("{{{counter}}}") << qint64(4) << QStringLiteral("{4}") << QString();
    QTest::addRow("unclosed braces stay") << QStringLiteral(R"({"t": "{{ not one"})") << qint64(1)
                                          << QStringLiteral(R"({"t": "{{ not one"})") << QString();
    QTest::addRow("empty braces stay") << QStringLiteral(R"({"t": "{{}}"})") << qint64(1)
                                       << QStringLiteral(R"({"t": "{{}}"})") << QString();
    QTest::addRow("name must start with a letter")
        << QStringLiteral(R"({"t": "{{1x}}"})") << qint64(1) << QStringLiteral(R"({"t": "{{1x}}"})")
        << QString();
    QTest::addRow("multi-byte around") << QStringLiteral(u"{\"é\": \"€{{counter}}😀\"}") << qint64(5)
                                       << QStringLiteral(u"{\"é\": \"€5😀\"}") << QString();
    QTest::addRow("unknown") << QStringLiteral(R"({"x": {{foo}}})") << qint64(1) << QString()
                             << QStringLiteral("Unknown placeholder {{foo}}");
    QTest::addRow("names are case-sensitive")
        << QStringLiteral(R"({"x": {{Counter}}})") << qint64(1) << QString()
        << QStringLiteral("Unknown placeholder {{Counter}}");
    QTest::addRow("several unknown, named once each")
        << QStringLiteral(R"({"a": {{foo}}, "b": {{counter}}, "c": {{bar}}, "d": {{foo}}})")
        << qint64(1) << QString() << QStringLiteral("Unknown placeholders {{foo}}, {{bar}}");
}

void TestPayloadTemplate::expansion()
{
    QFETCH(QString, text);
    QFETCH(qint64, counter);
    QFETCH(QString, expected);
    QFETCH(QString, error);

    const PayloadTemplate payloadTemplate(text);
    const auto expansion = payloadTemplate.expand(fixedContext(counter));
    if (error.isEmpty()) {
        QVERIFY2(expansion, qPrintable(expansion ? QString() : expansion.error()));
        QCOMPARE(QString::fromUtf8(expansion->text), expected);
        QVERIFY(payloadTemplate.unknownPlaceholders().isEmpty());
    } else {
        QVERIFY(!expansion);
        QCOMPARE(expansion.error(), error);
        QCOMPARE(payloadTemplate.unknownPlaceholderMessage(), error);
    }
}

void TestPayloadTemplate::randomIsFreshPerOccurrenceAndRepeatable()
{
    const PayloadTemplate payloadTemplate(QStringLiteral(R"({"a": {{random}}, "b": {{random}}})"));
    QRandomGenerator seeded(42);
    PayloadTemplate::Context context = fixedContext(1);
    context.random = &seeded;
    const auto expansion = payloadTemplate.expand(context);
    QVERIFY(expansion);

    QRandomGenerator same(42);
    const quint32 a = same.generate() >> 1;
    const quint32 b = same.generate() >> 1;
    QVERIFY(a != b);
    QCOMPARE(
        QString::fromUtf8(expansion->text), QStringLiteral(R"({"a": %1, "b": %2})").arg(a).arg(b));
    QVERIFY(a <= 0x7FFFFFFFu && b <= 0x7FFFFFFFu);

    // Without a generator it uses the global one: still integers, still valid JSON.
    const auto unseeded = payloadTemplate.expandAndValidate(fixedContext(1));
    QVERIFY(unseeded);
    QVERIFY(unseeded->object.value(u"a").isDouble());
    QVERIFY(unseeded->object.value(u"a").toDouble() >= 0);
}

void TestPayloadTemplate::defaultsFillInNowAndUuid()
{
    const PayloadTemplate payloadTemplate(
        QStringLiteral(R"({"at": "{{now}}", "ms": {{epoch_ms}}, "id": "{{uuid}}"})"));
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    const auto first = payloadTemplate.expandAndValidate({});
    const auto second = payloadTemplate.expandAndValidate({});
    const qint64 after = QDateTime::currentMSecsSinceEpoch();
    QVERIFY(first && second);

    const QString at = first->object.value(u"at").toString();
    QVERIFY2(at.endsWith(u'Z') && at.size() == 24, qPrintable(at)); // 2024-05-06T07:08:09.123Z
    const QDateTime parsed = QDateTime::fromString(at, Qt::ISODateWithMs);
    QVERIFY(parsed.isValid());
    QCOMPARE(parsed.timeSpec(), Qt::UTC);
    const auto ms = qint64(first->object.value(u"ms").toDouble());
    QVERIFY(ms >= before && ms <= after);
    // One instant per message: {{now}} and {{epoch_ms}} agree.
    QCOMPARE(parsed.toMSecsSinceEpoch(), ms);

    const QUuid id(first->object.value(u"id").toString());
    QVERIFY(!id.isNull());
    QVERIFY(first->object.value(u"id") != second->object.value(u"id"));
}

void TestPayloadTemplate::validatesAfterExpansion()
{
    const PayloadTemplate payloadTemplate(QStringLiteral(R"({"n": {{counter}}, "at": "{{now}}"})"));
    QVERIFY(payloadTemplate.hasPlaceholders());
    // Not JSON as written...
    QVERIFY(!validation::parseMessageData(payloadTemplate.utf8()));
    // ...but valid once expanded, compacted like any payload (keys in the order written).
    const auto payload = payloadTemplate.expandAndValidate(fixedContext(12));
    QVERIFY(payload);
    QCOMPARE(payload->compact, QByteArray(R"({"n":12,"at":"2024-05-06T07:08:09.123Z"})"));

    // Expansion does not make an array an object.
    const auto array = PayloadTemplate(QStringLiteral("[{{counter}}]")).expandAndValidate({});
    QVERIFY(!array);
    QCOMPARE(array.error().error.code(), int(ApiError::InvalidJson));
    QCOMPARE(
        array.error().error, ApiError::invalidJson(QStringLiteral("Data must be a JSON object")));
}

void TestPayloadTemplate::syntaxErrorsPointIntoTheTemplate_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");

    // Unquoted {{now}} expands to 2024-…, which is not JSON: the error is at the placeholder.
    QTest::addRow("inside an expansion") << QStringLiteral("{\n  \"at\": {{now}}\n}") << 2 << 9;
    QTest::addRow("after expansions on the same line")
        << QStringLiteral(R"({"a": "{{now}}", "b": {{counter}} "c": 1})") << 1 << 36;
    QTest::addRow("on a later line")
        << QStringLiteral("{\n  \"a\": \"{{uuid}}\",\n  \"b\" 2\n}") << 3 << 8;
}

void TestPayloadTemplate::syntaxErrorsPointIntoTheTemplate()
{
    QFETCH(QString, text);
    QFETCH(int, line);
    QFETCH(int, column);

    const auto payload = PayloadTemplate(text).expandAndValidate(fixedContext(123456));
    QVERIFY(!payload);
    QCOMPARE(payload.error().error.code(), int(ApiError::InvalidJson));
    QCOMPARE(payload.error().line, line);
    QCOMPARE(payload.error().column, column);
    QVERIFY2(payload.error().error.message().endsWith(
                 QStringLiteral(" at line %1, column %2").arg(line).arg(column)),
        qPrintable(payload.error().error.message()));
}

void TestPayloadTemplate::unknownPlaceholderIsAProblemAtItsPosition()
{
    const auto payload =
        PayloadTemplate(QStringLiteral(u"{\n  \"é\": {{counter}},\n  \"x\": {{nope}}\n}"))
            .expandAndValidate({});
    QVERIFY(!payload);
    QCOMPARE(payload.error().error.code(), int(ApiError::InvalidJson));
    QCOMPARE(payload.error().error.message(),
        ApiError::invalidJson(QStringLiteral("Unknown placeholder {{nope}}")).message());
    QCOMPARE(payload.error().line, 3);
    QCOMPARE(payload.error().column, 8);
}

void TestPayloadTemplate::sizeLimitAppliesToTheExpandedText()
{
    // {"f":"…","n":9} is 14 bytes around the filler; make it exactly 4096 at counter 1..9.
    const QString filler(4096 - 14, u'x');
    const PayloadTemplate payloadTemplate(
        QStringLiteral(R"({"f": "%1", "n": {{counter}}})").arg(filler));
    const auto fits = payloadTemplate.expandAndValidate(fixedContext(9));
    QVERIFY(fits);
    QCOMPARE(fits->compact.size(), 4096);
    const auto tooLarge = payloadTemplate.expandAndValidate(fixedContext(10));
    QVERIFY(!tooLarge);
    QCOMPARE(tooLarge.error().error.code(), int(ApiError::DataTooLarge));
}

QTEST_GUILESS_MAIN(TestPayloadTemplate)
#include "tst_payloadtemplate.moc"
