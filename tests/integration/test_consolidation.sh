#!/bin/sh
# Rollup and completeness at a real hub fed by real communes on 127.0.0.1:
# province 80 of the 2025 tree <- communes 25459, 25480 (25567 never
# reports). Period 2025 of dvcq-nam is past its deadline (01/11/2025), so
# every report submitted now is late. Checks sums and the ratio of sums,
# completeness counts, and --as-of before a correction.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh
fast_python

report() {  # $1 = TT01, $2 = CCHC02, $3 = CCHC01
    echo "TT01=$1 TT02=100 TT03=1 TT04=2 DT01=1 DT02=10 LD01=có DVK01=2 DVK02=1 KT01=0 KT02=0 CCHC01=$3 CCHC02=$2 CCHC04=3 TCD01=4 TCD02=3 TCD03=2 TCD05=1 GS01=1 GS02=2 GS03=1 DC01=có KTR01=0 KTR02=0 DG01=tot ND01=Tốt ND02=Chưa ND03=Tiếp"
}

P=$TMP/p80
expect_ok "init province hub 80" "$HUB" init --dir "$P" --unit 80 --bind "$ANY"
PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
start_proxy l80 "$P" 1 || bad "link proxy to 80 did not start"
PEP=$LINK_EP
fast_sync "$P"
for c in 25459 25480 25567; do
    expect_ok "init commune $c" "$NODE" init --dir "$TMP/c$c" --unit "$c" --parent "$PEP" --parent-key "$PK"
    k=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
    fast_sync "$TMP/c$c"
    expect_ok "enroll $c" "$HUB" enroll --dir "$P" --unit "$c" --key "$k"
done
# shellcheck disable=SC2046
expect_ok "25459 submits" "$NODE" submit --dir "$TMP/c25459" --form dvcq-nam --period 2025 $(report 10 1 2)
# shellcheck disable=SC2046
expect_ok "25480 submits" "$NODE" submit --dir "$TMP/c25480" --form dvcq-nam --period 2025 $(report 20 99 100)
start p80 "$HUB" "$P"
start c25459 "$NODE" "$TMP/c25459"
start c25480 "$NODE" "$TMP/c25480"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2025 25459 1 && ok "province holds 25459" || bad "province lacks 25459" "$(tail -5 "$TMP/p80.log")"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2025 25480 1 && ok "province holds 25480" || bad "province lacks 25480"
sleep 1.2
T1=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1.2
expect_ok "25459 corrects TT01" "$NODE" submit --dir "$TMP/c25459" --form dvcq-nam --period 2025 TT01=15
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2025 25459 2 && ok "province holds the correction" || bad "no correction at the province"

expect_ok "rollup --format json" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2025 --format json
J=$LAST_OUT
expect_eq "TT01 sum = 15 + 20" "$(printf '%s' "$J" | json_get values.TT01)" 35
expect_eq "ratio of sums CCHC03 = 100 * 100/102" "$(printf '%s' "$J" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["values"]["CCHC03"],4))')" 98.0392
expect_eq "LD01 count_true = 2" "$(printf '%s' "$J" | json_get values.LD01)" 2
expect_eq "reported = 2" "$(printf '%s' "$J" | json_get reporting.reported)" 2
expect_eq "on_time = 0 (deadline past)" "$(printf '%s' "$J" | json_get reporting.on_time)" 0
expect_eq "texts kept per unit" "$(printf '%s' "$J" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["texts"]["ND01"]))')" 2
expect_ok "rollup --as-of before the correction" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2025 --as-of "$T1" --format json
expect_eq "as-of gives the old figure 10 + 20" "$(printf '%s' "$LAST_OUT" | json_get values.TT01)" 30
expect_ok "rollup of one commune" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2025 --unit 25480 --format json
expect_eq "commune rollup = its own figure" "$(printf '%s' "$LAST_OUT" | json_get values.TT01)" 20
expect_ok "rollup table" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2025
expect_in "table in Vietnamese" "Đơn vị đã báo cáo: 2/" "$LAST_OUT"
expect_in "ratio in Vietnamese format" "98,04" "$LAST_OUT"
expect_ok "rollup csv" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2025 --format csv
expect_eq "csv starts with a BOM" "$(printf '%s' "$LAST_OUT" | head -c 3 | od -An -tx1 | tr -d ' ')" efbbbf
expect_in "csv row of TT01" "TT01," "$LAST_OUT"

expect_ok "completeness --format json" "$HUB" completeness --dir "$P" --form dvcq-nam --period 2025 --format json
J=$LAST_OUT
expect_eq "2 reported" "$(printf '%s' "$J" | json_get totals.reported)" 2
expect_eq "2 late (past the 01/11/2025 deadline)" "$(printf '%s' "$J" | json_get totals.late)" 2
expect_eq "25567 is missing" "$(printf '%s' "$J" | python3 -c 'import json,sys; print(" ".join(m["unit"] for m in json.load(sys.stdin)["missing"] if m["unit"]=="25567"))')" 25567
expect_eq "days late > 300" "$(printf '%s' "$J" | python3 -c 'import json,sys; print(all(l["days_late"]>300 for l in json.load(sys.stdin)["late"]))')" True
expect_ok "completeness table" "$HUB" completeness --dir "$P" --form dvcq-nam --period 2025
expect_in "completeness table in Vietnamese" "chưa báo cáo" "$LAST_OUT"

expect_exit 1 "unknown form" "$HUB" rollup --dir "$P" --form nope --period 2025
expect_in "one error line" "tonghop: error: rollup: form 'nope'" "$LAST_OUT"
expect_exit 1 "bad period" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2025Q7
expect_exit 1 "unit outside the subtree" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2025 --unit 00004
expect_exit 2 "bad --as-of" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2025 --as-of yesterday
expect_exit 2 "bad --format" "$HUB" completeness --dir "$P" --form dvcq-nam --period 2025 --format xml
out=$("$HUB" rollup --dir "$P" --form nope --period 2025 2>/dev/null)
expect_eq "nothing written on error" "$out" ""

for n in c25459 c25480 p80; do
    stop "$n"
    expect_eq "$n stops cleanly" "$STOP_RC" 0
done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report in the daemons' logs" || bad "sanitizer report"
th_summary
