// Scribe's root fail-over on evidence (part of class Scribe; the rest is scribe.cpp).
//
// The root pings the node that would take over (its successor: the next closest to the topic)
// every heartbeat interval, with a ROOT_ACK naming it. The successor watches those pings; it
// takes over only on its own evidence: the root silent for the failure timeout by its own watch
// (or, when it is the root's child, by the root's data), while its own routing still names the
// silent root as the topic's root and itself as the next closest. A peer's word (the publisher's
// Data.dead_root, a child's JOIN avoiding the root) only makes it look sooner, and a JOIN that
// arrives before the evidence waits for it. A root that answers again (a ping from it) makes the
// successor step back at once, so two live roots never last beyond one ping.
#include <algorithm>

#include "multicast/scribe.hpp"

namespace forestcast::multicast {

std::optional<NodeHandle> Scribe::successor(const NodeId& topic) const {
  for (const NodeHandle& h : overlay_.replica_set(topic, 2))
    if (h.id != self().id) return h;
  return std::nullopt;
}

void Scribe::ping_successor(Time now, const TopicState& t) {
  if (!t.root || !t.meta) return;
  const auto s = successor(t.id);
  if (!s) return;
  RootAckBody ping{t.id, t.last_seq, false};
  ping.has_successor = true;
  ping.successor = *s;
  ++counters_.successor_pings;
  send(now, *s, std::make_shared<const RootAckMsg>(std::move(ping)));
}

void Scribe::on_successor_ping(Time now, const NodeHandle& from, const RootAckBody& ping) {
  if (!ping.has_successor || ping.successor.id != self().id || ping.not_root) return;
  if (replicas_.count(ping.topic) == 0) return;  // bounded like replicas_: max_topics
  RootWatch& w = watches_[ping.topic];
  w.root = from;
  w.heard = now;
  if (TopicState* t = topic(ping.topic); t && t->root && t->replaced && *t->replaced == from.id) {
    // The root we replaced is alive after all: hang below it again.
    ++counters_.takeovers_undone;
    step_down(now, *t);
  }
  refuse_pending(now, ping.topic, w);
}

bool Scribe::root_silent(Time now, const NodeId& topic) const {
  const auto w = watches_.find(topic);
  if (w == watches_.end()) return false;
  const Duration failure = config_.heartbeat_interval * config_.failure_intervals;
  if (now - w->second.heard > failure) return true;
  // Our own parent's silence counts as our own evidence too (the root's data stopped).
  const TopicState* t = this->topic(topic);
  return t && t->parent && t->parent->id == w->second.root.id && now - t->last_from_parent > failure;
}

bool Scribe::is_next_after(const NodeId& topic, const NodeId& root) const {
  const auto hop = overlay_.next_hop(topic);
  if (!hop || hop->id != root) return false;
  for (const NodeHandle& h : overlay_.replica_set(topic, 3))
    if (h.id != root) return h.id == self().id;
  return false;
}

bool Scribe::take_over_if_evident(Time now, const NodeId& topic) {
  if (TopicState* t = this->topic(topic); t && t->root) return true;
  const auto w = watches_.find(topic);
  if (w == watches_.end() || replicas_.count(topic) == 0) return false;
  const NodeHandle dead = w->second.root;
  if (!root_silent(now, topic) || !is_next_after(topic, dead.id)) return false;
  TopicState* t = ensure_topic(now, topic);
  if (t == nullptr) return false;
  overlay_.check_alive(now, dead);  // Pastry routes around it once its probe fails
  if (t->parent && t->parent->id == dead.id) t->parent.reset();
  become_root(now, *t);
  t->replaced = dead.id;
  t->replaced_at = now;
  ++counters_.successor_takeovers;
  auto pending = std::move(w->second.pending);
  w->second.pending.clear();
  for (const auto& [child, spare] : pending)
    handle_join_here(now, *t, child, spare, config_.pushdown_depth);
  return true;
}

bool Scribe::hold_for_evidence(Time now, const NodeId& topic, const NodeHandle& child,
                               uint32_t spare) {
  const auto w = watches_.find(topic);
  if (w == watches_.end() || !is_next_after(topic, w->second.root.id)) return false;
  // Pings come every interval: one missed means the evidence is at most a failure timeout away.
  if (now - w->second.heard <= config_.heartbeat_interval) return false;
  auto& pending = w->second.pending;
  if (std::none_of(pending.begin(), pending.end(),
                   [&](const auto& p) { return p.first.id == child.id; })) {
    if (pending.size() >= kMaxCandidates) return false;
    pending.emplace_back(child, spare);
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
  for (auto& [id, w] : watches_)
    if (root_silent(now, id)) take_over_if_evident(now, id);
}

}  // namespace forestcast::multicast
