#!/usr/bin/env bash
# Packaging, end to end, the way a user meets it: build the .deb and .tar.gz with CPack, check them
# (lintian, desktop-file-validate, appstreamcli, man, systemd-analyze), install the .deb with
# apt-get, run what it installed (every --version, the engine under Twilio's python client, the
# console under Xvfb from its menu entry), then remove the package and check nothing is left.
#
#   tests/packaging/run.sh            as root (or with sudo): it installs and removes a package
#
# PRESET (default `packaging`) chooses the configure preset and BUILD_DIR (default build-package/,
# the `packaging` preset's) the build directory. `tools/dev test` packages its own `ci` build
# (PRESET=ci BUILD_DIR=build-ci): the same Release flags, so what is tested is what is shipped.
# Needs: lintian desktop-file-utils appstream help2man librsvg2-bin python3-twilio xvfb xauth
# imagemagick xdotool (plus the build packages of tools/dev).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir=${BUILD_DIR:-$root/build-package}
package=sync-streams-console
app_id=io.github.sync_streams_console.StreamsConsole
programs=(streams-engine streams-console streams-cli)

work=$(mktemp -d "${TMPDIR:-/tmp}/streams-packaging.XXXXXX")
# Qt wants a private runtime directory; CI's environment has none.
export XDG_RUNTIME_DIR=$work/runtime
mkdir -m 0700 "$XDG_RUNTIME_DIR"
passed=0
failed=0
installed_here=0
pids=()

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

finish() {
    local code=$?
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$installed_here" -eq 1 ] && dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed'; then
        echo "packaging: removing $package after the failure"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "$package" >/dev/null || true
    fi
    rm -rf "$work"
    if [ "$code" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1
    fi
    echo "packaging: $passed passed, $failed failed"
    exit "$code"
}
trap finish EXIT

pass() {
    passed=$((passed + 1))
    echo "packaging: ok - $*"
}

fail() {
    failed=$((failed + 1))
    echo "packaging: FAIL - $*" >&2
    exit 1
}

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

# --- build the packages ---------------------------------------------------------------------------
echo "packaging: building in $build_dir"
cmake --preset "${PRESET:-packaging}" -B "$build_dir" >"$work/configure.log" 2>&1 || {
    cat "$work/configure.log"
    fail "configure"
}
cmake --build "$build_dir"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build_dir/CMakeCache.txt")
[ -n "$version" ] || fail "no CMAKE_PROJECT_VERSION in $build_dir/CMakeCache.txt"
rm -f "$build_dir"/"$package"_*.deb "$build_dir"/"$package"-*.tar.gz
(cd "$build_dir" && cpack -G "DEB;TGZ" >"$work/cpack.log" 2>&1) || {
    cat "$work/cpack.log"
    fail "cpack"
}
deb=$(ls "$build_dir"/"$package"_"$version"_*.deb)
tarball=$(ls "$build_dir"/"$package"-"$version"-*.tar.gz)
pass "cpack built $(basename "$deb") and $(basename "$tarball")"

# --- what is in them ------------------------------------------------------------------------------
expected=(
    usr/bin/streams-engine usr/bin/streams-console usr/bin/streams-cli
    "usr/share/applications/$app_id.desktop"
    "usr/share/metainfo/$app_id.metainfo.xml"
    "usr/share/icons/hicolor/scalable/apps/$app_id.svg"
    usr/lib/systemd/user/streams-engine.service
    "usr/share/doc/$package/copyright" "usr/share/doc/$package/changelog.gz"
)
for size in 16 22 24 32 48 64 128 256 512; do
    expected+=("usr/share/icons/hicolor/${size}x${size}/apps/$app_id.png")
done
for program in "${programs[@]}"; do
    expected+=("usr/share/man/man1/$program.1.gz")
done
staged=$work/deb-root
dpkg-deb -x "$deb" "$staged"
for path in "${expected[@]}"; do
    [ -f "$staged/$path" ] || fail "the .deb has no /$path"
done
pass "the .deb holds the ${#expected[@]} expected files"
for size in 16 48 512; do
    geometry=$(identify -format '%wx%h' "$staged/usr/share/icons/hicolor/${size}x${size}/apps/$app_id.png")
    [ "$geometry" = "${size}x${size}" ] || fail "the ${size}x${size} icon is $geometry"
done
pass "the hicolor icons have their sizes"

depends=$(dpkg-deb -f "$deb" Depends)
echo "packaging: Depends: $depends"
# Debian 13 renamed libraries for 64-bit time_t (libqt6core6 became libqt6core6t64).
# libssl3 holds libcrypto, which the engine's certificate authority links (core/tls).
for dependency in libqt6core6 libqt6widgets6 libqt6keychain1 libqt6sql6-sqlite libsecret-1-0 libssl3; do
    case ", $depends," in
    *", $dependency "* | *", $dependency,"* | *", ${dependency}t64 "* | *", ${dependency}t64,"*) ;;
    *) fail "Depends lacks $dependency: $depends" ;;
    esac
