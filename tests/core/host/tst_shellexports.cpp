// ShellExports::masked: which export lines hide their value on screen.

#include "engine/credentials.h"
#include "host/shellexports.h"

#include <QTest>

using namespace streams;
using namespace Qt::StringLiterals;

class TestShellExports final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void masked_data();
    void masked();
    void masksEverySecretCredentialsWrites();
};

void TestShellExports::masked_data()
{
    QTest::addColumn<QString>("line");
    QTest::addColumn<QString>("shown");
    QTest::addRow("auth token") << u"export TWILIO_AUTH_TOKEN=0f1e2d"_s
                                << u"export TWILIO_AUTH_TOKEN=***"_s;
    QTest::addRow("api secret, quoted")
        << u"export TWILIO_API_SECRET='a b'"_s << u"export TWILIO_API_SECRET=***"_s;
    QTest::addRow("account sid") << u"export TWILIO_ACCOUNT_SID=AC01"_s
                                 << u"export TWILIO_ACCOUNT_SID=AC01"_s;
    QTest::addRow("api key sid") << u"export TWILIO_API_KEY=SK01"_s
                                 << u"export TWILIO_API_KEY=SK01"_s;
    QTest::addRow("a longer name")
        << u"export TWILIO_AUTH_TOKEN_FILE=/tmp/x"_s << u"export TWILIO_AUTH_TOKEN_FILE=/tmp/x"_s;
    QTest::addRow("comment") << u"# export TWILIO_AUTH_TOKEN=x"_s
                             << u"# export TWILIO_AUTH_TOKEN=x"_s;
}

void TestShellExports::masked()
{
    QFETCH(QString, line);
    QFETCH(QString, shown);
    QCOMPARE(ShellExports::masked(line, u"***"), shown);
}

void TestShellExports::masksEverySecretCredentialsWrites()
{
    const EngineCredentials credentials{u"AC0123456789abcdef0123456789abcdef"_s,
        u"0f1e2d3c4b5a69788796a5b4c3d2e1f0"_s, u"SK0123456789abcdef0123456789abcdef"_s,
        u"aa11bb22cc33dd44ee55ff6600778899"_s};
    QStringList shown;
    for (const QString &line : ShellExports::credentials(credentials))
        shown.append(ShellExports::masked(line, u"***"));
    const QString text = shown.join(u'\n');
    QVERIFY2(!text.contains(credentials.authToken), qPrintable(text));
    QVERIFY2(!text.contains(credentials.apiKeySecret), qPrintable(text));
    QVERIFY(text.contains(credentials.accountSid));
    QVERIFY(text.contains(credentials.apiKeySid));
}

QTEST_GUILESS_MAIN(TestShellExports)
#include "tst_shellexports.moc"
