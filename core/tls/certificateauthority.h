#pragma once

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QMutex>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QString>
#include <expected>
#include <memory>

namespace streams {

/// What a TLS server needs to present itself as one host: the leaf certificate followed by the
/// CA's, and the leaf's private key.
struct ServerIdentity
{
    QList<QSslCertificate> chain;
    QSslKey key;

    /// A server-side configuration presenting this identity (TLS 1.2 or later, no client
    /// certificates asked for), ready for QSslSocket::setSslConfiguration.
    QSslConfiguration serverConfiguration() const;
};

/// The engine's own certificate authority, for terminating TLS to Twilio's Sync hosts on loopback
/// (issue 22's zero-change mode). It lives in two files in a directory the engine owns:
/// proxy-ca.pem (the certificate: public, what users point their CA variables at) and
/// proxy-ca.key (the EC P-256 key, mode 0600).
///
/// The CA certificate carries a critical name constraint permitting only DNS:twilio.com and its
/// subdomains, so trusting it can never vouch for any other site, even if its key leaked; and
/// leafFor() refuses every other name before signing anything.
///
/// Thread-safety: open() may be called from any thread. The object is immutable after open()
/// but for leafFor()'s cache, which a mutex guards, so leafFor() and the accessors may be called
/// from any thread at once (the engine's thread and a proxy's, say).
class CertificateAuthority final
{
public:
    /// The CA in `directory`: loaded when its files are there, made (with the directory, 0700)
    /// when the certificate is not. Refused, with a message saying what to do: a key file that
    /// group or others may access, files that do not parse or do not belong together, a
    /// certificate without its key, an expired CA.
    static std::expected<std::unique_ptr<CertificateAuthority>, QString> open(
        const QString &directory);

    ~CertificateAuthority();
    Q_DISABLE_COPY_MOVE(CertificateAuthority)

    static QString certificateFileName();
    static QString keyFileName();

    /// The CA certificate's PEM file: what NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE,
    /// CURL_CA_BUNDLE and SSL_CERT_FILE point at.
    QString caCertificatePath() const;
    QString keyPath() const;
    QSslCertificate caCertificate() const;

    /// True for a name this CA signs for: `twilio.com` or a subdomain of it, any case, a valid
    /// DNS name (letters, digits and inner hyphens; labels of 1–63 characters; 253 in all). No
    /// wildcards, no IP addresses, no trailing dot.
    static bool mayIssueFor(const QString &host);

    /// A leaf certificate for `host` (see mayIssueFor), signed on first use and kept per host
    /// (lower-cased) until it is within a day of expiring. Every other name is an error and
    /// produces nothing.
    std::expected<ServerIdentity, QString> leafFor(const QString &host);

private:
    struct OpenSsl;
    explicit CertificateAuthority(std::unique_ptr<OpenSsl> openSsl);

    std::unique_ptr<OpenSsl> m_openSsl;
    QString m_directory;
    QSslCertificate m_caCertificate;
    QSslKey m_leafKey; // one key for every leaf: each certificate still names one host

    struct CachedLeaf
    {
        ServerIdentity identity;
        QDateTime expires;
    };
    QMutex m_mutex; // guards m_leaves and signing with the CA key
    QHash<QString, CachedLeaf> m_leaves;
};

} // namespace streams
