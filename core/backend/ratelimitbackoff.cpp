#include "backend/ratelimitbackoff.h"

#include "api/apierror.h"

#include <QRandomGenerator>
#include <algorithm>

namespace streams {

bool RateLimitBackoff::isRateLimited(const ApiError &error)
{
    return error.code() == ApiError::RateLimitExceeded || error.httpStatus() == 429;
}

int RateLimitBackoff::next()
{
    m_step = std::min(m_step + 1, 16); // 2^15 × any sane initial delay is past any cap
    const qint64 base = std::min<qint64>(m_maxMs, qint64(m_initialMs) << (m_step - 1));
    return int(base / 2 + QRandomGenerator::global()->bounded(base / 2 + 1));
}

} // namespace streams
