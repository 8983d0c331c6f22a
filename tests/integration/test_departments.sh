#!/bin/sh
# Every office that reports (issue 12): province 12 (Lai Châu, the 2024
# tree) with two departments added by `units add` (one with a node of its
# own, one whose paper report the province enters on its behalf), district
# 105 (Thành phố Lai Châu) reporting its own work besides relaying its
# communes, commune 03386 with its node, and commune 03387 whose report the
# district enters on its behalf (nhập thay) and whose own node reports
# later, superseding the entry. Real processes on 127.0.0.1.
# The consolidated report shows the three groups and a total equal to the
# sum of the units' own figures, each counted once.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh

P=$TMP/p12
expect_ok "init province hub 12 (2024 tree)" "$HUB" init --dir "$P" --unit 12 --bind "$ANY"
PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$P"
start_proxy l12 "$P" 1 || bad "link proxy to 12 did not start"
EP12=$LINK_EP

# ---- departments: units add / list
expect_ok "units add 12-SNV" "$HUB" units add --dir "$P" --code 12-SNV --name 'Sở Nội vụ' --level department
expect_in "units add says what it did" "Đã thêm đơn vị 12-SNV — Sở Nội vụ" "$LAST_OUT"
expect_ok "units add 12-STP" "$HUB" units add --dir "$P" --code 12-STP --name 'Sở Tư pháp' --level department --parent 12
expect_exit 1 "units add refuses a code in use" "$HUB" units add --dir "$P" --code 12-SNV --name 'Khác' --level department
expect_in "  ... saying which unit has it" "đã dùng cho 'Sở Nội vụ'" "$LAST_OUT"
expect_exit 1 "units add refuses an official code" "$HUB" units add --dir "$P" --code 105 --name 'X' --level department
expect_exit 2 "units add refuses another level" "$HUB" units add --dir "$P" --code 12-X --name 'X' --level commune
expect_exit 1 "units add refuses a parent outside the tree" "$HUB" units add --dir "$P" --code 12-Y --name 'Y' --level department --parent 01
expect_exit 2 "units add refuses a bad code" "$HUB" units add --dir "$P" --code 'sở nv' --name 'Y' --level department
expect_exit 2 "units needs add or list" "$HUB" units --dir "$P"
expect_ok "units list --json" "$HUB" units list --dir "$P" --json
expect_eq "both departments listed below 12" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted((u["code"],u["level"],u["parent"]) for u in d["units"] if u["level"]=="department"))')" "[('12-SNV', 'department', '12'), ('12-STP', 'department', '12')]"
expect_ok "units list (table)" "$HUB" units list --dir "$P"
expect_in "the table names the department" "Sở Tư pháp" "$LAST_OUT"
expect_ok "units list --format csv" "$HUB" units list --dir "$P" --format csv
printf '%s\n' "$LAST_OUT" >"$TMP/units12.csv"

# ---- the offices
expect_ok "init district hub 105" "$HUB" init --dir "$TMP/d105" --unit 105 --bind "$ANY" --parent "$EP12" --parent-key "$PK"
DK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$TMP/d105"
expect_ok "enroll 105 at the province" "$HUB" enroll --dir "$P" --unit 105 --key "$DK"
start_proxy l105 "$TMP/d105" 2 || bad "link proxy to 105 did not start"
EP105=$LINK_EP
for c in 03386 03387; do
    expect_ok "init commune $c" "$NODE" init --dir "$TMP/c$c" --unit "$c" --parent "$EP105" --parent-key "$DK"
    fast_sync "$TMP/c$c"
