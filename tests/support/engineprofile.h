#pragma once

#include "engineprocess.h"
#include "profiles/connectionprofile.h"

namespace streams::testing {

/// An "Engine at URL" profile for a test's engine process: its URL, Account SID and (for an API
/// key) key SID. The secret is the caller's to store.
inline ConnectionProfile engineProfile(const EngineProcess &engine, const QString &name,
    ConnectionProfile::AuthMethod method = ConnectionProfile::AuthMethod::ApiKey)
{
    ConnectionProfile profile;
    profile.name = name;
    profile.kind = ConnectionProfile::Kind::EngineAtUrl;
    profile.engineUrl = QUrl(engine.baseUrl());
    profile.accountSid = engine.accountSid();
    profile.authMethod = method;
    if (method == ConnectionProfile::AuthMethod::ApiKey)
        profile.apiKeySid = engine.apiKeySid();
    return profile;
}

} // namespace streams::testing
