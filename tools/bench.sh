#!/bin/sh
# Runs the benchmarks of build dir $1 and prints what they measured.
# Results are recorded by hand, with the date and machine, in docs/benchmarks.md.
set -eu
O=${1:?build dir}
echo "== bench_office ($(nproc) cores, $(uname -m))"
"$O/bench/bench_office" "${TMPDIR:-/tmp}/tonghop-bench.$$"
echo "== CLI: submit + show on a fresh office"
D=$(mktemp -d /tmp/tonghop-bench-cli.XXXXXX)
trap 'rm -rf "$D"' EXIT
"$O/tonghop-node" init --dir "$D/x" --unit 25459 >/dev/null
t0=$(date +%s%N)
i=0
while [ $i -lt 50 ]; do
    "$O/tonghop-node" submit --dir "$D/x" --form dvcq-nam --period 2026 --draft TT01=$i >/dev/null
    i=$((i + 1))
done
t1=$(date +%s%N)
echo "submit --draft (process start, open, validate, sign, commit): $(( (t1 - t0) / 50000 )) us each over 50"
echo "== relay backlog, tonghop and PouchDB side by side (tests/bench/relay.sh)"
sh tests/bench/relay.sh "$O"
echo "== mass reconnect of the 3,321 communes of 2025 (tests/bench/reconnect.sh)"
sh tests/bench/reconnect.sh "$O"
echo "== consolidation for the whole country (tests/bench/consolidate.sh)"
sh tests/bench/consolidate.sh "$O"
echo "== web: dashboard and form POST with 64 connections (tests/bench/web.sh)"
sh tests/bench/web.sh "$O" 400
echo "== footprint: idle node (web on), idle province hub with 100 communes (tests/bench/footprint.sh)"
sh tests/bench/footprint.sh "$O" 60
