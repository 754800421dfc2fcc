#pragma once

#include "remote/remoteendpoints.h"

#include <QString>
#include <QUrl>
#include <optional>

namespace streams {

/// A saved connection, as the connection manager and `streams-cli --profile` see it. Holds no
/// secret: the Auth Token or API key secret lives in the OS keychain under secretKey().
struct ConnectionProfile
{
    enum class Kind {
        LocalEngine, // the console's embedded engine (always present, not editable)
        EngineAtUrl, // a streams-engine elsewhere
        TwilioAccount // Twilio's cloud
    };
    enum class AuthMethod {
        AuthToken, // Account SID + Auth Token (REST only: no live subscriptions to the cloud)
        ApiKey // API Key SID + Secret (REST and live subscriptions)
    };

    QString id; // stable (a UUID without braces; "local" for the embedded engine)
    QString name; // unique among profiles, what --profile NAME matches
    Kind kind = Kind::TwilioAccount;
    QUrl engineUrl; // EngineAtUrl only
    QString accountSid;
    AuthMethod authMethod = AuthMethod::ApiKey;
    QString apiKeySid; // ApiKey only
    QString region; // TwilioAccount only; empty = us1
    QString edge; // TwilioAccount only; empty = none

    /// The keychain entry that holds this profile's secret: "profile/<id>".
    QString secretKey() const;
    /// REST/twilsock/CDS addresses for the profile (not meaningful for LocalEngine).
    RemoteEndpoints endpoints() const;
    /// Credentials with `secret` filled in as the auth token or the API key secret.
    RemoteCredentials credentials(const QString &secret) const;

    /// Field problems, as "field: message" lines a dialog can place next to the field; empty when
    /// the profile can be saved. Checks SID shapes (AC/SK + 32 hex), URL scheme/host, name.
    struct Problem
    {
        enum class Field {
            Name,
            EngineUrl,
            AccountSid,
            ApiKeySid,
            Region,
            Edge,
            Secret
        };
        Field field;
        QString message;
    };
    QList<Problem> problems() const;

    static ConnectionProfile localEngine();
    static QString kindName(Kind kind); // "Local engine", "Engine at URL", "Twilio account"

    friend bool operator==(const ConnectionProfile &, const ConnectionProfile &) = default;
};

} // namespace streams
