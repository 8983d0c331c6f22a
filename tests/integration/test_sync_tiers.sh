#!/bin/sh
# Real processes on 127.0.0.1: two tiers (province 80 of the 2025 tree ←
# 3 communes) and three tiers (province 72 of the 2024 tree ← districts
# 703, 705 ← 4 communes). Every submitted revision reaches the root; a
# correction replaces, never adds; an unenrolled office gets nothing.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh


# ---------------------------------------------------------------- two tiers
P=$TMP/p80
expect_ok "init province hub 80" "$HUB" init --dir "$P" --unit 80 --bind "$ANY"
PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
start_proxy l80 "$P" 1 || bad "link proxy to 80 did not start"
PEP=$LINK_EP
fast_sync "$P"
total=0
for c in 25459 25480 25567; do
    expect_ok "init commune $c" "$NODE" init --dir "$TMP/c$c" --unit "$c" --parent "$PEP" --parent-key "$PK"
    k=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
    fast_sync "$TMP/c$c"
    expect_ok "enroll $c at the province" "$HUB" enroll --dir "$P" --unit "$c" --key "$k"
done
expect_exit 1 "enroll refuses a unit outside the province" "$HUB" enroll --dir "$P" --unit 00004 --key "$k"
# reports entered offline, before any link exists
# shellcheck disable=SC2046
expect_ok "25459 submits" "$NODE" submit --dir "$TMP/c25459" --form dvcq-nam --period 2026 $(report 10)
# shellcheck disable=SC2046
expect_ok "25480 submits" "$NODE" submit --dir "$TMP/c25480" --form dvcq-nam --period 2026 $(report 20)
expect_ok "25459 corrects" "$NODE" submit --dir "$TMP/c25459" --form dvcq-nam --period 2026 TT01=11
start p80 "$HUB" "$P"
for c in 25459 25480 25567; do start "c$c" "$NODE" "$TMP/c$c"; done
# a late report while everything runs
# shellcheck disable=SC2046
expect_ok "25567 submits while running" "$NODE" submit --dir "$TMP/c25567" --form dvcq-nam --period 2026 $(report 30)
wait_for 20 has_rev "$HUB" "$P" dvcq-nam 2026 25459 2 && ok "province holds 25459 rev 2" || bad "province lacks 25459 rev 2" "$(cat "$TMP/p80.log" | tail -5)"
wait_for 20 has_rev "$HUB" "$P" dvcq-nam 2026 25480 1 && ok "province holds 25480" || bad "province lacks 25480"
wait_for 20 has_rev "$HUB" "$P" dvcq-nam 2026 25567 1 && ok "province holds 25567" || bad "province lacks 25567"
sum=0
for c in 25459 25480 25567; do
    v=$(value "$HUB" "$P" dvcq-nam 2026 "$c" TT01)
    sum=$((sum + ${v:-0}))
done
expect_eq "province total TT01 = 11 + 20 + 30 (the correction replaced)" "$sum" 61
expect_ok "signature checked at the province" "$HUB" show --dir "$P" --form dvcq-nam --period 2026 --unit 25459 --json
expect_eq "record keeps its commune signature" "$(printf '%s' "$LAST_OUT" | json_get signature)" valid
wait_for 10 sh -c "'$NODE' status --dir '$TMP/c25459' --json | grep -q '\"pending\": 0'" && ok "nothing pending at 25459" || bad "25459 still pending" "$("$NODE" status --dir "$TMP/c25459" --json)"
expect_ok "status --json" "$NODE" status --dir "$TMP/c25459" --json
expect_eq "link is up" "$(printf '%s' "$LAST_OUT" | json_get link.state)" up
acked=$(printf '%s' "$LAST_OUT" | json_get acked_seq)
expect_eq "everything acknowledged: acked = last = 2" "$acked:$(printf '%s' "$LAST_OUT" | json_get last_seq)" "2:2"
wait_for 10 sh -c "'$NODE' status --dir '$TMP/c25459' --json | grep -q '\"by\": \"80\"'" && ok "receipt from the province reached the commune" || bad "no receipt at 25459" "$("$NODE" status --dir "$TMP/c25459" --json)"
expect_ok "status text" "$NODE" status --dir "$TMP/c25459"
expect_in "clerk sees the province received rev 2" "tỉnh đã nhận" "$LAST_OUT"
expect_eq "receipt is for the current revision" "$("$NODE" status --dir "$TMP/c25459" --json | python3 -c 'import json,sys; print(max(r["rev"] for r in json.load(sys.stdin)["reports"][0]["receipts"] if r["by"]=="80"))')" 2

