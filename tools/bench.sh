#!/bin/sh
# Runs every benchmark of build dir $1 (`make bench` builds it and installs
# the peers first) and rewrites the generated section of docs/benchmarks.md
# from what this run measured (tools/bench_report.py).
#
#   tools/bench.sh BUILD_DIR          full sizes (the targets' sizes)
#   QUICK=1 tools/bench.sh BUILD_DIR  reduced sizes, under 2 minutes; the
#                                     section says QUICK
#
# Each workload (tests/bench/*.sh) runs under `timeout` (BENCH_TIMEOUT s:
# 900, QUICK 300); its output is shown and kept in $1/bench/run/NAME.log,
# and every JSON line of the run goes to $1/bench/results.jsonl with the
# run's start (date, machine, versions, load), each workload's outcome and
# the run's end. A workload that fails or times out is recorded as such and
# the next one still runs; the exit status is then 1. BENCH_COMMAND: the
# command written in the section (make passes `make bench ...`).
set -u
O=${1:?build dir}
QUICK=${QUICK:-}
[ "$QUICK" = 0 ] && QUICK=
export QUICK
if [ -n "$QUICK" ]; then LIMIT=${BENCH_TIMEOUT:-300}; else LIMIT=${BENCH_TIMEOUT:-900}; fi
CMD=${BENCH_COMMAND:-${QUICK:+QUICK=$QUICK }tools/bench.sh $O}
DOC=docs/benchmarks.md
REPORT="python3 tools/bench_report.py"
R=$O/bench/run
RES=$O/bench/results.jsonl
mkdir -p "$R" || exit 1
rm -f "$R"/*.log "$R"/*.rc "$R"/*.pid

# the workload running now: its timeout's pid and the tee's, stopped on exit
RUNNING=""
TEE=""
stop() {
    if [ -n "$RUNNING" ] && [ -s "$R/$RUNNING.pid" ]; then
        kill "$(cat "$R/$RUNNING.pid")" 2>/dev/null
    fi
    [ -n "$TEE" ] && wait "$TEE" 2>/dev/null
    RUNNING=""
    TEE=""
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

$REPORT start --command "$CMD" ${QUICK:+--quick} >"$RES" || exit 1
FAILED=""

# run NAME TITLE COMMAND...: one workload, under timeout, its output shown
# and kept; its JSON lines and its outcome go to the results
run() {
    name=$1 title=$2
    shift 2
    echo "== $name: $title"
    t0=$(date +%s)
    RUNNING=$name
    # in the background and waited for, so that INT and TERM reach the trap
    {
        timeout -k 10 "$LIMIT" "$@" 2>&1 &
        echo $! >"$R/$name.pid"
        wait $!
        echo $? >"$R/$name.rc"
    } | tee "$R/$name.log" &
    TEE=$!
    wait "$TEE"
    TEE=""
    RUNNING=""
    rc=$(cat "$R/$name.rc" 2>/dev/null || echo 1)
    grep '^{' "$R/$name.log" >>"$RES"
    $REPORT status "$name" "$rc" "$(( $(date +%s) - t0 ))" "$R/$name.log" "$LIMIT" >>"$RES"
    if [ "$rc" -ne 0 ]; then
        echo "== $name: FAILED (exit status $rc); the next workload still runs"
        FAILED="$FAILED $name"
    fi
}

echo "== bench: ${QUICK:+QUICK (reduced sizes), }$(nproc) cores, $(uname -m), load $(cut -d' ' -f1-3 /proc/loadavg)"
run office "one office: bench_office, CLI submit" sh tests/bench/office.sh "$O"
run relay "relay backlog, tonghop beside MQTT and PouchDB; the ingest" sh tests/bench/relay.sh "$O"
run reconnect "mass reconnect of the communes of 2025" sh tests/bench/reconnect.sh "$O"
if [ -n "$QUICK" ]; then SCOPE="under one province"; else SCOPE="for the whole country"; fi
run consolidate "consolidation $SCOPE" sh tests/bench/consolidate.sh "$O"
run web "dashboard and form POST with 64 connections" sh tests/bench/web.sh "$O"
run footprint "idle node (web on), idle province hub with 100 communes" sh tests/bench/footprint.sh "$O"
$REPORT end >>"$RES"

echo "== results: $RES"
$REPORT render "$RES" "$DOC" || FAILED="$FAILED report"
if [ -n "$FAILED" ]; then
    echo "== bench: failed:$FAILED" >&2
    exit 1
fi
