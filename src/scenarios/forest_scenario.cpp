#include "scenarios/forest_scenario.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "multicast/credentials.hpp"
#include "multicast/scribe.hpp"
#include "multicast/splitstream.hpp"
#include "multicast/synthetic_source.hpp"
#include "net/sim/process_stats.hpp"
#include "net/sim/simulator.hpp"
#include "scenarios/forest_diagnostics.hpp"
#include "scenarios/forest_node.hpp"
#include "scenarios/round_to.hpp"

namespace forestcast::sim {

namespace {

using forest::ForestNode;
using forest::format;
using forest::kReceivingWindow;
using forest::kSkewWindow;
using forest::percentile;
using forest::Phase;
using forest::seconds_of;
using forest::ViewerSink;
using multicast::Scribe;
using multicast::SplitStream;

constexpr Duration kPoll = ms(250);

// Bench knob, not a product option: FORESTCAST_REPAIR_OFF=walk,backup,ancestors,drop,skip,
// adopt_replay turns single repair mechanisms of Scribe off, to measure what each one is worth
// (docs/multicast.md).
SimConfig sim_config(const ForestScenarioConfig& c, uint64_t seed) {
  SimConfig sc{c.topology, 0.0, seed, c.pastry};
  sc.engine = c.engine;
  sc.threads = c.threads;
  return sc;
}

multicast::ScribeConfig scribe_config() {
  multicast::ScribeConfig sc;
  if (const char* at = std::getenv("FORESTCAST_ANCESTOR_TIMEOUT_MS"))
    sc.ancestor_timeout = ms(std::atoi(at));
  const char* off = std::getenv("FORESTCAST_REPAIR_OFF");
  if (off == nullptr) return sc;
  const std::string list = "," + std::string(off) + ",";
  auto has = [&](const char* k) { return list.find("," + std::string(k) + ",") != std::string::npos; };
  if (has("walk")) sc.walk_timeout = seconds(3600);
  if (has("backup")) sc.ancestor_backup = false;
  if (has("ancestors")) sc.ancestor_fallback = sc.ancestor_backup = false;
  if (has("drop")) sc.drop_reported_children = false;
  if (has("skip")) sc.walk_skip_silent = false;
  if (has("adopt_replay")) sc.adopt_replay = false;
  return sc;
}

class ForestScenario {
 public:
  explicit ForestScenario(const ForestScenarioConfig& c)
      : config_(c),
        master_(c.seed),
        id_rng_(master_.next()),
        node_seed_rng_(master_.next()),
        choice_rng_(master_.next()),
        sim_(sim_config(c, master_.next())),
        source_(c.stream_kbps, c.stripes) {}

  ForestResult run();

 private:
  uint32_t create_node();
  void schedule_join(size_t k);
  int capacity_for(uint32_t i);
  void run_phase(Time until, const char* name, bool track_build);
  void send_packet();
  size_t viewers_receiving_all() const;
  void check_limits();
  void measure_forest(ForestResult& r);
  void kill_phase(ForestResult& r);
  void report(const std::string& line) const {
    if (config_.progress) config_.progress(line);
  }
  forest::ForestView view() const {
    return forest::ForestView{sim_,
                              nodes_,
                              group_,
                              config_.stripes,
                              stream_start_,
                              config_.verbose_diagnostics,
                              credentials_.verifications(),
                              [this](const std::string& line) { report(line); }};
  }

