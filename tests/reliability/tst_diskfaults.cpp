// Disk trouble under a real streams-engine process, with real file systems:
//   - full: the data directory on a small tmpfs, filled up by another file;
//   - read-only: the data directory on an ext4 image (loop device, errors=remount-ro) that the
//     kernel switches to read-only, as it does after a disk error (/sys/fs/ext4/DEV/
//     trigger_fs_error: the same code path as a real error);
//   - read-only from the start: a read-only bind mount.
// Writes must fail with 503/20503 in Twilio's JSON naming the problem, reads keep working,
// nothing is half-written, and the engine takes writes again once space returns, no restart.
// Mounting needs root (CI runs as root); without it the tests skip and say why.

#include "engine/streamstore.h"
#include "engineprocess.h"
#include "httpclient.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <fcntl.h>
#include <unistd.h>

using namespace streams;
using namespace streams::testing;

namespace {
struct Run
{
    int exitCode = -1;
    QByteArray output;
};

Run run(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(program, arguments);
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished();
        return {-1, "timed out"};
    }
    return {
        process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1, process.readAll()};
}

/// A mount point that is unmounted (lazily, so a stuck engine cannot keep it) when it goes.
class Mount final
{
public:
    Mount() = default;
    Q_DISABLE_COPY_MOVE(Mount)
    ~Mount() { unmount(); }

    bool mount(const QStringList &arguments, const QString &target, QByteArray *output)
    {
        const Run result = run(QStringLiteral("mount"), arguments + QStringList{target});
        *output = result.output;
        if (result.exitCode == 0)
            m_target = target;
        return result.exitCode == 0;
    }
    bool unmount()
    {
        if (m_target.isEmpty())
            return true;
        const bool ok = run(QStringLiteral("umount"), {m_target}).exitCode == 0
            || run(QStringLiteral("umount"), {QStringLiteral("-l"), m_target}).exitCode == 0;
        m_target.clear();
        return ok;
    }
    QString source() const
    {
        return QString::fromUtf8(run(QStringLiteral("findmnt"),
            {QStringLiteral("-n"), QStringLiteral("-o"), QStringLiteral("SOURCE"), m_target})
                                     .output.trimmed());
    }

private:
    QString m_target;
};

QByteArray form(const QByteArray &uniqueName)
{
    return "UniqueName=" + uniqueName;
}

HttpResponse createStream(EngineProcess &engine, const QByteArray &body)
{
    return httpExchange(
        engine.port(), "POST", "/v1/Services/default/Streams", engine.authorization(), body);
}

HttpResponse get(EngineProcess &engine, const QByteArray &path)
{
    return httpExchange(engine.port(), "GET", path, engine.authorization());
}

QStringList listedNames(EngineProcess &engine)
{
    QStringList names;
    const QJsonArray streams = get(engine, "/v1/Services/default/Streams?PageSize=100")
                                   .json()
                                   .value(QStringLiteral("streams"))
                                   .toArray();
    for (const QJsonValue &stream : streams)
        names.append(stream.toObject().value(QStringLiteral("unique_name")).toString());
    names.sort();
    return names;
}

/// Fills the file system holding `dir` with one file, until the kernel says it is full.
bool fill(const QString &path)
{
    QFile filler(path);
    if (!filler.open(QIODevice::WriteOnly))
        return false;
    const QByteArray block(64 * 1024, 'x');
    while (filler.write(block) == block.size() && filler.flush()) { }
    // The last partial block.
    while (filler.write("x", 1) == 1 && filler.flush()) { }
    return true;
}

void syncFileSystem(const QString &dir)
{
    const int fd = ::open(QFile::encodeName(dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::syncfs(fd);
        ::close(fd);
    }
}

QString integrityOf(const QString &dataDir)
{
    auto store = StreamStore::open(QDir(dataDir).filePath(QStringLiteral("streams.sqlite")));
    if (!store)
        return store.error();
    return (*store)->integrityCheck();
}
} // namespace

class TestDiskFaults final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void fullDiskFailsWritesAndRecovers();
    void diskTurningReadOnlyFailsWrites();
    void readOnlyDataDirAtStart();

private:
    /// Checks an error reply: Twilio's JSON, 503/20503, with `words` in the message.
    static void verifyStorageError(const HttpResponse &response, const QString &words);
};

void TestDiskFaults::initTestCase()
{
    if (::geteuid() != 0)
        QSKIP("mounting file systems needs root (CI runs as root)");
}

void TestDiskFaults::verifyStorageError(const HttpResponse &response, const QString &words)
{
    QCOMPARE(response.status, 503);
    QVERIFY(response.header("Content-Type").startsWith("application/json"));
    const QJsonObject json = response.json();
    QCOMPARE(json.value(QStringLiteral("code")).toInt(), 20503);
    QCOMPARE(json.value(QStringLiteral("status")).toInt(), 503);
    QCOMPARE(json.value(QStringLiteral("more_info")).toString(),
        QStringLiteral("https://www.twilio.com/docs/errors/20503"));
    const QString message = json.value(QStringLiteral("message")).toString();
    QVERIFY2(message.contains(words, Qt::CaseInsensitive), qPrintable(message));
}

