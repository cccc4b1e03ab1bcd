// A topic's root in Scribe: becoming it, replicating its metadata to the leaf set, and fail-over
// on evidence (part of class Scribe; the rest is scribe.cpp).
//
// The root pings the three nodes that would take over (the next closest to the topic: its
// first, second and third successor) every heartbeat interval, with a ROOT_ACK naming the first;
// each successor pings the later ones in turn (deputy pings). A successor takes over only on its
// own evidence: the root silent for the failure timeout by its own watch (or, when it is the
// root's child, by the root's data) -- and every earlier successor silent too -- while its own
// routing still names the silent root as the topic's root and itself as the next closest live
// node. A peer's word (the publisher's Data.dead_root, a child's JOIN avoiding the
// root) only makes it look sooner, and a JOIN that arrives before the evidence waits for it. A
// root that answers again (a ping from it) makes the successor step back at once, so two live
// roots never last beyond one ping. When root and first successor die together (a quarter of
// the ring killed at once hits both in about one stripe in sixteen), the second successor takes
// over as fast as the first would have, instead of waiting for Pastry to declare both dead; the
// third covers root and both successors dead (one killed root in sixteen: at 2,000 nodes one
// stripe waited 6-8 s for Pastry, docs/multicast.md).
#include <algorithm>

#include "multicast/scribe.hpp"

namespace forestcast::multicast {

// --- roots ------------------------------------------------------------------------------------

void Scribe::become_root(Time now, TopicState& t) {
  if (t.root) return;
  t.root = true;
  t.attached = true;
  t.cut_off = false;
  t.cut_off_since.reset();
  t.joining = false;
  t.join_attempts = 0;
  t.avoid.reset();
  if (t.parent) send(now, *t.parent, std::make_shared<const LeaveMsg>(TopicBody{t.id}));
  t.parent.reset();
  if (!t.meta) {
    auto it = replicas_.find(t.id);
    if (it != replicas_.end()) {
      t.meta = it->second;
      ++counters_.root_takeovers;
    }
  }
  // Our children may have been told we were cut off: the root's path, now.
  t.path.clear();
  push_path(now, t);
  replicate(now, t);
  ping_successor(now, t);  // the successors' watch starts now, not at the next interval
  arm_root_watch(now);
}

void Scribe::replicate(Time now, const TopicState& t) {
  if (!t.meta) return;
  auto msg = std::make_shared<const ReplicateMsg>(*t.meta);
  for (const NodeHandle& h : overlay_.replica_set(t.id, config_.replicas + 1))
    if (h.id != self().id) send(now, h, msg);
}

void Scribe::on_create_delivered(Time now, const CreateBody& c, const NodeHandle& origin) {
  if (origin.id != c.creator || !credentials_.verify(c)) {
    ++counters_.creates_refused;
    return;
  }
  TopicState* t = ensure_topic(now, c.topic);
  if (t == nullptr) return;
  ++counters_.creates_accepted;
  t->meta = c;
  if (!t->root)
    become_root(now, *t);
  else
    replicate(now, *t);
  t->publisher = origin;
  t->last_ack_sent = now;
  send(now, origin, std::make_shared<const RootAckMsg>(RootAckBody{c.topic, 0, false}));
}

namespace {

constexpr size_t kWatchers = 3;  // successors the root pings

}  // namespace

std::optional<NodeHandle> Scribe::successor(const NodeId& topic) const {
  for (const NodeHandle& h : overlay_.replica_set(topic, 2))
    if (h.id != self().id) return h;
  return std::nullopt;
}

void Scribe::ping_successor(Time now, TopicState& t) {
  if (!t.root || !t.meta) return;
  std::vector<NodeHandle> watchers;
  for (const NodeHandle& h : overlay_.replica_set(t.id, kWatchers + 1))
    if (h.id != self().id && watchers.size() < kWatchers) watchers.push_back(h);
  for (const NodeHandle& old : t.watchers) {
    if (std::any_of(watchers.begin(), watchers.end(),
                    [&](const NodeHandle& h) { return h.id == old.id; }))
      continue;
    // No longer among our successors (a closer node joined): its watch must end now, or our
    // pings stopping looks like our death and it takes over (seen during a 500-node build once
    // the root pinged three successors). A lost notice leaves the old risk: take-over, then
    // stepping back after takeover_hold.
    RootAckBody bye{t.id, t.last_seq, true};
    bye.has_successor = true;
    bye.successor = watchers.empty() ? old : watchers.front();
    send(now, old, std::make_shared<const RootAckMsg>(std::move(bye)));
  }
  t.watchers = watchers;
  if (watchers.empty()) return;
  RootAckBody ping{t.id, t.last_seq, false};
  ping.has_successor = true;
  ping.successor = watchers.front();
  if (t.publisher) {
    ping.has_publisher = true;
    ping.publisher = *t.publisher;
  }
  if (config_.takeover_adopts) {
    // The children only when they changed (or once a refresh interval, for a lost ping): listing
    // 16-24 handles ten times a second would cost a root ~150 kbit/s per stripe.
    uint64_t digest = t.children.size();
    for (const Child& c : t.children) digest += std::hash<NodeId>{}(c.node.id);
    if (digest != t.listed_digest || now - t.listed_at >= config_.refresh_interval) {
      t.listed_digest = digest;
      t.listed_at = now;
      for (const Child& c : t.children)
        if (ping.children.size() < kMaxRootChildren) ping.children.push_back(c.node);
    }
  }
  auto msg = std::make_shared<const RootAckMsg>(std::move(ping));
  for (const NodeHandle& h : watchers) {
    ++counters_.successor_pings;
    send(now, h, msg);
  }
}

bool Scribe::on_successor_ping(Time now, const NodeHandle& from, const RootAckBody& ping) {
  if (ping.has_successor && ping.not_root) {
    // The root no longer counts us among its successors (ping_successor): stop watching it.
    // Consumed either way: to a publisher it does not mean "route again".
    const auto w = watches_.find(ping.topic);
    if (w != watches_.end() && w->second.root.id == from.id) {
      refuse_pending(now, ping.topic, w->second);  // the root is alive: back to it
      watches_.erase(w);
    }
    return true;
  }
  if (!ping.has_successor || ping.not_root) return false;
  if (replicas_.count(ping.topic) == 0) return false;  // bounded like replicas_: max_topics
  const auto hop = overlay_.next_hop(ping.topic);
  RootWatch& w = watches_[ping.topic];
  if (hop && hop->id != from.id && ping.successor.id == self().id) {
    // Not the root as we see it, naming us: an earlier successor telling us it is alive.
    auto d = std::find_if(w.deputies.begin(), w.deputies.end(),
                          [&](const auto& e) { return e.first.id == from.id; });
    if (d != w.deputies.end()) {
      d->second = now;
    } else if (w.deputies.size() < kWatchers) {
      w.deputies.emplace_back(from, now);
    } else {  // bounded: the one heard longest ago makes room
      *std::min_element(w.deputies.begin(), w.deputies.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      }) = {from, now};
    }
    return true;
  }
  w.root = from;
  w.heard = now;
  w.first = ping.successor;
  if (ping.has_publisher) w.publisher = ping.publisher;
  // An empty list is a ping that did not list them: a stale entry only costs an ACCEPT that
  // its receiver answers with a LEAVE.
  if (!ping.children.empty()) w.children = ping.children;
  if (TopicState* t = topic(ping.topic); t && t->root && t->replaced && *t->replaced == from.id) {
    // The root we replaced is alive after all: hang below it again.
    ++counters_.takeovers_undone;
    step_down(now, *t);
  }
  refuse_pending(now, ping.topic, w);
  return false;
}

