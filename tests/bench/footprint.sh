#!/bin/sh
# Workload 5 of docs/benchmarks.md, footprint: an idle commune node with its
# web interface on, and an idle province hub with 100 communes connected
# (Hà Nội, 01, in the 2025 tree; default link timing: heartbeat 5 s), each
# with one report sent. Measured from /proc: resident memory now and at its
# peak (VmRSS, VmHWM) and the CPU time used over SECS seconds of idling;
# and the binaries' sizes. Prints one JSON line (workload "footprint").
#
#   sh tests/bench/footprint.sh BUILD_DIR [SECS]     (60; QUICK=1: 10)
set -u
O=${1:-build/release}
if [ -n "${QUICK:-}" ]; then SECS=${2:-10}; else SECS=${2:-60}; fi
N=100
NAME=foot
. tests/bench/lib.sh

field() { "$1" status --dir "$2" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"].get(sys.argv[1], ""))' "$3" 2>/dev/null; }
# cpu PID: CPU time so far in ns, summed over its threads from
# /proc/PID/task/*/schedstat (ns; clock ticks, 10 ms, are 0.017 % of a
# core over 60 s: too coarse for an idle daemon), else from the user+system
# clock ticks of /proc/PID/stat
if [ -r /proc/self/schedstat ]; then
    CPU_SOURCE=schedstat
    cpu() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
else
    CPU_SOURCE=ticks
    cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.0f\n", ($14 + $15) * 1e9 / t }' "/proc/$1/stat"; }
fi
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

REPORT="TT01=10 TT02=100 TT03=1 TT04=2 DT01=1 DT02=10 LD01=có DVK01=2 DVK02=1 KT01=0 KT02=0 CCHC01=50 CCHC02=45 CCHC04=3 TCD01=4 TCD02=3 TCD03=2 TCD05=1 GS01=1 GS02=2 GS03=1 DC01=có KTR01=0 KTR02=0 DG01=tot ND01=Tốt ND02=Chưa ND03=Tiếp"
K=$("$HUB" init --dir "$T/p01" --unit 01 --bind 'tcp://127.0.0.1:*' | tail -n 1) || exit 1
web0 "$T/p01"
"$HUB" run --dir "$T/p01" 2>"$T/p01.log" &
HP=$!
PIDS="$PIDS $HP"
i=0; until [ -n "$(field "$HUB" "$T/p01" collector)" ]; do
    sleep 0.1; i=$((i + 1)); [ $i -lt 100 ] || { echo "footprint.sh: the hub did not start" >&2; exit 1; }
done
EP=$(field "$HUB" "$T/p01" collector)
CODES=$(awk -F, '$4 == "01" && $3 == "commune" { print $1 }' config/units/vn-2025.csv | head -n $N)
for c in $CODES; do
    k=$("$NODE" init --dir "$T/c$c" --unit "$c" --parent "$EP" --parent-key "$K" | tail -n 1) || exit 1
    web0 "$T/c$c"
    "$HUB" enroll --dir "$T/p01" --unit "$c" --key "$k" >/dev/null || exit 1
    # shellcheck disable=SC2086
    "$NODE" submit --dir "$T/c$c" --form dvcq-nam --period 2025 $REPORT >/dev/null || exit 1
    "$NODE" run --dir "$T/c$c" 2>"$T/c$c.log" &
    PIDS="$PIDS $!"
    LAST=$!
done
# every commune connected and acknowledged
i=0; until [ "$(grep -c 'connected, holds' "$T/p01.log")" -ge $N ]; do
    sleep 0.2; i=$((i + 1)); [ $i -lt 300 ] || { echo "footprint.sh: not all communes connected" >&2; exit 1; }
done
sleep 5
h0=$(cpu "$HP"); n0=$(cpu "$LAST")
sleep "$SECS"
h1=$(cpu "$HP"); n1=$(cpu "$LAST")
python3 - "$N" "$SECS" "$CPU_SOURCE" "$h0" "$h1" "$(kib "$HP" VmRSS)" "$(kib "$HP" VmHWM)" \
    "$n0" "$n1" "$(kib "$LAST" VmRSS)" "$(kib "$LAST" VmHWM)" \
    "$(stat -c %s "$NODE")" "$(stat -c %s "$HUB")" \
    "$(size -A "$NODE" | awk '$1 == ".text" { print $2 }')" "$(size -A "$HUB" | awk '$1 == ".text" { print $2 }')" <<'PY'
import json, sys
a = sys.argv[1:]
n, secs, source = int(a[0]), float(a[1]), a[2]
h0, h1, hrss, hhwm, n0, n1, nrss, nhwm, nb, hb, nt, ht = (int(x) for x in a[3:])
print(json.dumps({
    "workload": "footprint", "hub_children": n, "idle_secs": secs, "cpu_source": source,
    "hub": {"rss_kib": hrss, "peak_rss_kib": hhwm, "cpu_pct": round(100 * (h1 - h0) / 1e9 / secs, 4)},
    "node_web_on": {"rss_kib": nrss, "peak_rss_kib": nhwm,
                    "cpu_pct": round(100 * (n1 - n0) / 1e9 / secs, 4)},
    "binary_bytes": {"tonghop-node": nb, "tonghop-hub": hb},
    "text_bytes": {"tonghop-node": nt, "tonghop-hub": ht}}))
PY
