// The routing scenario's report: the JSON object its last stdout line prints, and the names of
// the proof modes the command line takes.
#include "scenarios/routing_scenario.hpp"

#include <cmath>

#include "scenarios/round_to.hpp"

namespace forestcast::sim {

std::optional<ProofMode> parse_proof_mode(const std::string& name) {
  if (name == "off") return ProofMode::kOff;
  if (name == "modelled") return ProofMode::kModelled;
  if (name == "real") return ProofMode::kReal;
  return std::nullopt;
}

const char* to_string(ProofMode mode) {
  switch (mode) {
    case ProofMode::kOff:
      return "off";
    case ProofMode::kModelled:
      return "modelled";
    case ProofMode::kReal:
      return "real";
  }
  return "off";
}

nlohmann::ordered_json to_json(const RoutingResult& r) {
  // Rounded so the report stays readable; rounding is deterministic, so byte identity holds.
  auto fixed = [](double v) { return round_to(v, 6); };
  nlohmann::ordered_json j;
  j["scenario"] = "routing";
  j["nodes"] = r.nodes;
  j["seed"] = r.seed;
  j["routing"] = {{"lookups", r.routing.lookups},
                  {"correct_fraction", fixed(r.routing.correct_fraction)},
                  {"hops_mean", fixed(r.routing.hops_mean)},
                  {"hops_max", r.routing.hops_max},
                  {"rdp_mean", fixed(r.routing.rdp_mean)}};
  if (r.malicious) {
    const MaliciousResult& m = *r.malicious;
    j["malicious"] = {{"fraction", fixed(m.fraction)},
                      {"liars", m.liars},
                      {"correct_fraction_defended", fixed(m.defended.correct_fraction)},
                      {"correct_fraction_undefended", fixed(m.undefended.correct_fraction)},
                      {"redundant_fraction", fixed(m.redundant_fraction)},
                      {"passed_but_wrong_fraction", fixed(m.passed_but_wrong)},
                      {"datagrams_per_lookup_defended", fixed(m.datagrams_per_lookup_defended)},
                      {"datagrams_per_lookup_undefended", fixed(m.datagrams_per_lookup_undefended)},
                      {"latency_ms_defended", fixed(m.latency_ms_defended)},
                      {"latency_ms_undefended", fixed(m.latency_ms_undefended)},
                      {"routing_table_liar_fraction", fixed(m.routing_table_liar_fraction)},
                      {"honest_leaf_sets_wrong", m.honest_leaf_sets_wrong},
                      {"guard", m.guard},
                      {"guard_datagrams_per_walk", fixed(m.guard_datagrams_per_walk)}};
  }
  if (r.churn) {
    j["churn"] = {{"killed", r.killed},
                  {"correct_fraction_during", fixed(r.during.correct_fraction)},
                  {"correct_fraction_after_repair", fixed(r.after_repair.correct_fraction)}};
  }
  if (r.partitioned) {
    nlohmann::ordered_json p;
    p["seconds"] = fixed(r.partition_s);
    if (r.leafsets_match_after_heal_s)
      p["leafsets_match_after_heal_s"] = fixed(*r.leafsets_match_after_heal_s);
    else
      p["leafsets_match_after_heal_s"] = nullptr;
    p["correct_fraction_after_heal"] = fixed(r.after_heal.correct_fraction);
    j["partition"] = p;
  }
  if (r.proofs != ProofMode::kOff) {
    const overlay::PastryCounters& c = r.proof_counters;
    j["proofs"] = {{"mode", to_string(r.proofs)},
                   {"requested", c.proofs_requested},
                   {"made", c.proofs_made},
                   {"refused", c.proofs_refused},
                   {"verified", c.proofs_verified},
                   {"rejected", c.proofs_rejected},
                   {"unproven_held", c.unproven_held},
                   {"unproven_dropped", c.unproven_dropped}};
  }
  // Wall-clock measurements: these differ from run to run, everything above does not.
  j["perf"] = {{"wall_s", round_to(r.wall_s, 3)},
               {"events", r.events},
               {"events_per_s", std::round(r.events_per_s)},
               {"peak_rss_mb", round_to(r.peak_rss_mb, 1)}};
  return j;
}

}  // namespace forestcast::sim
