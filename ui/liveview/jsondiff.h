#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>

namespace streams {

/// The structural difference between two JSON objects, as a flat list of changes addressed by
/// RFC 6901 JSON Pointers. Objects and arrays are walked recursively, so a change deep inside
/// is reported at its own pointer rather than as a change of its container; a value whose type
/// changes (object → number, array → object, …) is one `Changed` entry at that pointer. Arrays
/// are compared index by index: there is no move detection, which is what a person scanning two
/// consecutive messages of a stream expects.
class JsonDiff final
{
public:
    enum class Kind {
        Added,
        Removed,
        Changed
    };

    struct Change
    {
        QString pointer; // e.g. "/a/0/b~1c"
        Kind kind = Kind::Changed;
        QJsonValue oldValue; // Undefined for Added
        QJsonValue newValue; // Undefined for Removed

        friend bool operator==(const Change &, const Change &) = default;
    };

    /// Changes from `before` to `after`, ordered by key (objects) and index (arrays).
    static QList<Change> diff(const QJsonObject &before, const QJsonObject &after);

    /// A value as one line of compact JSON, for display ("undefined" values print as empty).
    static QString toText(const QJsonValue &value);
    static QString kindName(Kind kind);
};

} // namespace streams
