#pragma once

#include "api/apierror.h"

#include <QHash>
#include <QString>
#include <expected>

namespace streams {

/// Decodes `application/x-www-form-urlencoded` bodies and query strings strictly: `+` and `%20`
/// are spaces, every `%` must be followed by two hex digits, and the decoded bytes must be valid
/// UTF-8; anything else is a 400 naming the offending field. When a name repeats, the first
/// value wins.
class FormDecoder final
{
public:
    using Fields = QHash<QString, QString>;

    static std::expected<Fields, ApiError> decode(QByteArrayView encoded);
    /// Percent-decodes one component; `plusIsSpace` for form encoding, not for paths.
    static std::expected<QString, ApiError> decodeComponent(
        QByteArrayView encoded, bool plusIsSpace);
};

} // namespace streams
