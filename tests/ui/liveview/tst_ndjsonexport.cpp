// NDJSON export: line format, payloads kept byte for byte, a worker thread, and errors.

#include "ui/liveview/ndjsonexport.h"

#include <QDir>
#include <QFile>
#include <QFutureWatcher>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace streams;
using namespace Qt::StringLiterals;

class TestNdjsonExport final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void formatLine_data();
    void formatLine();
    void writesOnAWorkerThread();
    void cancelLeavesTheFileAsItWas();
    void reportsErrors();
};

void TestNdjsonExport::formatLine_data()
{
    QTest::addColumn<QString>("sid");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QByteArray>("line");

    // 2024-05-01T12:00:00.123Z
    QTest::addRow("object kept verbatim")
        << u"TZ1"_s << R"({"b":1,"a":2.50})"_ba
        << R"({"sid":"TZ1","received":"2024-05-01T12:00:00.123Z","data":{"b":1,"a":2.50}})"
           "\n"_ba;
    QTest::addRow("unicode")
        << u"TZ2"_s << R"({"name":"José ✓"})"_ba
        << R"({"sid":"TZ2","received":"2024-05-01T12:00:00.123Z","data":{"name":"José ✓"}})"
           "\n"_ba;
    QTest::addRow("not json becomes a string")
        << u"TZ3"_s << "not \"json\"\n"_ba
        << R"({"sid":"TZ3","received":"2024-05-01T12:00:00.123Z","data":"not \"json\"\n"})"
           "\n"_ba;
    QTest::addRow("array becomes a string")
        << u"TZ4"_s << "[1]"_ba
        << R"({"sid":"TZ4","received":"2024-05-01T12:00:00.123Z","data":"[1]"})"
           "\n"_ba;
}

void TestNdjsonExport::formatLine()
{
    QFETCH(QString, sid);
    QFETCH(QByteArray, data);
    QFETCH(QByteArray, line);
    const qint64 received = 1'714'564'800'123; // 2024-05-01T12:00:00.123Z
    const QByteArray formatted = NdjsonExport::formatLine({sid, received, data});
    QCOMPARE(formatted, line);
    QJsonParseError error;
    QVERIFY(QJsonDocument::fromJson(formatted, &error).isObject());
}

void TestNdjsonExport::writesOnAWorkerThread()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"out.ndjson"_s);
    QList<NdjsonExport::Record> records;
    for (int n = 0; n < 5000; ++n)
        records.append({u"TZ%1"_s.arg(n), 1'700'000'000'000 + n, u"{\"n\":%1}"_s.arg(n).toUtf8()});

    QFuture<NdjsonExport::Result> future = NdjsonExport::write(path, records);
    QFutureWatcher<NdjsonExport::Result> watcher;
    QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
    watcher.setFuture(future);
    QVERIFY(future.isFinished() || finished.wait(10'000));
    const NdjsonExport::Result result = future.result();
    QVERIFY2(result.has_value(), qPrintable(result ? QString() : result.error()));
    QCOMPARE(*result, 5000);
    // Progress in records, up to all of them.
    QCOMPARE(future.progressMinimum(), 0);
    QCOMPARE(future.progressMaximum(), 5000);
    QCOMPARE(future.progressValue(), 5000);

    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().split('\n');
    QCOMPARE(lines.size(), 5001); // the last line ends with '\n' too
    QVERIFY(lines.last().isEmpty());
    for (int n = 0; n < 5000; ++n) {
        const QJsonObject object = QJsonDocument::fromJson(lines.at(n)).object();
        QCOMPARE(object.value(u"sid"_s).toString(), u"TZ%1"_s.arg(n));
        QCOMPARE(object.value(u"data"_s).toObject().value(u"n"_s).toInt(), n);
    }
}

void TestNdjsonExport::cancelLeavesTheFileAsItWas()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"out.ndjson"_s);
    {
        QFile previous(path);
        QVERIFY(previous.open(QIODevice::WriteOnly));
        previous.write("previous export\n");
    }
    QList<NdjsonExport::Record> records;
    for (int n = 0; n < 300'000; ++n)
        records.append({u"TZ%1"_s.arg(n), 1'700'000'000'000 + n, u"{\"n\":%1}"_s.arg(n).toUtf8()});

    QFuture<NdjsonExport::Result> future = NdjsonExport::write(path, std::move(records));
    // At once: the worker checks between every NdjsonExport::kProgressStep records and once more
    // before committing, so it cannot get to the end first.
    future.cancel();
    QFutureWatcher<NdjsonExport::Result> watcher;
    QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
    watcher.setFuture(future);
    QVERIFY(future.isFinished() || finished.wait(10'000));
    QVERIFY(future.isCanceled());
    QCOMPARE(future.resultCount(), 0);

    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), "previous export\n"_ba);
    // QSaveFile's temporary file went with it.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{u"out.ndjson"_s});
}

void TestNdjsonExport::reportsErrors()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"no/such/dir/out.ndjson"_s);
    QFuture<NdjsonExport::Result> future = NdjsonExport::write(path, {{u"TZ1"_s, 0, "{}"}});
    future.waitForFinished(); // the test's own thread may block; the GUI never does
    QVERIFY(!future.result().has_value());
    QVERIFY(!future.result().error().isEmpty());
    QVERIFY(!QFile::exists(path));
}

QTEST_GUILESS_MAIN(TestNdjsonExport)
#include "tst_ndjsonexport.moc"
