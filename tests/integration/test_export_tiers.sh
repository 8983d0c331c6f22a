#!/bin/sh
# The consolidated report of a three-tier 2024 province, end to end, with
# real deadlines: province 72 (Tây Ninh, 2024 tree) <- districts 703, 705
# <- communes 25456, 25459 (703) and 25486, 25489 (705), each its own
# process on 127.0.0.1, every process under a faked wall clock (libfaketime).
#   20/10/2024: three communes submit, before the communes' deadline
#               (25/10, deadline.district of dvcq-nam) and the districts'.
#   05/11/2024: 25456 corrects TT01 (a late correction) and 25489 reports
#               for the first time (late: 11 days after 25/10).
# Then, on the real clock: rollups at every level against hand sums, the
# "as of the deadline" snapshot against "now", completeness on time/late,
# and the export in XLSX (cells read back from the sheet XML), CSV and
# HTML (printed to PDF by headless Chromium, text read back from the PDF).
set -u
O=${1:-build/asan}
. tests/integration/lib.sh
fast_python
OUT=$O/test-output/export
rm -rf "$OUT"
mkdir -p "$OUT"

# report TT01 CCHC01 CCHC02: a complete dvcq-nam report; CCHC03 is
# 100 * CCHC02 / CCHC01 (a ratio the hubs compute as a ratio of sums)
report() {
    echo "TT01=$1 TT02=100 TT03=1 TT04=2 DT01=1 DT02=10 LD01=có DVK01=2 DVK02=1 KT01=0 KT02=0 CCHC01=$2 CCHC02=$3 CCHC04=3 TCD01=4 TCD02=3 TCD03=2 TCD05=1 GS01=1 GS02=2 GS03=1 DC01=có KTR01=0 KTR02=0 DG01=tot ND01=Ý-kiến-của-$4 ND02=Chưa ND03=Tiếp"
}
T1="2024-10-20 02:00:00"    # 09:00 Vietnam time
T2="2024-11-05 02:00:00"

P=$TMP/p72
tiers72 "$P"
sed -i -e 's/^superior = $/superior = Ủy ban nhân dân tỉnh Tây Ninh/' \
    -e 's/^issuer = $/issuer = Sở Nội vụ/' -e 's/^signer = $/signer = Giám đốc/' "$P/tonghop.ini"

start_all() {  # $1 = faked start time
    start_at "$1" p72 "$HUB" "$P"
    for d in 703 705; do start_at "$1" "d$d" "$HUB" "$TMP/d$d"; done
    for c in 25456 25459 25486 25489; do start_at "$1" "e$c" "$NODE" "$TMP/e$c"; done
}
stop_all() {
    for n in e25456 e25459 e25486 e25489 d703 d705 p72; do
        stop "$n"
        expect_eq "$n stops cleanly" "$STOP_RC" 0
    done
}

# ---- 20/10/2024: three communes report on time --------------------------------
# shellcheck disable=SC2046
expect_ok "25456 submits on 20/10/2024" at_time "$T1" "$NODE" submit --dir "$TMP/e25456" --form dvcq-nam --period 2024 $(report 10 50 50 25456)
# shellcheck disable=SC2046
expect_ok "25459 submits on 20/10/2024" at_time "$T1" "$NODE" submit --dir "$TMP/e25459" --form dvcq-nam --period 2024 $(report 20 1 0 25459)
# shellcheck disable=SC2046
expect_ok "25486 submits on 20/10/2024" at_time "$T1" "$NODE" submit --dir "$TMP/e25486" --form dvcq-nam --period 2024 $(report 40 100 98 25486)
start_all "$T1"
for c in 25456 25459 25486; do
    wait_for 40 has_rev "$HUB" "$P" dvcq-nam 2024 "$c" 1 && ok "province holds $c (20/10)" || bad "province lacks $c" "$(tail -5 "$TMP/p72.log")"
done
stop_all

