#include "engine/faultrules.h"
#include "engine/subscription.h"

#include <QJsonDocument>
#include <QSet>
#include <QTest>
#include <algorithm>
#include <memory>

using namespace streams;
using namespace Qt::StringLiterals;

namespace {
const FaultTarget kOrders{u"IS00000000000000000000000000000001"_s, u"default"_s,
    u"TO00000000000000000000000000000001"_s, u"orders"_s};

QJsonObject object(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

FaultRule parsed(const QByteArray &json)
{
    auto rule = FaultRule::fromJson(object(json));
    if (!rule)
        qFatal("%s", qPrintable(rule.error().message()));
    return *rule;
}

StreamMessage message(int n)
{
    return StreamMessage{u"TZ%1"_s.arg(n, 32, 10, QLatin1Char('0')), kOrders.serviceSid,
        kOrders.streamSid, QByteArray("{\"n\":") + QByteArray::number(n) + '}'};
}

QList<int> numbers(const QList<StreamMessage> &messages)
{
    QList<int> out;
    for (const StreamMessage &m : messages)
        out.append(m.data.mid(5, m.data.size() - 6).toInt());
    return out;
}

// Publishes 1..count through `rules` to one subscriber; what it received, in order.
QList<int> publishThrough(FaultRules &rules, int count)
{
    auto subscriber = std::make_shared<Subscription>(
        kOrders.serviceSid, kOrders.streamSid, 100'000, std::function<void()>());
    for (int n = 1; n <= count; ++n) {
        if (!rules.deliver(kOrders, message(n), {subscriber}))
            subscriber->deliver(message(n));
    }
    return numbers(subscriber->drain().messages);
}
} // namespace

class TestFaultRules final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void refusesBadRules_data();
    void refusesBadRules();
    void readsAndWritesEveryField();
    void dropOneLosesEverything();
    void seededDropLosesTheSameSubsetEveryTime();
    void reorderIsAPermutationNeverALoss();
    void aWindowThatDoesNotFillGoesOutAnyway();
    void delayHoldsDeliveriesBack();
    void removingARuleHandsOverWhatItHolds();
    void restErrorsStopAfterCount();
    void rulesMatchBySidUniqueNameOrAny_data();
    void rulesMatchBySidUniqueNameOrAny();
};

void TestFaultRules::refusesBadRules_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("named");
    QTest::newRow("nothing to do") << QByteArray(R"({"service":"default"})") << u"at least one"_s;
    QTest::newRow("drop over 1") << QByteArray(R"({"drop":1.5})") << u"drop"_s;
    QTest::newRow("drop not a number") << QByteArray(R"({"drop":"half"})") << u"drop"_s;
    QTest::newRow("negative delay") << QByteArray(R"({"delay_ms":-5})") << u"delay_ms"_s;
    QTest::newRow("fractional delay") << QByteArray(R"({"delay_ms":1.5})") << u"delay_ms"_s;
    QTest::newRow("window of one") << QByteArray(R"({"reorder_window":1})") << u"reorder_window"_s;
    QTest::newRow("unknown field") << QByteArray(R"({"drop":0.5,"dorp":1})") << u"dorp"_s;
    QTest::newRow("empty stream") << QByteArray(R"({"drop":0.5,"stream":""})") << u"stream"_s;
    QTest::newRow("status missing")
        << QByteArray(R"({"rest_error":{"code":54009}})") << u"rest_error.status"_s;
    QTest::newRow("status 200") << QByteArray(R"({"rest_error":{"status":200}})")
                                << u"rest_error.status"_s;
    QTest::newRow("bad scope") << QByteArray(R"({"rest_error":{"status":429,"on":"maps"}})")
                               << u"rest_error.on"_s;
    QTest::newRow("bad method") << QByteArray(R"({"rest_error":{"status":429,"method":"PUT"}})")
                                << u"rest_error.method"_s;
    QTest::newRow("count zero") << QByteArray(R"({"rest_error":{"status":429,"count":0}})")
                                << u"rest_error.count"_s;
    QTest::newRow("unknown rest field")
        << QByteArray(R"({"rest_error":{"status":429,"retry":1}})") << u"rest_error.retry"_s;
    QTest::newRow("disconnect not boolean")
        << QByteArray(R"({"disconnect":"yes"})") << u"disconnect"_s;
    QTest::newRow("negative seed") << QByteArray(R"({"drop":0.1,"seed":-1})") << u"seed"_s;
}

void TestFaultRules::refusesBadRules()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, named);
    const auto rule = FaultRule::fromJson(object(json));
    QVERIFY(!rule);
    QCOMPARE(rule.error().httpStatus(), 400);
    QCOMPARE(rule.error().code(), 20400);
    QVERIFY2(rule.error().message().contains(named), qPrintable(rule.error().message()));
}