done
expect_ok "enroll 03386 at 105" "$HUB" enroll --dir "$TMP/d105" --unit 03386 --key "$("$NODE" key --dir "$TMP/c03386")"
expect_exit 1 "a department's node needs a unit list that has it" "$NODE" init --dir "$TMP/snv-x" --unit 12-SNV --parent "$EP12" --parent-key "$PK"
expect_ok "init the node of 12-SNV with the province's list" "$NODE" init --dir "$TMP/snv" --unit 12-SNV --parent "$EP12" --parent-key "$PK" --units "$TMP/units12.csv"
fast_sync "$TMP/snv"
expect_ok "enroll 12-SNV at the province" "$HUB" enroll --dir "$P" --unit 12-SNV --key "$("$NODE" key --dir "$TMP/snv")"

# ---- reports for 2024 (TT01 is the figure added up; each unit its own)
# shellcheck disable=SC2046
expect_ok "12-SNV reports through its node" "$NODE" submit --dir "$TMP/snv" --form dvcq-nam --period 2024 $(report 1)
# shellcheck disable=SC2046
expect_ok "the province enters 12-STP's paper report" "$HUB" submit --dir "$P" --for 12-STP --form dvcq-nam --period 2024 --document 'Báo cáo số 15/BC-STP ngày 28/10/2024' $(report 2)
expect_in "  ... and says it entered it on its behalf" "Đã nhập thay báo cáo dvcq-nam kỳ 2024 của đơn vị 12-STP, lần 1" "$LAST_OUT"
# shellcheck disable=SC2046
expect_ok "district 105 reports its own work" "$HUB" submit --dir "$TMP/d105" --form dvcq-nam --period 2024 $(report 100)
# shellcheck disable=SC2046
expect_ok "03386 reports through its node" "$NODE" submit --dir "$TMP/c03386" --form dvcq-nam --period 2024 $(report 10)
# shellcheck disable=SC2046
expect_ok "105 enters 03387's e-mailed report" "$HUB" submit --dir "$TMP/d105" --for 03387 --form dvcq-nam --period 2024 --document 'Công văn số 7/UBND ngày 20/10/2024' $(report 20)
# shellcheck disable=SC2046
expect_exit 1 "the province cannot enter for a commune of a district" "$HUB" submit --dir "$P" --for 03387 --form dvcq-nam --period 2024 $(report 99)
expect_in "  ... it names the direct parent" "mã 105" "$LAST_OUT"
expect_exit 2 "a node has no --for" "$NODE" submit --dir "$TMP/c03386" --for 03387 --form dvcq-nam --period 2024 TT01=1
expect_exit 2 "--document needs --for" "$HUB" submit --dir "$P" --document 'x' --form dvcq-nam --period 2024 TT01=1
expect_ok "show the entry at 105" "$HUB" show --dir "$TMP/d105" --form dvcq-nam --period 2024 --unit 03387
expect_in "the entry is marked, with its document" "Nhập thay bởi đơn vị 105, theo văn bản: Công văn số 7/UBND ngày 20/10/2024" "$LAST_OUT"

start p12 "$HUB" "$P"
start d105 "$HUB" "$TMP/d105"
start c03386 "$NODE" "$TMP/c03386"
start snv "$NODE" "$TMP/snv"
for u in 12-SNV 12-STP 105 03386 03387; do
    wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 "$u" 1 && ok "the province holds $u" || bad "the province lacks $u" "$(tail -5 "$TMP/p12.log")"
done
# shellcheck disable=SC2046
expect_exit 1 "105 cannot enter for 03386, whose own report it holds" "$HUB" submit --dir "$TMP/d105" --for 03386 --form dvcq-nam --period 2024 $(report 99)
expect_in "  ... and says to return it instead" "đã tự gửi báo cáo" "$LAST_OUT"
expect_ok "show the entry at the province" "$HUB" show --dir "$P" --form dvcq-nam --period 2024 --unit 03387 --json
expect_eq "it came up marked, entered by 105, signature valid" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["proxy"], d["entered_by"], d["document"], d["signature"])')" "True 105 Công văn số 7/UBND ngày 20/10/2024 valid"

