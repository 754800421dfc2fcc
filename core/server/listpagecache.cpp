#include "server/listpagecache.h"

namespace streams {

const ListPageCache::Page *ListPageCache::find(
    const QByteArray &key, quint64 generation, qint64 second) const
{
    const auto it = m_pages.constFind(key);
    if (it == m_pages.cend() || it->generation != generation || it->second != second)
        return nullptr;
    return &it->page;
}

void ListPageCache::keep(const QByteArray &key, quint64 generation, qint64 second, Page page)
{
    const qsizetype size = page.body.size() + page.message.size();
    if (size > kMaxBytes / 4)
        return; // a page this large is not asked for again and again
    if (const auto it = m_pages.constFind(key); it != m_pages.cend()) {
        m_bytes -= it->page.body.size() + it->page.message.size();
    } else if (m_pages.size() >= kMaxPages || m_bytes + size > kMaxBytes) {
        m_pages.clear(); // pages live a second at most: starting afresh loses little
        m_bytes = 0;
    }
    m_bytes += size;
    m_pages.insert(key, Kept{generation, second, std::move(page)});
}

} // namespace streams
