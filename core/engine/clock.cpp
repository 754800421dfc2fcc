#include "engine/clock.h"

#include <QDateTime>

namespace streams {

namespace {
class SystemClock final : public Clock
{
public:
    qint64 nowMs() const override { return QDateTime::currentMSecsSinceEpoch(); }
};
} // namespace

qint64 Clock::nowSeconds() const
{
    const qint64 ms = nowMs();
    return ms >= 0 ? ms / 1000 : (ms - 999) / 1000; // floor, also before 1970
}

const Clock &Clock::system()
{
    static const SystemClock clock;
    return clock;
}

} // namespace streams
