#pragma once

#include <QList>
#include <QPointF>
#include <QtGlobal>
#include <optional>
#include <vector>

namespace streams {

/// The numbers one charted field took over time, in memory that stays flat however fast they
/// arrive.
///
/// Values go into buckets of consecutive arrivals; each bucket keeps only its smallest and its
/// largest value (and when each came), so a chart drawn from the buckets still shows every peak
/// and every dip. When all buckets are in use, neighbours are merged pairwise and each bucket
/// from then on takes twice as many values: the whole history stays on the chart, at a
/// resolution that halves each time it fills. Memory is the bucket capacity times a few dozen
/// bytes, and points() never returns more than twice the bucket capacity.
///
/// Values that are not numbers are counted, never plotted; so are messages without the field.
class FieldSeries final
{
public:
    static constexpr int kDefaultBucketCapacity = 2'000;

    /// `bucketCapacity` is rounded up to an even number of at least 2.
    explicit FieldSeries(int bucketCapacity = kDefaultBucketCapacity);

    void addNumber(qint64 timeMs, double value);
    void addNotNumeric() { ++m_notNumeric; }
    void addMissing() { ++m_missing; }
    /// Forgets every value and zeroes the counters.
    void clear();

    quint64 numericCount() const { return m_numeric; }
    quint64 notNumericCount() const { return m_notNumeric; }
    quint64 missingCount() const { return m_missing; }

    int bucketCapacity() const { return m_capacity; }
    int bucketCount() const { return int(m_buckets.size()); }
    /// How many values a full bucket holds now: 1 until the first merge, then 2, 4, …
    quint64 valuesPerBucket() const { return m_valuesPerBucket; }

    /// The smallest and largest value ever added (decimation never loses them).
    std::optional<double> minimum() const;
    std::optional<double> maximum() const;
    /// The first and last arrival times, ms since the epoch (0 when empty).
    qint64 firstTimeMs() const { return m_buckets.empty() ? 0 : m_buckets.front().firstMs; }
    qint64 lastTimeMs() const { return m_buckets.empty() ? 0 : m_buckets.back().lastMs; }

    /// (time ms, value) in time order: one point per bucket that saw one distinct value, its
    /// minimum and maximum in the order they came otherwise.
    QList<QPointF> points() const;

private:
    struct Bucket
    {
        qint64 firstMs = 0;
        qint64 lastMs = 0;
        qint64 minMs = 0;
        qint64 maxMs = 0;
        double min = 0;
        double max = 0;
        quint64 count = 0;
    };

    void mergePairs();

    int m_capacity;
    std::vector<Bucket> m_buckets; // reserved once: never reallocates
    quint64 m_valuesPerBucket = 1;
    quint64 m_numeric = 0;
    quint64 m_notNumeric = 0;
    quint64 m_missing = 0;
};

} // namespace streams
