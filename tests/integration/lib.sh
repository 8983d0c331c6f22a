# Shared helpers of the integration scripts (POSIX sh). Source it after
# setting O (the build directory). Each check prints ok/FAIL; th_summary
# prints the "N passed, N failed" line and sets the exit status.
PASS=0
FAIL=0
TMP=$(mktemp -d /tmp/tonghop-it.XXXXXX)
NODE="$O/tonghop-node"
HUB="$O/tonghop-hub"
PIDS=""

# Every process a script starts is in PIDS and is killed by pid, whatever
# ends the script; a signal ends the script (the EXIT trap then cleans up).
# A script may define th_cleanup_hook (e.g. to unmount what it mounted
# under $TMP); it runs after the processes are killed, before $TMP goes.
th_cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    if command -v th_cleanup_hook >/dev/null 2>&1; then th_cleanup_hook; fi
    rm -rf "$TMP"
}
trap th_cleanup EXIT
trap 'echo "interrupted (SIGINT)"; exit 130' INT
trap 'echo "interrupted (SIGTERM)"; exit 143' TERM

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

# report TT01: a full dvcq-nam report whose TT01 is the figure a test adds
# up (scripts may define their own)
report() {
    echo "TT01=$1 TT02=100 TT03=1 TT04=2 DT01=1 DT02=10 LD01=có DVK01=2 DVK02=1 KT01=0 KT02=0 CCHC01=50 CCHC02=45 CCHC04=3 TCD01=4 TCD02=3 TCD03=2 TCD05=1 GS01=1 GS02=2 GS03=1 DC01=có KTR01=0 KTR02=0 DG01=tot ND01=Tốt ND02=Chưa ND03=Tiếp"
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

# Ports: no script picks one. Hubs bind tcp://127.0.0.1:* and the web
# listens on port 0 (the kernel picks, the daemon publishes the address in
# DIR/daemon.json and in status --json); children reach a hub through a
# proxy that picked its own port and follows the hub's daemon.json, so a
# hub may restart on another port behind it (start_proxy, below).
ANY=tcp://127.0.0.1:*

# daemon_field BIN DIR FIELD: FIELD (collector, web, pid) of the daemon
# running on DIR, as status --json publishes it; fails while there is none
daemon_field() {
    df_v=$("$1" status --dir "$2" --json 2>/dev/null </dev/null | json_get "daemon.$3" 2>/dev/null) &&
        [ -n "$df_v" ] && printf '%s\n' "$df_v"
}

# hub_ep DIR: the collector address of the hub daemon running on DIR, once
# it listens (waits up to 20 s; empty and status 1 if it never does)
hub_ep() {
    wait_for 20 daemon_field "$HUB" "$1" collector && daemon_field "$HUB" "$1" collector
}

# fast_sync DIR: link timings for tests (seconds matter, not minutes), and
# the web interface on port 0 of 127.0.0.1 (the kernel picks at start)
fast_sync() {
    sed -i -e 's/^heartbeat_ms = .*/heartbeat_ms = 200/' -e 's/^timeout_ms = .*/timeout_ms = 1500/' \
        -e 's/^retry_max_ms = .*/retry_max_ms = 800/' -e 's/^poll_ms = .*/poll_ms = 100/' \
        -e 's/^listen = .*/listen = 127.0.0.1:0/' \
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

# tiers72 DIR [init options...]: the three-tier 2024 province used by several
# scripts: province hub 72 at DIR (extra options go to its init), district
# hubs 703 and 705 at $TMP/d703, $TMP/d705, communes 25456, 25459 (703) and
# 25486, 25489 (705) at $TMP/e<code>; all initialised with fast link timing
# and enrolled at their parent. Every link goes through a byte-counting
# proxy (start_proxy): l703, l705 to the province, l<code> to the district.
# Sets PK (the province's key).
tiers72() {
    t72_dir=$1; shift
    expect_ok "init province hub 72 (2024 tree)" "$HUB" init --dir "$t72_dir" --unit 72 --bind "$ANY" "$@"
    PK=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
    fast_sync "$t72_dir"
    for t72_d in 703 705; do
        start_proxy "l$t72_d" "$t72_dir" 1 || bad "link proxy l$t72_d did not start"
        expect_ok "init district hub $t72_d" "$HUB" init --dir "$TMP/d$t72_d" --unit "$t72_d" --bind "$ANY" --parent "$LINK_EP" --parent-key "$PK"
        t72_k=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
        eval "KEY_$t72_d='$t72_k'"
        fast_sync "$TMP/d$t72_d"
        expect_ok "enroll district $t72_d at the province" "$HUB" enroll --dir "$t72_dir" --unit "$t72_d" --key "$t72_k"
    done
    for t72_pair in 703:25456 703:25459 705:25486 705:25489; do
        t72_d=${t72_pair%%:*}; t72_c=${t72_pair##*:}
        eval "t72_dk=\$KEY_$t72_d"
        start_proxy "l$t72_c" "$TMP/d$t72_d" 1 || bad "link proxy l$t72_c did not start"
        expect_ok "init commune $t72_c under $t72_d" "$NODE" init --dir "$TMP/e$t72_c" --unit "$t72_c" --parent "$LINK_EP" --parent-key "$t72_dk"
        t72_k=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
        fast_sync "$TMP/e$t72_c"
        expect_ok "enroll $t72_c at district $t72_d" "$HUB" enroll --dir "$TMP/d$t72_d" --unit "$t72_c" --key "$t72_k"
    done
}

# ---- link faults and restarts (test_sync_faults.sh, test_sync_resume.sh) ----

CHAOS_PROXY=${CHAOS_PROXY:-tests/tools/chaos_proxy.py}

# start_proxy NAME HUBDIR SEED [chaos_proxy options...]: runs
# tests/tools/chaos_proxy.py in the background on a port of its own choosing
# on 127.0.0.1, forwarding to whatever the hub daemon running on HUBDIR
# listens on now (its daemon.json; the hub need not run yet, and may
# restart). Stats in $TMP/NAME.stats, log in $TMP/NAME.log, pid in PID_NAME
# and PIDS; the address children connect to in LINK_EP and EP_NAME. Returns
# once it listens, 1 if not within 10 s.
start_proxy() {
    sp_name=$1; sp_dir=$2; sp_seed=$3; shift 3
    rm -f "$TMP/$sp_name.stats"
    python3 "$CHAOS_PROXY" --listen 0 --to-run "$sp_dir/daemon.json" --seed "$sp_seed" \
        --stats "$TMP/$sp_name.stats" "$@" >>"$TMP/$sp_name.log" 2>&1 </dev/null &
    eval "PID_$sp_name=$!"
    PIDS="$PIDS $!"
    LINK_EP=
    wait_for 10 test -s "$TMP/$sp_name.stats" || return 1
    LINK_EP="tcp://127.0.0.1:$(json_get port <"$TMP/$sp_name.stats")"
    eval "EP_$sp_name=\$LINK_EP"
}

# proxy_stat NAME FIELD: FIELD of the proxy's stats, written afresh (SIGUSR2)
proxy_stat() {
    eval "ps_p=\$PID_$1"
    kill -USR2 "$ps_p" 2>/dev/null && sleep 0.3
    json_get "$2" <"$TMP/$1.stats"
}

# calm_proxy NAME: the proxy stops cutting (up from now on)
calm_proxy() {
    eval "cp_p=\$PID_$1"
    kill -USR1 "$cp_p" 2>/dev/null
}

# restart NAME BIN DIR: like start, but appends to $TMP/NAME.log
restart() {
    TONGHOP_LOG=${TONGHOP_LOG_LEVEL:-info} "$2" run --dir "$3" >>"$TMP/$1.log" 2>&1 </dev/null &
    eval "PID_$1=$!"
    PIDS="$PIDS $!"
}

# kill9 NAME: SIGKILL (no chance to clean up) and reap
kill9() {
    eval "k9_p=\$PID_$1"
    kill -9 "$k9_p" 2>/dev/null
    wait "$k9_p" 2>/dev/null
    return 0
}

# alive NAME: the process started as NAME still runs
alive() {
    eval "al_p=\$PID_$1"
    kill -0 "$al_p" 2>/dev/null
}

# revs BIN DIR FORM PERIOD UNIT: the revs of UNIT's history, oldest first,
# on one line (empty if none)
revs() {
    "$1" show --dir "$2" --form "$3" --period "$4" --unit "$5" --history --json 2>/dev/null </dev/null |
        python3 -c 'import json,sys; print(" ".join(str(r["rev"]) for r in json.load(sys.stdin)["revisions"]))' 2>/dev/null
}

# pending BIN DIR: what waits to be sent to the parent ("pending" of status)
pending() {
    "$1" status --dir "$2" --json 2>/dev/null </dev/null | json_get pending 2>/dev/null
}

# sanitizer_clean FILE...: no ASan/UBSan/LSan report in these logs
sanitizer_clean() {
    ! grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' "$@" 2>/dev/null
}

# fast_python: puts the real python3 interpreter first in PATH (through
# $TMP/bin), so that a version-manager shim (pyenv: ~0.5 s a call) is not
# paid on every has_rev / json_get / value call
fast_python() {
    fp_real=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
    [ -n "$fp_real" ] && [ -x "$fp_real" ] || return 0
    mkdir -p "$TMP/bin" && ln -sf "$fp_real" "$TMP/bin/python3" && PATH="$TMP/bin:$PATH"
    export PATH
}

# ---- a faked wall clock (libfaketime) for deadlines in the past ----------

FAKETIME_LIB=${FAKETIME_LIB:-/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1}

# at_time 'YYYY-MM-DD hh:mm:ss' CMD...: runs CMD with its wall clock starting
# at that UTC instant and running on (monotonic clocks untouched). ASan must
# tolerate a preloaded library ahead of its runtime.
at_time() {
    at_t=$1; shift
    TZ=UTC FAKETIME="@$at_t" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$FAKETIME_LIB" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}

# start_at 'YYYY-MM-DD hh:mm:ss' NAME BIN DIR: like start, under a faked clock
# (the daemon itself is the background job, so stop reaches it)
start_at() {
    TZ=UTC FAKETIME="@$1" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$FAKETIME_LIB" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        TONGHOP_LOG=${TONGHOP_LOG_LEVEL:-info} "$3" run --dir "$4" >>"$TMP/$2.log" 2>&1 </dev/null &
    eval "PID_$2=$!"
    PIDS="$PIDS $!"
}
