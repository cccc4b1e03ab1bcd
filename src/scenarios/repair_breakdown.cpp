// Where a repaired viewer's time went after a kill (`sim: repair split ...`). For its slowest
// stripe, the repairing node is the highest node on its current path to the root (itself
// included) that lost its parent after the kill and was accepted by a new one before the viewer's
// repair ended. Its loss minus the kill is detection, its acceptance minus its loss the re-join
// (push-down, walks and retries included), and the viewer's repair minus that acceptance the way
// down (path delay from the repairing node and gap-repair replays). Levels: tree hops from the
// repairing node down to the viewer.
#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/forest_diagnostics.hpp"

namespace forestcast::sim::forest {

namespace {

struct Split {
  double total_ms = 0, detect_ms = 0, rejoin_ms = 0, down_ms = 0;
  size_t levels = 0;
  bool self = false;
};

double ms_of(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

void report_group(const ForestView& fv, const char* name, const std::vector<Split>& splits,
                  size_t unexplained) {
  std::vector<double> detect, rejoin, down, levels;
  size_t self = 0;
  for (const Split& s : splits) {
    detect.push_back(s.detect_ms);
    rejoin.push_back(s.rejoin_ms);
    down.push_back(s.down_ms);
    levels.push_back(static_cast<double>(s.levels));
    self += s.self ? 1 : 0;
  }
  fv.report(format("sim: repair split (%s: %zu viewers, %zu without a repairing node on their "
                   "path): detection p50/p90 %.0f/%.0f ms, re-join %.0f/%.0f ms, down the tree "
                   "%.0f/%.0f ms over %.0f/%.0f levels; %zu repaired their own parent",
                   name, splits.size(), unexplained, percentile(detect, 0.5),
                   percentile(detect, 0.9), percentile(rejoin, 0.5), percentile(rejoin, 0.9),
                   percentile(down, 0.5), percentile(down, 0.9), percentile(levels, 0.5),
                   percentile(levels, 0.9), self));
}

}  // namespace

void report_repair_breakdown(const ForestView& fv, Time kill) {
  if (fv.nodes.empty() || !fv.nodes[0].splitstream) return;
  const auto views = fv.nodes[0].splitstream->stripes(fv.group);
  std::vector<Split> splits;
  std::vector<bool> explained;
  for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
    if (!fv.sim.alive(i) || !fv.nodes[i].sink) continue;
    const ViewerSink& sink = *fv.nodes[i].sink;
    const auto stripe = sink.slowest_stripe();
    if (!stripe || *stripe >= views.size()) continue;
    const Time repaired = sink.repaired_at(*stripe);
    const NodeId& topic = views[*stripe].stripe_id;
    Split s;
    s.total_ms = ms_of(repaired - kill);
    bool found = false;
    uint32_t cur = i;
    // Bounded walk up the parents (a transient loop must not hang the report).
    for (size_t hops = 0; hops <= multicast::kMaxPathLength; ++hops) {
      const multicast::TopicState* t = fv.nodes[cur].scribe->topic(topic);
      if (t == nullptr) break;
      if (t->lost_at >= kill && t->lost_at <= repaired && t->regained_at <= repaired) {
        found = true;
        s.detect_ms = ms_of(t->lost_at - kill);
        s.rejoin_ms = ms_of(t->regained_at - t->lost_at);
        s.down_ms = ms_of(repaired - t->regained_at);
        s.levels = hops;
        s.self = cur == i;
      }
      if (!t->parent) break;
      const auto up = Simulator::index_of(t->parent->endpoint);
      if (!up || !fv.sim.alive(*up)) break;
      cur = *up;
    }
    splits.push_back(s);
    explained.push_back(found);
  }
  std::vector<double> totals;
  for (const Split& s : splits) totals.push_back(s.total_ms);
  const double p90 = percentile(totals, 0.9);
  std::vector<Split> all, slow;
  size_t all_unexplained = 0, slow_unexplained = 0;
  for (size_t k = 0; k < splits.size(); ++k) {
    const bool is_slow = splits[k].total_ms >= p90;
    if (!explained[k]) {
      ++all_unexplained;
      slow_unexplained += is_slow ? 1 : 0;
      continue;
    }
    all.push_back(splits[k]);
    if (is_slow) slow.push_back(splits[k]);
  }
  report_group(fv, "all repaired", all, all_unexplained);
  // Per stripe: how many viewers it cut and how long their repair took there; a stripe whose
  // root died cuts every viewer.
  std::string line = "sim: repair per stripe (viewers cut, p50/p90/max ms, slowest for):";
  for (uint32_t st = 0; st < views.size(); ++st) {
    std::vector<double> times;
    size_t slowest_for = 0;
    for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
      if (!fv.sim.alive(i) || !fv.nodes[i].sink) continue;
      const Time at = fv.nodes[i].sink->repaired_at(st);
      if (at == kNever) continue;
      times.push_back(ms_of(at - kill));
      slowest_for += fv.nodes[i].sink->slowest_stripe() == st ? 1 : 0;
    }
    line += format(" %u:%zu,%.0f/%.0f/%.0f,%zu", st, times.size(), percentile(times, 0.5),
                   percentile(times, 0.9), percentile(times, 1.0), slowest_for);
  }
  fv.report(line);
  report_group(fv, format("slowest 10 %%, >= %.0f ms", p90).c_str(), slow, slow_unexplained);
}

}  // namespace forestcast::sim::forest
