#include "overlay/joiner.hpp"

#include <algorithm>

#include "base/log.hpp"
#include "overlay/maintenance.hpp"
#include "overlay/peer_tracker.hpp"

namespace forestcast::overlay {

void Joiner::join(Time now, std::vector<Endpoint> bootstraps) {
  bootstraps_ = std::move(bootstraps);
  if (bootstraps_.empty()) {
    core_.state = JoinState::kFailed;
    return;
  }
  core_.state = JoinState::kJoining;
  attempt_ = 0;
  start_attempt(now);
}

void Joiner::start_attempt(Time now) {
  leafset_complete_ = false;
  leaf_waiting_.clear();
  const Endpoint& bootstrap = bootstraps_[static_cast<size_t>(attempt_) % bootstraps_.size()];
  pastry_log().debug("{} join attempt {} via {}", core_.self.id.short_hex(), attempt_ + 1,
                     bootstrap.to_string());
  RouteMsg msg;
  msg.hop_id = core_.new_token();
  msg.key = core_.self.id;
  msg.origin = core_.self;
  msg.msg_id = core_.new_token();
  msg.join = true;
  core_.send(bootstrap, msg);
  core_.schedule(now + core_.config.join_timeout, JoinTimeout{attempt_});
}

void Joiner::on_join_timeout(Time now, const JoinTimeout& timer) {
  if (!core_.joining() || timer.attempt != attempt_) return;
  if (leafset_complete_) return;  // only waiting for probes; they time out on their own
  if (++attempt_ >= core_.config.join_attempts) {
    pastry_log().warn("{} join failed after {} attempts", core_.self.id.short_hex(), attempt_);
    core_.state = JoinState::kFailed;
    core_.stop_timers();
    return;
  }
  start_attempt(now);
}

void Joiner::await_leaf(const NodeId& id) {
  if (!contains_id(leaf_waiting_, id)) leaf_waiting_.push_back(id);
}

void Joiner::on_root_leaf_set(Time now) {
  leafset_complete_ = true;
  maybe_finish(now);
}

// A joining node waits for every member of the root's leaf set to be found alive or dead.
void Joiner::probe_settled(Time now, const NodeId& id) {
  auto w = std::find(leaf_waiting_.begin(), leaf_waiting_.end(), id);
  if (w == leaf_waiting_.end()) return;
  leaf_waiting_.erase(w);
  maybe_finish(now);
}

void Joiner::maybe_finish(Time now) {
  if (core_.joining() && leafset_complete_ && leaf_waiting_.empty()) become_active(now);
}

void Joiner::become_active(Time now) {
  core_.state = JoinState::kActive;
  pastry_log().info("{} active: leaf set {}, routing table {}, neighborhood {}",
                    core_.self.id.short_hex(), core_.leaf_set.members().size(),
                    core_.routing_table.entry_count(), core_.neighborhood.size());
  maintenance_.start(now);
  announce_to_known_nodes();
  maintenance_.start_proximity_rounds(now);
  for (auto& [id, a] : core_.apps) a->became_active(now);
}

// "I am here": every node we know may insert us.
void Joiner::announce_to_known_nodes() {
  std::vector<Endpoint> told;
  auto announce = [&](const NodeHandle& h) {
    if (std::find(told.begin(), told.end(), h.endpoint) != told.end()) return;
    told.push_back(h.endpoint);
    core_.send(h.endpoint, Announce{});
  };
  for (const auto& h : core_.leaf_set.members()) announce(h);
  for (int r = 0; r < core_.routing_table.rows_allocated(); ++r)
    for (const auto& h : core_.routing_table.row(r)) announce(h);  // primary entries
  for (const auto& e : core_.neighborhood.entries()) announce(e.node);
}

void Joiner::answer_join(Time now, const RouteMsg& msg, bool rows, bool leaf_set) {
  if (peers_.proven(now, msg.origin)) {
    send_join_answer(msg, rows, leaf_set);
    return;
  }
  OwedReply owed;
  owed.kind = OwedReply::Kind::kJoinAnswer;
  owed.join = msg;
  owed.rows = rows;
  owed.leaf_set = leaf_set;
  peers_.defer(now, msg.origin, std::move(owed), /*address_check=*/true);
}

void Joiner::send_join_answer(const RouteMsg& msg, bool rows, bool leaf_set) {
  const Endpoint& joiner = msg.origin.endpoint;
  if (rows && msg.hops == 0) {
    std::vector<NodeHandle> nodes = core_.neighborhood.nodes();
    nodes.push_back(core_.self);
    maintenance_.send_state(joiner, StateKind::kNeighborhood, 0, true, nodes);
  }
  const int shared = core_.self.id.shared_prefix_length(msg.origin.id);
  for (int r = 0; rows && r <= shared && r < core_.routing_table.rows_allocated(); ++r) {
    auto row = core_.routing_table.row(r);
    if (!row.empty())
      maintenance_.send_state(joiner, StateKind::kRoutingRow, static_cast<uint8_t>(r), true, row);
  }
  // Our leaf set without ourselves: the joiner knows the sender. With the largest leaf set
  // (kMaxLeafSetSize) it fits one datagram, so the joiner never sees "last" before the rest.
  if (leaf_set)
    maintenance_.send_state(joiner, StateKind::kLeafSet, 0, true, core_.leaf_set.members());
}

}  // namespace forestcast::overlay
