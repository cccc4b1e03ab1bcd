#include "secure/neighbourhood_guard.hpp"

#include <algorithm>

namespace forestcast::secure {

using overlay::NodeHandle;
using overlay::NodeId;

namespace {
bool holds(const std::vector<NodeId>& ids, const NodeId& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}
}  // namespace

void NeighbourhoodGuard::became_active(Time now) {
  if (!config_.enabled || armed_) return;
  armed_ = true;
  overlay_.schedule_app_timer(kNeighbourhoodGuardAppId, now + config_.first_delay, kStartTimer);
}

void NeighbourhoodGuard::receive_direct(Time now, const NodeHandle& from,
                                        const overlay::AppMessagePtr& msg) {
  if (msg->type() == static_cast<uint16_t>(SecureType::kReply)) {
    on_reply(now, from, static_cast<const SecureReply&>(*msg));
    return;
  }
  if (msg->type() != static_cast<uint16_t>(SecureType::kNear)) return;
  // Which nodes we know closest to the key: answered to the asker only, so a Near cannot aim
  // our answer at a third party.
  const auto& q = static_cast<const SecureQuery&>(*msg);
  if (q.requester().id != from.id) {
    ++counters_.near_refused;
    return;
  }
  ++counters_.near_answered;
  std::vector<NodeHandle> members;
  for (const auto& h : overlay_.replica_set(q.key(), leaf_set_size_ + 1))
    if (h.id != overlay_.self().id && members.size() < kMaxReplyMembers) members.push_back(h);
  overlay_.send_direct(now, from,
                       std::make_shared<SecureReply>(q.lookup_id(), 0, overlay_.self(),
                                                     std::move(members), kNeighbourhoodGuardAppId));
}

void NeighbourhoodGuard::on_timer(Time now, uint64_t token) {
  if (token == kStartTimer) {
    start(now);
    overlay_.schedule_app_timer(kNeighbourhoodGuardAppId, now + config_.period, kStartTimer);
  } else if (token == kFollowUpTimer) {
    start(now);
  } else if (token == kRoundTimer && walking()) {
    next_round(now);
  }
}

void NeighbourhoodGuard::add_candidate(size_t walk, const NodeHandle& h) {
  if (h.id == overlay_.self().id) return;
  for (const auto& c : candidates_[walk])
    if (c.id == h.id) return;
  candidates_[walk].push_back(h);
}

void NeighbourhoodGuard::add_seed(const NodeHandle& node) {
  if (node.id == overlay_.self().id || seeds_.size() >= config_.max_bootstrap_seeds) return;
  if (std::none_of(seeds_.begin(), seeds_.end(),
                   [&](const NodeHandle& s) { return s.id == node.id; }))
    seeds_.push_back(node);
}

void NeighbourhoodGuard::start(Time now) {
  if (walking() || !overlay_.active() || config_.walks == 0) return;
  ++counters_.walks;
  walk_id_ = overlay_.random() | 1;  // never 0
  round_ = 0;
  candidates_.assign(config_.walks, {});
  queried_.clear();
  outstanding_.clear();
  // One seed per walk, each walk starting somewhere else: the bootstrap list first, then
  // routing-table entries for random keys and leaf set members in turn.
  std::vector<NodeHandle> seeds = seeds_;
  std::vector<NodeHandle> table;
  for (size_t tries = 0; tries < 4 * config_.seeds && table.size() < config_.seeds; ++tries) {
    const auto hop = overlay_.next_hop(NodeId::from_parts(overlay_.random(), overlay_.random()));
    if (hop && std::none_of(table.begin(), table.end(),
                            [&](const NodeHandle& h) { return h.id == hop->id; }))
      table.push_back(*hop);
  }
  const auto leaves = overlay_.replica_set(overlay_.self().id, leaf_set_size_ + 1);
  for (size_t k = 0; k < std::max(table.size(), leaves.size()); ++k) {
    if (k < table.size()) seeds.push_back(table[k]);
    if (k < leaves.size()) seeds.push_back(leaves[k]);
  }
  size_t walk = 0;
  for (const auto& h : seeds) {
    if (walk == config_.walks) break;
    if (h.id == overlay_.self().id ||
        std::any_of(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(walk),
                    [&](const std::vector<NodeHandle>& w) { return w.front().id == h.id; }))
      continue;
    add_candidate(walk++, h);
  }
  candidates_.resize(walk);
  next_round(now);
}

void NeighbourhoodGuard::next_round(Time now) {
  overlay_.cancel_app_timer(kNeighbourhoodGuardAppId, round_timer_);
  outstanding_.clear();
  const NodeId self = overlay_.self().id;
  auto closest_first = [&](const NodeHandle& a, const NodeHandle& b) {
    return self.closer(a.id, b.id);
  };
  for (auto& walk : candidates_) std::sort(walk.begin(), walk.end(), closest_first);
  if (round_ >= config_.rounds) {
    end(now);
    return;
  }
  ++round_;
  // Each walk asks the closest node it knows of that nobody has asked yet.
  for (size_t w = 0; w < candidates_.size(); ++w) {
    for (const auto& c : candidates_[w]) {
      if (holds(queried_, c.id)) continue;
      queried_.push_back(c.id);
      outstanding_.push_back({c.id, w});
      ++counters_.requests;
      overlay_.send_direct(
          now, c,
          std::make_shared<SecureQuery>(SecureType::kNear, walk_id_, 0, self, overlay_.self()));
      break;
    }
  }
  if (outstanding_.empty()) {
    end(now);
    return;
  }
  round_timer_ = overlay_.schedule_app_timer(kNeighbourhoodGuardAppId, now + config_.round_timeout,
                                             kRoundTimer);
}

bool NeighbourhoodGuard::on_reply(Time now, const NodeHandle& from, const SecureReply& reply) {
  if (!walking() || reply.lookup_id() != walk_id_) return false;
  const auto it = std::find_if(outstanding_.begin(), outstanding_.end(),
                               [&](const Asked& a) { return a.node == from.id; });
  if (it == outstanding_.end()) {
    ++counters_.replies_unmatched;
    return true;
  }
  const size_t walk = it->walk;
  outstanding_.erase(it);
  ++counters_.replies;
  add_candidate(walk, reply.root());
  for (const auto& m : reply.members()) add_candidate(walk, m);
  if (outstanding_.empty()) next_round(now);
  return true;
}

void NeighbourhoodGuard::end(Time now) {
  overlay_.cancel_app_timer(kNeighbourhoodGuardAppId, round_timer_);
  walk_id_ = 0;
  std::vector<NodeId> held;
  for (const auto& h : overlay_.replica_set(overlay_.self().id, leaf_set_size_ + 1))
    held.push_back(h.id);
  // Every walk's finds together, closest first.
  const NodeId self = overlay_.self().id;
  std::vector<NodeHandle> found;
  for (const auto& walk : candidates_)
    for (const auto& h : walk)
      if (std::none_of(found.begin(), found.end(),
                       [&](const NodeHandle& f) { return f.id == h.id; }))
        found.push_back(h);
  std::sort(found.begin(), found.end(),
            [&](const NodeHandle& a, const NodeHandle& b) { return self.closer(a.id, b.id); });
  size_t probed = 0;
  for (size_t k = 0; k < found.size() && k < leaf_set_size_; ++k) {
    if (holds(held, found[k].id)) continue;
    ++counters_.probes;
    ++probed;
    overlay_.check_alive(now, found[k]);
  }
  candidates_.clear();
  if (probed == 0 || follow_ups_ >= config_.max_follow_ups) {
    follow_ups_ = 0;
    return;
  }
  ++follow_ups_;
  ++counters_.follow_ups;
  overlay_.schedule_app_timer(kNeighbourhoodGuardAppId, now + config_.first_delay, kFollowUpTimer);
}

}  // namespace forestcast::secure
