#!/bin/sh
# Four levels (issue 14): the ministry's national root VN ← provinces ←
# districts ← communes, in the 2024 tree: province 72 (Tây Ninh) with
# districts 703, 705 and four communes reporting through their nodes, and
# province 80 (Long An) entering the paper report of its district 794 on
# its behalf. The totals are checked at every level, each report counted
# once. Real processes on 127.0.0.1.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh

V=$TMP/vn
expect_ok "init the national root VN" "$HUB" init --dir "$V" --unit VN --bind "$ANY"
VK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$V"
start_proxy lvn "$V" 1 || bad "link proxy to VN did not start"
EPVN=$LINK_EP
expect_ok "units list at VN: the provinces below the country" "$HUB" units list --dir "$V" --json
expect_eq "the tree in force today: 34 provinces below VN" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; print(sum(1 for u in json.load(sys.stdin)["units"] if u["level"]=="province" and u["parent"]=="VN"))')" 34

P=$TMP/p72
tiers72 "$P" --parent "$EPVN" --parent-key "$VK"
expect_ok "enroll 72 at VN" "$HUB" enroll --dir "$V" --unit 72 --key "$("$HUB" key --dir "$P")"
expect_ok "init province hub 80 (Long An, 2024)" "$HUB" init --dir "$TMP/p80" --unit 80 --bind "$ANY" --parent "$EPVN" --parent-key "$VK"
fast_sync "$TMP/p80"
expect_ok "enroll 80 at VN" "$HUB" enroll --dir "$V" --unit 80 --key "$("$HUB" key --dir "$TMP/p80")"
expect_exit 1 "VN refuses a unit that is not a unit" "$HUB" enroll --dir "$V" --unit 99999 --key "$VK"

n=0
for c in 25456 25459 25486 25489; do
    n=$((n + 1))
    # shellcheck disable=SC2046
    expect_ok "$c submits" "$NODE" submit --dir "$TMP/e$c" --form dvcq-nam --period 2024 $(report $((n * 10)))
done
# shellcheck disable=SC2046
expect_ok "703 reports its own work" "$HUB" submit --dir "$TMP/d703" --form dvcq-nam --period 2024 $(report 100)
# shellcheck disable=SC2046
expect_ok "80 enters the paper report of its district 794" "$HUB" submit --dir "$TMP/p80" --for 794 --form dvcq-nam --period 2024 --document 'Báo cáo số 9/BC-UBND ngày 20/10/2024' $(report 1000)

start vn "$HUB" "$V"
start p72 "$HUB" "$P"
start p80 "$HUB" "$TMP/p80"
for d in 703 705; do start "d$d" "$HUB" "$TMP/d$d"; done
for c in 25456 25459 25486 25489; do start "e$c" "$NODE" "$TMP/e$c"; done
for u in 25456 25459 25486 25489 703 794; do
    wait_for 40 has_rev "$HUB" "$V" dvcq-nam 2024 "$u" 1 && ok "the ministry holds $u" || bad "the ministry lacks $u" "$(tail -5 "$TMP/vn.log")"
done

tt() {
    "$HUB" rollup --dir "$1" --form dvcq-nam --period 2024 ${2:+--unit "$2"} --format json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["values"]["TT01"])'
}
expect_eq "district 703: 10 + 20 + its own 100" "$(tt "$TMP/d703")" 130
expect_eq "district 705: 30 + 40" "$(tt "$TMP/d705")" 70
expect_eq "province 72: 130 + 70" "$(tt "$P")" 200
expect_eq "province 80: its district's entered report" "$(tt "$TMP/p80")" 1000
expect_eq "the country: 200 + 1000" "$(tt "$V")" 1200
expect_eq "the country, drilled down to 72" "$(tt "$V" 72)" 200
expect_eq "the country, drilled down to 703" "$(tt "$V" 703)" 130
expect_ok "rollup at VN" "$HUB" rollup --dir "$V" --form dvcq-nam --period 2024 --format json
expect_eq "breakdown by province" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted((c["unit"], c["values"]["TT01"]) for c in d["children"] if c["values"]["TT01"] is not None))')" "[('72', 200), ('80', 1000)]"
expect_eq "63 provinces in the breakdown (the 2024 tree)" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["children"]))')" 63
expect_eq "groups at VN: xã 100, huyện 1100" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print({g["level"]: g["values"]["TT01"] for g in d["groups"] if g["values"]["TT01"] is not None})')" "{'commune': 100, 'district': 1100}"
expect_ok "export at VN" "$HUB" export --dir "$V" --form dvcq-nam --period 2024 --format csv --out "$TMP/vn.csv"
expect_in "the national export names the provinces" "Tỉnh Tây Ninh" "$(cat "$TMP/vn.csv")"
expect_ok "show at VN" "$HUB" show --dir "$V" --form dvcq-nam --period 2024 --unit 25459 --json
expect_eq "a commune's signature holds four levels up" "$(printf '%s' "$LAST_OUT" | json_get signature)" valid

for nm in e25456 e25459 e25486 e25489 d703 d705 p72 p80 vn; do stop "$nm"; done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report" || bad "sanitizer report in a log"
th_summary
