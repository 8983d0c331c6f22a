#!/bin/sh
# One child may not starve its siblings or fill its parent's disk.
# Province 80 (2025 tree) with tight [limits] (20 messages and 32 KiB a
# second, 1 MB stored per child); commune 25480's PC is stolen: th_evil
# --attack flood uses its identity to send BATCHes of 16 new, properly
# signed revisions as fast as the socket takes them, for FLOOD_MS (12 s:
# room for three corrections on a busy machine, each up to a few seconds),
# never waiting for an ACK (but going on where the hub says after a lost
# batch, as the real uplink would). Meanwhile the clerk of commune 25459
# corrects her report every second; every correction must reach the
# province within LAG_S (6) seconds. Phase A: the rate limits drop the
# excess unread (logged every 5 s). Phase B, rate limits lifted: the hub
# commits the flood until 25480's 1 MB is stored, then answers with an
# ERROR in Vietnamese and stores no more; 25480's own daemon, restarted, is
# told the same (its status shows it), while 25459 is unaffected.
#
#   sh tests/integration/test_limits.sh build/asan
set -u
O=${1:-build/asan}
. tests/integration/lib.sh
fast_python
EVIL="$O/tools/th_evil"
FLOOD_MS=${FLOOD_MS:-12000}
LAG_S=${LAG_S:-6}
if [ ! -x "$EVIL" ]; then
    bad "th_evil is built" "missing $EVIL: make BUILD=${O#build/} $EVIL"
    th_summary
    exit 1
fi

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ------------------------------------------------------------------ setup
P=$TMP/p80
expect_ok "init province hub 80" "$HUB" init --dir "$P" --unit 80 --bind "$ANY"
PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$P"
expect_in "init writes the [limits] section with its defaults" "child_store_mb = 1024" "$(cat "$P/tonghop.ini")"
sed -i -e 's/^child_msgs_per_s = .*/child_msgs_per_s = 20/' -e 's/^child_kib_per_s = .*/child_kib_per_s = 32/' \
    -e 's/^child_store_mb = .*/child_store_mb = 1/' "$P/tonghop.ini"
cp "$P/tonghop.ini" "$TMP/good.ini"
sed -i 's/^child_store_mb = .*/child_store_mb = 0/' "$P/tonghop.ini"
expect_exit 1 "a limit of 0 is refused with the line and the range" "$HUB" status --dir "$P"
expect_in "and says what to write" "child_store_mb must be a whole number of MB from 1 to" "$LAST_OUT"
cp "$TMP/good.ini" "$P/tonghop.ini"
start_proxy l80 "$P" 1 || bad "link proxy to 80 did not start"
for c in 25459 25480; do
    expect_ok "init commune $c" "$NODE" init --dir "$TMP/c$c" --unit "$c" --parent "$LINK_EP" --parent-key "$PK"
    k=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
    fast_sync "$TMP/c$c"
    expect_ok "enroll $c" "$HUB" enroll --dir "$P" --unit "$c" --key "$k"
    # shellcheck disable=SC2046
    expect_ok "$c submits" "$NODE" submit --dir "$TMP/c$c" --form dvcq-nam --period 2026 $(report 10)
done
start p80 "$HUB" "$P"
for c in 25459 25480; do start "c$c" "$NODE" "$TMP/c$c"; done
for c in 25459 25480; do
    wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2026 "$c" 1 && ok "province holds $c rev 1" ||
        bad "province lacks $c rev 1" "$(tail -5 "$TMP/p80.log")"
done
stop c25480   # from here on its directory belongs to th_evil