# ---- 03387 gets its node: its own report supersedes the entry
expect_ok "enroll 03387 at 105" "$HUB" enroll --dir "$TMP/d105" --unit 03387 --key "$("$NODE" key --dir "$TMP/c03387")"
# shellcheck disable=SC2046
expect_ok "03387 reports through its own node" "$NODE" submit --dir "$TMP/c03387" --form dvcq-nam --period 2024 $(report 25)
start c03387 "$NODE" "$TMP/c03387"
own_at() {
    "$HUB" show --dir "$1" --form dvcq-nam --period 2024 --unit 03387 --json 2>/dev/null |
        python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if not d["proxy"] and d["values"]["TT01"] == 25 else 1)'
}
wait_for 30 own_at "$TMP/d105" && ok "105 holds 03387's own report" || bad "105 still holds the entry" "$(tail -5 "$TMP/d105.log")"
wait_for 30 own_at "$P" && ok "the province holds 03387's own report" || bad "the province still holds the entry" "$(tail -5 "$TMP/p12.log")"
expect_eq "it numbers after the entry: rev 2" "$("$HUB" show --dir "$P" --form dvcq-nam --period 2024 --unit 03387 --json | json_get rev)" 2

# ---- the consolidated report
expect_ok "rollup at the province" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --format json
printf '%s' "$LAST_OUT" >"$TMP/r12.json"
jr() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$TMP/r12.json"; }
expect_eq "total TT01 = 1 + 2 + 100 + 10 + 25, each report once" "$(jr 'd["values"]["TT01"]')" 138
expect_eq "five reports counted" "$(jr 'd["reporting"]["counted"]')" 5
expect_eq "the three groups" "$(jr '[(g["level"], g["name"]) for g in d["groups"]]')" "[('commune', 'Khối xã'), ('district', 'Khối huyện'), ('department', 'Khối sở, ngành')]"
expect_eq "groups: xã 10 + 25, huyện 100, sở 1 + 2" "$(jr '[g["values"]["TT01"] for g in d["groups"]]')" "[35, 100, 3]"
expect_eq "the groups add up to the total" "$(jr 'sum(g["values"]["TT01"] for g in d["groups"]) == d["values"]["TT01"] and sum(g["reporting"]["counted"] for g in d["groups"]) == d["reporting"]["counted"]')" True
expect_eq "groups: reported per level" "$(jr '[g["reporting"]["reported"] for g in d["groups"]]')" "[2, 1, 2]"
expect_eq "the departments are expected (2), as are the 8 districts" "$(jr '[g["reporting"]["expected"] for g in d["groups"]][1:]')" "[8, 2]"
expect_eq "district 105's part = its own report + its communes" "$(jr '[c["values"]["TT01"] for c in d["children"] if c["unit"]=="105"]')" "[135]"
expect_ok "rollup at the district" "$HUB" rollup --dir "$TMP/d105" --form dvcq-nam --period 2024 --format json
expect_eq "105: its own report apart, counted once" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["own"]["values"]["TT01"], d["values"]["TT01"], d["reporting"]["counted"])')" "100 135 3"
expect_ok "rollup table" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024
expect_in "the table shows the groups" "Khối sở, ngành" "$LAST_OUT"
expect_ok "export csv" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --format csv --out "$TMP/r12.csv"
expect_in "the export shows the groups" "Khối huyện" "$(cat "$TMP/r12.csv")"
expect_in "  ... all three" "Khối sở, ngành" "$(cat "$TMP/r12.csv")"
expect_ok "completeness at the province" "$HUB" completeness --dir "$P" --form dvcq-nam --period 2024 --format json
expect_eq "the departments are among the units, both reported" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted((u["unit"], u["status"] != "missing") for u in d["units"] if u["unit"].startswith("12-")))')" "[('12-SNV', True), ('12-STP', True)]"