void TestDiskFaults::fullDiskFailsWritesAndRecovers()
{
    QTemporaryDir mountPoint;
    QVERIFY(mountPoint.isValid());
    Mount tmpfs;
    QByteArray output;
    if (!tmpfs.mount({QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
                         QStringLiteral("size=4m"), QStringLiteral("tmpfs")},
            mountPoint.path(), &output))
        QSKIP(qPrintable(QStringLiteral("cannot mount a tmpfs: ") + QString::fromUtf8(output)));

    EngineProcess engine(mountPoint.filePath(QStringLiteral("data")));
    QVERIFY(engine.start());
    for (const QByteArray name : {"before-1", "before-2", "before-3"})
        QCOMPARE(createStream(engine, form(name)).status, 201);
    const QByteArray before2Sid = get(engine, "/v1/Services/default/Streams/before-2")
                                      .json()
                                      .value(u"sid")
                                      .toString()
                                      .toLatin1();

    const QString fillerPath = mountPoint.filePath(QStringLiteral("filler"));
    QVERIFY(fill(fillerPath));

    // Every kind of write fails the same clear way, again and again, and the engine stays up.
    for (int i = 0; i < 20; ++i)
        verifyStorageError(createStream(engine, form("during-" + QByteArray::number(i))),
            QStringLiteral("Storage full"));
    verifyStorageError(createStream(engine, "Ttl=60"), QStringLiteral("no space left"));
    verifyStorageError(httpExchange(engine.port(), "POST", "/v1/Services/default/Streams/before-1",
                           engine.authorization(), "Ttl=60"),
        QStringLiteral("Storage full"));
    verifyStorageError(httpExchange(engine.port(), "DELETE",
                           "/v1/Services/default/Streams/" + before2Sid, engine.authorization()),
        QStringLiteral("Storage full"));
    verifyStorageError(httpExchange(engine.port(), "POST", "/v1/Services", engine.authorization(),
                           "FriendlyName=full"),
        QStringLiteral("Storage full"));

    // Reads keep working and show nothing half-written: the failed update changed no expiry,
    // the failed delete removed nothing, the failed creates left no stream.
    const HttpResponse before1 = get(engine, "/v1/Services/default/Streams/before-1");
    QCOMPARE(before1.status, 200);
    QVERIFY(before1.json().value(QStringLiteral("date_expires")).isNull());
    QCOMPARE(get(engine, "/v1/Services/default/Streams/" + before2Sid).status, 200);
    QCOMPARE(listedNames(engine),
        (QStringList{
            QStringLiteral("before-1"), QStringLiteral("before-2"), QStringLiteral("before-3")}));
    QCOMPARE(get(engine, "/v1/Services?PageSize=100")
                 .json()
                 .value(QStringLiteral("services"))
                 .toArray()
                 .size(),
        1);
    // Live delivery needs no disk.
    QCOMPARE(httpExchange(engine.port(), "POST", "/v1/Services/default/Streams/before-1/Messages",
                 engine.authorization(), "Data=%7B%22a%22%3A1%7D")
                 .status,
        201);

    // Space returns: writes work again at once, with no restart; the names that failed are
    // free (nothing of them was stored).
    QVERIFY(QFile::remove(fillerPath));
    QCOMPARE(createStream(engine, form("during-0")).status, 201);
    QCOMPARE(createStream(engine, form("after")).status, 201);
    QCOMPARE(httpExchange(engine.port(), "DELETE", "/v1/Services/default/Streams/" + before2Sid,
                 engine.authorization())
                 .status,
        204);
    QCOMPARE(listedNames(engine),
        (QStringList{QStringLiteral("after"), QStringLiteral("before-1"),
            QStringLiteral("before-3"), QStringLiteral("during-0")}));
    QCOMPARE(engine.stop(), 0);
    QCOMPARE(integrityOf(engine.dataDir()), QStringLiteral("ok"));
}

