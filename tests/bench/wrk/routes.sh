# The four REST routes the benchmarks load, for bash scripts that source this file
# (tests/bench/rest_bench.sh, tests/bench/compare): each route's URL and wrk script, the message
# every publish carries, and one answer fetched by hand when wrk counted errors. Expects $auth
# (the Authorization header value) when route_sample runs.

bench_wrk_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ~200 bytes of compact JSON, form-encoded for the Data parameter (BENCH_DATA in publish.lua);
# bench_http_floor's publish reply embeds the same object.
message_json='{"event":"bench.tick","seq":123456,"source":"rest_bench","text":"The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.","tags":["alpha","beta","gamma"],"ok":true,"ratio":0.25}'
message_data=$(
    LC_ALL=C
    for ((i = 0; i < ${#message_json}; i++)); do
        c=${message_json:i:1}
        case $c in
        [a-zA-Z0-9.~_-]) printf '%s' "$c" ;;
        *) printf '%%%02X' "'$c" ;;
        esac
    done
)

route_url() { # ROUTE PORT STREAM_SID
    local base="http://127.0.0.1:$2/v1/Services/default/Streams"
    case $1 in
    create) echo "$base" ;;
    fetch) echo "$base/$3" ;;
    list) echo "$base?PageSize=50" ;;
    publish) echo "$base/$3/Messages" ;;
    esac
}

route_script() { # ROUTE
    case $1 in
    create) echo "$bench_wrk_dir/create_stream.lua" ;;
    fetch) echo "$bench_wrk_dir/fetch_stream.lua" ;;
    list) echo "$bench_wrk_dir/list_streams.lua" ;;
    publish) echo "$bench_wrk_dir/publish.lua" ;;
    esac
}

# route_sample ROUTE URL: the route's request sent once more with curl, and what came back
# (status line, headers and body on one line, cut at 300 characters). wrk only counts the
# answers of 400 and above; this shows what one of them said.
route_sample() {
    local args=(-sS -i -H "Authorization: $auth")
    case $1 in
    create) args+=(-d Ttl=3600) ;;
    publish) args+=(-d "Data=$message_data") ;;
    esac
    curl "${args[@]}" "$2" 2>&1 | tr -s '\r\n' ' ' | cut -c1-300
}
