#include "server/restserver.h"

#include "api/limits.h"
#include "api/restjson.h"
#include "api/validation.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "server/formdecoder.h"
#include "server/twilsockserver.h"

#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QMetaMethod>
#include <QPointer>
#include <QScopeGuard>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <iterator>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

Q_LOGGING_CATEGORY(lcHttp, "streams.server.http", QtWarningMsg)

namespace streams {

namespace {
using Fields = FormDecoder::Fields;

QByteArray methodName(QHttpServerRequest::Method method)
{
    switch (method) {
    case QHttpServerRequest::Method::Get: return "GET";
    case QHttpServerRequest::Method::Put: return "PUT";
    case QHttpServerRequest::Method::Delete: return "DELETE";
    case QHttpServerRequest::Method::Post: return "POST";
    case QHttpServerRequest::Method::Head: return "HEAD";
    case QHttpServerRequest::Method::Options: return "OPTIONS";
    case QHttpServerRequest::Method::Patch: return "PATCH";
    case QHttpServerRequest::Method::Connect: return "CONNECT";
    case QHttpServerRequest::Method::Trace: return "TRACE";
    default: return "UNKNOWN";
    }
}

RestServer::Reply errorReply(const ApiError &error)
{
    return {error.httpStatus(), QJsonDocument(error.toJson()).toJson(QJsonDocument::Compact), {}};
}

// A Host header is echoed into every URL we return, so only host[:port] characters pass.
bool isPlausibleHost(QByteArrayView host)
{
    if (host.isEmpty() || host.size() > 255)
        return false;
    for (const char c : host) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

std::expected<std::optional<bool>, ApiError> booleanField(const Fields &fields, const char *name)
{
    const QString key = QString::fromLatin1(name);
    const auto it = fields.constFind(key);
    if (it == fields.cend())
        return std::optional<bool>();
    const auto value = validation::parseBoolean(*it);
    if (!value)
        return std::unexpected(
            ApiError::invalidParameter(key, QStringLiteral("must be true or false")));
    return value;
}

std::expected<ServiceFields, ApiError> serviceFields(const Fields &fields)
{
    ServiceFields out;
    if (const auto it = fields.constFind(QStringLiteral("FriendlyName")); it != fields.cend())
        out.friendlyName = *it;
    if (const auto it = fields.constFind(QStringLiteral("WebhookUrl")); it != fields.cend())
        out.webhookUrl = *it;
    const std::pair<const char *, std::optional<bool> ServiceFields::*> booleans[] = {
        {"ReachabilityWebhooksEnabled", &ServiceFields::reachabilityWebhooksEnabled},
        {"AclEnabled", &ServiceFields::aclEnabled},
        {"ReachabilityDebouncingEnabled", &ServiceFields::reachabilityDebouncingEnabled},
        {"WebhooksFromRestEnabled", &ServiceFields::webhooksFromRestEnabled},
    };
    for (const auto &[name, member] : booleans) {
        auto value = booleanField(fields, name);
        if (!value)
            return std::unexpected(value.error());
        out.*member = *value;
    }
    if (const auto it = fields.constFind(QStringLiteral("ReachabilityDebouncingWindow"));
        it != fields.cend()) {
        bool ok = false;
        const int window = it->toInt(&ok);
        if (!ok)
            return std::unexpected(
                ApiError::invalidParameter(QStringLiteral("ReachabilityDebouncingWindow"),
                    QStringLiteral("must be an integer")));
        out.reachabilityDebouncingWindowMs = window;
    }
    return out;
}

std::expected<std::optional<qint64>, ApiError> ttlField(const Fields &fields)
{
    const auto it = fields.constFind(QStringLiteral("Ttl"));
    if (it == fields.cend())
        return std::optional<qint64>();
    auto ttl = validation::parseTtl(*it);
    if (!ttl)
        return std::unexpected(ttl.error());
    return std::optional<qint64>(*ttl);
}

std::expected<PageRequest, ApiError> pageRequest(const Fields &query)
{
    PageRequest request;
    if (const auto it = query.constFind(QStringLiteral("PageSize")); it != query.cend()) {
        const auto size = validation::parsePageSize(*it);
        if (!size)
            return std::unexpected(size.error());
        request.pageSize = *size;
    }
    if (const auto it = query.constFind(QStringLiteral("Page")); it != query.cend()) {
        const auto page = validation::parsePageNumber(*it);
        if (!page)
            return std::unexpected(page.error());
        request.page = *page;
    }
    request.pageToken = query.value(QStringLiteral("PageToken"));
    return request;
}

template<typename T, typename Write>
RestServer::Reply listReply(const std::expected<Page<T>, ApiError> &page, QLatin1StringView key,
    const QString &listUrl, const PageRequest &request, Write write)
{
    if (!page)
        return errorReply(page.error());
    const std::optional<QString> token =
        request.pageToken.isEmpty() ? std::nullopt : std::optional<QString>(request.pageToken);
    RestServer::Reply reply{200, {}, {}};
    reply.body.reserve(256 + 600 * page->items.size());
    JsonWriter json(reply.body);
    json.beginObject().key(key).beginArray();
    for (const T &item : page->items)
        write(json, item);
    json.endArray();
    restjson::writeListMeta(json, key, listUrl, page->page, page->pageSize, token,
        page->nextPageToken, page->previousPageToken);
    json.endObject();
    return reply;
}

// Twilio's "Too Many Requests" code, for requests refused unchecked while an address is slowed.
constexpr int kTooManyRequestsCode = 20429;
/// Replies of at least this size are written at once; smaller ones when the event loop next
/// polls, together with the rest of the pass's replies (Qt's write notifier). Measured with
/// wrk -c64 against interleaved builds: a list page of 50 streams (28.8 KB) went from 30.6k to
/// 34.1k pages/s when written at once, where a fetch (567 bytes) fell from 42.6k to 35.8k
/// req/s, and pages of 10 and 20 streams (5.8 and 11.5 KB) gained nothing. Small replies keep
/// the passes long under load, which saves polling; a large one is worth sending while the
/// client has a core to read it.
constexpr qint64 kWriteAtOnceBytes = 16 * 1024;

// The status line of every status the engine answers with.
QByteArrayView statusLine(int status)
{
    switch (status) {
    case 200: return "HTTP/1.1 200 OK\r\n";
    case 201: return "HTTP/1.1 201 Created\r\n";
    case 204: return "HTTP/1.1 204 No Content\r\n";
    case 400: return "HTTP/1.1 400 Bad Request\r\n";
    case 401: return "HTTP/1.1 401 Unauthorized\r\n";
    case 403: return "HTTP/1.1 403 Forbidden\r\n";
    case 404: return "HTTP/1.1 404 Not Found\r\n";
    case 405: return "HTTP/1.1 405 Method Not Allowed\r\n";
    case 409: return "HTTP/1.1 409 Conflict\r\n";
    case 413: return "HTTP/1.1 413 Payload Too Large\r\n";
    case 429: return "HTTP/1.1 429 Too Many Requests\r\n";
    case 500: return "HTTP/1.1 500 Internal Server Error\r\n";
    case 503: return "HTTP/1.1 503 Service Unavailable\r\n";
    default: return {};
    }
}

// A complete HTTP/1.1 response, in one piece, as every reply is written: one buffer made with
// one allocation, which the socket takes without copying when it is large (QIODevice keeps a
// QByteArray of at least a ring-buffer chunk as it is), where QHttpServerResponder copies the
// body in behind the headers it wrote. Replies sent after handleRequest() returned (held ones,
// batched creates) could not use the responder anyway: Qt 6.4's needs the request object,
// which does not outlive handleRequest().
// `close`: the connection ends after this reply, as the client asked or the engine decided.
QByteArray rawResponse(const RestServer::Reply &reply, bool close)
{
    if (!close && !reply.message.isEmpty())
        return reply.message;
    QByteArray out;
    out.reserve(160 + reply.allow.size() + reply.body.size());
    if (const QByteArrayView line = statusLine(reply.status); !line.isEmpty())
        out += line;
    else
        out += "HTTP/1.1 " + QByteArray::number(reply.status) + " Status\r\n";
    if (reply.status != 204)
        out += "Content-Type: application/json; charset=utf-8\r\n";
    if (!reply.allow.isEmpty())
        out += "Allow: " + reply.allow + "\r\n";
    else if (reply.status == 401)
        out += "WWW-Authenticate: Basic realm=\"Twilio API\"\r\n";
    else if (reply.status == 429)
        out += "Retry-After: 1\r\n";
    if (close)
        out += "Connection: close\r\n";
    char length[24];
    const auto end = std::to_chars(std::begin(length), std::end(length), reply.body.size()).ptr;
    out += "Content-Length: ";
    out += QByteArrayView(length, end - length);
    out += "\r\n\r\n";
    out += reply.body;
    return out;
}

// Writes a reply answered while its request is handled. `close`: the connection ends after it
// (disconnectFromHost() sends what is written first); otherwise a large reply goes out at once.
// `headersOnly`: the answer to a HEAD, which has no body (RFC 9110, 9.3.2) whatever its
// Content-Length says; a client on a kept-open connection would read one as its next answer.
void sendReply(QTcpSocket *socket, const RestServer::Reply &reply, bool close, bool headersOnly)
{
    if (headersOnly)
        socket->write(rawResponse(reply, close).chopped(reply.body.size()));
    else
        socket->write(rawResponse(reply, close));
    if (close)
        socket->disconnectFromHost();
    else if (socket->bytesToWrite() >= kWriteAtOnceBytes)
        socket->flush();
}

template<typename T, typename Write>
RestServer::Reply resourceReply(int status, const std::expected<T, ApiError> &resource, Write write)
{
    if (!resource)
        return errorReply(resource.error());
    RestServer::Reply reply{status, {}, {}};
    reply.body.reserve(640);
    JsonWriter json(reply.body);
    write(json, *resource);
    return reply;
}
} // namespace

// A connection to the REST port. Qt's request parser reads what arrives on it right after
// RestServer::answerPlainRequests() has had its look; this says whether the parser, after its
// last read, was left waiting with nothing read (it then holds an open read transaction, empty).
class RestSocket final : public QTcpSocket
{
public:
    using QTcpSocket::QTcpSocket;
    bool qtParserIdle = true;
};

// The REST port's listener. Each connection is made a RestSocket whose arrivals reach
// answerPlainRequests() before Qt's parser: slots run in the order they were connected, and
// QAbstractHttpServer connects its own when it takes the connection from here. Its websocket
// upgrade disconnects every readyRead slot, answerPlainRequests() with the rest.
class RestListener final : public QTcpServer
{
public:
    explicit RestListener(RestServer &server) : QTcpServer(&server), m_server(server) { }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new RestSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            qCWarning(lcHttp) << "cannot take a connection:" << socket->errorString();
            delete socket;
            return;
        }
        connect(socket, &QTcpSocket::readyRead, &m_server,
            [this, socket] { m_server.answerPlainRequests(socket); });
        addPendingConnection(socket);
    }

private:
    RestServer &m_server;
};

