// Secure routing against lying nodes (docs/security.md "Secure routing"): the same lookups plain
// and through secure lookups, in one run, judged by the oracle.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "scenarios/routing_scenario.hpp"

namespace forestcast::sim {
namespace {

RoutingScenarioConfig liars(double fraction, uint64_t seed) {
  RoutingScenarioConfig c;
  c.nodes = 600;
  c.seed = seed;
  c.lookups = 500;
  c.malicious = fraction;
  c.check_wire_size = true;  // every secure message fits a datagram and survives the codec
  c.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  return c;
}

TEST(SecureRouting, DefendedLookupsBeatUndefendedOnesWhenAFifthOfTheNodesLie) {
  for (uint64_t seed : {1, 2}) {
    SCOPED_TRACE("seed " + std::to_string(seed) +
                 " (forestcast sim --scenario routing --nodes "
                 "600 --lookups 500 --malicious 0.2 --seed " +
                 std::to_string(seed) + ")");
    const RoutingResult r = run_routing_scenario(liars(0.2, seed));
    ASSERT_TRUE(r.malicious);
    const MaliciousResult& m = *r.malicious;
    EXPECT_EQ(m.liars, 120u);
    EXPECT_EQ(r.messages_oversize, 0u);
    // Plain Pastry: a lie anywhere on the path wins (measured 0.71-0.75).
    EXPECT_LT(m.undefended.correct_fraction, 0.85);
    // Defended: measured 1.0 for both seeds; the paper reports about 0.999.
    EXPECT_GE(m.defended.correct_fraction, 0.98);
    EXPECT_GE(m.defended.correct_fraction - m.undefended.correct_fraction, 0.15);
    EXPECT_LE(m.passed_but_wrong, 0.01);   // the failure test rarely believes a lie
    EXPECT_GT(m.redundant_fraction, 0.2);  // ... because it catches them
    // The guard healed every eclipse a lying join root caused.
    EXPECT_LE(m.honest_leaf_sets_wrong, 6u);
  }
}

TEST(SecureRouting, WithoutTheGuardLyingJoinRootsEclipseHonestLeafSets) {
  RoutingScenarioConfig c = liars(0.2, 1);
  c.guard.reset();
  const RoutingResult r = run_routing_scenario(c);
  SCOPED_TRACE("seed 1 --no-guard");
  ASSERT_TRUE(r.malicious);
  // Measured: 410 of 480 honest leaf sets lack a true member, defended lookups 0.76.
  EXPECT_GT(r.malicious->honest_leaf_sets_wrong, 100u);
  EXPECT_LT(r.malicious->defended.correct_fraction, 0.95);
}

TEST(SecureRouting, AnHonestRingAnswersEverySecureLookupCorrectly) {
  const RoutingResult r = run_routing_scenario(liars(0.0, 1));
  SCOPED_TRACE("seed 1 --malicious 0");
  ASSERT_TRUE(r.malicious);
  EXPECT_EQ(r.malicious->liars, 0u);
  EXPECT_EQ(r.malicious->undefended.correct_fraction, 1.0);
  EXPECT_EQ(r.malicious->defended.correct_fraction, 1.0);
  EXPECT_EQ(r.malicious->honest_leaf_sets_wrong, 0u);
  EXPECT_EQ(r.leaf_set_mismatches, 0u);
}

}  // namespace
}  // namespace forestcast::sim
