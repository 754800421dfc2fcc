#include "remote/remoteendpoints.h"

namespace streams {

namespace {
const QString kDefaultRegion = QStringLiteral("us1");
const QString kTwilsockPath = QStringLiteral("/v3/wsconnect");

QUrl hostUrl(const QString &scheme, const QString &host, int port = -1)
{
    QUrl url;
    url.setScheme(scheme);
    url.setHost(host);
    url.setPort(port);
    return url;
}
} // namespace

RemoteEndpoints RemoteEndpoints::twilio(const QString &region, const QString &edge)
{
    // Host names are case-insensitive and users paste these with stray blanks.
    const QString r = region.trimmed().toLower();
    const QString e = edge.trimmed().toLower();

    // twilio-node's getHostname(): with neither set the product host stays bare; an edge alone
    // implies the default region, because edges are always addressed within a region.
    QString syncHost = QStringLiteral("sync.twilio.com");
    if (!r.isEmpty() || !e.isEmpty()) {
        QStringList parts{QStringLiteral("sync")};
        if (!e.isEmpty())
            parts << e;
        parts << (r.isEmpty() ? kDefaultRegion : r) << QStringLiteral("twilio")
              << QStringLiteral("com");
        syncHost = parts.join(u'.');
    }
    const QString liveRegion = r.isEmpty() ? kDefaultRegion : r;

    RemoteEndpoints endpoints;
    endpoints.restBase = hostUrl(QStringLiteral("https"), syncHost);
    endpoints.twilsockUrl =
        hostUrl(QStringLiteral("wss"), QStringLiteral("tsock.%1.twilio.com").arg(liveRegion));
    endpoints.twilsockUrl.setPath(kTwilsockPath);
    endpoints.cdsBase =
        hostUrl(QStringLiteral("https"), QStringLiteral("cds.%1.twilio.com").arg(liveRegion));
    return endpoints;
}

RemoteEndpoints RemoteEndpoints::engine(const QUrl &baseUrl)
{
    const QString scheme = baseUrl.scheme().toLower();
    // Only scheme, host and port matter: the engine serves /v1 and /v3 from its root, and a
    // pasted URL often carries a trailing slash or a path from the browser.
    RemoteEndpoints endpoints;
    endpoints.restBase = hostUrl(scheme, baseUrl.host(), baseUrl.port());
    endpoints.twilsockUrl =
        hostUrl(scheme == u"https" ? QStringLiteral("wss") : QStringLiteral("ws"), baseUrl.host(),
            baseUrl.port());
    endpoints.twilsockUrl.setPath(kTwilsockPath);
    endpoints.cdsBase = endpoints.restBase;
    return endpoints;
}

} // namespace streams