void RestServer::answerPlainRequests(RestSocket *socket)
{
    if (socket->isTransactionStarted()) {
        if (!socket->qtParserIdle)
            return; // Qt's parser holds the start of a request: it reads on from there
        socket->commitTransaction(); // it read nothing; it starts a new one when it reads
    }
    // Whatever is left is Qt's parser's to read, right after this.
    const auto leave =
        qScopeGuard([socket] { socket->qtParserIdle = socket->bytesAvailable() == 0; });
    char buffered[8192]; // larger requests are rare (a publish of over ~8 KB), and go to Qt
    for (;;) {
        const qint64 size = socket->peek(buffered, sizeof buffered);
        if (size <= 0)
            return;
        const std::optional<PlainRequest> request =
            PlainRequest::parse(QByteArrayView(buffered, size));
        if (!request)
            return;
        socket->skip(request->length);
        serve(socket, request->parts);
        if (socket->state() != QAbstractSocket::ConnectedState) {
            socket->readAll(); // the connection ends with that reply: nothing after it is read
            return;
        }
    }
}

RestServer::RestServer(Engine &engine, QObject *parent)
    : QAbstractHttpServer(parent), m_engine(engine)
{
    connect(&m_engine, &Engine::createsSettled, this, &RestServer::acknowledgeCreates);
}

