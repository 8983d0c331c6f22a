#!/bin/sh
# A stolen commune PC, and its reinstallation. Three tiers of the 2024 tree
# (province 72 <- district 703 <- communes 25456, 25459; tiers72):
#   1. 25456 reports (revs 1, 2); the district revokes its key
#      (`tonghop-hub revoke`): the revocation travels up, signed by the
#      district, and the province records it too.
#   2. The stolen PC (the old installation, still running, its connection
#      still open) submits rev 3: refused by the district, with the reason
#      shown to whoever runs it; after a restart it cannot connect at all.
#   3. The office is reinstalled with a new key, which the district enrolls;
#      the clerk enters the report again (rev 1 of the new installation):
#      the district tells the new office it holds up to rev 2 signed by the
#      old key, the office issues its report again as rev 3, and rev 3 with
#      the new figures is what the district and the province hold, signed
#      by the new key, nothing applied twice. 25459 is not affected.
#
#   sh tests/integration/test_keys.sh build/asan
set -u
O=${1:-build/asan}
. tests/integration/lib.sh
fast_python


P=$TMP/p72
tiers72 "$P"
start p72 "$HUB" "$P"
for d in 703 705; do start "d$d" "$HUB" "$TMP/d$d"; done
for c in 25456 25459; do start "e$c" "$NODE" "$TMP/e$c"; done
# shellcheck disable=SC2046
expect_ok "25456 reports 2024" "$NODE" submit --dir "$TMP/e25456" --form dvcq-nam --period 2024 $(report 10)
expect_ok "25456 corrects (rev 2)" "$NODE" submit --dir "$TMP/e25456" --form dvcq-nam --period 2024 TT01=12
# shellcheck disable=SC2046
expect_ok "25459 reports 2024" "$NODE" submit --dir "$TMP/e25459" --form dvcq-nam --period 2024 $(report 30)
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25456 2 && ok "province holds 25456 rev 2" || bad "province lacks 25456 rev 2"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25459 1 && ok "province holds 25459 rev 1" || bad "province lacks 25459 rev 1"

# ---- 1. revoke
expect_exit 1 "revoking a unit that has no key here is refused" "$HUB" revoke --dir "$TMP/d703" --unit 25486
expect_in "and says why" "has no key enrolled here" "$LAST_OUT"
expect_ok "the district revokes 25456's key" "$HUB" revoke --dir "$TMP/d703" --unit 25456
expect_in "it says what follows, in Vietnamese" "Máy dùng khóa này không kết nối được nữa" "$LAST_OUT"
expect_in "and how to let the office report again" "tonghop-hub enroll --dir $TMP/d703 --unit 25456 --key" "$LAST_OUT"
expect_ok "revoking again is harmless" "$HUB" revoke --dir "$TMP/d703" --unit 25456
expect_in "and says so" "đã bị thu hồi trước đó" "$LAST_OUT"
wait_for 20 grep -q "the key of 25456 was revoked by 703" "$TMP/p72.log" &&
    ok "the revocation reached the province, signed by the district" || bad "the province never learnt of the revocation" "$(tail -n 5 "$TMP/p72.log")"

# ---- 2. the stolen PC
expect_ok "the stolen PC submits rev 3" "$NODE" submit --dir "$TMP/e25456" --form dvcq-nam --period 2024 TT01=999
wait_for 20 sh -c "'$NODE' status --dir '$TMP/e25456' | grep -q 'thu hồi'" &&
    ok "it is refused, and told why" || bad "no refusal at the stolen PC" "$("$NODE" status --dir "$TMP/e25456")"
expect_eq "the district holds 25456 up to rev 2, not the stolen PC's rev 3" \
    "$(revs "$HUB" "$TMP/d703" dvcq-nam 2024 25456 | awk '{print $NF}')" 2
