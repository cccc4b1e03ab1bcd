#include "scenarios/malicious_run.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace forestcast::sim {

namespace {

constexpr uint32_t kNoRoot = std::numeric_limits<uint32_t>::max();
// Nodes an honest node knows from outside the overlay: its guard's first seeds.
constexpr size_t kBootstrapList = 8;

std::string format(const char* fmt, auto... args) {
  std::array<char, 512> buf{};
  std::snprintf(buf.data(), buf.size(), fmt, args...);
  return std::string(buf.data());
}

// Mean time from issue to delivery over the delivered lookups of [first, first + count).
double latency_ms(const LookupLog& log, size_t first, size_t count) {
  double sum = 0;
  size_t n = 0;
  for (size_t i = first; i < first + count && i < log.size(); ++i) {
    if (!log[i].delivered) continue;
    sum += static_cast<double>((log[i].delivered_at - log[i].issued).count()) / 1000.0;
    ++n;
  }
  return n ? sum / static_cast<double>(n) : 0.0;
}

}  // namespace

MaliciousRun::MaliciousRun(const RoutingScenarioConfig& config, Simulator& sim, LookupLog& log,
                           uint64_t seed, std::function<void(const std::string&)> report)
    : config_(config), sim_(sim), log_(log), rng_(seed), report_(std::move(report)) {
  if (!report_) report_ = [](const std::string&) {};
  liar_.assign(config_.nodes, 0);
  secure_apps_.assign(config_.nodes, nullptr);
  guards_.assign(config_.nodes, nullptr);
  std::vector<uint32_t> order(config_.nodes);
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto count =
      static_cast<size_t>(std::llround(*config_.malicious * static_cast<double>(config_.nodes)));
  for (size_t k = 0; k < count; ++k) {  // partial Fisher-Yates: a uniform sample of `count`
    std::swap(order[k], order[k + rng_.below(order.size() - k)]);
    liar_[order[k]] = 1;
  }
  // A liar's core stays honest; its datagrams lie (every state it hands out names colluders).
  sim_.set_tamper([this](uint32_t from, uint32_t to,
                         const overlay::Message& msg) -> std::optional<overlay::Message> {
    if (from >= liar_.size() || !liar_[from] || to >= sim_.node_count()) return std::nullopt;
    return colluders_.poison(sim_.handle(from).id, sim_.handle(to).id, msg);
  });
}

void MaliciousRun::attach_apps(uint32_t i) {
  if (liar_[i]) {
    colluders_.add(sim_.handle(i));
    sim_.attach_app(i, kLookupAppId,
                    std::make_unique<MaliciousLookupApp>(i, log_, config_.liars, rng_.next()));
    for (uint16_t app : {secure::kSecureLookupAppId, secure::kNeighbourhoodGuardAppId})
      sim_.attach_app(i, app,
                      std::make_unique<MaliciousSecureApp>(app, sim_.node(i), colluders_,
                                                           config_.liars, rng_.next()));
    return;
  }
  sim_.attach_app(i, kLookupAppId, std::make_unique<LookupApp>(i, log_));
  secure::SecureLookupConfig sc = config_.secure;
  sc.leaf_set_size = config_.pastry.leaf_set_size;
  if (config_.guard)
    guards_[i] = &sim_.attach_app(i, secure::kNeighbourhoodGuardAppId,
                                  std::make_unique<secure::NeighbourhoodGuard>(
                                      sim_.node(i), sc.leaf_set_size, *config_.guard));
  secure_apps_[i] = &sim_.attach_app(
      i, secure::kSecureLookupAppId,
      std::make_unique<secure::SecureLookup>(
          sim_.node(i), sc, [this](Time now, const secure::SecureLookupResult& r) {
            if (r.token >= secure_redundant_.size()) return;
            secure_redundant_[r.token] = r.redundant ? 1 : 0;
            secure_passed_[r.token] = r.redundant ? 0 : 1;
            if (!r.root) return;  // nobody answered: never delivered, so incorrect
            if (const auto index = Simulator::index_of(r.root->endpoint))
              secure_log_.delivered(r.token, *index, now, static_cast<int>(r.replies));
          }));
}

