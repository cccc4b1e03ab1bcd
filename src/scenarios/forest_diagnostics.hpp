#pragma once
// The forest scenario's diagnostics on stderr (`sim: ...` lines): how the forest is shaped
// (interior stripes per node, depth, foreign children, time to every stripe) and why pairs are
// still detached (SCG membership, walk outcomes, push-down). Not part of the JSON report.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "net/sim/simulator.hpp"
#include "scenarios/forest_node.hpp"

namespace forestcast::sim::forest {

struct ForestView {
  const Simulator& sim;
  const std::vector<ForestNode>& nodes;
  overlay::NodeId group;
  uint32_t stripes = 0;
  Time stream_start{0};
  bool verbose = false;
  uint64_t credential_checks = 0;
  std::function<void(const std::string&)> report;
};

// After the build: shape of the forest.
void report_build_diagnostics(const ForestView& v);
// The deepest chain of each stripe deeper than 10 levels, and how its nodes got there.
void report_deep_chains(const ForestView& v);
// Whether the control groups' trees agree with themselves (child and parent entries).
void report_scg_staleness(const ForestView& v);
// After a kill at `kill`: where the repaired viewers' time went (repair_breakdown.cpp).
void report_repair_breakdown(const ForestView& v, Time kill);
// At the end: detached pairs and what the walks and push-downs did.
void report_final_diagnostics(const ForestView& v);

}  // namespace forestcast::sim::forest
