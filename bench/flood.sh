#!/usr/bin/env bash
# The garbage flood of issue 13 at full length: a 16-process ring on loopback, 200 garbage
# datagrams per second at every node for 60 s (CI runs the same test for 20 s). Prints the
# test's report: datagrams sent by kind, drops by reason, worst /status latency, VmRSS before
# and after. Results go to BENCHMARKS.md.
#
#   bench/flood.sh [path/to/forestcast]      (default: build/tools/forestcast/forestcast)
#
# Environment: SECONDS_=60, RATE=200, NODES=16, SEED (empty: random, printed).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/build/tools/forestcast/forestcast}"
[[ -x "$bin" ]] || { echo "no forestcast binary at $bin: ./run test builds it" >&2; exit 2; }
exec python3 "$here/tests/integration/test_flood.py" "$bin" --nodes "${NODES:-16}" \
  --seconds "${SECONDS_:-60}" --rate "${RATE:-200}" ${SEED:+--seed "$SEED"}
