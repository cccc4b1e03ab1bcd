// The windowed engine (windowed_engine.cpp): the same run whatever the threads and partitions.
// The oracle is the engine with one partition on one thread: a single queue in (time, node, key)
// order, with no outboxes and nothing to merge.
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "net/sim/simulator.hpp"

namespace forestcast::sim {
namespace {

overlay::NodeId id_for(uint64_t seed, uint32_t i) {
  Rng rng(seed * 1000003 + i);
  return overlay::NodeId::from_parts(rng.next(), rng.next());
}

SimConfig windowed(unsigned partitions, unsigned threads, double loss = 0.0) {
  SimConfig c;
  c.seed = 9;
  c.loss = loss;
  c.engine = SimEngine::kWindowed;
  c.partitions = partitions;
  c.threads = threads;
  return c;
}

// Everything a run leaves behind that ordering could change.
struct Outcome {
  uint64_t trace = 0;
  uint64_t events = 0, delivered = 0, lost = 0, to_dead = 0, timers = 0;
  std::vector<uint32_t> active;  // the active list, in its (swap-remove) order
  std::vector<std::vector<overlay::NodeId>> leaf_sets;
  std::vector<uint64_t> sent_bytes;
  bool operator==(const Outcome&) const = default;
};

// 40 nodes join (each through a random active one, at instants shared by several joins), 4 die
// at once, the rest repair: many same-instant events across partitions.
Outcome run(const SimConfig& config) {
  Simulator sim(config);
  Rng rng(3);
  for (uint32_t i = 0; i < 40; ++i) sim.add_node(id_for(2, i), 100 + i);
  sim.start_ring(0);
  for (uint32_t i = 1; i < 40; ++i) {
    // Through a random active node: the active list's order must not depend on the threads.
    const uint64_t pick = rng.next();
    sim.schedule(Time{ms(30) * (i / 3)}, [&sim, i, pick] {
      const auto& active = sim.active_nodes();
      sim.join(i, {Simulator::endpoint_of(active.empty() ? 0 : active[pick % active.size()])});
    });
  }
  sim.schedule(seconds(8), [&sim] {
    for (uint32_t v : {3u, 17u, 18u, 30u}) sim.kill(v);
  });
  sim.run_until(seconds(6));
  sim.run_until(seconds(15));
  Outcome o;
  o.trace = sim.trace_hash();
  const SimCounters& c = sim.counters();
  std::tie(o.events, o.delivered, o.lost, o.to_dead, o.timers) =
      std::tuple{c.events, c.messages_delivered, c.messages_lost, c.messages_to_dead,
                 c.timers_fired};
  o.active = sim.active_nodes();
  for (uint32_t i = 0; i < sim.node_count(); ++i) {
    std::vector<overlay::NodeId> leaves;
    if (sim.alive(i))
      for (const auto& h : sim.node(i).leaf_set().members()) leaves.push_back(h.id);
    o.leaf_sets.push_back(leaves);
    o.sent_bytes.push_back(sim.traffic(i).total().sent_bytes);
  }
  return o;
}

TEST(WindowedEngine, SameRunForAnyThreadsAndPartitions) {
  for (double loss : {0.0, 0.03}) {
    SCOPED_TRACE(loss);
    const Outcome reference = run(windowed(1, 1, loss));
    // A real run: the ring formed, lost its four, and the survivors know each other.
    ASSERT_EQ(reference.active.size(), 36u);
    ASSERT_GT(reference.delivered, 5000u);
    EXPECT_EQ(reference.lost > 0, loss > 0);
    for (auto [partitions, threads] : {std::pair{2u, 1u}, {2u, 2u}, {3u, 2u}, {5u, 2u}}) {
      SCOPED_TRACE(testing::Message() << partitions << " partitions, " << threads << " threads");
      const Outcome o = run(windowed(partitions, threads, loss));
      EXPECT_EQ(o.trace, reference.trace);
      EXPECT_EQ(o.events, reference.events);
      EXPECT_EQ(o.delivered, reference.delivered);
      EXPECT_EQ(o.lost, reference.lost);
      EXPECT_EQ(o.to_dead, reference.to_dead);
      EXPECT_EQ(o.timers, reference.timers);
      EXPECT_EQ(o.active, reference.active);
      EXPECT_EQ(o.leaf_sets, reference.leaf_sets);
      EXPECT_EQ(o.sent_bytes, reference.sent_bytes);
    }
  }
}

TEST(WindowedEngine, ADatagramBetweenPartitionsArrivesAfterTheModelledLatency) {
  // Antipodes, in different partitions: 200 ms one way, through an outbox.
  Simulator sim(windowed(2, 2));
  sim.add_node(id_for(4, 0), 1, Position{0, 0, 1});
  sim.add_node(id_for(4, 1), 2, Position{0, 0, -1});
  sim.start_ring(0);
  sim.join(1, {Simulator::endpoint_of(0)});
  sim.run_until(ms(199));
  EXPECT_EQ(sim.counters().messages_delivered, 0u);
  sim.run_until(ms(200));
  EXPECT_GE(sim.counters().messages_delivered, 1u);
  sim.run_until(seconds(5));
  EXPECT_EQ(sim.active_nodes().size(), 2u);
  EXPECT_EQ(sim.oracle().size(), 2u);
}

TEST(WindowedEngine, ActionsRunInTimeThenSchedulingOrderBetweenWindows) {
  Simulator sim(windowed(2, 2));
  std::vector<std::pair<int, int64_t>> ran;
  auto record = [&](int tag) {
    return [&ran, &sim, tag] { ran.emplace_back(tag, sim.now().count()); };
  };
  sim.schedule(Time{300}, record(3));
  sim.schedule(Time{100}, record(1));
  sim.schedule(Time{300}, record(4));
  sim.schedule(Time{200}, [&] {
    ran.emplace_back(5, sim.now().count());
    sim.schedule(Time{0}, record(6));  // in the past: runs now
  });
  sim.run_until(Time{1000});
  const std::vector<std::pair<int, int64_t>> expected{{1, 100}, {5, 200}, {6, 200}, {3, 300},
                                                      {4, 300}};
  EXPECT_EQ(ran, expected);
  EXPECT_EQ(sim.now(), Time{1000});
  EXPECT_FALSE(sim.step());
}

TEST(WindowedEngine, RefusesHooksThatWouldRunOnItsThreads) {
  Simulator sim(windowed(2, 2));
  EXPECT_THROW(sim.set_drop_filter([](uint32_t, uint32_t, const overlay::Message&) { return true; }),
               std::logic_error);
}

}  // namespace
}  // namespace forestcast::sim
