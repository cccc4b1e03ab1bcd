// SplitStream's push-down (DESIGN.md §5): what a node at its outdegree limit keeps when a JOIN
// reaches it, which child it orphans, and where it sends the orphan (its former siblings).
// The publisher's own place in a stripe tree (its one delegate there) is decided here too.
#include <algorithm>
#include <cassert>
#include <tuple>

#include "multicast/splitstream.hpp"

namespace forestcast::multicast {

std::pair<NodeId, NodeHandle> SplitStream::choose_orphan(
    const NodeId& self, const std::vector<std::pair<NodeId, NodeHandle>>& children) {
  // Smallest key wins: children without their stripe's digit first, then children of stripes
  // this node should not be interior in, then the shortest prefix shared with the stripeId,
  // then the numerically farthest from it (ids are unique, so the last tie-break on the id
  // itself never leaves a draw).
  //
  // A stripe's interior nodes are meant to be its digit's: a child without the digit is a leaf
  // there, and pushed down it takes a leaf's place one level lower, alone. A child with the
  // digit is (or will be) interior with a subtree, which goes down with it. DESIGN.md §5 as
  // written puts the foreign stripe first, so a full node gave up an interior child of a
  // foreign stripe for a leaf of its own (docs/multicast.md "Push-down chains").
  auto key = [&](const std::pair<NodeId, NodeHandle>& c) {
    const NodeId& stripe = c.first;
    const NodeId& child = c.second.id;
    const int forwarder = child.digit(0) == stripe.digit(0) ? 1 : 0;
    const int foreign = stripe.digit(0) != self.digit(0) ? 0 : 1;
    const overlay::u128 distance = stripe.ring_distance(child);
    return std::make_tuple(forwarder, foreign, child.shared_prefix_length(stripe), ~distance,
                           ~child.value());
  };
  assert(!children.empty());
  return *std::min_element(children.begin(), children.end(),
                           [&](const auto& a, const auto& b) { return key(a) < key(b); });
}

std::optional<bool> SplitStream::admit_at_source(Time now, TopicState& t, const NodeHandle& child,
                                                 uint32_t child_spare) {
  // The publisher's own place in a stripe tree feeds one delegate: for a stripe root that can
  // adopt nobody (a pure leaf), or when it is the stripe's root itself, so that its outdegree
  // stays for the stripes that need it. The delegate offers spare outdegree and, unless the
  // publisher is the root (a small ring may have no node of that digit), has the stripe's
  // digit: its capacity is meant for that stripe and push-down keeps it there. Everyone else
  // goes to the delegate (refusal_candidates).
  //
  // As the stripe's root the publisher hands the place of a delegate without the stripe's digit
  // to a joiner that brings spare outdegree (a JOIN says so only after failed attempts, or when
  // direct), pointing the old delegate at it: for the old delegate the stripe was foreign, so
  // push-down orphaned its children there first, and in the daemon's small rings such a
  // delegate filled up with other streams' children while the stripe's subtree starved for good
  // (docs/multicast.md). A joiner with the digit takes the place at once, any other after
  // `delegate_hold`, so the children of a leaving delegate, which all arrive here together, do
  // not swap in turn. (Admitting every joiner with spare there instead filled the publisher:
  // 1,000 nodes, the capacity mix, all stripes 1.0 -> 0.0.)
  if (t.root && t.children.size() == 1 && child_spare > 0) {
    const Child& d = t.children.front();
    const NodeId digit_of = t.id;
    if (d.node.id != child.id && d.node.id.digit(0) != digit_of.digit(0) &&
        (child.id.digit(0) == digit_of.digit(0) || now - d.adopted >= config_.delegate_hold)) {
      ++counters_.delegate_swaps;
      scribe_.orphan(now, t, d.node.id, scribe_.config().pushdown_depth, &child);
      return true;
    }
  }
  if (!t.root && t.children.empty() && child_spare > 0 &&
      child.id.digit(0) != t.id.digit(0) && publication_ &&
      static_cast<size_t>(t.id.digit(0)) < publication_->stripes.size()) {
    // No delegate of the stripe's digit yet: in the daemon's small rings there may be none with
    // spare at all, and the stripe went unfed for good (default outdegree, docs/multicast.md).
    // Wait a little for one, then take this one.
    auto& since = publication_->stripes[static_cast<size_t>(t.id.digit(0))].undigited_since;
    if (!since) since = now;
    if (now - *since < config_.delegate_digit_wait) return false;
  } else if (!t.children.empty() ||
             // As the stripe's root without a child there, a first joiner of the digit is
             // taken even without spare: at 2,000 nodes default capacity, once full nodes kept
             // their interior children (admit), no joiner with spare reached the publisher as
             // stripe 8's root and the stripe fed 1 of 1,999 viewers. Push-down then makes room
             // in the delegate's own stripe (foreign stripe's leaves first).
             (child_spare == 0 && !(t.root && child.id.digit(0) == t.id.digit(0))) ||
             (!t.root && child.id.digit(0) != t.id.digit(0))) {
    return false;
  }
  return std::nullopt;  // the delegate's place is free: the common rules decide
}

bool SplitStream::admit(Time now, TopicState& t, const NodeHandle& child, uint32_t child_spare) {
  if (t.slow || is_scg(t.id)) return true;  // a control group costs no upload
  if (t.source) {
    if (const auto decided = admit_at_source(now, t, child, child_spare)) return *decided;
  }
  // A node that forwards foreign stripes only has given its budget to them: it takes no child
  // in its own stripe (routed JOINs pass a childless member anyway, absorbs_routed_join; this
  // refuses push-down's direct ones) and stays interior in one stripe (docs/multicast.md).
  if (!t.root && t.children.empty() && t.id.digit(0) == scribe_.self().id.digit(0) &&
      forwards_foreign_only())
    return false;
  recount(now);
  const bool foreign = t.id.digit(0) != scribe_.self().id.digit(0);
  if (used_ < limit_) {
    counters_.foreign_admits += foreign ? 1 : 0;
    return true;
  }
  if (limit_ == 0) return false;
  // At the limit: adopt the newcomer, then orphan one child by the push-down rule.
  std::vector<std::pair<NodeId, NodeHandle>> all;
  for (const auto& [id, topic] : scribe_.topics()) {
    // The publisher's own delegates are never pushed down: each is its stripe's only feed.
    if (topic.slow || is_scg(id) || topic.source) continue;
    // Nor is a stripe root's only child there, for the same reason: a full
    // root of a stripe with no node of its digit (small rings) orphaned it, foreign stripe
    // first, at each newcomer of its own digit, took it back (a root without children keeps
    // its newcomer) and orphaned it again: one stripe's whole subtree without data for 25 s
    // (test_streams.py seed 724039976, docs/multicast.md "Small real rings").
    if (topic.root && topic.children.size() == 1) continue;
    for (const Child& c : topic.children) all.emplace_back(id, c.node);
  }
  // A newcomer that brings spare outdegree is kept: capacity is only useful inside the stripe
  // trees, and a node with spare but without the stripe could otherwise never bring it in (the
  // feasibility condition of the SplitStream paper). The orphan is pointed at it first. Only a
  // newcomer of the stripe's digit, or at the stripe's root (a small ring may have no node of
  // that digit): anywhere else a foreign newcomer kept would make this forest less
  // interior-disjoint (1,000 nodes tight: interior in <= 1 stripe 0.71 -> 0.86) and the SCGs
  // find such capacity anyway.
  //
  // A stripe's root with no child in it keeps the newcomer too: it is the stripe's only entry.
  // The root is not always of the stripe's digit (a stripeId just above a digit boundary has its
  // closest node below it), and then the rule alone, foreign stripe first, would refuse every
  // joiner of the stripe while the root's budget is full of its own digit's children: seed 5 of
  // 1,000 nodes tight starved two stripes that way (all stripes 0.0).
  //
  // The publisher keeps a delegate of its own stream too (its stripe's only feed) and pushes a
  // child of another stream's tree down instead: at the default outdegree a publisher that was
  // root or forwarder of other streams' stripes filled its budget with their children and one
  // of its own stripes reached none of its 8 viewers (docs/multicast.md, "Small real rings").
  //
  // Below the root a newcomer of the stripe's digit is kept only from a child the rule puts
  // before it (a foreign stripe's, or one sharing a shorter prefix with the stripeId: a leaf of
  // the stripe, usually): when the rule would orphan the newcomer itself, keeping it pushed an
  // interior child of the digit down below it with its whole subtree, and every later newcomer
  // at that full node did it again, one level each (1,000 nodes tight, seed 1: a chain 20 deep
  // in the deficient stripe). Refused, the newcomer goes down instead, where its spare takes a
  // leaf's place.
  //
  // Nor is any child of its stripe's digit given up for a newcomer, but by the publisher or by a
  // root without children in the newcomer's stripe: such a child is (or is to be) interior, and
  // orphaned it went down one level with its whole subtree. The rule (leaves first) names one
  // only when no leaf is left; the newcomer is refused then and pushed down itself. A full
  // stripe root kept every newcomer with spare and put the child it orphaned below it, so a
  // stream of routed newcomers there stacked one level each: 10,000 nodes tight, seed 2, chains
  // of a dozen nodes of the digit pushed down within 1.5 s, depth 13; 8 with this rule at the
  // root too (docs/multicast.md "Push-down chains").
  const bool keep_newcomer =
      !all.empty() && (t.source || (child_spare > 0 && (child.id.digit(0) == t.id.digit(0) ||
                                                        t.root)) ||
                       (t.root && t.children.empty()));
  const bool rule_keeps_newcomer = [&] {
    if (!keep_newcomer || t.source || t.root) return true;
    auto with_newcomer = all;
    with_newcomer.emplace_back(t.id, child);
    return choose_orphan(scribe_.self().id, with_newcomer).second.id != child.id;
  }();
  if (!keep_newcomer || !rule_keeps_newcomer) all.emplace_back(t.id, child);
  const auto [stripe, victim] = choose_orphan(scribe_.self().id, all);
  if (stripe == t.id && victim.id == child.id) return false;
  if (!t.source && !(t.root && t.children.empty()) && stripe == t.id &&
      victim.id.digit(0) == stripe.digit(0))
    return false;  // an interior child of the newcomer's stripe: it goes down instead (above)
  TopicState* vt = scribe_.topic(stripe);
  ++counters_.pushdown_orphans;
  const bool point_at_newcomer = keep_newcomer && stripe == t.id;
  scribe_.orphan(now, *vt, victim.id, scribe_.config().pushdown_depth,
                 point_at_newcomer ? &child : nullptr);
  counters_.foreign_admits += foreign ? 1 : 0;
  return true;
}

bool SplitStream::absorbs_routed_join(const TopicState& t) const {
  // A stripe tree grows from its forwarders: a member without children there passes a routed
  // JOIN on toward the root, which fills its children and pushes the rest down to them. The
  // stripe's children gather on few nodes of its digit and the others keep their whole budget
  // for a stripe that lacks capacity (docs/multicast.md). Only at a node of the stripe's digit:
  // elsewhere (a small ring may have no node of that digit) the route may not lead to one.
  return t.slow || t.id.digit(0) != scribe_.self().id.digit(0);
}

std::vector<NodeHandle> SplitStream::refusal_candidates(TopicState& t, const NodeId& child) {
  std::vector<NodeHandle> out;
  if (t.source) {  // the publisher: its delegate in this stripe
    for (const Child& c : t.children)
      if (c.node.id != child) out.push_back(c.node);
    return out;
  }
  // Former siblings sharing a prefix with the stripeId, longest prefix first, then closest.
  for (const Child& c : t.children)
    if (c.node.id != child && c.node.id.shared_prefix_length(t.id) >= 1) out.push_back(c.node);
  std::sort(out.begin(), out.end(), [&](const NodeHandle& a, const NodeHandle& b) {
    const int pa = a.id.shared_prefix_length(t.id), pb = b.id.shared_prefix_length(t.id);
    if (pa != pb) return pa > pb;
    return t.id.closer(a.id, b.id);
  });
  if (out.size() > kMaxCandidates) out.resize(kMaxCandidates);
  // Start the list at a sibling picked by the joiner's id, so successive joiners pushed down
  // from here go to different siblings: the subtree fills level by level instead of down the
  // first sibling's line (depth).
  if (!out.empty())
    std::rotate(out.begin(),
                out.begin() + static_cast<std::ptrdiff_t>(child.value() % out.size()), out.end());
  // Siblings that said they have room (their last REFRESH or JOIN) come first: the orphan is
  // taken one level down instead of being pushed on through full children, which packs the
  // stripe tree's last level (a tight forest is feasible only then) and keeps it shallow. The
  // first one's count is lowered for the orphan sent to it, until its next REFRESH corrects it.
  const auto room = [&](const NodeHandle& h) -> Child* {
    const auto it = std::find_if(t.children.begin(), t.children.end(),
                                 [&](const Child& c) { return c.node.id == h.id; });
    return it != t.children.end() && it->spare > 0 ? &*it : nullptr;
  };
  std::stable_partition(out.begin(), out.end(),
                        [&](const NodeHandle& h) { return room(h) != nullptr; });
  if (!out.empty())
    if (Child* c = room(out.front())) --c->spare;
  // A stripe root that can adopt nobody (a pure leaf) sends the joiner to the publisher, which
  // feeds one delegate in its place and sends everyone else there.
  if (limit_ == 0 && t.children.empty() && t.root && t.publisher && t.publisher->id != child &&
      t.publisher->id != scribe_.self().id)
    out.push_back(*t.publisher);
  return out;
}

}  // namespace forestcast::multicast
