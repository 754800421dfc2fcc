#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace streams::jsonlayout {

/// `json` (already valid JSON) re-laid out without touching a token: keys keep their order and
/// numbers their spelling, which QJsonDocument would not (it sorts keys). `indent` 0 gives one
/// line with no blanks; otherwise one member per line, `indent` spaces per level, and empty
/// containers stay `{}` / `[]`. No trailing line break.
QByteArray relayout(QByteArrayView json, int indent);

/// The elements of a JSON array's text, each exactly as written (leading and trailing blanks
/// excluded). `array` must be valid JSON; anything but an array gives an empty list.
QList<QByteArrayView> arrayElements(QByteArrayView array);

} // namespace streams::jsonlayout
