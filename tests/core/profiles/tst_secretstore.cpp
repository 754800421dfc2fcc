// SecretStore against a real OS keychain: gnome-keyring's Secret Service on a private D-Bus
// session (tests/support/with-keyring.sh), and the same code with no keychain reachable.
//
// One binary, two suites; STREAMS_SECRETSTORE_TEST picks one (ctest sets it):
//   keychain     round trips through gnome-keyring, checked independently with secret-tool
//   no-keychain  no session bus, or a bus with no Secret Service: NoKeychain, the session copy,
//                and nothing written to disk
// Secrets are never passed to QCOMPARE (its failure message would print them).

#include "profiles/secretstore.h"

#include <QDirIterator>
#include <QFutureWatcher>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>
#include <cstdio>

using namespace streams;

namespace {

using ErrorKind = SecretStore::Error::Kind;

/// A QFuture's result once it finishes while the event loop runs (the keychain answers
/// through it), or nothing after 20 s.
template<typename T>
std::optional<T> settle(const QFuture<T> &future)
{
    if (!future.isFinished()) {
        QFutureWatcher<T> watcher;
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        watcher.setFuture(future);
        if (!future.isFinished())
            finished.wait(20000);
    }
    if (!future.isFinished() || future.resultCount() == 0)
        return std::nullopt;
    return future.result();
}

/// The error to print when a result that should have succeeded did not (QVERIFY2 evaluates its
/// message even when the check passes, so error() must not be called on a value).
template<typename T>
QString whyNot(const std::expected<T, SecretStore::Error> &result)
{
    return result ? QString() : result.error().message;
}

/// True when a keychain call finished and succeeded.
bool succeeded(const std::optional<std::expected<void, SecretStore::Error>> &result)
{
    return result && result->has_value();
}

QString uniqueKey()
{
    return QStringLiteral("profile/%1").arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
}

QString uniqueSecret()
{
    // Unicode on purpose: the secret must come back as text, byte for byte.
    return QStringLiteral("s3cret-\u00e9\u4e2d-%1")
        .arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
}

/// The home and XDG directories this process was given (see main()): whatever a keychain
/// library might fall back to writing lands there.
QTemporaryDir *g_home = nullptr;

/// Files under the scratch home whose bytes contain `secret` (UTF-8 or UTF-16), by path only.
QStringList filesHolding(const QString &secret)
{
    QStringList found;
    const QByteArray utf8 = secret.toUtf8();
    const QByteArray utf16(reinterpret_cast<const char *>(secret.utf16()),
        secret.size() * qsizetype(sizeof(char16_t)));
    QDirIterator it(
        g_home->path(), QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        QFile file(it.next());
        if (file.open(QIODevice::ReadOnly)) {
            const QByteArray bytes = file.readAll();
            if (bytes.contains(utf8) || bytes.contains(utf16))
                found.append(file.fileName());
        }
    }
    return found;
}

} // namespace

/// Round trips through gnome-keyring. Every write is checked with secret-tool, a separate
/// Secret Service client, so a session-only copy cannot pass for a keychain entry.
class TestSecretStoreKeychain final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void writeReadOverwriteRemove();
    void readingAMissingSecretIsNotFound();
    void removingAMissingSecretSucceeds();
    void keysAndServicesAreSeparate();
    void readsAnEntryAnotherClientStored();
    void aSuccessfulWriteReplacesTheSessionCopy();
    void secretsNeverReachTheDisk();

private:
    /// What the keychain holds for (service, key), asked through secret-tool; nothing when the
    /// entry does not exist.
    std::optional<QString> lookUp(const QString &service, const QString &key);
    bool storeWithSecretTool(const QString &service, const QString &key, const QString &secret);

    QString m_secretTool;
    QString m_service =
        QStringLiteral("streams-test-%1").arg(QUuid::createUuid().toString(QUuid::Id128));
    QStringList m_writtenSecrets;
};

void TestSecretStoreKeychain::initTestCase()
{
    // Never a real user's keyring: only the throwaway one with-keyring.sh starts.
    QVERIFY2(qEnvironmentVariable("STREAMS_TEST_KEYRING") == u"throwaway",
        "run through tests/support/with-keyring.sh (ctest does), which starts a throwaway "
        "gnome-keyring on a private D-Bus session");
    m_secretTool = QStandardPaths::findExecutable(QStringLiteral("secret-tool"));
    QVERIFY2(!m_secretTool.isEmpty(),
        "secret-tool (Debian package libsecret-tools) is needed to check the keychain's contents");
}

