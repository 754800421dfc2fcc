#pragma once

#include <QString>
#include <QUrl>

namespace streams {

/// Who a remote connection authenticates as. REST uses HTTP Basic with the API key (SID +
/// secret) when there is one, else the Account SID + Auth Token. Live subscriptions mint twilsock
/// access tokens, which only an API key can sign, so they need the key.
struct RemoteCredentials
{
    QString accountSid;
    QString authToken; // empty when an API key is used
    QString apiKeySid;
    QString apiKeySecret;

    bool hasApiKey() const { return !apiKeySid.isEmpty() && !apiKeySecret.isEmpty(); }
    QString basicUser() const { return hasApiKey() ? apiKeySid : accountSid; }
    QString basicPassword() const { return hasApiKey() ? apiKeySecret : authToken; }
};

/// Where a remote service answers: the REST API, the twilsock websocket, and the CDS base the
/// twilsock `message` frames name as their routing label (docs/architecture.md#sync-over-twilsock).
struct RemoteEndpoints
{
    QUrl restBase; // scheme://host[:port], no /v1
    QUrl twilsockUrl;
    QUrl cdsBase;

    /// Twilio's cloud: https://sync.twilio.com, wss://tsock.us1.twilio.com/v3/wsconnect and
    /// https://cds.us1.twilio.com by default. With a region and/or edge (as twilio-node builds
    /// them): sync.{edge}.{region}.twilio.com (region us1 when only an edge is given),
    /// tsock.{region}.twilio.com and cds.{region}.twilio.com.
    static RemoteEndpoints twilio(const QString &region = {}, const QString &edge = {});
    /// A streams-engine at `baseUrl` (http[s]://host:port): REST there,
    /// ws[s]://host:port/v3/wsconnect.
    static RemoteEndpoints engine(const QUrl &baseUrl);
};

} // namespace streams
