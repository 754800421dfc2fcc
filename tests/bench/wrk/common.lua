-- Shared by the route scripts (loaded with dofile): HTTP Basic auth from BENCH_AUTH, a count of
-- non-2xx answers per wrk thread, and one machine-readable summary line that rest_bench.sh
-- parses. wrk runs this file once per thread in separate Lua states, plus once for setup/done,
-- so per-thread counters are globals read back through thread:get().

local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
   wrk.headers["Authorization"] = auth
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

non2xx = 0
first_bad = nil

-- Defining response() makes wrk parse every reply; the cost is the same for the engine and for
-- the floor, and without it a 401 or 429 would pass for throughput.
function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_bad == nil then
         first_bad = status .. " " .. (body or "")
      end
   end
end

function done(summary, latency, requests)
   local bad, sample = 0, nil
   for _, thread in ipairs(threads) do
      bad = bad + (thread:get("non2xx") or 0)
      sample = sample or thread:get("first_bad")
   end
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "BENCH_RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
      summary.requests, seconds, summary.requests / seconds, latency:percentile(50),
      latency:percentile(99), bad, e.connect + e.read + e.write + e.timeout))
   if sample then
      io.write("BENCH_SAMPLE " .. (sample:gsub("%s+", " ")):sub(1, 300) .. "\n")
   end
end
