#include "tls/certificateauthority.h"

#include "tls/opensslobjects.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMutexLocker>
#include <QSaveFile>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace streams {

namespace {

using namespace openssl;

constexpr int kCaValidityDays = 3650;
// CA/Browser Forum and Apple clients reject server certificates valid for more than 398 days;
// the backdating below counts towards that, so stay a day under.
constexpr int kLeafValidityDays = 396;
// A client whose clock is a little behind still accepts a certificate made just now.
constexpr long kBackdateSeconds = 60 * 60;

// What OpenSSL says went wrong, after `what`, emptying its error queue for the next caller.
QString failure(const QString &what)
{
    QString detail;
    while (const unsigned long code = ERR_get_error()) {
        char text[256];
        ERR_error_string_n(code, text, sizeof text);
        if (detail.isEmpty())
            detail = QString::fromLatin1(text);
    }
    return detail.isEmpty() ? what : what + QStringLiteral(" (") + detail + u')';
}

Key generateKey()
{
    // P-256: what every TLS client supports, and small and fast to sign with.
    return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

QByteArray readAll(BIO *bio)
{
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? QByteArray(data, qsizetype(size)) : QByteArray();
}

QByteArray certificatePem(X509 *certificate)
{
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1)
        return {};
    return readAll(bio.get());
}

QByteArray privateKeyPem(EVP_PKEY *key)
{
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio
        || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return {};
    return readAll(bio.get());
}

bool addExtension(X509 *certificate, X509V3_CTX *context, int nid, const char *value)
{
    const Extension extension(X509V3_EXT_conf_nid(nullptr, context, nid, value));
    return extension && X509_add_ext(certificate, extension.get(), -1) == 1;
}

// A random positive serial of 127 bits: RFC 5280 allows 20 octets, CA/B wants 64 random bits.
bool setRandomSerial(X509 *certificate)
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return false;
    bytes[0] = (bytes[0] & 0x7f) | 0x40; // positive, and never shorter than 16 octets
    const BigNumber number(BN_bin2bn(bytes, sizeof bytes, nullptr));
    return number && BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(certificate));
}

bool setValidity(X509 *certificate, int days)
{
    return X509_gmtime_adj(X509_getm_notBefore(certificate), -kBackdateSeconds)
        && X509_time_adj_ex(X509_getm_notAfter(certificate), days, 0, nullptr);
}

bool addName(X509_NAME *name, const char *field, const QByteArray &value)
{
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
               reinterpret_cast<const unsigned char *>(value.constData()), int(value.size()), -1, 0)
        == 1;
}

