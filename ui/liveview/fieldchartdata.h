#pragma once

#include "ui/liveview/fieldseries.h"

#include <QByteArrayList>
#include <QString>
#include <QStringList>
#include <expected>
#include <memory>
#include <vector>

namespace streams {

/// What the live view's field chart plots: for each JSON Pointer a user picked, the FieldSeries
/// of the values found there in the messages fed to it. No widgets, so tests drive it directly.
///
/// Extraction is the cost that grows with the message rate, so it is kept small: only the
/// configured pointers are looked up, and a pointer made of object keys is read straight from
/// the message's compact JSON with rawjson::member (no document is built). Only when that
/// cannot answer (an array index, a key written with escapes, a missing member) is the message
/// parsed, once for all pointers. Numbers are plotted; strings, booleans (not taken as 0/1: a
/// flag drawn as a number would sit on the same axis as real figures), null, objects and arrays
/// are counted as not numeric; messages without the field are counted as missing.
class FieldChartData final
{
public:
    /// Series beyond this stop being readable on one chart (and one colour each runs out).
    static constexpr int kMaxFields = 8;

    struct Field
    {
        QString pointer;
        QStringList tokens;
        QByteArrayList keys; // tokens as UTF-8, for rawjson::member
        FieldSeries series;
    };

    explicit FieldChartData(int bucketCapacity = FieldSeries::kDefaultBucketCapacity);

    /// Adds a field by its pointer; the error says why not (not a pointer, the whole message,
    /// already charted, too many fields). Returns the new field's index.
    std::expected<int, QString> addField(const QString &pointer);
    /// False when `pointer` is not charted.
    bool removeField(const QString &pointer);
    int indexOf(const QString &pointer) const;
    int fieldCount() const { return int(m_fields.size()); }
    const Field &field(int index) const { return *m_fields[size_t(index)]; }
    QStringList pointers() const;

    /// One message: its arrival time (ms since the epoch) and compact JSON.
    void addMessage(qint64 timeMs, QByteArrayView json);
    /// Forgets every value (the fields stay).
    void clear();

    quint64 messageCount() const { return m_messages; }
    /// Messages that had to be parsed as a whole (the slow path), for tests and benchmarks.
    quint64 parseCount() const { return m_parses; }
    /// Changes whenever what a chart would draw changes, so a view repaints only then.
    quint64 generation() const { return m_generation; }

private:
    int m_bucketCapacity;
    std::vector<std::unique_ptr<Field>> m_fields;
    quint64 m_messages = 0;
    quint64 m_parses = 0;
    quint64 m_generation = 0;
};

} // namespace streams
