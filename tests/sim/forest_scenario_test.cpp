// The SplitStream forest in the simulator: every viewer gets every stripe, measured on data,
// and no node ever exceeds its outdegree limit; also after a quarter of the nodes die.
#include "scenarios/forest_scenario.hpp"

#include <gtest/gtest.h>

#include <string>

namespace forestcast::sim {
namespace {

ForestScenarioConfig config_for(size_t nodes, uint64_t seed) {
  ForestScenarioConfig c;
  c.nodes = nodes;
  c.seed = seed;
  c.capacity = 24;  // 50 % more outdegree than stripes wanted (see docs/multicast.md)
  c.settle = seconds(3);
  c.subscribe_spread = seconds(3);
  c.build = seconds(12);
  c.churn = seconds(10);
  return c;
}

class ForestSeeds : public ::testing::TestWithParam<uint64_t> {};

TEST_P(ForestSeeds, EveryViewerReceivesEveryStripeWithinItsLimit) {
  const ForestScenarioConfig c = config_for(300, GetParam());
  SCOPED_TRACE("replay: forestcast sim --scenario forest --nodes 300 --capacity 24 --seed " +
               std::to_string(c.seed));
  const ForestResult r = run_forest_scenario(c);
  EXPECT_EQ(r.all_stripes_fraction, 1.0);
  EXPECT_EQ(r.outdegree_violations, 0u);
  EXPECT_LE(r.depth_max, 10u);
  EXPECT_GT(r.stripe_skew_p99_ms, 0.0);                  // measured on complete packet rounds
  EXPECT_LT(r.upload_max_kbps, 24 * 1000.0 / 16 * 1.1);  // 24 children of 62.5 kbit/s, at most
}

INSTANTIATE_TEST_SUITE_P(Seeds, ForestSeeds, ::testing::Values(1, 2));

// Tight capacity (every node offers exactly the 16 stripes it receives, 16 spare slots in the
// whole forest): the forest still reaches everyone, shallow and close to interior-node-disjoint
// (before the stripe SCGs: all stripes 0.57, depth 18, interior in <= 1 stripe 0.49). Seed 5
// has two stripes whose root is of the previous digit (their stripeIds lie just above a digit
// boundary): before such a root kept its first joiner, both stripes reached nobody (0.0).
class TightForestSeeds : public ::testing::TestWithParam<uint64_t> {};

TEST_P(TightForestSeeds, TakesShape) {
  ForestScenarioConfig c = config_for(1000, GetParam());
  c.capacity = 16;
  c.settle = seconds(5);
  c.subscribe_spread = seconds(5);
  c.build = seconds(20);
  SCOPED_TRACE("replay: forestcast sim --scenario forest --nodes 1000 --capacity 16 --seed " +
               std::to_string(c.seed));
  const ForestResult r = run_forest_scenario(c);
  // Seeds 1-3 reach 1.0 since the SCGs hold members only (session 8; seed 1 was 0.997, pairs
  // left detached with an SCG member with room that walks did not reach), interior in <= 1
  // stripe 0.854 / 0.867 / 0.883 (session 11: 0.830 / 0.867 / 0.876). Kept at 0.995: a walk may still miss. Room-first push-down
  // without the REFUSE to a child dropped on its orphan's word fell to 0.707 on seed 1 (a wrong
  // drop climbed to the publisher's delegate and cut a stripe twice).
  EXPECT_GE(r.all_stripes_fraction, 0.995);
  EXPECT_EQ(r.outdegree_violations, 0u);
  // Depth: seed 1 grew one chain to depth 20 in its deficient stripe 8 (258 of 15,968 pairs
  // deeper than 10) while a full node kept every newcomer of the stripe's digit with spare and
  // pushed an interior child down below it with its subtree; after that fix seeds 1-3 reached
  // 10 / 9 / 7. Since full nodes, the stripe's root included, keep their children of the
  // stripe's digit (session 11), seeds 1-5 reach 7 / 7 / 5 / 6 / 6, mean 2.76-2.96
  // (docs/multicast.md, "Push-down chains"). The mean catches a forest that deepens
  // everywhere; the maximum a runaway chain or loop.
  EXPECT_LE(r.depth_mean, 3.5);
  EXPECT_LE(r.depth_max, 7u);
  EXPECT_GE(r.interior_single_stripe_fraction, 0.80);
  EXPECT_LT(r.upload_max_kbps, 16 * 1000.0 / 16 * 1.1);
}

// Seed 3 had a second root of stripe 7 (all stripes 0.978): a node left outside every leaf
// set by its join, which Pastry named the closest to the stripeId (docs/pastry.md "Join").
INSTANTIATE_TEST_SUITE_P(Seeds, TightForestSeeds, ::testing::Values(1, 2, 3, 4, 5));

// One node in ten is a pure leaf, some of them stripe roots: such a root hands its feed to a
// delegate of the publisher and every viewer still gets every stripe within every limit.
TEST(ForestScenario, CapacityMixWithPureLeavesReachesEveryone) {
  ForestScenarioConfig c = config_for(500, 3);
  c.capacity_mix = *parse_capacity_mix("16:0.4,8:0.2,32:0.3,0:0.1");
  SCOPED_TRACE(
      "replay: forestcast sim --scenario forest --nodes 500 --capacity-mix "
      "16:0.4,8:0.2,32:0.3,0:0.1 --seed 3 --build-s 12 (settle and spread 3 s here)");
  const ForestResult r = run_forest_scenario(c);
  EXPECT_TRUE(r.feasible);
  EXPECT_EQ(r.all_stripes_fraction, 1.0);
  EXPECT_EQ(r.outdegree_violations, 0u);
}

TEST(ForestScenario, RepairsOnDataAfterAQuarterOfTheNodesDie) {
  ForestScenarioConfig c = config_for(300, 3);
  c.kill_fraction = 0.25;
  SCOPED_TRACE(
      "replay: forestcast sim --scenario forest --nodes 300 --capacity 24 "
      "--kill-fraction 0.25 --seed 3");
  const ForestResult r = run_forest_scenario(c);
  EXPECT_EQ(r.killed, 75u);
  EXPECT_EQ(r.all_stripes_fraction_after_repair, 1.0);
  EXPECT_EQ(r.outdegree_violations, 0u);
  EXPECT_LT(r.packets_lost_fraction, 0.5);
}

TEST(ForestScenario, RepairsAfterEveryStripeRootDies) {
  ForestScenarioConfig c = config_for(300, 4);
  c.kill_roots = true;
  SCOPED_TRACE(
      "replay: forestcast sim --scenario forest --nodes 300 --capacity 24 --kill-roots "
      "--seed 4");
  const ForestResult r = run_forest_scenario(c);
  EXPECT_GT(r.killed, 0u);
  EXPECT_EQ(r.all_stripes_fraction_after_repair, 1.0);
  EXPECT_EQ(r.outdegree_violations, 0u);
}

TEST(ForestScenario, PlainScribeTreeConcentratesUpload) {
  ForestScenarioConfig c = config_for(150, 5);
  c.stripes = 1;
  c.capacity = 1000;  // a single tree: the root takes as many children as reach it
  const ForestResult r = run_forest_scenario(c);
  EXPECT_EQ(r.all_stripes_fraction, 1.0);
  // Some node uploads several times the stream rate; the forest's limit would forbid it.
  EXPECT_GT(r.upload_max_kbps, 4 * 1000.0);
}

TEST(ForestScenario, SameSeedSameReport) {
  ForestScenarioConfig c = config_for(120, 8);
  c.build = seconds(8);
  auto a = to_json(run_forest_scenario(c));
  auto b = to_json(run_forest_scenario(c));
  a.erase("perf");
  b.erase("perf");
  EXPECT_EQ(a.dump(), b.dump());
}

TEST(ForestScenario, CapacityMixParses) {
  const auto mix = parse_capacity_mix("16:0.4,8:0.2,32:0.3,0:0.1");
  ASSERT_TRUE(mix.has_value());
  EXPECT_EQ(mix->size(), 4u);
  EXPECT_FALSE(parse_capacity_mix("16:0.5").has_value());  // shares must sum to 1
  EXPECT_FALSE(parse_capacity_mix("x:1").has_value());
  EXPECT_FALSE(parse_capacity_mix("-1:1").has_value());
}

}  // namespace
}  // namespace forestcast::sim
