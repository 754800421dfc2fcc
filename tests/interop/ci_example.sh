#!/bin/sh
# docs/ci_example: the CI example of docs/ci.md runs as written, with the built streams-engine and
# streams-cli first on PATH, and the page shows its files exactly as they are.
#   tests/interop/ci_example.sh SOURCE_DIR BIN_DIR [BIN_DIR...]
set -eu
source_dir=$1
shift
bin_path=
for dir in "$@"; do bin_path="$bin_path$dir:"; done
doc="$source_dir/docs/ci.md"
# What both YAML examples run, from the root of a checkout.
command="docs/examples/ci-engine.sh /usr/bin/python3 docs/examples/ci_example_test.py"

# 1. The page includes every example file whole, as it is: nothing is copied by hand.
for file in ci-engine.sh seed-state.json ci_example_test.py github-actions.yml gitlab-ci.yml; do
    /usr/bin/python3 - "$doc" "$source_dir/docs/examples/$file" <<'EOF'
import sys
doc, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
if "\n" + text + "```\n" not in open(doc, encoding="utf-8").read():
    sys.exit("%s does not show %s as it is, in a fenced block of its own" % (doc, path))
EOF
done

# 2. Both YAML examples run exactly the command run below.
for file in github-actions.yml gitlab-ci.yml; do
    grep -qF "$command" "$source_dir/docs/examples/$file" \
        || { echo "docs/examples/$file does not run: $command" >&2; exit 1; }
done

# 3. Run it as CI would, from the root of the checkout, artifacts in a scratch directory.
artifacts=$(mktemp -d)
trap 'rm -rf "$artifacts"' EXIT
export PATH="$bin_path$PATH" ARTIFACTS_DIR="$artifacts"
for program in streams-engine streams-cli; do
    echo "$program: $(command -v "$program")"
done
cd "$source_dir"
# shellcheck disable=SC2086 # the command is split into words as a CI runner's shell would
$command

# 4. It left the artifacts the page promises: the final state (the seed's services), the traffic.
/usr/bin/python3 - "$artifacts" "$source_dir/docs/examples/seed-state.json" <<'EOF'
import json, os, sys
artifacts, seed_path = sys.argv[1], sys.argv[2]
state = json.load(open(os.path.join(artifacts, "engine-state.json"), encoding="utf-8"))
seed = json.load(open(seed_path, encoding="utf-8"))
if state.get("format") != 1:
    sys.exit("engine-state.json: format %r" % state.get("format"))
if [s["sid"] for s in state["services"]] != [s["sid"] for s in seed["services"]]:
    sys.exit("engine-state.json does not hold the seed's services: %s" % state["services"])
traffic = open(os.path.join(artifacts, "traffic.txt"), encoding="utf-8").read()
if "/Streams/orders/Messages" not in traffic:
    sys.exit("traffic.txt does not show the tests' publishes:\n" + traffic)
print("artifacts: engine-state.json (%d services), traffic.txt (%d lines), engine.log"
      % (len(state["services"]), len(traffic.splitlines())))
EOF
