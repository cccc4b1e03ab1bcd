#pragma once
// `forestcast sim --scenario forest`: a ring built by real Pastry joins, one publisher creating a
// SplitStream stream, every other node viewing it while the stream flows; the forest's figures
// are measured on the data the viewers receive. Optionally a fraction of the nodes (and/or every
// stripe root) is killed at once while the stream flows, and repair is measured on data too.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/time.hpp"
#include "multicast/peer_fetch.hpp"
#include "net/sim/engine.hpp"
#include "net/sim/topology.hpp"
#include "overlay/pastry_node.hpp"

namespace forestcast::multicast {
class PacketSink;
class Scribe;
}

namespace forestcast::sim {

// A media layer riding on the forest in place of the synthetic source (`--scenario stream`,
// stream_scenario.cpp). The forest scenario asks it for the publisher's payloads at each send
// slot, tees every viewer's packets to it, and tells it when the run ends and who is alive.
class ForestMedia {
 public:
  virtual ~ForestMedia() = default;
  // Payloads (stripe, bytes) due at `now`; appended to `out`.
  virtual void publish(Time now,
                       std::vector<std::pair<uint32_t, std::shared_ptr<const std::string>>>& out) = 0;
  // Where node `node`'s packets go besides the forest's own record (null: nowhere).
  virtual multicast::PacketSink* viewer(uint32_t node) = 0;
  // Before finish(), once per node alive at the end: its Scribe (the media's traffic counters).
  virtual void count_node(uint32_t node, const multicast::Scribe& scribe) {
    (void)node;
    (void)scribe;
  }
  virtual void finish(Time now, const std::function<bool(uint32_t)>& alive) = 0;
};

struct ForestScenarioConfig {
  size_t nodes = 1000;
  uint64_t seed = 1;
  uint32_t stripes = 16;
  int capacity = -1;  // outdegree limit per node; -1 = stripes received
  // (capacity, share) pairs; shares sum to 1. Empty: every node has `capacity`.
  std::vector<std::pair<int, double>> capacity_mix;
  std::optional<double> kill_fraction;  // in [0, 1)
  bool kill_roots = false;
  // As the daemon runs it: the ring forms without the publisher, which joins last (and may well
  // be a stripe root itself); viewers subscribe once it publishes.
  bool publisher_joins_last = false;
  double stream_kbps = 1000;
  TopologyKind topology = TopologyKind::kSphere;
  Duration join_interval = ms(2);
  Duration settle = seconds(5);
  Duration subscribe_spread = seconds(5);  // viewers subscribe over this, stream flowing
  Duration build = seconds(20);            // stream start -> forest measurement (and kill)
  Duration churn = seconds(10);            // kill -> repair measurement
  overlay::PastryConfig pastry;
  multicast::FetchConfig fetch;  // peer fetch (used when a stream's viewers ask)
  std::function<void(const std::string&)> progress;
  // Also list a few detached (node, stripe) pairs at the end (on the progress channel).
  bool verbose_diagnostics = false;
  ForestMedia* media = nullptr;  // null: the synthetic source
  // The simulator's event loop (engine.hpp). The windowed engine's report is the same for any
  // number of threads; its perf section adds CPU figures.
  SimEngine engine = SimEngine::kSerial;
  unsigned threads = 1;
};

// Parses "16:0.4,8:0.2,32:0.3,0:0.1"; nullopt when malformed.
std::optional<std::vector<std::pair<int, double>>> parse_capacity_mix(const std::string& text);
std::optional<std::string> validate(const ForestScenarioConfig& config);

struct ForestResult {
  size_t nodes = 0;
  uint64_t seed = 0;
  uint32_t stripes = 0;
  double all_stripes_fraction = 0;
  uint64_t outdegree_violations = 0;
  double depth_mean = 0;
  size_t depth_max = 0;
  std::vector<size_t> depth_max_per_stripe;
  double interior_single_stripe_fraction = 0;
  double stripe_skew_p99_ms = 0;
  double upload_max_kbps = 0;
  double upload_p50_kbps = 0;
  double upload_p99_kbps = 0;
  double build_sim_s = 0;
  double control_msgs_per_node = 0;
  bool feasible = true;  // Σ limits ≥ Σ stripes wanted
  size_t viewers_missing_stripes = 0;
  bool churn = false;
  size_t killed = 0;
  double repair_p50_ms = 0;
  double repair_p99_ms = 0;
  double all_stripes_fraction_after_repair = 0;
  double packets_lost_fraction = 0;
  double wall_s = 0;
  uint64_t events = 0;
  double peak_rss_mb = 0;
  // The windowed engine only: threads, process CPU, and what two idle cores would need (the
  // serial part plus each window's busiest partition, in CPU seconds).
  bool windowed = false;
  unsigned threads = 1;
  double cpu_s = 0;
  double critical_path_s = 0;
};

ForestResult run_forest_scenario(const ForestScenarioConfig& config);
nlohmann::ordered_json to_json(const ForestResult& result);

}  // namespace forestcast::sim
