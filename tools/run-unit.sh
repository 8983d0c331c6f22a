#!/bin/sh
# Runs each unit-test binary under a timeout; cmocka prints its own summary.
# VALGRIND=1 runs them under memcheck. Exit status: number of failed binaries
# (capped), 0 when all passed.
set -u
failed=0
for t in "$@"; do
    echo "== $t"
    if [ "${VALGRIND:-0}" = 1 ]; then
        timeout -k 15 900 valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect --trace-children=no "$t"
    else
        timeout -k 15 300 "$t"
    fi
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAILED: $t (exit $rc)"
        failed=$((failed + 1))
    fi
done
echo "unit test binaries: $(($# - failed)) passed, $failed failed"
[ $failed -eq 0 ]
