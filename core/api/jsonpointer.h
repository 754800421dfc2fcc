#pragma once

#include <QJsonValue>
#include <QStringList>
#include <QStringView>
#include <optional>

/// JSON Pointers (RFC 6901): parsing, formatting and lookup in a parsed value. The live view's
/// filter and its field charts address values with the same code, so a pointer that filters
/// also charts.
namespace streams::jsonpointer {

/// "/a~1b/0" → {"a/b", "0"}; nothing when `pointer` is not a valid pointer (it must be empty or
/// start with '/', and '~' must be followed by '0' or '1'). `error` then says why.
std::optional<QStringList> parse(QStringView pointer, QString *error = nullptr);

/// A key as one reference token: `~` → `~0`, `/` → `~1`.
QString escapeToken(QString key);

/// The inverse of parse(): {"a/b", "0"} → "/a~1b/0".
QString format(const QStringList &tokens);

/// The value at `tokens` inside `root`, or an undefined QJsonValue when there is none. Array
/// elements are addressed by canonical indexes ("0", "12", never "01"); "-" never exists.
QJsonValue resolve(const QJsonValue &root, const QStringList &tokens);

} // namespace streams::jsonpointer
