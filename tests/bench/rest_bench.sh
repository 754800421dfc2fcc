#!/usr/bin/env bash
# REST throughput of a real streams-engine under wrk, next to the same load on bench_http_floor
# (the engine's HTTP layer answering fixed bodies) as the same-run reference. Prints figures; never a
# pass/fail on speed. It does fail (exit 1) when a route answered with a status of 400 or more,
# or a socket failed, because then the figures measure error paths.
#
#   tests/bench/rest_bench.sh [-b BUILD_DIR] [-d DURATION] [-n RUNS] [-t THREADS] [-c CONNECTIONS]
#                             [-w WARMUP] [-r "ROUTES"]
#
# Each run starts a fresh engine (fresh data directory) and a fresh floor, seeds the engine with
# streams, and measures the routes in the order fetch, list, publish, create, so the list always
# sees the same number of streams. Each route is measured on the engine and then on the floor.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build_dir=build
duration=10s
runs=3
threads=2
connections=64
warmup=1s
routes="fetch list publish create"
seed_count=150

usage() {
    sed -n '7,8p' "$0" | sed 's/^# *//'
    exit 2
}
while getopts "b:d:n:t:c:w:r:h" opt; do
    case $opt in
    b) build_dir=$OPTARG ;;
    d) duration=$OPTARG ;;
    n) runs=$OPTARG ;;
    t) threads=$OPTARG ;;
    c) connections=$OPTARG ;;
    w) warmup=$OPTARG ;;
    r) routes=$OPTARG ;;
    *) usage ;;
    esac
done

if ! command -v wrk >/dev/null; then
    echo "rest_bench: wrk not found; install it with: apt-get install wrk" >&2
    exit 1
fi
if ! command -v curl >/dev/null; then
    echo "rest_bench: curl not found (it seeds the streams); install it with: apt-get install curl" >&2
    exit 1
fi
engine_bin=$build_dir/bin/streams-engine
floor_bin=$build_dir/bin/bench_http_floor
for bin in "$engine_bin" "$floor_bin"; do
    if [[ ! -x $bin ]]; then
        echo "rest_bench: $bin is missing; build it with:" >&2
        echo "  cmake --build $build_dir --target streams-engine bench_http_floor" >&2
        exit 1
    fi
done

hex32() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
# Fresh credentials per invocation, passed the way a developer would pass real ones.
TWILIO_ACCOUNT_SID=AC$(hex32)
TWILIO_AUTH_TOKEN=$(hex32)
TWILIO_API_KEY=SK$(hex32)
TWILIO_API_SECRET=$(hex32)
export TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN TWILIO_API_KEY TWILIO_API_SECRET
auth="Basic $(printf '%s:%s' "$TWILIO_ACCOUNT_SID" "$TWILIO_AUTH_TOKEN" | base64 -w0)"

# The routes' URLs and wrk scripts, message_data (bench_http_floor's publish reply embeds the
# same object), route_sample.
. "$here/wrk/routes.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/rest_bench.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# start_server LOG COMMAND...: starts it in the background, waits for its "listening on" line,
# and sets $server_pid and $server_port.
start_server() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    server_pid=$!
    pids+=("$server_pid")
    local i
    for ((i = 0; i < 150; i++)); do
        server_port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log")
        [[ -n $server_port ]] && return 0
        if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "rest_bench: $1 did not start:" >&2
    cat "$log" >&2
    exit 1
}

stop_server() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local keep=() pid
    for pid in "${pids[@]}"; do [[ $pid == "$1" ]] || keep+=("$pid"); done
    pids=("${keep[@]}")
}

# seed_streams PORT COUNT: creates COUNT streams over one keep-alive connection (curl applies -d to
# every URL) and prints their SIDs, first created first.
seed_streams() {
    local url="http://127.0.0.1:$1/v1/Services/default/Streams" urls=() i
    for ((i = 0; i < $2; i++)); do urls+=("$url"); done
    curl -sS -H "Authorization: $auth" -d Ttl=3600 "${urls[@]}" |
        grep -o '"sid":"TO[0-9a-f]\{32\}"' | cut -d'"' -f4
}

failures=0
results=$work/results # lines: route target run rps p50_us p99_us http_errors cpu_us_per_request
clock_ticks=$(getconf CLK_TCK)

