#include "scenarios/forest_diagnostics.hpp"

#include <algorithm>
#include <unordered_map>

namespace forestcast::sim::forest {

void report_build_diagnostics(const ForestView& fv) {
  {
    // Heartbeats go per (topic, child): they could be shared only by a parent and child linked
    // in several stripes at once.
    size_t links = 0, shared = 0;
    for (uint32_t i = 0; i < fv.nodes.size(); ++i) {
      if (!fv.sim.alive(i)) continue;
      std::vector<overlay::NodeId> kids;
      for (const auto& [id, t] : fv.nodes[i].scribe->topics())
        if (!t.slow)
          for (const auto& c : t.children) kids.push_back(c.node.id);
      std::sort(kids.begin(), kids.end());
      links += kids.size();
      shared += kids.size() - static_cast<size_t>(std::unique(kids.begin(), kids.end()) -
                                                  kids.begin());
    }
    fv.report(format("sim: stripe links %zu, of which %zu repeat a (parent, child) pair of "
                     "another stripe",
                     links, shared));
  }
  {
    std::array<size_t, 5> interior_hist{};
    size_t foreign_children = 0;
    std::vector<size_t> depth_hist(12, 0);
    uint64_t foreign_admits = 0, foreign_scg = 0, stripe_scg_failures = 0;
    for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
      if (!fv.sim.alive(i)) continue;
      size_t interior = 0;
      const int own = fv.sim.handle(i).id.digit(0);
      for (uint32_t st = 0; st < fv.stripes; ++st) {
        const auto* t = fv.nodes[i].scribe->topic(fv.group.with_digit(0, static_cast<int>(st)));
        if (t == nullptr) continue;
        if (!t->children.empty()) ++interior;
        if (static_cast<int>(st) != own) foreign_children += t->children.size();
        if (t->attached) ++depth_hist[std::min<size_t>(t->depth(), 11)];
      }
      ++interior_hist[std::min<size_t>(interior, 4)];
      foreign_admits += fv.nodes[i].splitstream->counters().foreign_admits;
      foreign_scg += fv.nodes[i].splitstream->counters().scg_adoptions_foreign;
      stripe_scg_failures += fv.nodes[i].splitstream->counters().stripe_scg_failures;
    }
    std::vector<double> to_complete;
    size_t never = 0;
    for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
      if (fv.nodes[i].complete_at == kNever)
        ++never;
      else
        to_complete.push_back(seconds_of(fv.nodes[i].complete_at - fv.nodes[i].subscribed_at));
    }
    fv.report(
        format("sim: subscribe to every stripe received, s: p50 %.1f p90 %.1f p99 %.1f max "
               "%.1f, never %zu",
               percentile(to_complete, 0.5), percentile(to_complete, 0.9),
               percentile(to_complete, 0.99), percentile(to_complete, 1.0), never));
    {
      // Where the forest is not interior-node-disjoint: per stripe, the slots its own digit's
      // nodes offer against the children it needs (the deficit must come from other digits),
      // and of the nodes interior in several stripes, how many forward their own one too.
      std::vector<int64_t> own_slots(fv.stripes, 0), own_held(fv.stripes, 0);
      std::vector<int64_t> foreign_held(fv.stripes, 0);
      size_t multi = 0, multi_with_own = 0, only_foreign = 0;
      for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
        if (!fv.sim.alive(i)) continue;
        const int own = fv.sim.handle(i).id.digit(0);
        if (static_cast<uint32_t>(own) < fv.stripes)
          own_slots[static_cast<size_t>(own)] += fv.nodes[i].splitstream->limit();
        size_t interior = 0;
        bool own_interior = false;
        for (uint32_t st = 0; st < fv.stripes; ++st) {
          const auto* t = fv.nodes[i].scribe->topic(fv.group.with_digit(0, static_cast<int>(st)));
          if (t == nullptr || t->children.empty()) continue;
          ++interior;
          const auto n = static_cast<int64_t>(t->children.size());
          if (static_cast<int>(st) == own) {
            own_interior = true;
            own_held[st] += n;
          } else {
            foreign_held[st] += n;
          }
        }
        if (interior >= 2) {
          ++multi;
          multi_with_own += own_interior ? 1 : 0;
        } else if (interior == 1 && !own_interior) {
          ++only_foreign;
        }
      }
      std::string line = "sim: per stripe own-digit slots/own-digit children/foreign children:";
      for (uint32_t st = 0; st < fv.stripes; ++st)
        line += format(" %lld/%lld/%lld", static_cast<long long>(own_slots[st]),
                       static_cast<long long>(own_held[st]),
                       static_cast<long long>(foreign_held[st]));
      fv.report(line);
      // Deep chains: how many ancestors of a deep (node, stripe) pair are of another digit
      // than the stripe's (a foreign forwarder, or a node of another digit forwarding in
      // the stripe), and how many share at most one digit more than the stripe's first.
      std::array<size_t, 4> deep_foreign{};
      size_t deep = 0;
      for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
        if (!fv.sim.alive(i)) continue;
        for (uint32_t st = 0; st < fv.stripes; ++st) {
          const auto sid = fv.group.with_digit(0, static_cast<int>(st));
          const auto* t = fv.nodes[i].scribe->topic(sid);
          if (t == nullptr || !t->attached || t->depth() < 7) continue;
          ++deep;
          size_t foreign = 0;
          for (const auto& a : t->path) foreign += a.digit(0) != static_cast<int>(st) ? 1 : 0;
          ++deep_foreign[std::min<size_t>(foreign, 3)];
        }
      }
      fv.report(format("sim: pairs at depth >= 7: %zu, with 0/1/2/3+ ancestors of another digit: "
                       "%zu %zu %zu %zu",
                       deep, deep_foreign[0], deep_foreign[1], deep_foreign[2], deep_foreign[3]));
      fv.report(format("sim: interior in 2+ stripes %zu (own stripe among them %zu); interior "
                       "in one foreign stripe only %zu",
                       multi, multi_with_own, only_foreign));
    }
    std::string line = "sim: interior in 0/1/2/3/4+ stripes:";
    for (size_t v : interior_hist) line += format(" %zu", v);
    line += format(
        "; foreign children now %zu, foreign adoptions by JOIN %llu by SCG %llu; stripe SCG "
        "walks without acceptor %llu",
        foreign_children, static_cast<unsigned long long>(foreign_admits),
        static_cast<unsigned long long>(foreign_scg),
        static_cast<unsigned long long>(stripe_scg_failures));
    fv.report(line);
    line = "sim: depth histogram 0..10,11+:";
    for (size_t v : depth_hist) line += format(" %zu", v);
    fv.report(line);
  }
}