std::optional<QString> TestSecretStoreKeychain::lookUp(const QString &service, const QString &key)
{
    // QtKeychain's libsecret backend files text secrets under these attributes.
    QProcess tool;
    tool.start(m_secretTool,
        {QStringLiteral("lookup"), QStringLiteral("user"), key, QStringLiteral("server"), service,
            QStringLiteral("type"), QStringLiteral("plaintext")});
    if (!tool.waitForFinished(20000))
        return std::nullopt;
    const QByteArray out = tool.readAllStandardOutput();
    if (tool.exitCode() != 0 || out.isEmpty())
        return std::nullopt;
    return QString::fromUtf8(out);
}

bool TestSecretStoreKeychain::storeWithSecretTool(
    const QString &service, const QString &key, const QString &secret)
{
    QProcess tool;
    tool.start(m_secretTool,
        {QStringLiteral("store"), QStringLiteral("--label=streams test"), QStringLiteral("user"),
            key, QStringLiteral("server"), service, QStringLiteral("type"),
            QStringLiteral("plaintext")});
    if (!tool.waitForStarted(20000))
        return false;
    tool.write(secret.toUtf8());
    tool.closeWriteChannel();
    return tool.waitForFinished(20000) && tool.exitStatus() == QProcess::NormalExit
        && tool.exitCode() == 0;
}

void TestSecretStoreKeychain::writeReadOverwriteRemove()
{
    SecretStore store(m_service);
    QSignalSpy availability(&store, &SecretStore::keychainAvailabilityChanged);
    const QString key = uniqueKey();
    const QString first = uniqueSecret();
    const QString second = uniqueSecret();
    m_writtenSecrets << first << second;

    const auto written = settle(store.write(key, first));
    QVERIFY(written);
    QVERIFY2(written->has_value(), qPrintable(whyNot(*written)));
    QVERIFY2(lookUp(m_service, key) == first, "secret-tool does not find the written secret");

    const auto read = settle(store.read(key));
    QVERIFY(read);
    QVERIFY2(read->has_value(), qPrintable(whyNot(*read)));
    QVERIFY2(read->value() == first, "read returned a different secret");

    const auto overwritten = settle(store.write(key, second));
    QVERIFY(overwritten);
    QVERIFY2(overwritten->has_value(), qPrintable(whyNot(*overwritten)));
    QVERIFY2(lookUp(m_service, key) == second, "the keychain still holds the old secret");
    const auto reread = settle(store.read(key));
    QVERIFY(reread && reread->has_value());
    QVERIFY2(reread->value() == second, "read after overwrite returned the old secret");

    const auto removed = settle(store.remove(key));
    QVERIFY(removed);
    QVERIFY2(removed->has_value(), qPrintable(whyNot(*removed)));
    QVERIFY2(!lookUp(m_service, key), "the entry is still in the keychain after remove");
    const auto gone = settle(store.read(key));
    QVERIFY(gone);
    QVERIFY(!gone->has_value());
    QCOMPARE(gone->error().kind, ErrorKind::NotFound);

    QVERIFY(store.keychainAvailable());
    QVERIFY(store.unavailableReason().isEmpty());
    QCOMPARE(availability.count(), 0);
}

void TestSecretStoreKeychain::readingAMissingSecretIsNotFound()
{
    SecretStore store(m_service);
    const auto read = settle(store.read(uniqueKey()));
    QVERIFY(read);
    QVERIFY(!read->has_value());
    QCOMPARE(read->error().kind, ErrorKind::NotFound);
    QVERIFY(!read->error().message.isEmpty());
    QVERIFY(store.keychainAvailable());
}

void TestSecretStoreKeychain::removingAMissingSecretSucceeds()
{
    SecretStore store(m_service);
    const auto removed = settle(store.remove(uniqueKey()));
    QVERIFY(removed);
    QVERIFY2(removed->has_value(), qPrintable(whyNot(*removed)));
}

void TestSecretStoreKeychain::keysAndServicesAreSeparate()
{
    SecretStore store(m_service);
    SecretStore otherService(m_service + QStringLiteral("-other"));
    const QString key = uniqueKey();
    const QString otherKey = uniqueKey();
    const QString secret = uniqueSecret();
    const QString otherSecret = uniqueSecret();
    m_writtenSecrets << secret << otherSecret;

    QVERIFY(succeeded(settle(store.write(key, secret))));
    QVERIFY(succeeded(settle(store.write(otherKey, otherSecret))));

    const auto sameKeyOtherService = settle(otherService.read(key));
    QVERIFY(sameKeyOtherService);
    QVERIFY(!sameKeyOtherService->has_value());
    QCOMPARE(sameKeyOtherService->error().kind, ErrorKind::NotFound);

    const auto readOther = settle(store.read(otherKey));
    QVERIFY(readOther && readOther->has_value());
    QVERIFY2(readOther->value() == otherSecret, "keys got mixed up");

    // Removing one key leaves the other.
    QVERIFY(succeeded(settle(store.remove(otherKey))));
    const auto stillThere = settle(store.read(key));
    QVERIFY(stillThere && stillThere->has_value());
    QVERIFY2(stillThere->value() == secret, "removing one key disturbed another");
    QVERIFY(succeeded(settle(store.remove(key))));
}