RestServer::~RestServer()
{
    // Whatever was created is committed; the connections get their answers if still open.
    settleCreates();
}

void RestServer::settleCreates()
{
    if (!m_unacknowledged.isEmpty())
        m_engine.settleCreates(); // acknowledgeCreates() runs for every batch
}

void RestServer::acknowledgeCreates(quint64 batch)
{
    // Batches settle in order, and the waiting creates were queued in order.
    qsizetype settled = 0;
    while (settled < m_unacknowledged.size() && m_unacknowledged.at(settled).reply.batch <= batch)
        ++settled;
    const QList<Unacknowledged> answered = m_unacknowledged.first(settled);
    m_unacknowledged.remove(0, settled);
    for (const Unacknowledged &entry : answered) {
        const std::optional<ApiError> refused = m_engine.createRefusal(entry.reply.streamSid);
        if (refused && refused->httpStatus() >= 500)
            qCWarning(lcHttp) << "create not committed:" << refused->message();
        if (!entry.socket || entry.socket->state() != QAbstractSocket::ConnectedState)
            continue; // stored all the same (if it was); the client will find it by listing
        entry.socket->write(rawResponse(refused ? errorReply(*refused) : entry.reply, entry.close));
        entry.socket->flush();
        if (entry.close)
            entry.socket->disconnectFromHost();
    }
}

