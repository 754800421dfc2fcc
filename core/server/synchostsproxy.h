#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QSslConfiguration>
#include <QString>
#include <expected>
#include <functional>
#include <optional>

QT_BEGIN_NAMESPACE
class QTcpSocket;
QT_END_NAMESPACE

namespace streams {

class HttpServer;

/// Zero-change mode: the engine as an HTTPS proxy for Twilio's Sync hosts only. A client that
/// honours HTTPS_PROXY (Twilio's helper libraries, twilio-cli, curl) asks for a CONNECT tunnel to
/// `sync.twilio.com:443` (or a regional, edge, live or CDS host); the engine accepts it, answers
/// TLS itself with a certificate for that host from its own certificate authority, and serves
/// its REST and live endpoints inside, so resource URLs read `https://sync.twilio.com/…` as the
/// client expects. Every other host is refused (403) and nothing is ever forwarded anywhere:
/// the engine makes no outbound connection. Tunnels are opened for loopback clients only.
class SyncHostsProxy final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SyncHostsProxy)

public:
    /// The TLS server configuration for `host` (certificate chain and key), or why not.
    using Certificates =
        std::function<std::expected<QSslConfiguration, QString>(const QString &host)>;

    /// Opens tunnels on `http`'s port, serving what comes through them on `http` too.
    SyncHostsProxy(HttpServer &http, Certificates certificates, QObject *parent = nullptr);
    ~SyncHostsProxy() override;

    /// Whether `host` (no port) is one of Twilio's Sync hosts the engine answers for:
    /// `sync.twilio.com`, `sync.{region}.twilio.com`, `sync.{edge}.{region}.twilio.com`, and the
    /// live hosts `tsock.*.twilio.com` and `cds.*.twilio.com`. Case-insensitive.
    static bool isSyncHost(QStringView host);
    /// Why a CONNECT to `authority` ("host:port") from `peer` is refused, or nothing.
    static std::optional<QString> refusal(QByteArrayView authority, const QHostAddress &peer);

    /// Tunnels opened so far (for tests and the log).
    quint64 tunnelsOpened() const { return m_opened; }

Q_SIGNALS:
    /// A tunnel's TLS handshake failed (the client does not trust the engine's CA, say).
    void handshakeFailed(const QString &host, const QString &reason);

private:
    void take(QTcpSocket *socket, const QByteArray &authority);

    HttpServer &m_http;
    Certificates m_certificates;
    quint64 m_opened = 0;
};

} // namespace streams
