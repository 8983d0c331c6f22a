#!/bin/sh
# Comparing periods across the 2025 reform (issue 12, item 3), with real
# codes: the hub of new Tây Ninh (80, 2025 tree) holds 2026 reports of two
# new communes, sent by their own nodes over the real link, and 2024
# reports of old units of BOTH predecessor provinces: communes of old Tây
# Ninh (72) and of old Long An (80), and old Long An's district 794 (its
# own report). One comes the real way: the office of old Phường 3 of Tây
# Ninh (25459, whose code goes on as Phường Tân Ninh) sends its 2024 report
# from its node to 80 (a moved commune resends its history, operations.md
# §7). The others were held by the old hubs, nothing copies an old hub's
# store into the new one, and an old commune of 72 whose code disappeared
# (25462) cannot be enrolled at 80; so the test writes them straight into
# the store with tests/tools/th_putrec (signed by a fresh key, unsealed,
# read back strictly like any report). A 2024
# report of Bình Dương (74, now in Hồ Chí Minh) is there too and must stay
# out. `rollup`/`export --period 2026 --compare 2024` must count under new
# 80 every old unit whose successor lies below it: old 80's AND old 72's.
# Old 80 (Long An) is never read as new 80: the 2024 rollup in its own tree
# at 80 is Long An alone, the compared one is the mapping's (in the official
# lists every old code that survives names its own successor, so the
# province is where a shared code with another meaning shows). Every
# process is real, on 127.0.0.1, on ports the kernel picks.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh
fast_python
PUT="$O/tools/th_putrec"
tmo() { timeout -k 5 60 "$@"; }   # no CLI call may hang the script

P=$TMP/p80
expect_ok "init province hub 80 (2025 tree: Tây Ninh)" "$HUB" init --dir "$P" --unit 80 --bind "$ANY"
PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$P"
start_proxy l80 "$P" 1 || bad "link proxy to 80 did not start"
for c in 25459 27694; do
    expect_ok "init commune $c" "$NODE" init --dir "$TMP/c$c" --unit "$c" --parent "$LINK_EP" --parent-key "$PK"
    k=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
    fast_sync "$TMP/c$c"
    expect_ok "enroll $c" "$HUB" enroll --dir "$P" --unit "$c" --key "$k"
done
# shellcheck disable=SC2046
expect_ok "Phường Tân Ninh reports 2026" "$NODE" submit --dir "$TMP/c25459" --form dvcq-nam --period 2026 $(report 20)
# shellcheck disable=SC2046
expect_ok "Phường Long An reports 2026" "$NODE" submit --dir "$TMP/c27694" --form dvcq-nam --period 2026 $(report 30)

# shellcheck disable=SC2046
expect_ok "the same office reports 2024 as old Phường 3, from its node" "$NODE" submit --dir "$TMP/c25459" --form dvcq-nam --period 2024 $(report 1)

# 2024 (and 2025S1): the old tree's reports, as an old hub held them
put24() { expect_ok "2024 report of old $1 ($2) in the store" tmo "$PUT" "$P" dvcq-nam 2024 "$1" 2024-10-20T09:00:00+07:00 "TT01=$3"; }
put24 25462 "Phường 4, old Tây Ninh 72" 2
put24 27694 "Phường 1, Tân An, old Long An 80" 4
put24 27691 "Phường 4, Tân An, old Long An 80" 8
put24 794 "district Tân An, old Long An 80" 16
put24 25741 "Phường Hiệp Thành, old Bình Dương 74" 1000
expect_ok "2025S1 report of old 25462 in the store" tmo "$PUT" "$P" dvcq-6thang 2025S1 25462 2025-06-01T09:00:00+07:00 TT01=5
expect_ok "2025S1 report of old 27691 in the store" tmo "$PUT" "$P" dvcq-6thang 2025S1 27691 2025-06-01T09:00:00+07:00 TT01=6

