#include "api/sid.h"
#include "engine/streamstore.h"

#include <QDeadlineTimer>
#include <QFileInfo>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <memory>
#include <sqlite3.h>

using namespace streams;
using namespace Qt::StringLiterals;

namespace {
const QString kAccount = QStringLiteral("AC0123456789abcdef0123456789abcdef");
constexpr qint64 kNow = 1'795'000'000;

Service makeService(const QString &uniqueName = QString())
{
    Service service;
    service.sid = sid::generate(SidKind::Service);
    service.uniqueName = uniqueName;
    service.accountSid = kAccount;
    service.friendlyName = QStringLiteral("Service %1").arg(service.sid.right(4));
    service.dateCreated = service.dateUpdated = kNow;
    return service;
}

Stream makeStream(const QString &serviceSid, const QString &uniqueName = QString(),
    std::optional<qint64> dateExpires = std::nullopt)
{
    Stream stream;
    stream.sid = sid::generate(SidKind::Stream);
    stream.uniqueName = uniqueName;
    stream.accountSid = kAccount;
    stream.serviceSid = serviceSid;
    stream.createdBy = QStringLiteral("system");
    stream.dateCreated = stream.dateUpdated = kNow;
    stream.dateExpires = dateExpires;
    return stream;
}

QStringList sidsOf(const QList<Stream> &streams)
{
    QStringList sids;
    for (const Stream &stream : streams)
        sids.append(stream.sid);
    return sids;
}

PageRequest pageRequest(int pageSize, const QString &token = QString(), int page = 0)
{
    PageRequest request;
    request.pageSize = pageSize;
    request.pageToken = token;
    request.page = page;
    return request;
}
} // namespace

class TestStreamStore final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void openCreatesTheFile();
    void openFailsOnAnUnusableFile();
    void insertAndFindStream();
    void findStreamMissing();
    void findStreamIsScopedToItsService();
    void duplicateUniqueName();
    void streamsWithoutUniqueNames();
    void expiredStreamsAreHidden();
    void updateStreamExpiry();
    void deleteStream();
    void services();
    void deleteServiceCascades();
    void deleteExpiredAndNextExpiry();
    void paging_data();
    void paging();
    void pageOffsetWithoutToken_data();
    void pageOffsetWithoutToken();
    void pagingUnderConcurrentChange_data();
    void pagingUnderConcurrentChange();
    void previousPageTokens();
    void previousPageAfterItsRowsWereDeleted();
    void previousPageWhenAllEarlierRowsWereDeleted();
    void emptyPageAfterTheRestWasDeleted();
    void invalidPageToken_data();
    void invalidPageToken();
    void servicePaging();
    void survivesReopen();
    void batchedCreatesAreStoredWhenReported();
    void settledBatchesAreReportedWithoutTheEventLoop();
    void batchedDuplicatesAreRefusedAlone();
    void otherWritesSettleTheBatchesFirst();
    void aFailedBatchLosesEveryRow();

private:
    std::unique_ptr<StreamStore> openStore();
    /// Keeps every batch report, checking that it comes on the test's thread.
    void recordBatchReports();
    QString insertStreams(int count, QStringList *sids);

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_path;
    std::unique_ptr<StreamStore> m_store;
    Service m_service;
    QList<StreamStore::SettledBatch> m_reports;
};

std::unique_ptr<StreamStore> TestStreamStore::openStore()
{
    auto store = StreamStore::open(m_path);
    if (!store) {
        qWarning() << "open failed:" << store.error();
        return nullptr;
    }
    return std::move(*store);
}

void TestStreamStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_path = m_dir->filePath(QStringLiteral("streams.sqlite"));
    m_store = openStore();
    QVERIFY(m_store);
    m_service = makeService(QStringLiteral("default"));
    QVERIFY(m_store->insertService(m_service));
}

void TestStreamStore::recordBatchReports()
{
    m_reports.clear();
    m_store->setBatchSettledHandler([this](const StreamStore::SettledBatch &settled) {
        QCOMPARE(QThread::currentThread(), thread());
        m_reports.append(settled);
    });
}

void TestStreamStore::cleanup()
{
    if (m_store)
        QCOMPARE(m_store->integrityCheck(), QStringLiteral("ok"));
    m_store.reset();
    m_dir.reset();
}

// Inserts `count` streams into m_service in order and appends their SIDs.
QString TestStreamStore::insertStreams(int count, QStringList *sids)
{
    for (int i = 0; i < count; ++i) {
        const Stream stream = makeStream(m_service.sid);
        if (auto inserted = m_store->insertStream(stream); !inserted)
            return inserted.error().message();
        sids->append(stream.sid);
    }
    return QString();
}

void TestStreamStore::openCreatesTheFile()
{
    QVERIFY(QFileInfo::exists(m_path));
    QCOMPARE(m_store->integrityCheck(), QStringLiteral("ok"));
    QCOMPARE(m_store->streamCount().value(), qint64(0));
    QCOMPARE(m_store->nextExpiry().value(), std::optional<qint64>());
}

void TestStreamStore::openFailsOnAnUnusableFile()
{
    // A directory where the file should be: a clear error, not a crash.
    const QString path = m_dir->filePath(QStringLiteral("a-directory"));
    QVERIFY(QDir().mkdir(path));
    auto store = StreamStore::open(path);
    QVERIFY(!store);
    QVERIFY2(store.error().contains(path), qPrintable(store.error()));
}

