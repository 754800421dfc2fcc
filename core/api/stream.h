#pragma once

#include <QString>
#include <optional>

namespace streams {

/// A Sync Stream (a "Message Stream"). Dates are seconds since the Unix epoch, UTC.
struct Stream
{
    QString sid;
    QString uniqueName; // null when created without one
    QString accountSid;
    QString serviceSid;
    QString createdBy; // "system" over REST, the token identity over twilsock
    qint64 dateCreated = 0;
    qint64 dateUpdated = 0;
    std::optional<qint64> dateExpires; // empty: never expires

    friend bool operator==(const Stream &, const Stream &) = default;
};

/// What a new stream is made with: the engine's create and Backend::createStream take the same.
struct StreamCreate
{
    std::optional<QString> uniqueName;
    std::optional<qint64> ttlSeconds; // empty: never expires
    /// Who the engine records as the creator ("system" over REST, the token identity over
    /// twilsock). A remote service decides it by itself and ignores this.
    QString createdBy = QStringLiteral("system");
};

} // namespace streams
