#!/usr/bin/env bash
# Routing scenario at growing sizes: one markdown table row per run, ready for BENCHMARKS.md.
#
#   bench/sim_scaling.sh [path/to/forestcast]      (default: build-sim, then build)
#
# Environment: SIZES="1000 10000 50000", SEED=1, LOOKUPS=10000, KILL_FRACTION (empty: no churn),
# TOPOLOGY=sphere, EXTRA_ARGS (passed to every run). Node joins are spaced 5 ms apart up to
# 10,000 nodes and 2 ms beyond, so the 50,000-node join phase stays at 100 simulated seconds.
# wall_s, events/s and RSS are wall-clock measurements of this machine; every other column is
# a deterministic function of the flags and the seed.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-}"
if [[ -z "$bin" ]]; then
  for candidate in "$here/build-sim/tools/forestcast/forestcast" \
                   "$here/build/tools/forestcast/forestcast"; do
    if [[ -x "$candidate" ]]; then bin="$candidate"; break; fi
  done
fi
if [[ -z "$bin" || ! -x "$bin" ]]; then
  echo "sim_scaling.sh: forestcast binary not found; build it or pass its path" >&2
  exit 2
fi
command -v jq >/dev/null || { echo "sim_scaling.sh: jq is required" >&2; exit 2; }

sizes="${SIZES:-1000 10000 50000}"
seed="${SEED:-1}"
lookups="${LOOKUPS:-10000}"
topology="${TOPOLOGY:-sphere}"
churn_args=()
if [[ -n "${KILL_FRACTION:-}" ]]; then churn_args=(--kill-fraction "$KILL_FRACTION"); fi

echo "| nodes | seed | topology | join ms | lookups | correct | hops mean | hops max | rdp |" \
     "during churn | after repair | wall s | events | events/s | peak RSS MB |"
echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $sizes; do
  join_ms=5
  if (( n > 10000 )); then join_ms=2; fi
  # shellcheck disable=SC2086  # EXTRA_ARGS is meant to split into words
  json="$("$bin" sim --scenario routing --nodes "$n" --seed "$seed" --lookups "$lookups" \
          --topology "$topology" --join-interval-ms "$join_ms" --quiet \
          "${churn_args[@]}" ${EXTRA_ARGS:-} | tail -n 1)"
  jq -r --arg join "$join_ms" --arg topo "$topology" '
    "| \(.nodes) | \(.seed) | \($topo) | \($join) | \(.routing.lookups) " +
    "| \(.routing.correct_fraction) | \(.routing.hops_mean) | \(.routing.hops_max) " +
    "| \(.routing.rdp_mean) " +
    "| \(.churn.correct_fraction_during // "-") | \(.churn.correct_fraction_after_repair // "-") " +
    "| \(.perf.wall_s) | \(.perf.events) | \(.perf.events_per_s | floor) " +
    "| \(.perf.peak_rss_mb) |"' <<<"$json"
done