done
pass "dependencies computed by dpkg-shlibdeps, plus the two loaded at run time"

tar -tzf "$tarball" >"$work/tarball.list"
for program in "${programs[@]}"; do
    grep -q "/bin/$program\$" "$work/tarball.list" || fail "the .tar.gz has no bin/$program"
done
pass "the .tar.gz holds the executables"

# --- static checks --------------------------------------------------------------------------------
# Errors and warnings fail; informational tags are shown, not fatal.
if ! lintian --fail-on error,warning --display-info "$deb" >"$work/lintian.log" 2>&1; then
    cat "$work/lintian.log"
    fail "lintian"
fi
cat "$work/lintian.log"
pass "lintian: no errors, no warnings"

desktop_file=$staged/usr/share/applications/$app_id.desktop
desktop-file-validate "$desktop_file" >"$work/desktop.log" 2>&1 || {
    cat "$work/desktop.log"
    fail "desktop-file-validate"
}
if grep -Eq 'error|warning' "$work/desktop.log"; then
    cat "$work/desktop.log"
    fail "desktop-file-validate warned"
fi
pass "desktop-file-validate"

# --no-net: CI reaches no web host, so the screenshot URLs are not fetched. validate-tree also
# checks that the metainfo, the .desktop file and the icon agree.
# AppStream 1.0 (Debian 13) wants <developer> for the deprecated <developer_name>, which 0.16
# (Debian 12) does not know yet: that one finding is expected from 0.16, any other fails.
appstream_validate() { # appstream_validate validate|validate-tree PATH
    local findings
    findings=$(appstreamcli "$1" --no-net --strict "$2" 2>&1) && return 0
    echo "$findings"
    ! grep -E '^ *[IWEP]:' <<<"$findings" | grep -qv ': unknown-tag developer$'
}
appstream_validate validate "$staged/usr/share/metainfo/$app_id.metainfo.xml" || fail "appstreamcli validate"
appstream_validate validate-tree "$staged" || fail "appstreamcli validate-tree"
newest=$(sed -n 's/.*<release version="\([^"]*\)".*/\1/p' "$staged/usr/share/metainfo/$app_id.metainfo.xml" | head -n 1)
[ "$newest" = "$version" ] || fail "the newest AppStream release is $newest, the project is $version"
pass "appstreamcli validate and validate-tree (--no-net)"

for program in "${programs[@]}"; do
    page=$staged/usr/share/man/man1/$program.1.gz
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" >"$work/$program.man" 2>"$work/$program.man-warnings" \
        || fail "man cannot render $program.1"
    if [ -s "$work/$program.man-warnings" ]; then
        cat "$work/$program.man-warnings"
        fail "groff warns about $program.1"
    fi
    grep -q -- '--version' "$work/$program.man" || fail "$program.1 does not list the options of --help"
done
grep -q 'STREAMS_ENGINE_OPTIONS' "$work/streams-engine.man" || fail "streams-engine.1 lacks its FILES section"
pass "man pages render without warnings and carry the --help options"

# --- install --------------------------------------------------------------------------------------
if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed'; then
    echo "packaging: removing the $package already installed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "$package" >/dev/null
fi
installed_here=1
if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$work/apt.log" 2>&1; then
    # A dependency may not be in the (possibly stale) package lists yet.
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$work/apt.log" 2>&1 || {
        cat "$work/apt.log"
        fail "apt-get install $deb"
    }