# The server's user+system CPU time in clock ticks. CPU per request is a steadier figure than
# req/s on a machine whose cores are shared with wrk (and, often, with a compiler).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# measure ROUTE TARGET PORT SID RUN DURATION record|warmup SERVER_PID
measure() {
    local route=$1 target=$2 url out line cpu_before cpu_after
    url=$(route_url "$route" "$3" "$4")
    out=$work/wrk.out
    cpu_before=$(cpu_ticks "$8")
    BENCH_AUTH=$auth BENCH_DATA=$message_data \
        wrk -t"$threads" -c"$connections" -d"$6" --timeout 10s -s "$(route_script "$route")" \
        "$url" >"$out" 2>&1 || true
    cpu_after=$(cpu_ticks "$8")
    line=$(grep '^BENCH_RESULT' "$out" || true)
    if [[ -z $line ]]; then
        echo "rest_bench: wrk gave no result for $route on $target:" >&2
        cat "$out" >&2
        exit 1
    fi
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
    local requests rps p50_us p99_us http_errors socket_errors cpu_us
    requests=$(field requests) rps=$(field rps) p50_us=$(field p50_us) p99_us=$(field p99_us)
    http_errors=$(field http_errors) socket_errors=$(field socket_errors)
    cpu_us=$(awk -v t=$((cpu_after - cpu_before)) -v hz="$clock_ticks" -v n="$requests" \
        'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
    if ((http_errors > 0 || socket_errors > 0)); then
        failures=$((failures + 1))
        {
            echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
            echo "ERROR: $route on $target: $http_errors answers of 400 or more, $socket_errors socket errors" \
                "out of $requests requests; these figures measure errors, not the route."
            echo "one answer now: $(route_sample "$route" "$url")"
            echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        } >&2
    fi
    if [[ $7 == record ]]; then
        echo "$route $target $5 $rps $p50_us $p99_us $http_errors $cpu_us" >>"$results"
        printf '  run %d  %-7s %-6s %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  cpu %6.1f us/req  errors %d\n' \
            "$5" "$route" "$target" "$rps" "$(awk -v v="$p50_us" 'BEGIN { print v / 1000 }')" \
            "$(awk -v v="$p99_us" 'BEGIN { print v / 1000 }')" "$cpu_us" "$http_errors"
    fi
}

echo "rest_bench: wrk -t$threads -c$connections -d$duration (warm-up $warmup), $runs run(s);" \
    "engine --publish-rate unlimited; floor = bench_http_floor"
for ((run = 1; run <= runs; run++)); do
    start_server "$work/engine-$run.log" "$engine_bin" --listen 127.0.0.1:0 \
        --data-dir "$work/data-$run" --publish-rate unlimited
    engine_pid=$server_pid engine_port=$server_port
    start_server "$work/floor-$run.log" "$floor_bin" --listen 127.0.0.1:0
    floor_pid=$server_pid floor_port=$server_port

    # Two full pages for the list route; the first stream is the one fetched and published to.
    mapfile -t sids < <(seed_streams "$engine_port" "$seed_count")
    if ((${#sids[@]} != seed_count)); then
        echo "rest_bench: seeding created ${#sids[@]} of $seed_count streams" >&2
        exit 1
    fi
    sid=${sids[0]}
    # The floor ignores the path, but a real-looking one keeps request sizes equal.
    floor_sid=$sid

    for route in $routes; do
        for target in engine floor; do
            if [[ $target == engine ]]; then
                port=$engine_port s=$sid pid=$engine_pid
            else
                port=$floor_port s=$floor_sid pid=$floor_pid
            fi
            if [[ $warmup != 0 && $warmup != 0s ]]; then
                measure "$route" "$target" "$port" "$s" "$run" "$warmup" warmup "$pid"
            fi
            measure "$route" "$target" "$port" "$s" "$run" "$duration" record "$pid"
        done
    done
    stop_server "$engine_pid"
    stop_server "$floor_pid"
done

# stats FIELD ROUTE TARGET -> "median min max" over runs
stats() {
    awk -v f="$1" -v r="$2" -v t="$3" '$1 == r && $2 == t { print $f }' "$results" | sort -g |
        awk '{ v[NR] = $1 } END {
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%s %s %s\n", m, v[1], v[NR] }'
}

# fmt_range MEDIAN MIN MAX DIVISOR DECIMALS -> "m (min-max)"
fmt_range() {
    awk -v m="$1" -v a="$2" -v b="$3" -v d="$4" -v p="$5" \
        'BEGIN { f = "%." p "f"; printf f " (" f "-" f ")", m / d, a / d, b / d }'
}

echo
echo "REST: median of $runs run(s) (min-max); wrk -t$threads -c$connections -d$duration, keep-alive;" \
    "wrk and the servers share $(nproc) CPU(s)"
printf '%-8s %-7s %24s %8s %8s %22s %8s\n' route target "req/s" "p50 ms" "p99 ms" "server CPU us/req" errors
printf '%s\n' "--------------------------------------------------------------------------------------------"
for route in $routes; do
    for target in engine floor; do
        read -r rps rmin rmax < <(stats 4 "$route" "$target")
        read -r p50 _ _ < <(stats 5 "$route" "$target")
        read -r p99 _ _ < <(stats 6 "$route" "$target")
        read -r cpu cmin cmax < <(stats 8 "$route" "$target")
        bad=$(awk -v r="$route" -v t="$target" '$1 == r && $2 == t { s += $7 } END { print s + 0 }' "$results")
        printf '%-8s %-7s %24s %8.2f %8.2f %22s %8d\n' "$route" "$target" \
            "$(fmt_range "$rps" "$rmin" "$rmax" 1 0)" "$(awk -v v="$p50" 'BEGIN { print v / 1000 }')" \
            "$(awk -v v="$p99" 'BEGIN { print v / 1000 }')" "$(fmt_range "$cpu" "$cmin" "$cmax" 1 1)" "$bad"
    done
done
echo
echo "engine/floor (ratios of medians):"
for route in $routes; do
    read -r erps _ _ < <(stats 4 "$route" engine)
    read -r frps _ _ < <(stats 4 "$route" floor)
    read -r ecpu _ _ < <(stats 8 "$route" engine)
    read -r fcpu _ _ < <(stats 8 "$route" floor)
    awk -v r="$route" -v e="$erps" -v f="$frps" -v ec="$ecpu" -v fc="$fcpu" 'BEGIN {
        printf "  %-8s req/s %.3f   CPU per request %.1fx\n", r, e / f, (fc > 0 ? ec / fc : 0) }'
done
echo "p50/p99: medians of wrk's per-run latency percentiles. Server CPU: user+system time of the"
echo "server process during the run divided by the requests it answered."

if ((failures > 0)); then
    echo
    echo "ERROR: $failures measurement(s) saw answers of 400 or more or socket errors; see above." >&2
    exit 1
fi
