#include "net/sim/simulator.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace forestcast::sim {
namespace {

overlay::NodeId id_for(uint64_t seed, uint32_t i) {
  Rng rng(seed * 1000003 + i);
  return overlay::NodeId::from_parts(rng.next(), rng.next());
}

// A small ring built by real joins, one every 20 ms, each through node 0.
void build_ring(Simulator& sim, uint32_t n, uint64_t seed) {
  for (uint32_t i = 0; i < n; ++i) sim.add_node(id_for(seed, i), seed + i);
  sim.start_ring(0);
  for (uint32_t i = 1; i < n; ++i)
    sim.schedule(Time{ms(20) * i}, [&sim, i] { sim.join(i, {Simulator::endpoint_of(0)}); });
}

TEST(Simulator, EndpointsMapToIndices) {
  for (uint32_t i : {0u, 1u, 999u, 65535u, 100000u}) {
    EXPECT_EQ(Simulator::index_of(Simulator::endpoint_of(i)), i);
  }
  EXPECT_FALSE(Simulator::index_of(overlay::Endpoint::ipv4(0x7F000001, 4000)));
  EXPECT_FALSE(Simulator::index_of(overlay::Endpoint::ipv4(0x0A000001, 4001)));
}

TEST(Simulator, ActionsRunInTimeThenSchedulingOrderAndClockJumps) {
  Simulator sim(SimConfig{});
  std::vector<std::pair<int, int64_t>> ran;
  auto record = [&](int tag) {
    return [&ran, &sim, tag] { ran.emplace_back(tag, sim.now().count()); };
  };
  sim.schedule(Time{300}, record(3));
  sim.schedule(Time{100}, record(1));
  sim.schedule(Time{300}, record(4));
  sim.schedule(Time{100}, record(2));
  sim.schedule(Time{200}, [&] {
    ran.emplace_back(5, sim.now().count());
    sim.schedule(Time{0}, record(6));  // in the past: runs now, after what is already due now
    sim.schedule(Time{300}, record(7));
  });
  sim.run_until(Time{250});
  EXPECT_EQ(sim.now(), Time{250});
  sim.run_until(Time{1000});
  const std::vector<std::pair<int, int64_t>> expected{{1, 100}, {2, 100}, {5, 200}, {6, 200},
                                                      {3, 300}, {4, 300}, {7, 300}};
  EXPECT_EQ(ran, expected);
  EXPECT_EQ(sim.now(), Time{1000});
  EXPECT_EQ(sim.counters().actions_run, 7u);
  EXPECT_FALSE(sim.step());
}

TEST(Simulator, SmallRingJoinsAndTheOracleFollows) {
  Simulator sim(SimConfig{});
  build_ring(sim, 30, 1);
  sim.run_until(seconds(20));
  EXPECT_EQ(sim.active_nodes().size(), 30u);
  EXPECT_EQ(sim.oracle().size(), 30u);
  EXPECT_GT(sim.counters().messages_delivered, 0u);
  EXPECT_GT(sim.counters().timers_fired, 0u);

  // A kill is silent: the node leaves the oracle at once; later traffic to it is lost.
  sim.kill(5);
  EXPECT_FALSE(sim.alive(5));
  EXPECT_EQ(sim.oracle().size(), 29u);
  EXPECT_FALSE(sim.oracle().contains(sim.handle(5).id));
  const uint64_t lost_before = sim.counters().messages_to_dead;
  sim.run_until(seconds(40));
  EXPECT_GT(sim.counters().messages_to_dead, lost_before);
  // ... and the survivors eventually forget it.
  for (uint32_t i : sim.active_nodes())
    EXPECT_FALSE(sim.node(i).leaf_set().contains(sim.handle(5).id)) << i;
}

TEST(Simulator, SameSeedSameTraceDifferentSeedDifferentTrace) {
  auto trace = [](uint64_t seed, double loss) {
    SimConfig config;
    config.seed = seed;
    config.loss = loss;
    Simulator sim(config);
    build_ring(sim, 25, seed);
    sim.run_until(seconds(15));
    return std::pair{sim.trace_hash(), sim.counters().events};
  };
  EXPECT_EQ(trace(1, 0.0), trace(1, 0.0));
  EXPECT_EQ(trace(1, 0.05), trace(1, 0.05));
  EXPECT_NE(trace(1, 0.0).first, trace(2, 0.0).first);
  EXPECT_NE(trace(1, 0.0).first, trace(1, 0.05).first);
}

TEST(Simulator, LossDropsAboutTheConfiguredFraction) {
  SimConfig config;
  config.loss = 0.2;
  Simulator sim(config);
  build_ring(sim, 20, 3);
  sim.run_until(seconds(30));
  const auto& c = sim.counters();
  ASSERT_GT(c.messages_sent, 2000u);
  const double fraction = static_cast<double>(c.messages_lost) /
                          static_cast<double>(c.messages_sent - c.messages_to_dead);
  EXPECT_NEAR(fraction, 0.2, 0.03);
}

TEST(Simulator, MessagesArriveAfterTheModelledLatency) {
  // Two nodes at opposite poles: 200 ms one way. Node 1 joins through node 0 at t = 0, so
  // nothing can reach node 0 before 200 ms.
  Simulator sim(SimConfig{});
  sim.add_node(id_for(4, 0), 1, Position{0, 0, 1});
  sim.add_node(id_for(4, 1), 2, Position{0, 0, -1});
  sim.start_ring(0);
  sim.join(1, {Simulator::endpoint_of(0)});
  sim.run_until(ms(199));
  EXPECT_EQ(sim.counters().messages_delivered, 0u);
  sim.run_until(ms(200));
  EXPECT_GE(sim.counters().messages_delivered, 1u);
}

}  // namespace
}  // namespace forestcast::sim