bool Scribe::root_silent(Time now, const NodeId& topic) const {
  const auto w = watches_.find(topic);
  if (w == watches_.end() || !w->second.heard) return false;
  if (now - *w->second.heard > root_failure()) return true;
  // Our own parent's silence counts as our own evidence too (the root's data stopped).
  const TopicState* t = this->topic(topic);
  return t && t->parent && t->parent->id == w->second.root.id && parent_silent(*t, now);
}

bool Scribe::is_next_after(const NodeId& topic, const RootWatch& w) const {
  const auto hop = overlay_.next_hop(topic);
  if (!hop || hop->id != w.root.id) return false;
  // A later successor acts only with its own watch of every earlier one's deputy pings.
  if (w.first.id != self().id && !w.deputy_heard(w.first.id)) return false;
  for (const NodeHandle& h : overlay_.replica_set(topic, kWatchers + 2)) {
    if (h.id == w.root.id) continue;
    if (h.id == self().id) return true;
    if (!w.deputy_heard(h.id)) return false;
  }
  return false;
}

bool Scribe::take_over_if_evident(Time now, const NodeId& topic) {
  if (TopicState* t = this->topic(topic); t && t->root) return true;
  const auto it = watches_.find(topic);
  if (it == watches_.end() || replicas_.count(topic) == 0) return false;
  RootWatch& w = it->second;
  if (!root_silent(now, topic) || !is_next_after(topic, w)) return false;
  const Duration failure = config_.heartbeat_interval * config_.failure_intervals;
  for (const auto& [d, heard] : w.deputies)
    if (now - heard <= failure) return false;  // an earlier successor lives
  TopicState* t = ensure_topic(now, topic);
  if (t == nullptr) return false;
  const NodeHandle dead = w.root;
  overlay_.check_alive(now, dead);  // Pastry routes around it once its probe fails
  for (const auto& [d, heard] : w.deputies) overlay_.check_alive(now, d);
  if (t->parent && t->parent->id == dead.id) t->parent.reset();
  become_root(now, *t);
  t->replaced = dead.id;
  t->replaced_at = now;
  ++counters_.successor_takeovers;
  if (w.publisher && t->meta && w.publisher->id == t->meta->creator) {
    // Tell the publisher at once, rather than let it route to the silent root.
    t->publisher = w.publisher;
    t->last_ack_sent = now;
    RootAckBody ack{topic, t->last_seq, false};
    if (auto s = successor(topic)) {
      ack.has_successor = true;
      ack.successor = *s;
    }
    send(now, *w.publisher, std::make_shared<const RootAckMsg>(std::move(ack)));
  }
  auto pending = std::move(w.pending);
  w.pending.clear();
  for (const auto& [child, spare] : pending)
    handle_join_here(now, *t, child, spare, config_.pushdown_depth);
  if (config_.takeover_adopts) {
    // The old root's children, before their own timeout and JOIN round trip: an ACCEPT each
    // (follow_takeover), through the usual admission (a full node pushes down).
    for (const NodeHandle& c : w.children) {
      if (c.id == self().id || c.id == dead.id || t->has_child(c.id)) continue;
      ++counters_.takeover_adoptions;
      handle_join_here(now, *t, c, 0, config_.pushdown_depth);
    }
  }
  w.children.clear();
  return true;
}

