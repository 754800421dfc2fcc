// The live view's filter: plain text and JSON Pointer expressions (RFC 6901 escapes, numbers,
// booleans, strings, "exists"), on a streaming source, with testers on model and proxy.

#include "ui/liveview/livemessagefilterproxy.h"
#include "ui/liveview/livemessagemodel.h"

#include <QAbstractItemModelTester>
#include <QTest>

using namespace streams;
using namespace Qt::StringLiterals;

namespace {

StreamMessage message(const QString &sid, const QByteArray &data)
{
    return {sid, u"IS0"_s, u"TO0"_s, data};
}

// A small, varied stream: every filter case below picks a known subset by SID.
QList<StreamMessage> sample()
{
    return {
        message(u"TZa"_s, R"({"user":{"id":42,"name":"Ada"},"ok":true,"tags":["red","blue"]})"),
        message(u"TZb"_s, R"({"user":{"id":7,"name":"Bob"},"ok":false,"tags":[]})"),
        message(u"TZc"_s, R"({"user":{"id":42.5,"name":"ada lovelace"},"n":null})"),
        message(u"TZd"_s, R"({"a/b":1,"m~n":"tilde","":"empty key","e=f":2})"),
        message(u"TZe"_s, R"({"id":"42","price":1.0,"nested":{"deep":{"x":[1,{"y":"z"}]}}})"),
        message(u"TZf"_s, R"({"text":"Hello WORLD","obj":{"k":[1,2]}})"),
    };
}

} // namespace

class TestLiveMessageFilterProxy final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void filters_data();
    void filters();
    void invalidPointerShowsEverything();
    void filterChangesWhileRowsStream();
    void valueEditsReuseParsedValues();
    void evictedRowsLeaveTheFilter();

private:
    QStringList shownSids() const;

    std::unique_ptr<LiveMessageModel> m_model;
    std::unique_ptr<LiveMessageFilterProxy> m_proxy;
};

