#pragma once

#include "remote/remoteendpoints.h"

#include <QByteArray>
#include <QNetworkRequest>
#include <QString>
#include <QUrl>
#include <functional>
#include <memory>

class QNetworkAccessManager;
class QNetworkReply;

/// The HTTP plumbing RestClient and EngineControlClient share: how a request is made, sent and
/// bounded in time. What each does with the answer (retries, error bodies) stays with it.
namespace streams::remoterequest {

/// "sync-streams-console/<version> (Qt <version>; <OS>)".
QByteArray userAgent();
/// The URL's port, or the one its scheme implies (443 for https and wss, else 80).
int effectivePort(const QUrl &url);
/// "host:port", for messages.
QString hostPort(const QUrl &url);

/// A request to `url` with HTTP Basic for `credentials`, `Accept: application/json`, our
/// User-Agent, and Qt's inactivity limit of `timeoutMs`.
QNetworkRequest make(const QUrl &url, const RemoteCredentials &credentials, int timeoutMs);

/// Sends `request` with `method`: GET and DELETE without a body, any other method with `body`
/// as `contentType`, read from a OneShotBody so that Qt never sends it twice. The whole request
/// is bounded too, not only inactivity (a server that trickles bytes must not hold it): after
/// `timeoutMs` the reply is aborted if `timingOut()`, called then, says the request is still
/// wanted.
QNetworkReply *send(QNetworkAccessManager &network, QNetworkRequest request,
    const QByteArray &method, const QByteArray &body, const QByteArray &contentType, int timeoutMs,
    const std::function<bool()> &timingOut);

/// send()'s `timingOut` for a call that records it timed out in a `timedOut` flag: a call that is
/// gone (answered, or its client closed) is left alone.
template<typename Call>
std::function<bool()> flagTimeout(std::weak_ptr<Call> call)
{
    return [call = std::move(call)] {
        const auto c = call.lock();
        if (c)
            c->timedOut = true;
        return c != nullptr;
    };
}

} // namespace streams::remoterequest
