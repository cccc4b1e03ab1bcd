#include "scenarios/routing_scenario.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <unordered_map>

#include "net/sim/modelled_proofs.hpp"
#include "net/sim/process_stats.hpp"
#include "net/sim/simulator.hpp"
#include "node/node_key.hpp"
#include "scenarios/lookup_app.hpp"
#include "scenarios/malicious_run.hpp"

namespace forestcast::sim {

namespace {

constexpr uint32_t kNoRoot = std::numeric_limits<uint32_t>::max();
constexpr Duration kPollStep = ms(100);
constexpr Duration kProgressStep = seconds(10);

// Dividing by a power of ten (not multiplying by its inverse) gives the shortest decimal form.
std::string format(const char* fmt, auto... args) {
  std::array<char, 256> buf{};
  std::snprintf(buf.data(), buf.size(), fmt, args...);
  return std::string(buf.data());
}

double seconds_of(Time t) { return static_cast<double>(t.count()) / 1e6; }

class RoutingScenario {
 public:
  explicit RoutingScenario(const RoutingScenarioConfig& config)
      : config_(config),
        master_(config.seed),
        // One master generator from --seed; each purpose gets its own stream so that, e.g.,
        // issuing more lookups does not change node ids.
        id_rng_(master_.next()),
        node_seed_rng_(master_.next()),
        choice_rng_(master_.next()),
        sim_(SimConfig{config.topology, config.loss, master_.next(), config.pastry,
                       config.check_wire_size, key_proofs_factory()}),
        liar_seed_(master_.next()) {}

  RoutingResult run();

 private:
  uint32_t create_node();
  std::function<std::unique_ptr<overlay::KeyProofs>(const NodeHandle&)> key_proofs_factory();
  void schedule_join(size_t k);
  void run_with_progress(Time until, const char* phase);
  void attach_app(uint32_t i);
  void issue_lookup();
  // Issues `count` lookups at start + spread * k / count; returns the first log index.
  size_t issue_phase(Time start, Duration spread, size_t count);
  void wait_for_phase(const LookupLog& log, size_t first, size_t count, Time last_issue);
  LookupPhaseResult summarize(const LookupLog& log, size_t first, size_t count) const;
  bool liar(uint32_t i) const { return liars_ && liars_->liar(i); }
  // Explains the first few incorrect lookups of a phase on the progress channel.
  void diagnose(size_t first, size_t count, const char* phase) const;
  size_t kill_random(size_t count);
  void partition_and_heal(RoutingResult& result);
  void check_leaf_sets(RoutingResult& result);
  // Live active nodes whose leaf set differs from the oracle's.
  size_t leaf_set_mismatches() const;
  void report(const std::string& line) const {
    if (config_.progress) config_.progress(line);
  }