void TestStreamStore::insertAndFindStream()
{
    const Stream stream = makeStream(m_service.sid, QStringLiteral("orders"), kNow + 60);
    QVERIFY(m_store->insertStream(stream));

    const auto bySid = m_store->findStream(m_service.sid, stream.sid, kNow);
    QVERIFY(bySid);
    QVERIFY(bySid->has_value());
    QCOMPARE(**bySid, stream);

    const auto byName = m_store->findStream(m_service.sid, QStringLiteral("orders"), kNow);
    QVERIFY(byName);
    QVERIFY(byName->has_value());
    QCOMPARE(**byName, stream);

    // SIDs are matched as stored; an uppercase-hex form names no stream.
    const QString upper = stream.sid.first(2) + stream.sid.sliced(2).toUpper();
    const auto byUpper = m_store->findStream(m_service.sid, upper, kNow);
    QVERIFY(byUpper);
    QVERIFY(!byUpper->has_value());
    QCOMPARE(m_store->streamCount().value(), qint64(1));
}

void TestStreamStore::findStreamMissing()
{
    const auto missingSid =
        m_store->findStream(m_service.sid, sid::generate(SidKind::Stream), kNow);
    QVERIFY(missingSid);
    QVERIFY(!missingSid->has_value());
    const auto missingName = m_store->findStream(m_service.sid, QStringLiteral("nope"), kNow);
    QVERIFY(missingName);
    QVERIFY(!missingName->has_value());
}

void TestStreamStore::findStreamIsScopedToItsService()
{
    const Service other = makeService();
    QVERIFY(m_store->insertService(other));
    const Stream stream = makeStream(m_service.sid, QStringLiteral("orders"));
    QVERIFY(m_store->insertStream(stream));

    QVERIFY(!m_store->findStream(other.sid, stream.sid, kNow)->has_value());
    QVERIFY(!m_store->findStream(other.sid, QStringLiteral("orders"), kNow)->has_value());
}

void TestStreamStore::duplicateUniqueName()
{
    QVERIFY(m_store->insertStream(makeStream(m_service.sid, QStringLiteral("orders"))));

    const auto duplicate =
        m_store->insertStream(makeStream(m_service.sid, QStringLiteral("orders")));
    QVERIFY(!duplicate);
    QCOMPARE(duplicate.error().code(), 54301);
    QCOMPARE(duplicate.error().httpStatus(), 409);
    QVERIFY2(duplicate.error().message().contains(QStringLiteral("orders")),
        qPrintable(duplicate.error().message()));

    // Names are case-sensitive, and another service has its own namespace.
    QVERIFY(m_store->insertStream(makeStream(m_service.sid, QStringLiteral("Orders"))));
    const Service other = makeService();
    QVERIFY(m_store->insertService(other));
    const Stream elsewhere = makeStream(other.sid, QStringLiteral("orders"));
    QVERIFY(m_store->insertStream(elsewhere));
    QCOMPARE(m_store->findStream(other.sid, QStringLiteral("orders"), kNow)->value(), elsewhere);
    QCOMPARE(m_store->streamCount().value(), qint64(3));
}

void TestStreamStore::streamsWithoutUniqueNames()
{
    // NULL unique names never collide.
    QStringList sids;
    QCOMPARE(insertStreams(3, &sids), QString());
    QCOMPARE(m_store->streamCount().value(), qint64(3));
    const Stream found = m_store->findStream(m_service.sid, sids[1], kNow)->value();
    QVERIFY(found.uniqueName.isNull());
}

void TestStreamStore::expiredStreamsAreHidden()
{
    const Stream stream = makeStream(m_service.sid, QStringLiteral("short"), kNow + 10);
    QVERIFY(m_store->insertStream(stream));

    QVERIFY(m_store->findStream(m_service.sid, stream.sid, kNow + 9)->has_value());
    QVERIFY(!m_store->findStream(m_service.sid, stream.sid, kNow + 10)->has_value());
    QVERIFY(!m_store->findStream(m_service.sid, QStringLiteral("short"), kNow + 10)->has_value());
    QCOMPARE(m_store->listStreams(m_service.sid, pageRequest(50), kNow + 9)->items.size(), 1);
    QCOMPARE(m_store->listStreams(m_service.sid, pageRequest(50), kNow + 10)->items.size(), 0);
    // Hidden, not yet deleted: the sweeper does that.
    QCOMPARE(m_store->streamCount().value(), qint64(1));
}

void TestStreamStore::updateStreamExpiry()
{
    const Stream stream = makeStream(m_service.sid, QString(), kNow + 10);
    QVERIFY(m_store->insertStream(stream));

    QVERIFY(m_store->updateStreamExpiry(stream.sid, kNow + 100, kNow + 5));
    Stream found = m_store->findStream(m_service.sid, stream.sid, kNow + 50)->value();
    QCOMPARE(found.dateExpires, std::optional<qint64>(kNow + 100));
    QCOMPARE(found.dateUpdated, kNow + 5);
    QCOMPARE(found.dateCreated, kNow);
    QCOMPARE(m_store->nextExpiry().value(), std::optional<qint64>(kNow + 100));

    QVERIFY(m_store->updateStreamExpiry(stream.sid, std::nullopt, kNow + 6));
    found = m_store->findStream(m_service.sid, stream.sid, kNow + 1'000'000)->value();
    QCOMPARE(found.dateExpires, std::nullopt);
    QCOMPARE(m_store->nextExpiry().value(), std::optional<qint64>());
}