# ---- the same in the web interface of the province: the dashboard offers
# the entry for a missing direct child, the entry page says whose report it
# is, and a correction of 12-STP's entry names its new document
WEB=$(daemon_field "$HUB" "$P" web)
expect_ok "web entry on behalf of 12-STP" python3 - "$WEB" <<'PY'
import http.cookiejar, re, sys, urllib.parse, urllib.request
base = sys.argv[1].rstrip("/")
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
def get(path):
    return op.open(base + path, timeout=10).read().decode()
dash = get("/hub?form=dvcq-nam&period=2024")
assert 'id="groups"' in dash and "Khối sở, ngành" in dash, "no groups on the dashboard"
assert 'for=106">Nhập thay</a>' in dash, "no entry link for the missing district 106"
assert 'for=105">Nhập thay' not in dash, "an entry link for 105, which reported"
page = get("/report?form=dvcq-nam&period=2024&for=12-STP")
assert "Nhập thay báo cáo của đơn vị <b>12-STP — Sở Tư pháp" in page, "no banner"
assert "Báo cáo số 15/BC-STP ngày 28/10/2024" in page, "the document is not shown"
assert "Thời gian chốt số liệu: Số liệu tính từ ngày 15/10/2023 đến ngày 14/10/2024" in page, "no cut-off"
tok = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
body = urllib.parse.urlencode({"csrf": tok, "action": "submit", "v_TT01": "3",
                               "document": "Báo cáo số 16/BC-STP ngày 30/10/2024"}).encode()
r = op.open(base + "/report?form=dvcq-nam&period=2024&for=12-STP", body, timeout=10)
assert "saved=2" in r.geturl() and "for=12-STP" in r.geturl(), r.geturl()
PY
# a report breaking rule R01 (DVK02 <= DVK01), as a hub may hold one
# relayed: the dashboard names the rule once, the full list on its page
expect_ok "a report of 106 breaking rule R01, put in the store" "$O/tools/th_putrec" "$P" dvcq-nam 2024 106 2024-10-20T08:00:00Z TT01=0 DVK01=1 DVK02=5
expect_ok "the dashboard and the violations page" python3 - "$WEB" <<'PY'
import sys, urllib.request
base = sys.argv[1].rstrip("/")
dash = urllib.request.urlopen(base + "/hub?form=dvcq-nam&period=2024", timeout=10).read().decode()
assert 'data-rule="R01"' in dash, "no row for rule R01"
assert 'unit=106">Huyện Tam Đường</a>' in dash, "the unit is not named under its rule"
assert "Xem toàn bộ 1 vi phạm" in dash, "no link to the full list"
page = urllib.request.urlopen(base + "/hub/violations?form=dvcq-nam&period=2024&unit=12", timeout=10).read().decode()
assert 'id="violations"' in page and "<td>106</td>" in page and "<td>R01</td>" in page, "not on the full list"
PY
expect_ok "show 12-STP at the province" "$HUB" show --dir "$P" --form dvcq-nam --period 2024 --unit 12-STP --json
expect_eq "the web correction is rev 2, an entry with its new document" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["rev"], d["proxy"], d["document"], d["values"]["TT01"])')" "2 True Báo cáo số 16/BC-STP ngày 30/10/2024 3"
expect_ok "export html" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --format html --out "$TMP/r12.html"
expect_in "the export states the cut-off" "Số liệu tính từ ngày 15/10/2023 đến ngày 14/10/2024" "$(cat "$TMP/r12.html")"
expect_ok "forms --json" "$HUB" forms --dir "$P" --json
expect_eq "forms --json: levels and cut-off" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; f=[x for x in json.load(sys.stdin) if x["id"]=="dvcq-nam"][0]; print(f["levels"], f["cutoff"])')" "['commune', 'district', 'department'] {'from': '15/10-1', 'to': '14/10+0'}"

for n in c03387 snv c03386 d105 p12; do stop "$n"; done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report" || bad "sanitizer report in a log"
th_summary
