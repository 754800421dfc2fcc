#pragma once

#include "remote/restclient.h"

namespace streams::testing {

/// REST client options for tests: short timeouts and backoff, so that a dead or silent server is
/// noticed in a second or two, not after the defaults meant for the internet.
inline RestClient::Options quickRest(int timeoutMs = 3000, int maxAttempts = 2)
{
    RestClient::Options options;
    options.timeoutMs = timeoutMs;
    options.maxAttempts = maxAttempts;
    options.backoffInitialMs = 50;
    options.backoffMaxMs = 200;
    return options;
}

} // namespace streams::testing
