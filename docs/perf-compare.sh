#!/usr/bin/env bash
# Side-by-side speed of electsim and the Python peers on the raft-churn workload
# (shared/peers/README.md): one simulated hour, n = 5 and 51, seed 1, each pinned to one
# core. Prints one line per implementation and size. Needs: a release build, python3, and
# `pip install simpy==4.1.2` for the SimPy peer.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-../shared/peers}
cargo build --release -q
taskset -c 0 target/release/electsim bench scenarios/bench-raft-churn.toml --repeats 3 --format json |
  python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(json.dumps({"impl": "electsim", "n": r["nodes"], "wall_s": round(r["wall_s"], 4),
                      "cpu_s": round(r["cpu_s"], 4), "events": r["events"],
                      "events_per_cpu_s": round(r["events_per_cpu_s"])}))'
for n in 5 51; do
  for impl in heapq_raft simpy_raft; do
    taskset -c 0 python3 "$PEERS/$impl.py" --n $n --virtual-s 3600 --seed 1
  done
  taskset -c 0 python3 "$PEERS/simpy_raft.py" --n $n --virtual-s 3600 --seed 1 --style tuned
done
