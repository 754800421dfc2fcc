#pragma once

namespace streams {

class ApiError;

/// The pause before sending a message again that a service refused for its rate limit: doubling
/// from `initialMs` with each refusal in a row, up to `maxMs`, with "equal jitter" (half fixed,
/// half random) so that several publishers refused at once do not come back at once. A success
/// resets it. The composer's repeat runs and stream replays share it.
class RateLimitBackoff final
{
public:
    RateLimitBackoff(int initialMs, int maxMs) : m_initialMs(initialMs), m_maxMs(maxMs) { }

    /// A 429 by any name: Sync's 54009, or any HTTP 429 (a proxy's, Twilio's 20429).
    static bool isRateLimited(const ApiError &error);

    /// One more refusal in a row: how long to wait before trying again.
    int next();
    /// A success: the next refusal starts from `initialMs` again.
    void reset() { m_step = 0; }

private:
    int m_initialMs;
    int m_maxMs;
    int m_step = 0;
};

} // namespace streams
