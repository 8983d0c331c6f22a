#!/bin/sh
# A hub restarted with a backlog resumes without resending what its parent
# already holds, and the bytes on the wire show it. Real processes on
# 127.0.0.1: province 72 (2024 tree) <- district 703 <- communes 25456,
# 25459, with tests/tools/chaos_proxy.py as a pure byte counter (it never
# cuts) on every link: z703 between the district and the province, w25456
# and w25459 between the communes and the district.
#
#   Phase 1: each commune submits ROUNDS (40) revisions, one round at a time
#            (each reaches the province before the next one), B1 = bytes
#            district -> province.
#   Phase 2: the district stops (SIGTERM); each commune submits 3 more; the
#            district restarts; once the province holds the new ones,
#            B2 = bytes district -> province. B2 - B1 must be what 6 new
#            revisions and the protocol need, far below B1.
#   Phase 3: a commune is SIGKILLed with revisions not sent yet, more are
#            submitted while it is dead; after its restart the province
#            holds its latest, and its own link carried only the new ones.
#
#   sh tests/integration/test_sync_resume.sh build/asan
set -u
O=${1:-build/asan}
. tests/integration/lib.sh
fast_python

ROUNDS=${ROUNDS:-40}
FORM=dvcq-nam
PER=2024
A=25456
C=25459


# sub UNIT VALUE: a correction of TT01; sets LAST_UNIT and REV_UNIT
sub() {
    if out=$("$NODE" submit --dir "$TMP/e$1" --form $FORM --period $PER TT01="$2" 2>&1 </dev/null); then
        r=$(printf '%s\n' "$out" | sed -n 's/.*, lần \([0-9][0-9]*\),.*/\1/p' | head -n 1)
        if [ -n "$r" ]; then
            eval "LAST_$1=$2; REV_$1=$r"
            return 0
        fi
    fi
    bad "$1 submits TT01=$2" "$out"
    return 1
}

# now_ms: wall clock in ms
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---------------------------------------------------------------- set-up
P=$TMP/p72
expect_ok "init province hub 72 (2024 tree)" "$HUB" init --dir "$P" --unit 72 --bind "$ANY"
PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$P"
start_proxy z703 "$P" 1 || bad "byte counter z703 did not start" "$(cat "$TMP/z703.log")"
expect_ok "init district hub 703 behind a byte counter" "$HUB" init --dir "$TMP/d703" --unit 703 \
    --bind "$ANY" --parent "$LINK_EP" --parent-key "$PK"
DK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$TMP/d703"
expect_ok "enroll 703 at the province" "$HUB" enroll --dir "$P" --unit 703 --key "$DK"
for c in $A $C; do
    start_proxy "w$c" "$TMP/d703" 1 || bad "byte counter w$c did not start" "$(cat "$TMP/w$c.log")"
    expect_ok "init commune $c behind a byte counter" "$NODE" init --dir "$TMP/e$c" --unit $c \
        --parent "$LINK_EP" --parent-key "$DK"
    k=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
    fast_sync "$TMP/e$c"
    expect_ok "enroll $c at 703" "$HUB" enroll --dir "$TMP/d703" --unit $c --key "$k"
    # shellcheck disable=SC2046
    expect_ok "$c submits its 2024 report" "$NODE" submit --dir "$TMP/e$c" --form $FORM --period $PER $(report 1)
    eval "LAST_$c=1; REV_$c=1"
done
start p72 "$HUB" "$P"
start d703 "$HUB" "$TMP/d703"
for c in $A $C; do start "e$c" "$NODE" "$TMP/e$c"; done
for c in $A $C; do
    wait_for 30 has_rev "$HUB" "$P" $FORM $PER $c 1 && ok "province holds $c rev 1" ||
        bad "province lacks $c rev 1" "$(tail -n 5 "$TMP/d703.log")"
done

# --------------------------------------------------------------- phase 1
t=$(now_ms)
rnd=1; lagged=0   # not i: wait_for uses i
while [ $rnd -le "$ROUNDS" ]; do
    sub $A $((1000 + rnd)); sub $C $((2000 + rnd))
    for c in $A $C; do
        eval "r=\$REV_$c"
        wait_for 20 has_rev "$HUB" "$P" $FORM $PER $c "$r" || lagged=$((lagged + 1))
    done
    rnd=$((rnd + 1))
