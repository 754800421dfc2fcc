#include "tls/certificateauthority.h"
#include "tls/opensslobjects.h"

#include <QFile>
#include <QSignalSpy>
#include <QSslServer>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

using namespace streams;

namespace {

using namespace streams::openssl;

Certificate toOpenSsl(const QSslCertificate &certificate)
{
    const QByteArray pem = certificate.toPem();
    const Bio bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    return Certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// The error of a result expected to succeed, for the failure message (error() of a value is UB).
template<typename T>
QString errorOf(const std::expected<T, QString> &result)
{
    return result ? QString() : result.error();
}

int fileMode(const QString &path)
{
    struct stat status = {};
    if (::stat(QFile::encodeName(path).constData(), &status) != 0)
        return -1;
    return int(status.st_mode & 0777);
}

// X509_verify_cert's verdict on `leaf` for `host`, with `ca` as the only trusted certificate and
// the TLS server purpose: X509_V_OK or the error. Strict RFC 5280 checks, as Python 3.13's
// default context asks for (VERIFY_X509_STRICT).
int verify(X509 *leaf, X509 *ca, const QByteArray &host)
{
    const Store store(X509_STORE_new());
    if (!store || X509_STORE_add_cert(store.get(), ca) != 1)
        return -1;
    const StoreContext context(X509_STORE_CTX_new());
    if (!context || X509_STORE_CTX_init(context.get(), store.get(), leaf, nullptr) != 1)
        return -1;
    X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
    X509_STORE_CTX_set_flags(context.get(), X509_V_FLAG_X509_STRICT);
    X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(context.get()), host.constData(), 0);
    if (X509_verify_cert(context.get()) == 1)
        return X509_V_OK;
    return X509_STORE_CTX_get_error(context.get());
}

} // namespace

