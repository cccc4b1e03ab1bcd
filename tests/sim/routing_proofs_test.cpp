// The ring with key-proven ids (docs/security.md §3): every node proves its key before it is
// believed, in the simulator with the modelled scheme and with real Ed25519 keys.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "scenarios/routing_scenario.hpp"

namespace forestcast::sim {
namespace {

RoutingScenarioConfig config_for(size_t nodes, ProofMode proofs) {
  RoutingScenarioConfig c;
  c.nodes = nodes;
  c.seed = 3;
  c.lookups = 1000;
  c.check_wire_size = true;  // a Pong with its proof must fit a datagram, as over UDP
  c.proofs = proofs;
  c.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  return c;
}

void expect_a_correct_ring(const RoutingResult& r, size_t nodes) {
  EXPECT_EQ(r.joined, nodes);
  EXPECT_EQ(r.routing.correct_fraction, 1.0);
  EXPECT_EQ(r.leaf_set_mismatches, 0u);
  EXPECT_EQ(r.leaf_sets_checked, nodes);
  EXPECT_EQ(r.messages_oversize, 0u);
  // Every node proved its key to others, and every proof checked was good (a few are made for
  // probes that were settled or timed out before they arrived, or are still in flight).
  EXPECT_GE(r.proof_counters.proofs_made, nodes);
  EXPECT_LE(r.proof_counters.proofs_verified, r.proof_counters.proofs_made);
  EXPECT_GE(r.proof_counters.proofs_verified * 100, r.proof_counters.proofs_made * 99);
  EXPECT_EQ(r.proof_counters.proofs_rejected, 0u);
}

TEST(RoutingProofs, ModelledProofsKeepTheRingCorrect) {
  const RoutingResult r = run_routing_scenario(config_for(300, ProofMode::kModelled));
  expect_a_correct_ring(r, 300);
  EXPECT_LT(r.routing.rdp_mean, 1.5);
  const auto j = to_json(r);
  EXPECT_EQ(j["proofs"]["mode"], "modelled");
  EXPECT_EQ(j["proofs"]["made"], r.proof_counters.proofs_made);
}

TEST(RoutingProofs, RealEd25519ProofsKeepTheRingCorrect) {
  expect_a_correct_ring(run_routing_scenario(config_for(60, ProofMode::kReal)), 60);
}

TEST(RoutingProofs, WithoutProofsNothingIsProven) {
  const RoutingResult r = run_routing_scenario(config_for(60, ProofMode::kOff));
  EXPECT_EQ(r.routing.correct_fraction, 1.0);
  EXPECT_EQ(r.proof_counters.proofs_made, 0u);
  EXPECT_FALSE(to_json(r).contains("proofs"));
}

}  // namespace
}  // namespace forestcast::sim