done
T1=$((($(now_ms) - t) / 1000))
expect_eq "phase 1: $ROUNDS rounds, each reached the province within 20 s ($T1 s in all)" "$lagged" 0
nrec=0
for c in $A $C; do
    eval "r=\$REV_$c"
    expect_eq "phase 1: province holds $c rev $r" "$(has_rev "$HUB" "$P" $FORM $PER $c "$r" && echo yes)" yes
    h=$(revs "$HUB" "$P" $FORM $PER $c)
    n=$(echo "$h" | wc -w)
    nrec=$((nrec + n))
done
expect_eq "phase 1: the province received every revision ($nrec of $((2 * (ROUNDS + 1))))" "$nrec" $((2 * (ROUNDS + 1)))
# the district acknowledged everything before it stops
wait_for 10 sh -c "[ \"\$('$HUB' status --dir '$TMP/d703' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"pending\"])')\" = 0 ]" &&
    ok "phase 1: nothing pending at the district" || bad "phase 1: district still has $(pending "$HUB" "$TMP/d703") pending"
D_LAST=$("$HUB" status --dir "$TMP/d703" --json | json_get last_seq)
# idle cost of the link (heartbeats) over 3 s, to bound phase 2 fairly
I0=$(proxy_stat z703 up_bytes); t=$(now_ms); sleep 3
I1=$(proxy_stat z703 up_bytes); IDLE_RATE=$(((I1 - I0) * 1000 / ($(now_ms) - t) + 1))
B1=$I1
PER_REC=$((B1 / nrec))
echo "# B1 = $B1 bytes up for $nrec revisions (~$PER_REC bytes each, overhead included); idle link: $IDLE_RATE bytes/s"
[ "$B1" -gt $((nrec * 256)) ] && ok "phase 1: B1 = $B1 bytes carried the $nrec revisions" ||
    bad "phase 1: B1 = $B1 bytes is too small for $nrec revisions: is the counter on the link?"

# --------------------------------------------------------------- phase 2
t2=$(now_ms)
stop d703
expect_eq "district stops cleanly on SIGTERM" "$STOP_RC" 0
for k in 1 2 3; do sub $A $((3000 + k)); sub $C $((4000 + k)); done
sleep 1                                   # the communes notice the district is gone
restart d703 "$HUB" "$TMP/d703"
for c in $A $C; do
    eval "r=\$REV_$c"
    wait_for 30 has_rev "$HUB" "$P" $FORM $PER $c "$r" && ok "phase 2: province holds $c rev $r after the district's restart" ||
        bad "phase 2: province lacks $c rev $r" "$(tail -n 8 "$TMP/d703.log")"
done
wait_for 10 sh -c "[ \"\$('$HUB' status --dir '$TMP/d703' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"pending\"])')\" = 0 ]"
B2=$(proxy_stat z703 up_bytes)
T2=$((($(now_ms) - t2 + 999) / 1000))
D=$((B2 - B1))
BOUND=$((6 * 2048 + 8192 + IDLE_RATE * T2))
echo "# B2 = $B2: phase 2 ($T2 s) sent $D bytes up; bound 6 x 2 KiB + 8 KiB + $IDLE_RATE B/s x $T2 s = $BOUND; B1/4 = $((B1 / 4))"
[ "$D" -lt $((B1 / 4)) ] && ok "phase 2: B2 - B1 = $D < B1/4 = $((B1 / 4)): nothing held was resent" ||
    bad "phase 2: B2 - B1 = $D is not far below B1 = $B1: the district resent what the province held"
[ "$D" -le "$BOUND" ] && ok "phase 2: B2 - B1 = $D <= $BOUND (6 new revisions, handshake, heartbeats)" ||
    bad "phase 2: B2 - B1 = $D > $BOUND"
[ "$D" -le $((6 * PER_REC + 8192 + IDLE_RATE * T2)) ] &&
    ok "phase 2: B2 - B1 = $D <= 6 x $PER_REC (phase 1 cost of one revision) + 8 KiB + heartbeats" ||
    bad "phase 2: B2 - B1 = $D > 6 x $PER_REC + 8 KiB + $((IDLE_RATE * T2))"
expect_in "phase 2: the province told the restarted district it holds through seq $D_LAST" \
    "parent 72 holds through seq $D_LAST," "$(grep 'uplink: up' "$TMP/d703.log")"
