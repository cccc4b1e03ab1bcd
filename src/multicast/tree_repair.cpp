// Scribe's tree repair (part of class Scribe; the rest is scribe.cpp, root fail-over is
// root_failover.cpp): paths from the parent, a lost parent, cut-off propagation to the subtree,
// a root stepping down, ring changes, and the graceful leave.
#include <algorithm>

#include "multicast/scribe.hpp"

namespace forestcast::multicast {

// --- paths and cut-off propagation ---------------------------------------------------------------

void Scribe::on_path(Time now, const NodeHandle& from, const PathBody& p, bool accept) {
  TopicState* t = topic(p.topic);
  if (accept && t) follow_takeover(now, *t, from, p);
  const bool from_parent = t && t->parent && t->parent->id == from.id;
  const bool wanted = t && !t->root && (from_parent || (accept && !t->parent && t->joining));
  if (!wanted) {
    // An ACCEPT we no longer need (another parent was faster) or a stale parent's heartbeat.
    send(now, from, std::make_shared<const LeaveMsg>(TopicBody{p.topic}));
    return;
  }
  const bool in_path = std::find(p.path.begin(), p.path.end(), self().id) != p.path.end();
  if (in_path || p.path.size() >= kMaxPathLength) {
    // A loop formed through concurrent changes: leave it and join again from the outside.
    ++counters_.cycles_broken;
    send(now, from, std::make_shared<const LeaveMsg>(TopicBody{p.topic}));
    t->parent.reset();
    t->cut_off_since.reset();
    detach(now, *t);
    route_join(now, *t);
    return;
  }
  if (!from_parent) {
    // Not the node asked directly, nor the backup: the repair walk's acceptor, most likely.
    const bool by_repair_walk = t->repair_walk_out && !t->walk_sent &&
                                (!t->join_target || *t->join_target != from.id) &&
                                (!t->backup_target || *t->backup_target != from.id);
    counters_.repair_walk_adoptions += by_repair_walk ? 1 : 0;
    t->attached_via = t->walk_sent || by_repair_walk
                          ? (t->walk_single_pass || by_repair_walk ? AttachVia::kStripeScg
                                                                   : AttachVia::kStreamScg)
                      : t->avoid       ? AttachVia::kRepair
                      : t->join_target ? AttachVia::kPushdown
                                       : AttachVia::kRouted;
    t->parent = from;
    t->cut_off_since.reset();
    if (t->join_attempts > 0 || t->avoid) ++t->repairs;
    if (t->lost_at != kNever) {
      t->note(now, p.detached ? 'c' : 'a');
      t->regained_at = now;
      t->regained_via = t->attached_via;
      t->regained_cut_off = p.detached;
      t->data_after_regain = kNever;
    }
    ask_replay(now, *t, from);  // gap repair: what we missed while we had no parent
  }
  if (p.has_parent)
    t->grandparent = p.parent;
  else
    t->grandparent.reset();
  t->elders = p.ancestors;
  t->last_from_parent = now;
  if (accept) {
    t->joining = false;
    t->join_attempts = 0;
    t->avoid.reset();
    t->fallbacks.clear();
    t->backup_target.reset();
    t->walk_sent.reset();
    t->repair_walk_out = false;
  }
  if (p.detached) {
    // Our parent is cut off from the root, so are we, and we say so to our own subtree. Only
    // the children of the node that is itself repairing (it has no parent: a forwarder whose
    // JOIN failed, or a node that lost or was refused by its parent) count the grace period and
    // leave it; deeper nodes wait, or the whole subtree would dissolve at once. We stay
    // `attached` (accepted, with a path): taking orphans in meanwhile costs them at most the
    // grace period, and refusing them made tight forests build much slower (docs/multicast.md).
    // The path (up to the repairing node) still lets a loop of cut-off nodes find itself.
    if (p.has_parent)
      t->cut_off_since.reset();
    else if (!t->cut_off_since)
      t->cut_off_since = now;
    const bool changed = !t->attached || !t->cut_off || t->path != p.path;
    t->attached = true;
    t->cut_off = true;
    t->path = p.path;
    if (changed) push_path(now, *t);
    return;
  }
  t->cut_off_since.reset();
  const bool changed = !t->attached || t->cut_off || t->path != p.path;
  t->attached = true;
  t->cut_off = false;
  if (changed) {
    t->path = p.path;
    push_path(now, *t);
  }
}

void Scribe::push_path(Time now, TopicState& t) {
  if (t.children.empty()) return;
  PathBody p = path_for_children(t);
  auto msg = std::make_shared<const HeartbeatMsg>(std::move(p));
  for (Child& c : t.children) {
    c.last_sent = now;
    send(now, c.node, msg);
  }
}

void Scribe::detach(Time now, TopicState& t) {
  const bool was = t.attached;
  t.attached = false;
  t.cut_off = false;
  t.path.clear();
  // Our subtree hears at once that no data reaches us: it keeps us for a grace period while we
  // repair, and adopts nobody meanwhile (a cut-off node used to show its children an empty path,
  // exactly like a root, and its heartbeats kept a dataless subtree attached indefinitely).
  if (was && !t.root && !t.source) push_path(now, t);
}

void Scribe::lose_parent(Time now, TopicState& t, bool dead) {
  if (!t.parent) return;
  t.lost_at = now;
  t.regained_at = kNever;
  t.trace_n = 0;
  t.note(now, dead ? 'L' : 'l');
  if (dead) {
    ++counters_.parent_failures;
    // Our root fell silent and we are its successor: our own evidence.
    if (take_over_if_evident(now, t.id)) return;
    overlay_.check_alive(now, *t.parent);
  }
  t.avoid = t.parent->id;
  // A root's child walks nobody: its whole stripe is cut off with the root, so a walk finds no
  // one receiving it but members that do not know yet, below which it hung the orphan (10,000
  // nodes `--kill-roots`: p99 1,247 -> 1,505 ms), and the root's successor takes over anyway.
  const bool below_root = t.path.size() == 1;
  t.parent.reset();
  t.cut_off_since.reset();
  detach(now, t);
  t.join_attempts = 1;  // counts as a repair once re-attached
  t.fallbacks.clear();
  t.backup_target.reset();
  if (config_.ancestor_fallback)
    for (const NodeHandle& h : t.elders)
      if (h.id != self().id && (!t.grandparent || h.id != t.grandparent->id) && h.id != *t.avoid)
        t.fallbacks.push_back(h);
  t.elders.clear();
  if (!below_root) send_repair_walk(now, t);
  if (t.grandparent && t.grandparent->id != self().id) {
    // Straight to the grandparent: alive far more often than not, and no routing through the
    // dead node while Pastry still believes in it. A refusal continues with push-down / SCG;
    // silence with the next ancestor (or a routed JOIN) at the join timeout.
    const NodeHandle gp = *t.grandparent;
    t.grandparent.reset();
    ++counters_.grandparent_rejoins;
    join_via(now, t.id, gp, config_.pushdown_depth);
    // Parent and grandparent often die together (a quarter of the ring at once): if Pastry finds
    // the grandparent dead too (at once when it already knows), node_dead() moves on then,
    // instead of after the join timeout.
    if (dead) overlay_.check_alive(now, gp);
    // And the great-grandparent is asked at once, for room it has to spare: when the
    // grandparent died too, its answer is the one that comes. (A child leaving a cut-off parent
    // after the grace has no grandparent: the repairing parent names none.)
    // The ancestors above it too (ScribeConfig::backup_ancestors): the one with room may be
    // further up, and asked in turn each dead one cost the ancestor timeout.
    if (config_.ancestor_backup && !t.fallbacks.empty() && !t.slow) {
      t.backup_target = t.fallbacks.front().id;
      JoinBody j{t.id, true, *t.avoid, config_.pushdown_depth};
      if (client_) j.spare = client_->spare();
      j.backup = true;
      j.have_seq = held_seq(t);
      auto msg = std::make_shared<const JoinMsg>(std::move(j));
      const size_t n = std::min(t.fallbacks.size(), std::max<size_t>(config_.backup_ancestors, 1));
      for (size_t k = 0; k < n; ++k) {
        ++counters_.backup_joins_sent;
        t.note(now, 'B');
        send(now, t.fallbacks[k], msg);
      }
    }
    return;
  }
  route_join(now, t);
}

void Scribe::next_repair_attempt(Time now, TopicState& t) {
  t.backup_target.reset();  // asked as the primary now, or gone
  while (!t.fallbacks.empty()) {
    const NodeHandle next = t.fallbacks.front();
    t.fallbacks.erase(t.fallbacks.begin());
    if (t.join_target && next.id == *t.join_target) continue;
    ++counters_.ancestor_rejoins;
    join_via(now, t.id, next, config_.pushdown_depth);
    return;
  }
  route_join(now, t);
}

bool Scribe::handle_reported_dead(Time now, TopicState& t, const JoinBody& j,
                                  const NodeHandle& joiner) {
  // The joiner names the parent it lost, our child: it heard nothing from it for the failure
  // timeout.
  if (!j.has_avoid || j.avoid == joiner.id || j.avoid == self().id) return false;
  if (t.source && j.spare > 0 && t.children.size() == 1 &&
      t.children.front().node.id == j.avoid) {
    // The publisher's one child here (its delegate, or the root's first hop): the joiner takes
    // the place at once, and the old one, if alive, re-attaches below it. Refusing the joiner
    // toward the silent node instead kept the stripe's whole subtree without data until Pastry
    // or the refresh expiry (3 s) dropped it: 2-5 s after a SIGKILL (docs/multicast.md).
    const NodeHandle old = t.children.front().node;
    overlay_.check_alive(now, old);
    ++counters_.silent_children_replaced;
    orphan(now, t, old.id, config_.pushdown_depth, &joiner);
    adopt(now, t, joiner, j.have_seq);
    return true;
  }
  // Anywhere else its slot goes to the orphans now (they arrive here first, as their
  // grandparent) instead of after 3 s of missed refreshes, when a full node would push a live
  // child down for them meanwhile. Pastry probes the child, and a live one is told at once to
  // re-join (REFUSE): otherwise it hears its parent fall silent, reports it dead to its own
  // grandparent and the wrong drop climbs the tree level by level (seen once the orphan had
  // only lost an ACCEPT-LEAVE race: a whole stripe cut from its delegate, docs/multicast.md).
  if (!config_.drop_reported_children) return false;
  auto it = std::find_if(t.children.begin(), t.children.end(),
                         [&](const Child& c) { return c.node.id == j.avoid; });
  if (it == t.children.end()) return false;
  const NodeHandle suspect = it->node;
  ++counters_.children_reported_dead;
  remove_child(now, t, suspect.id);
  overlay_.check_alive(now, suspect);
  refuse(now, t, suspect, config_.pushdown_depth);
  return false;
}

void Scribe::step_down(Time now, TopicState& t) {
  t.root = false;
  t.replaced.reset();
  if (t.source) return;  // the publisher keeps feeding its own children directly
  detach(now, t);
  route_join(now, t);
}

// --- failures and ring changes ------------------------------------------------------------------

void Scribe::node_dead(Time now, const NodeHandle& node) {
  std::vector<NodeId> ids;
  for (const auto& [id, t] : topics_) ids.push_back(id);
  for (const NodeId& id : ids) {
    TopicState* t = topic(id);
    if (t == nullptr) continue;
    remove_child(now, *t, node.id);
    std::erase_if(t->fallbacks, [&](const NodeHandle& h) { return h.id == node.id; });
    if (t->backup_target && *t->backup_target == node.id) t->backup_target.reset();
    if (t->parent && t->parent->id == node.id) {
      lose_parent(now, *t, false);
    } else if (!t->parent && t->joining && t->join_target && *t->join_target == node.id) {
      t->note_unanswered(node.id);
      t->note(now, 'D');
      next_repair_attempt(now, *t);  // the node we asked directly is dead: no point waiting
    }
  }
  take_over_replicas(now);
}

void Scribe::take_over_replicas(Time now) {
  // A replica whose root died takes over as soon as it is the closest live node.
  for (const auto& [id, meta] : replicas_) {
    if (overlay_.next_hop(id)) continue;
    TopicState* t = topic(id);
    if (t == nullptr || !t->root) {
      if (t == nullptr) t = ensure_topic(now, id);
      if (t != nullptr) become_root(now, *t);
    }
  }
}

void Scribe::leafset_changed(Time now, const NodeHandle& node, bool joined) {
  if (!joined) {
    // Leaving our leaf set is not dying: a closer node displaced it, and Pastry reports every
    // death through node_dead(). Treating it as a death dropped live children and left live
    // parents: after a quarter of 1,000 nodes died, leaf sets refilling displaced ~900 live
    // parents 3.5-9 s after the kill, each a new gap for a subtree (repair p50 6.6 s). Only a
    // replica may now be the closest live node to its topic.
    take_over_replicas(now);
    return;
  }
  std::vector<NodeId> roots;
  for (const auto& [id, t] : topics_)
    if (t.root) roots.push_back(id);
  for (const NodeId& id : roots) {
    TopicState* t = topic(id);
    if (t->meta) send(now, node, std::make_shared<const ReplicateMsg>(*t->meta));
    if (overlay_.next_hop(id)) {
      // The newcomer is closer to the topic: it becomes the root, we hang below it (the
      // publisher's own stripe excepted: it feeds its children itself and the new root by
      // routing).
      step_down(now, *t);
    }
  }
}

// --- graceful leave ------------------------------------------------------------------------------

void Scribe::leave_all(Time now) {
  if (left_) return;
  left_ = true;
  for (auto& [id, t] : topics_) {
    // Free our slot first, so the parent has room when our children arrive.
    if (t.parent) send(now, *t.parent, std::make_shared<const LeaveMsg>(TopicBody{id}));
    if (t.children.empty()) continue;
    // Hand the children over: to our parent (it receives the stripe and has just lost us), or
    // at the root to our successor, which takes over once Pastry's leave reaches it. A refusal
    // with candidates is what an orphan already acts on at once (push-down), without waiting
    // for its failure timeout.
    RefuseBody r{id, {}, config_.pushdown_depth};
    if (t.parent && t.attached) {
      r.candidates.push_back(*t.parent);
    } else if (t.root) {
      if (auto s = successor(id)) r.candidates.push_back(*s);
    }
    auto msg = std::make_shared<const RefuseMsg>(std::move(r));
    for (const Child& c : t.children) send(now, c.node, msg);
    counters_.children_handed_over += t.children.size();
  }
  topics_.clear();
  watches_.clear();
}

}  // namespace forestcast::multicast
