#!/bin/sh
# make chaos: runs tests/chaos/chaos.py for seeds FIRST..FIRST+SEEDS-1 with the
# binaries of build dir $1, one after the other, and sums up: seeds passed
# and failed, faults injected, time to converge (min/median/max). Each seed's
# summary goes to $1/chaos/seed-N.json; a failed seed keeps its directory
# (printed) and is replayed with: python3 tests/chaos/chaos.py $1 --seed N
#   tools/chaos.sh BUILD_DIR SEEDS [FIRST] [chaos.py options...]
set -u
O=${1:?usage: tools/chaos.sh BUILD_DIR SEEDS [FIRST] [options]}
SEEDS=${2:-10}
FIRST=${3:-1}
shift 3 2>/dev/null || shift $#
cd "$(dirname "$0")/.." || exit 2
mkdir -p "$O/chaos"
t0=$(date +%s)
i=0
while [ $i -lt "$SEEDS" ]; do
    seed=$((FIRST + i))
    echo "== seed $seed"
    timeout -k 10 900 python3 tests/chaos/chaos.py "$O" --seed "$seed" --json "$O/chaos/seed-$seed.json" "$@" |
        grep -E '^(FAIL|#|       )|passed, ' | sed 's/^/   /'
    i=$((i + 1))
done
python3 - "$O/chaos" "$FIRST" "$SEEDS" "$(($(date +%s) - t0))" <<'PY'
import json, os, statistics, sys
d, first, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
runs = []
for s in range(first, first + n):
    try:
        runs.append(json.load(open(os.path.join(d, "seed-%d.json" % s))))
    except (OSError, ValueError):
        runs.append({"seed": s, "failed": 1, "failures": ["no summary (crashed or timed out)"],
                     "faults": {}, "converge_s": None})
ok = [r for r in runs if not r["failed"]]
faults = {}
for r in runs:
    for k, v in r.get("faults", {}).items():
        faults[k] = faults.get(k, 0) + v
conv = [r["converge_s"] for r in runs if r.get("converge_s") is not None]
out = {"seeds": n, "first": first, "passed": len(ok), "failed": n - len(ok), "seconds": secs,
       "faults": faults, "converge_s": {"min": min(conv), "median": statistics.median(conv),
                                        "max": max(conv)} if conv else None,
       "failed_seeds": [{"seed": r["seed"], "failures": r["failures"]} for r in runs if r["failed"]]}
json.dump(out, open(os.path.join(d, "summary.json"), "w"), indent=1)
print("# %d seeds in %d s; faults injected: %s" % (n, secs, json.dumps(faults)))
if conv:
    print("# time to converge after the chaos: min %.1f s, median %.1f s, max %.1f s"
          % (min(conv), statistics.median(conv), max(conv)))
for r in out["failed_seeds"]:
    print("# seed %d failed: %s" % (r["seed"], "; ".join(r["failures"])))
print("seeds: %d passed, %d failed" % (len(ok), n - len(ok)))
sys.exit(0 if len(ok) == n else 1)
PY
