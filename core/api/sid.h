#pragma once

#include <QString>

namespace streams {

/// The kinds of resource identifiers the engine hands out: a two-letter prefix and 32 lowercase
/// hex digits (128 random bits, or a time prefix and 80 random bits: generateOrdered()).
enum class SidKind {
    Account,
    Service,
    Stream,
    Message,
    ApiKey,
    RequestId
};

namespace sid {

QLatin1StringView prefix(SidKind kind);

/// A fresh random SID of the given kind, from the system's CSPRNG.
QString generate(SidKind kind);

/// A fresh SID for a stored object: the first 12 hex digits are the milliseconds since the
/// epoch, the other 20 random (80 bits from the system's CSPRNG). SIDs handed out later sort
/// after earlier ones, so the SQLite index on them grows at its end instead of dirtying a
/// random page per insert (docs/performance.md has what that did for REST creates). Nothing
/// else changes: the shape is the same and clients treat SIDs as opaque.
QString generateOrdered(SidKind kind);

/// True when `text` is a SID of `kind` as the OpenAPI patterns define it (hex in either case).
bool isValid(QStringView text, SidKind kind);

/// True when `text` has the shape of any SID (two capital letters and 32 hex digits). Unique
/// names of that shape are refused, or a path segment could name two different objects.
bool looksLikeSid(QStringView text);

} // namespace sid
} // namespace streams
