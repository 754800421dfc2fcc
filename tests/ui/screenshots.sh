#!/usr/bin/env bash
# Launches streams-console under Xvfb on a temporary data directory, drives a short scenario and
# writes screenshots, for people (and docs/) to look at: the console on its embedded engine, its
# engine instruments (faults, traffic, the Engine menu), the new stream dialog, then a saved connection to a second engine — the profile editor with its
# connection test, the connection manager, and the remote connection in the tree next to the
# local one, live and while that engine is down.
#
#   tests/ui/screenshots.sh [BUILD_DIR] [OUT_DIR]      (defaults: build, /tmp/streams-screenshots)
#
# Needs Xvfb, xdotool, ImageMagick's import, curl, and dbus-run-session with gnome-keyring for
# the console's keychain (tools/dev test installs them).
set -euo pipefail

build_dir=$(cd "${1:-build}" && pwd)
out_dir=${2:-/tmp/streams-screenshots}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
    # Last started, first stopped: the console before the X server it draws on (the other way
    # round, Qt aborts on the lost display).
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for tool in Xvfb xdotool import curl python3 dbus-run-session gnome-keyring-daemon; do
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
# On a private D-Bus session with a throwaway keyring (tests/support/with-keyring.sh), so saved
# connections keep their secrets in a keychain as they would on a desktop. The console writes its
# own pid, so it can be stopped by that pid alone.
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
"$source_dir/tests/support/with-keyring.sh" env DISPLAY="$DISPLAY" sh -c 'echo $$ >"$1"; shift; exec "$@"' \
    sh "$work/console.pid" \
    "$build_dir/bin/streams-console" --data-dir "$work/data" --listen "127.0.0.1:$console_port" \
    --settings "$work/console.ini" --profiles "$work/profiles.ini" --stream default/telemetry \
    >"$work/console.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/console.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/console.pid")")
window=""
for _ in $(seq 100); do
    window=$(xdotool search --name 'Sync Streams Console' 2>/dev/null | head -1 || true)
    [ -n "$window" ] && break
    sleep 0.1
done
[ -n "$window" ] || { echo "screenshots: the console window never appeared" >&2; cat "$work/console.log" >&2; exit 1; }
sleep 1

window_named() {
    local id=""
    for _ in $(seq 50); do
        id=$(xdotool search --name "$1" 2>/dev/null | tail -1 || true)
        [ -n "$id" ] && break
        sleep 0.1
    done
    if [ -z "$id" ]; then
        import -window root "$out_dir/failed-waiting-for-window.png"
        echo "screenshots: no window named '$1' (screen in $out_dir/failed-waiting-for-window.png)" >&2
        exit 1
    fi
    echo "$id"
}
# A window as it is on screen (what overlaps it included), cropped from the root window: a
# window's own capture can show areas an earlier dialog covered as black.
shoot_window() {
    local x y w h
    eval "$(xdotool getwindowgeometry --shell "$1" | sed -n 's/^\(X\|Y\|WIDTH\|HEIGHT\)=/\1=/p')"
    import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$2"
}

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

# 4. The embedded engine's instruments. Faults on the stream watched: 25 % of deliveries dropped
# and the rest delayed, set over the control plane as CI would; the tree badges the stream, and
# the page's Faults tab (Ctrl+Shift+X) shows the rule acting.
control="http://127.0.0.1:$console_port/_engine"
curl -sf -u "$auth" -H 'Content-Type: application/json' \
    -d '{"stream":"telemetry","drop":0.25,"delay_ms":150,"jitter_ms":50,"seed":7}' "$control/faults" >/dev/null
xdotool windowactivate --sync "$window" 2>/dev/null || xdotool windowfocus "$window"
xdotool key --clearmodifiers ctrl+shift+x
for i in $(seq 81 120); do
    data=$(printf '{"device":"sensor-%d","seq":%d,"temperature":%d.%d,"ok":true}' \
        $((i % 4)) "$i" $((19 + i % 6)) $((i % 10)))
    curl -sf -u "$auth" --data-urlencode "Data=$data" "$base/default/Streams/telemetry/Messages" >/dev/null
    sleep 0.04
done
sleep 2
import -window root "$out_dir/console-faults.png"
xdotool key --clearmodifiers ctrl+shift+x # back to Properties

# The next three publishes refused with 429, then five publishes, seen in View → Traffic
# (Ctrl+Shift+T).
curl -sf -u "$auth" -H 'Content-Type: application/json' \
    -d '{"stream":"telemetry","rest_error":{"status":429,"count":3}}' "$control/faults" >/dev/null
for i in $(seq 121 125); do
    curl -s -o /dev/null -u "$auth" --data-urlencode "Data={\"seq\":$i}" \
        "$base/default/Streams/telemetry/Messages"
