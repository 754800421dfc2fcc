// The lazy connection tree against a real embedded engine, under QAbstractItemModelTester.

#include "awaitfuture.h"
#include "backend/localbackend.h"
#include "embeddedengine.h"
#include "engine/engine.h"
#include "host/enginehost.h"
#include "httpclient.h"
#include "ui/tree/connectionfilterproxy.h"
#include "ui/tree/connectiontreemodel.h"
#include "waits.h"

#include <QAbstractItemModelTester>
#include <QFutureWatcher>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using namespace streams::testing;
using Kind = ConnectionTreeModel::NodeKind;

class TestConnectionTreeModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void connectionPagesServicesLazily();
    void streamsPageWithALoadMoreRow();
    void refreshKeepsSurvivingRowsAndSelection();
    void streamDeletedThroughRestDisappears();
    void addedStreamAppearsOnceAfterPaging();
    void failedLoadOffersRetryAndDoesNotLoop();
    void filterMatchesNamesAndSids();
    void holdsUnderModelTesterAsAnEagerView();
    void streamCreatedInAnUnlistedServiceAppears();
    void faultRulesBadgeTheStreamsTheyTouch();

private:
    /// Who consumes the model decides how it is fetched: the paging tests need a lazy consumer
    /// (a view fetches a page when asked), while QAbstractItemModelTester fetches every page it
    /// can (an eager view). Each test makes the model it needs first.
    enum class Consumer {
        Lazy,
        EagerTester
    };
    void makeModel(Consumer consumer);
    QModelIndex serviceIndex(const QString &sid);
    void loadAll(const QModelIndex &parent);
    QStringList childSids(const QModelIndex &parent) const;
    QStringList badgedSids(const QModelIndex &parent) const;

    QTemporaryDir m_dir;
    std::unique_ptr<LocalBackend> m_backend;
    std::unique_ptr<ConnectionTreeModel> m_model;
    QString m_serviceSid;
    QStringList m_streamSids;
};

void TestConnectionTreeModel::init()
{
    QVERIFY(m_dir.isValid());
    auto backend = startEmbeddedEngine(
        m_dir.path() + QStringLiteral("/") + QString::fromLatin1(QTest::currentTestFunction()),
        kEnginePublishRate);
    QVERIFY2(backend, qPrintable(backend ? QString() : backend.error()));
    m_backend = std::move(*backend);
    ServiceFields fields;
    fields.friendlyName = QStringLiteral("tree");
    auto service = await(m_backend->createService(fields));
    QVERIFY(service);
    m_serviceSid = service->sid;
    m_streamSids.clear();
    for (int i = 0; i < 120; ++i) {
        auto stream = await(m_backend->createStream(
            m_serviceSid, {QStringLiteral("s%1").arg(i, 3, 10, QLatin1Char('0')), {}}));
        QVERIFY(stream);
        m_streamSids.append(stream->sid);
    }
}

void TestConnectionTreeModel::makeModel(Consumer consumer)
{
    m_model = std::make_unique<ConnectionTreeModel>();
    m_model->setPageSize(50);
    if (consumer == Consumer::EagerTester)
        new QAbstractItemModelTester(
            m_model.get(), QAbstractItemModelTester::FailureReportingMode::Fatal, m_model.get());
    m_model->addConnection(m_backend.get());
}

void TestConnectionTreeModel::cleanup()
{
    m_model.reset();
    m_backend.reset();
}

QModelIndex TestConnectionTreeModel::serviceIndex(const QString &sid)
{
    const QModelIndex connection = m_model->connectionIndex(m_backend.get());
    if (m_model->canFetchMore(connection))
        m_model->fetchMore(connection);
    if (!QTest::qWaitFor(
            [&] { return m_model->serviceIndex(m_backend.get(), sid).isValid(); }, 10000))
        qWarning("service %s did not appear in the tree", qPrintable(sid));
    return m_model->serviceIndex(m_backend.get(), sid);
}

void TestConnectionTreeModel::loadAll(const QModelIndex &parent)
{
    QPersistentModelIndex persistent(parent);
    for (int guard = 0; guard < 50; ++guard) {
        if (m_model->canFetchMore(persistent))
            m_model->fetchMore(persistent);
        QTRY_VERIFY(!persistent.data(ConnectionTreeModel::LoadingRole).toBool());
        if (!m_model->canFetchMore(persistent))
            return;
    }
}

QStringList TestConnectionTreeModel::childSids(const QModelIndex &parent) const
{
    QStringList sids;
    for (int row = 0; row < m_model->rowCount(parent); ++row) {
        const QModelIndex child = m_model->index(row, 0, parent);
        if (m_model->kind(child) == Kind::Stream || m_model->kind(child) == Kind::Service)
            sids.append(child.data(ConnectionTreeModel::SidRole).toString());
    }
    return sids;
}

