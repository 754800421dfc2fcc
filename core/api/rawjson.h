#pragma once

#include <QByteArrayView>
#include <optional>

namespace streams::rawjson {

/// The text of the top-level member `name` of a JSON object exactly as its author wrote it, so a
/// message keeps its key order and number spelling instead of being re-serialised by
/// QJsonObject, which sorts keys. `json` must already have parsed as an object. When a key
/// repeats, the last occurrence wins (as in QJsonObject). Nothing when the member is absent or a
/// key uses escapes (callers then fall back to the parsed value).
std::optional<QByteArrayView> member(QByteArrayView json, QByteArrayView name);

} // namespace streams::rawjson
