#!/bin/sh
# Runs a test command against a throwaway streams-engine, as docs/ci.md describes:
#   docs/examples/ci-engine.sh COMMAND [ARGUMENT...]
# The engine keeps everything in memory, starts from the snapshot $STREAMS_SEED (default:
# seed-state.json beside this script) and writes its final state and traffic log to
# $ARTIFACTS_DIR (default: engine-artifacts). Exits with the command's status.
set -eu
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGUMENT...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
export STREAMS_SEED="${STREAMS_SEED:-$here/seed-state.json}"
artifacts="${ARTIFACTS_DIR:-engine-artifacts}"
mkdir -p "$artifacts"

# 1. Throwaway credentials in Twilio's shapes; the engine and the clients read the same TWILIO_*.
random_hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
TWILIO_ACCOUNT_SID="AC$(random_hex)" TWILIO_AUTH_TOKEN=$(random_hex)
TWILIO_API_KEY="SK$(random_hex)" TWILIO_API_SECRET=$(random_hex)
export TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN TWILIO_API_KEY TWILIO_API_SECRET
unset TWILIO_EDGE TWILIO_REGION # either would make the clients rewrite the engine's host
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

# 2. Start the engine: nothing on disk, a free port, seeded, its state exported when it stops.
log="$artifacts/engine.log"
streams-engine --in-memory --listen 127.0.0.1:0 --state "$STREAMS_SEED" \
    --export-state-on-exit "$artifacts/engine-state.json" >"$log" 2>&1 &
engine=$!
trap 'kill "$engine" 2>/dev/null || true' EXIT

# 3. Its port, from the line "listening on http://127.0.0.1:PORT".
port=
for _ in $(seq 100); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log")
    [ -n "$port" ] && break
    kill -0 "$engine" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "streams-engine did not start:" >&2; cat "$log" >&2; exit 1; }
export STREAMS_ENGINE_URL="http://127.0.0.1:$port"

# 4. Ready when the health route (the one without credentials) answers.
curl -fsS --retry 20 --retry-connrefused --retry-delay 1 "$STREAMS_ENGINE_URL/_engine/health"
echo

# 5. The tests. Whatever they do, keep what the engine served for the artifacts.
status=0
"$@" || status=$?
streams-cli --url "$STREAMS_ENGINE_URL" engine traffic --limit 1000 >"$artifacts/traffic.txt" || true

# 6. A clean stop (SIGTERM) writes engine-state.json.
kill -TERM "$engine"
wait "$engine" || { echo "streams-engine did not stop cleanly:" >&2; cat "$log" >&2; exit 1; }
trap - EXIT
exit "$status"
