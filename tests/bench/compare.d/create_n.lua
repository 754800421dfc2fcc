-- POST /v1/Services/default/Streams until BENCH_LIMIT streams were created (spread over the wrk
-- threads), then stop: tests/bench/compare fills an engine with 100,000 streams for its memory
-- figure. Reuses ../wrk/common.lua (auth, non-2xx count, BENCH_RESULT line) and counts on top.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "../wrk/common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "Ttl=0"

local counted = response
local threads_total = tonumber(os.getenv("BENCH_THREADS") or "1")
local limit = math.ceil(tonumber(os.getenv("BENCH_LIMIT") or "100000") / threads_total)
local answered = 0

function response(status, headers, body)
   counted(status, headers, body)
   answered = answered + 1
   if answered >= limit then
      wrk.thread:stop()
   end
end