void MaliciousRun::joined(uint32_t i, uint32_t bootstrap, const std::vector<uint32_t>& active) {
  if (guards_[i] == nullptr) return;
  // Its bootstrap list: the node it joined through and a few more it was told about.
  guards_[i]->add_seed(sim_.handle(bootstrap));
  for (size_t s = 1; s < kBootstrapList; ++s)
    guards_[i]->add_seed(sim_.handle(active[rng_.below(active.size())]));
}

void MaliciousRun::before_plain_phase() {
  routing_table_liars_ = routing_table_liar_fraction();
  plain_datagrams_before_ = lookup_datagrams(kLookupAppId);
}

MaliciousResult MaliciousRun::defended_phase(size_t first, size_t count,
                                             const LookupPhaseResult& plain, const Wait& wait,
                                             const Summarize& summarize) {
  MaliciousResult m;
  m.fraction = *config_.malicious;
  m.liars = colluders_.size();
  m.undefended = plain;
  m.latency_ms_undefended = latency_ms(log_, first, count);
  m.routing_table_liar_fraction = routing_table_liars_;
  m.datagrams_per_lookup_undefended =
      static_cast<double>(lookup_datagrams(kLookupAppId) - plain_datagrams_before_) /
      static_cast<double>(count);
  const uint64_t before = lookup_datagrams(secure::kSecureLookupAppId);
  const Time start = sim_.now();
  const size_t secure_first = secure_log_.size();
  secure_redundant_.resize(secure_first + count, 0);
  secure_passed_.resize(secure_first + count, 0);
  for (size_t k = 0; k < count; ++k) {
    const Time at = start + Duration{config_.lookup_spread.count() * static_cast<int64_t>(k) /
                                     static_cast<int64_t>(count)};
    sim_.schedule(at, [this, first, k] {
      const LookupRecord& asked = log_[first + k];
      LookupRecord r;
      r.issued = sim_.now();
      r.source = asked.source;
      r.key = asked.key;
      const auto root = sim_.oracle().closest(r.key);
      r.expected = root ? root->node : kNoRoot;
      const uint64_t index = secure_log_.add(r);
      if (asked.expected == kNoRoot) return;  // nobody to ask: as in the plain phase
      sim_.with_node(
          r.source, [&](PastryNode&) { secure_apps_[r.source]->lookup(sim_.now(), r.key, index); });
    });
  }
  wait(secure_log_, secure_first, count, start + config_.lookup_spread);
  m.defended = summarize(secure_log_, secure_first, count);
  m.latency_ms_defended = latency_ms(secure_log_, secure_first, count);
  m.datagrams_per_lookup_defended =
      static_cast<double>(lookup_datagrams(secure::kSecureLookupAppId) - before) /
      static_cast<double>(count);
  size_t redundant = 0, passed_wrong = 0;
  for (size_t k = 0; k < count; ++k) {
    const size_t i = secure_first + k;
    redundant += secure_redundant_[i];
    const LookupRecord& r = secure_log_[i];
    if (secure_passed_[i] && !(r.delivered && r.delivered_by == r.expected)) ++passed_wrong;
  }
  m.redundant_fraction = static_cast<double>(redundant) / static_cast<double>(count);
  m.honest_leaf_sets_wrong = report_counters();
  m.guard = config_.guard.has_value();
  uint64_t guard_sent = 0, walks = 0;  // liars' answers to the walks count too
  for (uint32_t i = 0; i < sim_.node_count(); ++i) {
    guard_sent += sim_.traffic(i).app(secure::kNeighbourhoodGuardAppId).sent_messages;
    if (guards_[i] != nullptr) walks += guards_[i]->counters().walks;
  }
  m.guard_datagrams_per_walk =
      walks ? static_cast<double>(guard_sent) / static_cast<double>(walks) : 0.0;
  m.passed_but_wrong = static_cast<double>(passed_wrong) / static_cast<double>(count);
  report_(format(
      "sim: %zu liars (%.2f): correct undefended %zu/%zu, defended %zu/%zu; %.1f%% "
      "redundant, %zu passed the test but wrong; %.1f vs %.1f datagrams, %.0f vs %.0f ms "
      "per lookup",
      m.liars, m.fraction, plain.correct, plain.lookups, m.defended.correct, m.defended.lookups,
      100.0 * m.redundant_fraction, passed_wrong, m.datagrams_per_lookup_defended,
      m.datagrams_per_lookup_undefended, m.latency_ms_defended, m.latency_ms_undefended));
  return m;
}