# ---- 05/11/2024: a late correction and a late first report --------------------
expect_ok "25456 corrects TT01 on 05/11/2024" at_time "$T2" "$NODE" submit --dir "$TMP/e25456" --form dvcq-nam --period 2024 TT01=15
# shellcheck disable=SC2046
expect_ok "25489 reports late on 05/11/2024" at_time "$T2" "$NODE" submit --dir "$TMP/e25489" --form dvcq-nam --period 2024 $(report 80 10 5 25489)
start_all "$T2"
wait_for 40 has_rev "$HUB" "$P" dvcq-nam 2024 25456 2 && ok "province holds the correction" || bad "no correction at the province"
wait_for 40 has_rev "$HUB" "$P" dvcq-nam 2024 25489 1 && ok "province holds the late report" || bad "no late report at the province"
stop_all
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report in the daemons' logs" || bad "sanitizer report" "$(grep -h -A5 Sanitizer "$TMP"/*.log | head -20)"

# ---- rollups at every level ------------------------------------------------------
jv() {  # jv JSON-PATH: a value of the JSON in $J (python expression on d)
    printf '%s' "$J" | python3 -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print(round(v,4) if isinstance(v,float) else v)' "$1"
}
expect_ok "province rollup now" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --format json
J=$LAST_OUT
expect_eq "province TT01 = 15 + 20 + 40 + 80" "$(jv 'd["values"]["TT01"]')" 155
expect_eq "province CCHC03 = 100 * (50+0+98+5)/(50+1+100+10), a ratio of sums" "$(jv 'd["values"]["CCHC03"]')" 95.0311
expect_eq "province LD01 counts 4 yes" "$(jv 'd["values"]["LD01"]')" 4
expect_eq "breakdown 703 TT01 = 15 + 20" "$(jv '[c for c in d["children"] if c["unit"]=="703"][0]["values"]["TT01"]')" 35
expect_eq "breakdown 705 TT01 = 40 + 80" "$(jv '[c for c in d["children"] if c["unit"]=="705"][0]["values"]["TT01"]')" 120
expect_eq "breakdown 705 CCHC03 = 100 * 103/110" "$(jv '[c for c in d["children"] if c["unit"]=="705"][0]["values"]["CCHC03"]')" 93.6364
expect_ok "district 703's own rollup" "$HUB" rollup --dir "$TMP/d703" --form dvcq-nam --period 2024 --format json
J=$LAST_OUT
expect_eq "district 703 TT01 = 35" "$(jv 'd["values"]["TT01"]')" 35
expect_eq "district 703 CCHC03 = 100 * 50/51" "$(jv 'd["values"]["CCHC03"]')" 98.0392
expect_ok "drill-down to 703 at the province" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --unit 703 --format json
expect_eq "the province's 703 = the district's own" "$(printf '%s' "$LAST_OUT" | json_get values.TT01)" 35
expect_ok "drill-down to commune 25489" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --unit 25489 --format json
expect_eq "commune 25489 = its own figure" "$(printf '%s' "$LAST_OUT" | json_get values.TT01)" 80

# ---- as of the deadline against now --------------------------------------------------
expect_ok "province rollup as of 01/11/2024" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --as-of 2024-11-01 --format json
J=$LAST_OUT
expect_eq "as of the deadline: TT01 = 10 + 20 + 40 (old figure, no 25489)" "$(jv 'd["values"]["TT01"]')" 70
expect_eq "as of the deadline: 3 reported" "$(jv 'd["reporting"]["reported"]')" 3
expect_ok "completeness as of 01/11/2024" "$HUB" completeness --dir "$P" --form dvcq-nam --period 2024 --as-of 2024-11-01 --format json
J=$LAST_OUT
expect_eq "as of the deadline: 3 on time, 0 late" "$(jv 'str(d["totals"]["on_time"])+" "+str(d["totals"]["late"])')" "3 0"
expect_eq "as of the deadline: 25489 missing" "$(jv '"25489" in [m["unit"] for m in d["missing"]]')" True
expect_ok "completeness now" "$HUB" completeness --dir "$P" --form dvcq-nam --period 2024 --format json
J=$LAST_OUT
expect_eq "now: 4 reported, 3 on time, 1 late" "$(jv '" ".join(str(d["totals"][k]) for k in ("reported","on_time","late"))')" "4 3 1"
expect_eq "25456 stays on time despite its late correction" "$(jv '[u["status"] for u in d["units"] if u["unit"]=="25456"][0]')" on_time
expect_eq "25489 is 11 days late (05/11 09:00 against 25/10)" "$(jv '[l["days_late"] for l in d["late"] if l["unit"]=="25489"][0]')" 11
EXPECTED=$(jv 'd["totals"]["expected"]')
[ "$EXPECTED" -gt 4 ] && ok "every commune of 703 and 705 is expected ($EXPECTED)" || bad "expected only $EXPECTED"
# the districts report their own work too (levels = commune, district, department)
expect_eq "the districts themselves are expected, and missing" "$(jv 'sorted((u["unit"], u["status"]) for u in d["units"] if u["unit"] in ("703","705"))')" "[('703', 'missing'), ('705', 'missing')]"