std::expected<Certificate, QString> makeCaCertificate(EVP_PKEY *key)
{
    Certificate certificate(X509_new());
    if (!certificate)
        return std::unexpected(failure(QStringLiteral("cannot make a certificate")));
    unsigned char id[4];
    if (RAND_bytes(id, sizeof id) != 1)
        return std::unexpected(failure(QStringLiteral("no random bytes")));
    // The random part tells two engines' CAs apart in a trust store's list.
    const QByteArray commonName = "Sync Streams Engine local CA ("
        + QByteArray(reinterpret_cast<const char *>(id), sizeof id).toHex() + ')';
    X509_NAME *name = X509_get_subject_name(certificate.get());
    if (X509_set_version(certificate.get(), 2) != 1 || !setRandomSerial(certificate.get())
        || !setValidity(certificate.get(), kCaValidityDays)
        || !addName(name, "O", QByteArrayLiteral("Sync Streams Console"))
        || !addName(name, "CN", commonName) || X509_set_issuer_name(certificate.get(), name) != 1
        || X509_set_pubkey(certificate.get(), key) != 1)
        return std::unexpected(failure(QStringLiteral("cannot fill in the CA certificate")));

    X509V3_CTX context;
    X509V3_set_ctx(&context, certificate.get(), certificate.get(), nullptr, nullptr, 0);
    X509V3_set_ctx_nodb(&context);
    // pathlen:0: it signs leaves only. The name constraint is what makes trusting it safe:
    // verifiers refuse anything it signs for a name outside twilio.com, whoever signed it.
    if (!addExtension(
            certificate.get(), &context, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")
        || !addExtension(certificate.get(), &context, NID_key_usage, "critical,keyCertSign,cRLSign")
        || !addExtension(certificate.get(), &context, NID_subject_key_identifier, "hash")
        || !addExtension(
            certificate.get(), &context, NID_name_constraints, "critical,permitted;DNS:twilio.com"))
        return std::unexpected(failure(QStringLiteral("cannot add the CA's extensions")));
    if (X509_sign(certificate.get(), key, EVP_sha256()) <= 0)
        return std::unexpected(failure(QStringLiteral("cannot sign the CA certificate")));
    return certificate;
}

// Writes `data` to `path` through a temporary file in the same directory that is created 0600
// (mkstemp), so the key is never readable by anyone else, not even while it is being written,
// and `path` is either absent or complete.
std::expected<void, QString> writePrivateFile(const QString &path, const QByteArray &data)
{
    QByteArray temporary = QFile::encodeName(path) + ".XXXXXX";
    const int fd = ::mkstemp(temporary.data());
    if (fd < 0)
        return std::unexpected(QStringLiteral("cannot create a file next to %1: %2")
                                   .arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    qsizetype written = 0;
    while (written < data.size()) {
        const ssize_t n = ::write(fd, data.constData() + written, size_t(data.size() - written));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        written += n;
    }
    const bool ok = written == data.size() && ::fsync(fd) == 0;
    const int error = errno;
    ::close(fd);
    if (!ok || ::rename(temporary.constData(), QFile::encodeName(path).constData()) != 0) {
        const int cause = ok ? errno : error;
        ::unlink(temporary.constData());
        return std::unexpected(QStringLiteral("cannot write %1: %2")
                                   .arg(path, QString::fromLocal8Bit(std::strerror(cause))));
    }
    return {};
}

std::expected<void, QString> writePublicFile(const QString &path, const QByteArray &data)
{
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly) || out.write(data) != data.size() || !out.commit())
        return std::unexpected(QStringLiteral("cannot write %1: %2").arg(path, out.errorString()));
    // Public: any program of the user's (or a system trust store) may read it.
    QFile::setPermissions(path,
        QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup
            | QFileDevice::ReadOther);
    return {};
}

std::expected<QByteArray, QString> readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return std::unexpected(QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    return file.readAll();
}

Bio memoryBio(const QByteArray &data)
{
    return Bio(BIO_new_mem_buf(data.constData(), int(data.size())));
}

} // namespace

struct CertificateAuthority::OpenSsl
{
    Certificate caCertificate;
    Key caKey;
    Key leafKey;
};

QSslConfiguration ServerIdentity::serverConfiguration() const
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificateChain(chain);
    configuration.setPrivateKey(key);
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone); // clients are not asked for one
    configuration.setProtocol(QSsl::TlsV1_2OrLater);
    return configuration;
}

CertificateAuthority::CertificateAuthority(std::unique_ptr<OpenSsl> openSsl)
    : m_openSsl(std::move(openSsl))
{ }

CertificateAuthority::~CertificateAuthority() = default;

QString CertificateAuthority::certificateFileName()
{
    return QStringLiteral("proxy-ca.pem");
}

QString CertificateAuthority::keyFileName()
{
    return QStringLiteral("proxy-ca.key");
}

QString CertificateAuthority::caCertificatePath() const
{
    return QDir(m_directory).filePath(certificateFileName());
}

QString CertificateAuthority::keyPath() const
{
    return QDir(m_directory).filePath(keyFileName());
}

QSslCertificate CertificateAuthority::caCertificate() const
{
    return m_caCertificate;
}

