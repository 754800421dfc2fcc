#pragma once

#include "profiles/connectionprofile.h"

#include <QList>
#include <QProcessEnvironment>
#include <QString>
#include <expected>
#include <optional>

namespace streams {

/// A profile found outside the console, with its secret (to go into the keychain only).
struct ImportedProfile
{
    ConnectionProfile profile; // no id yet
    QString secret; // auth token or API key secret; empty if the source holds none
    QString source; // "environment" or the twilio-cli file and profile name
    QString sourceProfileId; // the twilio-cli profile's key, exactly as in its file
};

/// Reads profiles from where Twilio users already keep them.
namespace profileimport {

/// TWILIO_ACCOUNT_SID with TWILIO_API_KEY + TWILIO_API_SECRET (preferred) or TWILIO_AUTH_TOKEN,
/// TWILIO_REGION, TWILIO_EDGE. Nothing when TWILIO_ACCOUNT_SID is unset.
std::optional<ImportedProfile> fromEnvironment(const QProcessEnvironment &environment);

/// twilio-cli's `~/.twilio-cli/config.json` (or $TWILIO_CONFIG_DIR/config.json, as cli-core's
/// configureEnv() sets it): every entry of "profiles" (accountSid, apiKey, apiSecret when stored
/// there, region, edge; the top-level "edge" as default), then the legacy "projects" array
/// (accountSid and region only: their key and secret are in twilio-cli's own keychain entry).
/// Imported names are "twilio-cli: <profile id>".
QString twilioCliConfigPath(const QProcessEnvironment &environment);
std::expected<QList<ImportedProfile>, QString> fromTwilioCli(const QString &configPath);

/// Removes the apiSecret of the named twilio-cli profiles from the file (after the secrets were
/// stored in the keychain), rewriting it atomically with its permissions kept; the rest of the
/// file is left as it was, byte for byte. Names are twilio-cli profile ids or the imported
/// names ("twilio-cli: <id>").
std::expected<void, QString> removeSecretsFromTwilioCli(
    const QString &configPath, const QStringList &profileNames);

} // namespace profileimport
} // namespace streams
