#!/bin/sh
# The MQTT peer of the relay backlog, run by tests/bench/relay.sh inside a
# network namespace of its own (`unshare -n`): mosquitto cannot pick its own
# port, and in a fresh namespace 1883 is free by construction. The records
# of BLOBS go, one QoS 1 message each, from a publisher through mosquitto
# to a subscriber with a persistent session that commits them to LMDB
# (tests/bench/bench_mqtt.c); a byte-counting proxy on each leg.
#   mqtt_ns.sh BUILD_DIR WORKDIR RECORDS RECORD_BYTES
set -u
O=$1; T=$2; N=$3; RB=$4
PROXY=tests/tools/chaos_proxy.py
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; for p in $PIDS; do wait "$p" 2>/dev/null; done' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip link set lo up 2>/dev/null || { echo '{"workload": "relay", "peer": "mqtt", "skipped": "no loopback in the namespace"}'; exit 0; }
printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 1024\nmax_queued_messages 100000\n' >"$T/mq.conf"
mosquitto -c "$T/mq.conf" >"$T/mosquitto.log" 2>&1 &
PIDS="$PIDS $!"
i=0; until grep -q "running" "$T/mosquitto.log" 2>/dev/null; do sleep 0.05; i=$((i + 1)); [ $i -lt 100 ] || exit 1; done
for leg in up down; do
    python3 "$PROXY" --listen 0 --to 127.0.0.1:1883 --seed 1 --stats "$T/mq-$leg.stats" 2>/dev/null &
    PIDS="$PIDS $!"
done
for leg in up down; do
    i=0; until [ -s "$T/mq-$leg.stats" ]; do sleep 0.05; i=$((i + 1)); [ $i -lt 100 ] || exit 1; done
done
port() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$1"; }
bytes() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["up_bytes"] + s["down_bytes"])' "$1"; }
"$O/bench/bench_mqtt" sub 127.0.0.1 "$(port "$T/mq-down.stats")" "$T/mq-store" "$N" >"$T/mq-sub.out" 2>&1 &
SP=$!
i=0; until grep -q ready "$T/mq-sub.out" 2>/dev/null; do sleep 0.05; i=$((i + 1)); [ $i -lt 100 ] || exit 1; done
t0=$(date +%s.%N)
"$O/bench/bench_mqtt" pub 127.0.0.1 "$(port "$T/mq-up.stats")" "$T/blobs.bin" >"$T/mq-pub.out" 2>&1 || { cat "$T/mq-pub.out" >&2; exit 1; }
wait "$SP" || { cat "$T/mq-sub.out" >&2; exit 1; }
t1=$(date +%s.%N)
for p in $PIDS; do kill -USR2 "$p" 2>/dev/null; done; sleep 0.3
python3 - "$N" "$RB" "$t0" "$t1" "$(bytes "$T/mq-up.stats")" "$(bytes "$T/mq-down.stats")" "$(tail -n 1 "$T/mq-sub.out")" <<'PY'
import json, sys
n, rb = int(sys.argv[1]), int(sys.argv[2])
t0, t1 = float(sys.argv[3]), float(sys.argv[4])
up, down = int(sys.argv[5]), int(sys.argv[6])
sub = json.loads(sys.argv[7])
print(json.dumps({"workload": "relay", "peer": "mqtt", "records": n, "seconds": round(t1 - t0, 3),
                  "records_per_s": round(n / (t1 - t0)), "committed": sub["committed"],
                  "wire_bytes_publisher_leg": up, "wire_per_record_publisher_leg": round(up / n, 1),
                  "wire_bytes_subscriber_leg": down, "wire_per_record_subscriber_leg": round(down / n, 1),
                  "wire_over_record": round(up / rb, 3),
                  "durability": "subscriber commits (fsync) every 256 messages or 50 ms; "
                                "PUBACK on receipt, before the commit; broker in memory"}))
PY
