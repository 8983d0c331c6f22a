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

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# fast_sync DIR: link timings for tests (seconds matter, not minutes)
fast_sync() {
    sed -i -e 's/^heartbeat_ms = .*/heartbeat_ms = 200/' -e 's/^timeout_ms = .*/timeout_ms = 1500/' \
        -e 's/^retry_max_ms = .*/retry_max_ms = 800/' -e 's/^poll_ms = .*/poll_ms = 100/' \
        "$1/tonghop.ini"
}

# start NAME BIN DIR: runs "BIN run --dir DIR" in the background, log in $TMP/NAME.log
start() {
    TONGHOP_LOG=${TONGHOP_LOG_LEVEL:-info} "$2" run --dir "$3" >"$TMP/$1.log" 2>&1 &
    eval "PID_$1=$!"
    PIDS="$PIDS $!"
}

# stop NAME: SIGTERM and wait; sets STOP_RC to the exit status
stop() {
    eval "p=\$PID_$1"
    kill -TERM "$p" 2>/dev/null
    wait "$p"
    STOP_RC=$?
}

# wait_for SECONDS CMD...: retries CMD (quietly) until it succeeds
wait_for() {
    limit=$1; shift
    i=0
    while [ $i -lt $((limit * 10)) ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# has_rev BIN DIR FORM PERIOD UNIT REV: the office at DIR holds UNIT's report at REV
has_rev() {
    r=$("$1" show --dir "$2" --form "$3" --period "$4" --unit "$5" --json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["rev"])' 2>/dev/null)
    [ "$r" = "$6" ]
}

# value BIN DIR FORM PERIOD UNIT CODE: the value of CODE in UNIT's current report
value() {
    "$1" show --dir "$2" --form "$3" --period "$4" --unit "$5" --json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["values"].get(sys.argv[1]))' "$6"
}
