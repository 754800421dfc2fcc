#pragma once

#include "api/limits.h"

#include <QList>
#include <QString>
#include <optional>

namespace streams {

/// What a list call asks for. `pageToken` is opaque to callers; `page` is the 0-based number the
/// client believes it is on, echoed back in `meta.page`.
struct PageRequest
{
    int pageSize = limits::kDefaultPageSize;
    int page = 0;
    QString pageToken;
};

template<typename T>
struct Page
{
    QList<T> items;
    int page = 0;
    int pageSize = limits::kDefaultPageSize;
    std::optional<QString> nextPageToken; // empty on the last page
    std::optional<QString> previousPageToken; // empty on the first page
};

} // namespace streams