fi
[ "$(dpkg-query -W -f='${Version}' "$package")" = "$version" ] || fail "dpkg does not list $package $version"
dpkg -L "$package" >"$work/installed.list"
pass "apt-get install $(basename "$deb")"

for program in "${programs[@]}"; do
    printed=$(QT_QPA_PLATFORM=offscreen "/usr/bin/$program" --version 2>"$work/version.err") || {
        cat "$work/version.err"
        fail "/usr/bin/$program --version failed"
    }
    [ "$printed" = "$program $version" ] || fail "/usr/bin/$program --version printed '$printed', not '$program $version'"
done
pass "every installed executable's --version prints $version"

# Only the Qt modules the design names: no technology preview (Qt HTTP Server) among them.
for program in "${programs[@]}"; do
    libraries=$(ldd "/usr/bin/$program")
    if grep -q "libQt6HttpServer" <<<"$libraries"; then
        fail "/usr/bin/$program links libQt6HttpServer"
    fi
    if grep -q "not found" <<<"$libraries"; then
        fail "/usr/bin/$program misses libraries: $(grep 'not found' <<<"$libraries" | tr -s ' \n' ' ')"
    fi
done
case ", $(dpkg-deb -f "$deb" Depends)," in
*httpserver*) fail "the .deb depends on Qt HTTP Server" ;;
esac
pass "the executables link only the Qt modules the design names (ldd: no libQt6HttpServer)"

if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /usr/lib/systemd/user/streams-engine.service || fail "systemd-analyze verify streams-engine.service"
    pass "systemd-analyze verify streams-engine.service"
else
    echo "packaging: systemd-analyze not found: the user unit is not verified"
fi

# --- the installed engine, driven by Twilio's official python client -------------------------------
random_hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
TWILIO_ACCOUNT_SID="AC$(random_hex)"
TWILIO_AUTH_TOKEN=$(random_hex)
TWILIO_API_KEY="SK$(random_hex)"
TWILIO_API_SECRET=$(random_hex)
export TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN TWILIO_API_KEY TWILIO_API_SECRET
/usr/bin/streams-engine --listen 127.0.0.1:0 --data-dir "$work/engine" >"$work/engine.out" 2>"$work/engine.err" &
engine_pid=$!
pids+=("$engine_pid")
engine_listening() { grep -q 'listening on http://127.0.0.1:' "$work/engine.out"; }
wait_for 30 engine_listening || {
    cat "$work/engine.err"
    fail "the installed streams-engine did not start listening"
}
port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/engine.out" | head -n 1)
NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 /usr/bin/python3 - "http://127.0.0.1:$port" <<'PYTHON' || fail "the python client against the installed engine"
import os, re, sys
from twilio.rest import Client

