#!/usr/bin/env bash
# A bounded libFuzzer run for ctest: fails (non-zero) on any crash, sanitizer report, leak,
# timeout or out-of-memory, and says where the input that caused it was saved.
#   run_fuzzer.sh FUZZER SECONDS SEED_CORPUS WORK_DIR [extra libFuzzer flags...]
# New inputs go to WORK_DIR/corpus, never into the checked-in seed corpus.
set -euo pipefail
fuzzer=$1 seconds=$2 seeds=$3 work=$4
shift 4
if [ ! -x "$fuzzer" ]; then
  echo "no fuzz target at $fuzzer: build the clang tree first (./run test does)" >&2
  exit 1
fi
mkdir -p "$work/corpus" "$work/artifacts"
status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "$seeds" \
  2>"$work/fuzzer.log" || status=$?
# The log is long (one line per new coverage); keep the start of a report and the stats.
if [ "$status" -ne 0 ]; then
  grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse|INITED)' "$work/fuzzer.log" | head -80 >&2
  echo "FAIL: $(basename "$fuzzer") found a problem (exit $status); input saved as:" >&2
  ls -1 "$work/artifacts" >&2
  exit "$status"
fi
grep -E '^(stat::|Done|INFO: Seed|#[0-9]+\s+DONE)' "$work/fuzzer.log" || true
echo "PASS: $(basename "$fuzzer") ran ${seconds} s without a finding"
