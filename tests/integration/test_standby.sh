#!/bin/sh
# The standby province hub (issue 14, docs/operations.md §8): province 80
# (2025 tree) under the ministry's root VN, with three communes. A warm
# copy of the province's data directory is taken while it runs (mdb_copy
# -c of the store, the seal key, the identity key, the configuration); the
# communes go on reporting; the main hub is destroyed (SIGKILL, directory
# deleted); the standby starts from the copy, the communes are pointed at
# it, resend what the copy lacks, and the national and provincial totals
# equal what the clerks submitted last. Real processes on 127.0.0.1.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh

V=$TMP/vn
expect_ok "init the national root VN" "$HUB" init --dir "$V" --unit VN --bind "$ANY"
VK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$V"
start_proxy lvn "$V" 1 || bad "link proxy to VN did not start"
P=$TMP/p80
expect_ok "init province 80 under VN" "$HUB" init --dir "$P" --unit 80 --bind "$ANY" --parent "$LINK_EP" --parent-key "$VK"
PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$P"
expect_ok "enroll 80 at VN" "$HUB" enroll --dir "$V" --unit 80 --key "$PK"
start_proxy l80 "$P" 2 || bad "link proxy to 80 did not start"
for c in 25459 25480 25567; do
    expect_ok "init commune $c" "$NODE" init --dir "$TMP/c$c" --unit "$c" --parent "$EP_l80" --parent-key "$PK"
    fast_sync "$TMP/c$c"
    expect_ok "enroll $c at 80" "$HUB" enroll --dir "$P" --unit "$c" --key "$("$NODE" key --dir "$TMP/c$c")"
done
# shellcheck disable=SC2046
expect_ok "25459 reports" "$NODE" submit --dir "$TMP/c25459" --form dvcq-nam --period 2026 $(report 10)
# shellcheck disable=SC2046
expect_ok "25480 reports" "$NODE" submit --dir "$TMP/c25480" --form dvcq-nam --period 2026 $(report 20)
start vn "$HUB" "$V"
start p80 "$HUB" "$P"
for c in 25459 25480 25567; do start "c$c" "$NODE" "$TMP/c$c"; done
for c in 25459 25480; do
    wait_for 30 has_rev "$HUB" "$V" dvcq-nam 2026 "$c" 1 && ok "VN holds $c" || bad "VN lacks $c"
done

# ---- the warm copy, taken while the province runs
S=$TMP/standby
mkdir -p "$S/store" && chmod 700 "$S"
expect_ok "mdb_copy -c of the live store" mdb_copy -c "$P/store" "$S/store"
expect_ok "copy the seal key, identity and configuration" cp -p "$P/store/seal.key" "$P/identity.key" "$P/tonghop.ini" "$S/"
mv "$S/seal.key" "$S/store/seal.key"
expect_ok "the copy opens" "$HUB" status --dir "$S" --json

# ---- reports after the copy: the copy lacks them
expect_ok "25459 corrects" "$NODE" submit --dir "$TMP/c25459" --form dvcq-nam --period 2026 TT01=15
# shellcheck disable=SC2046
expect_ok "25567 reports" "$NODE" submit --dir "$TMP/c25567" --form dvcq-nam --period 2026 $(report 30)
wait_for 30 has_rev "$HUB" "$V" dvcq-nam 2026 25459 2 && ok "VN holds the correction" || bad "VN lacks 25459 rev 2"
wait_for 30 has_rev "$HUB" "$V" dvcq-nam 2026 25567 1 && ok "VN holds 25567" || bad "VN lacks 25567"
has_rev "$HUB" "$S" dvcq-nam 2026 25567 1 && bad "the copy already has 25567" || ok "the copy lacks 25567 (taken before)"

# ---- the main province hub is lost
kill9 p80
rm -rf "$P"
ok "the main province hub is destroyed"
# shellcheck disable=SC2046
expect_ok "25480 corrects while the province is down" "$NODE" submit --dir "$TMP/c25480" --form dvcq-nam --period 2026 TT01=25

# ---- the standby takes over: its own address; the communes are pointed at it
start standby "$HUB" "$S"
start_proxy lS "$S" 3 || bad "link proxy to the standby did not start"
for c in 25459 25480 25567; do
    stop "c$c"
    sed -i "s|^endpoint = .*|endpoint = $EP_lS|" "$TMP/c$c/tonghop.ini"
    restart "c$c" "$NODE" "$TMP/c$c"
done
wait_for 40 has_rev "$HUB" "$S" dvcq-nam 2026 25459 2 && ok "the standby got 25459's correction again" || bad "standby lacks 25459 rev 2" "$(tail -5 "$TMP/standby.log")"
wait_for 40 has_rev "$HUB" "$S" dvcq-nam 2026 25567 1 && ok "the standby got 25567's report again" || bad "standby lacks 25567"
wait_for 40 has_rev "$HUB" "$S" dvcq-nam 2026 25480 2 && ok "the standby got the correction made while down" || bad "standby lacks 25480 rev 2"
wait_for 40 has_rev "$HUB" "$V" dvcq-nam 2026 25480 2 && ok "VN got it through the standby" || bad "VN lacks 25480 rev 2" "$(tail -5 "$TMP/standby.log")"
pending0() { "$NODE" status --dir "$1" --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["pending"] == 0 else 1)'; }
for c in 25459 25480 25567; do
    wait_for 30 pending0 "$TMP/c$c" && ok "nothing pending at $c" || bad "$c still has pending entries"
done

tt() {
    "$HUB" rollup --dir "$1" --form dvcq-nam --period 2026 ${2:+--unit "$2"} --format json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["values"]["TT01"])'
}
expect_eq "the standby's total: 15 + 25 + 30, what the clerks submitted last" "$(tt "$S")" 70
expect_eq "the national total, the same" "$(tt "$V")" 70
expect_eq "VN holds each report once, at its last revision" "$(for c in 25459 25480 25567; do "$HUB" show --dir "$V" --form dvcq-nam --period 2026 --unit "$c" --json | json_get rev; done | tr '\n' ' ')" "2 2 1 "

for n in c25459 c25480 c25567 standby vn; do stop "$n"; done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report" || bad "sanitizer report in a log"
th_summary