# a report on a form the province does not know is rejected, and the clerk sees why
mkdir -p "$TMP/forms"
cat > "$TMP/forms/thu-nghiem.ini" <<'INI'
[form]
id = thu-nghiem
version = 1
title = Biểu thử nghiệm
period_type = yearly
levels = commune
deadline.province = 15/12

[section I]
title = Số liệu

[indicator A1]
label = Số buổi
type = int
INI
expect_ok "init a commune with an extra form" "$NODE" init --dir "$TMP/c25630" --unit 25630 --parent "$PEP" --parent-key "$PK" --forms "$TMP/forms"
k=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$TMP/c25630"
expect_ok "enroll 25630" "$HUB" enroll --dir "$P" --unit 25630 --key "$k"
expect_ok "submit on the unknown form" "$NODE" submit --dir "$TMP/c25630" --form thu-nghiem --period 2026 A1=3
start c25630 "$NODE" "$TMP/c25630"
wait_for 15 sh -c "'$NODE' status --dir '$TMP/c25630' --json | grep -q rejected" && ok "rejection recorded at the commune" || bad "no rejection at 25630" "$(tail -5 "$TMP/c25630.log")"
expect_ok "status text after rejection" "$NODE" status --dir "$TMP/c25630"
expect_in "clerk sees the rejection and why" "BỊ TỪ CHỐI: Biểu mẫu thu-nghiem chưa có" "$LAST_OUT"
expect_exit 1 "province did not store the rejected report" "$HUB" show --dir "$P" --form thu-nghiem --period 2026 --unit 25630
stop c25630

# return for correction: the province sends 25480's report back with a reason
expect_exit 1 "return refuses a unit with no report here" "$HUB" return --dir "$P" --form dvcq-nam --period 2026 --unit 25666 --reason "Thiếu số liệu"
expect_exit 2 "return needs a reason" "$HUB" return --dir "$P" --form dvcq-nam --period 2026 --unit 25480 --reason ""
expect_ok "province returns 25480's report" "$HUB" return --dir "$P" --form dvcq-nam --period 2026 --unit 25480 --reason "Số lượt tiếp công dân chưa khớp sổ theo dõi"
wait_for 15 sh -c "'$NODE' status --dir '$TMP/c25480' | grep -q 'TRẢ LẠI ĐỂ SỬA'" && ok "the clerk sees the report was returned" || bad "no return notice at 25480" "$("$NODE" status --dir "$TMP/c25480")"
expect_in "with the province's reason" "chưa khớp sổ theo dõi" "$("$NODE" status --dir "$TMP/c25480")"
expect_in "show says it too" "trả lại báo cáo này để sửa" "$("$NODE" show --dir "$TMP/c25480" --form dvcq-nam --period 2026)"
expect_eq "status --json has the notice" "$("$NODE" status --dir "$TMP/c25480" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["reports"][0]["returned"]["by"])')" 80
expect_ok "the clerk corrects" "$NODE" submit --dir "$TMP/c25480" --form dvcq-nam --period 2026 TCD01=5
expect_not_in "a new revision clears the notice" "TRẢ LẠI" "$("$NODE" status --dir "$TMP/c25480")"
wait_for 15 has_rev "$HUB" "$P" dvcq-nam 2026 25480 2 && ok "the correction reached the province" || bad "province lacks 25480 rev 2"