void TestFaultRules::readsAndWritesEveryField()
{
    FaultRules rules;
    const FaultRule added = rules.add(parsed(R"({"service":"default","stream":"orders",
        "drop":0.25,"delay_ms":100,"jitter_ms":20,"reorder_window":4,"disconnect":true,"seed":7,
        "rest_error":{"status":503,"probability":0.5,"count":3,"method":"post","on":"streams"}})"),
        1'795'000'000'123);
    const QJsonObject json = added.toJson();
    QCOMPARE(json.value("id"_L1).toString(), u"fault-1"_s);
    QCOMPARE(json.value("service"_L1).toString(), u"default"_s);
    QCOMPARE(json.value("stream"_L1).toString(), u"orders"_s);
    QCOMPARE(json.value("drop"_L1).toDouble(), 0.25);
    QCOMPARE(json.value("delay_ms"_L1).toInt(), 100);
    QCOMPARE(json.value("jitter_ms"_L1).toInt(), 20);
    QCOMPARE(json.value("reorder_window"_L1).toInt(), 4);
    QCOMPARE(json.value("disconnect"_L1).toBool(), true);
    QCOMPARE(json.value("seed"_L1).toInt(), 7);
    QCOMPARE(json.value("created_at"_L1).toString(), u"2026-11-18T11:06:40.123Z"_s);
    const QJsonObject rest = json.value("rest_error"_L1).toObject();
    QCOMPARE(rest.value("status"_L1).toInt(), 503);
    QCOMPARE(rest.value("code"_L1).toInt(), 20503); // 20000 + status when not given
    QCOMPARE(rest.value("probability"_L1).toDouble(), 0.5);
    QCOMPARE(rest.value("count"_L1).toInt(), 3);
    QCOMPARE(rest.value("method"_L1).toString(), u"POST"_s);
    QCOMPARE(rest.value("on"_L1).toString(), u"streams"_s);
    QCOMPARE(json.value("acted"_L1).toObject().value("total"_L1).toInt(), 0);
    // Ids count up and are never reused.
    QVERIFY(rules.remove(u"fault-1"_s));
    QCOMPARE(rules.add(parsed(R"({"drop":1})"), 0).id, u"fault-2"_s);
}

void TestFaultRules::dropOneLosesEverything()
{
    FaultRules rules;
    rules.add(parsed(R"({"drop":1})"), 0);
    QVERIFY(publishThrough(rules, 50).isEmpty());
    QCOMPARE(rules.rules().first().acted.dropped, 50u);
}

void TestFaultRules::seededDropLosesTheSameSubsetEveryTime()
{
    QList<int> first;
    for (int run = 0; run < 3; ++run) {
        FaultRules rules;
        rules.add(parsed(R"({"drop":0.3,"seed":42})"), 0);
        const QList<int> received = publishThrough(rules, 200);
        if (run == 0)
            first = received;
        QCOMPARE(received, first);
        QCOMPARE(rules.rules().first().acted.dropped, quint64(200 - received.size()));
    }
    // A strict subset, in order, about 70 % of it.
    QVERIFY2(first.size() > 110 && first.size() < 170, qPrintable(QString::number(first.size())));
    QVERIFY(std::is_sorted(first.cbegin(), first.cend()));
    // Another seed, another subset.
    FaultRules other;
    other.add(parsed(R"({"drop":0.3,"seed":43})"), 0);
    QVERIFY(publishThrough(other, 200) != first);
}

void TestFaultRules::reorderIsAPermutationNeverALoss()
{
    FaultRules rules;
    rules.add(parsed(R"({"reorder_window":5,"seed":1})"), 0);
    QList<int> received = publishThrough(rules, 40); // eight full windows
    QCOMPARE(received.size(), 40);
    QVERIFY(!std::is_sorted(received.cbegin(), received.cend()));
    // Each window of five is a permutation of its own five.
    for (int w = 0; w < 8; ++w) {
        QList<int> window = received.mid(w * 5, 5);
        std::sort(window.begin(), window.end());
        QCOMPARE(window, QList<int>({w * 5 + 1, w * 5 + 2, w * 5 + 3, w * 5 + 4, w * 5 + 5}));
    }
    QCOMPARE(rules.rules().first().acted.reordered, 40u);
}

