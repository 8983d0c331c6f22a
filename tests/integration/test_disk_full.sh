#!/bin/sh
# A full disk loses nothing. Province 80 (2025 tree) <- communes 25459 and
# 25480; the data directories of 25459 and of the province each live on a
# small tmpfs of their own (4 MiB), filled up on purpose with a file.
#   1. 25459's disk is full: its submit is refused with a Vietnamese
#      message and a non-zero exit; what it stored before is intact; its
#      daemon keeps running and its earlier report is still delivered; the
#      province and the other commune do not notice.
#   2. The province's disk is full: 25480's corrections stop being taken
#      (no ACK, so the commune keeps them pending), the province keeps
#      running and answering reads; once space returns they arrive by
#      themselves, each once.
#   3. 25459's disk has room again: it submits, and the report arrives.
# Needs root (mount -t tmpfs); without it the script says so and skips.
#
#   sh tests/integration/test_disk_full.sh build/asan
set -u
O=${1:-build/asan}
. tests/integration/lib.sh
fast_python


MOUNTS=""
th_cleanup_hook() {
    for m in $MOUNTS; do umount -l "$m" 2>/dev/null; done
}
for d in fc fp; do
    mkdir -p "$TMP/$d"
    if ! mount -t tmpfs -o size=4m,mode=0700 tmpfs "$TMP/$d" 2>/dev/null; then
        echo "skipped: cannot mount a tmpfs here (needs root): the disk-full checks did not run"
        th_cleanup_hook
        th_summary
        exit 0
    fi
    MOUNTS="$MOUNTS $TMP/$d"
done

# fill DIR: a file takes every free byte of DIR's filesystem
fill() { dd if=/dev/zero of="$1/filler" bs=64k 2>/dev/null; sync; }
unfill() { rm -f "$1/filler"; }

