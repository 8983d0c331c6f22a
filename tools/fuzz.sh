#!/bin/sh
# Runs every libFuzzer target of build dir $1 (BUILD=fuzz) for $2 seconds:
#   1. the regression inputs tests/fuzz/regress/<target>/* (every crash ever
#      found, kept) must all pass;
#   2. then fuzzing from the seed corpus tests/fuzz/corpus/<target>/ (read
#      only) into $1/fuzz-corpus/<target>/ (new inputs), crashes written to
#      $1/fuzz-crashes/<target>-*: copy one into tests/fuzz/regress/<target>/
#      when it is fixed.
# Prints the executions per target and a closing "N passed, N failed" line.
set -u
O=${1:?usage: tools/fuzz.sh BUILD_DIR SECONDS}
SECS=${2:-60}
cd "$(dirname "$0")/.." || exit 2
failed=0; n=0
mkdir -p "$O/fuzz-crashes"
for f in "$O"/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    t=${f##*/fuzz_}
    n=$((n + 1))
    log="$O/fuzz-$t.log"
    reg=tests/fuzz/regress/$t
    if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
        if ! timeout -k 10 300 "$f" -runs=0 "$reg"/* >"$log.regress" 2>&1; then
            echo "FAIL - $t: a regression input crashes again (see $log.regress)"
            tail -n 30 "$log.regress" | sed 's/^/       /'
            failed=$((failed + 1))
            continue
        fi
    fi
    work="$O/fuzz-corpus/$t"
    mkdir -p "$work"
    seeds=tests/fuzz/corpus/$t
    [ -d "$seeds" ] || seeds=""
    # shellcheck disable=SC2086
    timeout -k 10 $((SECS + 120)) "$f" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$O/fuzz-crashes/$t-" "$work" $seeds >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        echo "ok   - $t: ${execs:-?} executions in $SECS s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) inputs"
    else
        echo "FAIL - $t: exit $rc after ${execs:-?} executions; crash inputs: $(ls "$O/fuzz-crashes" | grep "^$t-" | tr '\n' ' ')"
        grep -m 1 -A 25 -E 'ERROR: |runtime error|deadly signal' "$log" | sed 's/^/       /'
        failed=$((failed + 1))
    fi
done
echo "fuzz targets: $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ] && [ $n -gt 0 ]
