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

namespace forestcast::sim {

namespace {

using multicast::Packet;
using multicast::Scribe;
using multicast::SplitStream;

constexpr Duration kPoll = ms(250);
constexpr Duration kReceivingWindow = seconds(1);  // "receives a stripe": a packet this recent
constexpr Duration kSkewWindow = seconds(5);       // skew and upload: the build's last seconds

double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

std::string format(const char* fmt, auto... args) {
  std::array<char, 512> buf{};
  std::snprintf(buf.data(), buf.size(), fmt, args...);
  return std::string(buf.data());
}

double seconds_of(Time t) { return static_cast<double>(t.count()) / 1e6; }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto k = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(k, v.size() - 1)];
}

// What the scenario's sinks share: the phase they are in.
struct Phase {
  Time skew_from = kNever, skew_until = kNever;
  Time kill = kNever;
  Time loss_until = kNever;
  std::vector<double> skews_ms;
};

// One viewer's record of the data it received, per stripe.
class ViewerSink final : public multicast::PacketSink {
 public:
  ViewerSink(uint32_t stripes, Phase& phase)
      : phase_(phase),
        next_seq_(stripes, 0),
        last_arrival_(stripes, Time{-1}),
        repaired_at_(stripes, kNever),
        round_delay_(stripes, 0) {}

  void on_packet(const Packet& p, Time now) override {
    const uint32_t s = p.stripe;
    if (s >= next_seq_.size()) return;
    if (p.seq < next_seq_[s]) return;  // late or duplicate
    if (now >= phase_.kill && next_seq_[s] > 0 && p.seq > next_seq_[s] &&
        repaired_at_[s] == kNever) {
      repaired_at_[s] = now;  // first packet after a gap since the kill
      affected_ = true;
    }
    next_seq_[s] = p.seq + 1;
    last_arrival_[s] = now;
    if (p.sent_at >= phase_.kill && p.sent_at < phase_.loss_until) ++window_received_;
    if (now >= phase_.skew_from && now < phase_.skew_until) record_round(p, now);
  }

  bool receiving_all(Time now) const {
    for (Time t : last_arrival_)
      if (t < Time{0} || now - t > kReceivingWindow) return false;
    return true;
  }
  bool affected() const { return affected_; }
  // Kill to the first packet after the last gap; nullopt if some stripe never came back.
  Time repaired_at() const {
    Time latest{0};
    for (Time t : repaired_at_)
      if (t != kNever) latest = std::max(latest, t);
    return latest;
  }
  uint64_t window_received() const { return window_received_; }

 private:
  // One packet round (the same sequence number on every stripe) is sampled at a time, every
  // kSampleEvery rounds: rounds interleave on arrival, since stripes take different paths.
  static constexpr uint64_t kSampleEvery = 4;
  void record_round(const Packet& p, Time now) {
    if (round_ == 0) round_ = (p.seq / kSampleEvery + 1) * kSampleEvery;
    if (p.seq >= round_ + 3) {  // the sampled round lost a packet: sample a later one
      round_ = (p.seq / kSampleEvery + 1) * kSampleEvery;
      round_count_ = 0;
      return;
    }
    if (p.seq != round_) return;
    round_delay_[p.stripe] = (now - p.sent_at).count();
    if (++round_count_ < round_delay_.size()) return;
    const auto [lo, hi] = std::minmax_element(round_delay_.begin(), round_delay_.end());
    phase_.skews_ms.push_back(static_cast<double>(*hi - *lo) / 1000.0);
    round_count_ = 0;
    round_ += kSampleEvery;
  }

  Phase& phase_;
  std::vector<uint64_t> next_seq_;
  std::vector<Time> last_arrival_;
  std::vector<Time> repaired_at_;
  bool affected_ = false;
  uint64_t window_received_ = 0;
  uint64_t round_ = 0;
  size_t round_count_ = 0;
  std::vector<int64_t> round_delay_;
};

struct ForestNode {
  Scribe* scribe = nullptr;
  std::unique_ptr<SplitStream> splitstream;
  std::unique_ptr<ViewerSink> sink;
  bool violated = false;
};

