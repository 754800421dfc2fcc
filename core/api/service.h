#pragma once

#include "api/limits.h"

#include <QString>
#include <optional>

namespace streams {

/// A Sync Service as the engine stores it. Dates are seconds since the Unix epoch, UTC.
struct Service
{
    QString sid;
    QString uniqueName; // null unless the engine assigned one (only "default" today)
    QString accountSid;
    QString friendlyName; // null when never set
    QString webhookUrl; // null when never set
    bool reachabilityWebhooksEnabled = false;
    bool aclEnabled = false;
    bool reachabilityDebouncingEnabled = false;
    int reachabilityDebouncingWindowMs = limits::kDefaultDebouncingWindowMs;
    bool webhooksFromRestEnabled = false;
    qint64 dateCreated = 0;
    qint64 dateUpdated = 0;

    friend bool operator==(const Service &, const Service &) = default;
};

/// The writable fields of a Service; an unset optional leaves the stored value alone.
struct ServiceFields
{
    std::optional<QString> friendlyName;
    std::optional<QString> webhookUrl;
    std::optional<bool> reachabilityWebhooksEnabled;
    std::optional<bool> aclEnabled;
    std::optional<bool> reachabilityDebouncingEnabled;
    std::optional<int> reachabilityDebouncingWindowMs;
    std::optional<bool> webhooksFromRestEnabled;

    void applyTo(Service &service) const
    {
        if (friendlyName)
            service.friendlyName = *friendlyName;
        if (webhookUrl)
            service.webhookUrl = *webhookUrl;
        if (reachabilityWebhooksEnabled)
            service.reachabilityWebhooksEnabled = *reachabilityWebhooksEnabled;
        if (aclEnabled)
            service.aclEnabled = *aclEnabled;
        if (reachabilityDebouncingEnabled)
            service.reachabilityDebouncingEnabled = *reachabilityDebouncingEnabled;
        if (reachabilityDebouncingWindowMs)
            service.reachabilityDebouncingWindowMs = *reachabilityDebouncingWindowMs;
        if (webhooksFromRestEnabled)
            service.webhooksFromRestEnabled = *webhooksFromRestEnabled;
    }
};

} // namespace streams
