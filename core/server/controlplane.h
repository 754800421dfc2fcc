#pragma once

#include "server/restapi.h"

#include <QByteArrayView>
#include <functional>
#include <optional>

namespace streams {

class Engine;
struct TrafficEntry;

/// The engine's control plane, `/_engine/…` on its port: health, state snapshots, reset, the
/// engine's clock, fault rules and the traffic log, JSON in and out (docs/engine.md has every
/// route). Every route but health needs the engine's credentials, as REST does; errors are
/// Twilio's error JSON. Runs on the engine's thread.
class ControlPlane final
{
public:
    ControlPlane(Engine &engine, const RestApi &rest);

    /// Whether `encodedPath` is the control plane's (`/_engine` or under `/_engine/`).
    static bool handles(QByteArrayView encodedPath);

    /// Answers one request. `authenticated` as for RestApi::handle: nullopt when no
    /// credentials were needed (health).
    RestReply handle(QByteArrayView method, QByteArrayView encodedPath, QByteArrayView encodedQuery,
        QByteArrayView authorization, QByteArrayView body, std::optional<bool> *authenticated);

    /// Answers one request whose caller is already trusted (the console's embedded engine,
    /// in process): everything handle() does after the credentials.
    RestReply answer(QByteArrayView method, QByteArrayView encodedPath, QByteArrayView encodedQuery,
        QByteArrayView body);

    /// How many live (twilsock) connections are open; set by the twilsock endpoint.
    void setLiveConnections(std::function<quint64()> count)
    {
        m_liveConnections = std::move(count);
    }

    /// One traffic entry as `GET /_engine/traffic` writes it.
    static QJsonObject entryJson(const TrafficEntry &entry);

private:
    /// The route under `/_engine` (one trailing slash ignored), e.g. "/faults/fault-1".
    static QByteArrayView route(QByteArrayView encodedPath);

    RestReply health();
    RestReply state(QByteArrayView method, QByteArrayView body);
    RestReply reset(QByteArrayView method);
    RestReply clock(QByteArrayView method, QByteArrayView body);
    RestReply faults(QByteArrayView method, QByteArrayView id, QByteArrayView body);
    RestReply traffic(QByteArrayView method, QByteArrayView encodedQuery);
    RestReply clockNow(int status, std::optional<qsizetype> expired = std::nullopt) const;

    Engine &m_engine;
    const RestApi &m_rest;
    std::function<quint64()> m_liveConnections;
};

} // namespace streams