bool Scribe::follow_takeover(Time now, TopicState& t, const NodeHandle& from, const PathBody& p) {
  // The sender says it is a root (its path is itself), our parent is a root too, and our own
  // has heard nothing from it for a heartbeat interval: the successor took over on its own
  // evidence (root_failure(), shorter than ours: data comes only every stripe packet, which a
  // 1 Mbit/s stream of 16 stripes sends every ~150 ms), and a live root would have sent a
  // heartbeat after one silent interval. If it lives after all, the successor steps down below
  // it (takeovers_undone) and we with it.
  if (!config_.takeover_adopts || t.root || !t.parent || t.parent->id == from.id) return false;
  if (p.detached || p.path.size() != 1 || p.path.front() != from.id) return false;
  if (t.path.size() != 1 || t.path.front() != t.parent->id) return false;
  if (now - t.last_from_parent <= config_.heartbeat_interval) return false;
  ++counters_.takeovers_followed;
  const NodeHandle old = *t.parent;
  overlay_.check_alive(now, old);
  t.lost_at = now;
  t.regained_at = kNever;
  t.avoid = old.id;
  t.parent.reset();
  t.joining = true;
  t.join_attempts = std::max(t.join_attempts, 1);
  return true;
}

bool Scribe::hold_for_evidence(Time now, const NodeId& topic, const NodeHandle& child,
                               uint32_t spare) {
  const auto it = watches_.find(topic);
  if (it == watches_.end() || !is_next_after(topic, it->second)) return false;
  RootWatch& w = it->second;
  // Pings come every interval: one missed means the evidence is at most a failure timeout away.
  if (!w.heard || now - *w.heard <= config_.root_watch_interval) return false;
  if (std::none_of(w.pending.begin(), w.pending.end(),
                   [&](const auto& p) { return p.first.id == child.id; })) {
    if (w.pending.size() >= kMaxCandidates) return false;
    w.pending.emplace_back(child, spare);
  }
  ++counters_.joins_held;
  return true;
}

void Scribe::refuse_pending(Time now, const NodeId& topic, RootWatch& w) {
  // The root answered: the children that thought it dead go back to it.
  for (const auto& [child, spare] : w.pending) {
    (void)spare;
    send(now, child,
         std::make_shared<const RefuseMsg>(RefuseBody{topic, {w.root}, config_.pushdown_depth}));
  }
  w.pending.clear();
}

void Scribe::check_watches(Time now) {
  for (auto& [id, w] : watches_) {
    if (root_silent(now, id)) {
      take_over_if_evident(now, id);
      continue;
    }
    if (!w.heard) continue;
    // A successor tells the later ones it is alive, so each takes over only if the root and
    // every successor before it are silent.
    const TopicState* t = topic(id);
    if (t && t->root) continue;
    bool after_self = false;
    size_t rank = 0;
    for (const NodeHandle& h : overlay_.replica_set(id, kWatchers + 2)) {
      if (h.id == w.root.id) continue;
      if (++rank > kWatchers) break;
      if (h.id == self().id) {
        after_self = true;
        continue;
      }
      if (!after_self) continue;
      RootAckBody ping{id, 0, false};
      ping.has_successor = true;
      ping.successor = h;
      ++counters_.successor_pings;
      send(now, h, std::make_shared<const RootAckMsg>(std::move(ping)));
    }
  }
}

}  // namespace forestcast::multicast