namespace {

const char* via_name(multicast::AttachVia v) {
  switch (v) {
    case multicast::AttachVia::kRouted: return "routed";
    case multicast::AttachVia::kPushdown: return "pushdown";
    case multicast::AttachVia::kRepair: return "repair";
    case multicast::AttachVia::kStripeScg: return "stripe-scg";
    case multicast::AttachVia::kStreamScg: return "stream-scg";
    case multicast::AttachVia::kNone: break;
  }
  return "none";
}

}  // namespace

void report_deep_chains(const ForestView& fv) {
  // The deepest pair of each stripe deeper than 10, as the chain from the root down: per node,
  // its digit and prefix with the stripeId, its children there and budget, how it found its
  // parent (and after how many push-down steps), and how often a full parent orphaned it. A
  // chain that push-down grows shows the same nodes pushed down again and again.
  std::unordered_map<overlay::NodeId, uint32_t> index;
  for (uint32_t i = 0; i < fv.nodes.size(); ++i) index.emplace(fv.sim.handle(i).id, i);
  const uint32_t pushdown_depth = fv.nodes[0].scribe->config().pushdown_depth;
  std::array<size_t, 6> via_deep{};
  size_t deep = 0;
  for (uint32_t st = 0; st < fv.stripes; ++st) {
    const auto sid = fv.group.with_digit(0, static_cast<int>(st));
    uint32_t deepest = 0;
    size_t depth = 0;
    for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
      if (!fv.sim.alive(i)) continue;
      const auto* t = fv.nodes[i].scribe->topic(sid);
      if (t == nullptr || !t->attached) continue;
      if (t->depth() > 10) {
        ++deep;
        ++via_deep[static_cast<size_t>(t->attached_via)];
      }
      if (t->depth() > depth) {
        depth = t->depth();
        deepest = i;
      }
    }
    if (depth <= 10) continue;
    std::vector<size_t> hist(depth + 1, 0);
    for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
      const auto* t = fv.sim.alive(i) ? fv.nodes[i].scribe->topic(sid) : nullptr;
      if (t != nullptr && t->attached) ++hist[t->depth()];
    }
    std::string h = format("sim: stripe %u depth histogram:", st);
    for (size_t v : hist) h += format(" %zu", v);
    fv.report(h);
    const auto* t = fv.nodes[deepest].scribe->topic(sid);
    std::vector<overlay::NodeId> chain = t->path;
    chain.push_back(fv.sim.handle(deepest).id);
    std::string line = format(
        "sim: chain of stripe %u to depth %zu (node digit/prefix kids/own-digit used/limit "
        "via attached-at [steps] pushdowns):",
        st, depth);
    for (const auto& id : chain) {
      const auto it = index.find(id);
      if (it == index.end()) {
        line += " ?";
        continue;
      }
      const auto& n = fv.nodes[it->second];
      const auto* ct = n.scribe->topic(sid);
      if (ct == nullptr) {
        line += format(" %u(no state)", it->second);
        continue;
      }
      const auto own = std::count_if(ct->children.begin(), ct->children.end(), [&](const auto& c) {
        return c.node.id.digit(0) == static_cast<int>(st);
      });
      line += format(" %u(%d/%d k%zu/%zu %d/%d %s %.1fs", it->second, id.digit(0),
                     id.shared_prefix_length(sid), ct->children.size(), static_cast<size_t>(own),
                     n.splitstream->used(), n.splitstream->limit(), via_name(ct->attached_via),
                     ct->regained_at == kNever ? -1.0 : seconds_of(ct->regained_at));
      if (ct->attached_via == multicast::AttachVia::kPushdown)
        line += format("[%u]", pushdown_depth - std::min(pushdown_depth, ct->pushdown_left_sent));
      line += format(" pd%u)", ct->pushdowns);
    }
    fv.report(line);
  }
  fv.report(format("sim: pairs deeper than 10: %zu, attached by routed %zu, push-down %zu, "
                   "repair %zu, stripe SCG %zu, stream SCG %zu",
                   deep, via_deep[1], via_deep[2], via_deep[3], via_deep[4], via_deep[5]));
}

