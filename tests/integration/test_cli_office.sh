#!/bin/sh
# Integration test of one office driven through the CLI (issue 2):
# init, draft, rejected submit with messages, submit, correction,
# show --history, and bad input that must change nothing.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh

D="$TMP/xa"

# ---- init ---------------------------------------------------------------
expect_ok "init creates the office" "$NODE" init --dir "$D" --unit 25459
KEY=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
expect_eq "init prints a 40-char key last" "${#KEY}" 40
expect_ok "key prints the same key" "$NODE" key --dir "$D"
expect_eq "key matches init" "$LAST_OUT" "$KEY"
mode=$(stat -c %a "$D/identity.key")
expect_eq "identity key is mode 600" "$mode" 600
expect_exit 1 "init refuses a non-empty directory" "$NODE" init --dir "$D" --unit 25459
expect_in "init says why" "not empty" "$LAST_OUT"
expect_ok "key unchanged after refused init" "$NODE" key --dir "$D"
expect_eq "same key" "$LAST_OUT" "$KEY"
expect_exit 1 "init refuses an unknown unit" "$NODE" init --dir "$TMP/nope" --unit 99999
expect_in "unknown unit explained" "not in the unit lists" "$LAST_OUT"
[ ! -e "$TMP/nope" ] && ok "nothing left behind by a failed init" || bad "failed init left $TMP/nope"
expect_exit 2 "init without --unit is a usage error" "$NODE" init --dir "$TMP/x2"
expect_exit 2 "node refuses --bind" "$NODE" init --dir "$TMP/x3" --unit 25459 --bind tcp://127.0.0.1:1

# ---- forms ----------------------------------------------------------------
expect_ok "forms lists the shipped forms" "$NODE" forms --dir "$D"
expect_in "annual form listed" "dvcq-nam" "$LAST_OUT"
expect_in "6-month form listed" "dvcq-6thang" "$LAST_OUT"
expect_ok "forms --json" "$NODE" forms --dir "$D" --json
n=$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; f=[x for x in json.load(sys.stdin) if x["id"]=="dvcq-nam"][0]; print(f["period_type"], len(f["indicators"]), [i["agg"] for i in f["indicators"] if i["code"]=="CCHC03"][0])')
expect_eq "forms --json shape" "$n" "yearly 31 ratio"

# ---- draft ----------------------------------------------------------------
expect_ok "draft with missing fields is saved" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 --draft TT01=12 TT02=1.500
expect_in "draft confirmed" "bản nháp" "$LAST_OUT"
expect_ok "status after draft" "$NODE" status --dir "$D" --json
expect_eq "a draft is not pending for the parent" "$(printf '%s' "$LAST_OUT" | json_get pending)" 0

# ---- rejected submit --------------------------------------------------------
expect_exit 3 "submit breaking rules is rejected" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 TT03=abc DVK01=3 DVK02=5 TCD02=4 TCD03=9
expect_in "type problem named with label" "TT03 (Số văn bản" "$LAST_OUT"
expect_in "type problem in Vietnamese" "Phải là số nguyên" "$LAST_OUT"
expect_in "rule R01 message" "không được lớn hơn số mô hình đã đăng ký" "$LAST_OUT"
expect_in "required field named" "CCHC01 (Số hồ sơ thủ tục hành chính đã tiếp nhận): Bắt buộc phải nhập" "$LAST_OUT"
expect_in "one-line error" "tonghop: error: submit: report rejected" "$LAST_OUT"
expect_ok "history after rejection" "$NODE" show --dir "$D" --form dvcq-nam --period 2026 --history --json
expect_eq "rejected submit stored nothing" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["revisions"]))')" 1
expect_exit 3 "negative count rejected" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 --draft TT01=-1
expect_exit 3 "unknown indicator rejected" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 --draft XX99=1
expect_in "unknown indicator message" "Chỉ tiêu không có trong biểu mẫu" "$LAST_OUT"
expect_exit 3 "a computed ratio cannot be entered" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 --draft CCHC03=50

