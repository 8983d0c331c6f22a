#!/bin/sh
# Workload 1 of docs/benchmarks.md, the relay backlog: a relay hub that was
# without its parent for a month reconnects holding 20,239 reports of the
# 547 communes below it (Thanh Hóa, 38, in the 2024 tree: both shipped forms,
# every period 2013 to 2025S1), relayed to a root; then, in the same run,
# the same records as MQTT QoS 1 messages through mosquitto to a subscriber
# committing to LMDB, and the same reports replicated by PouchDB to
# express-pouchdb.
#
# The relay is a province under a national root (VN, a unit list made from
# the official 2024 one with a national row above the provinces): no district
# of the 2024 tree has enough communes for 20,000 distinct reports; the relay
# code is the same at every level. Every link goes through the byte-counting
# proxy (tests/tools/chaos_proxy.py, no faults). QUICK=1: the periods of
# 2022 to 2024 only (5,470 reports).
#
# Prints one JSON line per peer (workload "relay") and one for the ingest
# (workload "ingest"). A peer that fails is recorded as failed and the next
# one still runs; the exit status is then 1.
#
#   sh tests/bench/relay.sh BUILD_DIR
set -u
O=${1:-build/release}
if [ -n "${QUICK:-}" ]; then Y0=2022; else Y0=2013; fi
NAME=relay
. tests/bench/lib.sh
PROXY=tests/tools/chaos_proxy.py
PEERS=tests/bench/peers

now() { date +%s.%N; }
stat_bytes() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["up_bytes"] + s["down_bytes"])' "$1"; }

# ---- the unit list: the official 2024 one under a national root
national_units "$T/units.csv"

# ---- tonghop
K=$("$HUB" init --dir "$T/vn" --unit VN --bind 'tcp://127.0.0.1:*' --units "$T/units.csv" | tail -n 1) || exit 1
python3 "$PROXY" --listen 0 --to-run "$T/vn/daemon.json" --seed 1 --stats "$T/t.stats" 2>"$T/t-proxy.log" &
PIDS="$PIDS $!"
wait_file "$T/t.stats" || { echo "relay.sh: the proxy did not start" >&2; exit 1; }
EP=tcp://127.0.0.1:$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$T/t.stats")
"$HUB" init --dir "$T/p38" --unit 38 --bind 'tcp://127.0.0.1:*' --units "$T/units.csv" \
    --parent "$EP" --parent-key "$K" >"$T/init.out" || exit 1
RK=$(tail -n 1 "$T/init.out")
# the web off the way (port 0: the kernel picks one)
web0 "$T/vn"
web0 "$T/p38"
FILL=$("$O/bench/bench_relay" "$T/p38" "$Y0" 2024 "$T/docs.jsonl" "$T/blobs.bin") || exit 1
RECORDS=$(printf '%s\n' "$FILL" | awk '$1 == "records" { print $2 }')
RBYTES=$(printf '%s\n' "$FILL" | awk '$1 == "record_bytes" { print $2 }')
# workload 3, ingest at a hub: the phases of filling the relay
printf '%s\n' "$FILL" | python3 -c 'import json,sys
f = dict(l.split() for l in sys.stdin if l.strip())
e, s, v = int(f["ingest_entries"]), float(f["ingest_s"]), float(f["verify_s"])
print(json.dumps({"workload": "ingest", "entries": e, "commits": int(f["ingest_commits"]),
                  "seconds": s, "entries_per_s": round(e / s),
                  "decode_verify_s_apart": v, "decode_verify_share": round(v / s, 3),
                  "decode_verify_per_s_one_core": round(int(f["records"]) / v)}))'

"$HUB" enroll --dir "$T/vn" --unit 38 --key "$RK" >/dev/null || exit 1
"$HUB" run --dir "$T/vn" 2>"$T/vn.log" &
PIDS="$PIDS $!"
i=0; until "$HUB" status --dir "$T/vn" --json 2>/dev/null | grep -q '"collector"'; do
    sleep 0.05; i=$((i + 1)); [ $i -lt 200 ] || { echo "relay.sh: the root did not start" >&2; exit 1; }
done
b0=$(stat_bytes "$T/t.stats")
t0=$(now)
"$HUB" run --dir "$T/p38" 2>"$T/p38.log" &
RP=$!
PIDS="$PIDS $RP"
i=0; until [ "$("$HUB" status --dir "$T/p38" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])' 2>/dev/null)" = 0 ]; do
    sleep 0.2; i=$((i + 1)); [ $i -lt 1500 ] || { echo "relay.sh: the backlog never drained" >&2; exit 1; }
