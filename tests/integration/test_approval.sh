#!/bin/sh
# Approval where a level requires it (issue 12): district 703 of province
# 72 (the 2024 tree) approves ([hub] approve = yes) its communes' reports
# before they count there and go up; district 705 does not. The clerk sees
# "đã duyệt", or the return reason. Real processes on 127.0.0.1.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh

P=$TMP/p72
tiers72 "$P"
sed -i 's/^approve = no$/approve = yes/' "$TMP/d703/tonghop.ini"
expect_in "init wrote the approve key" "approve = yes" "$(cat "$TMP/d703/tonghop.ini")"
n=0
for c in 25456 25459 25486; do
    n=$((n + 1))
    # shellcheck disable=SC2046
    expect_ok "$c submits" "$NODE" submit --dir "$TMP/e$c" --form dvcq-nam --period 2024 $(report $((n * 10)))
done
# shellcheck disable=SC2046
expect_ok "703 reports its own work" "$HUB" submit --dir "$TMP/d703" --form dvcq-nam --period 2024 $(report 100)
start p72 "$HUB" "$P"
for d in 703 705; do start "d$d" "$HUB" "$TMP/d$d"; done
for c in 25456 25459 25486; do start "e$c" "$NODE" "$TMP/e$c"; done

wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25486 1 && ok "705's commune goes up at once" || bad "25486 did not reach the province"
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 703 1 && ok "703's own report goes up at once" || bad "703 did not reach the province"
for c in 25456 25459; do
    wait_for 30 has_rev "$HUB" "$TMP/d703" dvcq-nam 2024 "$c" 1 && ok "703 holds $c" || bad "703 lacks $c"
done
sleep 2
for c in 25456 25459; do
    has_rev "$HUB" "$P" dvcq-nam 2024 "$c" 1 && bad "$c reached the province unapproved" || ok "$c waits at 703 for approval"
done
expect_ok "completeness at 703" "$HUB" completeness --dir "$TMP/d703" --form dvcq-nam --period 2024 --format json
expect_eq "703: both communes await approval, neither counts yet" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); u={x["unit"]: (x["status"], x["awaiting_approval"]) for x in d["units"]}; print(d["totals"]["awaiting_approval"], u["25456"], u["25459"], u["703"])')" "2 ('missing', True) ('missing', True) ('late', False)"
expect_ok "completeness table" "$HUB" completeness --dir "$TMP/d703" --form dvcq-nam --period 2024
expect_in "  ... lists what awaits approval" "Đơn vị có báo cáo chờ duyệt" "$LAST_OUT"
expect_ok "rollup at 703 before approval" "$HUB" rollup --dir "$TMP/d703" --form dvcq-nam --period 2024 --format json
expect_eq "703: only its own report counts" "$(printf '%s' "$LAST_OUT" | json_get values.TT01)" 100

expect_ok "703 approves 25456" "$HUB" approve --dir "$TMP/d703" --form dvcq-nam --period 2024 --unit 25456
expect_in "  ... and says so" "Đã duyệt báo cáo dvcq-nam kỳ 2024 của đơn vị 25456 (lần 1)" "$LAST_OUT"
expect_exit 1 "approving it twice is refused" "$HUB" approve --dir "$TMP/d703" --form dvcq-nam --period 2024 --unit 25456
expect_in "  ... saying it is approved already" "đã được duyệt" "$LAST_OUT"
expect_exit 1 "a hub that does not approve refuses approve" "$HUB" approve --dir "$P" --form dvcq-nam --period 2024 --unit 25486
expect_in "  ... and says why" "approve = no" "$LAST_OUT"
expect_exit 1 "approve of a unit outside the hub is refused" "$HUB" approve --dir "$TMP/d703" --form dvcq-nam --period 2024 --unit 25486
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25456 1 && ok "approved, 25456 goes up" || bad "25456 did not go up after approval" "$(tail -5 "$TMP/d703.log")"
approved_at() {
    "$NODE" status --dir "$1" --json 2>/dev/null |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["reports"][0]; sys.exit(0 if r.get("approved", {}).get("by") == "703" and r["approved"]["rev"] == r["rev"] else 1)'
}
wait_for 30 approved_at "$TMP/e25456" && ok "25456's clerk sees the approval" || bad "no approval at 25456" "$("$NODE" status --dir "$TMP/e25456" --json)"
expect_ok "status text at 25456" "$NODE" status --dir "$TMP/e25456"
expect_in "  ... says ĐÃ DUYỆT" "ĐÃ DUYỆT (703" "$LAST_OUT"

expect_ok "703 returns 25459" "$HUB" return --dir "$TMP/d703" --form dvcq-nam --period 2024 --unit 25459 --reason 'Số hồ sơ đúng hạn lớn hơn số tiếp nhận'
wait_for 30 sh -c "'$NODE' status --dir '$TMP/e25459' | grep -q 'TRẢ LẠI ĐỂ SỬA'" && ok "25459's clerk sees the return" || bad "no return at 25459"
expect_ok "25459 corrects" "$NODE" submit --dir "$TMP/e25459" --form dvcq-nam --period 2024 TT01=25
wait_for 30 has_rev "$HUB" "$TMP/d703" dvcq-nam 2024 25459 2 && ok "703 holds the correction" || bad "703 lacks 25459 rev 2"
# the correction approved in 703's web interface this time
WEB=$(daemon_field "$HUB" "$TMP/d703" web)
expect_ok "703 approves the correction on the unit page" python3 - "$WEB" <<'PY'
import http.cookiejar, re, sys, urllib.parse, urllib.request
base = sys.argv[1].rstrip("/")
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
q = "form=dvcq-nam&period=2024&unit=25459"
page = op.open(base + "/hub/unit?" + q, timeout=10).read().decode()
assert "Lần 2 đang chờ duyệt" in page, "the page does not say it awaits approval"
tok = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
body = urllib.parse.urlencode({"csrf": tok, "form": "dvcq-nam", "period": "2024",
                               "unit": "25459"}).encode()
r = op.open(base + "/hub/approve", body, timeout=10)
assert "approved=1" in r.geturl(), r.geturl()
page = r.read().decode()
assert "Đã duyệt báo cáo" in page and "đang chờ duyệt" not in page, "not shown as approved"
PY
wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 25459 2 && ok "the approved correction goes up" || bad "25459 rev 2 did not go up"
expect_eq "rev 1, returned and never approved, never went up" "$(revs "$HUB" "$P" dvcq-nam 2024 25459)" 2
expect_eq "703 keeps both revisions" "$(revs "$HUB" "$TMP/d703" dvcq-nam 2024 25459)" "1 2"
expect_ok "rollup at the province" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --format json
expect_eq "province total: 10 + 25 + 30 + 100" "$(printf '%s' "$LAST_OUT" | json_get values.TT01)" 165
expect_ok "rollup at 703 after approval" "$HUB" rollup --dir "$TMP/d703" --form dvcq-nam --period 2024 --format json
expect_eq "703: its own and the two approved" "$(printf '%s' "$LAST_OUT" | json_get values.TT01)" 135

for nm in e25456 e25459 e25486 d703 d705 p72; do stop "$nm"; done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report" || bad "sanitizer report in a log"
th_summary
