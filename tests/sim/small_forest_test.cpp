// The forest on SMALL rings, as `forestcast node` runs it on a few hosts (tests/integration/
// test_streams.py): 10-24 nodes, so most first digits have no node at all (stripes without an
// "own digit" interior node), default outdegree (one child per stripe received), the publisher
// joining the ring last and usually the root of some of its own stripes. The 6-24 node cases
// pass; the churn case does not repair within its bound yet and is disabled (docs/multicast.md,
// known gaps): run it with --gtest_also_run_disabled_tests.
#include <gtest/gtest.h>

#include <string>

#include "scenarios/forest_scenario.hpp"

namespace forestcast::sim {
namespace {

ForestScenarioConfig small_ring(size_t nodes, uint64_t seed) {
  ForestScenarioConfig c;
  c.nodes = nodes;
  c.seed = seed;
  c.capacity = -1;  // the daemon's default
  c.publisher_joins_last = true;
  c.join_interval = ms(50);
  c.settle = seconds(2);
  c.subscribe_spread = seconds(1);
  c.build = seconds(8);
  c.churn = seconds(6);
  return c;
}

std::string replay(const ForestScenarioConfig& c, const std::string& extra = "") {
  return "replay: forestcast sim --scenario forest --publisher-last --nodes " +
         std::to_string(c.nodes) + " --seed " + std::to_string(c.seed) + extra;
}

class SmallRing : public ::testing::TestWithParam<std::pair<size_t, uint64_t>> {};

TEST_P(SmallRing, EveryViewerReceivesEveryStripe) {
  const auto [nodes, seed] = GetParam();
  const ForestScenarioConfig c = small_ring(nodes, seed);
  SCOPED_TRACE(replay(c));
  const ForestResult r = run_forest_scenario(c);
  EXPECT_EQ(r.all_stripes_fraction, 1.0);
  EXPECT_EQ(r.viewers_missing_stripes, 0u);
  EXPECT_EQ(r.outdegree_violations, 0u);
}

INSTANTIATE_TEST_SUITE_P(Rings, SmallRing,
                         ::testing::Values(std::pair<size_t, uint64_t>{6, 1},
                                           std::pair<size_t, uint64_t>{10, 1},
                                           std::pair<size_t, uint64_t>{10, 2},
                                           std::pair<size_t, uint64_t>{16, 3},
                                           std::pair<size_t, uint64_t>{24, 4},
                                           // Listed as a known gap before cut-off propagation.
                                           std::pair<size_t, uint64_t>{24, 5},
                                           // A known gap (0.957) until a full stripe root kept
                                           // its only child there (SplitStream::admit).
                                           std::pair<size_t, uint64_t>{24, 6}));

TEST(SmallRingChurn, DISABLED_RepairsAfterAQuarterDieIncludingStripeRoots) {
  ForestScenarioConfig c = small_ring(24, 6);
  c.kill_fraction = 0.25;
  c.kill_roots = true;
  SCOPED_TRACE(replay(c, " --kill-fraction 0.25 --kill-roots"));
  const ForestResult r = run_forest_scenario(c);
  EXPECT_GT(r.killed, 0u);
  EXPECT_EQ(r.all_stripes_fraction, 1.0);
  EXPECT_EQ(r.all_stripes_fraction_after_repair, 1.0);
  EXPECT_LT(r.repair_p99_ms, 2000.0);
  EXPECT_EQ(r.outdegree_violations, 0u);
}

}  // namespace
}  // namespace forestcast::sim