void TestFaultRules::aWindowThatDoesNotFillGoesOutAnyway()
{
    FaultRules rules;
    rules.add(parsed(R"({"reorder_window":10,"seed":3})"), 0);
    auto subscriber = std::make_shared<Subscription>(
        kOrders.serviceSid, kOrders.streamSid, 1000, std::function<void()>());
    for (int n = 1; n <= 3; ++n)
        QVERIFY(rules.deliver(kOrders, message(n), {subscriber}));
    QCOMPARE(subscriber->pending(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(subscriber->pending(), 3, 5000);
    QList<int> received = numbers(subscriber->drain().messages);
    std::sort(received.begin(), received.end());
    QCOMPARE(received, QList<int>({1, 2, 3}));
}

void TestFaultRules::delayHoldsDeliveriesBack()
{
    FaultRules rules;
    rules.add(parsed(R"({"delay_ms":300})"), 0);
    auto subscriber = std::make_shared<Subscription>(
        kOrders.serviceSid, kOrders.streamSid, 1000, std::function<void()>());
    QElapsedTimer elapsed;
    elapsed.start();
    for (int n = 1; n <= 5; ++n)
        QVERIFY(rules.deliver(kOrders, message(n), {subscriber}));
    QCOMPARE(subscriber->pending(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(subscriber->pending(), 5, 5000);
    QVERIFY2(elapsed.elapsed() >= 300, qPrintable(QString::number(elapsed.elapsed())));
    // Without jitter, the order is kept.
    QCOMPARE(numbers(subscriber->drain().messages), QList<int>({1, 2, 3, 4, 5}));
    QCOMPARE(rules.rules().first().acted.delayed, 5u);
}

void TestFaultRules::removingARuleHandsOverWhatItHolds()
{
    FaultRules rules;
    const QString id = rules.add(parsed(R"({"reorder_window":100})"), 0).id;
    auto subscriber = std::make_shared<Subscription>(
        kOrders.serviceSid, kOrders.streamSid, 1000, std::function<void()>());
    for (int n = 1; n <= 7; ++n)
        QVERIFY(rules.deliver(kOrders, message(n), {subscriber}));
    QCOMPARE(subscriber->pending(), 0);
    QVERIFY(rules.remove(id));
    QCOMPARE(subscriber->pending(), 7);
    QVERIFY(!rules.affectsDelivery());
    // Delayed deliveries are handed over by clear() the same way.
    rules.add(parsed(R"({"delay_ms":60000})"), 0);
    QVERIFY(rules.deliver(kOrders, message(8), {subscriber}));
    QCOMPARE(subscriber->pending(), 7);
    rules.clear();
    QCOMPARE(subscriber->pending(), 8);
}

void TestFaultRules::restErrorsStopAfterCount()
{
    FaultRules rules;
    rules.add(parsed(R"({"stream":"orders","rest_error":{"status":429,"code":54009,"count":2,
        "method":"POST","on":"messages"}})"),
        0);
    QVERIFY(rules.hasRestErrors());
    // Another method, another scope: not refused, not counted.
    QVERIFY(!rules.refuse("GET", FaultScope::Messages, kOrders));
    QVERIFY(!rules.refuse("POST", FaultScope::Streams, kOrders));
    for (int i = 0; i < 2; ++i) {
        const auto refusal = rules.refuse("POST", FaultScope::Messages, kOrders);
        QVERIFY(refusal);
        QCOMPARE(refusal->error.httpStatus(), 429);
        QCOMPARE(refusal->error.code(), 54009);
        QCOMPARE(refusal->ruleId, u"fault-1"_s);
        QVERIFY(refusal->error.message().contains(u"fault-1"_s));
    }
    QVERIFY(!rules.refuse("POST", FaultScope::Messages, kOrders));
    QCOMPARE(rules.rules().first().acted.restErrors, 2u);
}

void TestFaultRules::rulesMatchBySidUniqueNameOrAny_data()
{
    QTest::addColumn<QString>("service");
    QTest::addColumn<QString>("stream");
    QTest::addColumn<bool>("matches");
    QTest::newRow("any") << u"*"_s << u"*"_s << true;
    QTest::newRow("service by name") << u"default"_s << u"*"_s << true;
    QTest::newRow("service by SID") << kOrders.serviceSid << u"*"_s << true;
    QTest::newRow("stream by name") << u"*"_s << u"orders"_s << true;
    QTest::newRow("stream by SID") << u"default"_s << kOrders.streamSid << true;
    QTest::newRow("other service") << u"staging"_s << u"*"_s << false;
    QTest::newRow("other stream") << u"default"_s << u"invoices"_s << false;
}

void TestFaultRules::rulesMatchBySidUniqueNameOrAny()
{
    QFETCH(QString, service);
    QFETCH(QString, stream);
    QFETCH(bool, matches);
    FaultRule rule;
    rule.service = service;
    rule.stream = stream;
    QCOMPARE(rule.matches(kOrders), matches);
    // A request that names no stream matches only a rule for any stream.
    const FaultTarget serviceOnly{kOrders.serviceSid, kOrders.serviceName, {}, {}};
    QCOMPARE(rule.matches(serviceOnly), matches && stream == u"*");
}

QTEST_GUILESS_MAIN(TestFaultRules)
#include "tst_faultrules.moc"
