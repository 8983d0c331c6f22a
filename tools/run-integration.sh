#!/bin/sh
# Runs every tests/integration/*.sh with the binaries of build dir $1.
# Each script prints its own "N passed, N failed" line.
set -u
O=${1:?build dir}
failed=0; n=0
for t in tests/integration/test_*.sh; do
    [ -e "$t" ] || continue
    n=$((n + 1))
    echo "== $t"
    if ! timeout -k 15 600 sh "$t" "$O"; then
        echo "FAILED: $t"
        failed=$((failed + 1))
    fi
done
echo "integration scripts: $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
