-- POST /v1/Services/default/Streams with no unique name: every request creates a stream (the
-- engine commits the creates that arrive together in one transaction).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "Ttl=3600"
