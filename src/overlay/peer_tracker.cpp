#include "overlay/peer_tracker.hpp"

#include <algorithm>

#include "base/log.hpp"
#include "overlay/joiner.hpp"
#include "overlay/maintenance.hpp"

namespace forestcast::overlay {

bool PeerTracker::usable(const NodeId& id, const std::vector<NodeId>& exclude) const {
  if (contains_id(exclude, id)) return false;
  const Peer* p = peers_.find(id);
  return p == nullptr || !p->suspected;
}

Duration PeerTracker::rto_for(const NodeId& id) const {
  const Peer* p = peers_.find(id);
  const Duration rtt = (p != nullptr && p->rtt != kUnknownRtt) ? p->rtt : core_.config.default_rtt;
  return std::clamp(rtt + rtt / 2 + ms(20), core_.config.min_rto, core_.config.max_rto);
}

// --- evidence of life ------------------------------------------------------------------------

void PeerTracker::note_heard(Time now, const NodeHandle& from, bool not_a_member_yet) {
  if (Peer* p = peers_.find(from.id)) {
    // Our peer's id from another address: a spoofer, or the peer moved. Neither earns it
    // liveness credit or our state; a peer that really moved is found dead at the old address
    // and then learned afresh at the new one.
    if (p->endpoint != from.endpoint) {
      ++core_.counters.endpoint_mismatch;
      return;
    }
    p->last_heard = now;
    p->suspected = false;
    // A peer we talk to proves its key again before its proof lapses.
    if (needs_challenge(now, from) && !probes_.contains(from.id)) probe(now, from);
    return;
  }
  if (not_a_member_yet || !core_.active()) return;
  if (!dead_until_.empty()) dead_until_.erase(from.id);
  // A node we do not know is talking to us. It may be alive, or the datagram may carry an id
  // or a source address that is not the sender's: if it has a place in our state (the leaf
  // set, or a free routing-table slot), it takes it when it answers a probe.
  if (core_.leaf_set.would_accept(from.id) ||
      core_.routing_table.would_accept(from.id, kUnknownRtt))
    probe(now, from);
}

// A node someone told us about: use it if we already know it is alive, otherwise probe it
// first (dead nodes linger in other nodes' state, and proximity needs an RTT anyway).
void PeerTracker::learn_candidate(Time now, const NodeHandle& node, Duration rtt_lower_bound) {
  if (node.id == core_.self.id || recently_dead(now, node.id)) return;
  const Peer* p = peers_.find(node.id);
  // Hearsay that a node we hold is elsewhere: whoever is at the other address has proven
  // nothing to us, and the node we hold did. A node that really moved is found dead at the old
  // address first.
  if (p != nullptr && p->endpoint != node.endpoint) return;
  if (p != nullptr && !p->suspected && p->rtt != kUnknownRtt) {
    // Already in our state with a measured RTT: hearsay can only move it into the leaf set.
    if (!core_.leaf_set.would_accept(node.id)) return;
    // Skip the probe only if we heard from it ourselves recently; a routing-table entry can be
    // long dead without our noticing, and must not re-enter the leaf set on hearsay.
    if (now - p->last_heard < core_.config.silence_before_probe) {
      adopt(node);  // second-hand news: no liveness credit
      return;
    }
  }
  if (p == nullptr) {
    // Measured before and found of no use, or provably too far: probe only if it could help.
    if (const auto rtt = rejected_rtt(node.id); rtt && !would_improve(node.id, *rtt)) return;
    if (rtt_lower_bound > Duration{0} && !would_improve(node.id, rtt_lower_bound)) return;
  }
  probe(now, node);
}

// Direct evidence that `node` is alive, with a fresh RTT when known.
void PeerTracker::note_alive(Time now, const NodeHandle& node, Duration rtt) {
  Peer& p = peers_[node.id];
  p.endpoint = node.endpoint;
  p.last_heard = now;
  p.suspected = false;
  if (rtt != kUnknownRtt) p.rtt = rtt;
  adopt(node);
}

// Offers a node we believe alive to the leaf set, routing table and neighbourhood set, and
// forgets it if none of them keeps it.
void PeerTracker::adopt(const NodeHandle& node) {
  // A copy, not a reference: forget_if_unused() below erases other peers, which moves entries
  // of the IdMap (backward shift) or reallocates it (shrink).
  const Duration rtt = peers_[node.id].rtt;
  bool kept = adopt_into_leaf_set(node);
  if (!core_.joining() || rtt != kUnknownRtt) {
    kept = adopt_into_routing_table(node, rtt) || kept;
  } else {
    kept = kept || core_.routing_table.contains(node.id);
  }
  kept = adopt_into_neighborhood(node, rtt) || kept;
  if (!kept && !probes_.contains(node.id)) peers_.erase(node.id);
}

bool PeerTracker::adopt_into_leaf_set(const NodeHandle& node) {
  LeafSet& leaf_set = core_.leaf_set;
  if (!leaf_set.would_accept(node.id)) return leaf_set.contains(node.id);
  // An insertion can push the farthest member of a side out; report that departure too.
  const auto before = leaf_set.members();
  leaf_set.insert(node);
  for (const auto& h : before)
    if (!leaf_set.contains(h.id)) {
      core_.notify_leafset(h, false);
      forget_if_unused(h.id);
    }
  core_.notify_leafset(node, true);
  return true;
}

// Proximity-aware slots need a measured RTT; an unmeasured node only fills free room.
bool PeerTracker::adopt_into_routing_table(const NodeHandle& node, Duration rtt) {
  const auto change = core_.routing_table.consider(node, rtt);
  if (change.evicted) forget_if_unused(*change.evicted);
  // Key proofs on: we will route through it, and it does not know us, so our first message
  // would wait a round trip for our proof. Announcing ourselves now has it ask for the proof
  // off the critical path.
  if (change.inserted && core_.proofs() != nullptr && core_.active())
    core_.send(node.endpoint, Announce{});
  return change.inserted || core_.routing_table.contains(node.id);
}

bool PeerTracker::adopt_into_neighborhood(const NodeHandle& node, Duration rtt) {
  NeighborhoodSet& m = core_.neighborhood;
  if (rtt == kUnknownRtt) return m.contains(node.id);
  const NodeId farthest = m.size() > 0 ? m.entries().back().node.id : NodeId{};
  const size_t size_before = m.size();
  const bool member = m.consider(node, rtt);
  if (member && size_before == m.size() && size_before > 0 && farthest != node.id &&
      !m.contains(farthest))
    forget_if_unused(farthest);
  return member;
}

// --- probes ----------------------------------------------------------------------------------

// Probe timers are never cancelled: a timeout whose probe was answered (or replaced by a
// retry with another nonce) finds nothing matching and does nothing.
void PeerTracker::probe(Time now, const NodeHandle& node, int attempts) {
  const int max_attempts = attempts > 0 ? attempts : core_.config.probe_attempts;
  if (PendingProbe* pp = probes_.find(node.id)) {
    pp->address_check = false;  // wanted as a peer now: taken into our state on answer
    pp->max_attempts = std::min(pp->max_attempts, max_attempts);
    ensure_challenge(now, node.id);
    return;
  }
  if (probes_.size() >= core_.config.max_probes) {
    ++core_.counters.probes_refused;
    return;
  }
  PendingProbe pp;
  pp.node = node;
  pp.max_attempts = max_attempts;
  send_probe(now, std::move(pp));
}

void PeerTracker::send_probe(Time now, PendingProbe pp) {
  pp.nonce = core_.new_token();
  pp.challenge = 0;
  if (needs_challenge(now, pp.node)) {
    pp.challenge = core_.new_token();
    ++core_.counters.proofs_requested;
  }
  pp.sent = now;
  const Duration timeout = std::min(rto_for(pp.node.id) * (1 << pp.attempt), core_.config.max_rto);
  core_.schedule(now + timeout, ProbeTimeout{pp.node.id, pp.nonce});
  ++core_.counters.probes_sent;
  const Endpoint to = pp.node.endpoint;
  const Ping ping{pp.nonce, core_.joining(), pp.challenge};
  probes_[pp.node.id] = std::move(pp);
  core_.send(to, ping);
}

Time PeerTracker::proven_until(const NodeHandle& node) const {
  Time until{0};
  if (const Peer* p = peers_.find(node.id); p != nullptr && p->endpoint == node.endpoint)
    until = p->proven_until;
  if (const ProvenAt* e = proven_.find(node.id); e != nullptr && e->endpoint == node.endpoint)
    until = std::max(until, e->until);
  return until;
}

bool PeerTracker::needs_challenge(Time now, const NodeHandle& node) const {
  if (core_.proofs() == nullptr) return false;
  return proven_until(node) - now < core_.config.proof_lifetime / 2;
}

void PeerTracker::ensure_challenge(Time now, const NodeId& id) {
  PendingProbe* pp = probes_.find(id);
  if (pp == nullptr || pp->challenge != 0 || !needs_challenge(now, pp->node)) return;
  PendingProbe again = std::move(*pp);  // the old nonce's Pong and timeout no longer match
  send_probe(now, std::move(again));
}

// The proof must be for our challenge, by the key of the id we probed, at the address we
// probed (proof_statement): a replayed proof, another node's, or one made for another address
// fails here. Verification is only ever attempted for a Pong that matched a pending challenge,
// so forged Pongs cost a table lookup, not a signature check.
bool PeerTracker::check_proof(Time now, const PendingProbe& pp, const Pong& pong) {
  KeyProofs* proofs = core_.proofs();
  const auto statement = proof_statement(pp.nonce, pp.challenge, core_.self.id, pp.node);
  if (proofs == nullptr || !pong.proof || !proofs->verify(pp.node.id, *pong.proof, statement)) {
    ++core_.counters.proofs_rejected;
    return false;
  }
  ++core_.counters.proofs_verified;
  const Time until = now + core_.config.proof_lifetime;
  if (Peer* p = peers_.find(pp.node.id); p != nullptr && p->endpoint == pp.node.endpoint)
    p->proven_until = until;
  // Members of our sets carry their proof themselves (Peer::proven_until); the memory is for
  // the others.
  if (const Peer* p = peers_.find(pp.node.id); p != nullptr && p->endpoint == pp.node.endpoint)
    return true;
  if (proven_.size() >= core_.config.proven_memory)
    proven_.erase_if([&](const NodeId&, const ProvenAt& e) { return e.until <= now; });
  if (proven_.size() < core_.config.proven_memory || proven_.contains(pp.node.id))
    proven_[pp.node.id] = ProvenAt{pp.node.endpoint, until};
  return true;
}

// Only the holder of the probed address sees the nonce: a Pong with the right nonce from that
// address proves both that the node is alive and that the address is its own.
Released PeerTracker::on_pong(Time now, const NodeHandle& from, const Pong& pong) {
  PendingProbe* found = probes_.find(from.id);
  if (found == nullptr || found->nonce != pong.nonce || found->node.endpoint != from.endpoint) {
    ++core_.counters.pongs_unmatched;
    return {};
  }
  // A bad proof leaves the probe pending: a forged Pong must not cancel the real one.
  if (found->challenge != 0 && !check_proof(now, *found, pong)) return {};
  PendingProbe pp = std::move(*found);
  probes_.erase(from.id);
  remember_verified(now, pp.node);
  if (pp.address_check) return {pp.node, std::move(pp.owed)};
  if (pp.recheck) {
    ++core_.counters.departed_returned;
    if (!dead_until_.empty()) dead_until_.erase(pp.node.id);
    std::erase_if(departed_, [&](const Departed& d) { return d.node.id == pp.node.id; });
  }
  const Duration rtt = now - pp.sent;
  note_alive(now, from, std::max(rtt, Duration{1}));
  if (Peer* p = peers_.find(from.id); p != nullptr && pp.challenge != 0)
    p->proven_until = now + core_.config.proof_lifetime;
  if (!peers_.contains(from.id)) remember_rejected(from.id, rtt);
  joiner_.probe_settled(now, from.id);
  return {pp.node, std::move(pp.owed)};
}

Released PeerTracker::on_probe_timeout(Time now, const ProbeTimeout& timer) {
  PendingProbe* found = probes_.find(timer.node);
  if (found == nullptr || found->nonce != timer.nonce) return {};
  PendingProbe pp = std::move(*found);
  probes_.erase(timer.node);
  // Heard from it at its address since the probe went out: alive after all (but a challenge
  // is only answered by a proof).
  if (Peer* p = peers_.find(pp.node.id);
      p != nullptr && p->last_heard > pp.sent && (pp.challenge == 0 || proven(now, pp.node))) {
    p->suspected = false;
    joiner_.probe_settled(now, pp.node.id);
    return {pp.node, std::move(pp.owed)};
  }
  if (pp.attempt + 1 < pp.max_attempts) {
    pp.attempt += 1;  // each retry waits twice as long
    send_probe(now, std::move(pp));
    return {};
  }
  // Never answered: whatever it asked for is forgotten. A joiner's address and a departed
  // leaf are not in our state, so there is nothing to declare dead.
  if (!pp.address_check && !pp.recheck) {
    const bool was_leaf = core_.leaf_set.contains(pp.node.id);
    declare_dead(now, pp.node);
    // A leaf that said goodbye is not looked for again; one that fell silent may be across a
    // partition.
    if (was_leaf && !pp.after_leave) remember_departed(now, pp.node);
  }
  joiner_.probe_settled(now, pp.node.id);
  return {};
}

bool PeerTracker::proven(Time now, const NodeHandle& node) const {
  if (core_.proofs() != nullptr) return proven_until(node) > now;
  if (const Peer* p = peers_.find(node.id); p != nullptr && p->endpoint == node.endpoint)
    return true;
  if (verified_.empty()) return false;
  const uint64_t key = verified_key(node);
  const auto& [k, until] = verified_[key % verified_.size()];
  return k == key && until > now;
}

bool PeerTracker::defer(Time now, const NodeHandle& node, OwedReply reply, bool address_check) {
  PendingProbe* pp = probes_.find(node.id);
  if (pp == nullptr) {
    if (probes_.size() >= core_.config.max_probes) {
      ++core_.counters.probes_refused;
      return false;
    }
    PendingProbe fresh;
    fresh.node = node;
    fresh.max_attempts = core_.config.probe_attempts;
    fresh.address_check = address_check;
    send_probe(now, std::move(fresh));
  } else {
    ensure_challenge(now, node.id);
  }
  pp = probes_.find(node.id);
  if (pp->node.endpoint != node.endpoint || pp->owed.size() >= core_.config.max_owed_per_peer) {
    ++core_.counters.replies_refused;
    return false;
  }
  pp->owed.push_back(std::move(reply));
  ++core_.counters.replies_deferred;
  return true;
}

void PeerTracker::remember_verified(Time now, const NodeHandle& node) {
  if (core_.config.verified_memory == 0) return;
  if (verified_.empty()) verified_.assign(core_.config.verified_memory, {0, Time{0}});
  const uint64_t key = verified_key(node);
  verified_[key % verified_.size()] = {key, now + core_.config.verified_lifetime};
}

uint64_t PeerTracker::verified_key(const NodeHandle& node) const {
  return std::hash<NodeId>{}(node.id) ^
         (std::hash<Endpoint>{}(node.endpoint) * 0x9e3779b97f4a7c15ULL);
}

void PeerTracker::suspect(Time now, const NodeHandle& node) {
  if (Peer* p = peers_.find(node.id)) p->suspected = true;
  probe(now, node);
}

void PeerTracker::check_alive(Time now, const NodeHandle& node) {
  if (node.id == core_.self.id || !core_.active()) return;
  if (recently_dead(now, node.id)) {
    core_.notify_dead(node);
    return;
  }
  probe(now, node);
}

// --- death -----------------------------------------------------------------------------------

// Anyone can send a Leave in another node's name, so it is a hint, not a verdict: the node is
// excluded from routing and probed once (not the usual three times, so a real departure is
// still noticed within one RTO), and removed only if it does not answer.
void PeerTracker::on_leave(Time now, const NodeHandle& node) {
  Peer* p = peers_.find(node.id);
  if (p == nullptr || p->endpoint != node.endpoint) {
    ++core_.counters.leaves_ignored;
    return;
  }
  ++core_.counters.leaves_checked;
  p->suspected = true;
  probe(now, node, 1);
  if (PendingProbe* pp = probes_.find(node.id)) pp->after_leave = true;
}

void PeerTracker::declare_dead(Time now, const NodeHandle& node) {
  ++core_.counters.nodes_declared_dead;
  dead_until_[node.id] = now + core_.config.dead_memory;
  pastry_log().debug("{} declares {} dead", core_.self.id.short_hex(), node.id.short_hex());
  remove_node(node.id);
  core_.notify_dead(node);
}

void PeerTracker::remove_node(const NodeId& id) {
  std::optional<NodeHandle> as_leaf;
  for (const auto& h : core_.leaf_set.members())
    if (h.id == id) as_leaf = h;
  const auto slot = RoutingTable::slot_for(core_.self.id, id);
  const bool in_table = core_.routing_table.remove(id);
  core_.neighborhood.remove(id);
  peers_.erase(id);
  if (as_leaf) {
    core_.leaf_set.remove(id);
    core_.notify_leafset(*as_leaf, false);
    ++core_.counters.leaf_set_repairs;
    if (core_.active()) maintenance_.repair_leaf_set();
  }
  if (in_table && slot && core_.active()) maintenance_.repair_row(slot->first, id);
}

void PeerTracker::forget_if_unused(const NodeId& id) {
  if (core_.leaf_set.contains(id) || core_.routing_table.contains(id) ||
      core_.neighborhood.contains(id) || probes_.contains(id))
    return;
  peers_.erase(id);
}

bool PeerTracker::recently_dead(Time now, const NodeId& id) {
  const Time* until = dead_until_.find(id);
  if (until == nullptr) return false;
  if (*until > now) return true;
  dead_until_.erase(id);
  return false;
}

// --- leaves found dead, looked for again (partition healing) ----------------------------------

void PeerTracker::remember_departed(Time now, const NodeHandle& node) {
  const size_t cap = core_.config.departed_memory;
  if (cap == 0) return;
  for (const auto& d : departed_)
    if (d.node.id == node.id) return;  // keeps its back-off
  if (departed_.size() >= cap) {
    auto oldest = std::min_element(departed_.begin(), departed_.end(),
                                   [](const Departed& a, const Departed& b) {
                                     return a.forget_at < b.forget_at;
                                   });
    departed_.erase(oldest);
  }
  const Duration first = core_.config.first_departed_probe;
  // A random phase, so that the leaves of one dead node do not all probe it in step.
  departed_.push_back(Departed{node, now + core_.rng.between(first / 2, first), first,
                               now + core_.config.departed_lifetime});
}

void PeerTracker::recheck_departed(Time now) {
  if (departed_.empty()) return;
  std::erase_if(departed_, [&](const Departed& d) {
    return d.forget_at <= now || peers_.contains(d.node.id);
  });
  for (auto& d : departed_) {
    if (d.next_probe > now) continue;
    d.backoff = std::min(d.backoff * 2, core_.config.max_departed_backoff);
    d.next_probe = now + d.backoff;
    if (probes_.contains(d.node.id) || probes_.size() >= core_.config.max_probes) continue;
    ++core_.counters.departed_probes;
    PendingProbe pp;
    pp.node = d.node;
    pp.max_attempts = 1;
    pp.recheck = true;
    send_probe(now, std::move(pp));
  }
}

void PeerTracker::expire_dead_memory(Time now) {
  if (!dead_until_.empty())
    dead_until_.erase_if([&](const NodeId&, const Time& until) { return until <= now; });
}

// --- nodes measured and found of no use ------------------------------------------------------

// A direct-mapped cache: a colliding node overwrites the older one, which costs at most one
// extra probe later.
std::optional<Duration> PeerTracker::rejected_rtt(const NodeId& id) const {
  if (rejected_.empty()) return std::nullopt;
  const uint64_t key = std::hash<NodeId>{}(id);
  const auto& [k, rtt_us] = rejected_[key % rejected_.size()];
  if (k != key) return std::nullopt;
  return Duration{rtt_us};
}

void PeerTracker::remember_rejected(const NodeId& id, Duration rtt) {
  if (core_.config.rejected_memory == 0) return;
  if (rejected_.empty()) rejected_.assign(core_.config.rejected_memory, {0, 0});
  const uint64_t key = std::hash<NodeId>{}(id);
  rejected_[key % rejected_.size()] = {
      key, static_cast<int32_t>(std::min<int64_t>(rtt.count(), INT32_MAX))};
}

bool PeerTracker::would_improve(const NodeId& id, Duration rtt) const {
  if (core_.leaf_set.would_accept(id)) return true;
  if (core_.routing_table.would_accept(id, rtt)) return true;
  const auto& m = core_.neighborhood.entries();
  return m.size() < core_.config.neighborhood_size || (!m.empty() && rtt < m.back().rtt);
}

}  // namespace forestcast::overlay
