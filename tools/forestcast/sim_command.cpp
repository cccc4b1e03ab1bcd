// `forestcast sim`: runs a deterministic simulation scenario and prints its JSON report as the
// last line of stdout. Progress goes to stderr. Everything in the report except "perf" (wall
// clock, event rate, memory) is byte-identical for the same flags and seed.
#include <spdlog/spdlog.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "commands.hpp"
#include "scenarios/forest_scenario.hpp"
#include "scenarios/routing_scenario.hpp"
#include "scenarios/stream_diagnosis.hpp"
#include "scenarios/stream_scenario.hpp"

namespace forestcast::tools {

namespace {

struct SimOptions {
  std::string scenario;
  int64_t nodes = 1000;
  uint64_t seed = 1;
  int64_t lookups = 1000;
  std::optional<double> kill_fraction;
  std::optional<double> partition_s;
  std::optional<double> malicious;
  bool no_guard = false;
  std::optional<double> gamma;
  std::string topology = "sphere";
  double loss = 0.0;
  double join_interval_ms = 5.0;
  double settle_s = 30.0;
  int leaf_set = 16;
  bool quiet = false;
  bool verbose = false;
  std::string ids_file;
  std::string proofs = "off";
  // forest scenario
  int64_t stripes = 16;
  int64_t capacity = -1;
  std::string capacity_mix;
  bool kill_roots = false;
  bool publisher_last = false;
  double stream_kbps = 1000;
  std::optional<double> build_s;
  std::optional<double> churn_s;
  int64_t threads = 1;
  bool windowed = false;
  // stream scenario
  std::string fec = "14+2";
  double playout_ms = 500;
  bool no_peer_fetch = false;
  bool fetch_leafset_only = false;
  unsigned fetch_fanout_max = 8;
  double fetch_silent_widen_ms = 300;
};

int usage_error(const std::string& message) {
  std::cerr << "forestcast sim: " << message << "\n";
  return 2;
}

Duration from_seconds(double s) { return Duration{std::llround(s * 1e6)}; }

int run_forest(const SimOptions& o, bool stream) {
  if (o.nodes < 2) return usage_error("--nodes must be at least 2");
  const auto topology = sim::parse_topology(o.topology);
  if (!topology) return usage_error("unknown --topology '" + o.topology + "' (sphere or plane)");
  sim::ForestScenarioConfig config;
  config.nodes = static_cast<size_t>(o.nodes);
  config.seed = o.seed;
  if (o.stripes < 1 || o.stripes > 16) return usage_error("--stripes must be in [1, 16]");
  config.stripes = static_cast<uint32_t>(o.stripes);
  if (o.capacity < -1 || o.capacity > 4096) return usage_error("--capacity must be in [0, 4096]");
  config.capacity = static_cast<int>(o.capacity);
  if (!o.capacity_mix.empty()) {
    auto mix = sim::parse_capacity_mix(o.capacity_mix);
    if (!mix)
      return usage_error(
          "--capacity-mix must look like \"16:0.4,8:0.2,32:0.3,0:0.1\" "
          "(shares summing to 1)");
    config.capacity_mix = *mix;
  }
  config.kill_fraction = o.kill_fraction;
  config.kill_roots = o.kill_roots;
  config.publisher_joins_last = o.publisher_last;
  config.verbose_diagnostics = o.verbose;
  config.stream_kbps = o.stream_kbps;
  config.topology = *topology;
  if (o.nodes > 10000) config.join_interval = ms(1);
  if (o.build_s) config.build = from_seconds(*o.build_s);
  if (o.churn_s) config.churn = from_seconds(*o.churn_s);
  if (o.threads < 1 || o.threads > 64) return usage_error("--threads must be in [1, 64]");
  config.threads = static_cast<unsigned>(o.threads);
  if (o.threads > 1 || o.windowed) {
    if (stream)
      return usage_error("--threads/--windowed run --scenario forest only (the stream "
                         "scenario's media layer is not partitioned)");
    config.engine = sim::SimEngine::kWindowed;
  }
  if (!o.verbose) spdlog::set_level(spdlog::level::warn);
  if (!o.quiet) config.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  if (auto error = sim::validate(config)) return usage_error(*error);
  if (stream) {
    // The forest with the media layer on synthetic RTP (stream_scenario.hpp).
    sim::StreamScenarioConfig sc;
    sc.forest = config;
    try {
      sc.fec = media::FecScheme::parse(o.fec, config.stripes);
    } catch (const media::FecConfigError& e) {
      return usage_error(std::string("--fec: ") + e.what());
    }
    if (sc.fec.total() != config.stripes)
      return usage_error("--fec K+M must add up to --stripes (one symbol per stripe)");
    if (!(o.playout_ms >= 50 && o.playout_ms <= 10000))
      return usage_error("--playout-ms must be in [50, 10000]");
    sc.playout = from_seconds(o.playout_ms / 1000.0);
    sc.peer_fetch = !o.no_peer_fetch;
    sc.forest.fetch.tree_peers = !o.fetch_leafset_only;
    if (o.fetch_fanout_max < 2 || o.fetch_fanout_max > 8)
      return usage_error("--fetch-fanout-max must be in [2, 8]");
    sc.forest.fetch.fanout_max = o.fetch_fanout_max;
    if (!(o.fetch_silent_widen_ms >= 0 && o.fetch_silent_widen_ms <= 10000))
      return usage_error("--fetch-silent-widen-ms must be in [0, 10000]");
    sc.forest.fetch.silent_widen = from_seconds(o.fetch_silent_widen_ms / 1000.0);
    const sim::StreamResult r = sim::run_stream_scenario(sc);
    // What limited the viewers below the target, one line per class (stream_diagnosis.hpp).
    for (const auto& line : sim::diagnosis_lines(r.diagnosis)) std::cerr << line << "\n";
    std::cout << sim::to_json(r).dump() << std::endl;
    return 0;
  }
  const sim::ForestResult result = sim::run_forest_scenario(config);
  std::cout << sim::to_json(result).dump() << std::endl;
  return 0;
}

int run_sim(const SimOptions& o) {
  if (o.scenario == "forest" || o.scenario == "stream") return run_forest(o, o.scenario == "stream");
  if (o.scenario != "routing")
    return usage_error("unknown --scenario '" + o.scenario + "' (known: routing, forest, stream)");
  if (o.nodes < 1) return usage_error("--nodes must be at least 1");
  if (o.lookups < 1) return usage_error("--lookups must be at least 1");
  const auto topology = sim::parse_topology(o.topology);
  if (!topology) return usage_error("unknown --topology '" + o.topology + "' (sphere or plane)");
  if (!std::isfinite(o.join_interval_ms) || o.join_interval_ms < 0)
    return usage_error("--join-interval-ms must be a non-negative number");
  if (!std::isfinite(o.settle_s) || o.settle_s < 0)
    return usage_error("--settle-s must be a non-negative number");

  sim::RoutingScenarioConfig config;
  config.nodes = static_cast<size_t>(o.nodes);
  config.seed = o.seed;
  config.lookups = static_cast<size_t>(o.lookups);
  config.kill_fraction = o.kill_fraction;
  if (o.partition_s) {
    if (!std::isfinite(*o.partition_s) || *o.partition_s <= 0)
      return usage_error("--partition-s must be a positive number");
    config.partition = from_seconds(*o.partition_s);
  }
  if (o.malicious) {
    if (!std::isfinite(*o.malicious) || *o.malicious < 0 || *o.malicious > 0.5)
      return usage_error("--malicious must be a number in [0, 0.5]");
    config.malicious = o.malicious;
  }
  if (o.gamma) {
    if (!o.malicious) return usage_error("--gamma needs --malicious");
    if (!std::isfinite(*o.gamma) || *o.gamma < 1.0)
      return usage_error("--gamma must be a number of at least 1");
    config.secure.gamma = *o.gamma;
  }
  if (o.no_guard) {
    if (!o.malicious) return usage_error("--no-guard needs --malicious");
    config.guard.reset();
  }
  config.topology = *topology;
  config.loss = o.loss;
  config.join_interval = from_seconds(o.join_interval_ms / 1000.0);
  config.settle = from_seconds(o.settle_s);
  if (o.leaf_set < 2 || o.leaf_set > static_cast<int>(overlay::kMaxLeafSetSize) ||
      o.leaf_set % 2 != 0)
    return usage_error("--leaf-set must be an even number between 2 and " +
                       std::to_string(overlay::kMaxLeafSetSize));
  config.pastry.leaf_set_size = static_cast<size_t>(o.leaf_set);
  const auto proofs = sim::parse_proof_mode(o.proofs);
  if (!proofs) return usage_error("unknown --proofs '" + o.proofs + "' (off, modelled or real)");
  config.proofs = *proofs;
  if (!o.ids_file.empty()) {
    std::ifstream in(o.ids_file);
    if (!in) return usage_error("cannot read --ids file " + o.ids_file);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const auto id = overlay::NodeId::from_hex(line.substr(0, 32));
      if (!id) return usage_error("--ids file " + o.ids_file + ": not a node id: '" + line + "'");
      config.ids.push_back(*id);
    }
    config.nodes = config.ids.size();
  }
  // Per-node info logs (every join) would cost more than the simulation at 10,000 nodes.
  if (!o.verbose) spdlog::set_level(spdlog::level::warn);
  if (!o.quiet) config.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  if (auto error = sim::validate(config)) return usage_error(*error);

