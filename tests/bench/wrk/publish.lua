-- POST /v1/Services/default/Streams/<sid>/Messages with Data=<url-encoded JSON object>. The
-- encoded payload comes from BENCH_DATA so the engine and the floor get the same bytes.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "Data=" .. (os.getenv("BENCH_DATA") or "%7B%7D")
