#!/bin/sh
# Installs the Debian packages tonghop needs that are missing; does nothing
# when all are present. Uses sudo when not root. `deps.sh` alone installs
# what building and running need; `deps.sh test` adds what the tests and
# the demo use: python3 (helpers), chromium and poppler-utils
# (printing the HTML report to PDF and reading it back), faketime (a wall
# clock before a deadline), fonts-liberation2 (Times New Roman metrics), and
# node with npm (browser tests through playwright-core), clang with
# libFuzzer (tests/fuzz), dpkg-dev and lintian (the package test).
# `deps.sh bench` adds what `make bench` uses: node with npm (the PouchDB
# peer), mosquitto with libmosquitto (the MQTT peer) and apache2-utils (ab,
# the web load). `deps.sh deb` adds what `make deb` and its test use:
# dpkg-dev (dpkg-shlibdeps, for Depends:) and lintian.
set -eu
PKGS="build-essential pkg-config libzmq3-dev libczmq-dev libmsgpack-dev liblmdb-dev lmdb-utils
libuv1-dev libcmocka-dev libsodium-dev libmicrohttpd-dev libinih-dev libxlsxwriter-dev
libjansson-dev python3"
# with "test": what only the tests and the demo need
if [ "${1:-}" = test ]; then
    PKGS="$PKGS chromium poppler-utils faketime fonts-liberation2"
    # the fuzzers: clang with its libFuzzer and sanitizer runtimes
    PKGS="$PKGS clang libclang-rt-14-dev"
    # the package test (tests/integration/test_deb.sh): dpkg-shlibdeps and lintian
    PKGS="$PKGS dpkg-dev lintian"
    # the browser tests run playwright-core (npm) on node: Debian's when none is there
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        PKGS="$PKGS nodejs npm"
    fi
fi
if [ "${1:-}" = bench ]; then
    PKGS="$PKGS apache2-utils mosquitto libmosquitto-dev"
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        PKGS="$PKGS nodejs npm"
    fi
fi
if [ "${1:-}" = deb ]; then
    PKGS="$PKGS dpkg-dev lintian"
fi
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
