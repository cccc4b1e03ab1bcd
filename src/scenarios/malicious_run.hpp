#pragma once
// The `--malicious` part of the routing scenario (routing_scenario.hpp): which nodes lie, the
// applications every node runs (liars: malicious_node.hpp; honest nodes: a SecureLookup and a
// NeighbourhoodGuard), and the defended phase, which issues the plain phase's lookups again
// through secure lookups and compares. The routing scenario calls it at the points below.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "net/sim/simulator.hpp"
#include "scenarios/lookup_app.hpp"
#include "scenarios/malicious_node.hpp"
#include "scenarios/routing_scenario.hpp"
#include "secure/neighbourhood_guard.hpp"
#include "secure/secure_lookup.hpp"

namespace forestcast::sim {

class MaliciousRun {
 public:
  // How the routing scenario waits for and sums up a phase of lookups in any log.
  using Wait = std::function<void(const LookupLog&, size_t first, size_t count, Time last_issue)>;
  using Summarize = std::function<LookupPhaseResult(const LookupLog&, size_t first, size_t count)>;

  // Picks the liars (config.malicious of config.nodes, by `seed`) before any node exists, and
  // makes their datagrams lie (Simulator::set_tamper).
  MaliciousRun(const RoutingScenarioConfig& config, Simulator& sim, LookupLog& log, uint64_t seed,
               std::function<void(const std::string&)> report);

  bool liar(uint32_t i) const { return i < liar_.size() && liar_[i] != 0; }
  // Node i's applications, in place of the plain LookupApp.
  void attach_apps(uint32_t i);
  // Node i joined through `bootstrap`, one of `active`: its bootstrap list for the guard.
  void joined(uint32_t i, uint32_t bootstrap, const std::vector<uint32_t>& active);
  // Taken just before the plain lookups [first, first + count) start and after they end.
  void before_plain_phase();
  // The same lookups again through secure lookups; the result compares both.
  MaliciousResult defended_phase(size_t first, size_t count, const LookupPhaseResult& plain,
                                 const Wait& wait, const Summarize& summarize);

 private:
  // Datagrams lookups cost so far: `app_id`'s messages plus one RouteAck per routed hop.
  uint64_t lookup_datagrams(uint16_t app_id) const;
  double routing_table_liar_fraction() const;
  // Prints what the defences did; returns the honest nodes whose leaf set lacks a true member.
  size_t report_counters() const;

  const RoutingScenarioConfig& config_;
  Simulator& sim_;
  LookupLog& log_;
  Rng rng_;
  std::function<void(const std::string&)> report_;
  std::vector<uint8_t> liar_;  // by node index
  Colluders colluders_;
  LookupLog secure_log_;
  std::vector<uint8_t> secure_redundant_;            // by secure_log_ index: went redundant
  std::vector<uint8_t> secure_passed_;               // ... first answer passed the failure test
  std::vector<secure::SecureLookup*> secure_apps_;   // by node index; null on liars
  std::vector<secure::NeighbourhoodGuard*> guards_;  // ... and without a guard
  double routing_table_liars_ = 0;
  uint64_t plain_datagrams_before_ = 0;
};

}  // namespace forestcast::sim
