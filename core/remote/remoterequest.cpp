#include "remote/remoterequest.h"

#include "remote/oneshotbody.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSysInfo>
#include <QTimer>

namespace streams::remoterequest {

QByteArray userAgent()
{
    return QByteArrayLiteral("sync-streams-console/" STREAMS_VERSION " (Qt ") + qVersion() + "; "
        + QSysInfo::prettyProductName().toUtf8() + ')';
}

int effectivePort(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    return url.port(scheme == u"https" || scheme == u"wss" ? 443 : 80);
}

QString hostPort(const QUrl &url)
{
    return QStringLiteral("%1:%2").arg(url.host()).arg(effectivePort(url));
}

QNetworkRequest make(const QUrl &url, const RemoteCredentials &credentials, int timeoutMs)
{
    QNetworkRequest request(url);
    request.setRawHeader("Authorization",
        "Basic "
            + (credentials.basicUser() + u':' + credentials.basicPassword()).toUtf8().toBase64());
    request.setRawHeader("Accept", "application/json");
    request.setHeader(QNetworkRequest::UserAgentHeader, userAgent());
    request.setTransferTimeout(timeoutMs);
    return request;
}

QNetworkReply *send(QNetworkAccessManager &network, QNetworkRequest request,
    const QByteArray &method, const QByteArray &body, const QByteArray &contentType, int timeoutMs,
    const std::function<bool()> &timingOut)
{
    QNetworkReply *reply = nullptr;
    if (method == "GET") {
        reply = network.get(request);
    } else if (method == "DELETE") {
        reply = network.deleteResource(request);
    } else {
        request.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
        // Sent straight from the one-shot body: with a length given, Qt neither buffers nor
        // rewinds it (see OneShotBody).
        request.setHeader(QNetworkRequest::ContentLengthHeader, body.size());
        request.setAttribute(QNetworkRequest::DoNotBufferUploadDataAttribute, true);
        auto *device = new OneShotBody(body, nullptr);
        reply = network.sendCustomRequest(request, method, device);
        device->setParent(reply);
    }
    QTimer::singleShot(timeoutMs, reply, [timingOut, reply] {
        if (timingOut())
            reply->abort();
    });
    return reply;
}

} // namespace streams::remoterequest