class ForestScenario {
 public:
  explicit ForestScenario(const ForestScenarioConfig& c)
      : config_(c),
        master_(c.seed),
        id_rng_(master_.next()),
        node_seed_rng_(master_.next()),
        choice_rng_(master_.next()),
        sim_(SimConfig{c.topology, 0.0, master_.next(), c.pastry}),
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
  multicast::ScribeConfig sc;
  Scribe& scribe = sim_.attach_app(i, multicast::kMulticastAppId,
                                   std::make_unique<Scribe>(sim_.node(i), sc, credentials_));
  multicast::SplitStreamConfig ssc;
  ssc.stripes = config_.stripes;
  ssc.capacity = capacity_for(i);
  ForestNode n;
  n.scribe = &scribe;
  n.splitstream = std::make_unique<SplitStream>(scribe, ssc);
  n.sink = std::make_unique<ViewerSink>(config_.stripes, phase_);
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
  const uint32_t stripe = source_.next_stripe();
  if (sim_.now() >= phase_.kill && sim_.now() < phase_.loss_until) ++packets_in_loss_window_;
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
      if (id != SplitStream::scg_of(group_)) used += static_cast<int>(t.children.size());
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
    }
  }
}

void ForestScenario::measure_forest(ForestResult& r) {
  const Time now = sim_.now();
  const overlay::NodeId scg = SplitStream::scg_of(group_);
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
      if (id != scg && id.with_digit(0, 0) != group_.with_digit(0, 0) && !t.children.empty())
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
  r.stripe_skew_p99_ms = percentile(phase_.skews_ms, 0.99);
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
  std::vector<double> repairs;
  for (uint32_t i = 1; i < nodes_.size(); ++i) {
    if (!sim_.alive(i)) continue;
    ++survivors;
    const ViewerSink& sink = *nodes_[i].sink;
    const bool ok = sink.receiving_all(sim_.now());
    if (ok) ++all;
    received += sink.window_received();
    if (sink.affected() || !ok)
      repairs.push_back(ok ? to_ms(sink.repaired_at() - kill_at) : to_ms(config_.churn));
  }
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
  report(
      format("sim: forest all_stripes=%.4f depth_max=%zu interior<=1 %.3f upload p50/p99/max "
             "%.0f/%.0f/%.0f kbps",
             r.all_stripes_fraction, r.depth_max, r.interior_single_stripe_fraction,
             r.upload_p50_kbps, r.upload_p99_kbps, r.upload_max_kbps));

  if (config_.kill_fraction || config_.kill_roots) kill_phase(r);

  check_limits();
  for (const ForestNode& n : nodes_) r.outdegree_violations += n.violated ? 1 : 0;
  {
    int64_t spare = 0;
    size_t missing = 0, joining = 0, attached_silent = 0, no_state = 0;
    for (uint32_t i = 1; i < nodes_.size(); ++i) {
      if (!sim_.alive(i)) continue;
      spare += nodes_[i].splitstream->limit() - nodes_[i].splitstream->used();
      for (uint32_t st = 0; st < config_.stripes; ++st) {
        const auto* t = nodes_[i].scribe->topic(group_.with_digit(0, static_cast<int>(st)));
        if (t == nullptr) {
          ++no_state;
          ++missing;
        } else if (!t->attached) {
          if (missing < 10 && config_.verbose_diagnostics)
            report(
                format("  detached node %u digit %d stripe %u spare %d children here %zu "
                       "attempts %d",
                       i, sim_.handle(i).id.digit(0), st,
                       nodes_[i].splitstream->limit() - nodes_[i].splitstream->used(),
                       t->children.size(), t->join_attempts));
          ++missing;
          joining += t->joining ? 1 : 0;
        } else if (!t->root && t->parent) {
          const auto idx = Simulator::index_of(t->parent->endpoint);
          (void)idx;
        }
      }
    }
    (void)attached_silent;
    size_t with_spare = 0, members = 0, full_members = 0, scg_nodes = 0;
    const auto scg = SplitStream::scg_of(group_);
    for (uint32_t i = 1; i < nodes_.size(); ++i) {
      if (!sim_.alive(i)) continue;
      const bool sp = nodes_[i].splitstream->limit() > nodes_[i].splitstream->used();
      with_spare += sp;
      const auto* t = nodes_[i].scribe->topic(scg);
      if (t) ++scg_nodes;
      if (t && t->member) {
        ++members;
        full_members += !sp;
      }
    }
    size_t pairs_with_acceptor = 0, checked = 0;
    for (uint32_t i = 1; i < nodes_.size() && checked < 200; ++i) {
      if (!sim_.alive(i)) continue;
      for (uint32_t st = 0; st < config_.stripes; ++st) {
        const auto sid = group_.with_digit(0, static_cast<int>(st));
        const auto* t = nodes_[i].scribe->topic(sid);
        if (t == nullptr || t->attached) continue;
        ++checked;
        for (uint32_t z = 1; z < nodes_.size(); ++z) {
          if (z == i || !sim_.alive(z)) continue;
          const auto* g = nodes_[z].scribe->topic(scg);
          const auto* zt = nodes_[z].scribe->topic(sid);
          if (!g || !g->member || !zt || !zt->attached) continue;
          if (nodes_[z].splitstream->limit() <= nodes_[z].splitstream->used()) continue;
          if (std::find(zt->path.begin(), zt->path.end(), sim_.handle(i).id) != zt->path.end())
            continue;
          ++pairs_with_acceptor;
          break;
        }
      }
    }
    size_t not_child = 0, cycles = 0, reach_root = 0, starving = 0;
    for (uint32_t i = 1; i < nodes_.size(); ++i) {
      if (!sim_.alive(i)) continue;
      for (uint32_t st = 0; st < config_.stripes; ++st) {
        const auto sid = group_.with_digit(0, static_cast<int>(st));
        const auto* t = nodes_[i].scribe->topic(sid);
        if (t == nullptr || !t->attached || t->root) continue;
        const auto p = Simulator::index_of(t->parent->endpoint);
        const auto* pt = nodes_[*p].scribe->topic(sid);
        if (!pt || !pt->has_child(sim_.handle(i).id)) ++not_child;
        uint32_t cur = i;
        size_t steps = 0;
        bool ok = false;
        while (steps++ < 64) {
          const auto* ct = nodes_[cur].scribe->topic(sid);
          if (!ct || !sim_.alive(cur)) {
            break;
          }
          if (ct->root) {
            ok = true;
            break;
          }
          if (!ct->parent) break;
          cur = *Simulator::index_of(ct->parent->endpoint);
        }
        if (steps >= 64) ++cycles;
        if (ok)
          ++reach_root;
        else
          ++starving;
      }
    }
    {
      const auto views = nodes_[5].splitstream->stripes(group_);
      std::string line = "sim: node 5 packets per stripe:";
      for (const auto& v : views)
        line += format(" %llu/%.1fs", static_cast<unsigned long long>(v.packets_received),
                       seconds_of(v.last_receive));
      report(line);
      std::vector<size_t> recv(config_.stripes, 0), roots(config_.stripes, 0);
      for (uint32_t i = 1; i < nodes_.size(); ++i)
        for (const auto& v : nodes_[i].splitstream->stripes(group_)) {
          if (!sim_.alive(i)) continue;
          if (sim_.now() - v.last_receive < seconds(1)) ++recv[v.index];
          if (v.root) ++roots[v.index];
        }
      line = "sim: receiving per stripe (roots):";
      for (uint32_t st = 0; st < config_.stripes; ++st)
        line += format(" %zu(%zu)", recv[st], roots[st]);
      report(line);
      const auto& pc = nodes_[0].splitstream->counters();
      report(
          format("sim: publisher sent %llu, reroutes %llu, adopted %llu, refused %llu, "
                 "limit %d used %d",
                 static_cast<unsigned long long>(pc.packets_sent),
                 static_cast<unsigned long long>(pc.root_reroutes),
                 static_cast<unsigned long long>(nodes_[0].scribe->counters().children_adopted),
                 static_cast<unsigned long long>(nodes_[0].scribe->counters().children_refused),
                 nodes_[0].splitstream->limit(), nodes_[0].splitstream->used()));
    }
    report(
        format("sim: attached pairs: parent lacks child %zu, in cycles %zu, reach root %zu, "
               "cut off %zu",
               not_child, cycles, reach_root, starving));
    report(format("sim: detached pairs with an attached acceptor in the SCG: %zu/%zu",
                  pairs_with_acceptor, checked));
    report(format("sim: nodes with spare %zu, SCG members %zu (full %zu), SCG tree nodes %zu",
                  with_spare, members, full_members, scg_nodes));
    report(
        format("sim: spare outdegree %lld, detached (node,stripe) pairs %zu (joining %zu, "
               "no state %zu)",
               static_cast<long long>(spare), missing, joining, no_state));
  }
  uint64_t fail_no_state = 0, fail_exhausted = 0, fail_done = 0;
  uint64_t pkts = 0, no_spare = 0, not_receiving = 0, descendant = 0, visits_exhausted = 0;
  for (const ForestNode& n : nodes_) {
    pkts += n.splitstream->counters().packets_received;
    no_spare += n.splitstream->counters().anycast_no_spare;
    not_receiving += n.splitstream->counters().anycast_not_receiving;
    descendant += n.splitstream->counters().anycast_descendant;
    visits_exhausted += n.scribe->counters().anycasts_failed;
    fail_no_state += n.scribe->counters().anycast_fail_no_state;
    fail_exhausted += n.scribe->counters().anycast_fail_exhausted;
    fail_done += n.scribe->counters().anycast_fail_tree_done;
  }
  report(format(
      "sim: packets received by viewers %llu; anycast passes: no spare %llu, not "
      "receiving %llu, descendant %llu; walks failed %llu",
      static_cast<unsigned long long>(pkts), static_cast<unsigned long long>(no_spare),
      static_cast<unsigned long long>(not_receiving), static_cast<unsigned long long>(descendant),
      static_cast<unsigned long long>(visits_exhausted)));
  report(format("sim: walks ended: no group state %llu, out of visits %llu, tree done %llu",
                static_cast<unsigned long long>(fail_no_state),
                static_cast<unsigned long long>(fail_exhausted),
                static_cast<unsigned long long>(fail_done)));
  uint64_t pushdowns = 0, anycasts = 0, adoptions = 0, failures = 0, malformed = 0;
  for (const ForestNode& n : nodes_) {
    pushdowns += n.splitstream->counters().pushdown_orphans;
    anycasts += n.splitstream->counters().scg_anycasts;
    adoptions += n.splitstream->counters().scg_adoptions;
    failures += n.splitstream->counters().anycast_failures;
    malformed += n.scribe->counters().malformed_total();
  }
  report(
      format("sim: push-down orphans %llu, SCG anycasts %llu (adopted %llu, failed %llu), "
             "credential checks modelled %llu, malformed %llu",
             static_cast<unsigned long long>(pushdowns), static_cast<unsigned long long>(anycasts),
             static_cast<unsigned long long>(adoptions), static_cast<unsigned long long>(failures),
             static_cast<unsigned long long>(credentials_.verifications()),
             static_cast<unsigned long long>(malformed)));
  {
    uint64_t leaves = 0, takeovers = 0, undone = 0, held = 0, data_held = 0, lost_parents = 0;
    for (const ForestNode& n : nodes_) {
      const auto& c = n.scribe->counters();
      leaves += c.cut_off_leaves;
      takeovers += c.successor_takeovers;
      undone += c.takeovers_undone;
      held += c.joins_held;
      data_held += c.data_held;
      lost_parents += c.parent_failures;
    }
    report(format("sim: scribe repair: parent failures %llu, cut-off leaves %llu, successor "
                  "take-overs %llu (undone %llu), joins held %llu, data held %llu",
                  static_cast<unsigned long long>(lost_parents),
                  static_cast<unsigned long long>(leaves),
                  static_cast<unsigned long long>(takeovers),
                  static_cast<unsigned long long>(undone), static_cast<unsigned long long>(held),
                  static_cast<unsigned long long>(data_held)));
  }
  r.events = sim_.counters().events;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  r.peak_rss_mb = peak_rss_mb();
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
  return j;
}

}  // namespace forestcast::sim