# ---- submit (CSV) ------------------------------------------------------------
cat > "$TMP/v.csv" <<'CSV'
code,value
TT01,12
TT02,1.500
TT03,4
TT04,20
DT01,2
DT02,85
LD01,có
DVK01,5
DVK02,3
KT01,1
KT02,2
CCHC01,1.200
CCHC02,1.150
CCHC04,35
TCD01,40
TCD02,18
TCD03,17
TCD05,2
GS01,3
GS02,12
GS03,10
DC01,có
KTR01,1
KTR02,0
DG01,tot
ND01,"Đối thoại định kỳ; mô hình ""Dân vận khéo"" lan tỏa, nhiều dòng
dòng thứ hai"
ND02,Còn chậm
ND03,Tăng kinh phí
CSV
expect_ok "submit from CSV" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 --values "$TMP/v.csv" --author "Nguyễn Văn A"
expect_in "submit confirmed as rev 2" "lần 2" "$LAST_OUT"
expect_ok "status after submit" "$NODE" status --dir "$D" --json
expect_eq "one revision pending for the parent" "$(printf '%s' "$LAST_OUT" | json_get pending)" 1
expect_eq "status names the unit" "$(printf '%s' "$LAST_OUT" | json_get unit)" 25459
expect_ok "same submit again" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 --values "$TMP/v.csv" --author "Nguyễn Văn A"
expect_in "unchanged submit stores nothing" "Không có thay đổi" "$LAST_OUT"

# ---- correction --------------------------------------------------------------
expect_ok "correction names only what changes" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 TT01=15 CCHC02=1.180 --note "sửa số liệu"
expect_in "correction is rev 3" "lần 3" "$LAST_OUT"
expect_ok "show --json" "$NODE" show --dir "$D" --form dvcq-nam --period 2026 --json
J=$LAST_OUT
expect_eq "current rev" "$(printf '%s' "$J" | json_get rev)" 3
expect_eq "corrected value" "$(printf '%s' "$J" | json_get values.TT01)" 15
expect_eq "carried-over value" "$(printf '%s' "$J" | json_get values.TT02)" 1500
expect_eq "bool stored" "$(printf '%s' "$J" | json_get values.LD01)" True
expect_eq "multi-line text kept" "$(printf '%s' "$J" | python3 -c 'import json,sys; print(json.load(sys.stdin)["values"]["ND01"].count(chr(10)))')" 1
expect_eq "ratio computed from the two counts" "$(printf '%s' "$J" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["computed"]["CCHC03"],4))')" 98.3333
expect_eq "signature valid" "$(printf '%s' "$J" | json_get signature)" valid
expect_ok "show text" "$NODE" show --dir "$D" --form dvcq-nam --period 2026
expect_in "Vietnamese number format" "1.500" "$LAST_OUT"
expect_in "ratio shown with decimal comma" "98,33 %" "$LAST_OUT"
expect_in "unit name shown" "Phường Tân Ninh" "$LAST_OUT"

# ---- history --------------------------------------------------------------------
expect_ok "show --history" "$NODE" show --dir "$D" --form dvcq-nam --period 2026 --history --json
H=$LAST_OUT
expect_eq "three revisions" "$(printf '%s' "$H" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join("%d:%s:%s" % (r["rev"], r["status"], r["values"].get("TT01")) for r in d["revisions"]))')" "1:draft:12 2:submitted:12 3:submitted:15"
expect_eq "author kept on rev 2" "$(printf '%s' "$H" | json_get revisions.1.author)" "Nguyễn Văn A"
expect_eq "note on rev 3" "$(printf '%s' "$H" | json_get revisions.2.note)" "sửa số liệu"
expect_ok "status after correction" "$NODE" status --dir "$D" --json
expect_eq "two submitted revisions in the log" "$(printf '%s' "$LAST_OUT" | json_get last_seq)" 2

# ---- removal of a value with CODE= -------------------------------------------------
expect_ok "remove an optional value" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 ND03=
expect_ok "show after removal" "$NODE" show --dir "$D" --form dvcq-nam --period 2026 --json
expect_eq "value removed" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; print("ND03" in json.load(sys.stdin)["values"])')" False
expect_exit 3 "removing a required value is rejected" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 TT01=