void TestConnectionTreeModel::connectionPagesServicesLazily()
{
    makeModel(Consumer::Lazy);
    const QModelIndex connection = m_model->connectionIndex(m_backend.get());
    QVERIFY(connection.isValid());
    // Nothing is listed until asked (the model tester asks at once, as a view would on expand).
    QCOMPARE(m_model->rowCount(connection), 0);
    QVERIFY(m_model->hasChildren(connection));
    QVERIFY(m_model->canFetchMore(connection)
        || connection.data(ConnectionTreeModel::LoadingRole).toBool());
    const QModelIndex service = serviceIndex(m_serviceSid);
    QCOMPARE(m_model->kind(service), Kind::Service);
    QCOMPARE(service.data().toString(), QStringLiteral("tree"));
    // The default service is listed too, and both fit one page: no "load more" row.
    QCOMPARE(childSids(connection).size(), 2);
    QCOMPARE(m_model->rowCount(connection), 2);
    QVERIFY(!m_model->canFetchMore(connection));
}

void TestConnectionTreeModel::streamsPageWithALoadMoreRow()
{
    makeModel(Consumer::Lazy);
    const QPersistentModelIndex service = serviceIndex(m_serviceSid);
    m_model->fetchMore(service); // a no-op if the tester already asked
    QTRY_COMPARE(m_model->rowCount(service), 51); // one page and the "load more" row
    const QModelIndex last = m_model->index(50, 0, service);
    QCOMPARE(m_model->kind(last), Kind::LoadMore);
    QCOMPARE(last.data().toString(), QStringLiteral("Load more…"));
    QVERIFY(m_model->canFetchMore(service));

    // Activating the row (what the view does on Enter) loads the next page.
    m_model->loadMore(last);
    QTRY_COMPARE(m_model->rowCount(service), 101);
    m_model->fetchMore(service);
    QTRY_COMPARE(m_model->rowCount(service), 120); // the last page: no "load more" row
    QVERIFY(!m_model->canFetchMore(service));
    QCOMPARE(childSids(service), m_streamSids);
}

void TestConnectionTreeModel::refreshKeepsSurvivingRowsAndSelection()
{
    makeModel(Consumer::Lazy);
    const QPersistentModelIndex service = serviceIndex(m_serviceSid);
    m_model->fetchMore(service);
    QTRY_COMPARE(m_model->rowCount(service), 51);
    const QPersistentModelIndex selected = m_model->index(10, 0, service);
    const QString selectedSid = selected.data(ConnectionTreeModel::SidRole).toString();

    // Elsewhere: two streams among those shown are deleted, one is created.
    QVERIFY(await(m_backend->deleteStream(m_serviceSid, m_streamSids.at(0))));
    QVERIFY(await(m_backend->deleteStream(m_serviceSid, m_streamSids.at(1))));
    auto added = await(m_backend->createStream(m_serviceSid, {QStringLiteral("late"), {}}));
    QVERIFY(added);

    m_model->refresh(service);
    QTRY_VERIFY(!service.data(ConnectionTreeModel::LoadingRole).toBool());
    QVERIFY(selected.isValid());
    QCOMPARE(selected.data(ConnectionTreeModel::SidRole).toString(), selectedSid);
    const QStringList sids = childSids(service);
    QVERIFY(!sids.contains(m_streamSids.at(0)));
    QVERIFY(!sids.contains(m_streamSids.at(1)));
    QCOMPARE(QSet<QString>(sids.cbegin(), sids.cend()).size(), sids.size());
    QVERIFY(sids.size() >= 48);
}

void TestConnectionTreeModel::streamDeletedThroughRestDisappears()
{
    makeModel(Consumer::Lazy);
    const QPersistentModelIndex service = serviceIndex(m_serviceSid);
    m_model->fetchMore(service);
    QTRY_COMPARE(m_model->rowCount(service), 51);
    const QString victim = m_streamSids.at(5);
    QVERIFY(m_model->streamIndex(m_backend.get(), m_serviceSid, victim).isValid());

    // The user's own code deletes it over REST; the console must follow without a refresh.
    const QByteArray auth =
        basicAuthorization(m_backend->endpoint().accountSid, m_backend->authToken());
    const HttpResponse response = httpExchange(m_backend->host().listening().port, "DELETE",
        "/v1/Services/" + m_serviceSid.toLatin1() + "/Streams/" + victim.toLatin1(), auth);
    QCOMPARE(response.status, 204);
    QTRY_VERIFY(!m_model->streamIndex(m_backend.get(), m_serviceSid, victim).isValid());
    QCOMPARE(m_model->rowCount(service), 50);
}