# an office with a key the province never enrolled gets nothing
expect_ok "init an unenrolled commune" "$NODE" init --dir "$TMP/rogue" --unit 25666 --parent "$PEP" --parent-key "$PK"
fast_sync "$TMP/rogue"
# shellcheck disable=SC2046
expect_ok "rogue submits locally" "$NODE" submit --dir "$TMP/rogue" --form dvcq-nam --period 2026 $(report 99)
start rogue "$NODE" "$TMP/rogue"
sleep 3
expect_exit 1 "province holds nothing from the unenrolled office" "$HUB" show --dir "$P" --form dvcq-nam --period 2026 --unit 25666
expect_in "province logged the refusal" "refused a connection" "$(cat "$TMP/p80.log")"
expect_ok "rogue status" "$NODE" status --dir "$TMP/rogue" --json
expect_eq "rogue still has its report pending" "$(printf '%s' "$LAST_OUT" | json_get pending)" 1
stop rogue
for n in c25459 c25480 c25567 p80; do
    stop "$n"
    expect_eq "$n stops cleanly on SIGTERM" "$STOP_RC" 0
done

# -------------------------------------------------------------- three tiers
P=$TMP/p72
# the province's own edition of the annual form (version 90, above the shipped one) must reach every office
mkdir -p "$TMP/forms72"
sed -e 's/^version = [0-9]*$/version = 90/' \
    -e 's/^title = .*năm$/title = Báo cáo công tác dân vận chính quyền năm (bản tỉnh 2)/' \
    config/forms/dvcq-nam.ini > "$TMP/forms72/dvcq-nam.ini"
tiers72 "$P" --forms "$TMP/forms72"
n=0
for c in 25456 25459 25486 25489; do
    n=$((n + 1))
    # shellcheck disable=SC2046
    expect_ok "$c submits its 2024 report" "$NODE" submit --dir "$TMP/e$c" --form dvcq-nam --period 2024 $(report $((n * 100)))
done
expect_ok "25459 corrects its 2024 report" "$NODE" submit --dir "$TMP/e25459" --form dvcq-nam --period 2024 TT01=250
start p72 "$HUB" "$P"
for d in 703 705; do start "d$d" "$HUB" "$TMP/d$d"; done
for c in 25456 25459 25486 25489; do start "e$c" "$NODE" "$TMP/e$c"; done
for pair in 25456:1 25459:2 25486:1 25489:1; do
    c=${pair%%:*}; r=${pair##*:}
    wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 "$c" "$r" && ok "province holds $c rev $r through its district" || bad "province lacks $c rev $r" "$(tail -5 "$TMP/p72.log"; tail -5 "$TMP/d703.log")"
done
sum=0
for c in 25456 25459 25486 25489; do
    v=$(value "$HUB" "$P" dvcq-nam 2024 "$c" TT01)
    sum=$((sum + ${v:-0}))
done
expect_eq "province total = 100 + 250 + 300 + 400" "$sum" 1050
sum=0
for c in 25456 25459; do
    v=$(value "$HUB" "$TMP/d703" dvcq-nam 2024 "$c" TT01)
    sum=$((sum + ${v:-0}))
done
expect_eq "district 703 total = 100 + 250" "$sum" 350
wait_for 15 sh -c "'$NODE' forms --dir '$TMP/e25489' | grep -q 'dvcq-nam (phiên bản 90'" && ok "form version 90 reached a commune through its district" || bad "form v90 not at 25489" "$("$NODE" forms --dir "$TMP/e25489")"
expect_in "the district has it too" "bản tỉnh 2" "$("$HUB" forms --dir "$TMP/d705")"
expect_ok "province shows the commune's own signature" "$HUB" show --dir "$P" --form dvcq-nam --period 2024 --unit 25486 --json
expect_eq "signature valid at the province" "$(printf '%s' "$LAST_OUT" | json_get signature)" valid
expect_ok "province history of 25459" "$HUB" show --dir "$P" --form dvcq-nam --period 2024 --unit 25459 --history --json
wait_for 10 sh -c "'$NODE' status --dir '$TMP/e25456' --json | grep -q '\"by\": \"72\"'" && ok "province receipt came down through the district" || bad "no province receipt at 25456" "$("$NODE" status --dir "$TMP/e25456" --json)"
expect_in "district receipt too" '"by": "703"' "$("$NODE" status --dir "$TMP/e25456" --json)"
expect_eq "rev 1, superseded before it was sent, was skipped: the province got rev 2 only" \
    "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; print([x["rev"] for x in json.load(sys.stdin)["revisions"]])')" "[2]"
for n in e25456 e25459 e25486 e25489 d703 d705 p72; do
    stop "$n"
    expect_eq "$n stops cleanly" "$STOP_RC" 0
done
th_summary
