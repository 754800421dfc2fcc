#pragma once

#include "api/apierror.h"
#include "server/restrouter.h"

#include <QAbstractHttpServer>
#include <QHostAddress>
#include <QJsonObject>

namespace streams {

class Engine;

/// Twilio Sync v1 REST over HTTP/1.1 on one port, in front of an Engine: HTTP Basic auth on every
/// request, form-encoded bodies, Twilio's JSON shapes and error bodies, and absolute URLs built
/// from the scheme and Host the client used (clients follow `next_page_url` verbatim). Runs on
/// the engine's thread.
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
    };
    Reply handle(QByteArrayView method, QByteArrayView encodedPath, QByteArrayView encodedQuery,
        QByteArrayView authorization, QByteArrayView body, const QString &baseUrl);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    Reply dispatch(const RestRoute &route, QByteArrayView encodedQuery, QByteArrayView body,
        const QString &baseUrl, const QString &listUrl);
    bool authorized(QByteArrayView authorization) const;

    Engine &m_engine;
};

} // namespace streams