void TestStreamStore::deleteStream()
{
    const Stream stream = makeStream(m_service.sid, QStringLiteral("gone"));
    QVERIFY(m_store->insertStream(stream));
    QCOMPARE(m_store->deleteStream(stream.sid).value(), true);
    QCOMPARE(m_store->deleteStream(stream.sid).value(), false);
    QVERIFY(!m_store->findStream(m_service.sid, stream.sid, kNow)->has_value());
    // The name is free again.
    QVERIFY(m_store->insertStream(makeStream(m_service.sid, QStringLiteral("gone"))));
}

void TestStreamStore::services()
{
    const auto bySid = m_store->findService(m_service.sid);
    QVERIFY(bySid && bySid->has_value());
    QCOMPARE(**bySid, m_service);
    const auto byName = m_store->findService(QStringLiteral("default"));
    QVERIFY(byName && byName->has_value());
    QCOMPARE(**byName, m_service);
    QVERIFY(!m_store->findService(QStringLiteral("nothing"))->has_value());
    QVERIFY(!m_store->findService(sid::generate(SidKind::Service))->has_value());

    Service updated = m_service;
    updated.friendlyName = QStringLiteral("Renamed");
    updated.webhookUrl = QStringLiteral("https://example.com/hook");
    updated.aclEnabled = true;
    updated.reachabilityDebouncingEnabled = true;
    updated.reachabilityDebouncingWindowMs = 30'000;
    updated.webhooksFromRestEnabled = true;
    updated.reachabilityWebhooksEnabled = true;
    updated.dateUpdated = kNow + 1;
    QVERIFY(m_store->updateService(updated));
    QCOMPARE(m_store->findService(m_service.sid)->value(), updated);

    // Clearing a text field stores NULL, not an empty string.
    updated.webhookUrl = QString();
    QVERIFY(m_store->updateService(updated));
    QVERIFY(m_store->findService(m_service.sid)->value().webhookUrl.isNull());
}

void TestStreamStore::deleteServiceCascades()
{
    const Service other = makeService();
    QVERIFY(m_store->insertService(other));
    QStringList sids;
    QCOMPARE(insertStreams(3, &sids), QString());
    const Stream survivor = makeStream(other.sid);
    QVERIFY(m_store->insertStream(survivor));

    const auto removed = m_store->deleteService(m_service.sid);
    QVERIFY(removed);
    QStringList removedSids;
    for (const auto &r : *removed) {
        QCOMPARE(r.serviceSid, m_service.sid);
        removedSids.append(r.streamSid);
    }
    removedSids.sort();
    sids.sort();
    QCOMPARE(removedSids, sids);
    QVERIFY(!m_store->findService(m_service.sid)->has_value());
    QCOMPARE(m_store->streamCount().value(), qint64(1));
    QVERIFY(m_store->findStream(other.sid, survivor.sid, kNow)->has_value());

    const auto again = m_store->deleteService(m_service.sid);
    QVERIFY(again);
    QVERIFY(again->isEmpty());
}

void TestStreamStore::deleteExpiredAndNextExpiry()
{
    const Stream a = makeStream(m_service.sid, QString(), kNow + 30);
    const Stream b = makeStream(m_service.sid, QString(), kNow + 10);
    const Stream c = makeStream(m_service.sid, QString(), kNow + 10);
    const Stream noExpiry = makeStream(m_service.sid);
    for (const Stream &s : {a, b, c, noExpiry})
        QVERIFY(m_store->insertStream(s));
    QCOMPARE(m_store->nextExpiry().value(), std::optional<qint64>(kNow + 10));

    QVERIFY(m_store->deleteExpired(kNow + 9)->isEmpty());
    const auto removed = m_store->deleteExpired(kNow + 10);
    QVERIFY(removed);
    QStringList removedSids;
    for (const auto &r : *removed)
        removedSids.append(r.streamSid);
    removedSids.sort();
    QStringList expected{b.sid, c.sid};
    expected.sort();
    QCOMPARE(removedSids, expected);
    QCOMPARE(m_store->nextExpiry().value(), std::optional<qint64>(kNow + 30));
    QCOMPARE(m_store->deleteExpired(kNow + 1000)->size(), 1);
    QCOMPARE(m_store->nextExpiry().value(), std::optional<qint64>());
    QCOMPARE(m_store->streamCount().value(), qint64(1));
}

void TestStreamStore::paging_data()
{
    QTest::addColumn<int>("total");
    QTest::addColumn<int>("pageSize");

    QTest::addRow("empty list") << 0 << 50;
    QTest::addRow("size 1, 1 stream") << 1 << 1;
    QTest::addRow("size 1, 3 streams") << 3 << 1;
    QTest::addRow("size 2, 5 streams") << 5 << 2;
    QTest::addRow("size 50, 50 streams: one full page") << 50 << 50;
    QTest::addRow("size 50, 51 streams") << 51 << 50;
    QTest::addRow("size 100, 100 streams") << 100 << 100;
    QTest::addRow("size 100, 101 streams") << 101 << 100;
    QTest::addRow("size 100, 250 streams") << 250 << 100;
    QTest::addRow("size 7, 3 streams") << 3 << 7;
}

