#pragma once

#include <QByteArray>
#include <QHash>

namespace streams {

/// List pages as sent, by base URL, path and query: a page of streams takes longer to build
/// than anything else the engine answers, and clients (the console's tree, dashboards) ask for
/// the same pages again and again. A page is valid while the engine's list generation is
/// unchanged and within the second it was made (expiry is per second). Bounded by count and by
/// bytes, since a page may hold up to limits::kMaxPageSize items.
class ListPageCache final
{
public:
    struct Page
    {
        QByteArray body; // the JSON
        QByteArray message; // the whole HTTP/1.1 answer for a kept-open connection
    };

    /// The page kept under `key`, if it was made in this generation and second.
    const Page *find(const QByteArray &key, quint64 generation, qint64 second) const;
    /// Keeps a page (a page too large to be worth keeping is not).
    void keep(const QByteArray &key, quint64 generation, qint64 second, Page page);
    qsizetype bytes() const { return m_bytes; }

private:
    static constexpr qsizetype kMaxPages = 256;
    static constexpr qsizetype kMaxBytes = 16 * 1024 * 1024;
    struct Kept
    {
        quint64 generation = 0;
        qint64 second = 0;
        Page page;
    };
    QHash<QByteArray, Kept> m_pages;
    qsizetype m_bytes = 0;
};

} // namespace streams
