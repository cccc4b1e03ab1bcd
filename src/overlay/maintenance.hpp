#pragma once
// Keeping the routing state right while nodes come and go (DESIGN.md §3 "Reliability"):
// heartbeats to the adjacent leaves, the periodic leaf-set exchange and its comparison with
// each neighbour's view, routing-table maintenance and proximity rounds, repair of the leaf
// set and of routing-table holes, and the state transfers all of them ride on.
#include <cstdint>
#include <vector>

#include "overlay/node_core.hpp"

namespace forestcast::overlay {

class Joiner;
class PeerTracker;

class Maintenance {
 public:
  Maintenance(NodeCore& core, PeerTracker& peers, Joiner& joiner)
      : core_(core), peers_(peers), joiner_(joiner) {}

  // The node became active: arm the periodic timers, with random phases.
  void start(Time now);
  void start_proximity_rounds(Time now);
  void on_heartbeat(Time now);
  void on_leafset_exchange(Time now);
  void on_routing_maintenance(Time now);
  void on_proximity_round(Time now, const ProximityRoundTimer& timer);

  // A leaf was removed: ask for replacements and tell the other leaves.
  void repair_leaf_set();
  // A routing-table entry of `row` was removed: ask for candidates.
  void repair_row(int row, const NodeId& lost);

  // Sends `nodes` in datagram-sized chunks, with our RTT to each as a hint.
  void send_state(const Endpoint& to, StateKind kind, uint8_t row, bool for_join,
                  const std::vector<NodeHandle>& nodes);
  void on_state_transfer(Time now, const NodeHandle& from, const StateTransfer& st);
  void on_state_request(const NodeHandle& from, const StateRequest& req);
  void on_announce(const NodeHandle& from);

 private:
  void send_leaf_set_to_leaves();
  void request_leafset_repair();
  void exchange_with_nearest(int count);
  void mark_asked(const NodeId& id);
  void compare_with_neighbor_view(Time now, const NodeHandle& neighbor,
                                  const std::vector<NodeHandle>& its_leaves);
  uint32_t rtt_hint_us(const NodeId& id) const;

  NodeCore& core_;
  PeerTracker& peers_;
  Joiner& joiner_;
  std::vector<NodeId> proximity_asked_;  // recently asked by exchange_with_nearest()
};

}  // namespace forestcast::overlay
