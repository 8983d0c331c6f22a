#!/bin/sh
# A commune that merged into another, end to end: province 99 of a unit
# list given with --units, where Xã Ba (99003) exists until 31/12/2025 and
# then merged into Xã Một (99001). For 2025 Xã Ba is expected and counted;
# for 2026 it is neither expected nor accepted, and its successor's report
# carries the merged area. Every process is real, on 127.0.0.1.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh
fast_python

U=$TMP/units.csv
cat > "$U" <<'CSV'
code,name,level,parent_code,valid_from,valid_to,successor
99,Tỉnh Thử Nghiệm,province,,,,
99001,Xã Một,commune,99,,,
99002,Xã Hai,commune,99,,,
99003,Xã Ba,commune,99,,31/12/2025,99001
CSV
report() {  # $1 = TT01
    echo "TT01=$1 TT02=100 TT03=1 TT04=2 DT01=1 DT02=10 LD01=có DVK01=2 DVK02=1 KT01=0 KT02=0 CCHC01=10 CCHC02=9 CCHC04=3 TCD01=4 TCD02=3 TCD03=2 TCD05=1 GS01=1 GS02=2 GS03=1 DC01=có KTR01=0 KTR02=0 DG01=tot ND01=Tốt ND02=Chưa ND03=Tiếp"
}
P=$TMP/p99
expect_ok "init province hub 99 with its own unit list" "$HUB" init --dir "$P" --unit 99 --bind "$ANY" --units "$U"
PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
start_proxy l99 "$P" 1 || bad "link proxy to 99 did not start"
PEP=$LINK_EP
fast_sync "$P"
for c in 99001 99002 99003; do
    expect_ok "init commune $c" "$NODE" init --dir "$TMP/c$c" --unit "$c" --parent "$PEP" --parent-key "$PK" --units "$U"
    k=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
    fast_sync "$TMP/c$c"
    expect_ok "enroll $c" "$HUB" enroll --dir "$P" --unit "$c" --key "$k"
done
expect_in "enrolling Xã Ba notes its merge" "31/12/2025, sáp nhập vào 99001" "$LAST_OUT"
# shellcheck disable=SC2046
expect_ok "Xã Một reports 2025" "$NODE" submit --dir "$TMP/c99001" --form dvcq-nam --period 2025 $(report 10)
# shellcheck disable=SC2046
expect_ok "Xã Ba reports 2025, before the merge" "$NODE" submit --dir "$TMP/c99003" --form dvcq-nam --period 2025 $(report 5)
# shellcheck disable=SC2046
expect_ok "Xã Một reports 2026 for the merged area" "$NODE" submit --dir "$TMP/c99001" --form dvcq-nam --period 2026 $(report 30)
# shellcheck disable=SC2046
expect_exit 1 "Xã Ba cannot report 2026: it no longer exists" "$NODE" submit --dir "$TMP/c99003" --form dvcq-nam --period 2026 $(report 7)
expect_in "the clerk is told why" "99003" "$LAST_OUT"
start p99 "$HUB" "$P"
for c in 99001 99002 99003; do start "c$c" "$NODE" "$TMP/c$c"; done
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2025 99001 1 && ok "province holds Xã Một 2025" || bad "province lacks Xã Một 2025" "$(tail -5 "$TMP/p99.log")"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2025 99003 1 && ok "province holds Xã Ba 2025" || bad "province lacks Xã Ba 2025"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2026 99001 1 && ok "province holds Xã Một 2026" || bad "province lacks Xã Một 2026"

jv() { printf '%s' "$J" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
expect_ok "rollup 2025" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2025 --format json
J=$LAST_OUT
expect_eq "2025: Xã Ba counted, TT01 = 10 + 5" "$(jv 'd["values"]["TT01"]')" 15
expect_ok "completeness 2025" "$HUB" completeness --dir "$P" --form dvcq-nam --period 2025 --format json
J=$LAST_OUT
expect_eq "2025: three communes expected, two reported" "$(jv '(d["totals"]["expected"], d["totals"]["reported"])')" "(3, 2)"
expect_eq "2025: Xã Hai missing" "$(jv '[m["name"] for m in d["missing"]]')" "['Xã Hai']"
expect_ok "rollup 2026" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2026 --format json
J=$LAST_OUT
expect_eq "2026: only the successor's figure, TT01 = 30" "$(jv 'd["values"]["TT01"]')" 30
expect_eq "2026: Xã Ba is not a child any more" "$(jv '[c["unit"] for c in d["children"]]')" "['99001', '99002']"
expect_ok "completeness 2026" "$HUB" completeness --dir "$P" --form dvcq-nam --period 2026 --format json
J=$LAST_OUT
expect_eq "2026: two communes expected, one reported" "$(jv '(d["totals"]["expected"], d["totals"]["reported"])')" "(2, 1)"
expect_eq "2026: Xã Ba neither expected nor missing" "$(jv '[u["unit"] for u in d["units"] if u["unit"]=="99003"]')" "[]"
expect_exit 1 "no 2026 drill-down into a unit that merged away" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2026 --unit 99003
expect_in "says it is not in force" "99003" "$LAST_OUT"
expect_ok "export 2026 csv" "$HUB" export --dir "$P" --form dvcq-nam --period 2026 --format csv --out "$TMP/2026.csv"
expect_not_in "the 2026 report does not name Xã Ba" "Xã Ba" "$(cat "$TMP/2026.csv")"
expect_in "the 2026 report names the missing Xã Hai" "99002,Xã Hai,,Chưa báo cáo" "$(cat "$TMP/2026.csv")"
expect_ok "export 2025 csv" "$HUB" export --dir "$P" --form dvcq-nam --period 2025 --format csv --out "$TMP/2025.csv"
expect_in "the 2025 report has Xã Ba's row" "99003,Xã Ba,1/1,5," "$(cat "$TMP/2025.csv")"

expect_exit 1 "a second daemon on the same directory is refused at once" timeout -k 5 20 "$HUB" run --dir "$P"
expect_in "and says which daemon holds it" "another daemon (pid $PID_p99) already runs on $P" "$LAST_OUT"
expect_in "the first one still runs and publishes its address" "tcp://127.0.0.1:" "$(daemon_field "$HUB" "$P" collector)"
# a hub configured with an address that is taken (the running hub's own)
expect_ok "init another hub on the first one's address" "$HUB" init --dir "$TMP/p99b" --unit 99 \
    --bind "$(daemon_field "$HUB" "$P" collector)" --units "$U"
expect_exit 1 "a hub daemon on a taken address exits at once (no hang)" timeout -k 5 20 "$HUB" run --dir "$TMP/p99b"
expect_in "and says why" "Address already in use" "$LAST_OUT"
for n in c99001 c99002 c99003 p99; do
    stop "$n"
    expect_eq "$n stops cleanly" "$STOP_RC" 0
done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report in the daemons' logs" || bad "sanitizer report"
th_summary
