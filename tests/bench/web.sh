#!/bin/sh
# Workload 6 of docs/benchmarks.md, the web: requests per second and
# latency percentiles with 64 concurrent connections (ab, from Debian's
# apache2-utils) of
#   - the province dashboard (/hub: rollup and completeness of dvcq-nam 2024
#     for Thanh Hóa, 38, whose hub holds a report from each of its 547
#     communes, filled through the real ingest), and
#   - a clerk's form POST at a commune node (/report: a whole dvcq-nam
#     report submitted, validated, signed and durably committed each time,
#     other figures each time: tests/bench/post_load.py drives it, since ab
#     sends one body and an unchanged report is not stored again).
# Prints one JSON line per page (workload "web"). REQUESTS POSTs (400;
# QUICK=1: 100) and a fifth of them, at least 64, dashboard requests.
#
#   sh tests/bench/web.sh BUILD_DIR [REQUESTS]
set -u
O=${1:-build/release}
if [ -n "${QUICK:-}" ]; then REQ=${2:-100}; else REQ=${2:-400}; fi
NAME=web
. tests/bench/lib.sh
command -v ab >/dev/null 2>&1 || { echo '{"workload": "web", "skipped": "ab missing: tools/deps.sh bench"}'; exit 0; }

webof() {
    i=0
    until u=$("$1" status --dir "$2" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["web"])' 2>/dev/null); do
        sleep 0.1; i=$((i + 1)); [ $i -lt 100 ] || return 1
    done
    echo "$u"
}
# ab_json WHAT AB-OUTPUT-FILE
ab_json() {
    python3 - "$1" "$2" <<'PY'
import json, re, sys
t = open(sys.argv[2]).read()
def num(pat):
    m = re.search(pat, t, re.M)
    return float(m.group(1)) if m else None
pct = {p: num(r"^\s*%d%%\s+(\d+)" % p) for p in (50, 90, 99, 100)}
print(json.dumps({"workload": "web", "page": "dashboard", "what": sys.argv[1], "concurrency": 64,
                  "requests": int(num(r"^Complete requests:\s+(\d+)") or 0),
                  "failed": int(num(r"^Failed requests:\s+(\d+)") or 0),
                  "non_2xx": int(num(r"^Non-2xx responses:\s+(\d+)") or 0),
                  "rps": num(r"^Requests per second:\s+([\d.]+)"),
                  "ms_p50": pct[50], "ms_p90": pct[90], "ms_p99": pct[99], "ms_max": pct[100]}))
PY
}

# ---- the province dashboard
"$HUB" init --dir "$T/p38" --unit 38 --bind 'tcp://127.0.0.1:*' >/dev/null || exit 1
web0 "$T/p38"
"$O/bench/bench_relay" "$T/p38" 2024 2024 - >/dev/null || exit 1
"$HUB" run --dir "$T/p38" 2>"$T/p38.log" &
PIDS="$PIDS $!"
URL=$(webof "$HUB" "$T/p38") || { echo "web.sh: the hub's web did not start" >&2; exit 1; }
# the officer opens the dashboard once (the rollup is computed: its time is
# printed apart, "first_ms"); then 64 browsers keep reloading it
FIRST=$(python3 -c 'import sys, time, urllib.request
t = time.monotonic()
r = urllib.request.urlopen(sys.argv[1] + "hub?form=dvcq-nam&period=2024")
r.read()
print(r.headers["Set-Cookie"].split(";")[0], round(1000 * (time.monotonic() - t), 1))' "$URL") || exit 1
COOKIE=${FIRST% *}
echo "{\"workload\": \"web\", \"page\": \"dashboard_first\", \"first_ms\": ${FIRST##* }}"
ab -q -k -c 64 -n "$(( REQ > 64 ? REQ : 64 ))" -C "$COOKIE" "${URL}hub?form=dvcq-nam&period=2024" >"$T/ab-hub.txt" 2>&1 ||
    { cat "$T/ab-hub.txt" >&2; exit 1; }
ab_json "province dashboard /hub (Thanh Hóa, 547 communes)" "$T/ab-hub.txt"

# ---- a clerk's form POST
"$NODE" init --dir "$T/c" --unit 25459 --parent tcp://127.0.0.1:9 --parent-key \
    "$("$HUB" key --dir "$T/p38" | tail -n 1)" >/dev/null || exit 1
web0 "$T/c"
"$NODE" run --dir "$T/c" 2>"$T/c.log" &
PIDS="$PIDS $!"
URL=$(webof "$NODE" "$T/c") || { echo "web.sh: the node's web did not start" >&2; exit 1; }
python3 - "$URL" "$T/body" "$T/cookie" <<'PY' || exit 1
import re, sys, urllib.parse, urllib.request
url, body, cookie = sys.argv[1:]
r = urllib.request.urlopen(url + "report?form=dvcq-nam&period=2026")
c = r.headers["Set-Cookie"].split(";")[0]
csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', r.read().decode()).group(1)
vals = dict(x.split("=", 1) for x in (
    "TT01=10 TT02=100 TT03=1 TT04=2 DT01=1 DT02=10 LD01=có DVK01=2 DVK02=1 KT01=0 KT02=0 "
    "CCHC01=50 CCHC02=45 CCHC04=3 TCD01=4 TCD02=3 TCD03=2 TCD05=1 GS01=1 GS02=2 GS03=1 DC01=có "
    "KTR01=0 KTR02=0 DG01=tot ND01=Tốt ND02=Chưa ND03=Tiếp").split())
fields = [("csrf", csrf), ("action", "submit")] + [("v_" + k, v) for k, v in vals.items()]
open(body, "w").write(urllib.parse.urlencode(fields))
open(cookie, "w").write(c)
PY
# ab cannot vary the body, and an unchanged report is not stored again:
# every POST here carries other figures (tests/bench/post_load.py)
OUT=$(python3 tests/bench/post_load.py "$URL" "/report?form=dvcq-nam&period=2026" "$T/body" \
      "$(cat "$T/cookie")" "$REQ" 64) || exit 1
REV=$("$NODE" show --dir "$T/c" --form dvcq-nam --period 2026 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rev"])')
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps(dict({"workload": "web", "page": "post", "what": "clerk'"'"'s form POST /report (submit, new figures each time, durable)", "concurrency": 64}, revisions_stored=int(sys.argv[2]), **d)))' "$OUT" "$REV"