quint16 RestServer::start(const QHostAddress &address, quint16 port, QString *errorString)
{
    auto *server = new RestListener(*this);
    if (!server->listen(address, port)) {
        if (errorString)
            *errorString = server->errorString();
        delete server;
        return 0;
    }
    // No Nagle: a twilsock notification or a reply written while an earlier one is still
    // unacknowledged would otherwise wait for the peer's delayed ACK, ~10 ms at 1,000 msg/s
    // (docs/performance.md). Set on the listening socket, every accepted one inherits it
    // (Linux), including those Qt upgrades to websockets before the engine ever sees them.
    const int noDelay = 1;
    if (::setsockopt(
            int(server->socketDescriptor()), IPPROTO_TCP, TCP_NODELAY, &noDelay, sizeof noDelay)
        != 0)
        qCWarning(lcHttp) << "cannot turn Nagle's algorithm off:" << std::strerror(errno);
    bind(server);
    return server->serverPort();
}

bool RestServer::authorized(QByteArrayView authorization) const
{
    if (!authorization.startsWith("Basic "))
        return false;
    const auto result = QByteArray::fromBase64Encoding(
        authorization.sliced(6).trimmed().toByteArray(), QByteArray::AbortOnBase64DecodingErrors);
    if (!result)
        return false;
    const QByteArrayView decoded = result.decoded;
    const qsizetype colon = decoded.indexOf(':');
    if (colon < 0)
        return false;
    return m_engine.credentials().accepts(decoded.first(colon), decoded.sliced(colon + 1));
}

RestServer::Reply RestServer::handle(QByteArrayView method, QByteArrayView encodedPath,
    QByteArrayView encodedQuery, QByteArrayView authorization, QByteArrayView body,
    const QString &baseUrl)
{
    std::optional<bool> authenticated;
    return handleChecked(
        method, encodedPath, encodedQuery, authorization, body, baseUrl, &authenticated);
}

RestServer::Reply RestServer::handleCounted(const QHostAddress &peer, QByteArrayView method,
    QByteArrayView encodedPath, QByteArrayView encodedQuery, QByteArrayView authorization,
    QByteArrayView body, const QString &baseUrl)
{
    std::optional<bool> authenticated;
    Reply reply = handleChecked(
        method, encodedPath, encodedQuery, authorization, body, baseUrl, &authenticated);
    if (authenticated == true)
        m_throttle.recordSuccess(peer);
    else if (authenticated == false)
        m_throttle.recordFailure(peer, AuthThrottle::monotonicMs());
    return reply;
}

