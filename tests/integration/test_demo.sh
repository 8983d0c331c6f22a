#!/bin/sh
# make demo in its short mode (tools/demo.py --short): two districts of
# three communes of the 2024 tree, six communes of the 2025 tree, then the
# national level (the root VN, two province hubs of three communes), each
# office its own process, lines cut by chaos proxies, clerks on and off.
# Checks the demo's own summary against the province's store: the figures
# equal the sums of what the simulated clerks submitted last, completeness
# counts match the script of the clerks, the report files exist, and the
# demo leaves no process behind.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh
fast_python

for tree in 2024 2025 national; do
    S=$TMP/summary-$tree.json
    W=$TMP/demo-$tree
    expect_ok "demo $tree (short) exits 0" python3 tools/demo.py "$O" --short --tree "$tree" --seed 7 --dir "$W" --summary "$S"
    expect_in "demo $tree says the totals match" "Đúng:" "$LAST_OUT"
    [ -s "$S" ] && ok "demo $tree wrote its summary" || { bad "no summary"; continue; }
    P=$(json_get dir <"$S")
    Y=$(json_get period <"$S")
    expect_ok "rollup at the province ($tree)" "$HUB" rollup --dir "$P" --form dvcq-nam --period "$Y" --format json
    R=$LAST_OUT
    expect_eq "every expected total equals the store's ($tree)" "$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1])); r = json.loads(sys.argv[2])["values"]
bad = {k: (r.get(k), v) for k, v in s["expected"].items() if r.get(k) != v}
print("same" if not bad and len(s["expected"]) >= 20 else bad)' "$S" "$R")" same
    expect_ok "completeness at the province ($tree)" "$HUB" completeness --dir "$P" --form dvcq-nam --period "$Y" --format json
    printf '%s' "$LAST_OUT" >"$TMP/completeness-$tree.json"   # too long for an argument
    expect_eq "on time and late as the clerks were scripted ($tree)" "$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["planned"]; c = json.load(open(sys.argv[2]))["totals"]
print((c["on_time"], c["late"]) == (s["on_time"], s["late"]) or (c, s))' "$S" "$TMP/completeness-$tree.json")" True
    for f in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["files"]))' "$S"); do
        [ -s "$f" ] && ok "report file $(basename "$f")" || bad "missing $f"
    done
    expect_eq "no process of the demo left ($tree)" "$(pgrep -f "$W" | wc -l)" 0
done
th_summary