void TestSecretStoreKeychain::readsAnEntryAnotherClientStored()
{
    // The console writes, streams-cli reads (and vice versa): entries are plain Secret Service
    // items, not something private to one process.
    const QString key = uniqueKey();
    const QString secret = uniqueSecret();
    m_writtenSecrets << secret;
    QVERIFY(storeWithSecretTool(m_service, key, secret));

    SecretStore store(m_service);
    const auto read = settle(store.read(key));
    QVERIFY(read);
    QVERIFY2(read->has_value(), qPrintable(whyNot(*read)));
    QVERIFY2(read->value() == secret, "read a different secret than secret-tool stored");
    QVERIFY(succeeded(settle(store.remove(key))));
}

void TestSecretStoreKeychain::aSuccessfulWriteReplacesTheSessionCopy()
{
    SecretStore store(m_service);
    const QString key = uniqueKey();
    const QString sessionOnly = uniqueSecret();
    const QString stored = uniqueSecret();
    m_writtenSecrets << stored;

    store.rememberForSession(key, sessionOnly);
    const auto fromSession = settle(store.read(key));
    QVERIFY(fromSession && fromSession->has_value());
    QVERIFY2(fromSession->value() == sessionOnly, "the session copy was not used");
    QVERIFY2(!lookUp(m_service, key), "rememberForSession wrote to the keychain");

    QVERIFY(succeeded(settle(store.write(key, stored))));
    const auto afterWrite = settle(store.read(key));
    QVERIFY(afterWrite && afterWrite->has_value());
    QVERIFY2(afterWrite->value() == stored, "a stale session copy shadows the keychain");
    QVERIFY(succeeded(settle(store.remove(key))));
}

void TestSecretStoreKeychain::secretsNeverReachTheDisk()
{
    // Every secret the suite wrote went to the keychain only (its file is encrypted and lives
    // in with-keyring.sh's directory, not in this process's home).
    QVERIFY(!m_writtenSecrets.isEmpty());
    for (const QString &secret : std::as_const(m_writtenSecrets))
        QCOMPARE(filesHolding(secret), QStringList());
}

/// No keychain: a missing session bus (DBUS_SESSION_BUS_ADDRESS names no socket) or a bus with
/// no Secret Service (with-keyring.sh --without-keyring).
class TestSecretStoreNoKeychain final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void readReportsNoKeychainAndWhy();
    void writeKeepsTheSecretForThisSessionOnly();
    void rememberedSecretsAreRead();
    void removeDropsTheSessionCopy();
    void nothingIsWrittenToDisk();

private:
    QString m_service =
        QStringLiteral("streams-test-%1").arg(QUuid::createUuid().toString(QUuid::Id128));
    QStringList m_secrets;
};

void TestSecretStoreNoKeychain::initTestCase()
{
    const QString keyring = qEnvironmentVariable("STREAMS_TEST_KEYRING");
    const QString bus = qEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS");
    QVERIFY2(keyring == u"none" || bus.contains(u"nonexistent"),
        "run with DBUS_SESSION_BUS_ADDRESS at a socket that does not exist, or through "
        "tests/support/with-keyring.sh --without-keyring (ctest does both)");
}

void TestSecretStoreNoKeychain::readReportsNoKeychainAndWhy()
{
    SecretStore store(m_service);
    QSignalSpy availability(&store, &SecretStore::keychainAvailabilityChanged);
    QVERIFY(store.keychainAvailable()); // until the keychain is asked

    const auto read = settle(store.read(uniqueKey()));
    QVERIFY(read);
    QVERIFY(!read->has_value());
    QCOMPARE(read->error().kind, ErrorKind::NoKeychain);
    QVERIFY(!store.keychainAvailable());
    const QString reason = store.unavailableReason();
    qInfo("unavailable reason: %s", qPrintable(reason)); // what the UI will show
    QVERIFY2(reason.startsWith(u"No OS keychain is reachable ("), qPrintable(reason));
    QVERIFY2(reason.endsWith(u"): secrets are kept for this session only"), qPrintable(reason));
    QCOMPARE(read->error().message, reason);
    if (qEnvironmentVariable("STREAMS_TEST_KEYRING") == u"none")
        QVERIFY2(reason.contains(u"Secret Service"), qPrintable(reason));
    else
        QVERIFY2(reason.contains(u"no D-Bus session bus"), qPrintable(reason));
    QCOMPARE(availability.count(), 1);
    QCOMPARE(availability.first().first().toBool(), false);

    // Asking again does not announce the same state twice.
    QVERIFY(settle(store.read(uniqueKey())));
    QCOMPARE(availability.count(), 1);
}