void TestStreamStore::paging()
{
    QFETCH(int, total);
    QFETCH(int, pageSize);

    QStringList sids;
    QCOMPARE(insertStreams(total, &sids), QString());
    // Another service's streams never leak into this list.
    const Service other = makeService();
    QVERIFY(m_store->insertService(other));
    QVERIFY(m_store->insertStream(makeStream(other.sid)));

    const int expectedPages = total == 0 ? 1 : (total + pageSize - 1) / pageSize;
    QStringList seen;
    QString token;
    for (int pageNumber = 0; pageNumber < expectedPages; ++pageNumber) {
        const auto page =
            m_store->listStreams(m_service.sid, pageRequest(pageSize, token, pageNumber), kNow);
        QVERIFY(page);
        QCOMPARE(page->pageSize, pageSize);
        QCOMPARE(page->page, pageNumber);
        const QStringList expected = sids.mid(pageNumber * pageSize, pageSize);
        QCOMPARE(sidsOf(page->items), expected);
        QCOMPARE(page->previousPageToken.has_value(), pageNumber > 0);
        const bool last = pageNumber == expectedPages - 1;
        QCOMPARE(page->nextPageToken.has_value(), !last);
        if (!last) {
            QCOMPARE(page->nextPageToken->size(), 18);
            QVERIFY(page->nextPageToken->startsWith(u"PA"));
            token = *page->nextPageToken;
        }
        if (pageNumber > 0)
            QVERIFY(page->previousPageToken->startsWith(u"PB"));
        seen += sidsOf(page->items);
    }
    QCOMPARE(seen, sids);
}

void TestStreamStore::pageOffsetWithoutToken_data()
{
    QTest::addColumn<int>("page");
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("count");
    QTest::addColumn<bool>("hasNext");
    QTest::addColumn<bool>("hasPrevious");

    // 10 streams, 3 per page.
    QTest::addRow("page 0") << 0 << 0 << 3 << true << false;
    QTest::addRow("page 1") << 1 << 3 << 3 << true << true;
    QTest::addRow("page 3 (partial)") << 3 << 9 << 1 << false << true;
    QTest::addRow("page 4 (past the end)") << 4 << 0 << 0 << false << false;
}

void TestStreamStore::pageOffsetWithoutToken()
{
    QFETCH(int, page);
    QFETCH(int, first);
    QFETCH(int, count);
    QFETCH(bool, hasNext);
    QFETCH(bool, hasPrevious);

    QStringList sids;
    QCOMPARE(insertStreams(10, &sids), QString());
    const auto result = m_store->listStreams(m_service.sid, pageRequest(3, QString(), page), kNow);
    QVERIFY(result);
    QCOMPARE(result->page, page);
    QCOMPARE(sidsOf(result->items), sids.mid(first, count));
    QCOMPARE(result->nextPageToken.has_value(), hasNext);
    QCOMPARE(result->previousPageToken.has_value(), hasPrevious);
    if (hasNext) {
        const auto next = m_store->listStreams(
            m_service.sid, pageRequest(3, *result->nextPageToken, page + 1), kNow);
        QCOMPARE(sidsOf(next->items), sids.mid(first + count, 3));
    }
    if (hasPrevious) {
        const auto previous = m_store->listStreams(
            m_service.sid, pageRequest(3, *result->previousPageToken, page - 1), kNow);
        QCOMPARE(sidsOf(previous->items), sids.mid(first - 3, 3));
    }
}

void TestStreamStore::pagingUnderConcurrentChange_data()
{
    QTest::addColumn<int>("initial");
    QTest::addColumn<int>("pageSize");
    // Entry k: what happens between fetching page k and page k+1, space-separated:
    //   del-cursor   delete the last row of the page just fetched (the next token's anchor)
    //   del-first    delete the first row of the page just fetched
    //   del-page     delete every row of the page just fetched
    //   del-next     delete the first row the next page would start with
    //   del-rest     delete every row not yet returned
    //   del-seen     delete every row returned so far
    //   create:N     create N new streams
    QTest::addColumn<QStringList>("script");

    QTest::addRow("no change") << 10 << 3 << QStringList();
    QTest::addRow("cursor row deleted after page 0") << 10 << 3 << QStringList{u"del-cursor"_s};
    QTest::addRow("cursor row deleted after every page")
        << 10 << 3 << QStringList{u"del-cursor"_s, u"del-cursor"_s, u"del-cursor"_s};
    QTest::addRow("cursor row deleted, page size 1")
        << 5 << 1
        << QStringList{u"del-cursor"_s, u"del-cursor"_s, u"del-cursor"_s, u"del-cursor"_s};
    QTest::addRow("first row of the page deleted") << 9 << 3 << QStringList{u"del-first"_s};
    QTest::addRow("whole page deleted after each fetch")
        << 10 << 3 << QStringList{u"del-page"_s, u"del-page"_s, u"del-page"_s};
    QTest::addRow("next page's first row deleted")
        << 10 << 3 << QStringList{u"del-next"_s, u"del-next"_s};
    QTest::addRow("created between pages") << 4 << 2 << QStringList{u"create:5"_s};
    QTest::addRow("cursor deleted and streams created")
        << 10 << 3
        << QStringList{u"del-cursor create:2"_s, u"create:1 del-cursor"_s,
               u"del-cursor del-next create:3"_s};
    QTest::addRow("everything seen deleted, then creates")
        << 6 << 2 << QStringList{u"del-seen create:2"_s, u"del-seen create:2"_s};
    // The cursor row is the newest row: new rows must still sort after it (no reused sequence).
    QTest::addRow("cursor and everything after it deleted, then a create")
        << 3 << 2 << QStringList{u"del-rest del-cursor create:1"_s};
    QTest::addRow("rest deleted: next page is empty") << 6 << 2 << QStringList{u"del-rest"_s};
    QTest::addRow("page size 100 under churn")
        << 250 << 100
        << QStringList{u"del-cursor del-next create:50"_s, u"del-page del-cursor create:20"_s};
}

