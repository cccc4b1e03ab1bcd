// The forest scenario on the windowed engine: one thread or two, the same report byte for byte
// (apart from "perf"), while the stream flows and a quarter of the nodes die.
#include <gtest/gtest.h>

#include <string>

#include "scenarios/forest_scenario.hpp"

namespace forestcast::sim {
namespace {

ForestScenarioConfig windowed_config(unsigned threads) {
  ForestScenarioConfig c;
  c.nodes = 300;
  c.seed = 4;
  c.capacity = 24;
  c.settle = seconds(3);
  c.subscribe_spread = seconds(3);
  c.build = seconds(10);
  c.churn = seconds(6);
  c.kill_fraction = 0.25;
  c.engine = SimEngine::kWindowed;
  c.threads = threads;
  return c;
}

TEST(ForestWindowed, OneOrTwoThreadsSameReport) {
  SCOPED_TRACE("replay: forestcast sim --scenario forest --nodes 300 --capacity 24 --seed 4 "
               "--kill-fraction 0.25 --build-s 10 --churn-s 6 --windowed --threads 2");
  auto one = to_json(run_forest_scenario(windowed_config(1)));
  auto two = to_json(run_forest_scenario(windowed_config(2)));
  EXPECT_EQ(one["perf"]["threads"], 1);
  EXPECT_EQ(two["perf"]["threads"], 2);
  EXPECT_EQ(one["perf"]["events"], two["perf"]["events"]);
  // The run is a real forest, not an empty one that any engine would agree on.
  EXPECT_EQ(one["forest"]["all_stripes_fraction"], 1.0);
  EXPECT_EQ(one["forest"]["outdegree_violations"], 0);
  EXPECT_EQ(one["churn"]["killed"], 75);
  EXPECT_GT(one["churn"]["repair_p50_ms"].get<double>(), 0.0);
  one.erase("perf");
  two.erase("perf");
  EXPECT_EQ(one.dump(), two.dump());
}

}  // namespace
}  // namespace forestcast::sim
