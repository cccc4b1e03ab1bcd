// Scribe's ANYCAST (part of class Scribe; see scribe.cpp): the request routed toward a group and
// the depth-first walk of the group's tree that SplitStream's spare-capacity groups rely on, and
// how such a control group's tree is kept to its members (the JOIN side is in forward()).
#include <algorithm>

#include "multicast/scribe.hpp"

namespace forestcast::multicast {

namespace {

bool contains(const std::vector<NodeId>& ids, const NodeId& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

void Scribe::hand_over_control_children(Time now, TopicState& t) {
  // A control group's tree holds members only (besides its root): a member that leaves hands
  // its children to its own parent, as a graceful leave does, instead of staying a forwarder.
  // Anycast walks visit every tree node, and non-member forwarders (members that filled up and
  // routing hops of earlier JOINs) were most of what a walk visited before it ran out (10,000
  // nodes tight: pairs left detached with an SCG member with room, docs/multicast.md).
  if (!t.slow || t.member || t.root || t.source || t.children.empty()) return;
  RefuseBody r{t.id, {}, 1};
  if (t.parent && t.attached) r.candidates.push_back(*t.parent);
  auto msg = std::make_shared<const RefuseMsg>(std::move(r));
  for (const Child& c : t.children) {
    ++counters_.control_children_handed_up;
    send(now, c.node, msg);
  }
  t.children.clear();
  if (client_) client_->children_changed(now, t);
}

void Scribe::anycast(Time now, const NodeId& group, const NodeId& want, bool single_pass) {
  if (TopicState* t = topic(want)) t->walk_reissues = 0;
  send_anycast(now, group, want, single_pass);
}

void Scribe::send_anycast(Time now, const NodeId& group, const NodeId& want, bool single_pass) {
  uint64_t held = 0;
  if (TopicState* t = topic(want)) {
    held = held_seq(*t);
    t->joining = true;
    t->join_sent = now;
    t->note(now, 'A');
    t->walk_sent = now;  // the tick re-issues it if nothing comes back (walk_timeout)
    t->walk_group = group;
    t->walk_single_pass = single_pass;
  }
  AnycastBody a;
  a.topic = group;
  a.requester = self();
  a.want = want;
  a.relaxed = single_pass;
  a.have_seq = held;
  ++counters_.anycasts_sent;
  ++counters_.control_sent;
  overlay_.route(now, group, std::make_shared<const AnycastMsg>(std::move(a)));
}

void Scribe::send_repair_walk(Time now, TopicState& t) {
  if (!config_.repair_walk || client_ == nullptr || t.slow || t.root || t.source) return;
  const auto group = client_->repair_walk_group(t);
  if (!group) return;
  AnycastBody a;
  a.topic = *group;
  a.requester = self();
  a.want = t.id;
  a.relaxed = true;  // one pass: the group's members are the stripe's own
  a.have_seq = held_seq(t);
  t.repair_walk_out = true;
  t.note(now, 'W');
  ++counters_.repair_walks_sent;
  ++counters_.control_sent;
  overlay_.route(now, *group, std::make_shared<const AnycastMsg>(std::move(a)));
}

void Scribe::walk_anycast(Time now, const AnycastBody& a, const NodeHandle* from) {
  const TopicState* t = topic(a.topic);
  auto fail = [&] {
    ++counters_.anycasts_failed;
    send(now, a.requester, std::make_shared<const AnycastFailMsg>(TopicBody{a.want}));
  };
  // Members are counted once (a backtracking step costs a message, not a visit), and the
  // messages get their own bound: a leaf used to cost two of the 48 visits, there and back, and
  // walks in star-shaped control trees ran out before reaching a member with room
  // (docs/multicast.md).
  if (a.visited.size() >= config_.anycast_max_visits ||
      a.hops >= std::min<uint32_t>(kMaxAnycastHops,
                                   static_cast<uint32_t>(3 * config_.anycast_max_visits))) {
    ++counters_.anycast_fail_exhausted;
    return fail();
  }
  if (t == nullptr || (!t->attached && !t->root)) {
    // Not (or no longer) in the group's tree, or cut off from it: route the walk on toward the
    // group's root, where it resumes at the first tree node (this visit counts toward the bound).
    ++counters_.anycast_fail_no_state;
    AnycastBody next = a;
    const bool seen_here = contains(a.visited, self().id);
    if (!seen_here) next.visited.push_back(self().id);
    ++next.hops;
    ++counters_.control_sent;
    // A member sent it here from its stale list of children (we left the group since): hand
    // it straight back, one hop, and its walk goes on with its next child. Not when we handled
    // this walk before, which would bounce it between two nodes that both left.
    if (from != nullptr && !seen_here && contains(a.visited, from->id)) {
      overlay_.send_direct(now, *from, std::make_shared<const AnycastMsg>(std::move(next)));
      return;
    }
    overlay_.route(now, a.topic, std::make_shared<const AnycastMsg>(std::move(next)));
    return;
  }
  if (t->member && a.requester.id != self().id && !contains(a.visited, self().id) && client_ &&
      client_->anycast_accepts(now, a))
    return;
  AnycastBody next = a;
  if (!contains(next.visited, self().id)) next.visited.push_back(self().id);
  ++next.hops;
  // Depth first: the first child not yet visited, else back up to the parent. A member silent
  // for longer than its interval allows (a child that missed a refresh, a parent that missed a
  // heartbeat) is most likely dead, and a walk passed to it is lost: skip it (its subtree is
  // out of reach anyway), and route toward the group instead of climbing to a silent parent.
  const Duration slack = config_.heartbeat_interval * config_.failure_intervals;
  const Duration parent_silence =
      (t->slow ? config_.slow_heartbeat_interval : config_.heartbeat_interval) + slack;
  const NodeHandle* to = nullptr;
  // Children are tried from one picked by the requester, so that walks entering the tree at
  // the same node (a members-only tree's root) spread over its children instead of all
  // spending their first visits on its first ones.
  const size_t n = t->children.size();
  const size_t start = n == 0 ? 0 : static_cast<size_t>(a.requester.id.value() % n);
  for (size_t k = 0; k < n; ++k) {
    const Child& c = t->children[(start + k) % n];
    if (!contains(next.visited, c.node.id) && c.node.id != a.requester.id) {
      if (config_.walk_skip_silent && now - c.last_refresh > config_.refresh_interval + slack) {
        ++counters_.walk_skips;
        continue;
      }
      to = &c.node;
      break;
    }
  }
  if (to == nullptr && t->parent) {
    if (config_.walk_skip_silent && now - t->last_from_parent > parent_silence) {
      ++counters_.walk_skips;
      ++counters_.control_sent;
      overlay_.route(now, a.topic, std::make_shared<const AnycastMsg>(std::move(next)));
      return;
    }
    to = &*t->parent;
  }
  if (to == nullptr && !a.relaxed) {
    // The whole tree said no under the client's first-pass policy (in a small ring a stripe may
    // have no member of its own first digit at all): walk it once more, relaxed.
    AnycastBody again = a;
    again.visited.clear();
    again.hops = 0;
    again.relaxed = true;
    return walk_anycast(now, again);
  }
  if (to == nullptr) {
    ++counters_.anycast_fail_tree_done;
    return fail();
  }
  ++counters_.control_sent;
  overlay_.send_direct(now, *to, std::make_shared<const AnycastMsg>(std::move(next)));
}

}  // namespace forestcast::multicast
