#pragma once

#include "backend/localbackend.h"
#include "backend/remotebackend.h"
#include "engine/engine.h"

#include <QHostAddress>
#include <QProcessEnvironment>

namespace streams::testing {

/// The publish rate limit an engine starts with unless told otherwise: Twilio's 30 messages a
/// second per stream, with its burst.
inline const std::optional<double> kEnginePublishRate = EngineOptions().publishRatePerSecond;

/// A test's embedded engine (LocalBackend) in `dataDir` on a free loopback port: credentials
/// generated there, never taken from the environment the tests run in, and no publish rate
/// limit unless `publishRatePerSecond` says one.
inline std::expected<std::unique_ptr<LocalBackend>, QString> startEmbeddedEngine(
    const QString &dataDir, std::optional<double> publishRatePerSecond = std::nullopt)
{
    EngineOptions options;
    options.dataDir = dataDir;
    options.environment = QProcessEnvironment();
    options.publishRatePerSecond = publishRatePerSecond;
    return LocalBackend::start(options, QHostAddress::LocalHost, 0);
}

/// A "Twilio account" connection for what the console says of Twilio's cloud; the tests that
/// use it make no request that would reach the network.
inline RemoteConnection twilioCloudConnection()
{
    RemoteConnection cloud;
    cloud.displayName = QStringLiteral("Twilio");
    cloud.endpoints = RemoteEndpoints::twilio();
    cloud.twilioCloud = true;
    cloud.credentials.accountSid = QStringLiteral("AC00000000000000000000000000000001");
    return cloud;
}

} // namespace streams::testing