done
t1=$(now)
kill -USR2 "$(echo $PIDS | awk '{print $1}')" 2>/dev/null; sleep 0.3
b1=$(stat_bytes "$T/t.stats")
HELD=$("$HUB" rollup --dir "$T/vn" --form dvcq-nam --period 2024 --unit 38 --format json |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["reporting"]["reported"])')
python3 - "$RECORDS" "$RBYTES" "$t0" "$t1" "$b0" "$b1" "$HELD" <<'PY'
import json, sys
n, rb, t0, t1, b0, b1, held = (float(x) for x in sys.argv[1:])
print(json.dumps({"workload": "relay", "peer": "tonghop", "records": int(n), "seconds": round(t1 - t0, 3),
                  "records_per_s": round(n / (t1 - t0)), "wire_bytes": int(b1 - b0),
                  "wire_per_record": round((b1 - b0) / n, 1), "record_bytes": round(rb / n, 1),
                  "wire_over_record": round((b1 - b0) / rb, 3),
                  "check_2024_reported_at_root": int(held), "durability": "fsync per batch"}))
PY
kill "$RP"; wait "$RP" 2>/dev/null
FAILED=0
# failed PEER WHY: the peer is recorded as failed, the next one still runs
failed() {
    echo "relay.sh: $1: $2" >&2
    printf '{"workload": "relay", "peer": "%s", "failed": "%s"}\n' "$1" "$2"
    FAILED=1
}

# ---- MQTT QoS 1 through Debian's mosquitto, the same records
if command -v mosquitto >/dev/null 2>&1 && [ -x "$O/bench/bench_mqtt" ] && unshare -n true 2>/dev/null; then
    unshare -n sh tests/bench/mqtt_ns.sh "$O" "$T" "$RECORDS" "$RBYTES" ||
        failed mqtt "tests/bench/mqtt_ns.sh exited with status $?"
else
    echo '{"workload": "relay", "peer": "mqtt", "skipped": "needs mosquitto, bench_mqtt and unshare -n (root): tools/deps.sh bench"}'
fi

# ---- PouchDB (npm pouchdb-node, express-pouchdb), the same reports
pouchdb() {
    if [ ! -d "$PEERS/node_modules/pouchdb-node" ]; then
        echo '{"workload": "relay", "peer": "pouchdb", "skipped": "npm packages missing: cd tests/bench/peers && npm ci"}'
        return
    fi
    mkdir -p "$T/pouch-parent" "$T/pouch-relay"
    node "$PEERS/pouch_server.js" "$T/pouch-parent" "$T/pouch.port" 2>"$T/pouch-server.log" &
    PIDS="$PIDS $!"
    wait_file "$T/pouch.port" || { failed pouchdb "express-pouchdb did not start"; return; }
    SP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$T/pouch.port")
    python3 "$PROXY" --listen 0 --to "127.0.0.1:$SP" --seed 1 --stats "$T/p.stats" 2>"$T/p-proxy.log" &
    PSTATS=$!
    PIDS="$PIDS $PSTATS"
    wait_file "$T/p.stats" || { failed pouchdb "the proxy did not start"; return; }
    PPORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$T/p.stats")
    OUT=$(node "$PEERS/pouch_relay.js" "$T/pouch-relay" "$T/docs.jsonl" "http://127.0.0.1:$PPORT/db") ||
        { failed pouchdb "pouch_relay.js exited with status $?"; return; }
    kill -USR2 "$PSTATS"; sleep 0.3
    python3 - "$OUT" "$(stat_bytes "$T/p.stats")" "$RBYTES" "$(wc -c <"$T/docs.jsonl")" <<'PY' ||
import json, sys
o = json.loads(sys.argv[1]); wire, rb, jb = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
n = o["docs"]
print(json.dumps({"workload": "relay", "peer": "pouchdb", "records": n, "seconds": round(o["seconds"], 3),
                  "records_per_s": round(n / o["seconds"]), "wire_bytes": wire,
                  "wire_per_record": round(wire / n, 1), "json_bytes": round(jb / n, 1),
                  "wire_over_json": round(wire / jb, 3), "docs_on_parent": o["docs_on_parent"],
                  "durability": "LevelDB default (no fsync per write)"}))
PY
        failed pouchdb "its result could not be read"
}
pouchdb
exit $FAILED
