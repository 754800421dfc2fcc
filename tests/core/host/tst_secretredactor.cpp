// SecretRedactor: what it takes out of a log message, and that it leaves the rest alone.

#include "engine/credentials.h"
#include "host/secretredactor.h"

#include <QTest>

using namespace streams;

namespace {
EngineCredentials credentials()
{
    return {QStringLiteral("AC0123456789abcdef0123456789abcdef"),
        QStringLiteral("0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
        QStringLiteral("SK0123456789abcdef0123456789abcdef"),
        QStringLiteral("aa11bb22cc33dd44ee55ff6600778899")};
}
} // namespace

class TestSecretRedactor final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void redacts_data();
    void redacts();
    void installedHandlerRedactsEveryMessage();
};

void TestSecretRedactor::redacts_data()
{
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("expected");
    const EngineCredentials c = credentials();
    const QString basic =
        QString::fromLatin1((c.accountSid + u':' + c.authToken).toUtf8().toBase64());
    QTest::addRow("nothing secret")
        << QStringLiteral("GET /v1/Services -> 200") << QStringLiteral("GET /v1/Services -> 200");
    QTest::addRow("SIDs are not secret")
        << QStringLiteral("account %1 key %2").arg(c.accountSid, c.apiKeySid)
        << QStringLiteral("account %1 key %2").arg(c.accountSid, c.apiKeySid);
    QTest::addRow("auth token in a path") << QStringLiteral("GET /v1/%1 -> 404").arg(c.authToken)
                                          << QStringLiteral("GET /v1/[redacted] -> 404");
    QTest::addRow("API key secret twice")
        << QStringLiteral("%1:%1").arg(c.apiKeySecret) << QStringLiteral("[redacted]:[redacted]");
    QTest::addRow("Basic credentials")
        << QStringLiteral("Basic %1").arg(basic) << QStringLiteral("Basic [redacted]");
    QTest::addRow("a JWT") << QStringLiteral(
        "unknown method \"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\"")
                           << QStringLiteral("unknown method \"[redacted]\"");
}

void TestSecretRedactor::redacts()
{
    QFETCH(QString, message);
    QFETCH(QString, expected);
    // Compared as booleans: a failure must not print the secret it failed to hide.
    const QString redacted =
        SecretRedactor::redact(message, SecretRedactor::secretsOf(credentials()));
    QVERIFY(redacted == expected);
}

namespace {
QStringList g_seen;
void recordingHandler(QtMsgType, const QMessageLogContext &, const QString &message)
{
    g_seen.append(message);
}
} // namespace

void TestSecretRedactor::installedHandlerRedactsEveryMessage()
{
    const QtMessageHandler testlib = qInstallMessageHandler(recordingHandler);
    SecretRedactor::install(credentials());
    qWarning("client sent %s", qPrintable(credentials().authToken));
    qInfo("and %s", qPrintable(credentials().apiKeySecret));
    qInstallMessageHandler(testlib);
    QCOMPARE(g_seen.size(), 2);
    QVERIFY(g_seen.at(0) == QStringLiteral("client sent [redacted]"));
    QVERIFY(g_seen.at(1) == QStringLiteral("and [redacted]"));
}

QTEST_GUILESS_MAIN(TestSecretRedactor)
#include "tst_secretredactor.moc"
