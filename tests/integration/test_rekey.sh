#!/bin/sh
# A district hub replaces its own key (`tonghop-hub rekey`) without anyone
# touching its parent or its children. 2024 tree (tiers72): province 72 <-
# district 703 <- communes 25456 (on) and 25459 (off during the rotation).
#   1. rekey is refused while the daemon runs; with it stopped it makes a
#      new key, keeps the old one as identity.prev, refuses a second rekey.
#   2. The province learns the new key from the district's statement
#      (signed by the old key) and the district's uplink goes over to it;
#      a report still arrives; an enrollment the district signs with the
#      new key is accepted at the province.
#   3. The district keeps listening with the old key while 25459 has not
#      got the new one (status says so); when 25459 comes back it gets it,
#      the district goes over, both communes reconnect with the new key
#      on their own (their tonghop.ini still holds the old one) and their
#      reports arrive; a restarted commune keeps using the new key.
#   4. The old key is deleted at the district and can no longer connect to
#      the province. A second rotation does not wait for a child revoked
#      meanwhile.
#
#   sh tests/integration/test_rekey.sh build/asan
set -u
O=${1:-build/asan}
. tests/integration/lib.sh
fast_python

P=$TMP/p72
D=$TMP/d703
tiers72 "$P"
start p72 "$HUB" "$P"
start d703 "$HUB" "$D"
for c in 25456 25459; do start "e$c" "$NODE" "$TMP/e$c"; done
# shellcheck disable=SC2046
expect_ok "25456 reports 2024" "$NODE" submit --dir "$TMP/e25456" --form dvcq-nam --period 2024 $(report 10)
# shellcheck disable=SC2046
expect_ok "25459 reports 2024" "$NODE" submit --dir "$TMP/e25459" --form dvcq-nam --period 2024 $(report 30)
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25456 1 && ok "province holds 25456 rev 1" || bad "province lacks 25456 rev 1"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25459 1 && ok "province holds 25459 rev 1" || bad "province lacks 25459 rev 1"

# ---- 1. rekey
cp "$D/identity.key" "$TMP/old703.key"
expect_exit 1 "rekey is refused while the daemon runs" "$HUB" rekey --dir "$D"
expect_in "and says to stop it first" "stop it first" "$LAST_OUT"
stop e25459
stop d703
expect_ok "with the daemon stopped, rekey makes a new key" "$HUB" rekey --dir "$D"
NEW=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
expect_in "it says what happens next, in Vietnamese" "Không cần sửa gì ở cấp trên" "$LAST_OUT"
expect_in "counting the children to tell" "cấp trên và 2 đơn vị cấp dưới" "$LAST_OUT"
expect_eq "key prints the new key" "$("$HUB" key --dir "$D" | tail -n 1)" "$NEW"
[ "$NEW" != "$KEY_703" ] && ok "which is another key" || bad "the key did not change"
test -f "$D/identity.prev" && ok "the old key is kept as identity.prev" || bad "no identity.prev"
expect_eq "identity.prev is mode 600" "$(stat -c %a "$D/identity.prev")" 600
expect_exit 1 "a second rekey is refused while the first is in progress" "$HUB" rekey --dir "$D"
expect_in "and says why" "still in progress" "$LAST_OUT"
expect_ok "status --json" "$HUB" status --dir "$D" --json
expect_eq "status: the rotation waits for the parent" "$(printf '%s' "$LAST_OUT" | json_get rotation.parent)" waiting
expect_eq "status: and for 2 children" "$(printf '%s' "$LAST_OUT" | json_get rotation.children_waiting)" 2
restart d703 "$HUB" "$D"

# ---- 2. upward
wait_for 30 grep -q "ingest: 703 replaced its key" "$TMP/p72.log" &&
    ok "the province took the district's new key from its signed statement" ||
    bad "the province never got the new key" "$(tail -n 5 "$TMP/p72.log")"
wait_for 30 grep -q "the parent holds our new key: reconnecting with it" "$TMP/d703.log" &&
    ok "the district's uplink goes over to the new key" || bad "the uplink kept the old key" "$(tail -n 5 "$TMP/d703.log")"
wait_for 30 grep -q "703 connects with its new key: the old one is no longer accepted" "$TMP/p72.log" &&
    ok "and connects with it; the province stops admitting the old one" ||
    bad "the district never connected with its new key" "$(tail -n 5 "$TMP/p72.log")"
expect_ok "25456 corrects (rev 2)" "$NODE" submit --dir "$TMP/e25456" --form dvcq-nam --period 2024 TT01=11
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25456 2 && ok "the province holds 25456 rev 2" || bad "rev 2 never reached the province"
N=$TMP/e25462
start_proxy l25462 "$D" 1 || bad "link proxy for 25462 did not start"
expect_ok "a new commune 25462 is set up with the district's new key" "$NODE" init --dir "$N" --unit 25462 --parent "$LINK_EP" --parent-key "$NEW"
NK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$N"
expect_ok "the district enrolls it (signed by the new key)" "$HUB" enroll --dir "$D" --unit 25462 --key "$NK"
# shellcheck disable=SC2046
expect_ok "25462 reports 2024" "$NODE" submit --dir "$N" --form dvcq-nam --period 2024 $(report 5)
start e25462 "$NODE" "$N"

