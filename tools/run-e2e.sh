#!/bin/sh
# Runs every tests/e2e/test_*.mjs (browser tests of the web interface) with
# node, against the binaries of build dir $1. Each test prints its own
# "N passed, N failed" line; screenshots and logs go to $1/test-output/e2e/.
# Installs tests/e2e/node_modules (playwright-core, no browser download: the
# tests drive /usr/bin/chromium) with "npm ci" when it is missing or older
# than tests/e2e/package-lock.json.
set -u
O=${1:?usage: tools/run-e2e.sh BUILD_DIR}
[ -d "$O" ] || { echo "run-e2e: no build directory '$O'" >&2; exit 2; }
O=$(cd "$O" && pwd) || exit 2
cd "$(dirname "$0")/.." || exit 2

E=tests/e2e
command -v node >/dev/null 2>&1 || { echo "run-e2e: node is not installed" >&2; exit 2; }
if [ ! -d "$E/node_modules/playwright-core" ] ||
    [ -n "$(find "$E/package-lock.json" -newer "$E/node_modules/playwright-core" 2>/dev/null)" ]; then
    if ! log=$(npm ci --prefix "$E" --no-audit --no-fund 2>&1); then
        printf '%s\n' "$log" >&2
        echo "run-e2e: npm ci --prefix $E failed" >&2
        exit 2
    fi
fi

failed=0; n=0
for t in "$E"/test_*.mjs; do
    [ -e "$t" ] || continue
    n=$((n + 1))
    echo "== $t"
    if ! timeout -k 15 600 node "$t" "$O"; then
        echo "FAILED: $t"
        failed=$((failed + 1))
    fi
done
echo "e2e scripts: $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ] && [ $n -gt 0 ]
