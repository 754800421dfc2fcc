#pragma once

#include "api/apierror.h"
#include "server/auththrottle.h"
#include "server/plainrequest.h"
#include "server/restrouter.h"

#include <QAbstractHttpServer>
#include <QHostAddress>
#include <QJsonObject>
#include <QPointer>
#include <QSet>
#include <QTcpSocket>
#include <optional>

namespace streams {

class Engine;
class RestSocket;

/// Twilio Sync v1 REST over HTTP/1.1 on one port, in front of an Engine: HTTP Basic auth on every
/// request, form-encoded bodies, Twilio's JSON shapes and error bodies, and absolute URLs built
/// from the scheme and Host the client used (clients follow `next_page_url` verbatim). Runs on
/// the engine's thread. An address that keeps failing authentication is slowed down
/// (AuthThrottle): its requests are held on a timer, never by blocking the thread.
class RestServer final : public QAbstractHttpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RestServer)

public:
    explicit RestServer(Engine &engine, QObject *parent = nullptr);
    ~RestServer() override;

    /// Starts listening; returns the bound port, or 0 (with `errorString`) on failure.
    quint16 start(const QHostAddress &address, quint16 port, QString *errorString = nullptr);

    /// One REST exchange, independent of sockets (used by the socket path and by tests).
    struct Reply
    {
        int status = 200;
        QByteArray body; // JSON, or empty for 204
        QByteArray allow; // for 405
        /// Non-zero: a create in this store batch, not to be sent before the batch is
        /// settled, and then only if the engine stored the stream (Engine::createStreamInBatch).
        quint64 batch = 0;
        QString streamSid = {}; // the stream of a batched create
        /// The whole HTTP/1.1 response for a connection kept open, when made ahead: kept list
        /// pages carry it, so one asked for again goes to the socket as it is, uncopied.
        QByteArray message = {};
    };
    Reply handle(QByteArrayView method, QByteArrayView encodedPath, QByteArrayView encodedQuery,
        QByteArrayView authorization, QByteArrayView body, const QString &baseUrl);

    /// Shared with the twilsock endpoint on the same port, so failures on one count for both.
    AuthThrottle &authThrottle() { return m_throttle; }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    /// `listKey`: where a list page this request makes is kept (empty: not a GET).
    Reply dispatch(const RestRoute &route, QByteArrayView encodedQuery, QByteArrayView body,
        const QString &baseUrl, const QString &listUrl, const QByteArray &listKey);
    bool authorized(QByteArrayView authorization) const;
    /// handle(), also saying whether the credentials were checked and passed (nullopt: the
    /// request was refused before they were looked at).
    Reply handleChecked(QByteArrayView method, QByteArrayView encodedPath,
        QByteArrayView encodedQuery, QByteArrayView authorization, QByteArrayView body,
        const QString &baseUrl, std::optional<bool> *authenticated);
    /// Runs a request whose turn has come and feeds the outcome to the throttle.
    Reply handleCounted(const QHostAddress &peer, QByteArrayView method, QByteArrayView encodedPath,
        QByteArrayView encodedQuery, QByteArrayView authorization, QByteArrayView body,
        const QString &baseUrl);

    friend class RestListener;
    /// Answers the plain requests (PlainRequest) at the front of what arrived on `socket`,
    /// before Qt's request parser reads them, through serve() as handleRequest() would (Qt's
    /// parser costs a quarter to two fifths of the engine's CPU per request; PlainRequest).
    /// Leaves anything else, and a connection where Qt's parser holds part of a request, to it.
    void answerPlainRequests(RestSocket *socket);
    /// Answers one request from `socket`, as Qt's parser or PlainRequest read it, or holds or
    /// queues its answer.
    void serve(QTcpSocket *socket, const PlainRequest::Parts &request);

    /// A list reply from this second and this engine list generation, if one was made.
    const Reply *cachedList(const QByteArray &key) const;
    /// Keeps a 200 list reply, with its HTTP message made ahead.
    void cacheList(const QByteArray &key, const Reply &reply);

    /// Sends the creates of batch `batch` and before: 201, or why the stream was not stored.
    void acknowledgeCreates(quint64 batch);
    /// Settles every batch, so that what waits for one is sent.
    void settleCreates();

    Engine &m_engine;
    AuthThrottle m_throttle;
    // Group commit for stream creates that arrive together: they are handed to the store's
    // writer thread at the end of the event loop pass they arrived in, and their 201s wait
    // until the commit that made them durable (and anything else to be answered on their
    // connections waits for those).
    bool m_batching = false; // dispatch() may put creates in a batch (requests from sockets)
    struct Unacknowledged
    {
        QPointer<QTcpSocket> socket;
        Reply reply;
        bool close = false; // the client asked for Connection: close
    };
    QList<Unacknowledged> m_unacknowledged;
    bool m_submitQueued = false;
    // List pages as sent, by base URL, path and query: a page of 50 streams takes longer to
    // build than anything else the engine answers, and clients (the console's tree, dashboards)
    // ask for the same pages again and again. Looked up once the credentials passed, before
    // routing. Valid while the engine's list generation is unchanged, and within the second it
    // was made, since expiry is per second.
    struct CachedList
    {
        quint64 generation = 0;
        qint64 second = 0;
        Reply reply;
    };
    QHash<QByteArray, CachedList> m_lists;
    qsizetype m_listBytes = 0; // of every kept page's body and message
    void clearCachedLists()
    {
        m_lists.clear();
        m_listBytes = 0;
    }
    // Sockets with a held request: its reply goes out later and ends the connection, so
    // whatever else arrives on them meanwhile is not answered (it would overtake the reply).
    QSet<const QObject *> m_holding;
};

} // namespace streams