# ---- export: XLSX ------------------------------------------------------------------------
cells() { python3 tests/tools/xlsx_cells.py "$1"; }
# cell FILE SHEET ROWKEY COLUMN: the cell in COLUMN of the rows whose column A
# is ROWKEY, joined with '|' when several rows have that key
cell() {
    cells "$1" | python3 -c '
import sys, re
sheet, key, col = sys.argv[1:4]
rows = {}
for line in sys.stdin:
    ref, _, val = line.rstrip("\n").partition("\t")
    s, _, a1 = ref.rpartition("!")
    if s != sheet: continue
    m = re.match(r"([A-Z]+)(\d+)$", a1)
    rows.setdefault(int(m.group(2)), {})[m.group(1)] = val
print("|".join(rows[r].get(col, "") for r in sorted(rows) if rows[r].get("A") == key))' "$2" "$3" "$4"
}
expect_ok "export xlsx now" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --format xlsx --out "$OUT/tong-hop-2024.xlsx"
expect_in "export says where" "tong-hop-2024.xlsx" "$LAST_OUT"
X=$OUT/tong-hop-2024.xlsx
expect_ok "the workbook unpacks" cells "$X"
expect_eq "sheets, one per part" "$(cells "$X" | cut -d'!' -f1 | uniq | tr '\n' '|')" "Tổng hợp|Theo đơn vị|Tình hình báo cáo|Trễ hạn, chưa báo cáo|Vi phạm quy tắc|Ý kiến đơn vị|"
expect_in "administrative header" "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" "$(cells "$X")"
expect_in "issuer from [report]" "SỞ NỘI VỤ" "$(cells "$X")"
expect_eq "xlsx total TT01 = 155 (a number cell)" "$(cell "$X" "Tổng hợp" TT01 E)" 155
expect_eq "xlsx total CCHC03 = 95.03..." "$(cell "$X" "Tổng hợp" CCHC03 E | cut -c1-5)" 95.03
expect_eq "xlsx units with data for TT01 = 4" "$(cell "$X" "Tổng hợp" TT01 F)" 4
expect_eq "xlsx breakdown 705 has 2/N reported" "$(cell "$X" "Theo đơn vị" 705 C | cut -d/ -f1)" 2
expect_eq "xlsx breakdown 705 TT01 = 120" "$(cell "$X" "Theo đơn vị" 705 D)" 120
expect_eq "xlsx late list: 25489 late" "$(cell "$X" "Trễ hạn, chưa báo cáo" 25489 D)" "Trễ hạn"
expect_eq "xlsx late list: 11 days" "$(cell "$X" "Trễ hạn, chưa báo cáo" 25489 G)" 11
expect_eq "xlsx reporting totals row: 4 reported" "$(cell "$X" "Tình hình báo cáo" 72 D)" 4
expect_in "xlsx texts quoted per unit" "|Ý-kiến-của-25486|" "|$(cell "$X" "Ý kiến đơn vị" 25486 C)|"
expect_ok "export xlsx as of the deadline" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --as-of 2024-11-01 --format xlsx --out "$OUT/tong-hop-2024-han.xlsx"
expect_eq "xlsx as of the deadline: TT01 = 70" "$(cell "$OUT/tong-hop-2024-han.xlsx" "Tổng hợp" TT01 E)" 70
expect_eq "xlsx as of the deadline: 25489 missing" "$(cell "$OUT/tong-hop-2024-han.xlsx" "Trễ hạn, chưa báo cáo" 25489 D)" "Chưa báo cáo"

