// The Faults section of a stream's page on the embedded engine: each control sets an engine
// fault rule for this stream only, shows it on with how often it acted, and turns it off.

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "host/enginehost.h"
#include "httpclient.h"
#include "ui/engine/streamfaultswidget.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using namespace streams::testing;
using namespace Qt::StringLiterals;

class TestStreamFaults final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void deliveryFaultsAreOneRuleForThisStream();
    void failsTheNextPublishes();
    void disconnectActsOnceAndLeavesNoRule();
    void rulesSetElsewhereAreShown();

private:
    QList<QJsonObject> rules();

    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_backend;
    Stream m_stream;
    std::unique_ptr<StreamFaultsWidget> m_widget;
};

QList<QJsonObject> TestStreamFaults::rules()
{
    const auto reply = await(m_backend->control("GET", u"/_engine/faults"_s));
    QList<QJsonObject> out;
    if (reply) {
        for (const QJsonValue &rule :
            QJsonDocument::fromJson(reply->body).object().value(u"faults"_s).toArray())
            out.append(rule.toObject());
    }
    return out;
}

void TestStreamFaults::initTestCase()
{
    auto backend = startEmbeddedEngine(m_dir.filePath(u"engine"_s));
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    m_backend = std::move(*backend);
    const auto stream = await(m_backend->createStream(u"default"_s, {u"faulty"_s, std::nullopt}));
    QVERIFY(stream);
    m_stream = *stream;
    m_widget = std::make_unique<StreamFaultsWidget>(*m_backend);
    m_widget->show();
    m_widget->setStream(m_stream);
    QTRY_VERIFY(m_widget->deliveryState()->text().startsWith(u"Off"_s));
}

void TestStreamFaults::cleanupTestCase()
{
    m_widget.reset();
    m_backend.reset();
}

void TestStreamFaults::deliveryFaultsAreOneRuleForThisStream()
{
    m_widget->dropPercent()->setValue(30);
    m_widget->delayMs()->setValue(200);
    m_widget->jitterMs()->setValue(50);
    QTest::mouseClick(m_widget->applyDelivery(), Qt::LeftButton);
    QTRY_COMPARE(rules().size(), 1);
    const QJsonObject rule = rules().first();
    QCOMPARE(rule.value(u"stream"_s).toString(), m_stream.sid);
    QCOMPARE(rule.value(u"service"_s).toString(), m_stream.serviceSid);
    QCOMPARE(rule.value(u"drop"_s).toDouble(), 0.3);
    QCOMPARE(rule.value(u"delay_ms"_s).toInt(), 200);
    QCOMPARE(rule.value(u"jitter_ms"_s).toInt(), 50);
    QTRY_VERIFY(m_widget->deliveryState()->text().contains(u"On"_s));
    QVERIFY(m_widget->deliveryOff()->isEnabled());

    // Applying again replaces it: still one rule, with the new values.
    m_widget->dropPercent()->setValue(0);
    m_widget->delayMs()->setValue(0);
    m_widget->jitterMs()->setValue(0);
    m_widget->reorderWindow()->setValue(5);
    QTest::mouseClick(m_widget->applyDelivery(), Qt::LeftButton);
    QTRY_VERIFY(rules().size() == 1 && rules().first().value(u"reorder_window"_s).toInt() == 5);

    QTest::mouseClick(m_widget->deliveryOff(), Qt::LeftButton);
    QTRY_COMPARE(rules().size(), 0);
    QTRY_VERIFY(m_widget->deliveryState()->text().startsWith(u"Off"_s));
}

void TestStreamFaults::failsTheNextPublishes()
{
    m_widget->failCount()->setValue(2);
    QTest::mouseClick(m_widget->failPublishes(), Qt::LeftButton);
    QTRY_COMPARE(rules().size(), 1);
    // Your code's publishes over REST are refused; the third goes through.
    const EngineCredentials &credentials = m_backend->host().credentials();
    const QByteArray authorization =
        basicAuthorization(credentials.accountSid, credentials.authToken);
    const QByteArray path = "/v1/Services/default/Streams/faulty/Messages";
    const quint16 port = m_backend->host().listening().port;
    for (int i = 0; i < 2; ++i) {
        const HttpResponse refused = httpExchange(port, "POST", path, authorization, "Data=%7B%7D");
        QCOMPARE(refused.status, 429);
        QCOMPARE(refused.json().value(u"code"_s).toInt(), 54009);
    }
    QCOMPARE(httpExchange(port, "POST", path, authorization, "Data=%7B%7D").status, 201);
    QTRY_VERIFY2(m_widget->failState()->text().contains(u"2 publish(es) failed"_s),
        qPrintable(m_widget->failState()->text()));
    QVERIFY(await(m_backend->control("DELETE", u"/_engine/faults"_s)));
}

void TestStreamFaults::disconnectActsOnceAndLeavesNoRule()
{
    QTest::mouseClick(m_widget->disconnectNow(), Qt::LeftButton);
    QTRY_VERIFY(m_widget->disconnectState()->text().contains(u"closed 0 connection(s)"_s));
    QTRY_COMPARE(rules().size(), 0);
}

void TestStreamFaults::rulesSetElsewhereAreShown()
{
    // As CI would: one rule for this stream by its unique name in the default service, one for
    // every stream, one for another stream.
    QVERIFY(await(m_backend->control("POST", u"/_engine/faults"_s,
        R"({"service":"default","stream":"faulty","drop":0.4,"delay_ms":120,"jitter_ms":30})")));
    QVERIFY(await(
        m_backend->control("POST", u"/_engine/faults"_s, R"({"stream":"*","reorder_window":3})")));
    QVERIFY(
        await(m_backend->control("POST", u"/_engine/faults"_s, R"({"stream":"other","drop":1})")));
    QTRY_VERIFY2(m_widget->deliveryState()->text().contains(u"On"_s),
        qPrintable(m_widget->deliveryState()->text()));
    QCOMPARE(m_widget->dropPercent()->value(), 40);
    QCOMPARE(m_widget->delayMs()->value(), 120);
    QCOMPARE(m_widget->jitterMs()->value(), 30);
    QTRY_VERIFY(m_widget->otherRules()->isVisible());
    QVERIFY2(m_widget->otherRules()->text().contains(u"(every stream): reorder 3"_s),
        qPrintable(m_widget->otherRules()->text()));
    QVERIFY(!m_widget->otherRules()->text().contains(u"drop 100%"_s));

    // Off removes the one for this stream only.
    QTest::mouseClick(m_widget->deliveryOff(), Qt::LeftButton);
    QTRY_COMPARE(rules().size(), 2);
    QTRY_VERIFY(m_widget->deliveryState()->text().startsWith(u"Off"_s));
    QVERIFY(await(m_backend->control("DELETE", u"/_engine/faults"_s)));
    QTRY_VERIFY(!m_widget->otherRules()->isVisible());
}

QTEST_MAIN(TestStreamFaults)
#include "tst_streamfaults.moc"