void report_scg_staleness(const ForestView& fv) {
  {
    // How stale the control groups' trees are at the end: child entries whose node has no state
    // for the group (or another parent), and parents that do not list the node.
    size_t entries = 0, child_gone = 0, child_elsewhere = 0, parent_gone = 0, parent_lacks = 0;
    for (uint32_t i = 0; i < fv.nodes.size(); ++i) {
      if (!fv.sim.alive(i)) continue;
      for (const auto& [id, t] : fv.nodes[i].scribe->topics()) {
        if (!t.slow) continue;
        for (const auto& c : t.children) {
          ++entries;
          const auto k = *Simulator::index_of(c.node.endpoint);
          const auto* ct = fv.nodes[k].scribe->topic(id);
          if (ct == nullptr)
            ++child_gone;
          else if (!ct->parent || ct->parent->id != fv.sim.handle(i).id)
            ++child_elsewhere;
        }
        if (t.parent) {
          const auto k = *Simulator::index_of(t.parent->endpoint);
          const auto* pt = fv.nodes[k].scribe->topic(id);
          if (pt == nullptr)
            ++parent_gone;
          else if (!pt->has_child(fv.sim.handle(i).id))
            ++parent_lacks;
        }
      }
    }
    fv.report(format("sim: SCG trees: %zu child entries, %zu to nodes without the group, %zu to "
                     "nodes with another parent; parents without the group %zu, not listing "
                     "the child %zu",
                     entries, child_gone, child_elsewhere, parent_gone, parent_lacks));
  }
}