# ---- 3. downward
expect_ok "status --json" "$HUB" status --dir "$D" --json
expect_eq "status: the parent has the new key" "$(printf '%s' "$LAST_OUT" | json_get rotation.parent)" done
expect_eq "status: one child still waits" "$(printf '%s' "$LAST_OUT" | json_get rotation.children_waiting)" 1
expect_in "status: 25459" "25459" "$(printf '%s' "$LAST_OUT" | json_get rotation.waiting)"
expect_ok "status (text)" "$HUB" status --dir "$D"
expect_in "status says so in Vietnamese" "đơn vị cấp dưới chưa nhận khóa mới: 1/2 (25459)" "$LAST_OUT"
expect_in "the district still listens with the old key" "with the old key: children still learning the new one" "$(cat "$TMP/d703.log")"
test -f "$D/identity.prev" && ok "identity.prev is still there" || bad "identity.prev went too early"
restart e25459 "$NODE" "$TMP/e25459"
wait_for 30 grep -q "every child has our new key" "$TMP/d703.log" &&
    ok "25459 came back and got the new key: the district listens with it" ||
    bad "the district never went over" "$(tail -n 5 "$TMP/d703.log")"
wait_for 30 grep -q "key rotation done" "$TMP/d703.log" && ok "the rotation ends" || bad "the rotation never ended"
wait_for 10 sh -c "! test -f '$D/identity.prev'" && ok "identity.prev is deleted" || bad "identity.prev is left"
for c in 25456 25459; do
    wait_for 40 grep -q "answers with its new key: kept" "$TMP/e$c.log" &&
        ok "$c reconnected with the district's new key by itself" ||
        bad "$c never used the new key" "$(tail -n 5 "$TMP/e$c.log")"
done
expect_in "25456's tonghop.ini still holds the old key (nobody touched it)" "$KEY_703" "$(cat "$TMP/e25456/tonghop.ini")"
expect_ok "25456 corrects again (rev 3)" "$NODE" submit --dir "$TMP/e25456" --form dvcq-nam --period 2024 TT01=12
expect_ok "25459 corrects (rev 2)" "$NODE" submit --dir "$TMP/e25459" --form dvcq-nam --period 2024 TT01=31
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25456 3 && ok "the province holds 25456 rev 3" || bad "25456 rev 3 never arrived"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25459 2 && ok "the province holds 25459 rev 2" || bad "25459 rev 2 never arrived"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25462 1 && ok "and the new commune 25462's report (its enrollment signed by the new key was accepted)" ||
    bad "25462 never reached the province" "$(grep -i "25462" "$TMP/p72.log" | tail -n 3)"
stop e25456
restart e25456 "$NODE" "$TMP/e25456"
expect_ok "25456, restarted, corrects (rev 4)" "$NODE" submit --dir "$TMP/e25456" --form dvcq-nam --period 2024 TT01=13
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25456 4 && ok "it arrives: the kept key survives a restart" || bad "25456 rev 4 never arrived"
expect_ok "status --json" "$HUB" status --dir "$D" --json
expect_eq "status: no rotation any more" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; print("rotation" in json.load(sys.stdin))')" False
expect_ok "rollup at the province" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --format json
expect_eq "TT01 = 13 + 31 + 5" "$(printf '%s' "$LAST_OUT" | json_get values.TT01)" 49

# ---- 4. the old key
X=$TMP/x703
expect_ok "an impostor hub set up with the district's old key" "$HUB" init --dir "$X" --unit 703 --bind "$ANY" --parent "$EP_l703" --parent-key "$PK"
cp "$TMP/old703.key" "$X/identity.key" && chmod 600 "$X/identity.key"
fast_sync "$X"
n0=$(grep -c "refused a connection" "$TMP/p72.log")
stop d703
start x703 "$HUB" "$X"
wait_for 20 sh -c "[ \$(grep -c 'refused a connection' '$TMP/p72.log') -gt $n0 ]" &&
    ok "the old key can no longer connect to the province" ||
    bad "the old key still connects" "$(tail -n 5 "$TMP/p72.log")"

# a child revoked during a rotation is no longer waited for
expect_ok "a second rotation, once the first is over" "$HUB" rekey --dir "$D"
expect_ok "status --json" "$HUB" status --dir "$D" --json
expect_eq "status: it waits for the three children" "$(printf '%s' "$LAST_OUT" | json_get rotation.children_waiting)" 3
expect_ok "the district revokes 25462" "$HUB" revoke --dir "$D" --unit 25462
expect_ok "status --json" "$HUB" status --dir "$D" --json
expect_eq "status: the rotation waits for two children now" "$(printf '%s' "$LAST_OUT" | json_get rotation.children_waiting)" 2

for n in x703 e25462 e25456 e25459 p72; do
    stop "$n"
    expect_eq "$n stops cleanly" "$STOP_RC" 0
done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report in the daemons' logs" || bad "sanitizer report"
th_summary
