#pragma once

#include <QHash>
#include <QSortFilterProxyModel>
#include <QStringList>
#include <optional>

namespace streams {

class LiveMessageModel;

/// Filters a LiveMessageModel's rows by what their messages contain.
///
/// The filter text is either
///  - plain text: a case-insensitive substring of the message's compact JSON or of its SID; or
///  - a JSON Pointer expression, recognised by its leading '/': `/path/to/key` keeps messages
///    where that value exists, `/path/to/key=value` those where it equals `value`. The pointer
///    is RFC 6901 (`~0` is '~', `~1` is '/', array elements by index); the expression is split
///    at its first '=' after the pointer, so a key containing '=' cannot be addressed. A value
///    is compared with the JSON value's text form: a string's own characters (without quotes),
///    a number as JSON writes it (and numerically, so `=1.0` matches 1), `true`, `false`,
///    `null`, or an object's or array's compact JSON.
///
/// Speed: the proxy filters only the rows the source inserts (QSortFilterProxyModel does not
/// revisit old rows on inserts or front removals), and for pointer filters it caches each
/// message's value at the current pointer by the message's sequence number, so editing the
/// `=value` part re-filters thousands of rows without parsing any JSON again.
class LiveMessageFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveMessageFilterProxy)

public:
    enum class Mode {
        None,
        Text,
        PointerExists,
        PointerEquals,
        Invalid // a '/' expression that is not a valid pointer: every row passes
    };
    Q_ENUM(Mode)

    explicit LiveMessageFilterProxy(QObject *parent = nullptr);
    ~LiveMessageFilterProxy() override;

    /// Only LiveMessageModel sources are filtered; the proxy reads their messages directly.
    void setSourceModel(QAbstractItemModel *sourceModel) override;

    QString filterText() const { return m_text; }
    void setFilterText(const QString &text);
    Mode mode() const { return m_mode; }
    /// Why the current expression is invalid (empty unless mode() is Invalid).
    QString errorString() const { return m_error; }

    /// Parsed JSON values looked up since the pointer last changed (for tests and benchmarks).
    qsizetype cachedValueCount() const { return m_cache.size(); }
    quint64 parseCount() const { return m_parses; }

Q_SIGNALS:
    void filterTextChanged(const QString &text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    /// The text form of the value at the pointer in one message, or empty when absent.
    struct PointerValue
    {
        bool exists = false;
        bool isNumber = false;
        double number = 0.0;
        QString text;
    };

    const PointerValue &valueAt(int sourceRow) const;
    void pruneCache();

    LiveMessageModel *m_source = nullptr;
    QString m_text;
    Mode m_mode = Mode::None;
    QString m_error;
    QString m_needle; // Text mode
    QStringList m_tokens; // pointer modes
    QString m_value; // PointerEquals
    std::optional<double> m_valueNumber;

    mutable QHash<quint64, PointerValue> m_cache; // by message sequence, for m_tokens
    mutable quint64 m_parses = 0;
};

} // namespace streams
