#!/bin/sh
# A commune moved to another parent, as in the 2025 reform (codes kept):
# Hà Nội 01 <- district 001 (Quận Ba Đình, 2024) <- commune 00004. The
# commune reports 2024 through its district; on 01/07/2025 the districts go,
# so it points its [parent] at the province, which enrolls the same key.
# Then: the province takes it as a direct child, a correction of 2024 and
# the 2026 report arrive directly, nothing is applied twice, and the
# province's notices (receipts, a return for correction) reach the clerk,
# although the old parent had numbered its own notices already.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh
fast_python

report() {  # $1 = TT01
    echo "TT01=$1 TT02=100 TT03=1 TT04=2 DT01=1 DT02=10 LD01=có DVK01=2 DVK02=1 KT01=0 KT02=0 CCHC01=10 CCHC02=9 CCHC04=3 TCD01=4 TCD02=3 TCD03=2 TCD05=1 GS01=1 GS02=2 GS03=1 DC01=có KTR01=0 KTR02=0 DG01=tot ND01=Tốt ND02=Chưa ND03=Tiếp"
}
P=$TMP/p01; D=$TMP/d001; C=$TMP/c00004
expect_ok "init Hà Nội hub 01" "$HUB" init --dir "$P" --unit 01 --bind "$ANY"
PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
start_proxy l001 "$P" 1 || bad "link proxy to 01 did not start"
expect_ok "init district hub 001" "$HUB" init --dir "$D" --unit 001 --bind "$ANY" --parent "$LINK_EP" --parent-key "$PK"
DK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
expect_ok "enroll 001 at 01" "$HUB" enroll --dir "$P" --unit 001 --key "$DK"
start_proxy l00004 "$D" 1 || bad "link proxy to 001 did not start"
expect_ok "init commune 00004 under 001" "$NODE" init --dir "$C" --unit 00004 --parent "$LINK_EP" --parent-key "$DK"
CK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
expect_ok "enroll 00004 at 001" "$HUB" enroll --dir "$D" --unit 00004 --key "$CK"
for d in "$P" "$D" "$C"; do fast_sync "$d"; done

# shellcheck disable=SC2046
expect_ok "00004 reports 2024" "$NODE" submit --dir "$C" --form dvcq-nam --period 2024 $(report 10)
start p01 "$HUB" "$P"; start d001 "$HUB" "$D"; start c00004 "$NODE" "$C"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 00004 1 && ok "the province holds 2024 rev 1 through 001" || bad "no 2024 report at the province" "$(tail -5 "$TMP/d001.log")"
wait_for 20 sh -c "'$NODE' status --dir '$C' | grep -q 'tỉnh đã nhận'" && ok "the clerk sees the province's receipt (old path)" || bad "no receipt through the district"
stop c00004; stop d001

# ---- the move ----
# (not sed: a Z85 key may hold '&' or '|')
python3 -c '
import sys
path, ep, key = sys.argv[1:4]
lines = open(path, encoding="utf-8").read().splitlines()
lines = ["endpoint = " + ep if l.startswith("endpoint = ") else "key = " + key if l.startswith("key = ") else l for l in lines]
open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")' "$C/tonghop.ini" "$(hub_ep "$P")" "$PK"
expect_ok "the province enrolls the same key" "$HUB" enroll --dir "$P" --unit 00004 --key "$CK"
expect_in "it says the office now reports directly" "trực tiếp" "$LAST_OUT"
expect_ok "enrolling again is a no-op" "$HUB" enroll --dir "$P" --unit 00004 --key "$CK"
expect_in "and says so" "đã được đăng ký với khóa này" "$LAST_OUT"
expect_ok "00004 corrects 2024" "$NODE" submit --dir "$C" --form dvcq-nam --period 2024 TT01=12
# shellcheck disable=SC2046
expect_ok "00004 reports 2026 (two-tier tree)" "$NODE" submit --dir "$C" --form dvcq-nam --period 2026 $(report 30)
start c00004 "$NODE" "$C"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 00004 2 && ok "the 2024 correction arrives directly" || bad "no 2024 rev 2" "$(tail -8 "$TMP/p01.log")"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2026 00004 1 && ok "the 2026 report arrives directly" || bad "no 2026 report" "$(tail -8 "$TMP/p01.log")"
expect_eq "2024 history at the province: revs 1 2, each once" "$(revs "$HUB" "$P" dvcq-nam 2024 00004)" "1 2"
expect_eq "the province's 2024 figure is the correction" "$(value "$HUB" "$P" dvcq-nam 2024 00004 TT01)" 12
wait_for 20 sh -c "'$NODE' status --dir '$C' --json | python3 -c 'import json,sys; d=json.load(sys.stdin); r=[x for x in d[\"reports\"] if x[\"period\"]==\"2026\"][0]; sys.exit(0 if any(c[\"rev\"]==1 and c[\"by\"]==\"01\" for c in r[\"receipts\"]) else 1)'" &&
    ok "the new parent's receipt for 2026 reaches the clerk" || bad "no receipt from the new parent" "$("$NODE" status --dir "$C")"
expect_ok "the province returns the 2026 report" "$HUB" return --dir "$P" --form dvcq-nam --period 2026 --unit 00004 --reason "Kiểm tra lại số buổi tuyên truyền"
wait_for 20 sh -c "'$NODE' status --dir '$C' | grep -q 'TRẢ LẠI ĐỂ SỬA'" && ok "the return reaches the clerk" || bad "the return did not arrive" "$("$NODE" status --dir "$C")"
expect_in "the commune logged the new parent" "counted afresh" "$(cat "$TMP/c00004.log")"
for n in c00004 p01; do
    stop "$n"
    expect_eq "$n stops cleanly" "$STOP_RC" 0
done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report in the daemons' logs" || bad "sanitizer report"
th_summary
