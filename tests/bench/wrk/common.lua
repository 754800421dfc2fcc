-- Shared by the route scripts (loaded with dofile): HTTP Basic auth from BENCH_AUTH and one
-- machine-readable summary line that rest_bench.sh and compare parse.
--
-- Answers with a status of 400 or more are counted by wrk itself (summary.errors.status), so a
-- 401 or 429 never passes for throughput; the scripts fetch one such answer by hand to show it
-- (route_sample in routes.sh). There is deliberately no response() callback: with one, wrk
-- hands every answer's headers and body to Lua, which on these shared cores took CPU from the
-- servers in proportion to their speed (about 10% of the engine's list pages per second, and
-- nothing of Prism's); see docs/performance.md.

local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
   wrk.headers["Authorization"] = auth
end

function done(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "BENCH_RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d http_errors=%d socket_errors=%d\n",
      summary.requests, seconds, summary.requests / seconds, latency:percentile(50),
      latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
