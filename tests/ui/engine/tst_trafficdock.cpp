// The traffic dock on the embedded engine: what the developer's own code sends over REST shows
// up, bounded and filtered; curl commands never carry the secret; Twilio's cloud says why there
// is nothing.

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "backend/remotebackend.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "host/enginehost.h"
#include "httpclient.h"
#include "ui/engine/trafficdock.h"
#include "ui/engine/trafficmodel.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using namespace streams::testing;
using namespace Qt::StringLiterals;

namespace {
QJsonObject entry(int id, const QString &path, int status)
{
    return QJsonObject{{u"id"_s, id}, {u"time"_s, u"2026-12-06T08:40:00.123Z"_s},
        {u"kind"_s, u"rest"_s}, {u"who"_s, u"AC00000000000000000000000000000001"_s},
        {u"method"_s, u"POST"_s}, {u"path"_s, path}, {u"status"_s, status},
        {u"code"_s, status >= 400 ? QJsonValue(54009) : QJsonValue()}, {u"duration_ms"_s, 0.25}};
}
} // namespace

class TestTrafficDock final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void modelIsBoundedAndSound();
    void curlLeavesTheSecretOut();
    void showsWhatTheDevelopersCodeSent();
    void filtersByTextStatusAndStream();
    void twiliosCloudSaysWhy();

private:
    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_backend;
};

void TestTrafficDock::initTestCase()
{
    auto backend = startEmbeddedEngine(m_dir.filePath(u"engine"_s));
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    m_backend = std::move(*backend);
}

void TestTrafficDock::cleanupTestCase()
{
    m_backend.reset();
}

void TestTrafficDock::modelIsBoundedAndSound()
{
    TrafficModel model(10);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QList<QJsonObject> batch;
    for (int i = 1; i <= 7; ++i)
        batch.append(entry(i, u"/v1/Services"_s, 200));
    model.append(batch);
    QCOMPARE(model.rowCount(), 7);
    model.append(batch);
    QCOMPARE(model.rowCount(), 10);
    // A batch larger than the capacity keeps its newest.
    QList<QJsonObject> flood;
    for (int i = 100; i < 130; ++i)
        flood.append(entry(i, u"/v1/Services"_s, 200));
    model.append(flood);
    QCOMPARE(model.rowCount(), 10);
    QCOMPARE(model.entry(0).value(u"id"_s).toInt(), 120);
    QCOMPARE(model.entry(9).value(u"id"_s).toInt(), 129);
    QCOMPARE(model.data(model.index(0, TrafficModel::Status)).toInt(), 200);
    QVERIFY(model.data(model.index(0, TrafficModel::Code)).isNull());
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestTrafficDock::curlLeavesTheSecretOut()
{
    QJsonObject publish = entry(1, u"/v1/Services/default/Streams/orders/Messages"_s, 201);
    publish.insert(u"body"_s, u"Data=%7B%22a%22%3A1%7D"_s);
    const QString curl = TrafficModel::curlCommand(publish, u"http://127.0.0.1:18080"_s);
    QCOMPARE(curl,
        u"curl -u \"AC00000000000000000000000000000001:$TWILIO_AUTH_TOKEN\" -X POST "
        "--data 'Data=%7B%22a%22%3A1%7D' "
        "'http://127.0.0.1:18080/v1/Services/default/Streams/orders/Messages'"_s);
    QJsonObject withKey = publish;
    withKey.insert(u"who"_s, u"SK00000000000000000000000000000001"_s);
    QVERIFY(TrafficModel::curlCommand(withKey, {}).contains(u"$TWILIO_API_SECRET"_s));
    QJsonObject live = publish;
    live.insert(u"kind"_s, u"live"_s);
    QVERIFY(TrafficModel::curlCommand(live, {}).isEmpty());
}

void TestTrafficDock::showsWhatTheDevelopersCodeSent()
{
    TrafficDock dock;
    QAbstractItemModelTester tester(
        dock.proxy(), QAbstractItemModelTester::FailureReportingMode::Fatal);
    dock.show();
    dock.setConnection(m_backend.get());
    QVERIFY(dock.note()->isHidden());
    // The developer's code, over REST, with the engine's credentials.
    const EngineCredentials &credentials = m_backend->host().credentials();
    const QByteArray authorization =
        basicAuthorization(credentials.accountSid, credentials.authToken);
    const quint16 port = m_backend->host().listening().port;
    QCOMPARE(httpExchange(
                 port, "POST", "/v1/Services/default/Streams", authorization, "UniqueName=traffic")
                 .status,
        201);
    QCOMPARE(
        httpExchange(port, "GET", "/v1/Services/default/Streams/missing", authorization).status,
        404);
    QTRY_VERIFY_WITH_TIMEOUT(dock.model()->rowCount() >= 2, 5000);
    const int rows = dock.model()->rowCount();
    const QJsonObject created = dock.model()->entry(rows - 2);
    QCOMPARE(created.value(u"path"_s).toString(), u"/v1/Services/default/Streams"_s);
    QCOMPARE(created.value(u"status"_s).toInt(), 201);
    QCOMPARE(created.value(u"who"_s).toString(), credentials.accountSid);

    dock.table()->setCurrentIndex(dock.proxy()->index(dock.proxy()->rowCount() - 2, 0));
    QVERIFY(dock.details()->toPlainText().contains(u"/v1/Services/default/Streams"_s));
    const QString curl = dock.selectedCurl();
    QVERIFY(curl.startsWith(u"curl -u \""_s + credentials.accountSid));
    QVERIFY(!curl.contains(credentials.authToken));
    QVERIFY(!dock.details()->toPlainText().contains(credentials.authToken));
}

void TestTrafficDock::filtersByTextStatusAndStream()
{
    TrafficDock dock;
    QAbstractItemModelTester tester(
        dock.proxy(), QAbstractItemModelTester::FailureReportingMode::Fatal);
    dock.model()->append({entry(1, u"/v1/Services/default/Streams/orders/Messages"_s, 201),
        entry(2, u"/v1/Services/default/Streams/orders/Messages"_s, 429),
        entry(3, u"/v1/Services/default/Streams/invoices"_s, 404),
        entry(4, u"/v1/Services"_s, 200)});
    QCOMPARE(dock.proxy()->rowCount(), 4);
    dock.statusFilter()->setCurrentIndex(dock.statusFilter()->findData(45));
    QCOMPARE(dock.proxy()->rowCount(), 2);
    dock.filterEdit()->setText(u"invoices"_s);
    QCOMPARE(dock.proxy()->rowCount(), 1);
    dock.filterEdit()->clear();
    dock.statusFilter()->setCurrentIndex(0);
    dock.setSelectedStream({u"TO00000000000000000000000000000009"_s, u"orders"_s});
    QCOMPARE(dock.proxy()->rowCount(), 4); // not followed until asked
    dock.followStream()->setChecked(true);
    QCOMPARE(dock.proxy()->rowCount(), 2);
    dock.followStream()->setChecked(false);
    QCOMPARE(dock.proxy()->rowCount(), 4);
}

void TestTrafficDock::twiliosCloudSaysWhy()
{
    RemoteBackend twilio(twilioCloudConnection());
    TrafficDock dock;
    dock.show();
    dock.setConnection(&twilio);
    QVERIFY(!dock.note()->isHidden());
    QVERIFY(dock.note()->text().contains(u"Twilio's cloud"_s));
    dock.poll(); // nothing is asked of it
    QCOMPARE(dock.model()->rowCount(), 0);
}

QTEST_MAIN(TestTrafficDock)
#include "tst_trafficdock.moc"
