#include "ui/liveview/fieldseries.h"

#include <algorithm>

namespace streams {

FieldSeries::FieldSeries(int bucketCapacity)
    : m_capacity(std::max(2, bucketCapacity + (bucketCapacity & 1)))
{
    m_buckets.reserve(size_t(m_capacity));
}

void FieldSeries::addNumber(qint64 timeMs, double value)
{
    ++m_numeric;
    if (m_buckets.empty() || m_buckets.back().count >= m_valuesPerBucket) {
        if (int(m_buckets.size()) == m_capacity)
            mergePairs();
        m_buckets.push_back({timeMs, timeMs, timeMs, timeMs, value, value, 1});
        return;
    }
    Bucket &bucket = m_buckets.back();
    bucket.lastMs = timeMs;
    ++bucket.count;
    // Strict comparisons keep the first of equal extremes, so a flat run draws one point.
    if (value < bucket.min) {
        bucket.min = value;
        bucket.minMs = timeMs;
    }
    if (value > bucket.max) {
        bucket.max = value;
        bucket.maxMs = timeMs;
    }
}

void FieldSeries::mergePairs()
{
    // Called only when every bucket is full, so merged buckets are full at twice the size.
    const size_t half = m_buckets.size() / 2;
    for (size_t i = 0; i < half; ++i) {
        const Bucket &a = m_buckets[2 * i];
        const Bucket &b = m_buckets[2 * i + 1];
        Bucket merged = a;
        merged.lastMs = b.lastMs;
        merged.count = a.count + b.count;
        if (b.min < a.min) {
            merged.min = b.min;
            merged.minMs = b.minMs;
        }
        if (b.max > a.max) {
            merged.max = b.max;
            merged.maxMs = b.maxMs;
        }
        m_buckets[i] = merged;
    }
    m_buckets.resize(half);
    m_valuesPerBucket *= 2;
}

void FieldSeries::clear()
{
    m_buckets.clear();
    m_valuesPerBucket = 1;
    m_numeric = 0;
    m_notNumeric = 0;
    m_missing = 0;
}

std::optional<double> FieldSeries::minimum() const
{
    if (m_buckets.empty())
        return std::nullopt;
    return std::min_element(m_buckets.begin(), m_buckets.end(),
        [](const Bucket &a, const Bucket &b) { return a.min < b.min; })
        ->min;
}

std::optional<double> FieldSeries::maximum() const
{
    if (m_buckets.empty())
        return std::nullopt;
    return std::max_element(m_buckets.begin(), m_buckets.end(),
        [](const Bucket &a, const Bucket &b) { return a.max < b.max; })
        ->max;
}

QList<QPointF> FieldSeries::points() const
{
    QList<QPointF> points;
    points.reserve(qsizetype(m_buckets.size()) * 2);
    for (const Bucket &bucket : m_buckets) {
        if (bucket.min == bucket.max) {
            points.append({double(bucket.minMs), bucket.min});
        } else if (bucket.minMs <= bucket.maxMs) {
            points.append({double(bucket.minMs), bucket.min});
            points.append({double(bucket.maxMs), bucket.max});
        } else {
            points.append({double(bucket.maxMs), bucket.max});
            points.append({double(bucket.minMs), bucket.min});
        }
    }
    return points;
}

} // namespace streams