void TestStreamStore::pagingUnderConcurrentChange()
{
    QFETCH(int, initial);
    QFETCH(int, pageSize);
    QFETCH(QStringList, script);

    QStringList order; // every stream ever created, in creation order
    QCOMPARE(insertStreams(initial, &order), QString());
    QSet<QString> live(order.cbegin(), order.cend());
    QSet<QString> deleted;
    QHash<QString, int> deletedAtStep; // step k = between page k and page k+1
    QHash<QString, int> returnedOnPage;
    QStringList returned;

    const auto remove = [&](const QString &sid, int step) {
        if (!live.contains(sid))
            return true;
        if (!m_store->deleteStream(sid).value_or(false))
            return false;
        live.remove(sid);
        deleted.insert(sid);
        deletedAtStep.insert(sid, step);
        return true;
    };

    QString token;
    QStringList currentPage;
    for (int pageNumber = 0;; ++pageNumber) {
        QVERIFY2(pageNumber < 1000, "paging does not terminate");
        const auto page =
            m_store->listStreams(m_service.sid, pageRequest(pageSize, token, pageNumber), kNow);
        QVERIFY2(page, qPrintable(page ? QString() : page.error().message()));
        currentPage = sidsOf(page->items);
        for (const QString &sid : std::as_const(currentPage)) {
            QVERIFY2(!returnedOnPage.contains(sid), "a stream was returned twice");
            QVERIFY2(live.contains(sid), "a deleted stream was returned");
            returnedOnPage.insert(sid, pageNumber);
        }
        returned += currentPage;
        if (!page->nextPageToken) {
            QVERIFY(currentPage.size() <= pageSize);
            break;
        }
        // A page that announces a next page is full.
        QCOMPARE(currentPage.size(), pageSize);
        token = *page->nextPageToken;

        if (pageNumber >= script.size())
            continue;
        const QStringList ops = script[pageNumber].split(u' ', Qt::SkipEmptyParts);
        for (const QString &op : ops) {
            const auto unseen = [&] {
                QStringList out;
                for (const QString &sid : std::as_const(order)) {
                    if (live.contains(sid) && !returnedOnPage.contains(sid))
                        out.append(sid);
                }
                return out;
            };
            if (op == u"del-cursor") {
                QVERIFY(remove(currentPage.last(), pageNumber));
            } else if (op == u"del-first") {
                QVERIFY(remove(currentPage.first(), pageNumber));
            } else if (op == u"del-page") {
                for (const QString &sid : std::as_const(currentPage))
                    QVERIFY(remove(sid, pageNumber));
            } else if (op == u"del-next") {
                const QStringList next = unseen();
                if (!next.isEmpty())
                    QVERIFY(remove(next.first(), pageNumber));
            } else if (op == u"del-rest") {
                for (const QString &sid : unseen())
                    QVERIFY(remove(sid, pageNumber));
            } else if (op == u"del-seen") {
                for (const QString &sid : std::as_const(returned))
                    QVERIFY(remove(sid, pageNumber));
            } else if (op.startsWith(u"create:")) {
                QStringList created;
                QCOMPARE(insertStreams(op.sliced(7).toInt(), &created), QString());
                order += created;
                for (const QString &sid : std::as_const(created))
                    live.insert(sid);
            } else {
                QFAIL(qPrintable(QStringLiteral("unknown op ") + op));
            }
        }
    }

    // Every stream that was never deleted (present from its creation to the end) appears
    // exactly once; so do streams created mid-listing, as they sort after every cursor.
    for (const QString &sid : std::as_const(order)) {
        if (!deleted.contains(sid))
            QVERIFY2(returned.count(sid) == 1, qPrintable(sid + QStringLiteral(" missing")));
    }
    // Deleted streams appear at most once, and only on a page fetched before the deletion.
    for (const QString &sid : std::as_const(deleted)) {
        QVERIFY(returned.count(sid) <= 1);
        if (returnedOnPage.contains(sid))
            QVERIFY(returnedOnPage.value(sid) <= deletedAtStep.value(sid));
    }
    // Pages follow creation order.
    QStringList expectedOrder;
    for (const QString &sid : std::as_const(order)) {
        if (returnedOnPage.contains(sid))
            expectedOrder.append(sid);
    }
    QCOMPARE(returned, expectedOrder);
}