# ---- bad input: clear message, non-zero exit, nothing stored ---------------------------
expect_exit 1 "unknown form" "$NODE" submit --dir "$D" --form nope --period 2026 TT01=1
expect_in "unknown form explained" "form 'nope' is not known" "$LAST_OUT"
expect_exit 1 "period of the wrong type" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026S1 TT01=1
expect_in "period type explained" "sixmonthly but form 'dvcq-nam' is yearly" "$LAST_OUT"
expect_exit 1 "invalid period" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026S3 TT01=1
expect_exit 2 "value without '='" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 TT01
expect_exit 2 "unknown option" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 --bogus TT01=1
expect_exit 1 "not a data directory" "$NODE" status --dir "$TMP/none"
expect_in "says to run init" "create it with init" "$LAST_OUT"
expect_exit 1 "missing CSV file" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 --values "$TMP/none.csv"
printf 'code,value\nTT01,"unterminated\n' > "$TMP/bad.csv"
expect_exit 1 "malformed CSV" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 --values "$TMP/bad.csv"
expect_in "CSV error has file:line" "bad.csv:2" "$LAST_OUT"
expect_exit 1 "no report yet for another period" "$NODE" show --dir "$D" --form dvcq-nam --period 2025
expect_ok "history unchanged by bad input" "$NODE" show --dir "$D" --form dvcq-nam --period 2026 --history --json
expect_eq "still four revisions" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["revisions"]))')" 4
chmod 644 "$D/identity.key"
expect_exit 1 "identity readable by others is refused" "$NODE" status --dir "$D"
expect_in "says chmod 600" "chmod 600" "$LAST_OUT"
chmod 600 "$D/identity.key"
printf '[office]\nunit = 25459\ncolour = blue\n' > "$TMP/bad.ini"
cp "$D/tonghop.ini" "$TMP/good.ini"
cp "$TMP/bad.ini" "$D/tonghop.ini"
expect_exit 1 "unknown config key refused" "$NODE" status --dir "$D"
expect_in "config error with file:line" "tonghop.ini:3: unknown key 'colour'" "$LAST_OUT"
cp "$TMP/good.ini" "$D/tonghop.ini"

# ---- 2024 tree: same code, other unit --------------------------------------------------
expect_ok "init an office of the 2024 tree" "$NODE" init --dir "$TMP/old" --unit 25459
expect_ok "report of 2025S1 uses the 2024 tree" "$NODE" submit --dir "$TMP/old" --form dvcq-6thang --period 2025S1 --draft TT01=1
expect_ok "show 2025S1" "$NODE" show --dir "$TMP/old" --form dvcq-6thang --period 2025S1
expect_in "2025S1 names the 2024 unit" "Phường 3" "$LAST_OUT"

# ---- help ---------------------------------------------------------------------------
for c in init key submit show forms status; do
    expect_ok "$c --help" "$NODE" "$c" --help
    expect_in "$c --help has an example" "Example" "$LAST_OUT"
done

# --dir by default: TONGHOP_DIR (and /var/lib/tonghop for the service user)
expect_exit 2 "status without --dir (no TONGHOP_DIR, not the service user)" env -u TONGHOP_DIR "$NODE" status
expect_in "  ... says where the directory comes from" "or TONGHOP_DIR; run as the user tonghop, the default is /var/lib/tonghop" "$LAST_OUT"
expect_ok "init without --dir, in TONGHOP_DIR" env TONGHOP_DIR="$TMP/envdir" "$NODE" init --unit 25459
expect_ok "status without --dir reads TONGHOP_DIR" env TONGHOP_DIR="$TMP/envdir" "$NODE" status --json
expect_eq "  ... that office" "$(printf '%s' "$LAST_OUT" | json_get unit)" 25459
expect_ok "--dir wins over TONGHOP_DIR" env TONGHOP_DIR="$TMP/nowhere" "$NODE" key --dir "$TMP/envdir"

th_summary
