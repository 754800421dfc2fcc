#pragma once

#include "api/apierror.h"
#include "server/httpresponse.h"
#include "server/listpagecache.h"
#include "server/restrouter.h"

#include <QHostAddress>
#include <QString>
#include <optional>

namespace streams {

class Engine;

/// One REST exchange's answer.
struct RestReply
{
    int status = 200;
    QByteArray body; // JSON, or empty for 204
    QByteArray allow; // for 405
    /// Non-zero: a create in this store batch, not to be sent before the batch is settled,
    /// and then only if the engine stored the stream (Engine::createStreamInBatch).
    quint64 batch = 0;
    QString streamSid = {}; // the stream of a batched create
    /// The whole HTTP/1.1 answer for a kept-open connection, when made ahead (kept list pages).
    QByteArray message = {};
    int code = 0; // Twilio's error code of an error answer
    QString fault = {}; // the fault rule that made this answer, if one did

    static RestReply error(const ApiError &error);

    /// The HTTP answer: Twilio's headers for the status (Allow, WWW-Authenticate, Retry-After).
    HttpResponse toHttp() const;
};

/// Twilio Sync v1 REST in front of an Engine, independent of sockets: HTTP Basic auth on every
/// request, routing (RestRouter), form-encoded bodies, Twilio's JSON shapes and error bodies,
/// and absolute URLs built from the base URL the client used (clients follow `next_page_url`
/// verbatim). List pages are kept (ListPageCache) and answered again before routing.
class RestApi final
{
public:
    explicit RestApi(Engine &engine);

    /// Answers one request. `batchCreates`: a stream create joins the engine's current store
    /// batch (see RestReply::batch) instead of being committed before this returns.
    /// `authenticated`, when given, says whether the credentials were checked and passed
    /// (nullopt: the request was refused before they were looked at).
    RestReply handle(QByteArrayView method, QByteArrayView encodedPath, QByteArrayView encodedQuery,
        QByteArrayView authorization, QByteArrayView body, const QString &baseUrl,
        bool batchCreates = false, std::optional<bool> *authenticated = nullptr);

    /// The base URL of answers to a request that named `host` (its Host header) and reached
    /// `local`:`port`: the Host when it is a plausible host[:port], else the local address
    /// (a Host is echoed into every URL returned, so nothing else passes).
    /// `secure`: the request came through TLS (a tunnel of zero-change mode), so https.
    static QString baseUrl(
        QByteArrayView host, const QHostAddress &local, quint16 port, bool secure = false);

    /// The user and password of an `Authorization: Basic …` header, if it is one.
    struct BasicCredentials
    {
        QByteArray user;
        QByteArray password;
    };
    static std::optional<BasicCredentials> basicCredentials(QByteArrayView authorization);
    /// Whether an Authorization header carries the engine's credentials (HTTP Basic).
    bool authorized(QByteArrayView authorization) const;
    /// The user name of HTTP Basic credentials (an account or API key SID; never the
    /// password), or empty.
    static QString basicUser(QByteArrayView authorization);

private:
    /// `listKey`: where a list page this request makes is kept (empty: not a GET).
    RestReply dispatch(const RestRoute &route, QByteArrayView encodedQuery, QByteArrayView body,
        const QString &baseUrl, const QString &listUrl, const QByteArray &listKey,
        bool batchCreates);

    Engine &m_engine;
    ListPageCache m_lists;
};

} // namespace streams