size_t MaliciousRun::report_counters() const {
  secure::SecureLookupCounters c;
  secure::GuardCounters g;
  for (const secure::NeighbourhoodGuard* guard : guards_) {
    if (guard == nullptr) continue;
    g.walks += guard->counters().walks;
    g.requests += guard->counters().requests;
    g.replies += guard->counters().replies;
    g.probes += guard->counters().probes;
  }
  for (const secure::SecureLookup* app : secure_apps_) {
    if (app == nullptr) continue;
    const auto& n = app->counters();
    c.first_passed += n.first_passed;
    c.first_timed_out += n.first_timed_out;
    c.failed_sparse += n.failed_sparse;
    c.failed_too_few += n.failed_too_few;
    c.failed_not_closest += n.failed_not_closest;
    c.failed_known_closer += n.failed_known_closer;
    c.relays_refused += n.relays_refused;
    c.replies_unmatched += n.replies_unmatched;
  }
  size_t eclipsed = 0;  // honest nodes whose leaf set lacks a true member
  for (uint32_t i : sim_.active_nodes()) {
    if (liar(i)) continue;
    const auto& leaves = sim_.node(i).leaf_set();
    const TrueLeafSet truth = sim_.oracle().leaf_set(sim_.handle(i).id, leaves.half_size());
    bool lacks = false;
    for (const auto& side : {truth.left, truth.right})
      for (const auto& id : side) lacks = lacks || !leaves.contains(id);
    eclipsed += lacks ? 1 : 0;
  }
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  report_(
      format("sim: secure lookups: first answer passed %llu, timed out %llu, failed sparse "
             "%llu too_few %llu not_closest %llu known_closer %llu; guard walks %llu, "
             "requests %llu, replies %llu, probes %llu; relays refused %llu, replies unmatched "
             "(late) %llu",
             u(c.first_passed), u(c.first_timed_out), u(c.failed_sparse), u(c.failed_too_few),
             u(c.failed_not_closest), u(c.failed_known_closer), u(g.walks), u(g.requests),
             u(g.replies), u(g.probes), u(c.relays_refused), u(c.replies_unmatched)));
  report_(format("sim: honest nodes whose leaf set lacks a true member: %zu", eclipsed));
  return eclipsed;
}

uint64_t MaliciousRun::lookup_datagrams(uint16_t app_id) const {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < sim_.node_count(); ++i)
    sum += sim_.traffic(i).app(app_id).sent_messages + sim_.node(i).counters().routed_forwarded;
  return sum;
}

double MaliciousRun::routing_table_liar_fraction() const {
  size_t entries = 0, liars = 0;
  for (uint32_t i : sim_.active_nodes()) {
    if (liar(i)) continue;
    sim_.node(i).routing_table().for_each([&](const overlay::RouteEntry& e) {
      ++entries;
      const auto index = Simulator::index_of(e.node.endpoint);
      if (index && liar(*index)) ++liars;
    });
  }
  return entries ? static_cast<double>(liars) / static_cast<double>(entries) : 0.0;
}

}  // namespace forestcast::sim
