#pragma once

#include <QByteArrayView>
#include <QStringList>
#include <optional>

namespace streams::rawjson {

/// The text of the top-level member `name` of a JSON object exactly as its author wrote it, so a
/// message keeps its key order and number spelling instead of being re-serialised by
/// QJsonObject, which sorts keys. `json` must already have parsed as an object. When a key
/// repeats, the last occurrence wins (as in QJsonObject). Nothing when the member is absent or a
/// key uses escapes (callers then fall back to the parsed value).
std::optional<QByteArrayView> member(QByteArrayView json, QByteArrayView name);

/// The JSON Pointer tokens (unescaped keys and array indexes) of the deepest member or element
/// whose text, from its key (or an element's first byte) to the end of its value, covers the
/// byte `offset` of `json` — what a user points at in a pretty-printed document. Nothing when
/// `offset` lies outside every member (the root's own brackets, whitespace between members).
/// `json` must already have parsed.
std::optional<QStringList> pointerAt(QByteArrayView json, qsizetype offset);

} // namespace streams::rawjson
