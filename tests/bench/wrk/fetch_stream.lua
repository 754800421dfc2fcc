-- GET /v1/Services/default/Streams/<sid>: the URL given to wrk names a pre-created stream.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.method = "GET"
