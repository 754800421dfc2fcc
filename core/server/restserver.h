#pragma once

#include "server/auththrottle.h"
#include "server/controlplane.h"
#include "server/createbatcher.h"
#include "server/httpserver.h"
#include "server/restapi.h"

#include <QObject>
#include <QSslConfiguration>
#include <expected>
#include <memory>

namespace streams {

class CertificateAuthority;
class Engine;
class SyncHostsProxy;

/// The engine's port: HttpServer (connections and parsing) in front of RestApi (Twilio's v1
/// REST), with admission by AuthThrottle and group-committed creates (CreateBatcher). Runs on
/// the engine's thread. An address that keeps failing authentication is slowed down: each of
/// its requests waits its turn on a timer, credentials unchecked until then, never by blocking
/// the thread, and ends its connection. The twilsock endpoint shares the port
/// (TwilsockServer::attachTo), and so does zero-change mode's proxy for Twilio's Sync hosts
/// (SyncHostsProxy), whose certificate authority is opened in the data directory on the first
/// tunnel.
class RestServer final : public QObject, private HttpHandler
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RestServer)

public:
    explicit RestServer(Engine &engine, HttpServerOptions options = {}, QObject *parent = nullptr);
    ~RestServer() override;

    /// Starts listening; returns the bound port, or 0 (with `errorString`) on failure.
    quint16 start(const QHostAddress &address, quint16 port, QString *errorString = nullptr);

    HttpServer &http() { return m_http; }
    RestApi &api() { return m_api; }
    ControlPlane &controlPlane() { return m_control; }
    /// Shared with the twilsock endpoint on the same port, so failures on one count for both.
    AuthThrottle &authThrottle() { return m_throttle; }
    /// The proxy's certificate authority, opened in the data directory (made there if need be)
    /// on first use.
    std::expected<CertificateAuthority *, QString> certificateAuthority();

private:
    void handleRequest(const HttpExchange &exchange, HttpRequest request) override;
    /// Answers a request whose turn has come and feeds the outcome to the throttle.
    RestReply answerCounted(
        const QHostAddress &peer, const HttpRequest &request, const QString &baseUrl, bool batch);
    /// The traffic log's entry of a REST request (not of the control plane's); its answer is
    /// filled in, and the entry logged, by record().
    TrafficEntry startEntry(const HttpRequest &request);
    void record(TrafficEntry entry, const RestReply &reply, qint64 startedNs) const;
    /// What the proxy presents as `host`.
    std::expected<QSslConfiguration, QString> serverIdentity(const QString &host);

    Engine &m_engine;
    AuthThrottle m_throttle;
    RestApi m_api;
    ControlPlane m_control;
    CreateBatcher m_creates;
    QByteArray m_lastAuthorization; // and who it names, for the traffic log
    QString m_lastWho;
    std::unique_ptr<CertificateAuthority> m_authority; // opened on the first tunnel
    HttpServer m_http; // its connections go first, while what they call is still here
    std::unique_ptr<SyncHostsProxy> m_proxy; // uses m_http
};

} // namespace streams