P=$TMP/fp/p80
expect_ok "init province hub 80 on a small disk" "$HUB" init --dir "$P" --unit 80 --bind "$ANY"
PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$P"
start_proxy l80 "$P" 1 || bad "link proxy to 80 did not start"
C=$TMP/fc/c25459
D=$TMP/c25480
for pair in "$C:25459" "$D:25480"; do
    dir=${pair%:*}; c=${pair##*:}
    expect_ok "init commune $c" "$NODE" init --dir "$dir" --unit "$c" --parent "$LINK_EP" --parent-key "$PK"
    k=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
    fast_sync "$dir"
    expect_ok "enroll $c" "$HUB" enroll --dir "$P" --unit "$c" --key "$k"
done
start p80 "$HUB" "$P"
start c25480 "$NODE" "$D"
# shellcheck disable=SC2046
expect_ok "25459 submits its report" "$NODE" submit --dir "$C" --form dvcq-nam --period 2026 $(report 10)
# shellcheck disable=SC2046
expect_ok "25480 submits its report" "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 $(report 20)
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2026 25480 1 && ok "province holds 25480 rev 1" || bad "province lacks 25480 rev 1"

# ---- 1. the commune's disk is full
fill "$TMP/fc"
expect_in "25459's disk is full" "100%" "$(df "$TMP/fc" | tail -n 1)"
expect_exit 1 "25459's correction is refused" "$NODE" submit --dir "$C" --form dvcq-nam --period 2026 TT01=11
expect_in "with a clear Vietnamese message" "Ổ đĩa chứa dữ liệu của văn phòng đã đầy" "$LAST_OUT"
expect_in "that says nothing earlier is lost and what to do" "các báo cáo đã lưu trước đó vẫn nguyên vẹn. Hãy giải phóng" "$LAST_OUT"
expect_eq "25459 still holds rev 1, intact" "$(revs "$NODE" "$C" dvcq-nam 2026 25459)" 1
expect_ok "25459's report reads back with a valid signature" "$NODE" show --dir "$C" --form dvcq-nam --period 2026 --json
expect_eq "signature valid" "$(printf '%s' "$LAST_OUT" | json_get signature)" valid
start c25459 "$NODE" "$C"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2026 25459 1 &&
    ok "25459's daemon runs on its full disk and still delivers what it holds" ||
    bad "25459's report never arrived from a full disk" "$(tail -n 10 "$TMP/c25459.log")"
alive c25459 && ok "25459's daemon is still running" || bad "25459's daemon died" "$(tail -n 20 "$TMP/c25459.log")"

# ---- 2. the province's disk is full
# (LMDB reuses the free pages of its file: a commit needs the disk only
# when the file must grow, so the commune sends corrections with long
# texts until the province can no longer store them)
fill "$TMP/fp"
expect_in "the province's disk is full" "100%" "$(df "$TMP/fp" | tail -n 1)"
long=$(python3 -c 'print("Nội dung dài " * 180)')
# until a correction stays unstored for 3 s (a write of something else may
# fail first, and a later commit may still fit in pages LMDB freed)
k=0; sent=0; held=1
while [ $k -lt 40 ]; do
    k=$((k + 1))
    "$NODE" submit --dir "$D" --form dvcq-nam --period 2026 TT01=$((20 + k)) ND01="$long $k" >/dev/null 2>&1 </dev/null &&
        sent=$k
    sleep 0.3
    if grep -q "no space left on the disk" "$TMP/p80.log"; then
        sleep 3
        held=$(revs "$HUB" "$P" dvcq-nam 2026 25480 | wc -w)
        [ "$held" -lt $((sent + 1)) ] && break
    fi
done
LASTV=$((20 + sent))
expect_in "the province ran out of room, and says so in its log" "no space left on the disk" "$(cat "$TMP/p80.log")"
[ "$held" -lt $((sent + 1)) ] && ok "the province holds $held of 25480's $((sent + 1)) revisions: the rest did not fit" ||
    bad "the province holds all $held revisions of 25480"
[ "$(pending "$NODE" "$D")" -ge 1 ] && ok "25480 keeps $(pending "$NODE" "$D") pending (no ACK without a commit)" ||
    bad "25480 has nothing pending although the province could not store"
alive p80 && ok "the province keeps running on a full disk" || bad "the province died" "$(tail -n 20 "$TMP/p80.log")"
expect_ok "the province still answers a rollup" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2026 --format json
expect_ok "and a show" "$HUB" show --dir "$P" --form dvcq-nam --period 2026 --unit 25480 --json
expect_eq "what it holds reads back signed" "$(printf '%s' "$LAST_OUT" | json_get signature)" valid
unfill "$TMP/fp"
wait_for 40 has_rev "$HUB" "$P" dvcq-nam 2026 25480 $((sent + 1)) &&
    ok "once space returns, every correction arrives by itself" || bad "25480's last correction never arrived" "$(tail -n 10 "$TMP/p80.log")"
expect_eq "each applied once, in order" "$(revs "$HUB" "$P" dvcq-nam 2026 25480 | python3 -c 'import sys; r=[int(x) for x in sys.stdin.read().split()]; print(r == sorted(set(r)), r[-1])')" "True $((sent + 1))"
expect_eq "the province's TT01 of 25480 is the last submitted" "$(value "$HUB" "$P" dvcq-nam 2026 25480 TT01)" "$LASTV"

# ---- 3. the commune's disk has room again
unfill "$TMP/fc"
expect_ok "25459 submits its correction again" "$NODE" submit --dir "$C" --form dvcq-nam --period 2026 TT01=11
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2026 25459 2 && ok "and it arrives" || bad "25459 rev 2 never arrived"
expect_ok "rollup after the faults" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2026 --format json
expect_eq "the province's TT01 = 11 + $LASTV" "$(printf '%s' "$LAST_OUT" | json_get values.TT01)" $((11 + LASTV))

for n in c25459 c25480 p80; do
    stop "$n"
    expect_eq "$n stops cleanly" "$STOP_RC" 0
done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report in the daemons' logs" || bad "sanitizer report"
th_summary