  const ForestScenarioConfig& config_;
  Rng master_, id_rng_, node_seed_rng_, choice_rng_;
  Simulator sim_;
  multicast::ModelledCredentials credentials_;
  multicast::SyntheticSource source_;
  Phase phase_;
  std::vector<ForestNode> nodes_;
  std::array<uint8_t, 32> publisher_key_{};
  overlay::NodeId group_;
  Time stream_start_{0}, stream_end_{0};
  Time all_receiving_at_ = kNever;
  uint64_t packets_in_loss_window_ = 0;
  std::vector<uint64_t> forwarded_at_skew_start_;
  std::vector<std::pair<uint32_t, std::shared_ptr<const std::string>>> media_out_;
};

uint32_t ForestScenario::create_node() {
  std::array<uint8_t, 32> key{};
  for (size_t w = 0; w < 4; ++w) {
    const uint64_t v = id_rng_.next();
    for (size_t b = 0; b < 8; ++b) key[w * 8 + b] = static_cast<uint8_t>(v >> (8 * b));
  }
  const uint32_t i =
      sim_.add_node(overlay::NodeId::sha1_of(std::span<const uint8_t>(key)), node_seed_rng_.next());
  if (i == 0) publisher_key_ = key;
  multicast::ScribeConfig sc = scribe_config();
  sc.fetch = config_.fetch;
  Scribe& scribe = sim_.attach_app(i, multicast::kMulticastAppId,
                                   std::make_unique<Scribe>(sim_.node(i), sc, credentials_));
  multicast::SplitStreamConfig ssc;
  ssc.stripes = config_.stripes;
  ssc.capacity = capacity_for(i);
  ForestNode n;
  n.scribe = &scribe;
  n.splitstream = std::make_unique<SplitStream>(scribe, ssc);
  n.sink = std::make_unique<ViewerSink>(config_.stripes, phase_);
  if (config_.media) n.sink->tee(config_.media->viewer(i));
  nodes_.push_back(std::move(n));
  return i;
}

int ForestScenario::capacity_for(uint32_t i) {
  (void)i;
  if (config_.capacity_mix.empty()) return config_.capacity;
  const double u = choice_rng_.uniform();
  double acc = 0;
  for (const auto& [cap, share] : config_.capacity_mix) {
    acc += share;
    if (u < acc) return cap;
  }
  return config_.capacity_mix.back().first;
}

void ForestScenario::schedule_join(size_t k) {
  if (k >= config_.nodes) return;
  sim_.schedule(config_.join_interval * static_cast<int64_t>(k), [this, k] {
    const uint32_t i = create_node();
    const auto& active = sim_.active_nodes();
    if (!active.empty())
      sim_.join(i, {Simulator::endpoint_of(active[choice_rng_.below(active.size())])});
    schedule_join(k + 1);
  });
}

void ForestScenario::send_packet() {
  if (sim_.now() >= stream_end_) return;
  const bool in_loss_window = sim_.now() >= phase_.kill && sim_.now() < phase_.loss_until;
  if (config_.media) {
    // The media layer's items instead of the synthetic packet, polled at the same slots.
    media_out_.clear();
    config_.media->publish(sim_.now(), media_out_);
    sim_.with_node(0, [&](overlay::PastryNode&) {
      for (auto& [stripe, bytes] : media_out_) {
        packets_in_loss_window_ += in_loss_window ? 1 : 0;
        nodes_[0].splitstream->send(sim_.now(), stripe, std::move(bytes), 0);
      }
    });
    sim_.schedule(sim_.now() + source_.interval(), [this] { send_packet(); });
    return;
  }
  const uint32_t stripe = source_.next_stripe();
  if (in_loss_window) ++packets_in_loss_window_;
  sim_.with_node(0, [&](overlay::PastryNode&) {
    nodes_[0].splitstream->send(sim_.now(), stripe, nullptr, source_.packet_bytes());
  });
  sim_.schedule(sim_.now() + source_.interval(), [this] { send_packet(); });
}

size_t ForestScenario::viewers_receiving_all() const {
  size_t n = 0;
  for (uint32_t i = 1; i < nodes_.size(); ++i)
    if (sim_.alive(i) && nodes_[i].sink->receiving_all(sim_.now())) ++n;
  return n;
}

void ForestScenario::check_limits() {
  for (uint32_t i = 1; i < nodes_.size(); ++i) {
    if (!sim_.alive(i)) continue;
    ForestNode& n = nodes_[i];
    int used = 0;
    for (const auto& [id, t] : n.scribe->topics())
      if (!t.slow) used += static_cast<int>(t.children.size());  // the SCG costs no upload
    if (used > n.splitstream->limit() || n.splitstream->counters().limit_violations > 0)
      n.violated = true;
  }
}

void ForestScenario::run_phase(Time until, const char* name, bool track_build) {
  Time next_report = sim_.now() + seconds(5);
  while (sim_.now() < until) {
    sim_.run_until(std::min(until, sim_.now() + kPoll));
    check_limits();
    const size_t all = viewers_receiving_all();
    for (uint32_t i = 1; i < nodes_.size(); ++i)
      if (nodes_[i].complete_at == kNever && nodes_[i].subscribed_at != kNever && sim_.alive(i) &&
          nodes_[i].sink->receiving_all(sim_.now()))
        nodes_[i].complete_at = sim_.now();
    size_t live_viewers = 0;
    for (uint32_t i = 1; i < nodes_.size(); ++i) live_viewers += sim_.alive(i) ? 1 : 0;
    if (track_build && all_receiving_at_ == kNever && all == live_viewers &&
        sim_.now() >= stream_start_ + config_.subscribe_spread)
      all_receiving_at_ = sim_.now();
    if (sim_.now() >= next_report || sim_.now() >= until) {
      next_report = sim_.now() + seconds(5);
      report(format("sim: %s t=%.1fs viewers receiving every stripe %zu/%zu events=%llu", name,
                    seconds_of(sim_.now()), all, live_viewers,
                    static_cast<unsigned long long>(sim_.counters().events)));
      if (config_.verbose_diagnostics) forest::report_scg_staleness(view());
    }
  }
}

void ForestScenario::measure_forest(ForestResult& r) {
  const Time now = sim_.now();
  size_t viewers = 0, all = 0, single = 0, depth_n = 0;
  double depth_sum = 0;
  r.depth_max_per_stripe.assign(config_.stripes, 0);
  std::vector<double> uploads;
  const double window_s = seconds_of(Time{kSkewWindow});
  for (uint32_t i = 1; i < nodes_.size(); ++i) {
    if (!sim_.alive(i)) continue;
    ForestNode& n = nodes_[i];
    ++viewers;
    if (n.sink->receiving_all(now)) ++all;
    size_t interior = 0;
    for (uint32_t s = 0; s < config_.stripes; ++s) {
      const auto* t = n.scribe->topic(group_.with_digit(0, static_cast<int>(s)));
      if (t == nullptr) continue;
      if (!t->children.empty()) ++interior;
      if (t->attached) {
        depth_sum += static_cast<double>(t->depth());
        ++depth_n;
        r.depth_max_per_stripe[s] = std::max(r.depth_max_per_stripe[s], t->depth());
      }
    }
    for (const auto& [id, t] : n.scribe->topics())
      if (!t.slow && id.with_digit(0, 0) != group_.with_digit(0, 0) && !t.children.empty())
        ++interior;  // forwarding for a topic outside the stream
    if (interior <= 1) ++single;
    const uint64_t forwarded = n.scribe->counters().data_forwarded - forwarded_at_skew_start_[i];
    uploads.push_back(static_cast<double>(forwarded) * source_.packet_bytes() * 8.0 / 1000.0 /
                      window_s);
  }
  r.all_stripes_fraction = viewers ? static_cast<double>(all) / static_cast<double>(viewers) : 0;
  r.viewers_missing_stripes = viewers - all;
  r.depth_mean = depth_n ? depth_sum / static_cast<double>(depth_n) : 0;
  r.depth_max = *std::max_element(r.depth_max_per_stripe.begin(), r.depth_max_per_stripe.end());
  r.interior_single_stripe_fraction =
      viewers ? static_cast<double>(single) / static_cast<double>(viewers) : 0;
  std::vector<double> skews;
  for (const ForestNode& n : nodes_)
    skews.insert(skews.end(), n.sink->skews_ms().begin(), n.sink->skews_ms().end());
  r.stripe_skew_p99_ms = percentile(std::move(skews), 0.99);
  r.upload_max_kbps = uploads.empty() ? 0 : *std::max_element(uploads.begin(), uploads.end());
  r.upload_p50_kbps = percentile(uploads, 0.5);
  r.upload_p99_kbps = percentile(uploads, 0.99);
  r.build_sim_s = all_receiving_at_ == kNever ? seconds_of(Time{config_.build})
                                              : seconds_of(all_receiving_at_ - stream_start_);
  uint64_t control = 0;
  for (const ForestNode& n : nodes_) control += n.scribe->counters().control_sent;
  r.control_msgs_per_node = static_cast<double>(control) / static_cast<double>(nodes_.size());
}

void ForestScenario::kill_phase(ForestResult& r) {
  r.churn = true;
  const Time kill_at = sim_.now();
  phase_.kill = kill_at;
  phase_.loss_until = kill_at + config_.churn - kReceivingWindow;
  std::vector<uint32_t> victims;
  if (config_.kill_roots) {
    for (uint32_t s = 0; s < config_.stripes; ++s) {
      const auto root = nodes_[0].splitstream->publisher_root(s);
      if (!root) continue;
      const auto idx = Simulator::index_of(root->endpoint);
      if (idx && *idx != 0 && std::find(victims.begin(), victims.end(), *idx) == victims.end())
        victims.push_back(*idx);
    }
  }
  if (config_.kill_fraction) {
    std::vector<uint32_t> alive;
    for (uint32_t i = 1; i < nodes_.size(); ++i)
      if (sim_.alive(i) && std::find(victims.begin(), victims.end(), i) == victims.end())
        alive.push_back(i);
    const auto target =
        std::min(alive.size(), static_cast<size_t>(std::llround(
                                   *config_.kill_fraction * static_cast<double>(config_.nodes))));
    for (size_t k = 0; k < target; ++k) {
      std::swap(alive[k], alive[k + choice_rng_.below(alive.size() - k)]);
      victims.push_back(alive[k]);
    }
  }
  for (uint32_t v : victims) sim_.kill(v);
  r.killed = victims.size();
  report(format("sim: killed %zu nodes at t=%.1fs", r.killed, seconds_of(kill_at)));
  run_phase(kill_at + config_.churn, "repair", false);

  size_t survivors = 0, all = 0;
  uint64_t received = 0;
  std::vector<double> repairs, by_seq;
  size_t slow = 0, slow_late_gap = 0;  // viewers repaired after 1.5 s; their last gap began late
  for (uint32_t i = 1; i < nodes_.size(); ++i) {
    if (!sim_.alive(i)) continue;
    ++survivors;
    const ViewerSink& sink = *nodes_[i].sink;
    const bool ok = sink.receiving_all(sim_.now());
    if (ok) ++all;
    received += sink.window_received();
    if (sink.affected() || !ok)
      repairs.push_back(ok ? to_ms(sink.repaired_at() - kill_at) : to_ms(config_.churn));
    if (ok && sink.affected() && sink.repaired_at() - kill_at > ms(1500)) {
      ++slow;
      slow_late_gap += sink.slowest_gap_from() - kill_at > ms(500) ? 1 : 0;
    }
    if (sink.affected_by_seq() || !ok)
      by_seq.push_back(ok ? to_ms(sink.repaired_at_by_seq() - kill_at) : to_ms(config_.churn));
  }
  report(format("sim: %zu viewers repaired after 1.5 s; for %zu of them the gap that ended last "
                "began more than 0.5 s after the kill (a later cut: push-down, a cut-off parent "
                "left, a re-join elsewhere)",
                slow, slow_late_gap));
  forest::report_repair_breakdown(view(), kill_at);
  report(format("sim: repair by sequence jumps only (the measure before replays counted): %zu "
                "nodes, p50 %.0f ms, p99 %.0f ms",
                by_seq.size(), percentile(by_seq, 0.5), percentile(by_seq, 0.99)));
  r.all_stripes_fraction_after_repair =
      survivors ? static_cast<double>(all) / static_cast<double>(survivors) : 0;
  r.repair_p50_ms = percentile(repairs, 0.5);
  r.repair_p99_ms = percentile(repairs, 0.99);
  const double expected =
      static_cast<double>(packets_in_loss_window_) * static_cast<double>(survivors);
  r.packets_lost_fraction = expected > 0 ? 1.0 - static_cast<double>(received) / expected : 0;
  report(format("sim: repair: %zu nodes affected, %zu/%zu survivors receive every stripe",
                repairs.size(), all, survivors));
}

ForestResult ForestScenario::run() {
  const auto wall_start = std::chrono::steady_clock::now();
  ForestResult r;
  r.nodes = config_.nodes;
  r.seed = config_.seed;
  r.stripes = config_.stripes;

  const uint32_t first = create_node();
  if (config_.publisher_joins_last) {
    // Node 0 (the publisher) waits; node 1 starts the ring and the others join it.
    sim_.start_ring(create_node());
    schedule_join(2);
  } else {
    sim_.start_ring(first);
    schedule_join(1);
  }
  const Time joins_end = config_.join_interval * static_cast<int64_t>(config_.nodes - 1);
  sim_.run_until(joins_end + config_.settle);
  if (config_.publisher_joins_last) {
    const auto& active = sim_.active_nodes();
    sim_.join(first, {Simulator::endpoint_of(active[choice_rng_.below(active.size())])});
    sim_.run_until(sim_.now() + config_.settle);
  }
  report(format("sim: ring of %zu/%zu active nodes at t=%.1fs", sim_.active_nodes().size(),
                config_.nodes, seconds_of(sim_.now())));

  // Feasibility (DESIGN.md §5): the stripes wanted against the outdegree offered. The stripe
  // roots are fed by the publisher, so S fewer slots are needed.
  int64_t offered = 0;
  for (uint32_t i = 1; i < nodes_.size(); ++i)
    offered += nodes_[i].splitstream->config().capacity < 0
                   ? config_.stripes
                   : nodes_[i].splitstream->config().capacity;
  const int64_t wanted =
      static_cast<int64_t>(config_.stripes) * (static_cast<int64_t>(nodes_.size()) - 2);
  r.feasible = offered >= wanted;
  if (!r.feasible)
    report(format("sim: infeasible forest: outdegree offered %lld < stripes wanted %lld",
                  static_cast<long long>(offered), static_cast<long long>(wanted)));

  // The stream starts, then viewers subscribe one after another while it flows.
  stream_start_ = sim_.now();
  stream_end_ = stream_start_ + config_.build +
                (config_.kill_fraction || config_.kill_roots ? config_.churn : Duration{0});
  multicast::ModelledKey key(publisher_key_);
  sim_.with_node(0, [&](overlay::PastryNode&) {
    group_ = nodes_[0].splitstream->publish(sim_.now(), key, "forest-sim");
  });
  send_packet();
  const size_t viewers = nodes_.size() - 1;
  for (uint32_t i = 1; i < nodes_.size(); ++i) {
    const Time at =
        stream_start_ + Duration{config_.subscribe_spread.count() * static_cast<int64_t>(i - 1) /
                                 static_cast<int64_t>(std::max<size_t>(viewers, 1))};
    sim_.schedule(at, [this, i] {
      sim_.with_node(i, [&](overlay::PastryNode&) {
        nodes_[i].splitstream->view(sim_.now(), group_, nodes_[i].sink.get());
        nodes_[i].subscribed_at = sim_.now();
      });
    });
  }
  const Time build_end = stream_start_ + config_.build;
  phase_.skew_from = build_end - kSkewWindow;
  phase_.skew_until = build_end;
  run_phase(phase_.skew_from, "build", true);
  forwarded_at_skew_start_.assign(nodes_.size(), 0);
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    forwarded_at_skew_start_[i] = nodes_[i].scribe->counters().data_forwarded;
  run_phase(build_end, "build", true);
  measure_forest(r);
  report_build_diagnostics(view());
  report(
      format("sim: forest all_stripes=%.4f depth_max=%zu interior<=1 %.3f upload p50/p99/max "
             "%.0f/%.0f/%.0f kbps",
             r.all_stripes_fraction, r.depth_max, r.interior_single_stripe_fraction,
             r.upload_p50_kbps, r.upload_p99_kbps, r.upload_max_kbps));

  if (config_.kill_fraction || config_.kill_roots) kill_phase(r);

  check_limits();
  for (const ForestNode& n : nodes_) r.outdegree_violations += n.violated ? 1 : 0;
  report_final_diagnostics(view());
  if (config_.media) {
    for (uint32_t i = 0; i < nodes_.size(); ++i)
      if (sim_.alive(i) && nodes_[i].scribe != nullptr) config_.media->count_node(i, *nodes_[i].scribe);
    config_.media->finish(sim_.now(), [this](uint32_t i) { return sim_.alive(i); });
  }
  r.events = sim_.counters().events;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  r.peak_rss_mb = peak_rss_mb();
  if (sim_.windowed()) {
    const WindowStats& w = sim_.window_stats();
    r.windowed = true;
    r.threads = config_.threads;
    r.cpu_s = cpu_seconds();
    r.critical_path_s = r.cpu_s - w.partition_cpu_s + w.busiest_cpu_s;
    std::string per_thread;
    for (double s : w.thread_cpu_s) per_thread += format(" %.1f", s);
    report(format("sim: windowed engine: %llu windows, partitions' work %.1f s CPU, busiest "
                  "partition per window %.1f s, per thread%s s; process CPU %.1f s, critical "
                  "path %.1f s",
                  static_cast<unsigned long long>(w.windows), w.partition_cpu_s, w.busiest_cpu_s,
                  per_thread.c_str(), r.cpu_s, r.critical_path_s));
  }
  return r;
}

}  // namespace

std::optional<std::vector<std::pair<int, double>>> parse_capacity_mix(const std::string& text) {
  std::vector<std::pair<int, double>> out;
  std::stringstream ss(text);
  std::string item;
  double total = 0;
  while (std::getline(ss, item, ',')) {
    const auto colon = item.find(':');
    if (colon == std::string::npos) return std::nullopt;
    try {
      size_t used = 0;
      const int cap = std::stoi(item.substr(0, colon), &used);
      if (used != colon) return std::nullopt;
      const std::string share_text = item.substr(colon + 1);
      const double share = std::stod(share_text, &used);
      if (used != share_text.size() || cap < 0 || cap > 4096 || !(share >= 0 && share <= 1))
        return std::nullopt;
      out.emplace_back(cap, share);
      total += share;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (out.empty() || std::fabs(total - 1.0) > 1e-6) return std::nullopt;
  return out;
}

std::optional<std::string> validate(const ForestScenarioConfig& c) {
  if (c.nodes < 2) return "--nodes must be at least 2 (a publisher and a viewer)";
  if (c.nodes > (size_t{1} << 24)) return "--nodes must be at most 16777216";
  if (c.stripes < 1 || c.stripes > multicast::kMaxStripes) return "--stripes must be in [1, 16]";
  if (c.capacity < -1 || c.capacity > 4096) return "--capacity must be in [0, 4096]";
  if (c.kill_fraction && !(*c.kill_fraction >= 0.0 && *c.kill_fraction < 1.0))
    return "--kill-fraction must be in [0, 1)";
  if (!(c.stream_kbps > 0 && c.stream_kbps <= 100000))
    return "--stream-kbps must be in (0, 100000]";
  if (c.build < seconds(6)) return "the build phase must last at least 6 s";
  if (c.threads < 1 || c.threads > 64) return "--threads must be in [1, 64]";
  if (c.engine == SimEngine::kWindowed && c.media != nullptr)
    return "--threads above 1 (the windowed engine) runs --scenario forest only: the stream "
           "scenario's media layer shares state between viewers";
  return std::nullopt;
}

ForestResult run_forest_scenario(const ForestScenarioConfig& config) {
  if (auto error = validate(config)) throw std::invalid_argument(*error);
  ForestScenario scenario(config);
  return scenario.run();
}

nlohmann::ordered_json to_json(const ForestResult& r) {
  auto fixed = [](double v) { return round_to(v, 6); };
  nlohmann::ordered_json j;
  j["scenario"] = "forest";
  j["nodes"] = r.nodes;
  j["seed"] = r.seed;
  j["forest"] = {{"stripes", r.stripes},
                 {"all_stripes_fraction", fixed(r.all_stripes_fraction)},
                 {"outdegree_violations", r.outdegree_violations},
                 {"depth_mean", round_to(r.depth_mean, 3)},
                 {"depth_max", r.depth_max},
                 {"depth_max_per_stripe", r.depth_max_per_stripe},
                 {"interior_single_stripe_fraction", fixed(r.interior_single_stripe_fraction)},
                 {"stripe_skew_p99_ms", round_to(r.stripe_skew_p99_ms, 1)},
                 {"upload_max_kbps", round_to(r.upload_max_kbps, 1)},
                 {"build_sim_s", round_to(r.build_sim_s, 3)},
                 {"control_msgs_per_node", round_to(r.control_msgs_per_node, 1)}};
  j["churn"] = {{"killed", r.killed},
                {"repair_p50_ms", round_to(r.repair_p50_ms, 1)},
                {"repair_p99_ms", round_to(r.repair_p99_ms, 1)},
                {"all_stripes_fraction_after_repair", fixed(r.all_stripes_fraction_after_repair)},
                {"packets_lost_fraction", fixed(r.packets_lost_fraction)}};
  j["perf"] = {{"wall_s", round_to(r.wall_s, 3)},
               {"events", r.events},
               {"peak_rss_mb", round_to(r.peak_rss_mb, 1)}};
  if (r.windowed) {
    j["perf"]["engine"] = "windowed";
    j["perf"]["threads"] = r.threads;
    j["perf"]["cpu_s"] = round_to(r.cpu_s, 3);
    j["perf"]["critical_path_s"] = round_to(r.critical_path_s, 3);
  }
  return j;
}

}  // namespace forestcast::sim
