#include "ui/liveview/livemessagefilterproxy.h"

#include "api/jsonpointer.h"
#include "ui/liveview/jsondiff.h"
#include "ui/liveview/livemessagemodel.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace streams {

LiveMessageFilterProxy::LiveMessageFilterProxy(QObject *parent) : QSortFilterProxyModel(parent)
{
    // The view shows arrival order; sorting a ring buffer that changes 20 times a second would
    // cost more than it tells.
    setDynamicSortFilter(true);
}

LiveMessageFilterProxy::~LiveMessageFilterProxy() = default;

void LiveMessageFilterProxy::setSourceModel(QAbstractItemModel *sourceModel)
{
    if (m_source)
        disconnect(m_source, nullptr, this, nullptr);
    m_source = qobject_cast<LiveMessageModel *>(sourceModel);
    m_cache.clear();
    QSortFilterProxyModel::setSourceModel(sourceModel);
    if (m_source) {
        // Evicted messages never come back: forget their cached values.
        connect(
            m_source, &LiveMessageModel::rowsRemoved, this, &LiveMessageFilterProxy::pruneCache);
    }
}

void LiveMessageFilterProxy::setFilterText(const QString &text)
{
    if (text == m_text)
        return;
    m_text = text;
    const QStringList previousTokens = m_tokens;
    const Mode previousMode = m_mode;

    m_error.clear();
    m_needle.clear();
    m_value.clear();
    m_valueNumber.reset();
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty()) {
        m_mode = Mode::None;
        m_tokens.clear();
    } else if (!trimmed.startsWith(u'/')) {
        m_mode = Mode::Text;
        m_needle = trimmed;
        m_tokens.clear();
    } else {
        const qsizetype equals = trimmed.indexOf(u'=');
        const QStringView pointer = QStringView(trimmed).left(equals < 0 ? trimmed.size() : equals);
        if (const auto tokens = jsonpointer::parse(pointer, &m_error)) {
            m_tokens = *tokens;
            if (equals < 0) {
                m_mode = Mode::PointerExists;
            } else {
                m_mode = Mode::PointerEquals;
                // The value is taken as typed after '=' (only the expression's ends are
                // trimmed): "/name= a" looks for " a".
                m_value = trimmed.mid(equals + 1);
                bool ok = false;
                const double number = m_value.toDouble(&ok);
                if (ok)
                    m_valueNumber = number;
            }
        } else {
            m_mode = Mode::Invalid;
            m_tokens.clear();
        }
    }
    if (m_tokens != previousTokens)
        m_cache.clear();

    // Going from "everything passes" to "everything passes" changes nothing on screen.
    const bool passAll = m_mode == Mode::None || m_mode == Mode::Invalid;
    const bool passedAll = previousMode == Mode::None || previousMode == Mode::Invalid;
    if (!(passAll && passedAll))
        invalidateFilter();
    Q_EMIT filterTextChanged(m_text);
}

const LiveMessageFilterProxy::PointerValue &LiveMessageFilterProxy::valueAt(int sourceRow) const
{
    const LiveMessageModel::Message &message = m_source->messageAt(sourceRow);
    auto cached = m_cache.find(message.sequence);
    if (cached != m_cache.end())
        return *cached;

    ++m_parses;
    PointerValue result;
    const QJsonDocument document = QJsonDocument::fromJson(message.data);
    const QJsonValue value =
        jsonpointer::resolve(document.isObject() ? QJsonValue(document.object())
                : document.isArray()             ? QJsonValue(document.array())
                                                 : QJsonValue(QJsonValue::Undefined),
            m_tokens);
    if (!value.isUndefined()) {
        result.exists = true;
        if (value.isString()) {
            result.text = value.toString();
        } else {
            result.text = JsonDiff::toText(value);
            if (value.isDouble()) {
                result.isNumber = true;
                result.number = value.toDouble();
            }
        }
    }
    return *m_cache.insert(message.sequence, result);
}

bool LiveMessageFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (sourceParent.isValid() || !m_source)
        return true;
    switch (m_mode) {
    case Mode::None:
    case Mode::Invalid: return true;
    case Mode::Text: {
        const LiveMessageModel::Message &message = m_source->messageAt(sourceRow);
        return message.sid.contains(m_needle, Qt::CaseInsensitive)
            || QString::fromUtf8(message.data).contains(m_needle, Qt::CaseInsensitive);
    }
    case Mode::PointerExists: return valueAt(sourceRow).exists;
    case Mode::PointerEquals: {
        const PointerValue &value = valueAt(sourceRow);
        if (!value.exists)
            return false;
        if (value.text == m_value)
            return true;
        return value.isNumber && m_valueNumber && value.number == *m_valueNumber;
    }
    }
    return true;
}

void LiveMessageFilterProxy::pruneCache()
{
    if (!m_source || m_cache.isEmpty())
        return;
    if (m_source->rowCount() == 0) {
        m_cache.clear();
        return;
    }
    // Pruning walks the whole cache, so do it only once it has grown well past the rows it can
    // still be asked about; that keeps it O(1) per evicted row on average.
    if (m_cache.size() < 2 * qsizetype(m_source->rowCount()) + 1024)
        return;
    const quint64 oldest = m_source->messageAt(0).sequence;
    m_cache.removeIf([oldest](const auto &entry) { return entry.key() < oldest; });
}

} // namespace streams