  const sim::RoutingResult result = sim::run_routing_scenario(config);
  std::cout << sim::to_json(result).dump() << std::endl;
  return 0;
}

}  // namespace

CommandMain add_sim_command(CLI::App& app) {
  auto options = std::make_shared<SimOptions>();
  CLI::App* sub = app.add_subcommand("sim", "Run a deterministic discrete-event simulation");
  sub->footer(
      "Prints one JSON object as the last line of stdout. Everything in it except \"perf\" "
      "(wall-clock time, event rate, peak memory) is byte-identical for the same flags and "
      "seed.");
  sub->add_option("--scenario", options->scenario, "Scenario to run: routing, forest or stream")
      ->required();
  sub->add_option("--nodes", options->nodes, "Number of nodes")->capture_default_str();
  sub->add_option("--seed", options->seed, "Master random seed")->capture_default_str();
  sub->add_option("--lookups", options->lookups, "Lookups per measurement phase")
      ->capture_default_str();
  sub->add_option("--kill-fraction", options->kill_fraction,
                  "Kill this fraction of nodes at once after the first lookups, in [0, 1)");
  sub->add_option("--partition-s", options->partition_s,
                  "routing: after the first lookups, split the nodes into two halves that "
                  "cannot reach each other for this many seconds, then heal");
  sub->add_option("--proofs", options->proofs,
                  "routing: key-proven node ids: off, modelled (same messages, signatures "
                  "modelled) or real (Ed25519)")
      ->capture_default_str();
  sub->add_option("--malicious", options->malicious,
                  "routing: this fraction of the nodes lie (claim every key, poison the state "
                  "they send, drop what they should forward); the lookups are measured plain "
                  "and through secure routing, in [0, 0.5]");
  sub->add_option("--gamma", options->gamma,
                  "routing with --malicious: the routing failure test's threshold (a claimed "
                  "leaf set sparser than gamma times ours fails); default 1.5");
  sub->add_flag("--no-guard", options->no_guard,
                "routing with --malicious: no neighbourhood guard on the honest nodes (to "
                "measure what it is for)");
  sub->add_option("--topology", options->topology, "Latency model: sphere or plane")
      ->capture_default_str();
  sub->add_option("--loss", options->loss, "Per-datagram loss probability, in [0, 1)")
      ->capture_default_str();
  sub->add_option("--join-interval-ms", options->join_interval_ms,
                  "Simulated time between successive joins")
      ->capture_default_str();
  sub->add_option("--settle-s", options->settle_s,
                  "Simulated seconds after the last join before measuring")
      ->capture_default_str();
  sub->add_option("--leaf-set", options->leaf_set, "Leaf set size (even, both sides together)")
      ->capture_default_str();
  sub->add_option("--ids", options->ids_file,
                  "File of node ids (32 hex digits a line), joined in that order and placed "
                  "where the UDP runtime's link emulation puts them; sets --nodes");
  sub->add_option("--stripes", options->stripes, "forest: stripes per stream (1 = plain Scribe)")
      ->capture_default_str();
  sub->add_option("--capacity", options->capacity,
                  "forest: outdegree limit per node (-1 = stripes received, 0 = pure leaf)")
      ->capture_default_str();
  sub->add_option("--capacity-mix", options->capacity_mix,
                  "forest: capacities and shares, e.g. 16:0.4,8:0.2,32:0.3,0:0.1");
  sub->add_flag("--kill-roots", options->kill_roots, "forest: kill every stripe root");
  sub->add_flag("--publisher-last", options->publisher_last,
                "forest: the publisher joins the ring last, as with the daemon");
  sub->add_option("--stream-kbps", options->stream_kbps, "forest: stream bitrate")
      ->capture_default_str();
  sub->add_option("--build-s", options->build_s,
                  "forest: simulated seconds of stream before measuring (default 20)");
  sub->add_option("--churn-s", options->churn_s,
                  "forest: simulated seconds after the kill before measuring (default 10)");
  sub->add_option("--threads", options->threads,
                  "forest: threads of the windowed (parallel) engine; 1 = the serial engine "
                  "unless --windowed")
      ->capture_default_str();
  sub->add_flag("--windowed", options->windowed,
                "forest: the windowed engine even with one thread (its report is the same for "
                "any --threads)");
  sub->add_option("--fec", options->fec, "stream: Reed-Solomon K+M across the stripes")
      ->capture_default_str();
  sub->add_option("--playout-ms", options->playout_ms, "stream: the viewers' playout buffer")
      ->capture_default_str();
  sub->add_flag("--no-peer-fetch", options->no_peer_fetch,
                "stream: viewers do not pull missing packets from neighbours (for comparison)");
  sub->add_flag("--fetch-leafset-only", options->fetch_leafset_only,
                "stream: peer fetch asks leaf-set neighbours only, not the viewer's peers in "
                "the other stripe trees (for comparison)");
  sub->add_option("--fetch-fanout-max", options->fetch_fanout_max,
                  "stream: peers one fetch round asks at most after unanswered rounds (2 = no "
                  "widening, for comparison)")
      ->capture_default_str();
  sub->add_option("--fetch-silent-widen-ms", options->fetch_silent_widen_ms,
                  "stream: a stripe silent this long starts its fetch with a wider round (0: off)")
      ->capture_default_str();
  sub->add_flag("--quiet", options->quiet, "No progress lines on stderr");
  sub->add_flag("--verbose", options->verbose, "Keep the nodes' info-level logs");
  return [options] { return run_sim(*options); };
}

}  // namespace forestcast::tools