void report_final_diagnostics(const ForestView& fv) {
  report_deep_chains(fv);
  report_scg_staleness(fv);
  {
    uint64_t leaves = 0, takeovers = 0, undone = 0, held = 0, data_held = 0, failures = 0;
    for (const ForestNode& n : fv.nodes) {
      const auto& c = n.scribe->counters();
      leaves += c.cut_off_leaves;
      takeovers += c.successor_takeovers;
      undone += c.takeovers_undone;
      held += c.joins_held;
      data_held += c.data_held;
      failures += c.parent_failures;
    }
    fv.report(format("sim: scribe repair: parent failures %llu, cut-off leaves %llu, successor "
                     "take-overs %llu (undone %llu), joins held %llu, data held %llu",
                     static_cast<unsigned long long>(failures),
                     static_cast<unsigned long long>(leaves),
                     static_cast<unsigned long long>(takeovers),
                     static_cast<unsigned long long>(undone),
                     static_cast<unsigned long long>(held),
                     static_cast<unsigned long long>(data_held)));
  }
  {
    uint64_t gp = 0, anc = 0, backup = 0, declined = 0, dropped = 0, lost = 0, skips = 0;
    uint64_t walks = 0, walk_adoptions = 0, not_receiving = 0, unanswered = 0;
    for (const ForestNode& n : fv.nodes) {
      const auto& c = n.scribe->counters();
      walks += c.repair_walks_sent;
      walk_adoptions += c.repair_walk_adoptions;
      not_receiving += c.ancestors_not_receiving;
      if (n.splitstream) unanswered += n.splitstream->counters().pushdown_unanswered_skipped;
      gp += c.grandparent_rejoins;
      anc += c.ancestor_rejoins;
      backup += c.backup_joins_sent;
      declined += c.backup_joins_declined;
      dropped += c.children_reported_dead;
      lost += c.anycasts_lost;
      skips += c.walk_skips;
    }
    auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
    fv.report(format("sim: re-joins at the grandparent %llu, at a further ancestor %llu; backup "
                     "JOINs %llu (declined %llu); children dropped on their orphan's word %llu; "
                     "walks re-issued as lost %llu; walk steps past silent members %llu",
                     u(gp), u(anc), u(backup), u(declined), u(dropped), u(lost), u(skips)));
    fv.report(format("sim: repair walks %llu (adopted first %llu); ancestors not receiving, the "
                     "next one asked at once %llu; push-down candidates skipped as unanswered %llu",
                     u(walks), u(walk_adoptions), u(not_receiving), u(unanswered)));
  }
  {
    int64_t spare = 0;
    size_t missing = 0, joining = 0, attached_silent = 0, no_state = 0;
    for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
      if (!fv.sim.alive(i)) continue;
      spare += fv.nodes[i].splitstream->limit() - fv.nodes[i].splitstream->used();
      for (uint32_t st = 0; st < fv.stripes; ++st) {
        const auto* t = fv.nodes[i].scribe->topic(fv.group.with_digit(0, static_cast<int>(st)));
        if (t == nullptr) {
          ++no_state;
          ++missing;
        } else if (!t->attached) {
          if (missing < 40 && fv.verbose)
            fv.report(
                format("  detached node %u digit %d stripe %u spare %d children here %zu "
                       "attempts %d joining %d since %.2fs",
                       i, fv.sim.handle(i).id.digit(0), st,
                       fv.nodes[i].splitstream->limit() - fv.nodes[i].splitstream->used(),
                       t->children.size(), t->join_attempts, t->joining ? 1 : 0,
                       seconds_of(fv.sim.now() - t->join_sent)));
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
    const auto scg = SplitStream::scg_of(fv.group);
    for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
      if (!fv.sim.alive(i)) continue;
      const bool sp = fv.nodes[i].splitstream->limit() > fv.nodes[i].splitstream->used();
      with_spare += sp;
      const auto* t = fv.nodes[i].scribe->topic(scg);
      if (t) ++scg_nodes;
      if (t && t->member) {
        ++members;
        full_members += !sp;
      }
    }
    size_t pairs_with_acceptor = 0, checked = 0;
    for (uint32_t i = 1; i < fv.nodes.size() && checked < 200; ++i) {
      if (!fv.sim.alive(i)) continue;
      for (uint32_t st = 0; st < fv.stripes; ++st) {
        const auto sid = fv.group.with_digit(0, static_cast<int>(st));
        const auto* t = fv.nodes[i].scribe->topic(sid);
        if (t == nullptr || t->attached) continue;
        ++checked;
        for (uint32_t z = 1; z < fv.nodes.size(); ++z) {
          if (z == i || !fv.sim.alive(z)) continue;
          const auto* g = fv.nodes[z].scribe->topic(scg);
          const auto* zt = fv.nodes[z].scribe->topic(sid);
          if (!g || !g->member || !zt || !zt->attached) continue;
          if (fv.nodes[z].splitstream->limit() <= fv.nodes[z].splitstream->used()) continue;
          if (std::find(zt->path.begin(), zt->path.end(), fv.sim.handle(i).id) != zt->path.end())
            continue;
          ++pairs_with_acceptor;
          break;
        }
      }
    }
    size_t not_child = 0, cycles = 0, reach_root = 0, starving = 0;
    for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
      if (!fv.sim.alive(i)) continue;
      for (uint32_t st = 0; st < fv.stripes; ++st) {
        const auto sid = fv.group.with_digit(0, static_cast<int>(st));
        const auto* t = fv.nodes[i].scribe->topic(sid);
        if (t == nullptr || !t->attached || t->root) continue;
        const auto p = Simulator::index_of(t->parent->endpoint);
        const auto* pt = fv.nodes[*p].scribe->topic(sid);
        if (!pt || !pt->has_child(fv.sim.handle(i).id)) ++not_child;
        uint32_t cur = i;
        size_t steps = 0;
        bool ok = false;
        while (steps++ < 64) {
          const auto* ct = fv.nodes[cur].scribe->topic(sid);
          if (!ct || !fv.sim.alive(cur)) {
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
      const auto views = fv.nodes[5].splitstream->stripes(fv.group);
      std::string line = "sim: node 5 packets per stripe:";
      for (const auto& v : views)
        line += format(" %llu/%.1fs", static_cast<unsigned long long>(v.packets_received),
                       seconds_of(v.last_receive));
      fv.report(line);
      std::vector<size_t> recv(fv.stripes, 0), roots(fv.stripes, 0);
      for (uint32_t i = 1; i < fv.nodes.size(); ++i)
        for (const auto& v : fv.nodes[i].splitstream->stripes(fv.group)) {
          if (!fv.sim.alive(i)) continue;
          if (fv.sim.now() - v.last_receive < seconds(1)) ++recv[v.index];
          if (v.root) ++roots[v.index];
        }
      line = "sim: receiving per stripe (roots):";
      for (uint32_t st = 0; st < fv.stripes; ++st) line += format(" %zu(%zu)", recv[st], roots[st]);
      fv.report(line);
      for (uint32_t st = 0; st < fv.stripes; ++st) {
        if (roots[st] < 2 && recv[st] * 2 > fv.nodes.size()) continue;
        // Two nodes believe they are the stripe's root (the one the oracle names and the
        // publisher feeds, and one whose subtree no data reaches), or the stripe starves.
        const auto sid = fv.group.with_digit(0, static_cast<int>(st));
        const auto truth = fv.sim.oracle().closest(sid);
        const auto fed = fv.nodes[0].splitstream->publisher_root(st);
        fv.report(format("sim: stripe %u: oracle's root node %d, publisher feeds node %d", st,
                         truth ? static_cast<int>(truth->node) : -1,
                         fed ? static_cast<int>(*Simulator::index_of(fed->endpoint)) : -1));
        for (uint32_t i = 1; i < fv.nodes.size(); ++i) {
          const auto* t = fv.nodes[i].scribe->topic(sid);
          if (t == nullptr || !(t->root || (truth && truth->node == i)) || !fv.sim.alive(i))
            continue;
          fv.report(format("sim: stripe %u root? node %u: closest %d, credentials %d, "
                           "publisher %d, replica %d, children %zu, last seq %llu, next hop %d, "
                           "root %d parent %d, limit %d used %d, refused %llu",
                           st, i, truth && truth->node == i ? 1 : 0, t->meta ? 1 : 0,
                           t->publisher ? 1 : 0, fv.nodes[i].scribe->holds_replica(sid) ? 1 : 0,
                           t->children.size(), static_cast<unsigned long long>(t->last_seq),
                           fv.nodes[i].scribe->overlay().next_hop(sid) ? 1 : 0, t->root ? 1 : 0,
                           t->parent ? static_cast<int>(*Simulator::index_of(t->parent->endpoint))
                                     : -1,
                           fv.nodes[i].splitstream->limit(), fv.nodes[i].splitstream->used(),
                           static_cast<unsigned long long>(
                               fv.nodes[i].scribe->counters().children_refused)));
        }
      }
      if (fv.verbose) {
        line = "  publisher's children:";
        for (const auto& [id, t] : fv.nodes[0].scribe->topics())
          for (const auto& c : t.children)
            line += format(" s%d%s:%u", id.digit(0), t.root ? "(root)" : "",
                           *Simulator::index_of(c.node.endpoint));
        fv.report(line);
      }
      for (uint32_t st = 0; st < fv.stripes && fv.verbose; ++st) {
        if (recv[st] * 2 > fv.nodes.size()) continue;
        const auto sid = fv.group.with_digit(0, static_cast<int>(st));
        for (uint32_t i = 0; i < fv.nodes.size(); ++i) {
          const auto* t = fv.nodes[i].scribe->topic(sid);
          if (t == nullptr || !(t->root || t->source || i == 0)) continue;
          line = format("  stripe %u: node %u root %d source %d limit %d used %d children", st, i,
                        t->root ? 1 : 0, t->source ? 1 : 0, fv.nodes[i].splitstream->limit(),
                        fv.nodes[i].splitstream->used());
          for (const auto& c : t->children) {
            const auto k = *Simulator::index_of(c.node.endpoint);
            const auto* ct = fv.nodes[k].scribe->topic(sid);
            line += format(" %u(limit %d used %d here %zu)", k, fv.nodes[k].splitstream->limit(),
                           fv.nodes[k].splitstream->used(), ct ? ct->children.size() : 0);
          }
          fv.report(line);
        }
      }
      const auto& pc = fv.nodes[0].splitstream->counters();
      fv.report(
          format("sim: publisher sent %llu, reroutes %llu, adopted %llu, refused %llu, "
                 "limit %d used %d",
                 static_cast<unsigned long long>(pc.packets_sent),
                 static_cast<unsigned long long>(pc.root_reroutes),
                 static_cast<unsigned long long>(fv.nodes[0].scribe->counters().children_adopted),
                 static_cast<unsigned long long>(fv.nodes[0].scribe->counters().children_refused),
                 fv.nodes[0].splitstream->limit(), fv.nodes[0].splitstream->used()));
    }
    fv.report(
        format("sim: attached pairs: parent lacks child %zu, in cycles %zu, reach root %zu, "
               "cut off %zu",
               not_child, cycles, reach_root, starving));
    fv.report(format("sim: detached pairs with an attached acceptor in the SCG: %zu/%zu",
                     pairs_with_acceptor, checked));
    fv.report(format("sim: nodes with spare %zu, SCG members %zu (full %zu), SCG tree nodes %zu",
                     with_spare, members, full_members, scg_nodes));
    fv.report(
        format("sim: spare outdegree %lld, detached (node,stripe) pairs %zu (joining %zu, "
               "no state %zu)",
               static_cast<long long>(spare), missing, joining, no_state));
  }
  uint64_t fail_no_state = 0, fail_exhausted = 0, fail_done = 0;
  uint64_t pkts = 0, no_spare = 0, not_receiving = 0, descendant = 0, visits_exhausted = 0;
  for (const ForestNode& n : fv.nodes) {
    pkts += n.splitstream->counters().packets_received;
    no_spare += n.splitstream->counters().anycast_no_spare;
    not_receiving += n.splitstream->counters().anycast_not_receiving;
    descendant += n.splitstream->counters().anycast_descendant;
    visits_exhausted += n.scribe->counters().anycasts_failed;
    fail_no_state += n.scribe->counters().anycast_fail_no_state;
    fail_exhausted += n.scribe->counters().anycast_fail_exhausted;
    fail_done += n.scribe->counters().anycast_fail_tree_done;
  }
  fv.report(format(
      "sim: packets received by viewers %llu; anycast passes: no spare %llu, not "
      "receiving %llu, descendant %llu; walks failed %llu",
      static_cast<unsigned long long>(pkts), static_cast<unsigned long long>(no_spare),
      static_cast<unsigned long long>(not_receiving), static_cast<unsigned long long>(descendant),
      static_cast<unsigned long long>(visits_exhausted)));
  fv.report(format("sim: walks ended: no group state %llu, out of visits %llu, tree done %llu",
                   static_cast<unsigned long long>(fail_no_state),
                   static_cast<unsigned long long>(fail_exhausted),
                   static_cast<unsigned long long>(fail_done)));
  {
    uint64_t data = 0, heartbeats = 0, control = 0;
    for (const ForestNode& n : fv.nodes) {
      data += n.scribe->counters().data_forwarded;
      heartbeats += n.scribe->counters().heartbeats_sent;
      control += n.scribe->counters().control_sent;
    }
    const double per =
        static_cast<double>(fv.nodes.size()) * seconds_of(fv.sim.now() - fv.stream_start);
    fv.report(
        format("sim: per node and second of stream: data %.1f, heartbeats %.1f, other control "
               "%.1f; events %llu (%.0f per node and second)",
               static_cast<double>(data) / per, static_cast<double>(heartbeats) / per,
               static_cast<double>(control - heartbeats) / per,
               static_cast<unsigned long long>(fv.sim.counters().events),
               static_cast<double>(fv.sim.counters().events) / per));
  }
  {
    // What the events are, for the simulator's cost (BENCHMARKS.md): timers, Pastry's own
    // datagrams (leaf heartbeats, probes, per-hop acknowledgements, joins) and the multicast
    // layer's.
    uint64_t pastry = 0, multicast = 0;
    for (uint32_t i = 0; i < fv.nodes.size(); ++i) {
      pastry += fv.sim.traffic(i).pastry.received_messages;
      multicast += fv.sim.traffic(i).app(multicast::kMulticastAppId).received_messages;
    }
    const auto& c = fv.sim.counters();
    fv.report(format("sim: events %llu: timers %llu, Pastry datagrams %llu, multicast datagrams "
                     "%llu, scripted actions %llu",
                     static_cast<unsigned long long>(c.events),
                     static_cast<unsigned long long>(c.timers_fired),
                     static_cast<unsigned long long>(pastry),
                     static_cast<unsigned long long>(multicast),
                     static_cast<unsigned long long>(c.actions_run)));
  }
  {
    uint64_t joins = 0;
    for (const ForestNode& n : fv.nodes) joins += n.splitstream->counters().scg_joins;
    fv.report(format("sim: SCG subscriptions %.2f per node and second of stream",
                     static_cast<double>(joins) / static_cast<double>(fv.nodes.size()) /
                         seconds_of(fv.sim.now() - fv.stream_start)));
  }
  uint64_t pushdowns = 0, anycasts = 0, adoptions = 0, failures = 0, malformed = 0;
  for (const ForestNode& n : fv.nodes) {
    pushdowns += n.splitstream->counters().pushdown_orphans;
    anycasts += n.splitstream->counters().scg_anycasts;
    adoptions += n.splitstream->counters().scg_adoptions;
    failures += n.splitstream->counters().anycast_failures;
    malformed += n.scribe->counters().malformed_total();
  }
  fv.report(
      format("sim: push-down orphans %llu, SCG anycasts %llu (adopted %llu, failed %llu), "
             "credential checks modelled %llu, malformed %llu",
             static_cast<unsigned long long>(pushdowns), static_cast<unsigned long long>(anycasts),
             static_cast<unsigned long long>(adoptions), static_cast<unsigned long long>(failures),
             static_cast<unsigned long long>(fv.credential_checks),
             static_cast<unsigned long long>(malformed)));
}

}  // namespace forestcast::sim::forest
