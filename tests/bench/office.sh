#!/bin/sh
# The costs one office pays (the first section of docs/benchmarks.md):
# bench_office (unit lists, sign, decode + verify, store commits), then
# whole CLI processes: `submit --draft` N times on a fresh office (process
# start, open the store, load forms and units, validate, sign, commit).
# Prints one JSON line per measurement (workload "office").
#
#   sh tests/bench/office.sh BUILD_DIR [N]      (N: 50, QUICK=1: 20)
set -u
O=${1:-build/release}
if [ -n "${QUICK:-}" ]; then N=${2:-20}; else N=${2:-50}; fi
NAME=office
. tests/bench/lib.sh
"$O/bench/bench_office" "$T/store" || exit 1
"$NODE" init --dir "$T/x" --unit 25459 >/dev/null || exit 1
t0=$(date +%s%N)
i=0
while [ $i -lt "$N" ]; do
    "$NODE" submit --dir "$T/x" --form dvcq-nam --period 2026 --draft TT01=$i >/dev/null || exit 1
    i=$((i + 1))
done
t1=$(date +%s%N)
awk -v d=$((t1 - t0)) -v n="$N" 'BEGIN {
    printf "{\"workload\": \"office\", \"what\": \"CLI submit --draft, whole process\", "
    printf "\"n\": %d, \"seconds\": %.4f, \"per_s\": %.0f, \"us_each\": %.0f}\n", n, d / 1e9, n * 1e9 / d, d / n / 1e3
}'