void TestLiveMessageFilterProxy::init()
{
    m_model = std::make_unique<LiveMessageModel>(1000);
    m_model->setFlushInterval(60'000);
    m_proxy = std::make_unique<LiveMessageFilterProxy>();
    m_proxy->setSourceModel(m_model.get());
    new QAbstractItemModelTester(
        m_model.get(), QAbstractItemModelTester::FailureReportingMode::Fatal, m_model.get());
    new QAbstractItemModelTester(
        m_proxy.get(), QAbstractItemModelTester::FailureReportingMode::Fatal, m_proxy.get());
}

void TestLiveMessageFilterProxy::cleanup()
{
    m_proxy.reset();
    m_model.reset();
}

QStringList TestLiveMessageFilterProxy::shownSids() const
{
    QStringList sids;
    for (int row = 0; row < m_proxy->rowCount(); ++row)
        sids.append(m_proxy->index(row, LiveMessageModel::SidColumn).data().toString());
    return sids;
}

void TestLiveMessageFilterProxy::filters_data()
{
    QTest::addColumn<QString>("filter");
    QTest::addColumn<LiveMessageFilterProxy::Mode>("mode");
    QTest::addColumn<QStringList>("sids");
    using Mode = LiveMessageFilterProxy::Mode;
    const QStringList all{u"TZa"_s, u"TZb"_s, u"TZc"_s, u"TZd"_s, u"TZe"_s, u"TZf"_s};

    QTest::addRow("none") << QString() << Mode::None << all;
    QTest::addRow("blank") << u"   "_s << Mode::None << all;
    QTest::addRow("text, any case") << u"ADA"_s << Mode::Text << QStringList{u"TZa"_s, u"TZc"_s};
    QTest::addRow("text in compact json")
        << u"\"ok\":false"_s << Mode::Text << QStringList{u"TZb"_s};
    QTest::addRow("text matches sid") << u"tzf"_s << Mode::Text << QStringList{u"TZf"_s};
    QTest::addRow("text no match") << u"nothing like this"_s << Mode::Text << QStringList();
    QTest::addRow("exists nested")
        << u"/user/name"_s << Mode::PointerExists << QStringList{u"TZa"_s, u"TZb"_s, u"TZc"_s};
    QTest::addRow("exists null value") << u"/n"_s << Mode::PointerExists << QStringList{u"TZc"_s};
    QTest::addRow("exists array index")
        << u"/tags/1"_s << Mode::PointerExists << QStringList{u"TZa"_s};
    QTest::addRow("leading zero index") << u"/tags/01"_s << Mode::PointerExists << QStringList();
    QTest::addRow("dash index") << u"/tags/-"_s << Mode::PointerExists << QStringList();
    QTest::addRow("integer") << u"/user/id=42"_s << Mode::PointerEquals << QStringList{u"TZa"_s};
    QTest::addRow("decimal") << u"/user/id=42.5"_s << Mode::PointerEquals << QStringList{u"TZc"_s};
    QTest::addRow("number compared numerically")
        << u"/price=1"_s << Mode::PointerEquals << QStringList{u"TZe"_s};
    QTest::addRow("number spelled 1.0")
        << u"/price=1.0"_s << Mode::PointerEquals << QStringList{u"TZe"_s};
    QTest::addRow("string that looks like a number")
        << u"/id=42"_s << Mode::PointerEquals << QStringList{u"TZe"_s};
    QTest::addRow("true") << u"/ok=true"_s << Mode::PointerEquals << QStringList{u"TZa"_s};
    QTest::addRow("false") << u"/ok=false"_s << Mode::PointerEquals << QStringList{u"TZb"_s};
    QTest::addRow("null") << u"/n=null"_s << Mode::PointerEquals << QStringList{u"TZc"_s};
    QTest::addRow("string exact") << u"/user/name=Ada"_s << Mode::PointerEquals
                                  << QStringList{u"TZa"_s};
    QTest::addRow("string is case sensitive")
        << u"/user/name=ada"_s << Mode::PointerEquals << QStringList();
    QTest::addRow("string with spaces")
        << u"/user/name=ada lovelace"_s << Mode::PointerEquals << QStringList{u"TZc"_s};
    QTest::addRow("empty value") << u"/=empty key"_s << Mode::PointerEquals
                                 << QStringList{u"TZd"_s};
    QTest::addRow("~1 escape") << u"/a~1b=1"_s << Mode::PointerEquals << QStringList{u"TZd"_s};
    QTest::addRow("~0 escape") << u"/m~0n=tilde"_s << Mode::PointerEquals << QStringList{u"TZd"_s};
    QTest::addRow("unescaped slash is a path")
        << u"/a/b=1"_s << Mode::PointerEquals << QStringList();
    QTest::addRow("deep array object")
        << u"/nested/deep/x/1/y=z"_s << Mode::PointerEquals << QStringList{u"TZe"_s};
    QTest::addRow("array element")
        << u"/tags/0=red"_s << Mode::PointerEquals << QStringList{u"TZa"_s};
    QTest::addRow("object as compact json")
        << u"/obj={\"k\":[1,2]}"_s << Mode::PointerEquals << QStringList{u"TZf"_s};
    QTest::addRow("array as compact json")
        << u"/tags=[]"_s << Mode::PointerEquals << QStringList{u"TZb"_s};
    QTest::addRow("first = splits") << u"/e=f=2"_s << Mode::PointerEquals << QStringList();
    QTest::addRow("value missing key") << u"/nope=1"_s << Mode::PointerEquals << QStringList();
    QTest::addRow("through a scalar") << u"/ok/x"_s << Mode::PointerExists << QStringList();
}

void TestLiveMessageFilterProxy::filters()
{
    QFETCH(QString, filter);
    QFETCH(LiveMessageFilterProxy::Mode, mode);
    QFETCH(QStringList, sids);
    m_model->appendMessages(sample());
    m_model->flush();
    m_proxy->setFilterText(filter);
    QCOMPARE(m_proxy->mode(), mode);
    QCOMPARE(shownSids(), sids);

    // The same filter applied to rows that arrive afterwards gives the same answer.
    m_model->clear();
    m_model->appendMessages(sample());
    m_model->flush();
    QCOMPARE(shownSids(), sids);
}

void TestLiveMessageFilterProxy::invalidPointerShowsEverything()
{
    m_model->appendMessages(sample());
    m_model->flush();
    m_proxy->setFilterText(u"/user/id=42"_s);
    QCOMPARE(m_proxy->rowCount(), 1);
    m_proxy->setFilterText(u"/user~2"_s);
    QCOMPARE(m_proxy->mode(), LiveMessageFilterProxy::Mode::Invalid);
    QVERIFY(m_proxy->errorString().contains(u"~"));
    QCOMPARE(m_proxy->rowCount(), 6);
}

void TestLiveMessageFilterProxy::filterChangesWhileRowsStream()
{
    // Ids cycle 0..9, so each filter's expected count is known exactly.
    auto batch = [](int first, int count) {
        QList<StreamMessage> list;
        for (int n = first; n < first + count; ++n) {
            list.append(message(u"TZ%1"_s.arg(n, 6, 10, QChar(u'0')),
                u"{\"id\":%1,\"even\":%2}"_s.arg(n % 10)
                    .arg(n % 2 == 0 ? u"true"_s : u"false"_s)
                    .toUtf8()));
        }
        return list;
    };
    int next = 0;
    for (const QString &filter :
        {u"/id=3"_s, u"/even=true"_s, u"TZ0001"_s, QString(), u"/id"_s, u"/id=9"_s}) {
        m_model->appendMessages(batch(next, 150));
        next += 150;
        m_proxy->setFilterText(filter); // between arrival and flush
        m_model->flush();
        m_model->appendMessages(batch(next, 250));
        next += 250;
        m_model->flush();

        // Capacity 1,000: the model keeps messages [next - 1000, next).
        const int first = std::max(0, next - 1000);
        int expected = 0;
        for (int n = first; n < next; ++n) {
            const bool match = filter == u"/id=3" ? n % 10 == 3
                : filter == u"/even=true"         ? n % 2 == 0
                : filter == u"TZ0001" ? u"TZ%1"_s.arg(n, 6, 10, QChar(u'0')).contains(filter)
                : filter == u"/id=9"  ? n % 10 == 9
                                      : true;
            expected += match ? 1 : 0;
        }
        QCOMPARE(m_model->rowCount(), next - first);
        QCOMPARE(m_proxy->rowCount(), expected);
        for (int row = 0; row < m_proxy->rowCount(); ++row) {
            const QModelIndex source = m_proxy->mapToSource(m_proxy->index(row, 0));
            QVERIFY(source.isValid());
        }
    }
}

void TestLiveMessageFilterProxy::valueEditsReuseParsedValues()
{
    QList<StreamMessage> list;
    for (int n = 0; n < 500; ++n)
        list.append(message(u"TZ%1"_s.arg(n), u"{\"k\":%1}"_s.arg(n % 7).toUtf8()));
    m_model->appendMessages(list);
    m_model->flush();

    // Typing "/k=3" character by character: the pointer is parsed once per row at most.
    for (const QString &text : {u"/k"_s, u"/k="_s, u"/k=3"_s})
        m_proxy->setFilterText(text);
    QCOMPARE(m_proxy->parseCount(), 500u);
    QCOMPARE(m_proxy->rowCount(), 500 / 7 + (500 % 7 > 3 ? 1 : 0));

    // New rows are parsed once each; old rows are not revisited by inserts.
    QList<StreamMessage> more;
    for (int n = 500; n < 600; ++n)
        more.append(message(u"TZ%1"_s.arg(n), u"{\"k\":%1}"_s.arg(n % 7).toUtf8()));
    m_model->appendMessages(more);
    m_model->flush();
    QCOMPARE(m_proxy->parseCount(), 600u);

    // A different pointer starts a new cache.
    m_proxy->setFilterText(u"/j"_s);
    QCOMPARE(m_proxy->rowCount(), 0);
    QCOMPARE(m_proxy->parseCount(), 1200u);
}

void TestLiveMessageFilterProxy::evictedRowsLeaveTheFilter()
{
    m_proxy->setFilterText(u"/keep=true"_s);
    for (int round = 0; round < 10; ++round) {
        QList<StreamMessage> list;
        for (int n = 0; n < 400; ++n) {
            list.append(message(u"TZ%1-%2"_s.arg(round).arg(n),
                n % 4 == 0 ? QByteArray(R"({"keep":true})") : QByteArray(R"({"keep":false})")));
        }
        m_model->appendMessages(list);
        m_model->flush();
        QCOMPARE(m_model->rowCount(), std::min(1000, 400 * (round + 1)));
        QCOMPARE(m_proxy->rowCount(), m_model->rowCount() / 4);
    }
    QCOMPARE(m_proxy->index(0, LiveMessageModel::SidColumn).data().toString(), u"TZ7-200"_s);
    // The cache does not grow without bound with the stream.
    QVERIFY2(m_proxy->cachedValueCount() <= 2 * 1000 + 1024 + 400,
        qPrintable(QString::number(m_proxy->cachedValueCount())));
}

QTEST_MAIN(TestLiveMessageFilterProxy)
#include "tst_livemessagefilterproxy.moc"