void TestStreamStore::previousPageTokens()
{
    QStringList sids;
    QCOMPARE(insertStreams(10, &sids), QString());

    const auto first = m_store->listStreams(m_service.sid, pageRequest(3), kNow);
    QVERIFY(!first->previousPageToken);
    const auto second =
        m_store->listStreams(m_service.sid, pageRequest(3, *first->nextPageToken, 1), kNow);
    const auto third =
        m_store->listStreams(m_service.sid, pageRequest(3, *second->nextPageToken, 2), kNow);
    QCOMPARE(sidsOf(third->items), sids.mid(6, 3));

    // Backwards from the third page: the second, then the first, which has nothing before it.
    const auto back =
        m_store->listStreams(m_service.sid, pageRequest(3, *third->previousPageToken, 1), kNow);
    QCOMPARE(sidsOf(back->items), sids.mid(3, 3));
    QVERIFY(back->previousPageToken);
    QVERIFY(back->nextPageToken);
    const auto backAgain =
        m_store->listStreams(m_service.sid, pageRequest(3, *back->previousPageToken, 0), kNow);
    QCOMPARE(sidsOf(backAgain->items), sids.mid(0, 3));
    QVERIFY(!backAgain->previousPageToken);
    QVERIFY(backAgain->nextPageToken);

    // And forwards again from there.
    const auto forward =
        m_store->listStreams(m_service.sid, pageRequest(3, *backAgain->nextPageToken, 1), kNow);
    QCOMPARE(sidsOf(forward->items), sids.mid(3, 3));
    const auto last =
        m_store->listStreams(m_service.sid, pageRequest(3, *third->nextPageToken, 3), kNow);
    QCOMPARE(sidsOf(last->items), sids.mid(9, 1));
    QVERIFY(!last->nextPageToken);
    QVERIFY(last->previousPageToken);
}

void TestStreamStore::previousPageAfterItsRowsWereDeleted()
{
    QStringList sids;
    QCOMPARE(insertStreams(10, &sids), QString());
    const auto first = m_store->listStreams(m_service.sid, pageRequest(3), kNow);
    const auto second =
        m_store->listStreams(m_service.sid, pageRequest(3, *first->nextPageToken, 1), kNow);
    QCOMPARE(sidsOf(second->items), sids.mid(3, 3));

    // The previous page loses its last two rows: going back shows what is left before the
    // second page, and leads forward to the second page again.
    QVERIFY(m_store->deleteStream(sids[2]).value());
    QVERIFY(m_store->deleteStream(sids[1]).value());
    const auto back =
        m_store->listStreams(m_service.sid, pageRequest(3, *second->previousPageToken, 0), kNow);
    QCOMPARE(sidsOf(back->items), QStringList{sids[0]});
    QVERIFY(!back->previousPageToken);
    QVERIFY(back->nextPageToken);
    const auto forward =
        m_store->listStreams(m_service.sid, pageRequest(3, *back->nextPageToken, 1), kNow);
    QCOMPARE(sidsOf(forward->items), sids.mid(3, 3));
}

void TestStreamStore::previousPageWhenAllEarlierRowsWereDeleted()
{
    QStringList sids;
    QCOMPARE(insertStreams(10, &sids), QString());
    const auto first = m_store->listStreams(m_service.sid, pageRequest(3), kNow);
    const auto second =
        m_store->listStreams(m_service.sid, pageRequest(3, *first->nextPageToken, 1), kNow);
    for (int i = 0; i < 3; ++i)
        QVERIFY(m_store->deleteStream(sids[i]).value());

    // Nothing is left before the second page: the previous page is empty, and it must still
    // lead forward, or a client that stepped back could never reach the rest of the list.
    const auto back =
        m_store->listStreams(m_service.sid, pageRequest(3, *second->previousPageToken, 0), kNow);
    QVERIFY(back);
    QVERIFY(back->items.isEmpty());
    QVERIFY(!back->previousPageToken);
    QVERIFY(back->nextPageToken);
    const auto forward =
        m_store->listStreams(m_service.sid, pageRequest(3, *back->nextPageToken, 1), kNow);
    QCOMPARE(sidsOf(forward->items), sids.mid(3, 3));
}

void TestStreamStore::emptyPageAfterTheRestWasDeleted()
{
    QStringList sids;
    QCOMPARE(insertStreams(6, &sids), QString());
    const auto first = m_store->listStreams(m_service.sid, pageRequest(3), kNow);
    QVERIFY(first->nextPageToken);
    for (int i = 3; i < 6; ++i)
        QVERIFY(m_store->deleteStream(sids[i]).value());

    const auto second =
        m_store->listStreams(m_service.sid, pageRequest(3, *first->nextPageToken, 1), kNow);
    QVERIFY(second);
    QVERIFY(second->items.isEmpty());
    QVERIFY(!second->nextPageToken);
    QVERIFY(second->previousPageToken);
    const auto back =
        m_store->listStreams(m_service.sid, pageRequest(3, *second->previousPageToken, 0), kNow);
    QCOMPARE(sidsOf(back->items), sids.mid(0, 3));
}

void TestStreamStore::invalidPageToken_data()
{
    QTest::addColumn<QString>("token");

    QTest::addRow("garbage") << QStringLiteral("garbage");
    QTest::addRow("too short") << QStringLiteral("PA123");
    QTest::addRow("too long") << QStringLiteral("PA00000000000000001");
    QTest::addRow("unknown direction") << QStringLiteral("PC0000000000000001");
    QTest::addRow("lowercase direction") << QStringLiteral("pa0000000000000001");
    QTest::addRow("non-hex digit") << QStringLiteral("PA000000000000000g");
    QTest::addRow("negative") << QStringLiteral("PA-000000000000001");
    QTest::addRow("plus sign") << QStringLiteral("PA+000000000000001");
    QTest::addRow("embedded space") << QStringLiteral("PA 000000000000001");
    QTest::addRow("trailing space") << QStringLiteral("PA000000000000001 ");
    QTest::addRow("0x prefix") << QStringLiteral("PA0x00000000000001");
    QTest::addRow("overflows 63 bits") << QStringLiteral("PAffffffffffffffff");
    QTest::addRow("a SID") << QStringLiteral("TO0123456789abcdef0123456789abcdef");
}