# flood_phase NAME PERIOD: th_evil floods for FLOOD_MS (revisions of 25480's
# report of PERIOD) while 25459 corrects every second; each correction must
# reach the province within LAG_S. Sets J (th_evil's JSON line).
rev=1; n=0
flood_phase() {
    "$EVIL" --dir "$TMP/c25480" --attack flood --flood-ms "$FLOOD_MS" --timeout-ms 5000 --period "$2" \
        >"$TMP/flood-$1.json" 2>"$TMP/flood-$1.err" </dev/null &
    EVIL_PID=$!
    PIDS="$PIDS $EVIL_PID"
    sleep 1
    lagged=0; worst=0; k=0
    t_end=$(($(now_ms) + FLOOD_MS - 1500))
    while [ "$(now_ms)" -lt "$t_end" ]; do
        n=$((n + 1)); k=$((k + 1))
        rev=$((rev + 1))
        t0=$(now_ms)
        if ! "$NODE" submit --dir "$TMP/c25459" --form dvcq-nam --period 2026 TT01=$((100 + n)) >/dev/null 2>&1 </dev/null; then
            bad "$1: 25459 correction $n was refused by its own office"
            break
        fi
        if wait_for "$LAG_S" has_rev "$HUB" "$P" dvcq-nam 2026 25459 "$rev"; then
            d=$(($(now_ms) - t0))
            [ "$d" -gt "$worst" ] && worst=$d
        else
            lagged=$((lagged + 1))
        fi
        sleep 1
    done
    wait "$EVIL_PID"
    expect_eq "$1: th_evil ran to the end of the flood" "$?" 0
    expect_eq "$1: during the flood, each of 25459's $k corrections reached the province within $LAG_S s (slowest $worst ms)" "$lagged" 0
    [ "$k" -ge 3 ] && ok "$1: 25459 corrected $k times during the flood" || bad "$1: only $k corrections during the flood"
    J=$(cat "$TMP/flood-$1.json")
    echo "# $1: flood $(printf '%s' "$J" | json_get flood)"
}
fl() { printf '%s' "$J" | json_get "flood.$1"; }
held() {   # held PERIOD: revisions of 25480's report of PERIOD at the province
    "$HUB" show --dir "$P" --form dvcq-nam --period "$1" --unit 25480 --history --json 2>/dev/null |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)["revisions"]))'
}

# ---- phase A: the rate limits (20 messages, 32 KiB a second)
flood_phase rate 2026
sent=$(fl records); acked=$(fl acked_upto)
[ "${sent:-0}" -gt 1000 ] && ok "rate: the flood sent $sent signed revisions in $(fl batches) BATCHes ($(fl bytes) bytes)" ||
    bad "rate: the flood sent only ${sent:-0} revisions: no flood" "$J $(cat "$TMP/flood-rate.err")"
[ "${acked:-0}" -lt $((sent / 10)) ] && ok "rate: the province took in only through seq ${acked:-0} of $sent" ||
    bad "rate: the province took in most of the flood (through $acked of $sent)"
expect_in "rate: over the limits, messages are dropped unread, and logged" "25480 is over its limits" "$(cat "$TMP/p80.log")"
[ "$(grep -c 'over its limits' "$TMP/p80.log")" -le $((FLOOD_MS / 5000 + 2)) ] &&
    ok "rate: that is logged once every 5 s, not once per message" || bad "rate: the log is flooded too"
HELD_A=$(held 2026)
echo "# rate: the province holds $HELD_A revisions of 25480"
alive p80 && ok "rate: the province still runs" || bad "rate: the province died" "$(tail -20 "$TMP/p80.log")"

# ---- the stolen office's own node, back after phase A: the province's
# cursor for 25480 (moved by the flood) is beyond anything this node ever
# wrote; its new entries must not be taken as delivered
# shellcheck disable=SC2046
expect_ok "25480's office submits its 2027 report" "$NODE" submit --dir "$TMP/c25480" --form dvcq-nam --period 2027 $(report 5)
restart c25480 "$NODE" "$TMP/c25480"
wait_for 20 has_rev "$HUB" "$P" dvcq-nam 2027 25480 1 && ok "it reaches the province although the flood moved its cursor" ||
    bad "25480's 2027 report never reached the province" "$("$NODE" status --dir "$TMP/c25480")"