RestServer::Reply RestServer::handleChecked(QByteArrayView method, QByteArrayView encodedPath,
    QByteArrayView encodedQuery, QByteArrayView authorization, QByteArrayView body,
    const QString &baseUrl, std::optional<bool> *authenticated)
{
    if (body.size() > limits::kMaxRequestBodyBytes)
        return errorReply(ApiError::payloadTooLarge(body.size()));
    const bool passed = authorized(authorization);
    *authenticated = passed;
    if (!passed)
        return errorReply(ApiError::authenticationFailed());
    QByteArrayView listPath = encodedPath;
    if (listPath.size() > 1 && listPath.endsWith('/'))
        listPath.chop(1);
    // A page asked for again is answered before routing: it was routed when it was made.
    QByteArray listKey;
    if (method == "GET") {
        listKey = baseUrl.toUtf8();
        listKey += listPath;
        listKey += '?';
        listKey += encodedQuery;
        if (const Reply *kept = cachedList(listKey))
            return *kept;
    }
    auto route = RestRouter::route(method, encodedPath);
    if (!route) {
        Reply reply = errorReply(route.error());
        if (route.error().httpStatus() == 405)
            reply.allow = RestRouter::allowedMethods(encodedPath);
        return reply;
    }
    return dispatch(
        *route, encodedQuery, body, baseUrl, baseUrl + QString::fromUtf8(listPath), listKey);
}

const RestServer::Reply *RestServer::cachedList(const QByteArray &key) const
{
    const auto it = m_lists.constFind(key);
    if (it == m_lists.cend() || it->generation != m_engine.listGeneration()
        || it->second != m_engine.clock().nowSeconds())
        return nullptr;
    return &it->reply;
}

void RestServer::cacheList(const QByteArray &key, const Reply &reply)
{
    // Each page is kept as its body and as its whole message, and a page may hold up to
    // limits::kMaxPageSize items: the pages are bounded by their bytes as well as their number.
    constexpr qsizetype kMaxCachedLists = 256;
    constexpr qsizetype kMaxCachedBytes = 16 * 1024 * 1024;
    CachedList kept{m_engine.listGeneration(), m_engine.clock().nowSeconds(), reply};
    kept.reply.message = rawResponse(reply, false);
    const qsizetype bytes = kept.reply.body.size() + kept.reply.message.size();
    if (bytes > kMaxCachedBytes / 4)
        return; // a page this large is not asked for again and again
    if (const auto it = m_lists.constFind(key); it != m_lists.cend())
        m_listBytes -= it->reply.body.size() + it->reply.message.size();
    else if (m_lists.size() >= kMaxCachedLists || m_listBytes + bytes > kMaxCachedBytes)
        clearCachedLists();
    m_listBytes += bytes;
    m_lists.insert(key, std::move(kept));
}

