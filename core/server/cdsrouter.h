#pragma once

#include "api/apierror.h"
#include "api/stream.h"
#include "api/streammessage.h"

#include <QByteArray>
#include <QString>
#include <optional>

namespace streams {

class Engine;

/// The Sync data service ("CDS") requests the twilio-sync SDK sends inside twilsock `message`
/// frames, answered by the Engine: `GET /v3/Streams/{sid|unique name}`, `POST /v3/Streams`
/// {unique_name?, ttl?}, and on the descriptor's own URLs (`/v3/Services/{IS}/Streams/{TO}`)
/// `GET`/`POST` {ttl}/`DELETE`, plus `POST .../Messages` {data}. Bodies are JSON; errors use
/// Twilio's {code, message, more_info, status}. The service is always the one the access token
/// grants, never one named by the client. Stateless apart from the engine; engine thread only.
/// `POST /v4/Subscriptions` is per-connection state and is answered by TwilsockConnection.
class CdsRouter final
{
public:
    /// Who is asking, as established by the connection's `init`.
    struct Caller
    {
        QString serviceSid; // the token's grant, resolved to a SID
        QString identity; // grants.identity, recorded as created_by
        QString baseUrl; // "http://" + the host the client addressed, for descriptor URLs
    };

    struct Reply
    {
        int status = 200;
        QByteArray body; // JSON, or empty for 204
        /// Set when the request published a message (so the publisher's own connection can
        /// leave it out of what it is sent back).
        std::optional<StreamMessage> published;
    };

    explicit CdsRouter(Engine &engine) : m_engine(engine) { }

    /// `path` is the request's path as sent (percent-encoded, no query string).
    Reply route(const Caller &caller, QStringView method, QStringView path, QByteArrayView body);

    /// The StreamDescriptor the SDK reads: sid, unique_name, account_sid, service_sid, url,
    /// links.messages, date_expires, date_created, date_updated, created_by.
    static QByteArray descriptor(const Stream &stream, QStringView baseUrl);
    static QString streamUrl(QStringView baseUrl, QStringView serviceSid, QStringView streamSid);
    /// The HTTP reason phrase twilsock's `http_status.status` carries, e.g. "NOT_FOUND".
    static QLatin1StringView statusName(int httpStatus);
    static Reply errorReply(const ApiError &error);

private:
    Reply createStream(const Caller &caller, QByteArrayView body);
    Reply updateStream(const Caller &caller, const QString &streamId, QByteArrayView body);
    Reply publish(const Caller &caller, const QString &streamId, QByteArrayView body);

    Engine &m_engine;
};

} // namespace streams
