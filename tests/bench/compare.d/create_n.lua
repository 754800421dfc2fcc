-- POST /v1/Services/default/Streams until BENCH_LIMIT streams were created (spread over the wrk
-- threads), then stop: tests/bench/compare fills an engine with 100,000 streams for its memory
-- figure. Reuses ../wrk/common.lua (auth, BENCH_RESULT line with wrk's own error count); the
-- response() callback that counts the answers costs the client time, which is fine here: the
-- figure is memory, not speed.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "../wrk/common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "Ttl=0"

local threads_total = tonumber(os.getenv("BENCH_THREADS") or "1")
local limit = math.ceil(tonumber(os.getenv("BENCH_LIMIT") or "100000") / threads_total)
local answered = 0

function response(status, headers, body)
   answered = answered + 1
   if answered >= limit then
      wrk.thread:stop()
   end
end
