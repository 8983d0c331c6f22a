#!/bin/sh
# Workload 2 of docs/benchmarks.md, mass reconnect: every commune of the
# 2025 list (3,321) connects at once, CURVE on, each with its own key, to
# one hub (a national root VN above the 34 provinces, where each commune
# is enrolled directly), each sending a new signed report; measured: the
# time until every report is acknowledged (durably stored), the hub's CPU
# time over it and its peak resident memory. One process plays the
# communes (bench_reconnect, with the project's own protocol messages).
# QUICK=1: the first 1,000 communes. Prints one JSON line (workload
# "reconnect").
#
#   sh tests/bench/reconnect.sh BUILD_DIR [N]
set -u
O=${1:-build/release}
if [ -n "${QUICK:-}" ]; then N=${2:-1000}; else N=${2:-3321}; fi
NAME=reconnect
. tests/bench/lib.sh
# a socket and a connection each: more descriptors than the default
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
national_units "$T/units.csv" 2025
K=$("$HUB" init --dir "$T/vn" --unit VN --bind 'tcp://127.0.0.1:*' --units "$T/units.csv" | tail -n 1) || exit 1
web0 "$T/vn"
"$O/bench/bench_reconnect" enroll "$T/vn" "$N" "$T/keys" >/dev/null || exit 1
"$HUB" run --dir "$T/vn" 2>"$T/vn.log" &
HP=$!
PIDS="$PIDS $HP"
i=0; until EP=$("$HUB" status --dir "$T/vn" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["collector"])' 2>/dev/null); do
    sleep 0.1; i=$((i + 1)); [ $i -lt 100 ] || { echo "reconnect.sh: the hub did not start" >&2; exit 1; }
done
c0=$(awk '{ print $14 + $15 }' "/proc/$HP/stat")
OUT=$("$O/bench/bench_reconnect" connect "$EP" "$K" "$T/keys") || { echo "reconnect.sh: $OUT" >&2; exit 1; }
c1=$(awk '{ print $14 + $15 }' "/proc/$HP/stat")
HWM=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$HP/status")
HELD=$("$HUB" completeness --dir "$T/vn" --form dvcq-6thang --period "$(python3 -c 'import datetime; d=datetime.date.today(); print("%dS%d" % (d.year, 1 if d.month <= 6 else 2))')" --format json |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["reported"])')
python3 - "$OUT" "$c0" "$c1" "$(getconf CLK_TCK)" "$HWM" "$HELD" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
c0, c1, tick, hwm, held = (int(x) for x in sys.argv[2:])
o.update({"workload": "reconnect", "hub_cpu_s": round((c1 - c0) / tick, 2), "hub_peak_rss_kib": hwm,
          "reported_at_hub": held})
print(json.dumps(o))
PY