void TestConnectionTreeModel::addedStreamAppearsOnceAfterPaging()
{
    makeModel(Consumer::Lazy);
    const QPersistentModelIndex service = serviceIndex(m_serviceSid);
    m_model->fetchMore(service);
    QTRY_COMPARE(m_model->rowCount(service), 51);
    auto created = await(m_backend->createStream(m_serviceSid, {QStringLiteral("mine"), {}}));
    QVERIFY(created);
    m_model->addStream(m_backend.get(), *created);
    QVERIFY(m_model->streamIndex(m_backend.get(), m_serviceSid, created->sid).isValid());
    loadAll(service);
    const QStringList sids = childSids(service);
    QCOMPARE(sids.count(created->sid), 1); // not listed twice when its page arrives
    QCOMPARE(sids.size(), 121);
}

void TestConnectionTreeModel::failedLoadOffersRetryAndDoesNotLoop()
{
    makeModel(Consumer::Lazy);
    const QPersistentModelIndex service = serviceIndex(m_serviceSid);
    // The service vanishes before its streams are listed: the page request fails.
    QVERIFY(await(m_backend->deleteService(m_serviceSid)));
    QSignalSpy failed(m_model.get(), &ConnectionTreeModel::loadFailed);
    m_model->fetchMore(service);
    QTRY_COMPARE(failed.size(), 1);
    QVERIFY(!service.data(ConnectionTreeModel::ErrorRole).toString().isEmpty());
    QVERIFY(!m_model->canFetchMore(service)); // views won't retry on their own
    const QModelIndex retry = m_model->index(m_model->rowCount(service) - 1, 0, service);
    QCOMPARE(m_model->kind(retry), Kind::LoadMore);
    QVERIFY(retry.data().toString().contains(QStringLiteral("retry")));
    QVERIFY(noSignalFor(failed, 200)); // no second attempt on its own
    QCOMPARE(failed.size(), 1);
    m_model->loadMore(retry); // an explicit retry does go out
    QTRY_COMPARE(failed.size(), 2);
}

void TestConnectionTreeModel::filterMatchesNamesAndSids()
{
    makeModel(Consumer::Lazy);
    const QPersistentModelIndex service = serviceIndex(m_serviceSid);
    m_model->fetchMore(service);
    QTRY_COMPARE(m_model->rowCount(service), 51);
    ConnectionFilterProxy proxy;
    new QAbstractItemModelTester(
        &proxy, QAbstractItemModelTester::FailureReportingMode::Fatal, &proxy);
    proxy.setSourceModel(m_model.get());

    proxy.setFilterFixedString(QStringLiteral("s04"));
    const QModelIndex proxyConnection = proxy.index(0, 0);
    QVERIFY(proxyConnection.isValid());
    QModelIndex proxyService;
    for (int row = 0; row < proxy.rowCount(proxyConnection); ++row) {
        if (proxy.index(row, 0, proxyConnection).data(ConnectionTreeModel::SidRole) == m_serviceSid)
            proxyService = proxy.index(row, 0, proxyConnection);
    }
    QVERIFY(proxyService.isValid());
    QCOMPARE(proxy.rowCount(proxyService), 10); // s040..s049, no "load more" row

    proxy.setFilterFixedString(m_streamSids.at(7).mid(10, 12)); // part of a SID
    QCOMPARE(proxy.rowCount(proxy.mapFromSource(service)), 1);
    proxy.setFilterFixedString(QString());
    QCOMPARE(proxy.rowCount(proxy.mapFromSource(service)), 51);
}

void TestConnectionTreeModel::holdsUnderModelTesterAsAnEagerView()
{
    // The tester checks the model's invariants after every change and fetches every page, in
    // batches that must never exceed a page.
    makeModel(Consumer::EagerTester);
    const QModelIndex connection = m_model->connectionIndex(m_backend.get());
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    const QPersistentModelIndex service = serviceIndex(m_serviceSid);
    QTRY_COMPARE(childSids(service).size(), 120);
    for (const QList<QVariant> &args : std::as_const(inserted))
        QVERIFY(args.at(2).toInt() - args.at(1).toInt() + 1 <= m_model->pageSize());
    QVERIFY(!m_model->canFetchMore(service));

    // Removal from outside, an added stream, a refresh and a failing load, all under the tester.
    const QByteArray auth =
        basicAuthorization(m_backend->endpoint().accountSid, m_backend->authToken());
    QCOMPARE(
        httpExchange(m_backend->host().listening().port, "DELETE",
            "/v1/Services/" + m_serviceSid.toLatin1() + "/Streams/" + m_streamSids.at(3).toLatin1(),
            auth)
            .status,
        204);
    QTRY_COMPARE(childSids(service).size(), 119);
    auto created = await(m_backend->createStream(m_serviceSid, {QStringLiteral("tested"), {}}));
    QVERIFY(created);
    m_model->addStream(m_backend.get(), *created);
    QCOMPARE(childSids(service).size(), 120);
    QVERIFY(await(m_backend->control("POST", QStringLiteral("/_engine/faults"), R"({"drop":1})")));
    QTRY_COMPARE(badgedSids(service).size(), 120);
    QVERIFY(await(m_backend->control("DELETE", QStringLiteral("/_engine/faults"))));
    QTRY_VERIFY(badgedSids(service).isEmpty());
    m_model->refresh(service);
    QTRY_VERIFY(!service.data(ConnectionTreeModel::LoadingRole).toBool());
    QCOMPARE(childSids(service).size(), 120);
    m_model->refresh(connection);
    QTRY_VERIFY(!connection.data(ConnectionTreeModel::LoadingRole).toBool());
    // Deleting the service the way the console does: its streams' removals arrive too, and
    // find nothing left to remove (the spy is connected after the model, so it counts a
    // removal once the model has handled it).
    QSignalSpy removals(m_backend.get(), &Backend::streamRemoved);
    QVERIFY(await(m_backend->deleteService(m_serviceSid)));
    m_model->removeService(m_backend.get(), m_serviceSid);
    QVERIFY(!m_model->serviceIndex(m_backend.get(), m_serviceSid).isValid());
    QTRY_COMPARE(removals.size(), 120);
}

