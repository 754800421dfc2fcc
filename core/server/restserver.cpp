#include "server/restserver.h"

#include "engine/engine.h"
#include "server/synchostsproxy.h"
#include "tls/certificateauthority.h"

#include <QLoggingCategory>
#include <QTimer>
#include <QUrl>

Q_DECLARE_LOGGING_CATEGORY(lcHttpServer)

namespace streams {

namespace {
// Twilio's "Too Many Requests" code, for requests refused unchecked while an address is slowed.
constexpr int kTooManyRequestsCode = 20429;
} // namespace

RestServer::RestServer(Engine &engine, HttpServerOptions options, QObject *parent)
    : QObject(parent),
      m_engine(engine),
      m_api(engine),
      m_control(engine, m_api),
      m_creates(engine),
      m_http(*this, options),
      m_proxy(std::make_unique<SyncHostsProxy>(
          m_http, [this](const QString &host) { return serverIdentity(host); }))
{ }

std::expected<CertificateAuthority *, QString> RestServer::certificateAuthority()
{
    if (!m_authority) {
        auto opened = CertificateAuthority::open(m_engine.dataDir());
        if (!opened)
            return std::unexpected(opened.error());
        m_authority = std::move(*opened);
    }
    return m_authority.get();
}

std::expected<QSslConfiguration, QString> RestServer::serverIdentity(const QString &host)
{
    auto authority = certificateAuthority();
    if (!authority)
        return std::unexpected(authority.error());
    auto leaf = (*authority)->leafFor(host);
    if (!leaf)
        return std::unexpected(leaf.error());
    return leaf->serverConfiguration();
}

RestServer::~RestServer()
{
    // Whatever was created is committed, and answered while the connections still exist.
    m_creates.settle();
}

quint16 RestServer::start(const QHostAddress &address, quint16 port, QString *errorString)
{
    const quint16 bound = m_http.listen(address, port, errorString);
    if (bound != 0) {
        QUrl url;
        url.setScheme(QStringLiteral("http"));
        url.setHost(address.toString());
        url.setPort(bound);
        m_engine.recordListening(url);
    }
    return bound;
}

RestReply RestServer::answerCounted(
    const QHostAddress &peer, const HttpRequest &request, const QString &baseUrl, bool batch)
{
    std::optional<bool> authenticated;
    RestReply reply = ControlPlane::handles(request.path)
        ? m_control.handle(request.method, request.path, request.query, request.authorization,
            request.body, &authenticated)
        : m_api.handle(request.method, request.path, request.query, request.authorization,
            request.body, baseUrl, batch, &authenticated);
    if (authenticated == true)
        m_throttle.recordSuccess(peer);
    else if (authenticated == false)
        m_throttle.recordFailure(peer, AuthThrottle::monotonicMs());
    return reply;
}

TrafficEntry RestServer::startEntry(const HttpRequest &request)
{
    TrafficEntry entry;
    entry.timeMs = m_engine.clock().nowMs();
    entry.kind = TrafficEntry::Kind::Rest;
    // A client sends the same credentials request after request: decoded once.
    if (request.authorization != m_lastAuthorization) {
        m_lastAuthorization = request.authorization;
        m_lastWho = RestApi::basicUser(request.authorization);
    }
    entry.who = m_lastWho;
    entry.method = request.method;
    entry.path = request.path;
    if (!request.query.isEmpty()) {
        entry.path += '?';
        entry.path += request.query;
    }
    entry.bytesIn = request.body.size();
    if (m_engine.traffic().keepsBodies())
        entry.body = request.body.isNull() ? QByteArray("") : request.body;
    return entry;
}

void RestServer::record(TrafficEntry entry, const RestReply &reply, qint64 startedNs) const
{
    entry.status = reply.status;
    entry.code = reply.code;
    entry.fault = reply.fault;
    entry.bytesOut = reply.message.isEmpty() ? reply.body.size() : reply.message.size();
    entry.durationMs = double(TrafficEntry::monotonicNs() - startedNs) / 1e6;
    m_engine.traffic().append(std::move(entry));
}

void RestServer::handleRequest(const HttpExchange &exchange, HttpRequest request)
{
    const qint64 startedNs = TrafficEntry::monotonicNs();
    // Creates whose batch was committed while this pass was reading requests are answered
    // now, not after the rest of the pass: under a create load that is a pass less of waiting.
    m_engine.reportSettledCreates();
    const QString baseUrl = RestApi::baseUrl(
        request.host, exchange.localAddress(), exchange.localPort(), request.secure);
    // Pipelined behind a create that waits for its batch: that batch is settled first, so
    // this request sees what its client was told it created.
    if (m_creates.waitsOn(exchange))
        m_creates.settle();
    // What the developer's code sent, for the traffic log; the control plane's own requests
    // are not part of it.
    std::optional<TrafficEntry> entry;
    if (!ControlPlane::handles(request.path))
        entry = startEntry(request);

    const QHostAddress peer = exchange.peerAddress();
    const auto admission = m_throttle.admit(peer, AuthThrottle::monotonicMs());
    if (admission.refused) {
        const ApiError error(kTooManyRequestsCode, 429,
            QStringLiteral("Too many failed authentication attempts from this address; try "
                           "again later"));
        if (entry)
            record(std::move(*entry), RestReply::error(error), startedNs);
        HttpResponse refused = HttpResponse::fromError(error);
        refused.headers.append({QByteArrayLiteral("Retry-After"), QByteArrayLiteral("1")});
        refused.close = true;
        exchange.respond(refused);
        return;
    }
    if (admission.wait.count() > 0) {
        // Held on a timer, credentials unchecked until its turn, so parallel guesses gain
        // nothing; the connection ends with its answer, and nothing behind it is read. The
        // engine's thread carries on serving everyone else.
        exchange.closeAfter();
        QTimer::singleShot(admission.wait, this,
            [this, exchange, peer, request = std::move(request), baseUrl, entry, startedNs] {
                m_throttle.release(peer);
                if (!exchange.isConnected())
                    return;
                const RestReply reply = answerCounted(peer, request, baseUrl, false);
                if (entry)
                    record(*entry, reply, startedNs);
                qCDebug(lcHttpServer)
                    << request.method << request.path << "->" << reply.status << "(held)";
                exchange.respond(reply.toHttp());
            });
        return;
    }

    RestReply reply = answerCounted(peer, request, baseUrl, true);
    if (reply.batch != 0) {
        qCDebug(lcHttpServer) << request.method << request.path << "->" << reply.status
                              << "(batched)";
        m_creates.answerWhenSettled(
            exchange, std::move(reply), [this, entry, startedNs](const RestReply &answered) {
                if (entry)
                    record(*entry, answered, startedNs);
            });
        return;
    }
    if (entry)
        record(std::move(*entry), reply, startedNs);
    if (reply.status >= 500)
        qCWarning(lcHttpServer) << request.method << request.path << "->" << reply.status
                                << reply.body;
    else
        qCDebug(lcHttpServer) << request.method << request.path << "->" << reply.status;
    exchange.respond(reply.toHttp());
}

} // namespace streams