RestServer::Reply RestServer::dispatch(const RestRoute &route, QByteArrayView encodedQuery,
    QByteArrayView body, const QString &baseUrl, const QString &listUrl, const QByteArray &listKey)
{
    auto form = FormDecoder::decode(body);
    if (!form)
        return errorReply(form.error());
    const auto service = [&](JsonWriter &json, const Service &s) {
        restjson::writeService(json, s, baseUrl);
    };
    const auto stream = [&](JsonWriter &json, const Stream &s) {
        restjson::writeStream(json, s, baseUrl);
    };

    switch (route.operation) {
    case RestOperation::ListServices:
    case RestOperation::ListStreams: {
        auto query = FormDecoder::decode(encodedQuery);
        if (!query)
            return errorReply(query.error());
        auto request = pageRequest(*query);
        if (!request)
            return errorReply(request.error());
        const Reply reply = route.operation == RestOperation::ListServices
            ? listReply(m_engine.listServices(*request), QLatin1StringView("services"), listUrl,
                *request, service)
            : listReply(m_engine.listStreams(route.serviceId, *request),
                QLatin1StringView("streams"), listUrl, *request, stream);
        if (reply.status == 200 && !listKey.isEmpty())
            cacheList(listKey, reply);
        return reply;
    }
    case RestOperation::CreateService:
    case RestOperation::UpdateService: {
        auto fields = serviceFields(*form);
        if (!fields)
            return errorReply(fields.error());
        if (route.operation == RestOperation::CreateService)
            return resourceReply(201, m_engine.createService(*fields), service);
        return resourceReply(200, m_engine.updateService(route.serviceId, *fields), service);
    }
    case RestOperation::FetchService:
        return resourceReply(200, m_engine.fetchService(route.serviceId), service);
    case RestOperation::DeleteService: {
        auto deleted = m_engine.deleteService(route.serviceId);
        return deleted ? Reply{204, {}, {}} : errorReply(deleted.error());
    }
    case RestOperation::CreateStream: {
        Engine::StreamCreate create;
        if (const auto it = form->constFind(QStringLiteral("UniqueName")); it != form->cend())
            create.uniqueName = *it;
        auto ttl = ttlField(*form);
        if (!ttl)
            return errorReply(ttl.error());
        create.ttlSeconds = *ttl;
        if (!m_batching)
            return resourceReply(201, m_engine.createStream(route.serviceId, create), stream);
        auto created = m_engine.createStreamInBatch(route.serviceId, create);
        if (!created)
            return errorReply(created.error());
        Reply reply = resourceReply(201, std::expected<Stream, ApiError>(created->first), stream);
        reply.batch = created->second;
        reply.streamSid = created->first.sid;
        return reply;
    }
    case RestOperation::FetchStream:
        return resourceReply(200, m_engine.fetchStream(route.serviceId, route.streamId), stream);
    case RestOperation::UpdateStream: {
        auto ttl = ttlField(*form);
        if (!ttl)
            return errorReply(ttl.error());
        return resourceReply(
            200, m_engine.updateStream(route.serviceId, route.streamId, *ttl), stream);
    }
    case RestOperation::DeleteStream: {
        auto deleted = m_engine.deleteStream(route.serviceId, route.streamId);
        return deleted ? Reply{204, {}, {}} : errorReply(deleted.error());
    }
    case RestOperation::CreateStreamMessage: {
        const auto data = form->constFind(QStringLiteral("Data"));
        if (data == form->cend())
            return errorReply(
                ApiError::invalidJson(QStringLiteral("the Data parameter is required")));
        // The reply carries exactly the bytes subscribers receive.
        return resourceReply(201, m_engine.publish(route.serviceId, route.streamId, data->toUtf8()),
            restjson::writeMessage);
    }
    }
    return errorReply(ApiError::internal(QStringLiteral("unhandled operation")));
}

bool RestServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    const QByteArray method = methodName(request.method());
    const QUrl url = request.url();
    const QByteArray path = url.path(QUrl::FullyEncoded).toUtf8();

    // The twilsock endpoint shares this port. Qt versions that consult the handler for an
    // upgrade hand the socket to newWebSocketConnection only when it is handled without a
    // response; 6.4 upgrades before asking (TwilsockServer checks the path itself).
    // Authentication happens inside, with the access token of the `init` frame.
    if (request.method() == QHttpServerRequest::Method::Get
        && path == QByteArrayView(TwilsockServer::kPath)
        && request.value("Upgrade").compare("websocket", Qt::CaseInsensitive) == 0
        && isSignalConnected(QMetaMethod::fromSignal(&QAbstractHttpServer::newWebSocketConnection)))
        return true;
    const QByteArray query = url.query(QUrl::FullyEncoded).toUtf8();
    const QByteArray host = request.value("Host");
    const QByteArray authorization = request.value("Authorization");
    const QByteArray body = request.body();
    const bool close = request.value("Connection").compare("close", Qt::CaseInsensitive) == 0;
    serve(socket, {method, path, query, host, authorization, body, close});
    return true;
}

