// How fast the simulator's event queue alone runs: push one event and pop the earliest, with
// a steady number of events pending (the simulator at 10,000 nodes keeps ~100 k pending).
// Run: build/bench/event_queue_bench  (results go to BENCHMARKS.md)
#include <benchmark/benchmark.h>

#include "base/random.hpp"
#include "net/sim/event_queue.hpp"

namespace {

void BM_EventQueuePushPop(benchmark::State& state) {
  using namespace forestcast;
  const auto pending = static_cast<size_t>(state.range(0));
  sim::EventQueue queue;
  Rng rng(1);
  // Latencies of 2–200 ms, as in the sphere topology.
  auto latency = [&rng] { return Duration{2000 + static_cast<int64_t>(rng.below(198000))}; };
  for (size_t i = 0; i < pending; ++i)
    queue.push(Time{0} + latency(), sim::EventKind::kMessage, static_cast<uint32_t>(i), 0);
  for (auto _ : state) {
    const sim::Event e = queue.pop();
    queue.push(e.at + latency(), sim::EventKind::kMessage, e.target, 0);
  }
  state.SetItemsProcessed(state.iterations());  // one push + one pop each
}
BENCHMARK(BM_EventQueuePushPop)->Arg(1000)->Arg(100000);

}  // namespace

BENCHMARK_MAIN();