void TestDiskFaults::diskTurningReadOnlyFailsWrites()
{
    QTemporaryDir work;
    QVERIFY(work.isValid());
    const QString image = work.filePath(QStringLiteral("disk.img"));
    const QString mountPoint = work.filePath(QStringLiteral("mnt"));
    QVERIFY(QDir().mkpath(mountPoint));
    {
        QFile file(image);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QVERIFY(file.resize(32 * 1024 * 1024));
    }
    if (QStandardPaths::findExecutable(
            QStringLiteral("mkfs.ext4"), {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin")})
            .isEmpty())
        QSKIP("mkfs.ext4 is not installed (e2fsprogs)");
    // No journal: a journal aborted by the error would keep the file system read-only until
    // e2fsck, which is the same for the engine but slower to set up again.
    const Run mkfs = run(QStringLiteral("mkfs.ext4"),
        {QStringLiteral("-q"), QStringLiteral("-F"), QStringLiteral("-O"),
            QStringLiteral("^has_journal"), image});
    QVERIFY2(mkfs.exitCode == 0, mkfs.output.constData());
    const QStringList mountArguments{
        QStringLiteral("-o"), QStringLiteral("loop,errors=remount-ro"), image};
    auto disk = std::make_unique<Mount>();
    QByteArray output;
    if (!disk->mount(mountArguments, mountPoint, &output))
        QSKIP(qPrintable(
            QStringLiteral("cannot loop-mount an ext4 image: ") + QString::fromUtf8(output)));
    const QString device = QFileInfo(disk->source()).fileName();
    const QString trigger = QStringLiteral("/sys/fs/ext4/%1/trigger_fs_error").arg(device);
    if (!QFile::exists(trigger))
        QSKIP(qPrintable(trigger + QStringLiteral(" does not exist")));

    EngineProcess engine(mountPoint + QStringLiteral("/data"));
    QVERIFY(engine.start());
    for (const QByteArray name : {"before-1", "before-2"})
        QCOMPARE(createStream(engine, form(name)).status, 201);
    // With synchronous=NORMAL a commit is in the OS page cache, safe from a process crash but
    // not yet on the disk: a disk that fails before write-back loses it, as a power cut would.
    // Write back now, as the kernel does within seconds, so "before" is on the disk.
    syncFileSystem(mountPoint);

    {
        QFile file(trigger);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("disk error injected by tst_diskfaults");
    }
    // The kernel remounts it read-only at once.
    QTRY_VERIFY_WITH_TIMEOUT(StreamStore::writeProbe(mountPoint) == EROFS, 5000);

    for (int i = 0; i < 10; ++i)
        verifyStorageError(createStream(engine, form("during-" + QByteArray::number(i))),
            QStringLiteral("read-only"));
    verifyStorageError(httpExchange(engine.port(), "POST", "/v1/Services/default/Streams/before-1",
                           engine.authorization(), "Ttl=60"),
        QStringLiteral("read-only"));
    const HttpResponse fetched = get(engine, "/v1/Services/default/Streams/before-1");
    QCOMPARE(fetched.status, 200);
    QVERIFY(fetched.json().value(QStringLiteral("date_expires")).isNull());
    QCOMPARE(
        listedNames(engine), (QStringList{QStringLiteral("before-1"), QStringLiteral("before-2")}));
    QCOMPARE(httpExchange(engine.port(), "POST", "/v1/Services/default/Streams/before-2/Messages",
                 engine.authorization(), "Data=%7B%7D")
                 .status,
        201);
    // A clean stop still works on a read-only disk.
    QCOMPARE(engine.stop(), 0);

    // A file system the kernel turned read-only after an error stays so until it is unmounted
    // and checked: that is the recovery, and the data is all there afterwards.
    QVERIFY(disk->unmount());
    const Run fsck = run(QStringLiteral("e2fsck"), {QStringLiteral("-fy"), image});
    QVERIFY2(fsck.exitCode == 0 || fsck.exitCode == 1, fsck.output.constData());
    disk = std::make_unique<Mount>();
    QVERIFY2(disk->mount(mountArguments, mountPoint, &output), output.constData());
    QVERIFY2(engine.restart(), engine.output().constData());
    QCOMPARE(
        listedNames(engine), (QStringList{QStringLiteral("before-1"), QStringLiteral("before-2")}));
    QCOMPARE(createStream(engine, form("during-0")).status, 201);
    QCOMPARE(engine.stop(), 0);
    QCOMPARE(integrityOf(engine.dataDir()), QStringLiteral("ok"));
}

void TestDiskFaults::readOnlyDataDirAtStart()
{
    QTemporaryDir dataDir;
    QVERIFY(dataDir.isValid());
    {
        EngineProcess engine(dataDir.path());
        QVERIFY(engine.start());
        QCOMPARE(createStream(engine, form("kept")).status, 201);
        QCOMPARE(engine.stop(), 0);
    }
    // A read-only bind mount of the directory over itself.
    Mount bind;
    QByteArray output;
    if (!bind.mount({QStringLiteral("--bind"), dataDir.path()}, dataDir.path(), &output))
        QSKIP(qPrintable(QStringLiteral("cannot bind-mount: ") + QString::fromUtf8(output)));
    const Run remount = run(QStringLiteral("mount"),
        {QStringLiteral("-o"), QStringLiteral("remount,bind,ro"), dataDir.path()});
    QVERIFY2(remount.exitCode == 0, remount.output.constData());

    EngineProcess engine(dataDir.path());
    QVERIFY(!engine.start({}, 10000));
    QTRY_COMPARE_WITH_TIMEOUT(engine.process().state(), QProcess::NotRunning, 10000);
    QCOMPARE(engine.process().exitCode(), 1);
    const QByteArray said = engine.output();
    QVERIFY2(said.contains("is not writable (Read-only file system)"), said.constData());
    QVERIFY2(!said.contains("another engine"), said.constData());

    // Writable again: it starts, and the data is intact.
    QVERIFY(bind.unmount());
    QVERIFY2(engine.start(), engine.output().constData());
    QCOMPARE(listedNames(engine), QStringList{QStringLiteral("kept")});
    QCOMPARE(engine.stop(), 0);
}

QTEST_GUILESS_MAIN(TestDiskFaults)
#include "tst_diskfaults.moc"
