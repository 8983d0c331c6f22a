# Shared helpers of the integration scripts (POSIX sh). Source it after
# setting O (the build directory). Each check prints ok/FAIL; th_summary
# prints the "N passed, N failed" line and sets the exit status.
PASS=0
FAIL=0
TMP=$(mktemp -d /tmp/tonghop-it.XXXXXX)
NODE="$O/tonghop-node"
HUB="$O/tonghop-hub"
PIDS=""

th_cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap th_cleanup EXIT INT TERM

ok()   { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/       /'; }

# expect_ok NAME CMD...: the command exits 0
expect_ok() {
    name=$1; shift
    if out=$("$@" 2>&1); then ok "$name"; else bad "$name (exit $?)" "$out"; fi
    LAST_OUT=$out
}

# expect_exit CODE NAME CMD...: the command exits with CODE
expect_exit() {
    code=$1; name=$2; shift 2
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" -eq "$code" ]; then ok "$name"; else bad "$name (exit $rc, wanted $code)" "$out"; fi
    LAST_OUT=$out
}

# expect_in NAME NEEDLE TEXT: TEXT contains NEEDLE
expect_in() {
    case "$3" in
        *"$2"*) ok "$1" ;;
        *) bad "$1: '$2' not found" "$3" ;;
    esac
}

expect_not_in() {
    case "$3" in
        *"$2"*) bad "$1: '$2' found" "$3" ;;
        *) ok "$1" ;;
    esac
}

expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: '$2' != '$3'"; fi
}

# jq-free JSON field reading through python3 when present, else grep.
json_get() {
    python3 -c 'import json,sys
d=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[int(k)] if isinstance(d, list) else d[k]
print(json.dumps(d) if isinstance(d,(dict,list)) else d)' "$1"
}

th_summary() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
