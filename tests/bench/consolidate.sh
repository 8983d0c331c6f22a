#!/bin/sh
# Workload 4 of docs/benchmarks.md, consolidation at national size: a root
# hub VN holding one report of dvcq-nam 2024 (and of dvcq-6thang 2024S1,
# 2024S2, 2025S1) from each of the 10,035 communes of the 2024 tree, filled
# through the real ingest (bench_relay); then rollup, completeness and the
# three exports for the whole country, whole process (the commands) and
# in-process (bench_consolidate), beside the limit: the time to read the
# same reports from the store. QUICK=1: the province of Thanh Hóa (38, its
# 547 communes) as the root instead of the country.
# Prints one JSON line per measurement (workload "consolidate"); a command
# that fails is recorded as such, the others still run, the exit status is 1.
#
#   sh tests/bench/consolidate.sh BUILD_DIR
set -u
O=${1:-build/release}
NAME=cons
. tests/bench/lib.sh
if [ -n "${QUICK:-}" ]; then
    SCOPE=38
    "$HUB" init --dir "$T/vn" --unit 38 --bind 'tcp://127.0.0.1:*' >/dev/null || exit 1
else
    SCOPE=VN
    national_units "$T/units.csv"
    "$HUB" init --dir "$T/vn" --unit VN --bind 'tcp://127.0.0.1:*' --units "$T/units.csv" >/dev/null || exit 1
fi
"$O/bench/bench_relay" "$T/vn" 2024 2024 - >"$T/fill.out" || exit 1
echo "{\"workload\": \"consolidate\", \"what\": \"fill\", \"scope\": \"$SCOPE\", \"reports\": $(awk '$1 == "records" { print $2 }' "$T/fill.out"), \"children\": $(awk '$1 == "children" { print $2 }' "$T/fill.out")}"
# in-process, best of 3
"$O/bench/bench_consolidate" "$T/vn" dvcq-nam 2024 3 || exit 1
# whole process: the commands, best of 3
FAILED=0
best() {
    what=$1; shift
    b=
    for i in 1 2 3; do
        t0=$(date +%s%N)
        "$@" >/dev/null || {
            rc=$?
            echo "consolidate.sh: $what failed (exit status $rc)" >&2
            echo "{\"workload\": \"consolidate\", \"mode\": \"whole process\", \"what\": \"$what\", \"failed\": \"exit status $rc\"}"
            FAILED=1
            return
        }
        t=$(( ($(date +%s%N) - t0) / 1000000 ))
        [ -z "$b" ] || [ "$t" -lt "$b" ] && b=$t
    done
    echo "{\"workload\": \"consolidate\", \"mode\": \"whole process\", \"what\": \"$what\", \"ms\": $b, \"best_of\": 3}"
}
best "rollup" "$HUB" rollup --dir "$T/vn" --form dvcq-nam --period 2024 --format json
best "completeness" "$HUB" completeness --dir "$T/vn" --form dvcq-nam --period 2024 --format json
best "export CSV" "$HUB" export --dir "$T/vn" --form dvcq-nam --period 2024 --format csv --out "$T/x.csv"
best "export HTML" "$HUB" export --dir "$T/vn" --form dvcq-nam --period 2024 --format html --out "$T/x.html"
best "export XLSX" "$HUB" export --dir "$T/vn" --form dvcq-nam --period 2024 --format xlsx --out "$T/x.xlsx"
exit $FAILED