void TestConnectionTreeModel::streamCreatedInAnUnlistedServiceAppears()
{
    makeModel(Consumer::Lazy);
    const QPersistentModelIndex service = serviceIndex(m_serviceSid);
    QCOMPARE(m_model->rowCount(service), 0);
    auto created = await(m_backend->createStream(m_serviceSid, {QStringLiteral("fresh"), {}}));
    QVERIFY(created);
    m_model->addStream(m_backend.get(), *created);
    // The first page is listed and the new stream (which is on a later page) comes with it.
    QTRY_VERIFY(m_model->streamIndex(m_backend.get(), m_serviceSid, created->sid).isValid());
    QCOMPARE(childSids(service).size(), 51);
    loadAll(service);
    QCOMPARE(childSids(service).count(created->sid), 1);
    QCOMPARE(childSids(service).size(), 121);
}

QStringList TestConnectionTreeModel::badgedSids(const QModelIndex &parent) const
{
    QStringList sids;
    for (int row = 0; row < m_model->rowCount(parent); ++row) {
        const QModelIndex child = m_model->index(row, 0, parent);
        if (!child.data(ConnectionTreeModel::BadgeRole).toString().isEmpty())
            sids.append(child.data(ConnectionTreeModel::SidRole).toString());
    }
    return sids;
}

void TestConnectionTreeModel::faultRulesBadgeTheStreamsTheyTouch()
{
    makeModel(Consumer::Lazy);
    const QPersistentModelIndex service = serviceIndex(m_serviceSid);
    m_model->fetchMore(service);
    QTRY_COMPARE(m_model->rowCount(service), 51);
    QVERIFY(badgedSids(service).isEmpty());
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);

    // One stream, named as the user's code names it; set over HTTP, as CI would.
    const QByteArray auth =
        basicAuthorization(m_backend->endpoint().accountSid, m_backend->authToken());
    const QByteArray rule = R"({"service":")" + m_serviceSid.toLatin1()
        + R"(","stream":"s007","drop":0.25,"delay_ms":100})";
    QCOMPARE(httpExchange(m_backend->host().listening().port, "POST", "/_engine/faults", auth, rule)
                 .status,
        201);
    QTRY_COMPARE(badgedSids(service), QStringList{m_streamSids.at(7)});
    QVERIFY(!changed.isEmpty());
    const QModelIndex marked =
        m_model->streamIndex(m_backend.get(), m_serviceSid, m_streamSids.at(7));
    QCOMPARE(marked.data(ConnectionTreeModel::BadgeRole).toString(), QStringLiteral("Fault"));
    QCOMPARE(marked.data(ConnectionTreeModel::FaultsRole).toStringList(),
        QStringList{QStringLiteral("fault-1: drop 25% · delay 100 ms")});
    QVERIFY(marked.data(Qt::ToolTipRole).toString().contains(QStringLiteral("drop 25%")));
    // A stream row is not a connection: no connection kind, so the delegate paints it amber.
    QVERIFY(!marked.data(ConnectionTreeModel::ConnectionKindRole).isValid());

    // Every stream, from this console.
    QVERIFY(await(
        m_backend->control("POST", QStringLiteral("/_engine/faults"), R"({"reorder_window":3})")));
    QTRY_COMPARE(badgedSids(service).size(), 50);
    QVERIFY(await(m_backend->control("DELETE", QStringLiteral("/_engine/faults"))));
    QTRY_VERIFY(badgedSids(service).isEmpty());
}

QTEST_MAIN(TestConnectionTreeModel)
#include "tst_connectiontreemodel.moc"
