-- GET /v1/Services/default/Streams?PageSize=50: the URL given to wrk carries the query; the
-- service holds at least 100 streams, so every page is full and has a next_page_url.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.method = "GET"
