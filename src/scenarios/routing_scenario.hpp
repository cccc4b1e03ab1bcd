#pragma once
// `forestcast sim --scenario routing`: build a ring by real protocol joins, let it settle, then
// measure lookups (correctness against the oracle, hops, relative delay penalty), optionally
// kill a fraction of the nodes at once and measure lookups during and after repair.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/time.hpp"
#include "net/sim/topology.hpp"
#include "overlay/pastry_node.hpp"
#include "scenarios/malicious_node.hpp"
#include "secure/neighbourhood_guard.hpp"
#include "secure/secure_lookup.hpp"

namespace forestcast::sim {

// Key-proven ids in the simulation (docs/security.md §3): none, the modelled scheme
// (net/sim/modelled_proofs.hpp: same messages and sizes, no elliptic-curve CPU), or real
// Ed25519 (every node's key from a seed, its id the SHA-1 of the public key).
enum class ProofMode { kOff, kModelled, kReal };
std::optional<ProofMode> parse_proof_mode(const std::string& name);
const char* to_string(ProofMode mode);

struct RoutingScenarioConfig {
  size_t nodes = 1000;
  uint64_t seed = 1;
  size_t lookups = 1000;
  std::optional<double> kill_fraction;  // churn phase only when set; in [0, 1)
  // Partition phase only when set: after the first lookups, every node is put on one of two
  // sides by a fair coin and no datagram crosses for this long; then the network heals.
  std::optional<Duration> partition;
  Duration heal_wait = seconds(300);  // after the heal: how long to wait for right leaf sets
  // Lying nodes only when set: this fraction of the nodes, chosen by the seed, lie from the start
  // (scenarios/malicious_node.hpp); lookups come from honest nodes, and the routing phase's
  // lookups are issued again through secure lookups (secure/secure_lookup.hpp). In [0, 0.5].
  std::optional<double> malicious;
  MaliciousConfig liars;
  secure::SecureLookupConfig secure;
  // The neighbourhood guard on every honest node; nullopt: none (to measure what it is for).
  std::optional<secure::GuardConfig> guard = secure::GuardConfig{};
  TopologyKind topology = TopologyKind::kSphere;
  double loss = 0.0;                          // per-datagram drop probability, in [0, 1)
  Duration join_interval = ms(5);             // node i joins at i * join_interval
  Duration settle = seconds(30);              // after the last join, before measuring
  Duration lookup_spread = seconds(10);       // lookups of one phase are spread over this
  Duration lookup_timeout = seconds(30);      // undelivered this long after issue: incorrect
  Duration churn_lookup_spread = seconds(5);  // "during" lookups: the first seconds after kill
  Duration repair_wait = seconds(60);         // "after repair" lookups start this long after
  overlay::PastryConfig pastry;
  bool check_wire_size = false;  // SimConfig::check_wire_size: encode and size-check every message
  ProofMode proofs = ProofMode::kOff;
  // When set: these node ids (in join order, `nodes` must equal their count), each placed at
  // position_from_id() instead of a random place, so a run compares with real nodes of the
  // same ids under the UDP runtime's link emulation.
  std::vector<overlay::NodeId> ids;
  // Human-readable progress (the command prints it to stderr); may be empty.
  std::function<void(const std::string&)> progress;
};

// Why a config cannot run, or nullopt when it can.
std::optional<std::string> validate(const RoutingScenarioConfig& config);

struct LookupPhaseResult {
  size_t lookups = 0;
  size_t delivered = 0;
  size_t correct = 0;
  double correct_fraction = 0;
  double hops_mean = 0;  // over delivered lookups
  int hops_max = 0;
  // Σ(delivery − issue) / Σ(direct latency source → oracle root), over delivered lookups whose
  // root is not the source.
  double rdp_mean = 0;
};

// Lying nodes: the same lookups (sources, keys, spacing) plain and through secure lookups.
struct MaliciousResult {
  double fraction = 0;
  size_t liars = 0;
  LookupPhaseResult undefended;  // the routing phase
  LookupPhaseResult defended;
  double redundant_fraction = 0;  // secure lookups whose first answer failed the test
  double passed_but_wrong = 0;    // ... whose first answer passed it and was wrong
  // Datagrams per lookup: the application's (each routed hop, relay, reply) plus one RouteAck
  // per routed hop; and the mean time from issue to answer, over answered lookups.
  double datagrams_per_lookup_defended = 0;
  double datagrams_per_lookup_undefended = 0;
  double latency_ms_defended = 0;
  double latency_ms_undefended = 0;
  // The neighbourhood guard's own datagrams (Near requests and answers, not the probes it asks
  // Pastry for) per walk; 0 without the guard.
  bool guard = false;
  double guard_datagrams_per_walk = 0;
  // Honest nodes whose leaf set lacks a member of the true one, at the end.
  size_t honest_leaf_sets_wrong = 0;
  // Share of the honest nodes' routing-table entries that are liars, when lookups start.
  double routing_table_liar_fraction = 0;
};

struct RoutingResult {
  size_t nodes = 0;
  uint64_t seed = 0;
  size_t joined = 0;  // nodes active when the settle period ended
  LookupPhaseResult routing;
  std::optional<MaliciousResult> malicious;
  bool churn = false;
  size_t killed = 0;
  LookupPhaseResult during;
  LookupPhaseResult after_repair;
  bool partitioned = false;
  double partition_s = 0;
  // Seconds from the heal until every live node's leaf set equals the oracle's; nullopt if
  // that did not happen within heal_wait.
  std::optional<double> leafsets_match_after_heal_s;
  LookupPhaseResult after_heal;
  // At the end: live active nodes whose leaf set differs from the oracle's true leaf set.
  size_t leaf_sets_checked = 0;
  size_t leaf_set_mismatches = 0;
  uint64_t duplicate_deliveries = 0;
  // Id proofs, summed over all nodes (PastryCounters); reported when proofs are on.
  ProofMode proofs = ProofMode::kOff;
  overlay::PastryCounters proof_counters;
  uint64_t trace_hash = 0;
  // Messages over the datagram limit, dropped; counted only with check_wire_size (not in JSON).
  uint64_t messages_oversize = 0;
  // perf: wall-clock figures, the only part that varies between runs with the same seed.
  double wall_s = 0;
  uint64_t events = 0;
  double events_per_s = 0;
  double peak_rss_mb = 0;
};

// Throws std::invalid_argument when validate() fails.
RoutingResult run_routing_scenario(const RoutingScenarioConfig& config);

// The report object, keys in the documented order; "perf" is last so it can be dropped when
// comparing runs.
nlohmann::ordered_json to_json(const RoutingResult& result);

}  // namespace forestcast::sim