start p80 "$HUB" "$P"
for c in 25459 27694; do start "c$c" "$NODE" "$TMP/c$c"; done
for cp in 25459:2026 27694:2026 25459:2024; do
    c=${cp%%:*}; y=${cp##*:}
    wait_for 30 has_rev "$HUB" "$P" dvcq-nam "$y" "$c" 1 && ok "province holds $c's $y report" ||
        bad "province lacks $c's $y report" "$(tail -5 "$TMP/p80.log")"
done

jv() { printf '%s' "$J" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
expect_ok "rollup 2026 compared with 2024 at new 80" tmo "$HUB" rollup --dir "$P" --form dvcq-nam --period 2026 --compare 2024 --unit 80 --format json
J=$LAST_OUT
expect_eq "2026: the new communes' figures, TT01 = 20 + 30" "$(jv 'd["values"]["TT01"]')" 50
expect_eq "2024 in the 2025 tree: old 72's and old 80's units, not 74's, TT01 = 1+2+4+8+16" "$(jv 'd["compare"]["values"]["TT01"]')" 31
expect_eq "five old units counted" "$(jv '(d["compare"]["reporting"]["reported"], d["compare"]["reporting"]["counted"])')" "(5, 5)"
# every commune and district of old 72 and old 80 is expected, from the 2024 list itself
want=$(python3 - <<'PY'
import csv
rows = list(csv.DictReader(open("config/units/vn-2024.csv", encoding="utf-8")))
par = {r["code"]: r["parent_code"] for r in rows}
def prov(c):
    while par[c]:
        c = par[c]
    return c
print(sum(1 for r in rows if r["level"] in ("commune", "district") and prov(r["code"]) in ("72", "80")))
PY
)
expect_eq "expected: all $want communes and districts of old 72 and old 80" "$(jv 'd["compare"]["reporting"]["expected"]')" "$want"
expect_eq "old Phường 3 and Phường 4 of Tây Ninh under new Phường Tân Ninh 25459" \
    "$(jv '[c["values"]["TT01"] for c in d["compare"]["children"] if c["unit"] == "25459"]')" "[3]"
expect_eq "old Phường 1 and Phường 4 of Tân An under new Phường Long An 27694" \
    "$(jv '[c["values"]["TT01"] for c in d["compare"]["children"] if c["unit"] == "27694"]')" "[12]"
expect_eq "the breakdown is the new tree's: children are 2025 communes" \
    "$(jv 'sorted(set(len(c["unit"]) for c in d["compare"]["children"]))')" "[5]"
expect_in "the mapping is named" "Đối chiếu theo danh mục sắp xếp đơn vị hành chính từ ngày 01/07/2025" "$(jv 'd["compare"]["mapping"]')"
expect_in "with its source" "Bảng chuyển đổi đơn vị hành chính mới - cũ của Cục Thống kê" "$(jv 'd["compare"]["mapping"]')"

expect_ok "rollup 2024 in its own tree at 80" tmo "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --unit 80 --format json
J=$LAST_OUT
expect_eq "in the 2024 tree 80 is old Long An" "$(jv 'd["name"]')" "Tỉnh Long An"
expect_eq "and holds only Long An's units (4+8+16): old 80 is not new 80" "$(jv 'd["values"]["TT01"]')" 28
expect_exit 1 "old Tây Ninh 72 is not below this hub in the 2024 tree" tmo "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --unit 72 --format json

expect_ok "rollup 2026 compared with 2024 at new commune 25459" tmo "$HUB" rollup --dir "$P" --form dvcq-nam --period 2026 --compare 2024 --unit 25459 --format json
J=$LAST_OUT
expect_eq "new 25459: 20 now, old 25459 + old 25462 then" "$(jv '(d["values"]["TT01"], d["compare"]["values"]["TT01"])')" "(20, 3)"
expect_exit 1 "in the 2024 tree 25459 is old Phường 3 of 72, not below 80" tmo "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --unit 25459 --format json
expect_in "and is refused as such" "unit '25459' is not below this office's unit 80 in the unit tree in force on 31/12/2024" "$LAST_OUT"

expect_ok "rollup 2026S1 compared with 2025S1 (six months)" tmo "$HUB" rollup --dir "$P" --form dvcq-6thang --period 2026S1 --compare 2025S1 --format json
J=$LAST_OUT
expect_eq "2025S1 read in the 2025 tree: TT01 = 5 + 6" "$(jv 'd["compare"]["values"]["TT01"]')" 11

expect_ok "rollup table with --compare" tmo "$HUB" rollup --dir "$P" --form dvcq-nam --period 2026 --compare 2024
TAB=$LAST_OUT
expect_in "table: the two columns" "Kỳ này (2026)  Kỳ so sánh (2024)  Chênh lệch" "$TAB"
expect_in "table: the compared period and its reporting" "Kỳ so sánh: Năm 2024 (2024), đơn vị đã báo cáo: 5/$want" "$TAB"
expect_in "table: the mapping" "Đối chiếu theo danh mục sắp xếp đơn vị hành chính" "$TAB"
expect_eq "table: TT01 50, 31 and the difference 19" \
    "$(printf '%s\n' "$TAB" | awk '$1 == "TT01" { print $(NF-3), $(NF-2), $(NF-1) }')" "50 31 19"
expect_ok "rollup csv with --compare" tmo "$HUB" rollup --dir "$P" --form dvcq-nam --period 2026 --compare 2024 --format csv
expect_in "csv: compare and difference after the value" "code,label,value,compare,difference," "$LAST_OUT"
expect_in "csv: TT01 row" "pháp luật\",50,31,19," "$LAST_OUT"

expect_ok "export csv with --compare" tmo "$HUB" export --dir "$P" --form dvcq-nam --period 2026 --compare 2024 --format csv --out "$TMP/cmp.csv"
X=$(cat "$TMP/cmp.csv")
expect_in "export: the columns" "Kỳ này (2026),Kỳ so sánh (2024),Chênh lệch" "$X"
expect_in "export: TT01 50, 31, 19" "buổi,Tổng,50,31,19," "$X"
expect_in "export: the compared period in the header" "Kỳ so sánh,Năm 2024 (2024); 5/$want đơn vị đã báo cáo" "$X"
expect_in "export: the mapping in the header" "Đối chiếu đơn vị,\"Đối chiếu theo danh mục sắp xếp đơn vị hành chính" "$X"
expect_ok "export html with --compare" tmo "$HUB" export --dir "$P" --form dvcq-nam --period 2026 --compare 2024 --format html --out "$TMP/cmp.html"
expect_in "html: the compared column" "Kỳ so sánh (2024)" "$(cat "$TMP/cmp.html")"
expect_ok "export xlsx with --compare" tmo "$HUB" export --dir "$P" --form dvcq-nam --period 2026 --compare 2024 --format xlsx --out "$TMP/cmp.xlsx"

expect_exit 1 "a compare period in a later tree is refused" tmo "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --compare 2026
expect_in "and says what to do" "give the later one as --period" "$LAST_OUT"
expect_exit 1 "a compare period of another period type is refused" tmo "$HUB" rollup --dir "$P" --form dvcq-nam --period 2026 --compare 2024S1
expect_ok "compare within one tree" tmo "$HUB" rollup --dir "$P" --form dvcq-nam --period 2026 --compare 2025 --format json
J=$LAST_OUT
expect_in "says no mapping was needed" "Cùng danh mục đơn vị hành chính" "$(jv 'd["compare"]["mapping"]')"
expect_exit 2 "completeness does not take --compare" tmo "$HUB" completeness --dir "$P" --form dvcq-nam --period 2026 --compare 2024

for n in c25459 c27694 p80; do
    stop "$n"
    expect_eq "$n stops cleanly" "$STOP_RC" 0
done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report in the daemons' logs" || bad "sanitizer report"
th_summary
