#include "server/synchostsproxy.h"

#include "api/apierror.h"
#include "server/httprequest.h"
#include "server/httpresponse.h"
#include "server/httpserver.h"
#include "tls/certificateauthority.h"

#include <QLoggingCategory>
#include <QSslSocket>
#include <QTcpSocket>

#ifdef Q_OS_WIN
#include <io.h>
#else
#include <unistd.h>
#endif

Q_LOGGING_CATEGORY(lcProxy, "streams.engine.proxy", QtInfoMsg)

namespace streams {

namespace {

constexpr QByteArrayView kHttpsPort = "443";

} // namespace

SyncHostsProxy::SyncHostsProxy(HttpServer &http, Certificates certificates, QObject *parent)
    : QObject(parent), m_http(http), m_certificates(std::move(certificates))
{
    HttpTunnel tunnel;
    tunnel.check = [this](const HttpRequest &request,
                       const QHostAddress &peer) -> std::optional<HttpResponse> {
        if (const std::optional<QString> why = refusal(request.host, peer))
            return HttpResponse::fromError(ApiError(20403, 403, *why));
        // The certificate is made now (and kept), so a CA that cannot be used is said in words
        // rather than by a TLS handshake that never comes.
        const QString host =
            QString::fromLatin1(HttpRequest::splitAuthority(request.host).first).toLower();
        if (const auto identity = m_certificates(host); !identity)
            return HttpResponse::fromError(ApiError(20500, 500,
                QStringLiteral("The engine cannot answer as %1: %2").arg(host, identity.error())));
        return std::nullopt;
    };
    tunnel.take = [this](
                      QTcpSocket *socket, const QByteArray &authority) { take(socket, authority); };
    m_http.setTunnel(std::move(tunnel));
}

SyncHostsProxy::~SyncHostsProxy() = default;

bool SyncHostsProxy::isSyncHost(QStringView host)
{
    const QString lower = host.toString().toLower();
    const QStringList labels = lower.split(u'.');
    // sync.twilio.com, sync.{region}.twilio.com, sync.{edge}.{region}.twilio.com; the same for
    // the live hosts tsock.* and cds.*.
    if (labels.size() < 3 || labels.size() > 5 || labels.at(labels.size() - 2) != u"twilio"
        || labels.last() != u"com")
        return false;
    static const QStringList kServices{
        QStringLiteral("sync"), QStringLiteral("tsock"), QStringLiteral("cds")};
    if (!kServices.contains(labels.first()))
        return false;
    // Each label a DNS label, as for any name the CA signs.
    return CertificateAuthority::mayIssueFor(lower);
}

std::optional<QString> SyncHostsProxy::refusal(QByteArrayView authority, const QHostAddress &peer)
{
    const auto [host, port] = HttpRequest::splitAuthority(authority);
    const QString name = QString::fromLatin1(host.first(qMin<qsizetype>(host.size(), 253)));
    if (!peer.isLoopback())
        return QStringLiteral("The engine opens tunnels for this machine's own clients only");
    if (!isSyncHost(name)) {
        return QStringLiteral("The engine answers as Twilio's Sync hosts only (sync.twilio.com, "
                              "sync.<edge>.<region>.twilio.com, tsock.*.twilio.com, "
                              "cds.*.twilio.com) and never forwards anything to the internet: "
                              "%1 is not one of them. Leave other hosts out of the proxy "
                              "(NO_PROXY) or unset HTTPS_PROXY for them")
            .arg(name);
    }
    if (port != kHttpsPort)
        return QStringLiteral("The engine answers %1 on port 443 only, not %2")
            .arg(name, QString::fromLatin1(port.first(qMin<qsizetype>(port.size(), 8))));
    return std::nullopt;
}

void SyncHostsProxy::take(QTcpSocket *socket, const QByteArray &authority)
{
    const QString host =
        QString::fromLatin1(HttpRequest::splitAuthority(authority).first).toLower();
    std::expected<QSslConfiguration, QString> configuration = m_certificates(host);
    if (!configuration) {
        // The 200 is out: all that is left to say is to close.
        qCWarning(lcProxy) << "no certificate for" << host << ":" << configuration.error();
        socket->abort();
        socket->deleteLater();
        return;
    }
    // The connection changes hands without a byte lost: nothing of the tunnel was read from the
    // socket (HttpConnection waited for the 200 to be out), and the descriptor is duplicated
    // before the plain socket lets go of its own.
    const qintptr descriptor = ::dup(int(socket->socketDescriptor()));
    socket->abort();
    socket->deleteLater();
    if (descriptor < 0)
        return;
    auto *tls = new QSslSocket;
    if (!tls->setSocketDescriptor(descriptor)) {
        ::close(int(descriptor));
        delete tls;
        return;
    }
    tls->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    tls->setSslConfiguration(*configuration);
    connect(tls, &QSslSocket::errorOccurred, this, [this, tls, host](QAbstractSocket::SocketError) {
        if (!tls->isEncrypted() && tls->error() != QAbstractSocket::RemoteHostClosedError) {
            qCInfo(lcProxy) << "TLS for" << host << "failed:" << tls->errorString();
            Q_EMIT handshakeFailed(host, tls->errorString());
        }
    });
    ++m_opened;
    qCDebug(lcProxy) << "tunnel to" << host;
    tls->startServerEncryption();
    m_http.serve(tls);
}

} // namespace streams
