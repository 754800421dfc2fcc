#!/usr/bin/env bash
# The product on Debian 13 (trixie) and its Qt 6.8 LTS: in a Debian 13 root made with debootstrap
# (once, then reused), install the build and test dependencies from Debian's archive, build with
# warnings as errors (the `ci` preset), run the whole ctest suite, then build the .deb, install
# it with apt-get, run what it installed and remove it.
#
#   tests/debian13/run.sh [--prepare]   as root (debootstrap, chroot and mounts need it);
#                                       --prepare: make the root and install into it, then stop
#
# env: DEBIAN13_ROOT (default /var/cache/sync-streams-console/debian13): the root, kept between
#      runs; DEBIAN13_MIRROR (default http://deb.debian.org/debian).
# The source tree is bind-mounted at /src inside the root; the build goes to build-debian13/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
root=${DEBIAN13_ROOT:-/var/cache/sync-streams-console/debian13}
mirror=${DEBIAN13_MIRROR:-http://deb.debian.org/debian}
# Everything tools/dev installs on Debian 12, under the names Debian 13 gives them
# (libqt6opengl6-dev is part of qt6-base-dev there).
packages=(
    # build
    build-essential cmake ninja-build ccache pkgconf dpkg-dev file git
    qt6-base-dev qt6-base-dev-tools qt6-websockets-dev qt6-charts-dev libqt6sql6-sqlite
    qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libgl-dev
    qtkeychain-qt6-dev libsecret-1-0 libsqlite3-dev libboost-dev libssl-dev libwslay-dev
    # tests
    python3 python3-twilio nodejs npm xvfb xauth imagemagick fonts-dejavu-core xdotool curl wrk
    dbus-daemon dbus-bin gnome-keyring libsecret-tools sqlite3 e2fsprogs procps iproute2
    # packages
    help2man librsvg2-bin lintian desktop-file-utils appstream systemd man-db
)

if [ "$(id -u)" -ne 0 ]; then
    echo "tests/debian13/run.sh: needs root (debootstrap, chroot, mounts)" >&2
    exit 2
fi
command -v debootstrap >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
}

started=$SECONDS
step() { echo "debian13: $* ($((SECONDS - started)) s)"; }

# --- the root, made once ---------------------------------------------------------------------
if [ ! -f "$root/.complete" ]; then
    step "making a Debian 13 root in $root with debootstrap"
    rm -rf "$root"
    mkdir -p "$root"
    debootstrap --variant=minbase --components=main trixie "$root" "$mirror" >"$root.log" 2>&1 || {
        tail -30 "$root.log" >&2
        exit 1
    }
    touch "$root/.complete"
fi

mounts=()
unmount_all() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount -l "${mounts[$i]}" 2>/dev/null || true
    done
}
trap unmount_all EXIT
bind() { # bind SOURCE TARGET-IN-ROOT
    mkdir -p "$root$2"
    mount --bind "$1" "$root$2"
    mounts+=("$root$2")
}
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
mount -t sysfs sys "$root/sys" && mounts+=("$root/sys")
bind /dev /dev
bind /dev/pts /dev/pts
mount -t tmpfs tmpfs "$root/dev/shm" && mounts+=("$root/dev/shm")
mount -t tmpfs tmpfs "$root/tmp" && mounts+=("$root/tmp")
bind "$src" /src
cp /etc/resolv.conf "$root/etc/resolv.conf"

in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        TERM=dumb CI="${CI:-}" "$@"
}

# --- what it needs, installed only when missing (as tools/dev does) ---------------------------
missing=""
for package in "${packages[@]}"; do
    in_root dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
        missing="$missing $package"
done
if [ -n "$missing" ]; then
    step "installing in the root:$missing"
    in_root apt-get update -qq
    in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $missing >"$root/tmp/apt.log" 2>&1 || {
        tail -30 "$root/tmp/apt.log" >&2
        exit 1
    }
fi
step "Qt $(in_root dpkg-query -W -f='${Version}' qt6-base-dev), $(in_root g++ --version | head -1)," \
    "CMake $(in_root cmake --version | head -1 | cut -d' ' -f3), Boost $(in_root dpkg-query -W -f='${Version}' libboost-dev)"

[ "${1:-}" = "--prepare" ] && exit 0

# --- build with warnings as errors, run every test --------------------------------------------
step "building (ci preset, warnings as errors)"
in_root sh -c 'cd /src && cmake --preset ci -B build-debian13 >/dev/null && cmake --build build-debian13'
step "testing"
in_root sh -c 'cd /src && ctest --test-dir build-debian13 --output-on-failure --parallel 2'

# --- the .deb for Debian 13: built, checked, installed, run, removed --------------------------
step "packaging"
in_root sh -c 'cd /src && PRESET=ci BUILD_DIR=/src/build-debian13 tests/packaging/run.sh'
step "done"