class TestCertificateAuthority final : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        m_dir.emplace();
        QVERIFY(m_dir->isValid());
    }

    void makesTheCaOnceAndReloadsIt()
    {
        auto first = CertificateAuthority::open(m_dir->path());
        QVERIFY2(first, qPrintable(errorOf(first)));
        const QSslCertificate ca = (*first)->caCertificate();
        QVERIFY(!ca.isNull());
        QCOMPARE((*first)->caCertificatePath(), m_dir->filePath(QStringLiteral("proxy-ca.pem")));
        QCOMPARE(fileMode((*first)->keyPath()), 0600);
        QCOMPARE(fileMode((*first)->caCertificatePath()), 0644);
        QVERIFY(ca.subjectInfo(QSslCertificate::CommonName)
                    .value(0)
                    .startsWith(u"Sync Streams Engine local CA ("));
        QVERIFY(ca.isSelfSigned());
        QVERIFY(ca.expiryDate() > QDateTime::currentDateTimeUtc().addYears(9));

        auto second = CertificateAuthority::open(m_dir->path());
        QVERIFY2(second, qPrintable(errorOf(second)));
        QCOMPARE((*second)->caCertificate(), ca);
        // A leaf from the reloaded CA chains to the same certificate.
        auto leaf = (*second)->leafFor(QStringLiteral("sync.twilio.com"));
        QVERIFY2(leaf, qPrintable(errorOf(leaf)));
        QCOMPARE(leaf->chain.value(1), ca);
    }

    void caCarriesItsConstraints()
    {
        auto authority = CertificateAuthority::open(m_dir->path());
        QVERIFY2(authority, qPrintable(errorOf(authority)));
        const Certificate ca = toOpenSsl((*authority)->caCertificate());
        QVERIFY(ca);
        int critical = -1;
        const std::unique_ptr<NAME_CONSTRAINTS, Freer<NAME_CONSTRAINTS_free>> constraints(
            static_cast<NAME_CONSTRAINTS *>(
                X509_get_ext_d2i(ca.get(), NID_name_constraints, &critical, nullptr)));
        QVERIFY(constraints);
        QCOMPARE(critical, 1);
        QCOMPARE(sk_GENERAL_SUBTREE_num(constraints->permittedSubtrees), 1);
        QVERIFY(sk_GENERAL_SUBTREE_num(constraints->excludedSubtrees) <= 0); // none, or empty
        const GENERAL_NAME *permitted =
            sk_GENERAL_SUBTREE_value(constraints->permittedSubtrees, 0)->base;
        QCOMPARE(permitted->type, GEN_DNS);
        QCOMPARE(
            QByteArray(reinterpret_cast<const char *>(ASN1_STRING_get0_data(permitted->d.dNSName)),
                ASN1_STRING_length(permitted->d.dNSName)),
            QByteArrayLiteral("twilio.com"));

        const std::unique_ptr<BASIC_CONSTRAINTS, Freer<BASIC_CONSTRAINTS_free>> basic(
            static_cast<BASIC_CONSTRAINTS *>(
                X509_get_ext_d2i(ca.get(), NID_basic_constraints, &critical, nullptr)));
        QVERIFY(basic);
        QCOMPARE(critical, 1);
        QVERIFY(basic->ca);
        QCOMPARE(ASN1_INTEGER_get(basic->pathlen), 0L);
        QCOMPARE(X509_get_key_usage(ca.get()), uint32_t(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    }

    void refusesAKeyOthersMayRead()
    {
        auto authority = CertificateAuthority::open(m_dir->path());
        QVERIFY2(authority, qPrintable(errorOf(authority)));
        const QString keyPath = (*authority)->keyPath();
        authority->reset();
        QVERIFY(QFile::setPermissions(keyPath,
            QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup
                | QFileDevice::ReadOther));
        auto refused = CertificateAuthority::open(m_dir->path());
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(keyPath), qPrintable(refused.error()));
        QVERIFY2(refused.error().contains(u"644"), qPrintable(refused.error()));
        QVERIFY2(refused.error().contains(u"0600"), qPrintable(refused.error()));
    }

    void refusesFilesThatDoNotBelongTogether()
    {
        QTemporaryDir other;
        QVERIFY(CertificateAuthority::open(m_dir->path()));
        QVERIFY(CertificateAuthority::open(other.path()));
        // Another CA's key next to this CA's certificate.
        const QString key = m_dir->filePath(CertificateAuthority::keyFileName());
        QVERIFY(QFile::remove(key));
        QVERIFY(QFile::copy(other.filePath(CertificateAuthority::keyFileName()), key));
        auto mismatched = CertificateAuthority::open(m_dir->path());
        QVERIFY(!mismatched);
        QVERIFY2(
            mismatched.error().contains(u"do not belong together"), qPrintable(mismatched.error()));

        QFile garbage(key);
        QVERIFY(garbage.open(QIODevice::WriteOnly | QIODevice::Truncate));
        garbage.write("not a key\n");
        garbage.close();
        auto unreadable = CertificateAuthority::open(m_dir->path());
        QVERIFY(!unreadable);
        QVERIFY2(
            unreadable.error().contains(u"not a PEM private key"), qPrintable(unreadable.error()));

        QVERIFY(QFile::remove(key));
        auto missing = CertificateAuthority::open(m_dir->path());
        QVERIFY(!missing);
        QVERIFY2(missing.error().contains(u"is missing"), qPrintable(missing.error()));
    }

    void leavesVerifyForTwilioHosts_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addRow("sync") << QStringLiteral("sync.twilio.com");
        QTest::addRow("edge and region") << QStringLiteral("sync.sydney.au1.twilio.com");
        QTest::addRow("twilsock") << QStringLiteral("tsock.us1.twilio.com");
        QTest::addRow("cds") << QStringLiteral("cds.us1.twilio.com");
        QTest::addRow("apex") << QStringLiteral("twilio.com");
        QTest::addRow("upper case") << QStringLiteral("Sync.Twilio.COM");
    }

    void leavesVerifyForTwilioHosts()
    {
        QFETCH(QString, host);
        auto authority = CertificateAuthority::open(m_dir->path());
        QVERIFY2(authority, qPrintable(errorOf(authority)));
        auto identity = (*authority)->leafFor(host);
        QVERIFY2(identity, qPrintable(errorOf(identity)));
        QCOMPARE(identity->chain.size(), 2);
        QVERIFY(!identity->key.isNull());
        QCOMPARE(identity->key.algorithm(), QSsl::Ec);

        const Certificate leaf = toOpenSsl(identity->chain[0]);
        const Certificate ca = toOpenSsl(identity->chain[1]);
        QVERIFY(leaf && ca);
        QCOMPARE(verify(leaf.get(), ca.get(), host.toLatin1()), X509_V_OK);
        // The name is checked: the same leaf is no good for a sibling host.
        QCOMPARE(verify(leaf.get(), ca.get(), "api.twilio.com"), X509_V_ERR_HOSTNAME_MISMATCH);

        const QSslCertificate &certificate = identity->chain[0];
        QCOMPARE(certificate.subjectAlternativeNames().values(QSsl::DnsEntry),
            QStringList{host.toLower()});
        QVERIFY(certificate.serialNumber().size() >= 3 * 8 - 1); // "xx:xx:…", 8+ octets
        const QDateTime now = QDateTime::currentDateTimeUtc();
        QVERIFY(certificate.effectiveDate() < now);
        QVERIFY(certificate.effectiveDate() > now.addSecs(-2 * 3600));
        QVERIFY(certificate.effectiveDate().daysTo(certificate.expiryDate()) <= 397);
        QCOMPARE(X509_get_extended_key_usage(leaf.get()), uint32_t(XKU_SSL_SERVER));
        QCOMPARE(X509_get_key_usage(leaf.get()), uint32_t(KU_DIGITAL_SIGNATURE));
        QVERIFY(X509_get0_authority_key_id(leaf.get()));
        QCOMPARE(ASN1_OCTET_STRING_cmp(
                     X509_get0_authority_key_id(leaf.get()), X509_get0_subject_key_id(ca.get())),
            0);

        // Kept: the second request for the host gets the same certificate.
        auto again = (*authority)->leafFor(host.toUpper());
        QVERIFY(again);
        QCOMPARE(again->chain[0], certificate);
    }

    void refusesOtherNames_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addRow("other site") << QStringLiteral("example.com");
        QTest::addRow("twilio.com as a prefix") << QStringLiteral("twilio.com.evil.com");
        QTest::addRow("twilio.com as a suffix of a label") << QStringLiteral("eviltwilio.com");
        QTest::addRow("empty") << QString();
        QTest::addRow("wildcard") << QStringLiteral("*.twilio.com");
        QTest::addRow("IPv4") << QStringLiteral("127.0.0.1");
        QTest::addRow("IPv6") << QStringLiteral("::1");
        QTest::addRow("trailing dot") << QStringLiteral("sync.twilio.com.");
        QTest::addRow("empty label") << QStringLiteral("sync..twilio.com");
        QTest::addRow("leading dot") << QStringLiteral(".twilio.com");
        QTest::addRow("hyphen at a label's end") << QStringLiteral("sync-.twilio.com");
        QTest::addRow("underscore") << QStringLiteral("sync_1.twilio.com");
        QTest::addRow("space") << QStringLiteral("sync .twilio.com");
        QTest::addRow("label over 63") << QString(64, u'a') + QStringLiteral(".twilio.com");
        QTest::addRow("non-ASCII") << QStringLiteral("sünc.twilio.com");
        QTest::addRow("NUL") << QStringLiteral("example.com") + QChar(0)
                + QStringLiteral(".twilio.com");
    }

    void refusesOtherNames()
    {
        QFETCH(QString, host);
        QVERIFY(!CertificateAuthority::mayIssueFor(host));
        auto authority = CertificateAuthority::open(m_dir->path());
        QVERIFY2(authority, qPrintable(errorOf(authority)));
        auto identity = (*authority)->leafFor(host);
        QVERIFY(!identity);
        QVERIFY2(identity.error().contains(u"twilio.com"), qPrintable(identity.error()));
    }

    void nameConstraintHoldsEvenForWhatTheKeySignsElsewhere()
    {
        auto authority = CertificateAuthority::open(m_dir->path());
        QVERIFY2(authority, qPrintable(errorOf(authority)));
        const Certificate ca = toOpenSsl((*authority)->caCertificate());
        QFile keyFile((*authority)->keyPath());
        QVERIFY(keyFile.open(QIODevice::ReadOnly));
        const QByteArray keyPem = keyFile.readAll();
        const Bio keyBio(BIO_new_mem_buf(keyPem.constData(), int(keyPem.size())));
        const Key caKey(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
        QVERIFY(ca && caKey);

        // What a leaked key could sign: a proper server certificate for another site.
        const Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        const Certificate forged(X509_new());
        QVERIFY(key && forged);
        QVERIFY(X509_set_version(forged.get(), 2));
        QVERIFY(ASN1_INTEGER_set(X509_get_serialNumber(forged.get()), 4242));
        QVERIFY(X509_gmtime_adj(X509_getm_notBefore(forged.get()), -60));
        QVERIFY(X509_gmtime_adj(X509_getm_notAfter(forged.get()), 86400));
        QVERIFY(X509_NAME_add_entry_by_txt(X509_get_subject_name(forged.get()), "CN", MBSTRING_ASC,
            reinterpret_cast<const unsigned char *>("example.com"), -1, -1, 0));
        QVERIFY(X509_set_issuer_name(forged.get(), X509_get_subject_name(ca.get())));
        QVERIFY(X509_set_pubkey(forged.get(), key.get()));
        X509V3_CTX context;
        X509V3_set_ctx(&context, ca.get(), forged.get(), nullptr, nullptr, 0);
        X509V3_set_ctx_nodb(&context);
        for (const auto &[nid, value] : {std::pair{NID_subject_alt_name, "DNS:example.com"},
                 std::pair{NID_ext_key_usage, "serverAuth"},
                 std::pair{NID_authority_key_identifier, "keyid:always"}}) {
            const Extension extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
            QVERIFY(extension);
            QVERIFY(X509_add_ext(forged.get(), extension.get(), -1));
        }
        QVERIFY(X509_sign(forged.get(), caKey.get(), EVP_sha256()) > 0);

        QCOMPARE(verify(forged.get(), ca.get(), "example.com"), X509_V_ERR_PERMITTED_VIOLATION);
    }

    void tlsHandshakeTrustsOnlyTheNamedHost_data()
    {
        QTest::addColumn<QString>("peerVerifyName");
        QTest::addColumn<bool>("succeeds");
        QTest::addRow("the leaf's host") << QStringLiteral("sync.twilio.com") << true;
        QTest::addRow("another host") << QStringLiteral("example.com") << false;
    }

    void tlsHandshakeTrustsOnlyTheNamedHost()
    {
        QFETCH(QString, peerVerifyName);
        QFETCH(bool, succeeds);
        auto authority = CertificateAuthority::open(m_dir->path());
        QVERIFY2(authority, qPrintable(errorOf(authority)));
        auto identity = (*authority)->leafFor(QStringLiteral("sync.twilio.com"));
        QVERIFY2(identity, qPrintable(errorOf(identity)));

        QSslServer server;
        server.setSslConfiguration(identity->serverConfiguration());
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));

        QSslSocket client;
        QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
        configuration.setCaCertificates({(*authority)->caCertificate()}); // nothing else
        client.setSslConfiguration(configuration);
        client.setPeerVerifyName(peerVerifyName);
        QSignalSpy encrypted(&client, &QSslSocket::encrypted);
        QSignalSpy failed(&client, &QSslSocket::sslErrors);
        client.connectToHostEncrypted(QStringLiteral("127.0.0.1"), server.serverPort());
        QTRY_VERIFY(encrypted.size() + failed.size() > 0);
        if (succeeds) {
            QCOMPARE(failed.size(), 0);
            QCOMPARE(encrypted.size(), 1);
        } else {
            QCOMPARE(encrypted.size(), 0);
            const auto errors = failed.at(0).at(0).value<QList<QSslError>>();
            QCOMPARE(errors.size(), 1);
            QCOMPARE(errors[0].error(), QSslError::HostNameMismatch);
        }
    }

private:
    std::optional<QTemporaryDir> m_dir;
};

QTEST_GUILESS_MAIN(TestCertificateAuthority)
#include "tst_certificateauthority.moc"