void TestStreamStore::invalidPageToken()
{
    QFETCH(QString, token);
    QStringList sids;
    QCOMPARE(insertStreams(3, &sids), QString());

    const auto streams = m_store->listStreams(m_service.sid, pageRequest(2, token, 1), kNow);
    QVERIFY(!streams);
    QCOMPARE(streams.error().code(), 21481);
    QCOMPARE(streams.error().httpStatus(), 400);
    const auto services = m_store->listServices(pageRequest(2, token, 1));
    QVERIFY(!services);
    QCOMPARE(services.error().code(), 21481);
}

void TestStreamStore::servicePaging()
{
    QStringList sids{m_service.sid};
    for (int i = 0; i < 4; ++i) {
        const Service service = makeService();
        QVERIFY(m_store->insertService(service));
        sids.append(service.sid);
    }
    const auto first = m_store->listServices(pageRequest(2));
    QVERIFY(first);
    QStringList seen;
    for (const Service &s : first->items)
        seen.append(s.sid);
    QVERIFY(first->nextPageToken);
    const auto second = m_store->listServices(pageRequest(2, *first->nextPageToken, 1));
    for (const Service &s : second->items)
        seen.append(s.sid);
    const auto third = m_store->listServices(pageRequest(2, *second->nextPageToken, 2));
    for (const Service &s : third->items)
        seen.append(s.sid);
    QVERIFY(!third->nextPageToken);
    QCOMPARE(seen, sids);
    QCOMPARE(first->items.first(), m_service);
}

void TestStreamStore::survivesReopen()
{
    const Stream named = makeStream(m_service.sid, QStringLiteral("kept"), kNow + 3600);
    const Stream plain = makeStream(m_service.sid);
    QVERIFY(m_store->insertStream(named));
    QVERIFY(m_store->insertStream(plain));
    QCOMPARE(m_store->integrityCheck(), QStringLiteral("ok"));
    m_store.reset();

    m_store = openStore();
    QVERIFY(m_store);
    QCOMPARE(m_store->integrityCheck(), QStringLiteral("ok"));
    QCOMPARE(m_store->findService(QStringLiteral("default"))->value(), m_service);
    QCOMPARE(m_store->findStream(m_service.sid, QStringLiteral("kept"), kNow)->value(), named);
    QCOMPARE(m_store->findStream(m_service.sid, plain.sid, kNow)->value(), plain);
    QCOMPARE(sidsOf(m_store->listStreams(m_service.sid, pageRequest(50), kNow)->items),
        (QStringList{named.sid, plain.sid}));
    QCOMPARE(m_store->nextExpiry().value(), std::optional<qint64>(kNow + 3600));
    // Constraints survive too.
    QCOMPARE(
        m_store->insertStream(makeStream(m_service.sid, QStringLiteral("kept"))).error().code(),
        54301);
    // A row created after reopening sorts after the old ones.
    const Stream later = makeStream(m_service.sid);
    QVERIFY(m_store->insertStream(later));
    QCOMPARE(sidsOf(m_store->listStreams(m_service.sid, pageRequest(50), kNow)->items),
        (QStringList{named.sid, plain.sid, later.sid}));
}

void TestStreamStore::batchedCreatesAreStoredWhenReported()
{
    recordBatchReports();
    const Stream first = makeStream(m_service.sid);
    const Stream second = makeStream(m_service.sid, QStringLiteral("orders"));
    const quint64 batch = m_store->insertStreamInBatch(first);
    QCOMPARE(m_store->insertStreamInBatch(second), batch);
    QVERIFY(!m_store->findStream(m_service.sid, first.sid, kNow)->has_value());

    m_store->submitBatch();
    const Stream third = makeStream(m_service.sid);
    QCOMPARE(m_store->insertStreamInBatch(third), batch + 1);

    // The report comes through this thread's event loop, after the commit: the writer's rows
    // are then visible to this thread's connection too.
    QTRY_COMPARE(m_reports.size(), 1);
    QCOMPARE(m_reports[0].batch, batch);
    QCOMPARE(sidsOf(m_reports[0].stored), (QStringList{first.sid, second.sid}));
    QVERIFY(m_reports[0].refused.isEmpty());
    QCOMPARE(m_store->findStream(m_service.sid, first.sid, kNow)->value(), first);
    QCOMPARE(m_store->findStream(m_service.sid, QStringLiteral("orders"), kNow)->value(), second);
    QVERIFY(!m_store->findStream(m_service.sid, third.sid, kNow)->has_value()); // not submitted

    // settleBatch() waits, and the report has run when it returns.
    m_store->settleBatch();
    QCOMPARE(m_reports.size(), 2);
    QCOMPARE(m_reports[1].batch, batch + 1);
    QCOMPARE(sidsOf(m_reports[1].stored), QStringList{third.sid});
    QCOMPARE(m_store->streamCount().value(), qint64(3));
}