std::expected<std::unique_ptr<CertificateAuthority>, QString> CertificateAuthority::open(
    const QString &directory)
{
    if (!QFileInfo(directory).isDir()) {
        if (!QDir().mkpath(directory))
            return std::unexpected(QStringLiteral("cannot create %1").arg(directory));
        QFile::setPermissions(
            directory, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    }
    const QString absolute = QFileInfo(directory).absoluteFilePath();
    const QString certificatePath = QDir(absolute).filePath(certificateFileName());
    const QString keyPath = QDir(absolute).filePath(keyFileName());
    const QString removeBoth =
        QStringLiteral("; remove %1 and %2 to make a new CA (and trust the new one instead)")
            .arg(certificatePath, keyPath);

    auto openSsl = std::make_unique<OpenSsl>();
    QByteArray certificateText;
    if (!QFileInfo::exists(certificatePath)) {
        // A key without its certificate was never trusted by anyone: replacing it is safe.
        openSsl->caKey = generateKey();
        if (!openSsl->caKey)
            return std::unexpected(failure(QStringLiteral("cannot generate the CA key")));
        auto certificate = makeCaCertificate(openSsl->caKey.get());
        if (!certificate)
            return std::unexpected(certificate.error());
        openSsl->caCertificate = std::move(*certificate);
        const QByteArray keyText = privateKeyPem(openSsl->caKey.get());
        certificateText = certificatePem(openSsl->caCertificate.get());
        if (keyText.isEmpty() || certificateText.isEmpty())
            return std::unexpected(failure(QStringLiteral("cannot encode the CA")));
        // The key first: a certificate on disk always has its key next to it.
        if (auto written = writePrivateFile(keyPath, keyText); !written)
            return std::unexpected(written.error());
        if (auto written = writePublicFile(certificatePath, certificateText); !written)
            return std::unexpected(written.error());
    } else {
        struct stat status = {};
        if (::stat(QFile::encodeName(keyPath).constData(), &status) != 0)
            return std::unexpected(
                QStringLiteral("%1 is missing: the CA certificate %2 is useless without it")
                    .arg(keyPath, certificatePath)
                + removeBoth);
        if ((status.st_mode & 077) != 0)
            return std::unexpected(
                QStringLiteral("refusing the CA key %1: its mode is %2, so others may read it; "
                               "it must be 0600 (chmod 600 %1, or, if others may have read it, "
                               "remove it and %3 and stop trusting the old CA)")
                    .arg(keyPath, QString::number(status.st_mode & 0777, 8), certificatePath));
        auto keyText = readFile(keyPath);
        if (!keyText)
            return std::unexpected(keyText.error());
        auto readCertificate = readFile(certificatePath);
        if (!readCertificate)
            return std::unexpected(readCertificate.error());
        certificateText = *readCertificate;
        const Bio keyBio = memoryBio(*keyText);
        const Bio certificateBio = memoryBio(certificateText);
        if (keyBio)
            openSsl->caKey.reset(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
        if (certificateBio)
            openSsl->caCertificate.reset(
                PEM_read_bio_X509(certificateBio.get(), nullptr, nullptr, nullptr));
        if (!openSsl->caKey)
            return std::unexpected(
                failure(QStringLiteral("%1 is not a PEM private key").arg(keyPath)) + removeBoth);
        if (!openSsl->caCertificate)
            return std::unexpected(
                failure(QStringLiteral("%1 is not a PEM certificate").arg(certificatePath))
                + removeBoth);
        if (X509_check_private_key(openSsl->caCertificate.get(), openSsl->caKey.get()) != 1)
            return std::unexpected(failure(QStringLiteral("%1 and %2 do not belong together")
                                               .arg(certificatePath, keyPath))
                + removeBoth);
        if (X509_check_ca(openSsl->caCertificate.get()) == 0)
            return std::unexpected(
                QStringLiteral("%1 is not a CA certificate").arg(certificatePath) + removeBoth);
        if (X509_cmp_current_time(X509_get0_notAfter(openSsl->caCertificate.get())) <= 0)
            return std::unexpected(
                QStringLiteral("the CA certificate %1 has expired").arg(certificatePath)
                + removeBoth);
    }

    openSsl->leafKey = generateKey();
    const QByteArray leafKeyText =
        openSsl->leafKey ? privateKeyPem(openSsl->leafKey.get()) : QByteArray();
    if (leafKeyText.isEmpty())
        return std::unexpected(failure(QStringLiteral("cannot generate the leaf key")));

    std::unique_ptr<CertificateAuthority> authority(new CertificateAuthority(std::move(openSsl)));
    authority->m_directory = absolute;
    authority->m_caCertificate = QSslCertificate(certificateText, QSsl::Pem);
    authority->m_leafKey = QSslKey(leafKeyText, QSsl::Ec, QSsl::Pem, QSsl::PrivateKey);
    if (authority->m_caCertificate.isNull() || authority->m_leafKey.isNull())
        return std::unexpected(
            QStringLiteral("Qt's TLS backend cannot use the CA's certificate or keys (is its "
                           "OpenSSL backend installed?)"));
    return authority;
}

bool CertificateAuthority::mayIssueFor(const QString &host)
{
    if (host.size() > 253)
        return false;
    const QString lower = host.toLower();
    if (lower != u"twilio.com" && !lower.endsWith(u".twilio.com"))
        return false;
    const QStringList labels = lower.split(u'.');
    for (const QString &label : labels) {
        if (label.isEmpty() || label.size() > 63 || label.startsWith(u'-') || label.endsWith(u'-'))
            return false;
        for (const QChar c : label)
            if (!((c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'-'))
                return false;
    }
    return true;
}

std::expected<ServerIdentity, QString> CertificateAuthority::leafFor(const QString &host)
{
    if (!mayIssueFor(host))
        return std::unexpected(
            QStringLiteral("the engine's CA signs only for twilio.com and its subdomains, not "
                           "for '%1'")
                .arg(host));
    const QString name = host.toLower();
    const QByteArray ascii = name.toLatin1();

    QMutexLocker locker(&m_mutex);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (const auto cached = m_leaves.constFind(name);
        cached != m_leaves.cend() && cached->expires > now.addDays(1))
        return cached->identity;

    X509 *ca = m_openSsl->caCertificate.get();
    Certificate leaf(X509_new());
    if (!leaf)
        return std::unexpected(failure(QStringLiteral("cannot make a certificate")));
    // The common name is limited to 64 characters; the SAN is what clients check anyway.
    if (X509_set_version(leaf.get(), 2) != 1 || !setRandomSerial(leaf.get())
        || !setValidity(leaf.get(), kLeafValidityDays)
        || (ascii.size() <= 64 && !addName(X509_get_subject_name(leaf.get()), "CN", ascii))
        || X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca)) != 1
        || X509_set_pubkey(leaf.get(), m_openSsl->leafKey.get()) != 1)
        return std::unexpected(failure(QStringLiteral("cannot fill in a certificate")));
    // Never valid longer than the CA that vouches for it.
    if (X509_cmp_time(X509_get0_notAfter(ca), nullptr) < 0)
        return std::unexpected(QStringLiteral("the engine's CA has expired"));
    if (ASN1_TIME_compare(X509_get0_notAfter(leaf.get()), X509_get0_notAfter(ca)) > 0
        && X509_set1_notAfter(leaf.get(), X509_get0_notAfter(ca)) != 1)
        return std::unexpected(failure(QStringLiteral("cannot fill in a certificate")));

    X509V3_CTX context;
    X509V3_set_ctx(&context, ca, leaf.get(), nullptr, nullptr, 0);
    X509V3_set_ctx_nodb(&context);
    const QByteArray altName = "DNS:" + ascii;
    // An empty subject (a name too long for CN) makes the SAN critical (RFC 5280 4.2.1.6).
    const QByteArray altNameValue = ascii.size() <= 64 ? altName : "critical," + altName;
    if (!addExtension(leaf.get(), &context, NID_basic_constraints, "critical,CA:FALSE")
        || !addExtension(leaf.get(), &context, NID_key_usage, "critical,digitalSignature")
        || !addExtension(leaf.get(), &context, NID_ext_key_usage, "serverAuth")
        || !addExtension(leaf.get(), &context, NID_subject_alt_name, altNameValue.constData())
        || !addExtension(leaf.get(), &context, NID_subject_key_identifier, "hash")
        || !addExtension(leaf.get(), &context, NID_authority_key_identifier, "keyid:always"))
        return std::unexpected(failure(QStringLiteral("cannot add a certificate's extensions")));
    if (X509_sign(leaf.get(), m_openSsl->caKey.get(), EVP_sha256()) <= 0)
        return std::unexpected(failure(QStringLiteral("cannot sign a certificate")));

    const QSslCertificate certificate(certificatePem(leaf.get()), QSsl::Pem);
    if (certificate.isNull())
        return std::unexpected(QStringLiteral("Qt cannot read the certificate just made"));
    CachedLeaf entry{{{certificate, m_caCertificate}, m_leafKey}, certificate.expiryDate()};
    m_leaves.insert(name, entry);
    return entry.identity;
}

} // namespace streams
