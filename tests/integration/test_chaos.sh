#!/bin/sh
# The short chaos run of make test: tests/chaos/chaos.py with 12 communes
# under 3 districts for 20 s (link cuts, delays and throttling, SIGKILLs of
# any office, bursts of corrections, clocks hours off, a store restored from
# an older backup, a commune moved to the province with a backlog), then
# the checker. CHAOS_SEED picks the seed (default 1; printed, replay with
# CHAOS_SEED=N).
# make chaos runs the full size (60 communes, 6 districts) over many seeds.
set -u
O=${1:-build/asan}
seed=${CHAOS_SEED:-1}
echo "# CHAOS_SEED=$seed (replay: CHAOS_SEED=$seed sh $0 $O)"
exec timeout -k 10 500 python3 tests/chaos/chaos.py "$O" --seed "$seed" --districts 3 \
    --communes 12 --secs 20 --settle 120
