#pragma once
// Joining the ring (DESIGN.md §3 "Join"): the join request routed toward our own id, the state
// every hop sends back, waiting until each member of the root's leaf set is found alive or dead,
// then becoming active. Also the other side: answering someone else's join.
#include <cstdint>
#include <vector>

#include "overlay/node_core.hpp"

namespace forestcast::overlay {

class Maintenance;
class PeerTracker;

class Joiner {
 public:
  Joiner(NodeCore& core, PeerTracker& peers, Maintenance& maintenance)
      : core_(core), peers_(peers), maintenance_(maintenance) {}

  // Join through any of `bootstraps`, tried in turn.
  void join(Time now, std::vector<Endpoint> bootstraps);
  void on_join_timeout(Time now, const JoinTimeout& timer);
  // A member of the root's leaf set (join reply) is being probed: wait for its verdict.
  void await_leaf(const NodeId& id);
  // The last piece of the root's leaf set arrived.
  void on_root_leaf_set(Time now);
  // A probe ended (answered or given up): the join may be complete.
  void probe_settled(Time now, const NodeId& id);
  // Start a ring, or finish a join: timers, announcements, upcalls.
  void become_active(Time now);

  // Someone's join request passes through us: send it our rows (every hop), our neighbourhood
  // set (first hop) and our leaf set (the root) -- once the joiner has proven that the address
  // in the request is its own, so a forged request cannot aim our state at a third party.
  void answer_join(Time now, const RouteMsg& msg, bool rows, bool leaf_set);
  // The answer itself, for a joiner whose address is proven.
  void send_join_answer(const RouteMsg& msg, bool rows, bool leaf_set);

 private:
  void start_attempt(Time now);
  void maybe_finish(Time now);
  void announce_to_known_nodes();

  NodeCore& core_;
  PeerTracker& peers_;
  Maintenance& maintenance_;
  std::vector<Endpoint> bootstraps_;
  int attempt_ = 0;
  bool leafset_complete_ = false;
  std::vector<NodeId> leaf_waiting_;  // root's leaf set members still being probed
};

}  // namespace forestcast::overlay
