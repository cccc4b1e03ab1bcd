#include "scenarios/routing_scenario.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <iostream>
#include <ostream>
#include <stdexcept>
#include <string>

namespace forestcast::sim {
namespace {

RoutingScenarioConfig config_for(size_t nodes, uint64_t seed, size_t lookups) {
  RoutingScenarioConfig c;
  c.nodes = nodes;
  c.seed = seed;
  c.lookups = lookups;
  c.check_wire_size = true;  // a message UDP would drop fails here too
  c.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  return c;
}

TEST(RoutingScenario, ThousandNodesRouteCorrectlyInFewHops) {
  const RoutingResult r = run_routing_scenario(config_for(1000, 1, 2000));
  SCOPED_TRACE("seed 1");
  EXPECT_EQ(r.joined, 1000u);
  EXPECT_EQ(r.routing.lookups, 2000u);
  EXPECT_EQ(r.routing.delivered, 2000u);
  EXPECT_EQ(r.routing.correct_fraction, 1.0);
  EXPECT_EQ(r.messages_oversize, 0u);
  EXPECT_LT(r.routing.hops_mean, std::log(1000.0) / std::log(16.0));  // O(log16 N)
  EXPECT_GT(r.routing.hops_mean, 1.0);  // a real multi-hop overlay, not a full mesh
  EXPECT_GE(r.routing.rdp_mean, 1.0);   // no path beats the direct one
  // Proximity-aware tables: join-time PNS alone (no proximity rounds) measured 1.73 here.
  EXPECT_LT(r.routing.rdp_mean, 1.5);
  EXPECT_EQ(r.leaf_set_mismatches, 0u);
  EXPECT_EQ(r.leaf_sets_checked, 1000u);
  EXPECT_FALSE(r.churn);
}

// Joins 2 ms apart, as the forest scenario makes them: hundreds of joins overlap, and a joiner
// answers the address checks of hops that are themselves still learning the ring. At seed 3
// one node (837, the forest's second root of stripe 7) ended outside every leaf set, and 17
// leaf sets and 3 lookups were wrong (docs/pastry.md "Join").
TEST(RoutingScenario, OverlappingJoinsLeaveEveryLeafSetRight) {
  RoutingScenarioConfig c = config_for(1000, 3, 1000);
  c.join_interval = ms(2);
  const RoutingResult r = run_routing_scenario(c);
  EXPECT_EQ(r.joined, 1000u);
  EXPECT_EQ(r.routing.correct_fraction, 1.0);
  EXPECT_EQ(r.leaf_sets_checked, 1000u);
  EXPECT_EQ(r.leaf_set_mismatches, 0u);
}

struct ChurnCase {
  size_t nodes;
  uint64_t seed;
};

void PrintTo(const ChurnCase& k, std::ostream* os) { *os << k.nodes << " nodes, seed " << k.seed; }

class RoutingChurn : public ::testing::TestWithParam<ChurnCase> {};

TEST_P(RoutingChurn, RepairsAfterTenPercentOfNodesDie) {
  const ChurnCase k = GetParam();
  RoutingScenarioConfig c = config_for(k.nodes, k.seed, 1000);
  c.kill_fraction = 0.1;
  const RoutingResult r = run_routing_scenario(c);
  SCOPED_TRACE("nodes " + std::to_string(k.nodes) + " seed " + std::to_string(k.seed));
  EXPECT_EQ(r.joined, k.nodes);
  EXPECT_EQ(r.routing.correct_fraction, 1.0);
  ASSERT_TRUE(r.churn);
  const size_t killed = k.nodes / 10;
  EXPECT_EQ(r.killed, killed);
  EXPECT_EQ(r.after_repair.correct_fraction, 1.0);
  // The requirement (BENCHMARKS.md): at least 99.9 % of the lookups issued in the 5 s after
  // the kill reach the right node, since every hop is acknowledged and routed around.
  EXPECT_GE(r.during.correct_fraction, 0.999);
  // Every survivor's leaf set is exactly the oracle's: dead leaves gone, replacements found.
  EXPECT_EQ(r.leaf_sets_checked, k.nodes - killed);
  EXPECT_EQ(r.leaf_set_mismatches, 0u);
}

INSTANTIATE_TEST_SUITE_P(Sizes, RoutingChurn,
                         ::testing::Values(ChurnCase{1000, 1}, ChurnCase{500, 2}),
                         [](const ::testing::TestParamInfo<ChurnCase>& test) {
                           return "n" + std::to_string(test.param.nodes) + "_seed" +
                                  std::to_string(test.param.seed);
                         });

TEST(RoutingScenario, LossyLinksStillReachTheRoot) {
  // Per-hop acknowledgements and retries (DESIGN.md §3) must hide 1 % datagram loss.
  RoutingScenarioConfig c = config_for(300, 5, 1000);
  c.loss = 0.01;
  const RoutingResult r = run_routing_scenario(c);
  EXPECT_EQ(r.joined, 300u);
  EXPECT_EQ(r.routing.delivered, 1000u);
  EXPECT_EQ(r.routing.correct_fraction, 1.0);
}

nlohmann::ordered_json without_perf(const RoutingResult& r) {
  auto j = to_json(r);
  j.erase("perf");
  return j;
}

// Two random halves apart for 60 s: each forms a ring of its own (Pastry alone never finds the
// other half again); the departed leaves each node keeps probing merge them after the heal.
TEST(RoutingPartition, TwoHalvesBecomeOneRingAgainAfterTheHeal) {
  RoutingScenarioConfig c = config_for(500, 1, 2000);
  c.partition = seconds(60);
  SCOPED_TRACE("replay: forestcast sim --scenario routing --nodes 500 --seed 1 --lookups 2000 "
               "--partition-s 60");
  const RoutingResult r = run_routing_scenario(c);
  ASSERT_TRUE(r.partitioned);
  ASSERT_TRUE(r.leafsets_match_after_heal_s.has_value());
  EXPECT_LE(*r.leafsets_match_after_heal_s, 60.0);
  EXPECT_EQ(r.after_heal.correct_fraction, 1.0);
  EXPECT_EQ(r.leaf_set_mismatches, 0u);
  const auto j = to_json(r);
  EXPECT_EQ(j["partition"]["seconds"], 60.0);
  EXPECT_EQ(j["partition"]["correct_fraction_after_heal"], 1.0);
}

// Without the departed leaves the halves still meet again, but only by luck: through routing
// rows that still name nodes of the other side (hearsay that outlived the partition). Looking
// for the leaves found dead is what makes the merge prompt.
TEST(RoutingPartition, DepartedLeavesMakeTheMergeFaster) {
  RoutingScenarioConfig c = config_for(500, 1, 500);
  c.partition = seconds(60);
  c.heal_wait = seconds(120);
  const RoutingResult with = run_routing_scenario(c);
  c.pastry.departed_memory = 0;
  const RoutingResult without = run_routing_scenario(c);
  ASSERT_TRUE(with.leafsets_match_after_heal_s.has_value());
  const double without_s = without.leafsets_match_after_heal_s.value_or(1e9);
  EXPECT_LT(*with.leafsets_match_after_heal_s + 5.0, without_s);
}

TEST(RoutingScenario, SameSeedSameReport) {
  RoutingScenarioConfig c = config_for(200, 7, 300);
  c.kill_fraction = 0.2;
  c.loss = 0.01;
  const RoutingResult a = run_routing_scenario(c);
  const RoutingResult b = run_routing_scenario(c);
  EXPECT_EQ(without_perf(a).dump(), without_perf(b).dump());
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.events, b.events);
  c.seed = 8;
  const RoutingResult other = run_routing_scenario(c);
  EXPECT_NE(a.trace_hash, other.trace_hash);
}

TEST(RoutingScenario, ReportHasTheDocumentedShape) {
  RoutingScenarioConfig c = config_for(20, 3, 50);
  c.kill_fraction = 0.1;
  c.settle = seconds(5);
  const auto j = to_json(run_routing_scenario(c));
  std::vector<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.push_back(key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"scenario", "nodes", "seed", "routing", "churn", "perf"}));
  keys.clear();
  for (const auto& [key, value] : j["routing"].items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"lookups", "correct_fraction", "hops_mean", "hops_max",
                                            "rdp_mean"}));
  keys.clear();
  for (const auto& [key, value] : j["churn"].items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"killed", "correct_fraction_during",
                                            "correct_fraction_after_repair"}));
  keys.clear();
  for (const auto& [key, value] : j["perf"].items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"wall_s", "events", "events_per_s", "peak_rss_mb"}));
  EXPECT_EQ(j["churn"]["killed"], 2);
  EXPECT_EQ(j["scenario"], "routing");
}

