#!/bin/sh
# Runs a command on a private D-Bus session bus that carries a throwaway, unlocked gnome-keyring,
# so keychain tests talk to a real Secret Service without touching the user's own keyring.
#
#   with-keyring.sh COMMAND [ARGS...]                     bus + gnome-keyring (Secret Service)
#   with-keyring.sh --without-keyring COMMAND [ARGS...]   bus with no Secret Service on it
#
# HOME and the XDG directories point into a temporary directory that is removed afterwards. The
# bus activates nothing on demand (its configuration names no service directories), so the only
# Secret Service is the daemon started here. A missing tool is a failure, never a skip: CI must
# not turn green without having run the keychain tests. Exports STREAMS_TEST_KEYRING=throwaway
# (or none) so a test can refuse to run against a keyring that is not this one.
set -eu

me=with-keyring.sh
keyring=yes
if [ "${1:-}" = "--without-keyring" ]; then
    keyring=no
    shift
fi
if [ $# -eq 0 ]; then
    echo "usage: $me [--without-keyring] COMMAND [ARGS...]" >&2
    exit 2
fi

need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "$me: FAIL: '$1' is not installed (Debian package $2; tools/dev test installs it)" >&2
        exit 1
    fi
}
need dbus-run-session dbus-daemon
if [ "$keyring" = yes ]; then
    need gnome-keyring-daemon gnome-keyring
    need dbus-send dbus-bin
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/with-keyring.XXXXXX")
cleanup() { rm -rf "$scratch"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$scratch/home" "$scratch/config" "$scratch/data" "$scratch/cache" "$scratch/runtime"
chmod 700 "$scratch/runtime"
export HOME="$scratch/home"
export XDG_CONFIG_HOME="$scratch/config"
export XDG_DATA_HOME="$scratch/data"
export XDG_CACHE_HOME="$scratch/cache"
export XDG_RUNTIME_DIR="$scratch/runtime"
# Nothing of the caller's own session may leak in.
unset DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL SSH_AUTH_SOCK DISPLAY WAYLAND_DISPLAY
if [ "$keyring" = yes ]; then
    export STREAMS_TEST_KEYRING=throwaway
else
    export STREAMS_TEST_KEYRING=none
fi

cat >"$scratch/session.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$scratch/runtime</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF

# The inner script runs on the private bus. The keyring password is random and only ever piped
# to the daemon; the keyring it protects is deleted with the scratch directory.
inner='
set -eu
if [ "$1" = yes ]; then
    head -c 24 /dev/urandom | od -An -tx1 | tr -d " \n" \
        | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    tries=0
    until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
            | grep -q "boolean true"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 200 ]; then
            echo "with-keyring.sh: FAIL: gnome-keyring-daemon did not offer the Secret Service" >&2
            exit 1
        fi
        sleep 0.05
    done
fi
shift
"$@"
'
status=0
dbus-run-session --config-file="$scratch/session.conf" -- sh -c "$inner" sh "$keyring" "$@" \
    || status=$?
exit "$status"