done
xdotool windowactivate --sync "$window" 2>/dev/null || xdotool windowfocus "$window"
xdotool key --clearmodifiers ctrl+shift+t
sleep 1
# Taller, as one would drag it (the separator above the dock's title); then only the errors,
# and the first refusal selected for its details.
xdotool mousemove --window "$window" 800 697 mousedown 1 mousemove --window "$window" 800 420 mouseup 1
sleep 1
xdotool mousemove --window "$window" 1042 608 click 1
sleep 0.5
xdotool key --clearmodifiers End Return
sleep 1
xdotool mousemove --window "$window" 460 653 click 1
sleep 1
import -window root "$out_dir/console-traffic.png"
xdotool key --clearmodifiers ctrl+shift+t

# The Engine menu (Alt+N), then no faults left for what follows.
xdotool key --clearmodifiers alt+n
sleep 0.8
import -window root "$out_dir/console-engine-menu.png"
xdotool key Escape
curl -sf -u "$auth" -X DELETE "$control/faults" >/dev/null
sleep 0.5

# Field charts (Ctrl+Shift+G, then a pointer and Enter, twice) while telemetry comes in.
xdotool key --clearmodifiers ctrl+shift+g
sleep 0.5
xdotool type --delay 20 "/temperature"
xdotool key Return
xdotool type --delay 20 "/humidity"
xdotool key Return
for i in $(seq 126 245); do
    data=$(printf '{"device":"sensor-%d","seq":%d,"temperature":%d.%d,"humidity":%d}' \
        $((i % 4)) "$i" $((19 + (i / 7) % 6)) $((i % 10)) $((40 + (i / 3) % 15)))
    curl -sf -u "$auth" --data-urlencode "Data=$data" "$base/default/Streams/telemetry/Messages" >/dev/null
    sleep 0.03
done
sleep 1.5
import -window root "$out_dir/console-field-chart.png"

