#pragma once

#include <QAbstractTableModel>
#include <QJsonObject>
#include <QList>
#include <deque>

namespace streams {

/// The engine's traffic log as a table (GET /_engine/traffic entries): time, kind, who, method,
/// path, status, code, duration. Bounded: past its capacity the oldest rows go, so a firehose
/// costs a fixed amount; rows arrive in batches (one insert per poll).
class TrafficModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrafficModel)

public:
    enum Column {
        Time,
        Kind,
        Who,
        Method,
        Path,
        Status,
        Code,
        Duration,
        ColumnCount
    };
    enum Role {
        EntryRole = Qt::UserRole + 1, // the whole entry (QJsonObject)
        StatusClassRole, // 2, 3, 4 or 5 (HTTP status / 100); 0 when none
    };

    explicit TrafficModel(qsizetype capacity = 5000, QObject *parent = nullptr);

    /// Appends entries (oldest first), dropping the oldest rows past the capacity.
    void append(const QList<QJsonObject> &entries);
    void clear();
    qsizetype capacity() const { return m_capacity; }
    QJsonObject entry(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// A curl command line that repeats a REST entry, the secret left as $TWILIO_AUTH_TOKEN
    /// (never written out). Empty for live entries.
    static QString curlCommand(const QJsonObject &entry, const QString &baseUrl);

private:
    const qsizetype m_capacity;
    std::deque<QJsonObject> m_rows;
};

} // namespace streams