client = Client(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"])
client.sync.base_url = sys.argv[1]
service = client.sync.v1.services.create(friendly_name="installed from the .deb")
assert re.fullmatch(r"IS[0-9a-f]{32}", service.sid), service.sid
fetched = client.sync.v1.services(service.sid).fetch()
assert fetched.friendly_name == "installed from the .deb", fetched.friendly_name
PYTHON
kill -TERM "$engine_pid"
engine_code=0
wait "$engine_pid" || engine_code=$?
pids=()
[ "$engine_code" -eq 0 ] || fail "the installed streams-engine exited with $engine_code on SIGTERM"
pass "installed streams-engine served python3-twilio and stopped cleanly"

# --- the systemd user unit's commands, run as systemd would run them ----------------------------
# CI has no user manager to start the unit, so its ExecStartPre and ExecStart lines are run here,
# with systemd's $$ unescaped and $STREAMS_ENGINE_OPTIONS word-split as systemd does. What this
# proves: on the start that generates the credentials, the service's output (the journal) gets no
# secret.
unit=/usr/lib/systemd/user/streams-engine.service
unit_command() { sed -n "s/^$1=//p" "$unit" | sed 's/\$\$/$/g'; }
start_pre=$(unit_command ExecStartPre)
start=$(unit_command ExecStart)
if [ -z "$start_pre" ] || [ -z "$start" ]; then
    fail "no ExecStartPre/ExecStart in $unit"
fi
service_dir=$work/service
# shellcheck disable=SC2034 # used by the eval'd unit lines
STREAMS_ENGINE_OPTIONS="--listen 127.0.0.1:0 --data-dir $service_dir"
(
    unset TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN TWILIO_API_KEY TWILIO_API_SECRET
    eval "$start_pre"
) >"$work/service-pre.out" 2>&1 || {
    cat "$work/service-pre.out"
    fail "the unit's ExecStartPre failed"
}
if [ -s "$work/service-pre.out" ]; then
    fail "the unit's ExecStartPre printed something"
fi
[ -f "$service_dir/credentials.json" ] || fail "the unit's ExecStartPre created no credentials"
(
    unset TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN TWILIO_API_KEY TWILIO_API_SECRET
    eval "exec $start"
) >"$work/service.out" 2>&1 &
service_pid=$!
pids+=("$service_pid")
service_listening() { grep -q 'listening on http://127.0.0.1:' "$work/service.out"; }
wait_for 30 service_listening || fail "the unit's ExecStart did not start the engine"
kill -TERM "$service_pid"
wait "$service_pid" || fail "the unit's engine did not stop cleanly on SIGTERM"
pids=()
for key in auth_token api_key_secret; do
    secret=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$service_dir/credentials.json" "$key")
    [ -n "$secret" ] || fail "credentials.json has no $key"
    if grep -qF -- "$secret" "$work/service.out"; then
        fail "the service printed its $key (it would be in the journal)"
    fi
done
pass "the unit's commands create the credentials quietly and start the engine without printing secrets"

# --- the installed console, started from its menu entry, under Xvfb -----------------------------
exec_line=$(sed -n 's/^Exec=//p' /usr/share/applications/$app_id.desktop | sed 's/ *%[fFuUdDnNickvm]//g')
read -r -a console_command <<<"$exec_line"
screenshot_dir=$build_dir/packaging-test
mkdir -p "$screenshot_dir" "$work/home"
cat >"$work/console.sh" <<'SH'
#!/usr/bin/env bash
# Inside xvfb-run: start the console, wait until its window shows something, take the screenshot.
set -euo pipefail
shot=$1 data_dir=$2
shift 2
"$@" --listen 127.0.0.1:0 --data-dir "$data_dir" >"$data_dir.out" 2>&1 &
console=$!
trap 'kill $console 2>/dev/null || true' EXIT
window=$(timeout 60 xdotool search --sync --onlyvisible --class streams-console | head -n 1) || {
    echo "no streams-console window appeared" >&2
    cat "$data_dir.out" >&2
    exit 1
}
# The window is mapped before it is painted: look until it shows more than a flat fill.
deadline=$((SECONDS + 30))
while :; do
    kill -0 $console 2>/dev/null || { echo "the console exited" >&2; cat "$data_dir.out" >&2; exit 1; }
    import -window root "$shot"
    colours=$(import -window "$window" png:- | identify -format '%k' -)
    [ "$colours" -ge 64 ] && break
    [ $SECONDS -ge $deadline ] && { echo "the console window stayed blank ($colours colours)" >&2; exit 1; }
    sleep 0.5
done
echo "$colours"
kill -TERM $console
wait $console || true
SH
colours=$(HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
    STREAMS_PROFILES_FILE="$work/home/profiles.ini" \
    timeout 120 xvfb-run -a -s "-screen 0 1280x800x24" \
    bash "$work/console.sh" "$screenshot_dir/console.png" "$work/console-engine" "${console_command[@]}") \
    || fail "the installed console under Xvfb"
pass "installed console started from its .desktop Exec line and drew its window ($colours colours; $screenshot_dir/console.png)"

# --- remove ---------------------------------------------------------------------------------------
as_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "$package" >/dev/null
installed_here=0
if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed'; then
    fail "$package is still installed after apt-get remove"
fi
left=0
while read -r path; do
    if [ -f "$path" ] || [ -L "$path" ]; then
        echo "packaging: left behind: $path" >&2
        left=1
    fi
done <"$work/installed.list"
[ "$left" -eq 0 ] || fail "apt-get remove left files behind"
pass "apt-get remove took every file with it"