  const RoutingScenarioConfig& config_;
  Rng master_;
  Rng id_rng_;
  Rng node_seed_rng_;
  Rng choice_rng_;
  // Before sim_, which the factory for them is handed to.
  std::shared_ptr<ProofModel> proof_model_ = std::make_shared<ProofModel>();
  // ProofMode::kReal: each node's key, from creation until the simulator asks for its signer.
  std::unordered_map<overlay::NodeId, node::NodeKey> keys_;
  Simulator sim_;
  uint64_t liar_seed_;
  LookupLog log_;
  std::optional<MaliciousRun> liars_;  // --malicious only
  size_t bootstrap_missing_ = 0;
  size_t created_ = 0;
};

std::function<std::unique_ptr<overlay::KeyProofs>(const NodeHandle&)>
RoutingScenario::key_proofs_factory() {
  switch (config_.proofs) {
    case ProofMode::kOff:
      return nullptr;
    case ProofMode::kModelled:
      proof_model_->k0 = master_.next();
      proof_model_->k1 = master_.next();
      return [model = proof_model_](const NodeHandle& h) {
        return std::make_unique<ModelledProofs>(h.id, model);
      };
    case ProofMode::kReal:
      return [this](const NodeHandle& h) -> std::unique_ptr<overlay::KeyProofs> {
        auto it = keys_.find(h.id);
        if (it == keys_.end()) return nullptr;  // an id not made here (--ids): no proofs
        auto proofs = std::make_unique<node::Ed25519Proofs>(std::move(it->second));
        keys_.erase(it);
        return proofs;
      };
  }
  return nullptr;
}

uint32_t RoutingScenario::create_node() {
  if (!config_.ids.empty()) {
    const overlay::NodeId& id = config_.ids[created_++];
    const uint32_t i = sim_.add_node(id, node_seed_rng_.next(),
                                     position_from_id(config_.topology, id.hi(), id.lo()));
    attach_app(i);
    return i;
  }
  // 32 random bytes stand in for the Ed25519 public key the real node id is hashed from.
  std::array<uint8_t, 32> key{};
  for (size_t w = 0; w < 4; ++w) {
    const uint64_t v = id_rng_.next();
    for (size_t b = 0; b < 8; ++b) key[w * 8 + b] = static_cast<uint8_t>(v >> (8 * b));
  }
  overlay::NodeId id = overlay::NodeId::sha1_of(key);
  if (config_.proofs == ProofMode::kReal) {
    // The 32 bytes are the private key's seed instead: the id is its public key's hash.
    node::NodeKey real = node::NodeKey::from_seed(key);
    id = real.node_id();
    keys_.emplace(id, std::move(real));
  }
  const uint32_t i = sim_.add_node(id, node_seed_rng_.next());
  attach_app(i);
  return i;
}

void RoutingScenario::attach_app(uint32_t i) {
  if (liars_)
    liars_->attach_apps(i);
  else
    sim_.attach_app(i, kLookupAppId, std::make_unique<LookupApp>(i, log_));
}

// Joins are chained (each schedules the next) so the queue holds one pending join, not N.
void RoutingScenario::schedule_join(size_t k) {
  if (k >= config_.nodes) return;
  const Time at = config_.join_interval * static_cast<int64_t>(k);
  sim_.schedule(at, [this, k] {
    const uint32_t i = create_node();
    const auto& active = sim_.active_nodes();
    if (active.empty()) {
      ++bootstrap_missing_;
    } else {
      const uint32_t bootstrap = active[choice_rng_.below(active.size())];
      sim_.join(i, {Simulator::endpoint_of(bootstrap)});
      if (liars_) liars_->joined(i, bootstrap, active);
    }
    schedule_join(k + 1);
  });
}

void RoutingScenario::run_with_progress(Time until, const char* phase) {
  while (sim_.now() < until) {
    sim_.run_until(std::min(until, sim_.now() + kProgressStep));
    report(format("sim: %s t=%.1fs active=%zu/%zu events=%llu", phase, seconds_of(sim_.now()),
                  sim_.active_nodes().size(), sim_.node_count(),
                  static_cast<unsigned long long>(sim_.counters().events)));
  }
}

void RoutingScenario::issue_lookup() {
  LookupRecord r;
  r.issued = sim_.now();
  r.key = overlay::NodeId::from_parts(choice_rng_.next(), choice_rng_.next());
  const auto& active = sim_.active_nodes();
  if (active.empty()) {  // nobody to ask: counts as an incorrect lookup
    r.expected = kNoRoot;
    log_.add(r);
    return;
  }
  r.source = active[choice_rng_.below(active.size())];
  // Lookups come from honest nodes: what a liar "finds" means nothing.
  while (liar(r.source)) r.source = active[choice_rng_.below(active.size())];
  const auto root = sim_.oracle().closest(r.key);
  r.expected = root ? root->node : kNoRoot;
  const uint64_t index = log_.add(r);
  sim_.route(r.source, r.key, std::make_shared<LookupMessage>(index));
}

size_t RoutingScenario::issue_phase(Time start, Duration spread, size_t count) {
  const size_t first = log_.size();
  for (size_t k = 0; k < count; ++k) {
    const Time at =
        start + Duration{spread.count() * static_cast<int64_t>(k) / static_cast<int64_t>(count)};
    sim_.schedule(at, [this] { issue_lookup(); });
  }
  return first;
}

void RoutingScenario::wait_for_phase(const LookupLog& log, size_t first, size_t count,
                                     Time last_issue) {
  sim_.run_until(last_issue);
  const Time deadline = last_issue + config_.lookup_timeout;
  auto all_done = [&] {
    for (size_t i = first; i < first + count; ++i)
      if (i >= log.size() || !log[i].delivered) return false;
    return true;
  };
  while (sim_.now() < deadline && !all_done())
    sim_.run_until(std::min(deadline, sim_.now() + kPollStep));
}

LookupPhaseResult RoutingScenario::summarize(const LookupLog& log, size_t first,
                                             size_t count) const {
  LookupPhaseResult p;
  p.lookups = count;
  double hops_sum = 0, delay_sum = 0, direct_sum = 0;
  for (size_t i = first; i < first + count && i < log.size(); ++i) {
    const LookupRecord& r = log[i];
    if (!r.delivered || r.delivered_at - r.issued > config_.lookup_timeout) continue;
    ++p.delivered;
    hops_sum += r.hops;
    p.hops_max = std::max(p.hops_max, r.hops);
    if (r.expected != kNoRoot && r.delivered_by == r.expected) ++p.correct;
    if (r.expected != kNoRoot && r.expected != r.source) {
      delay_sum += static_cast<double>((r.delivered_at - r.issued).count());
      direct_sum += static_cast<double>(sim_.topology().latency(r.source, r.expected).count());
    }
  }
  p.correct_fraction = count ? static_cast<double>(p.correct) / static_cast<double>(count) : 1.0;
  p.hops_mean = p.delivered ? hops_sum / static_cast<double>(p.delivered) : 0.0;
  p.rdp_mean = direct_sum > 0 ? delay_sum / direct_sum : 0.0;
  return p;
}

void RoutingScenario::diagnose(size_t first, size_t count, const char* phase) const {
  if (!config_.progress) return;
  size_t shown = 0;
  for (size_t i = first; i < first + count && i < log_.size() && shown < 5; ++i) {
    const LookupRecord& r = log_[i];
    if (r.expected == kNoRoot) continue;
    const bool late = r.delivered && r.delivered_at - r.issued > config_.lookup_timeout;
    if (r.delivered && !late && r.delivered_by == r.expected) continue;
    ++shown;
    const auto& expected = sim_.handle(r.expected);
    std::string line =
        format("sim: %s lookup %zu key %s from node %u: root is node %u (%s)", phase, i,
               r.key.short_hex().c_str(), r.source, r.expected, expected.id.short_hex().c_str());
    if (!r.delivered) {
      line += " but it was never delivered";
    } else {
      const auto& got = sim_.handle(r.delivered_by);
      line += format(
          " but node %u (%s) got it after %d hops%s; its leaf set %s the root, "
          "the root's leaf set %s it",
          r.delivered_by, got.id.short_hex().c_str(), r.hops, late ? ", late" : "",
          sim_.node(r.delivered_by).leaf_set().contains(expected.id) ? "has" : "lacks",
          sim_.node(r.expected).leaf_set().contains(got.id) ? "has" : "lacks");
      const auto hop = sim_.node(r.delivered_by).next_hop(r.key);
      line += hop ? format("; its next_hop(key) now: %s", hop->id.short_hex().c_str())
                  : std::string("; its next_hop(key) now: itself");
    }
    report(line);
  }
}

size_t RoutingScenario::kill_random(size_t count) {
  std::vector<uint32_t> alive;
  for (uint32_t i = 0; i < sim_.node_count(); ++i)
    if (sim_.alive(i)) alive.push_back(i);
  count = std::min(count, alive.size());
  // Partial Fisher-Yates: the first `count` entries become a uniform random sample.
  for (size_t k = 0; k < count; ++k) {
    const size_t pick = k + choice_rng_.below(alive.size() - k);
    std::swap(alive[k], alive[pick]);
    sim_.kill(alive[k]);
  }
  return count;
}

// Two halves by a fair coin per node, so every leaf set spans both: each half drops the other
// from its state, forms a ring of its own, and must find the other again after the heal
// (PeerTracker's departed leaves, docs/pastry.md "Partitions").
void RoutingScenario::partition_and_heal(RoutingResult& result) {
  result.partitioned = true;
  result.partition_s = seconds_of(Time{0} + *config_.partition);
  std::vector<uint8_t> side(sim_.node_count());
  for (auto& s : side) s = static_cast<uint8_t>(choice_rng_.below(2));
  sim_.set_drop_filter(
      [side = std::move(side)](uint32_t from, uint32_t to, const overlay::Message&) {
        return from < side.size() && to < side.size() && side[from] != side[to];
      });
  const Time split = sim_.now();
  report(format("sim: partition at t=%.1fs for %.1fs", seconds_of(split), result.partition_s));
  run_with_progress(split + *config_.partition, "partition");
  sim_.set_drop_filter({});
  const Time heal = sim_.now();
  report(format("sim: healed at t=%.1fs; leaf sets differing from the oracle: %zu",
                seconds_of(heal), leaf_set_mismatches()));
  while (true) {
    const size_t wrong = leaf_set_mismatches();
    if (wrong == 0) {
      result.leafsets_match_after_heal_s = seconds_of(Time{0} + (sim_.now() - heal));
      break;
    }
    if (sim_.now() >= heal + config_.heal_wait) break;
    if ((sim_.now() - heal) % seconds(10) == Duration{0})
      report(format("sim: heal +%.0fs: %zu leaf sets wrong",
                    seconds_of(Time{0} + sim_.now() - heal), wrong));
    sim_.run_until(sim_.now() + seconds(1));
  }
  report(result.leafsets_match_after_heal_s
             ? format("sim: every leaf set right %.0f s after the heal",
                      *result.leafsets_match_after_heal_s)
             : format("sim: leaf sets still wrong %.0f s after the heal",
                      seconds_of(Time{0} + config_.heal_wait)));
  const size_t begin = issue_phase(sim_.now(), config_.lookup_spread, config_.lookups);
  wait_for_phase(log_, begin, config_.lookups, sim_.now() + config_.lookup_spread);
  result.after_heal = summarize(log_, begin, config_.lookups);
  diagnose(begin, config_.lookups, "after-heal");
}

size_t RoutingScenario::leaf_set_mismatches() const {
  size_t wrong = 0;
  for (uint32_t i : sim_.active_nodes()) {
    const auto& leaves = sim_.node(i).leaf_set();
    const TrueLeafSet truth = sim_.oracle().leaf_set(sim_.handle(i).id, leaves.half_size());
    auto same = [](const std::vector<overlay::NodeHandle>& side,
                   const std::vector<overlay::NodeId>& ids) {
      if (side.size() != ids.size()) return false;
      for (size_t k = 0; k < ids.size(); ++k)
        if (side[k].id != ids[k]) return false;
      return true;
    };
    if (!same(leaves.left(), truth.left) || !same(leaves.right(), truth.right)) ++wrong;
  }
  return wrong;
}

void RoutingScenario::check_leaf_sets(RoutingResult& result) {
  std::vector<uint32_t> nodes = sim_.active_nodes();
  std::sort(nodes.begin(), nodes.end());
  size_t reported = 0;
  for (uint32_t i : nodes) {
    const auto& leaves = sim_.node(i).leaf_set();
    const TrueLeafSet truth = sim_.oracle().leaf_set(sim_.handle(i).id, leaves.half_size());
    auto ids = [](const std::vector<overlay::NodeHandle>& side) {
      std::vector<overlay::NodeId> out;
      for (const auto& h : side) out.push_back(h.id);
      return out;
    };
    ++result.leaf_sets_checked;
    const auto left = ids(leaves.left()), right = ids(leaves.right());
    if (left == truth.left && right == truth.right) continue;
    ++result.leaf_set_mismatches;
    if (reported++ < 5) {
      // Name what differs: a dead node still listed, or a live one never learned about.
      std::string missing, extra;
      const auto members = leaves.members();
      for (const auto& side : {truth.left, truth.right})
        for (const auto& id : side)
          if (!leaves.contains(id) && missing.find(id.short_hex()) == std::string::npos) {
            missing.append(" ").append(id.short_hex());
            const auto who = sim_.oracle().closest(id);
            if (who && liar(who->node)) missing.append("(liar)");
          }
      for (const auto& h : members) {
        if (std::find(truth.left.begin(), truth.left.end(), h.id) != truth.left.end() ||
            std::find(truth.right.begin(), truth.right.end(), h.id) != truth.right.end())
          continue;
        const auto index = Simulator::index_of(h.endpoint);
        const bool alive = index && *index < sim_.node_count() && sim_.alive(*index);
        extra.append(" ").append(h.id.short_hex()).append(alive ? "(live)" : "(dead)");
        if (index && liar(*index)) extra.append("(liar)");
      }
      report(
          format("sim: leaf set mismatch at node %u id %s (left %zu/%zu, right %zu/%zu): "
                 "missing%s; extra%s",
                 i, sim_.handle(i).id.short_hex().c_str(), left.size(), truth.left.size(),
                 right.size(), truth.right.size(), missing.empty() ? " none" : missing.c_str(),
                 extra.empty() ? " none" : extra.c_str()));
    }
  }
}

RoutingResult RoutingScenario::run() {
  const auto wall_start = std::chrono::steady_clock::now();
  RoutingResult result;
  result.nodes = config_.nodes;
  result.seed = config_.seed;

  if (config_.malicious) liars_.emplace(config_, sim_, log_, liar_seed_, config_.progress);
  // 1. Build the ring: node 0 starts it, the others join one by one through an active node.
  const uint32_t first = create_node();
  sim_.start_ring(first);
  schedule_join(1);
  const Time joins_end = config_.join_interval * static_cast<int64_t>(config_.nodes - 1);
  run_with_progress(joins_end + config_.settle, "join+settle");
  result.joined = sim_.active_nodes().size();
  report(format("sim: %zu/%zu nodes active after settling (%zu joins without bootstrap)",
                result.joined, config_.nodes, bootstrap_missing_));

  // 2. Lookups on the settled ring.
  const Duration spread = config_.lookup_spread;
  if (liars_) liars_->before_plain_phase();
  size_t begin = issue_phase(sim_.now(), spread, config_.lookups);
  wait_for_phase(log_, begin, config_.lookups, sim_.now() + spread);
  result.routing = summarize(log_, begin, config_.lookups);
  if (!liars_) diagnose(begin, config_.lookups, "routing");
  report(format("sim: routing correct=%zu/%zu delivered=%zu hops_mean=%.3f", result.routing.correct,
                result.routing.lookups, result.routing.delivered, result.routing.hops_mean));
  if (liars_) {
    result.malicious = liars_->defended_phase(
        begin, config_.lookups, result.routing,
        [this](const LookupLog& log, size_t from, size_t n, Time last) {
          wait_for_phase(log, from, n, last);
        },
        [this](const LookupLog& log, size_t from, size_t n) { return summarize(log, from, n); });
  }

  // 3. Partition: two halves apart for a while, then one ring again.
  if (config_.partition) partition_and_heal(result);

  // 4. Churn: kill a fraction at once, measure while repairing and after.
  if (config_.kill_fraction) {
    result.churn = true;
    const Time kill_at = sim_.now();
    const auto target = static_cast<size_t>(
        std::llround(*config_.kill_fraction * static_cast<double>(config_.nodes)));
    result.killed = kill_random(target);
    report(format("sim: killed %zu nodes at t=%.1fs", result.killed, seconds_of(kill_at)));

    begin = issue_phase(kill_at, config_.churn_lookup_spread, config_.lookups);
    wait_for_phase(log_, begin, config_.lookups, kill_at + config_.churn_lookup_spread);
    result.during = summarize(log_, begin, config_.lookups);
    diagnose(begin, config_.lookups, "during-churn");

    run_with_progress(std::max(sim_.now(), kill_at + config_.repair_wait), "repair");
    begin = issue_phase(sim_.now(), spread, config_.lookups);
    wait_for_phase(log_, begin, config_.lookups, sim_.now() + spread);
    result.after_repair = summarize(log_, begin, config_.lookups);
    diagnose(begin, config_.lookups, "after-repair");
    report(format("sim: churn during=%zu/%zu after_repair=%zu/%zu", result.during.correct,
                  result.during.lookups, result.after_repair.correct, result.after_repair.lookups));
  }

  check_leaf_sets(result);
  report(format("sim: leaf sets matching the oracle: %zu/%zu",
                result.leaf_sets_checked - result.leaf_set_mismatches, result.leaf_sets_checked));

  {
    // What the hostile-input defences cost an honest ring (docs/security.md).
    overlay::PastryCounters sum;
    for (uint32_t i = 0; i < sim_.node_count(); ++i) {
      const overlay::PastryCounters& c = sim_.node(i).counters();
      sum.probes_sent += c.probes_sent;
      sum.state_unproven += c.state_unproven;
      sum.replies_deferred += c.replies_deferred;
      sum.replies_refused += c.replies_refused;
      sum.probes_refused += c.probes_refused;
      sum.pongs_unmatched += c.pongs_unmatched;
      sum.acks_unmatched += c.acks_unmatched;
      sum.route_pending_full += c.route_pending_full;
      sum.proofs_requested += c.proofs_requested;
      sum.proofs_made += c.proofs_made;
      sum.proofs_refused += c.proofs_refused;
      sum.proofs_verified += c.proofs_verified;
      sum.proofs_rejected += c.proofs_rejected;
      sum.unproven_held += c.unproven_held;
      sum.unproven_dropped += c.unproven_dropped;
    }
    result.proofs = config_.proofs;
    result.proof_counters = sum;
    report(format("sim: probes %llu, state from unproven %llu, replies deferred %llu refused %llu, "
                  "probes refused %llu, pongs unmatched %llu, acks unmatched %llu, hops refused %llu",
                  static_cast<unsigned long long>(sum.probes_sent),
                  static_cast<unsigned long long>(sum.state_unproven),
                  static_cast<unsigned long long>(sum.replies_deferred),
                  static_cast<unsigned long long>(sum.replies_refused),
                  static_cast<unsigned long long>(sum.probes_refused),
                  static_cast<unsigned long long>(sum.pongs_unmatched),
                  static_cast<unsigned long long>(sum.acks_unmatched),
                  static_cast<unsigned long long>(sum.route_pending_full)));
  }
  result.duplicate_deliveries = log_.duplicates();
  result.trace_hash = sim_.trace_hash();
  result.messages_oversize = sim_.counters().messages_oversize;
  result.events = sim_.counters().events;
  result.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result.events_per_s =
      result.wall_s > 0 ? static_cast<double>(result.events) / result.wall_s : 0.0;
  result.peak_rss_mb = peak_rss_mb();
  report(format("sim: %llu events in %.2f s wall, %.2f s CPU since process start; %s",
                static_cast<unsigned long long>(result.events), result.wall_s, cpu_seconds(),
                format("%zu datagrams sent, %zu lost, %zu to dead nodes",
                       static_cast<size_t>(sim_.counters().messages_sent),
                       static_cast<size_t>(sim_.counters().messages_lost),
                       static_cast<size_t>(sim_.counters().messages_to_dead))
                    .c_str()));
  return result;
}

}  // namespace

std::optional<std::string> validate(const RoutingScenarioConfig& c) {
  if (c.nodes < 1) return "--nodes must be at least 1";
  // Node addresses are 10.0.0.1 upward; beyond 2^24 they would leave 10/8.
  if (c.nodes > (size_t{1} << 24)) return "--nodes must be at most 16777216";
  if (c.lookups < 1) return "--lookups must be at least 1";
  if (!c.ids.empty() && c.ids.size() != c.nodes) return "--nodes must equal the number of --ids";
  if (c.kill_fraction && !(*c.kill_fraction >= 0.0 && *c.kill_fraction < 1.0))
    return "--kill-fraction must be in [0, 1)";
  if (!(c.loss >= 0.0 && c.loss < 1.0)) return "--loss must be in [0, 1)";
  if (c.malicious && !(*c.malicious >= 0.0 && *c.malicious <= 0.5))
    return "--malicious must be in [0, 0.5]";
  if (c.partition && *c.partition <= Duration::zero()) return "--partition-s must be positive";
  if (c.join_interval < Duration::zero()) return "--join-interval-ms must not be negative";
  if (c.settle < Duration::zero()) return "--settle-s must not be negative";
  if (c.lookup_spread < Duration::zero() || c.lookup_timeout <= Duration::zero() ||
      c.churn_lookup_spread < Duration::zero() || c.repair_wait < Duration::zero())
    return "lookup timing must not be negative";
  if (c.pastry.leaf_set_size < 2 || c.pastry.leaf_set_size % 2 != 0)
    return "leaf set size must be even and at least 2";
  return std::nullopt;
}

RoutingResult run_routing_scenario(const RoutingScenarioConfig& config) {
  if (auto error = validate(config)) throw std::invalid_argument(*error);
  RoutingScenario scenario(config);
  return scenario.run();
}

}  // namespace forestcast::sim
