// Where a repaired viewer's time went after a kill (`sim: repair split ...`). For its slowest
// stripe, the repairing node is the highest node on its current path to the root (itself
// included) that lost its parent after the kill and was accepted by a new one before the viewer's
// repair ended. Its loss minus the kill is detection, its acceptance minus its loss the re-join
// (push-down, walks and retries included), and the viewer's repair minus that acceptance the way
// down (path delay from the repairing node and gap-repair replays). Levels: tree hops from the
// repairing node down to the viewer.
#include <algorithm>
#include <array>
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
  // At the repairing node: how its new parent was found, whether that parent was itself cut off
  // when it accepted, and its first data from it (ms after the acceptance; -1: none).
  multicast::AttachVia via = multicast::AttachVia::kNone;
  bool cut_off = false;
  double first_data_ms = -1;
};

double ms_of(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

void report_group(const ForestView& fv, const char* name, const std::vector<Split>& splits,
                  size_t unexplained) {
  std::vector<double> detect, rejoin, down, levels, first_data;
  size_t self = 0, cut_off = 0, no_data = 0;
  std::array<size_t, 6> via{};
  for (const Split& s : splits) {
    via[std::min<size_t>(static_cast<size_t>(s.via), via.size() - 1)] += 1;
    cut_off += s.cut_off ? 1 : 0;
    if (s.first_data_ms < 0)
      ++no_data;
    else
      first_data.push_back(s.first_data_ms);
    detect.push_back(s.detect_ms);
    rejoin.push_back(s.rejoin_ms);
    down.push_back(s.down_ms);
    levels.push_back(static_cast<double>(s.levels));
    self += s.self ? 1 : 0;
  }
  fv.report(
      format("sim: repair split (%s: %zu viewers, %zu without a repairing node on their "
             "path): detection p50/p90 %.0f/%.0f ms, re-join %.0f/%.0f ms, down the tree "
             "%.0f/%.0f ms over %.0f/%.0f levels; %zu repaired their own parent",
             name, splits.size(), unexplained, percentile(detect, 0.5), percentile(detect, 0.9),
             percentile(rejoin, 0.5), percentile(rejoin, 0.9), percentile(down, 0.5),
             percentile(down, 0.9), percentile(levels, 0.5), percentile(levels, 0.9), self));
  fv.report(
      format("sim: repair split (%s): the repairing node's new parent via routed/push-down/"
             "repair/stripe SCG/stream SCG %zu/%zu/%zu/%zu/%zu, cut off itself when it "
             "accepted %zu; its first data after the acceptance p50/p90 %.0f/%.0f ms (none "
             "%zu)",
             name, via[1], via[2], via[3], via[4], via[5], cut_off, percentile(first_data, 0.5),
             percentile(first_data, 0.9), no_data));
}

// The six slowest viewers' slowest stripe, and every tenth viewer after them down to the 160th
// slowest, node by node up the current path: when each lost and regained its parent and first
// got new data after that (ms after the kill), how, whether the new parent was cut off then, and
// the node's repair steps (TopicState::trace_kind).
void report_slowest_paths(const ForestView& fv, Time kill,
                          const std::vector<multicast::StripeView>& views) {
  std::vector<std::pair<Time, uint32_t>> order;
  for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
    if (!fv.sim.alive(i) || !fv.nodes[i].sink || !fv.nodes[i].sink->slowest_stripe()) continue;
    order.emplace_back(fv.nodes[i].sink->repaired_at(), i);
  }
  std::sort(order.rbegin(), order.rend());
  auto rel = [&](Time t) { return t == kNever ? -1.0 : ms_of(t - kill); };
  for (size_t k = 0; k < order.size() && k < 160; k += (k < 6 ? 1 : 10)) {
    const uint32_t v = order[k].second;
    const uint32_t stripe = *fv.nodes[v].sink->slowest_stripe();
    const NodeId& topic = views[stripe].stripe_id;
    std::string line =
        format("sim: slow viewer %u stripe %u repaired %.0f ms (gap from %.0f):", v, stripe,
               rel(order[k].first), rel(fv.nodes[v].sink->slowest_gap_from()));
    uint32_t cur = v;
    for (size_t hops = 0; hops <= multicast::kMaxPathLength; ++hops) {
      const multicast::TopicState* t = fv.nodes[cur].scribe->topic(topic);
      if (t == nullptr) break;
      std::string tr;
      for (size_t q = 0; q < t->trace_n; ++q)
        tr += format(" %c%d", t->trace_kind[q], t->trace_ms[q]);
      line += format(" [%u lost %.0f regained %.0f data %.0f via %d%s%s%s |%s]", cur,
                     rel(t->lost_at), rel(t->regained_at), rel(t->data_after_regain),
                     static_cast<int>(t->regained_via), t->regained_cut_off ? " cut" : "",
                     t->root ? " root" : "", t->pushdowns > 0 ? " pushed" : "", tr.c_str());
      if (!t->parent) break;
      const auto up = Simulator::index_of(t->parent->endpoint);
      if (!up || !fv.sim.alive(*up)) break;
      cur = *up;
    }
    fv.report(line);
  }
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
        s.via = t->regained_via;
        s.cut_off = t->regained_cut_off;
        s.first_data_ms =
            t->data_after_regain == kNever ? -1 : ms_of(t->data_after_regain - t->regained_at);
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
  report_slowest_paths(fv, kill, views);
}

}  // namespace forestcast::sim::forest