void RestServer::serve(QTcpSocket *socket, const PlainRequest::Parts &request)
{
    const QByteArrayView method = request.method;
    const QByteArrayView path = request.path;
    const bool headersOnly = method == "HEAD";
    // Creates whose batch was committed while this pass was reading requests are answered
    // now, not after the rest of the pass: under a create load that is a pass less of waiting.
    m_engine.reportSettledCreates();

    QByteArray host = request.host.toByteArray();
    if (!isPlausibleHost(host)) {
        const QHostAddress local = socket->localAddress();
        host = (local.protocol() == QAbstractSocket::IPv6Protocol
                       ? '[' + local.toString().toLatin1() + ']'
                       : local.toString().toLatin1())
            + ':' + QByteArray::number(socket->localPort());
    }
    const QString baseUrl = QStringLiteral("http://") + QString::fromLatin1(host);

    // A request behind a held one on the same connection: the connection ends with the held
    // reply, and answering this first would put the replies out of order.
    if (m_holding.contains(socket))
        return;
    // Pipelined behind a create that waits for its batch: that answer goes first.
    if (std::any_of(m_unacknowledged.cbegin(), m_unacknowledged.cend(),
            [socket](const Unacknowledged &entry) { return entry.socket == socket; }))
        settleCreates();

    const QHostAddress peer = socket->peerAddress();
    const auto admission = m_throttle.admit(peer, AuthThrottle::monotonicMs());
    if (admission.refused) {
        const Reply refused = errorReply(ApiError(kTooManyRequestsCode, 429,
            QStringLiteral("Too many failed authentication attempts from this address; "
                           "try again later")));
        sendReply(socket, refused, true, headersOnly);
        return;
    }
    if (admission.wait.count() > 0) {
        // Held on a timer, credentials unchecked until its turn, so parallel guesses gain
        // nothing. The engine thread carries on serving everyone else.
        m_holding.insert(socket);
        connect(socket, &QObject::destroyed, this,
            [this, key = static_cast<const QObject *>(socket)] { m_holding.remove(key); });
        QTimer::singleShot(admission.wait, this,
            [this, socket = QPointer<QTcpSocket>(socket), peer, headersOnly,
                method = method.toByteArray(), path = path.toByteArray(),
                query = request.query.toByteArray(),
                authorization = request.authorization.toByteArray(),
                body = request.body.toByteArray(), baseUrl] {
                m_throttle.release(peer);
                if (!socket || socket->state() != QAbstractSocket::ConnectedState)
                    return;
                m_holding.remove(socket.get());
                const Reply reply =
                    handleCounted(peer, method, path, query, authorization, body, baseUrl);
                qCDebug(lcHttp) << method << path << "->" << reply.status << "(held)";
                sendReply(socket, reply, true, headersOnly);
            });
        return;
    }

    m_batching = true;
    const Reply reply = handleCounted(
        peer, method, path, request.query, request.authorization, request.body, baseUrl);
    m_batching = false;
    if (reply.batch != 0) {
        qCDebug(lcHttp) << method << path << "->" << reply.status << "(batched)";
        m_unacknowledged.append({socket, reply, request.close});
        if (!std::exchange(m_submitQueued, true))
            QMetaObject::invokeMethod(
                this,
                [this] {
                    m_submitQueued = false;
                    m_engine.submitCreates();
                },
                Qt::QueuedConnection);
        return;
    }
    if (reply.status >= 500)
        qCWarning(lcHttp) << method << path << "->" << reply.status << reply.body;
    else
        qCDebug(lcHttp) << method << path << "->" << reply.status;

    sendReply(socket, reply, request.close, headersOnly);
}

void RestServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    const QByteArray body = QJsonDocument(ApiError::notFound(request.url().path()).toJson())
                                .toJson(QJsonDocument::Compact);
    makeResponder(request, socket)
        .write(body, {{"Content-Type", "application/json; charset=utf-8"}},
            QHttpServerResponder::StatusCode::NotFound);
}

} // namespace streams