expect_in "the district quarantined it with the reason" "đã bị thu hồi" "$(cat "$TMP/d703.log")"
stop e25456
n0=$(grep -c "refused a connection" "$TMP/d703.log")
restart e25456 "$NODE" "$TMP/e25456"
wait_for 15 sh -c "[ \$(grep -c 'refused a connection' '$TMP/d703.log') -gt $n0 ]" &&
    ok "restarted, the stolen PC cannot connect any more (ZAP refuses its key)" ||
    bad "the stolen PC still connects" "$(tail -n 5 "$TMP/d703.log")"
stop e25456
expect_eq "the province still holds 25456's rev 2" "$(revs "$HUB" "$P" dvcq-nam 2024 25456 | awk '{print $NF}')" 2
expect_eq "with TT01 = 12" "$(value "$HUB" "$P" dvcq-nam 2024 25456 TT01)" 12

# ---- 3. the reinstalled office
N=$TMP/e25456-new
start_proxy lnew "$TMP/d703" 1 || bad "link proxy for the new office did not start"
expect_ok "the office is reinstalled (a new key)" "$NODE" init --dir "$N" --unit 25456 --parent "$LINK_EP" --parent-key "$KEY_703"
NK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$N"
expect_ok "the district enrolls the new key" "$HUB" enroll --dir "$TMP/d703" --unit 25456 --key "$NK"
expect_in "it says the (revoked) key was replaced" "Đã thay khóa của đơn vị 25456" "$LAST_OUT"
# shellcheck disable=SC2046
expect_ok "the clerk enters the 2024 report again" "$NODE" submit --dir "$N" --form dvcq-nam --period 2024 $(report 20)
expect_in "the new office numbers it 1" "lần 1," "$LAST_OUT"
start enew "$NODE" "$N"
wait_for 30 has_rev "$HUB" "$TMP/d703" dvcq-nam 2024 25456 3 &&
    ok "the district holds rev 3: the new office numbered its report after the old history" ||
    bad "the district never got a rev 3" "$(revs "$HUB" "$TMP/d703" dvcq-nam 2024 25456); $(tail -n 6 "$TMP/enew.log")"
expect_eq "the new office's own current revision is 3" "$("$NODE" show --dir "$N" --form dvcq-nam --period 2024 --json | json_get rev)" 3
expect_in "it logged why" "issued again as rev 3" "$(cat "$TMP/enew.log")"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25456 3 && ok "the province holds rev 3" || bad "the province lacks rev 3"
# (a revision superseded before it went up is skipped, as always: rev 1 may
# or may not be there)
expect_eq "province: 25456's history ends 2 3, each once" \
    "$(revs "$HUB" "$P" dvcq-nam 2024 25456 | python3 -c 'import sys; r=[int(x) for x in sys.stdin.read().split()]; print(r == sorted(set(r)), r[-2:])')" "True [2, 3]"
expect_eq "province: the new figures (TT01 = 20)" "$(value "$HUB" "$P" dvcq-nam 2024 25456 TT01)" 20
expect_ok "province: show rev 3" "$HUB" show --dir "$P" --form dvcq-nam --period 2024 --unit 25456 --json
expect_eq "signed by the new key, valid" "$(printf '%s' "$LAST_OUT" | json_get signature)" valid
expect_ok "the older revisions still verify (signed by the old key before its revocation)" \
    "$HUB" show --dir "$P" --form dvcq-nam --period 2024 --unit 25456 --history
expect_not_in "no signature failure in the history" "failed" "$LAST_OUT"
expect_ok "rollup at the province" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --format json
expect_eq "TT01 = 20 + 30" "$(printf '%s' "$LAST_OUT" | json_get values.TT01)" 50
expect_ok "a correction from the new office" "$NODE" submit --dir "$N" --form dvcq-nam --period 2024 TT01=21
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25456 4 && ok "arrives as rev 4" || bad "rev 4 never arrived"

for n in enew e25459 d703 d705 p72; do
    stop "$n"
    expect_eq "$n stops cleanly" "$STOP_RC" 0
done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report in the daemons' logs" || bad "sanitizer report"
th_summary