void TestSecretStoreNoKeychain::writeKeepsTheSecretForThisSessionOnly()
{
    const QString key = uniqueKey();
    const QString secret = uniqueSecret();
    m_secrets << secret;
    {
        SecretStore store(m_service);
        const auto written = settle(store.write(key, secret));
        QVERIFY(written);
        QVERIFY(!written->has_value());
        QCOMPARE(written->error().kind, ErrorKind::NoKeychain);
        QVERIFY(!store.keychainAvailable());

        const auto read = settle(store.read(key));
        QVERIFY(read);
        QVERIFY2(read->has_value(), qPrintable(whyNot(*read)));
        QVERIFY2(read->value() == secret, "the session copy differs from what was written");
    }
    // A new store (the next session) has no copy and must ask again.
    SecretStore next(m_service);
    const auto read = settle(next.read(key));
    QVERIFY(read);
    QVERIFY(!read->has_value());
    QCOMPARE(read->error().kind, ErrorKind::NoKeychain);
}

void TestSecretStoreNoKeychain::rememberedSecretsAreRead()
{
    SecretStore store(m_service);
    const QString key = uniqueKey();
    const QString secret = uniqueSecret();
    m_secrets << secret;
    store.rememberForSession(key, secret);
    const auto read = settle(store.read(key));
    QVERIFY(read && read->has_value());
    QVERIFY2(read->value() == secret, "rememberForSession's copy was not returned");
    QVERIFY(store.keychainAvailable()); // served from memory; the keychain was not asked
}

void TestSecretStoreNoKeychain::removeDropsTheSessionCopy()
{
    SecretStore store(m_service);
    const QString key = uniqueKey();
    const QString secret = uniqueSecret();
    m_secrets << secret;
    store.rememberForSession(key, secret);

    const auto removed = settle(store.remove(key));
    QVERIFY(removed);
    // The keychain could not be asked to forget it, and the caller is told so.
    QVERIFY(!removed->has_value());
    QCOMPARE(removed->error().kind, ErrorKind::NoKeychain);

    const auto read = settle(store.read(key));
    QVERIFY(read);
    QVERIFY(!read->has_value());
    QCOMPARE(read->error().kind, ErrorKind::NoKeychain);
}

void TestSecretStoreNoKeychain::nothingIsWrittenToDisk()
{
    QVERIFY(!m_secrets.isEmpty());
    for (const QString &secret : std::as_const(m_secrets))
        QCOMPARE(filesHolding(secret), QStringList());
    // QtKeychain's plaintext fallback would have written an INI named after the service.
    QDirIterator it(g_home->path(), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QVERIFY2(!path.contains(m_service), qPrintable(path));
    }
}

int main(int argc, char *argv[])
{
    // A scratch home before anything reads it, so a library that fell back to writing files
    // would write them where the suite looks.
    QTemporaryDir home;
    if (!home.isValid()) {
        std::fprintf(stderr, "tst_secretstore: cannot create a temporary directory\n");
        return 1;
    }
    g_home = &home;
    for (const char *name : {"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"})
        qputenv(name, home.path().toLocal8Bit());

    QCoreApplication app(argc, argv);
    QTEST_SET_MAIN_SOURCE_PATH
    const QByteArray suite = qgetenv("STREAMS_SECRETSTORE_TEST");
    if (suite == "keychain") {
        TestSecretStoreKeychain test;
        return QTest::qExec(&test, argc, argv);
    }
    if (suite == "no-keychain") {
        TestSecretStoreNoKeychain test;
        return QTest::qExec(&test, argc, argv);
    }
    std::fprintf(stderr,
        "tst_secretstore: set STREAMS_SECRETSTORE_TEST to \"keychain\" (under "
        "tests/support/with-keyring.sh) or \"no-keychain\"; ctest runs both\n");
    return 2;
}

#include "tst_secretstore.moc"
