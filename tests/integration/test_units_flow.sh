#!/bin/sh
# Unit lists flow down (protocol META kind 2, issue 12): the root of a
# three-tier tree (province 72 of the 2024 tree ← districts 703, 705 ← four
# communes) publishes a new version of its unit list (`units add` of a
# department): it reaches every office, is applied once (also across a
# district's restart), the reports already held stay, and a later version
# follows. Real processes on 127.0.0.1.
set -u
O=${1:-build/asan}
. tests/integration/lib.sh

P=$TMP/p72
tiers72 "$P"
OFFICES="d703 d705 e25456 e25459 e25486 e25489"
n=0
for c in 25456 25459 25486 25489; do
    n=$((n + 1))
    # shellcheck disable=SC2046
    expect_ok "$c submits its 2024 report" "$NODE" submit --dir "$TMP/e$c" --form dvcq-nam --period 2024 $(report $((n * 10)))
done
start p72 "$HUB" "$P"
for d in 703 705; do start "d$d" "$HUB" "$TMP/d$d"; done
for c in 25456 25459 25486 25489; do start "e$c" "$NODE" "$TMP/e$c"; done
for c in 25456 25459 25486 25489; do
    wait_for 30 has_rev "$HUB" "$P" dvcq-nam 2024 "$c" 1 && ok "the province holds $c" || bad "the province lacks $c"
done

# version of unit list vn-2024 at the office in DIR (status --json), BIN given
uv() {
    "$1" status --dir "$2" --json 2>/dev/null |
        python3 -c 'import json,sys; print([u["version"] for u in json.load(sys.stdin)["units"] if u["set"]=="vn-2024"][0])'
}
bin_of() { case "$1" in d*) echo "$HUB" ;; *) echo "$NODE" ;; esac; }
at_version() { [ "$(uv "$(bin_of "$1")" "$TMP/$1")" = "$2" ]; }

expect_eq "every office starts at version 1" "$(for x in $OFFICES; do uv "$(bin_of "$x")" "$TMP/$x"; done | sort -u)" 1
# old Tây Ninh (72) is in no list in force today: its hub adds its departments
# to the 2024 tree it consolidates
expect_ok "the root adds a department (version 2)" "$HUB" units add --dir "$P" --code 72-SNV --name 'Sở Nội vụ' --level department
expect_eq "the root is at version 2" "$(uv "$HUB" "$P")" 2
for x in $OFFICES; do
    wait_for 30 at_version "$x" 2 && ok "version 2 reached $x" || bad "version 2 did not reach $x" "$(tail -5 "$TMP/$x.log")"
done
applied() { grep -c "unit list vn-2024 version $2 received from the parent" "$TMP/$1.log"; }
for x in $OFFICES; do
    expect_eq "$x applied version 2 once" "$(applied "$x" 2)" 1
done
expect_exit 1 "a commune's store knows the department now (no report yet)" "$NODE" show --dir "$TMP/e25459" --form dvcq-nam --period 2024 --unit 72-SNV
expect_in "  ... by its name (no report yet)" "72-SNV — Sở Nội vụ" "$LAST_OUT"

# the reports already held stay, and still count
expect_ok "rollup at the province" "$HUB" rollup --dir "$P" --form dvcq-nam --period 2024 --format json
expect_eq "the four reports still count: TT01 = 10 + 20 + 30 + 40" "$(printf '%s' "$LAST_OUT" | json_get values.TT01)" 100
expect_eq "the department is expected now" "$(printf '%s' "$LAST_OUT" | python3 -c 'import json,sys; print([g["reporting"]["expected"] for g in json.load(sys.stdin)["groups"] if g["level"]=="department"])')" "[1]"
for c in 25456 25459 25486 25489; do
    has_rev "$NODE" "$TMP/e$c" dvcq-nam 2024 "$c" 1 && ok "$c still holds its report" || bad "$c lost its report"
done

# applied once: a district that restarts and says HELLO again gets nothing new
stop d703
start d703b "$HUB" "$TMP/d703"
sleep 3
expect_eq "d703 restarted: version 2 not applied again" "$(grep -c 'unit list vn-2024 version 2 received' "$TMP/d703.log" "$TMP/d703b.log" | awk -F: '{ s += $2 } END { print s }')" 1
for c in 25456 25459; do
    expect_eq "e$c, below the restarted district, applied it once" "$(applied "e$c" 2)" 1
done

# a later version follows
expect_ok "the root adds a second department (version 3)" "$HUB" units add --dir "$P" --code 72-STP --name 'Sở Tư pháp' --level department
for x in $OFFICES; do
    wait_for 30 at_version "$x" 3 && ok "version 3 reached $x" || bad "version 3 did not reach $x"
done
expect_eq "nobody was told it left the tree" "$(for x in $OFFICES; do "$(bin_of "$x")" status --dir "$TMP/$x" --json | python3 -c 'import json,sys; print("units_notice" in json.load(sys.stdin))'; done | sort -u)" False

for nm in e25456 e25459 e25486 e25489 d703b d705 p72; do stop "$nm"; done
sanitizer_clean "$TMP"/*.log && ok "no sanitizer report" || bad "sanitizer report in a log"
th_summary
