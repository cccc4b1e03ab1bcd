#!/usr/bin/env bash
# Issue 11's real-process repair figure: 24 `forestcast node` processes, 3 streams of 2 Mbit/s,
# 8 viewers each, 6 SIGKILLs including a stripe root; every survivor must get every stripe back
# within 2 s. Runs tests/integration/test_streams.py RUNS times at the strict bound and prints
# each run's slowest repair (CI runs it once with a looser bound).
#   usage: bench/streams_repair.sh [build/tools/forestcast/forestcast] [RUNS]
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
BIN=${1:-build/tools/forestcast/forestcast}
RUNS=${2:-10}
pass=0
for i in $(seq 1 "$RUNS"); do
  out=$(python3 tests/integration/test_streams.py "$BIN" --nodes 24 --capacity 24 --repair-bound 2 2>&1)
  rc=$?
  [ $rc -eq 0 ] && pass=$((pass + 1))
  echo "run $i: exit $rc; $(grep -E '^(seed|repair:)' <<<"$out" | tr '\n' ' ')"
done
echo "within 2 s: $pass of $RUNS runs"