# ---- export: CSV -------------------------------------------------------------------------------
expect_ok "export csv" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --format csv --out "$OUT/tong-hop-2024.csv"
C=$OUT/tong-hop-2024.csv
expect_eq "csv starts with a BOM" "$(head -c 3 "$C" | od -An -tx1 | tr -d ' ')" efbbbf
expect_in "csv total of TT01" 'TT01,"Số buổi tuyên truyền, phổ biến chủ trương, chính sách, pháp luật",buổi,Tổng,155,4' "$(cat "$C")"
expect_in "csv ratio" ",%,Tỷ lệ,95.03,4" "$(cat "$C")"
expect_ok "export csv to standard output" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --format csv --out -
expect_in "stdout holds the same report" "TT01,\"Số buổi" "$LAST_OUT"

# ---- export: printable HTML, rendered by Chromium -------------------------------------------------
expect_ok "export html" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --format html --out "$OUT/tong-hop-2024.html"
H=$OUT/tong-hop-2024.html
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    bad "chromium is not installed (make deps installs it)"
else
    chrome() { timeout -k 10 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$TMP/chrome" "$@" >>"$TMP/chrome.log" 2>&1; }
    chrome --no-pdf-header-footer --print-to-pdf="$OUT/tong-hop-2024.pdf" "file://$PWD/$H" &&
        [ -s "$OUT/tong-hop-2024.pdf" ] && ok "Chromium prints the page to PDF" || bad "no PDF" "$(tail -5 "$TMP/chrome.log")"
    chrome --window-size=1240,1754 --screenshot="$OUT/tong-hop-2024.png" "file://$PWD/$H" &&
        [ -s "$OUT/tong-hop-2024.png" ] && ok "Chromium takes a screenshot" || bad "no screenshot"
    expect_in "A4 pages" "(A4)" "$(pdfinfo "$OUT/tong-hop-2024.pdf" 2>&1)"
    expect_in "landscape pages for the breakdown" "841.92 x 594.96" "$(pdfinfo -f 1 -l 99 "$OUT/tong-hop-2024.pdf" 2>&1)"
    T=$(pdftotext "$OUT/tong-hop-2024.pdf" - 2>&1 | tr -s ' \n' '  ')   # lines joined: the layout wraps
    expect_in "Quốc hiệu intact in the PDF" "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" "$T"
    expect_in "tiêu ngữ intact" "Độc lập - Tự do - Hạnh phúc" "$T"
    expect_in "governing body" "ỦY BAN NHÂN DÂN TỈNH TÂY NINH" "$T"
    expect_in "issuing office" "SỞ NỘI VỤ" "$T"
    expect_in "place and date" "Tây Ninh, ngày" "$T"
    expect_in "form title" "Báo cáo kết quả thực hiện công tác dân vận chính quyền năm" "$T"
    expect_in "ratio in Vietnamese format" "95,03" "$T"
    expect_in "late unit named" "Trễ hạn" "$T"
    expect_in "text quoted per unit" "Ý-kiến-của-25489" "$T"
    expect_in "signer" "GIÁM ĐỐC" "$T"
fi

# ---- export: bad input -----------------------------------------------------------------------------------
expect_exit 2 "unknown format" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --format pdf --out "$OUT/x.pdf"
expect_in "says which formats" "xlsx, csv or html" "$LAST_OUT"
expect_exit 2 "no --out" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --format csv
expect_exit 2 "xlsx to standard output" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --format xlsx --out -
expect_exit 1 "unknown form" "$HUB" export --dir "$P" --form nope --period 2024 --format csv --out "$OUT/x.csv"
expect_exit 1 "directory that does not exist" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --format xlsx --out "$TMP/none/x.xlsx"
expect_in "names the file" "$TMP/none/x.xlsx" "$LAST_OUT"
printf 'old' > "$OUT/keep.csv"
chmod 0555 "$OUT"
if [ "$(id -u)" -eq 0 ]; then
    echo "skip - read-only directory check (root may write anyway)"
else
    expect_exit 1 "read-only directory" "$HUB" export --dir "$P" --form dvcq-nam --period 2024 --format csv --out "$OUT/keep.csv"
    expect_eq "the old file is untouched" "$(cat "$OUT/keep.csv")" old
fi
chmod 0755 "$OUT"
rm -f "$OUT/keep.csv"
expect_eq "no temporary file left behind" "$(ls "$OUT" | grep -c tmp-)" 0
th_summary
