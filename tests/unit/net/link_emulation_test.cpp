// The UDP runtime's test-only WAN emulation: delays come from the simulator's latency model at
// positions derived from node ids (so both ends and a simulation of the same ids agree), loss
// drops the asked fraction, and a real runtime really holds what it receives.
#include "net/udp/link_emulation.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "net/udp/udp_runtime.hpp"

namespace forestcast::net {
namespace {

using overlay::NodeId;

NodeId id(uint64_t n) { return NodeId::from_parts(n * 0x9e3779b97f4a7c15ULL, n); }

TEST(LinkEmulation, DelayIsSymmetricWithinRangeAndMatchesTheSimulatorModel) {
  LinkEmulationConfig config;  // sphere, 2-200 ms
  for (uint64_t a = 1; a < 40; ++a) {
    LinkEmulation from_a(config, id(a), 1);
    for (uint64_t b = a + 1; b < 40; ++b) {
      LinkEmulation from_b(config, id(b), 2);
      const Duration d = from_a.latency_to(id(b));
      EXPECT_EQ(d, from_b.latency_to(id(a)));
      EXPECT_GE(d, config.min_latency);
      EXPECT_LE(d, config.max_latency);
      sim::Topology topology(sim::TopologyKind::kSphere);
      topology.add(position_of(id(a), sim::TopologyKind::kSphere));
      topology.add(position_of(id(b), sim::TopologyKind::kSphere));
      EXPECT_EQ(d, topology.latency(0, 1));
    }
  }
}

TEST(LinkEmulation, PositionsSpreadOverTheSphere) {
  // Mean one-way latency between uniform points on a sphere is the middle of the range.
  LinkEmulationConfig config;
  LinkEmulation self(config, id(7), 1);
  double sum = 0;
  for (uint64_t b = 100; b < 2100; ++b) sum += static_cast<double>(self.latency_to(id(b)).count());
  EXPECT_NEAR(sum / 2000 / 1000, 101.0, 6.0);
}

TEST(LinkEmulation, LossDropsTheAskedFraction) {
  LinkEmulationConfig config;
  config.loss = 0.1;
  LinkEmulation link(config, id(1), 42);
  int dropped = 0;
  for (int i = 0; i < 20000; ++i) dropped += link.delay_from(id(2)) ? 0 : 1;
  EXPECT_NEAR(dropped / 20000.0, 0.1, 0.01);
}

// Two real runtimes with a fixed 60 ms one-way delay: a join needs several one-way trips, so it
// cannot finish in less than 2 x 60 ms; without emulation it takes a few ms on loopback.
TEST(LinkEmulation, RuntimeHoldsReceivedMessages) {
  auto join_time = [](std::optional<LinkEmulationConfig> emulation) {
    boost::asio::io_context io;
    UdpRuntimeOptions options;
    options.emulation = emulation;
    options.seed = 1;
    UdpRuntime a(io, id(1), options);
    options.seed = 2;
    UdpRuntime b(io, id(2), options);
    EXPECT_FALSE(a.open(overlay::Endpoint::ipv4(0x7f000001, 0)));
    EXPECT_FALSE(b.open(overlay::Endpoint::ipv4(0x7f000001, 0)));
    const auto start = std::chrono::steady_clock::now();
    a.start_ring();
    b.join({a.local_endpoint()});
    while (!b.node().active() &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
      io.run_for(std::chrono::milliseconds(5));
      io.restart();
    }
    EXPECT_TRUE(b.node().active());
    return std::chrono::steady_clock::now() - start;
  };
  LinkEmulationConfig fixed;
  fixed.min_latency = fixed.max_latency = std::chrono::milliseconds(60);
  EXPECT_GE(join_time(fixed), std::chrono::milliseconds(120));
  EXPECT_LT(join_time(std::nullopt), std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace forestcast::net
