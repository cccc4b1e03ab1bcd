// What a live stream's packets cost in the simulator: many direct sends (send_direct, the path
// SplitStream's data takes down a stripe tree) relayed node to node, each delivery one event.
// 64 nodes joined by real Pastry joins; 2,000 packets of 1,200 bytes circulate, each node
// relaying a packet to the next node as soon as it arrives. Items/s = simulator events/s.
// Run: build/bench/direct_send_bench  (results go to BENCHMARKS.md)
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "base/random.hpp"
#include "net/sim/simulator.hpp"

namespace {

using namespace forestcast;

constexpr uint16_t kRelayAppId = 200;
constexpr size_t kPayloadBytes = 1200;

class Packet final : public overlay::AppMessage {
 public:
  uint16_t app_id() const override { return kRelayAppId; }
  uint16_t type() const override { return 1; }
  void encode(std::string& out) const override { out.append(kPayloadBytes, 'x'); }
  size_t encoded_size() const override { return kPayloadBytes; }
};

class RelayApp final : public overlay::Application {
 public:
  RelayApp(sim::Simulator& sim, uint32_t next) : sim_(sim), next_(next) {}
  void deliver(Time, const overlay::RouteInfo&, const overlay::AppMessagePtr&) override {}
  void receive_direct(Time now, const overlay::NodeHandle&,
                      const overlay::AppMessagePtr& msg) override {
    self_->send_direct(now, sim_.handle(next_), msg);
  }
  overlay::AppMessagePtr decode(uint16_t, std::string_view) const override { return nullptr; }
  void bind(overlay::PastryNode* self) { self_ = self; }

 private:
  sim::Simulator& sim_;
  uint32_t next_;
  overlay::PastryNode* self_ = nullptr;
};

void BM_DirectRelay(benchmark::State& state) {
  spdlog::set_level(spdlog::level::warn);
  constexpr uint32_t kNodes = 64;
  constexpr int kPackets = 2000;
  sim::SimConfig config;
  config.check_wire_size = state.range(0) != 0;
  sim::Simulator sim(config);
  Rng ids(7);
  for (uint32_t i = 0; i < kNodes; ++i)
    sim.add_node(overlay::NodeId::from_parts(ids.next(), ids.next()), 100 + i);
  sim.start_ring(0);
  for (uint32_t i = 1; i < kNodes; ++i)
    sim.schedule(Time{ms(20) * i}, [&sim, i] { sim.join(i, {sim::Simulator::endpoint_of(0)}); });
  for (uint32_t i = 0; i < kNodes; ++i) {
    auto& app = sim.attach_app(i, kRelayAppId, std::make_unique<RelayApp>(sim, (i + 1) % kNodes));
    app.bind(&sim.node(i));
  }
  sim.run_until(Time{seconds(10)});
  const auto packet = std::make_shared<const Packet>();
  for (int p = 0; p < kPackets; ++p) {
    const uint32_t from = static_cast<uint32_t>(p) % kNodes;
    sim.with_node(from, [&](overlay::PastryNode& n) {
      n.send_direct(sim.now(), sim.handle((from + 1) % kNodes), packet);
    });
  }
  const uint64_t events_before = sim.counters().events;
  for (auto _ : state) sim.run_until(sim.now() + ms(100));
  state.SetItemsProcessed(static_cast<int64_t>(sim.counters().events - events_before));
}
// Arg: 0 = byte counters from the estimate, 1 = every message encoded and checked (tests' mode).
BENCHMARK(BM_DirectRelay)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