TEST(RoutingScenario, SingleNodeIsItsOwnRoot) {
  const RoutingResult r = run_routing_scenario(config_for(1, 4, 10));
  EXPECT_EQ(r.routing.correct_fraction, 1.0);
  EXPECT_EQ(r.routing.hops_max, 0);
}

TEST(RoutingScenario, RejectsBadConfigs) {
  auto bad = [](auto mutate) {
    RoutingScenarioConfig c;
    mutate(c);
    return validate(c).has_value();
  };
  EXPECT_FALSE(bad([](RoutingScenarioConfig&) {}));
  EXPECT_TRUE(bad([](RoutingScenarioConfig& c) { c.nodes = 0; }));
  EXPECT_TRUE(bad([](RoutingScenarioConfig& c) { c.lookups = 0; }));
  EXPECT_TRUE(bad([](RoutingScenarioConfig& c) { c.kill_fraction = 1.0; }));
  EXPECT_TRUE(bad([](RoutingScenarioConfig& c) { c.kill_fraction = -0.1; }));
  EXPECT_TRUE(bad([](RoutingScenarioConfig& c) { c.loss = 1.0; }));
  EXPECT_TRUE(bad([](RoutingScenarioConfig& c) { c.partition = seconds(0); }));
  EXPECT_TRUE(bad([](RoutingScenarioConfig& c) { c.join_interval = ms(-1); }));
  RoutingScenarioConfig c;
  c.nodes = 0;
  EXPECT_THROW(run_routing_scenario(c), std::invalid_argument);
}

}  // namespace
}  // namespace forestcast::sim
