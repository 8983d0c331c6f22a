#!/bin/sh
# tonghop-{node,hub} doctor (issue 14): what an operator gets wrong, said
# in Vietnamese and English, exit 1 only when a check fails. A province hub
# running on 127.0.0.1, a commune that reaches it, one whose parent address
# is wrong, a key readable by others, a web interface beyond loopback.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh

P=$TMP/p80
expect_ok "init province 80" "$HUB" init --dir "$P" --unit 80 --bind "$ANY"
PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fast_sync "$P"
expect_ok "doctor on a fresh hub" "$HUB" doctor --dir "$P"
expect_in "  ... says the daemon is not running" "Tiến trình dịch vụ chưa chạy" "$LAST_OUT"
expect_in "  ... in English too" "no daemon runs on this directory" "$LAST_OUT"
start p80 "$HUB" "$P"
EP=$(hub_ep "$P")
expect_ok "init commune 25459 with the hub's address" "$NODE" init --dir "$TMP/c1" --unit 25459 --parent "$EP" --parent-key "$PK"
fast_sync "$TMP/c1"
expect_ok "enroll it" "$HUB" enroll --dir "$P" --unit 25459 --key "$("$NODE" key --dir "$TMP/c1")"
expect_ok "doctor: the parent answers" "$NODE" doctor --dir "$TMP/c1" --json
expect_eq "  ... parent ok, clock not compared yet" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; d={f["check"]: f["level"] for f in json.load(sys.stdin)["findings"]}; print(d["parent"], d["clock"])')" "ok warn"
start c1 "$NODE" "$TMP/c1"
clock_ok() { "$NODE" doctor --dir "$TMP/c1" --json | python3 -c 'import json,sys; sys.exit(0 if [f for f in json.load(sys.stdin)["findings"] if f["check"]=="clock" and f["level"]=="ok"] else 1)'; }
wait_for 20 clock_ok && ok "after a connection the clock is compared with the parent's" || bad "clock not compared" "$("$NODE" doctor --dir "$TMP/c1")"
expect_ok "doctor text on a healthy commune" "$NODE" doctor --dir "$TMP/c1"
expect_in "  ... no problem" "Không có lỗi. / No problem found." "$LAST_OUT"

expect_ok "init commune 25480 with a wrong parent address" "$NODE" init --dir "$TMP/c2" --unit 25480 --parent tcp://127.0.0.1:1 --parent-key "$PK"
expect_exit 1 "doctor: the parent is unreachable" "$NODE" doctor --dir "$TMP/c2"
expect_in "  ... says so in Vietnamese" "Không kết nối được tới cấp trên tcp://127.0.0.1:1" "$LAST_OUT"
expect_in "  ... and what to check" "tường lửa" "$LAST_OUT"
chmod 644 "$TMP/c2/identity.key"
expect_exit 1 "doctor: a key readable by others" "$NODE" doctor --dir "$TMP/c2"
expect_in "  ... and the command that fixes it" "chmod 600 '$TMP/c2/identity.key'" "$LAST_OUT"
chmod 600 "$TMP/c2/identity.key"
sed -i 's/^listen = .*/listen = 0.0.0.0:0/' "$TMP/c2/tonghop.ini"
expect_exit 1 "doctor: web beyond loopback (and the parent still wrong)" "$NODE" doctor --dir "$TMP/c2" --json
expect_eq "  ... two web warnings: no user for the login, plain HTTP" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; print([f["level"] for f in json.load(sys.stdin)["findings"] if f["check"]=="web"])')" "['warn', 'warn']"
expect_exit 1 "doctor on a directory that is not one" "$NODE" doctor --dir "$TMP/nothing"
expect_in "  ... says to init" "tạo văn phòng bằng lệnh init" "$LAST_OUT"
expect_exit 2 "doctor takes no argument" "$NODE" doctor --dir "$TMP/c1" extra

for n in c1 p80; do stop "$n"; done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report" || bad "sanitizer report in a log"
th_summary
