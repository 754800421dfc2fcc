#pragma once

#include "backend/remotebackend.h"
#include "engineprocess.h"

namespace streams::testing {

/// What a RemoteBackend needs to reach a test's engine process, with an API key or the Auth
/// Token, and REST retries short enough that a dead engine is noticed in well under a second.
inline RemoteConnection engineConnection(const EngineProcess &engine, bool apiKey = true)
{
    RemoteConnection connection;
    connection.displayName = QStringLiteral("engine under test");
    connection.endpoints = RemoteEndpoints::engine(QUrl(engine.baseUrl()));
    connection.credentials.accountSid = engine.accountSid();
    if (apiKey) {
        connection.credentials.apiKeySid = engine.apiKeySid();
        connection.credentials.apiKeySecret = engine.apiKeySecret();
    } else {
        connection.credentials.authToken = engine.authToken();
    }
    connection.rest.timeoutMs = 2000;
    connection.rest.maxAttempts = 2;
    connection.rest.backoffInitialMs = 50;
    connection.rest.backoffMaxMs = 200;
    return connection;
}

} // namespace streams::testing