# Replay (Ctrl+Shift+R) of a recording at its own pace (4 messages a second), caught under way.
python3 - "$work/recording.ndjson" <<'PY'
import datetime, json, sys
start = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.timezone.utc)
with open(sys.argv[1], "w") as out:
    for i in range(40):
        at = start + datetime.timedelta(milliseconds=250 * i)
        data = {"device": f"sensor-{i % 4}", "seq": 1000 + i, "temperature": 20 + (i % 8) / 2,
                "humidity": 45 + i % 10}
        out.write(json.dumps({"sid": "TZ%032x" % i, "data": data,
                              "received": at.strftime("%Y-%m-%dT%H:%M:%S.")
                              + "%03dZ" % (at.microsecond // 1000)}) + "\n")
PY
xdotool key --clearmodifiers ctrl+shift+r
window_named '^Replay NDJSON$' >/dev/null
sleep 0.8
xdotool type --delay 5 "$work/recording.ndjson"
xdotool key Return
sleep 1.5
xdotool key Return # Start
sleep 4
import -window root "$out_dir/console-replay.png"
sleep 7
# Back to the tree, on the stream's row (the fourth), as a click would: the keyboard walks that
# follow start from there.
xdotool mousemove --window "$window" 119 133 click 1
sleep 0.5

# 5. New stream dialog (Ctrl+N), with a name the contract refuses.
xdotool windowactivate --sync "$window" 2>/dev/null || xdotool windowfocus "$window"
xdotool key --clearmodifiers ctrl+n
sleep 1
xdotool type --delay 20 "TO0123456789abcdef0123456789abcdef"
sleep 0.8
import -window root "$out_dir/console-new-stream.png"
xdotool key Escape
sleep 0.5

# Connection → Use from Your Code… (Ctrl+Shift+Y): the zero-change lines for the user's shell.
xdotool windowactivate --sync "$window" 2>/dev/null || xdotool windowfocus "$window"
xdotool key --clearmodifiers ctrl+shift+y
setup=$(window_named '^Use from Your Code')
sleep 1
shoot_window "$setup" "$out_dir/console-use-from-code.png"
xdotool key --clearmodifiers Escape
sleep 0.5

# 6. A second engine "elsewhere" (another port, its own data and credentials) to connect to.
remote_port=$(free_port)
# Its own credentials, not the ones exported above for the first engine. env executes the engine
# in its own place, so $! is the engine's pid.
unset_credentials="-u TWILIO_ACCOUNT_SID -u TWILIO_AUTH_TOKEN -u TWILIO_API_KEY -u TWILIO_API_SECRET"
# shellcheck disable=SC2086
env $unset_credentials "$build_dir/bin/streams-engine" --listen "127.0.0.1:$remote_port" --data-dir "$work/remote" \
    >"$work/remote.log" 2>&1 &
remote=$!
pids+=("$remote")
for _ in $(seq 50); do grep -q 'listening on' "$work/remote.log" && break; sleep 0.1; done
credential() {
    # shellcheck disable=SC2086
    env $unset_credentials "$build_dir/bin/streams-engine" --show-credentials --data-dir "$work/remote" \
        | sed -n "s/^export $1=//p" | tr -d "'\""
}
remote_account=$(credential TWILIO_ACCOUNT_SID)
remote_key=$(credential TWILIO_API_KEY)
remote_secret=$(credential TWILIO_API_SECRET)
remote_auth="$remote_account:$(credential TWILIO_AUTH_TOKEN)"
remote_base="http://127.0.0.1:$remote_port/v1/Services"
for name in sensors alerts build-events; do
    curl -sf -u "$remote_auth" -d "UniqueName=$name" "$remote_base/default/Streams" >/dev/null
done

# 7. Connection → Manage Connections… (Ctrl+Shift+M): a Twilio account, then the engine, added
# through the profile editor. Fields are reached by their mnemonics, as a keyboard user would.
xdotool windowactivate --sync "$window" 2>/dev/null || xdotool windowfocus "$window"
xdotool key --clearmodifiers ctrl+shift+m
manager=$(window_named '^Connections$')
sleep 0.5

xdotool key --clearmodifiers alt+a
editor=$(window_named '^New connection$')
sleep 0.5
xdotool key --clearmodifiers alt+n
xdotool type --delay 10 "Production"
xdotool key --clearmodifiers alt+a
xdotool type --delay 10 "AC0123456789abcdef0123456789abcdef"
xdotool key --clearmodifiers alt+i
xdotool type --delay 10 "SK0123456789abcdef0123456789abcdef"
xdotool key --clearmodifiers alt+e
xdotool type --delay 10 "not-a-real-secret"
xdotool key --clearmodifiers alt+r
xdotool type --delay 10 "ie1"
sleep 0.3
xdotool key --clearmodifiers alt+s
sleep 1
# No window manager gives the focus back when a dialog closes: hand it over as one would.
xdotool windowactivate --sync "$manager" 2>/dev/null || xdotool windowfocus "$manager"

xdotool key --clearmodifiers alt+a
editor=$(window_named '^New connection$')
sleep 0.5
xdotool key --clearmodifiers alt+k
xdotool key --clearmodifiers Down
xdotool key --clearmodifiers alt+n
xdotool type --delay 10 "Staging engine"
xdotool key --clearmodifiers alt+u
xdotool type --delay 10 "http://127.0.0.1:$remote_port"
xdotool key --clearmodifiers alt+a
xdotool type --delay 10 "$remote_account"
xdotool key --clearmodifiers alt+i
xdotool type --delay 10 "$remote_key"
xdotool key --clearmodifiers alt+e
xdotool type --delay 5 "$remote_secret"
xdotool key --clearmodifiers alt+o
sleep 2
shoot_window "$editor" "$out_dir/connections-editor.png"
xdotool key --clearmodifiers alt+s
sleep 1.5
xdotool windowactivate --sync "$manager" 2>/dev/null || xdotool windowfocus "$manager"
shoot_window "$manager" "$out_dir/connections-manager.png"

# 8. Open it: the engine at a URL sits in the tree next to the embedded one, with its badge; its
# default service is expanded from the keyboard (Ctrl+F, then Tab to the tree).
xdotool key --clearmodifiers alt+o
sleep 2
xdotool windowactivate --sync "$window" 2>/dev/null || xdotool windowfocus "$window"
xdotool key --clearmodifiers ctrl+f
xdotool key --clearmodifiers Tab
xdotool key --clearmodifiers Down
xdotool key --clearmodifiers Right
sleep 1
xdotool key --clearmodifiers Down
xdotool key --clearmodifiers Return
sleep 2
for i in $(seq 1 40); do
    data=$(printf '{"sensor":"s-%d","reading":%d}' $((i % 3)) "$i")
    curl -sf -u "$remote_auth" --data-urlencode "Data=$data" "$remote_base/default/Streams/sensors/Messages" >/dev/null
    sleep 0.03
done
sleep 1.5
shoot_window "$window" "$out_dir/connections-remote-tree.png"

# 9. The remote engine goes away: the node says "reconnecting…" and the live view marks the gap.
kill "$remote"
wait "$remote" 2>/dev/null || true
sleep 4
shoot_window "$window" "$out_dir/connections-reconnecting.png"

# 10. It comes back on the same address: the node reconnects by itself and the live view keeps a
# marker of the gap, whose messages were never received.
# shellcheck disable=SC2086
env $unset_credentials "$build_dir/bin/streams-engine" --listen "127.0.0.1:$remote_port" \
    --data-dir "$work/remote" >"$work/remote.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q 'listening on' "$work/remote.log" && break; sleep 0.1; done
sleep 12
for i in $(seq 41 60); do
    data=$(printf '{"sensor":"s-%d","reading":%d}' $((i % 3)) "$i")
    curl -sf -u "$remote_auth" --data-urlencode "Data=$data" "$remote_base/default/Streams/sensors/Messages" >/dev/null
    sleep 0.03
done
sleep 1.5
shoot_window "$window" "$out_dir/connections-resumed.png"

echo "screenshots in $out_dir:"
ls -1 "$out_dir"
