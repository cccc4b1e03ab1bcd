#include "secure/secure_lookup.hpp"

#include <algorithm>

namespace forestcast::secure {

using overlay::NodeHandle;
using overlay::NodeId;

SecureLookup::SecureLookup(overlay::Overlay& overlay, SecureLookupConfig config, Done done)
    : overlay_(overlay), config_(config), done_(std::move(done)) {}

std::vector<NodeHandle> SecureLookup::own_leaf_set() const {
  return overlay_.replica_set(overlay_.self().id, config_.leaf_set_size + 1);
}

uint64_t SecureLookup::new_lookup_id() {
  uint64_t id = overlay_.random();
  while (id == 0 || pending_.contains(id)) id = overlay_.random();
  return id;
}

void SecureLookup::lookup(Time now, const NodeId& key, uint64_t token) {
  ++counters_.lookups;
  if (pending_.size() >= config_.max_pending || !overlay_.active()) {
    ++counters_.refused_busy;
    SecureLookupResult r;
    r.token = token;
    r.key = key;
    r.started = now;
    done_(now, r);
    return;
  }
  const uint64_t id = new_lookup_id();
  Pending& p = pending_[id];
  p.token = token;
  p.key = key;
  p.started = now;
  p.answered.assign(1, 0);
  // What we know ourselves is a candidate too: a liar cannot talk us out of a closer node.
  for (const auto& h : overlay_.replica_set(key, 1)) consider(p, h);
  p.timer = overlay_.schedule_app_timer(kSecureLookupAppId, now + config_.reply_timeout, id);
  overlay_.route(now, key,
                 std::make_shared<SecureQuery>(SecureType::kQuery, id, 0, key, overlay_.self()));
}

void SecureLookup::deliver(Time now, const overlay::RouteInfo& info,
                           const overlay::AppMessagePtr& msg) {
  if (msg->type() != static_cast<uint16_t>(SecureType::kQuery)) return;
  const auto& q = static_cast<const SecureQuery&>(*msg);
  std::vector<NodeHandle> members;
  for (const auto& h : own_leaf_set())
    if (h.id != overlay_.self().id && members.size() < kMaxReplyMembers) members.push_back(h);
  ++counters_.replies_answered;
  // To whoever routed it (proven by the transport), never to the requester it names.
  overlay_.send_direct(
      now, info.origin,
      std::make_shared<SecureReply>(q.lookup_id(), q.copy(), overlay_.self(), std::move(members)));
}

void SecureLookup::receive_direct(Time now, const NodeHandle& from,
                                  const overlay::AppMessagePtr& msg) {
  switch (static_cast<SecureType>(msg->type())) {
    case SecureType::kRelay:
      on_relay(now, from, static_cast<const SecureQuery&>(*msg));
      return;
    case SecureType::kReply:
      on_reply(now, from, static_cast<const SecureReply&>(*msg));
      return;
    case SecureType::kQuery:
    case SecureType::kNear:
      return;  // routed only; the guard's
  }
}

// Someone asks us to route one copy of its lookup. Only for itself: the answer goes back to the
// asker and nobody else, so a Relay cannot aim traffic at a third party.
void SecureLookup::on_relay(Time now, const NodeHandle& from, const SecureQuery& relay) {
  if (relay.requester().id != from.id || !overlay_.active()) {
    ++counters_.relays_refused;
    return;
  }
  ++counters_.relays_served;
  if (relayed_.size() >= config_.max_relayed) relayed_.pop_front();
  relayed_.push_back({relay.lookup_id(), relay.copy(), from});
  overlay_.route(now, relay.key(),
                 std::make_shared<SecureQuery>(SecureType::kQuery, relay.lookup_id(), relay.copy(),
                                               relay.key(), from));
}

bool SecureLookup::passes(const Pending& p, const SecureReply& reply,
                          FailureVerdict* verdict) const {
  std::vector<NodeId> own, members;
  for (const auto& h : own_leaf_set()) own.push_back(h.id);
  for (const auto& h : reply.members()) members.push_back(h.id);
  const auto known = overlay_.replica_set(p.key, 1);
  const NodeId known_closest = known.empty() ? overlay_.self().id : known.front().id;
  const FailureVerdict v =
      routing_failure_test(p.key, own, reply.root().id, members, known_closest, config_.gamma);
  if (verdict != nullptr) *verdict = v;
  return v.passed();
}

void SecureLookup::on_reply(Time now, const NodeHandle& from, const SecureReply& reply) {
  // A Reply to a copy we relayed: pass it back once, to the requester we relayed for.
  for (auto it = relayed_.begin(); it != relayed_.end(); ++it) {
    if (it->lookup_id != reply.lookup_id() || it->copy != reply.copy()) continue;
    const NodeHandle requester = it->requester;
    relayed_.erase(it);
    ++counters_.relayed_replies;
    overlay_.send_direct(now, requester,
                         std::make_shared<SecureReply>(reply.lookup_id(), reply.copy(),
                                                       reply.root(), reply.members()));
    return;
  }
  auto it = pending_.find(reply.lookup_id());
  if (it == pending_.end()) {
    ++counters_.replies_unmatched;
    return;
  }
  Pending& p = it->second;
  // Copy 0 comes from whoever claims the root; copy k only from the node we sent it through.
  const uint8_t copy = reply.copy();
  if (copy >= p.answered.size() || p.answered[copy] ||
      (copy > 0 && p.via[copy - 1].id != from.id)) {
    ++counters_.replies_unmatched;
    return;
  }
  p.answered[copy] = 1;
  ++p.replies;
  consider(p, reply.root());
  for (const auto& m : reply.members()) consider(p, m);
  if (!p.redundant) {
    check_first(now, it->first, p, reply);
    return;
  } else if (reply.root().id == p.best->id && passes(p, reply, nullptr)) {
    ++p.quorum;
  }
  const bool all =
      std::all_of(p.answered.begin() + 1, p.answered.end(), [](uint8_t a) { return a != 0; });
  // Only answers that name the current best count toward the quorum: a closer candidate that
  // arrives later restarts the count.
  if (all || (config_.early_quorum > 0 && p.quorum >= config_.early_quorum)) finish(now, it->first);
}

void SecureLookup::consider(Pending& p, const NodeHandle& candidate) const {
  if (!p.best || p.key.closer(candidate.id, p.best->id)) {
    p.best = candidate;
    p.quorum = 0;
  }
}

void SecureLookup::check_first(Time now, uint64_t id, Pending& p, const SecureReply& reply) {
  FailureVerdict v;
  const bool ok = passes(p, reply, &v);
  p.first_verdict = v.reason;
  if (ok) {
    ++counters_.first_passed;
    p.best = reply.root();
    finish(now, id);
    return;
  }
  ++counters_.first_failed;
  switch (v.reason) {
    case FailureReason::kSparse:
      ++counters_.failed_sparse;
      break;
    case FailureReason::kTooFew:
      ++counters_.failed_too_few;
      break;
    case FailureReason::kNotClosest:
      ++counters_.failed_not_closest;
      break;
    case FailureReason::kKnownCloser:
      ++counters_.failed_known_closer;
      break;
    case FailureReason::kNone:
      break;
  }
  go_redundant(now, id, p);
}

void SecureLookup::go_redundant(Time now, uint64_t id, Pending& p) {
  ++counters_.redundant;
  p.redundant = true;
  overlay_.cancel_app_timer(kSecureLookupAppId, p.timer);
  std::vector<NodeHandle> via;
  for (const auto& h : own_leaf_set())
    if (h.id != overlay_.self().id && via.size() < config_.redundant_copies) via.push_back(h);
  send_copies(now, id, p, std::move(via), config_.redundant_timeout);
}

void SecureLookup::send_copies(Time now, uint64_t id, Pending& p, std::vector<NodeHandle> via,
                               Duration timeout) {
  p.via = std::move(via);
  p.answered.resize(1 + p.via.size(), 0);
  for (size_t k = 0; k < p.via.size(); ++k)
    overlay_.send_direct(
        now, p.via[k],
        std::make_shared<SecureQuery>(SecureType::kRelay, id, static_cast<uint8_t>(k + 1), p.key,
                                      overlay_.self()));
  if (p.via.empty()) {
    finish(now, id);
    return;
  }
  p.timer = overlay_.schedule_app_timer(kSecureLookupAppId, now + timeout, id);
}

void SecureLookup::on_timer(Time now, uint64_t token) {
  auto it = pending_.find(token);
  if (it == pending_.end()) return;
  Pending& p = it->second;
  if (!p.redundant) {  // the first route's answer never came: a dropped query fails the test
    ++counters_.first_timed_out;
    p.first_timed_out = true;
    go_redundant(now, token, p);
    return;
  }
  finish(now, token);
}

void SecureLookup::finish(Time now, uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  overlay_.cancel_app_timer(kSecureLookupAppId, p.timer);
  SecureLookupResult r;
  r.token = p.token;
  r.key = p.key;
  r.root = p.best;
  r.redundant = p.redundant;
  r.first_verdict = p.first_verdict;
  r.first_timed_out = p.first_timed_out;
  r.replies = p.replies;
  r.started = p.started;
  if (!r.root) ++counters_.unanswered;
  done_(now, r);
}

}  // namespace forestcast::secure