for c in $A $C; do
    eval "v=\$LAST_$c; r=\$REV_$c"
    expect_eq "phase 2: province TT01 of $c is the last value" "$(value "$HUB" "$P" $FORM $PER $c TT01)" "$v"
    h=$(revs "$HUB" "$P" $FORM $PER $c)
    expect_eq "phase 2: province history of $c lists each rev once, ending at $r" \
        "$(printf '%s\n' "$h" | python3 -c 'import sys; r=[int(x) for x in sys.stdin.read().split()]; print(r == sorted(set(r)), r[-1] if r else None)')" "True $r"
done

# --------------------------------------------------------------- phase 3
# a commune SIGKILLed with revisions it has not sent
wait_for 10 sh -c "[ \"\$('$NODE' status --dir '$TMP/e$C' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"pending\"])')\" = 0 ]"
W1=$(proxy_stat "w$C" up_bytes)
t3=$(now_ms)
sub $C 5001; sub $C 5002
kill9 "e$C"                              # perhaps before its next poll (100 ms)
sub $C 5003; sub $C 5004                 # while it is dead: surely unsent
expect_ok "phase 3: $C status while dead" "$NODE" status --dir "$TMP/e$C" --json
np=$(printf '%s' "$LAST_OUT" | json_get pending)
[ "$np" -ge 2 ] && ok "phase 3: $C has $np revisions pending after SIGKILL" || bad "phase 3: $C has $np pending, wanted >= 2"
restart "e$C" "$NODE" "$TMP/e$C"
eval "r=\$REV_$C"
wait_for 30 has_rev "$HUB" "$P" $FORM $PER $C "$r" && ok "phase 3: province holds $C rev $r after its restart" ||
    bad "phase 3: province lacks $C rev $r" "$(tail -n 8 "$TMP/e$C.log")"
expect_eq "phase 3: province TT01 of $C is the last value" "$(value "$HUB" "$P" $FORM $PER $C TT01)" 5004
h=$(revs "$HUB" "$P" $FORM $PER $C)
expect_eq "phase 3: province history of $C lists each rev once, ending at $r" \
    "$(printf '%s\n' "$h" | python3 -c 'import sys; r=[int(x) for x in sys.stdin.read().split()]; print(r == sorted(set(r)), r[-1] if r else None)')" "True $r"
wait_for 10 sh -c "[ \"\$('$NODE' status --dir '$TMP/e$C' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"pending\"])')\" = 0 ]" &&
    ok "phase 3: nothing pending at $C" || bad "phase 3: $C still has $(pending "$NODE" "$TMP/e$C") pending"
W2=$(proxy_stat "w$C" up_bytes)
T3=$((($(now_ms) - t3 + 999) / 1000))
WD=$((W2 - W1))
echo "# phase 3: $C sent $WD bytes up in $T3 s (its whole phase 1 and 2: $W1)"
[ "$WD" -le $((4 * 2048 + 8192 + IDLE_RATE * T3)) ] &&
    ok "phase 3: $C's link carried $WD bytes <= 4 x 2 KiB + 8 KiB + heartbeats: only the new revisions" ||
    bad "phase 3: $C's link carried $WD bytes after its restart (it had sent $W1 in all before)"
sum=$(($(value "$HUB" "$P" $FORM $PER $A TT01) + $(value "$HUB" "$P" $FORM $PER $C TT01)))
expect_eq "province total TT01 = $LAST_25456 + 5004" "$sum" $((LAST_25456 + 5004))

# ------------------------------------------------------------ shut down
for n in e$A e$C d703 p72; do
    stop "$n"
    expect_eq "$n stops cleanly on SIGTERM" "$STOP_RC" 0
done
for n in z703 w$A w$C; do
    stop "$n"
    expect_eq "byte counter $n stops cleanly" "$STOP_RC" 0
done
expect_eq "byte counter z703 never cut" "$(json_get cuts <"$TMP/z703.stats")" 0
if found=$(sanitizer_clean "$TMP/p72.log" "$TMP/d703.log" "$TMP/e$A.log" "$TMP/e$C.log"); then
    ok "no sanitizer report in any daemon log"
else
    bad "sanitizer report in: $found"
fi
th_summary
