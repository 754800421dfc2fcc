#!/usr/bin/env bash
# Launches streams-console under Xvfb on a temporary data directory, drives a short scenario and
# writes screenshots, for people (and docs/) to look at.
#
#   tests/ui/screenshots.sh [BUILD_DIR] [OUT_DIR]      (defaults: build, /tmp/streams-screenshots)
#
# Needs Xvfb, xdotool, ImageMagick's import and curl (tools/dev test installs them).
set -euo pipefail

build_dir=$(cd "${1:-build}" && pwd)
out_dir=${2:-/tmp/streams-screenshots}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for tool in Xvfb xdotool import curl python3; do
    command -v "$tool" >/dev/null || { echo "screenshots: $tool is missing" >&2; exit 1; }
done

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# 1. Seed a data directory with a few streams, using the headless engine.
engine_port=$(free_port)
"$build_dir/bin/streams-engine" --listen "127.0.0.1:$engine_port" --data-dir "$work/data" >"$work/engine.log" 2>&1 &
engine=$!
for _ in $(seq 50); do grep -q 'listening on' "$work/engine.log" && break; sleep 0.1; done
eval "$("$build_dir/bin/streams-engine" --show-credentials --data-dir "$work/data")"
auth="$TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN"
base="http://127.0.0.1:$engine_port/v1/Services"
for name in orders telemetry chat-room-42 deploys; do
    curl -sf -u "$auth" -d "UniqueName=$name" -d Ttl=7200 "$base/default/Streams" >/dev/null
done
curl -sf -u "$auth" -d FriendlyName=Staging "$base" >/dev/null
kill "$engine"
wait "$engine" 2>/dev/null || true

# 2. The console on that data directory, in a virtual X server.
Xvfb :0 -displayfd 3 -screen 0 1600x1000x24 3>"$work/display" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/display" ] && break; sleep 0.1; done
export DISPLAY=":$(cat "$work/display")"
console_port=$(free_port)
"$build_dir/bin/streams-console" --data-dir "$work/data" --listen "127.0.0.1:$console_port" \
    --settings "$work/console.ini" --stream default/telemetry >"$work/console.log" 2>&1 &
pids+=($!)
window=""
for _ in $(seq 100); do
    window=$(xdotool search --name 'Sync Streams Console' 2>/dev/null | head -1 || true)
    [ -n "$window" ] && break
    sleep 0.1
done
[ -n "$window" ] || { echo "screenshots: the console window never appeared" >&2; cat "$work/console.log" >&2; exit 1; }
sleep 1

# 3. "The user's own code" publishes telemetry while the console watches.
base="http://127.0.0.1:$console_port/v1/Services"
for i in $(seq 1 80); do
    data=$(printf '{"device":"sensor-%d","seq":%d,"temperature":%d.%d,"ok":%s}' \
        $((i % 4)) "$i" $((19 + i % 6)) $((i % 10)) "$([ $((i % 9)) -eq 0 ] && echo false || echo true)")
    curl -sf -u "$auth" --data-urlencode "Data=$data" "$base/default/Streams/telemetry/Messages" >/dev/null
    sleep 0.04
done
sleep 1.5
import -window root "$out_dir/console-overview.png"

# 4. New stream dialog (Ctrl+N), with a name the contract refuses.
xdotool windowactivate --sync "$window" 2>/dev/null || xdotool windowfocus "$window"
xdotool key --clearmodifiers ctrl+n
sleep 1
xdotool type --delay 20 "TO0123456789abcdef0123456789abcdef"
sleep 0.8
import -window root "$out_dir/console-new-stream.png"
xdotool key Escape

echo "screenshots in $out_dir:"
ls -1 "$out_dir"