void TestStreamStore::settledBatchesAreReportedWithoutTheEventLoop()
{
    recordBatchReports();
    const Stream stream = makeStream(m_service.sid);
    const quint64 batch = m_store->insertStreamInBatch(stream);
    // Nothing has settled yet: nothing to report, and asking does not wait.
    m_store->deliverSettledBatches();
    QVERIFY(m_reports.isEmpty());
    m_store->submitBatch();

    // The server asks between two requests of one pass, with no event processed meanwhile.
    QDeadlineTimer deadline(5000);
    while (m_reports.isEmpty() && !deadline.hasExpired()) {
        QThread::usleep(200);
        m_store->deliverSettledBatches();
    }
    QCOMPARE(m_reports.size(), 1);
    QCOMPARE(m_reports[0].batch, batch);
    QCOMPARE(sidsOf(m_reports[0].stored), QStringList{stream.sid});
    QCOMPARE(m_store->findStream(m_service.sid, stream.sid, kNow)->value(), stream);

    // The queued report the writer posted as well finds nothing left: no batch twice.
    QCoreApplication::sendPostedEvents();
    QCoreApplication::processEvents();
    QCOMPARE(m_reports.size(), 1);

    // And the next batch is reported through the event loop as before.
    const Stream next = makeStream(m_service.sid);
    QCOMPARE(m_store->insertStreamInBatch(next), batch + 1);
    m_store->submitBatch();
    QTRY_COMPARE(m_reports.size(), 2);
    QCOMPARE(m_reports[1].batch, batch + 1);
}

void TestStreamStore::batchedDuplicatesAreRefusedAlone()
{
    recordBatchReports();
    QVERIFY(m_store->insertStream(makeStream(m_service.sid, QStringLiteral("orders"))));
    const Stream takenBefore = makeStream(m_service.sid, QStringLiteral("orders"));
    const Stream billing = makeStream(m_service.sid, QStringLiteral("billing"));
    const Stream takenInBatch = makeStream(m_service.sid, QStringLiteral("billing"));
    const Stream unnamed = makeStream(m_service.sid);
    for (const Stream &stream : {takenBefore, billing, takenInBatch, unnamed})
        m_store->insertStreamInBatch(stream);
    m_store->settleBatch();

    QCOMPARE(m_reports.size(), 1);
    QCOMPARE(sidsOf(m_reports[0].stored), (QStringList{billing.sid, unnamed.sid}));
    QCOMPARE(m_reports[0].refused.size(), 2);
    for (const Stream &refused : {takenBefore, takenInBatch}) {
        const ApiError error = m_reports[0].refused.value(refused.sid);
        QCOMPARE(error.code(), 54301);
        QCOMPARE(error.httpStatus(), 409);
        QVERIFY2(error.message().contains(refused.uniqueName), qPrintable(error.message()));
    }
    QCOMPARE(m_store->streamCount().value(), qint64(3));
}

void TestStreamStore::otherWritesSettleTheBatchesFirst()
{
    recordBatchReports();
    const Stream stream = makeStream(m_service.sid, QStringLiteral("orders"));
    m_store->insertStreamInBatch(stream);
    // Neither submitted nor committed: the delete settles the batch, then finds the row.
    QCOMPARE(m_store->deleteStream(stream.sid).value(), true);
    QCOMPARE(m_reports.size(), 1);
    QCOMPARE(sidsOf(m_reports[0].stored), QStringList{stream.sid});

    // A synchronous create after a batched one with the same name is the duplicate.
    m_store->insertStreamInBatch(makeStream(m_service.sid, QStringLiteral("billing")));
    const auto late = m_store->insertStream(makeStream(m_service.sid, QStringLiteral("billing")));
    QVERIFY(!late);
    QCOMPARE(late.error().code(), 54301);
    QCOMPARE(m_reports.size(), 2);
    QCOMPARE(m_reports[1].stored.size(), 1);
}

void TestStreamStore::aFailedBatchLosesEveryRow()
{
    recordBatchReports();
    // A statement failing for a reason other than a unique name, as a full disk or an I/O
    // error would: through a trigger, added by a connection of the test's own.
    sqlite3 *db = nullptr;
    QCOMPARE(sqlite3_open(QFile::encodeName(m_path).constData(), &db), SQLITE_OK);
    QCOMPARE(sqlite3_exec(db,
                 "CREATE TRIGGER poison BEFORE INSERT ON streams WHEN NEW.unique_name = 'poison' "
                 "BEGIN SELECT RAISE(ABORT, 'poisoned by the test'); END",
                 nullptr, nullptr, nullptr),
        SQLITE_OK);
    const QList<Stream> batch = {makeStream(m_service.sid),
        makeStream(m_service.sid, QStringLiteral("poison")), makeStream(m_service.sid)};
    for (const Stream &stream : batch)
        m_store->insertStreamInBatch(stream);
    m_store->settleBatch();

    QCOMPARE(m_reports.size(), 1);
    QVERIFY(m_reports[0].stored.isEmpty());
    QCOMPARE(m_reports[0].refused.size(), 3);
    for (const Stream &stream : batch) {
        const ApiError error = m_reports[0].refused.value(stream.sid);
        QCOMPARE(error.httpStatus(), 500);
        QVERIFY2(error.message().contains(QStringLiteral("poisoned by the test")),
            qPrintable(error.message()));
    }
    QCOMPARE(m_store->streamCount().value(), qint64(0)); // the rows before it went too

    // The writer goes on with the next batch.
    QCOMPARE(sqlite3_exec(db, "DROP TRIGGER poison", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    const Stream after = makeStream(m_service.sid);
    m_store->insertStreamInBatch(after);
    m_store->settleBatch();
    QCOMPARE(m_reports.size(), 2);
    QCOMPARE(sidsOf(m_reports[1].stored), QStringList{after.sid});
    QCOMPARE(m_store->streamCount().value(), qint64(1));
}

QTEST_GUILESS_MAIN(TestStreamStore)
#include "tst_streamstore.moc"
