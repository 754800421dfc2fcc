#!/usr/bin/env bash
# The desktop console under a firehose, and its cold start against a bare Qt Widgets window, from
# bench_console. Prints figures; never a pass/fail on speed.
#
#   tests/bench/console_bench.sh [-b BUILD_DIR] [-r RATE] [-s SECONDS] [-c CAPACITY] [-n RUNS]
#                                [-N STARTUP_RUNS] [-p auto|xvfb|offscreen] [-v] [-o SCREENSHOT]
#                                [-C /seq,/value]
#
# Defaults come from the environment, so tests/bench/run can pass them through:
#   CONSOLE_RATE (20000 msg/s)  CONSOLE_SECONDS (30)  CONSOLE_CAPACITY (10000)  CONSOLE_RUNS (3)
#   CONSOLE_STARTUP_RUNS (5)    CONSOLE_PLATFORM (auto)
#   CONSOLE_CHART_POINTERS (none): JSON Pointers the live view's field chart plots during the
#   firehose, comma-separated (the payloads carry the numbers /seq and /value)
# With the defaults it takes about 2 minutes (3 × 30 s of firehose, 10 start-ups of ~4 s each).
#
# The console needs a display. "auto" prefers a real X server, Xvfb through xvfb-run
# (apt-get install xvfb), and falls back to QT_QPA_PLATFORM=offscreen; the output says which.
set -euo pipefail

build_dir=build
rate=${CONSOLE_RATE:-20000}
seconds=${CONSOLE_SECONDS:-30}
capacity=${CONSOLE_CAPACITY:-10000}
runs=${CONSOLE_RUNS:-3}
startup_runs=${CONSOLE_STARTUP_RUNS:-5}
platform=${CONSOLE_PLATFORM:-auto}
chart_pointers=${CONSOLE_CHART_POINTERS:-}
verbose=()
screenshot=()

usage() {
    sed -n '5,7p' "$0" | sed 's/^# *//'
    exit 2
}
while getopts "b:r:s:c:n:N:p:vo:C:h" opt; do
    case $opt in
    b) build_dir=$OPTARG ;;
    r) rate=$OPTARG ;;
    s) seconds=$OPTARG ;;
    c) capacity=$OPTARG ;;
    n) runs=$OPTARG ;;
    N) startup_runs=$OPTARG ;;
    p) platform=$OPTARG ;;
    v) verbose=(--verbose) ;;
    o) screenshot=(--screenshot "$OPTARG") ;;
    C) chart_pointers=$OPTARG ;;
    *) usage ;;
    esac
done

bench=$build_dir/bin/bench_console
if [[ ! -x $bench ]]; then
    echo "console_bench: $bench is missing; build it with:" >&2
    echo "  cmake --build $build_dir --target bench_console" >&2
    exit 1
fi

case $platform in
auto) if command -v xvfb-run >/dev/null; then platform=xvfb; else platform=offscreen; fi ;;
xvfb)
    if ! command -v xvfb-run >/dev/null; then
        echo "console_bench: xvfb-run not found; install it with: apt-get install xvfb" >&2
        exit 1
    fi
    ;;
offscreen) ;;
*) usage ;;
esac

# Qt warns on every start without it; a private one also keeps runs from sharing state.
runtime_dir=$(mktemp -d)
trap 'rm -rf "$runtime_dir"' EXIT
chmod 700 "$runtime_dir"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$runtime_dir}

if [[ $platform == xvfb ]]; then
    # One X server for every run: 24-bit, big enough for the console's first-start size (85% of
    # the screen). xvfb-run's default screen is 640x480x8. -nolisten tcp: local clients only.
    echo "display: Xvfb through xvfb-run, screen 1920x1080x24 (a real X server; the xcb platform)"
    launch=(xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp")
else
    echo "display: QT_QPA_PLATFORM=offscreen (no X server: painting goes to memory only)"
    export QT_QPA_PLATFORM=offscreen
    launch=()
fi
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before the console runs)"

chart=()
[[ -n $chart_pointers ]] && chart=(--chart "$chart_pointers")

status=0
echo
echo "-- firehose: bench_console --firehose --rate $rate --seconds $seconds --capacity $capacity --runs $runs ${chart[*]}"
"${launch[@]}" "$bench" --firehose --rate "$rate" --seconds "$seconds" --capacity "$capacity" \
    --runs "$runs" "${chart[@]}" "${verbose[@]}" "${screenshot[@]}" || status=$?

echo
echo "-- start-up: bench_console --startup --runs $startup_runs"
"${launch[@]}" "$bench" --startup --runs "$startup_runs" "${verbose[@]}" || status=$?

exit "$status"