expect_in "the node says what happened" "but this office wrote only" "$(cat "$TMP/c25480.log")"
stop c25480

# ---- phase B: the store cap (1 MB), with the rate limits out of the way;
# the flood forges revisions of 2027 (held as rev 1 only: each one new, so
# what fills the cap is stored revisions, not refusals of revisions of 2026
# that phase A's flood already numbered)
stop p80
sed -i -e 's/^child_msgs_per_s = .*/child_msgs_per_s = 100000/' -e 's/^child_kib_per_s = .*/child_kib_per_s = 1000000/' "$P/tonghop.ini"
restart p80 "$HUB" "$P"
wait_for 20 daemon_field "$HUB" "$P" collector || bad "the province did not come back"
flood_phase cap 2027
expect_in "cap: the store cap was reached, and logged" "at its [limits] child_store_mb = 1: batch refused" "$(cat "$TMP/p80.log")"
[ "$(fl errors)" -ge 1 ] && ok "cap: the flood got ERROR once the cap was reached" || bad "cap: no ERROR for the flood" "$J"
expect_in "cap: the ERROR says why, in Vietnamese" "đạt hạn mức 1 MB" "$(fl first_error)"
HELD_B=$(held 2027)
echo "# cap: the province holds $HELD_B revisions of 25480's 2027 report (of $(fl records) sent); data.mdb is $(ls -l "$P/store/data.mdb" | awk '{print $5}') bytes"
[ "$HELD_B" -gt 1 ] && ok "cap: the province stored more of them until the cap (2027: 1 -> $HELD_B)" ||
    bad "cap: nothing more was stored (2027: $HELD_B)"
# what is charged is each revision's blob: at most 1 MiB + one BATCH past it
# (16 revisions) + the office's own rev 1 of 2026 and of 2027. A blob is
# the flood's bytes per record less the BATCH entry overhead (32 bytes at
# most), so at most this many:
per=$(($(fl bytes) / $(fl records)))
most=$(((1048576 + 16 * per) / (per - 32) + 2))
[ $((HELD_A + HELD_B)) -le "$most" ] && ok "cap: 25480's revisions stay within its cap and one batch ($HELD_A + $HELD_B <= $most of ~$per bytes)" ||
    bad "cap: 25480 has $HELD_A + $HELD_B revisions of ~$per bytes stored: beyond its 1 MB cap ($most)"
alive p80 && ok "cap: the province still runs" || bad "cap: the province died" "$(tail -20 "$TMP/p80.log")"

# ------------------------------------------- the stolen office's own node
# shellcheck disable=SC2046
expect_ok "25480's office submits its 2028 report" "$NODE" submit --dir "$TMP/c25480" --form dvcq-nam --period 2028 $(report 5)
restart c25480 "$NODE" "$TMP/c25480"
wait_for 20 sh -c "'$NODE' status --dir '$TMP/c25480' | grep -q 'hạn mức'" &&
    ok "its clerk sees that the province refuses it, and why" || bad "no refusal at 25480" "$("$NODE" status --dir "$TMP/c25480")"
expect_exit 1 "the province did not take 25480's 2028 report" "$HUB" show --dir "$P" --form dvcq-nam --period 2028 --unit 25480
expect_ok "25459 submits 2028 after the flood" "$NODE" submit --dir "$TMP/c25459" --form dvcq-nam --period 2028 $(report 7)
wait_for 20 has_rev "$HUB" "$P" dvcq-nam 2028 25459 1 && ok "25459's 2028 report arrives" || bad "25459's 2028 report did not arrive"

for n in c25459 c25480 p80; do
    stop "$n"
    expect_eq "$n stops cleanly" "$STOP_RC" 0
done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report in the daemons' logs" || bad "sanitizer report" "$(grep -l Sanitizer "$TMP"/*.log)"
th_summary
