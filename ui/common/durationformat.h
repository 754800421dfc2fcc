#pragma once

#include <QString>
#include <QStringView>
#include <expected>

// TTLs as people write and read them. Pure functions, no widgets, so the TTL editor, the new
// stream dialog and the properties countdown all speak the same language.
namespace streams::durationformat {

/// Parses a TTL the way a user types it: plain seconds ("90"), a duration with units from largest
/// to smallest ("90s", "5m", "1h30m", "1h 5m 3s", "2d", "1w"; s/sec/seconds, m/min/minutes,
/// h/hr/hours, d/days, w/weeks), or "never"/"0" for no expiry (0). The range is the contract's
/// (validation::parseTtl decides it): anything above limits::kMaxTtlSeconds is an error that
/// names the limit. Errors are sentences meant to be shown next to the field.
std::expected<qint64, QString> parse(QStringView input);

/// A compact, exact duration: "45s", "1h 30m", "1d 2h 3m 4s", "365d". 0 (or less) is "0s".
QString format(qint64 seconds);

/// What is left until expiry: "in 59m 58s", or "expired" once nothing is left.
QString countdown(qint64 secondsLeft);

} // namespace streams::durationformat
