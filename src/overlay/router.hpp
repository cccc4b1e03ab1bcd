#pragma once
// Routing with per-hop acknowledgement (DESIGN.md §3): the next-hop decision (leaf set, prefix
// routing, rare case), the application's forward()/deliver() upcalls, and the hops sent but not
// yet acknowledged, each retried or routed around when its RouteAck does not come.
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "overlay/id_map.hpp"
#include "overlay/node_core.hpp"
#include "overlay/recent_ids.hpp"

namespace forestcast::overlay {

class Joiner;
class PeerTracker;

class Router {
 public:
  Router(NodeCore& core, PeerTracker& peers, Joiner& joiner)
      : core_(core),
        peers_(peers),
        joiner_(joiner),
        recent_messages_(core.config.recent_message_memory) {}

  // The next hop for `key` avoiding `exclude`; nullopt: this node is the key's root.
  std::optional<NodeHandle> choose_next_hop(const NodeId& key,
                                            const std::vector<NodeId>& exclude) const;
  // choose_next_hop() for `msg`: a join is never routed to its joiner.
  std::optional<NodeHandle> next_hop_for(const RouteMsg& msg, std::vector<NodeId> tried) const;
  // A routed message that arrived from `previous` (already acknowledged); a copy of one handled
  // before (its RouteAck was lost) is dropped here.
  void on_route_msg(Time now, const RouteMsg& msg, const NodeHandle& previous);
  // A routed message at this hop (previous = self at the origin): forward() and the next hop.
  void handle_route(Time now, RouteMsg msg, const NodeHandle& previous);
  void on_route_ack(const NodeHandle& from, const RouteAck& ack);
  void on_ack_timeout(Time now, const AckTimeout& timer);
  size_t pending_hops() const { return pending_hops_.size(); }

 private:
  // A routed message sent to a next hop and not yet acknowledged.
  struct PendingHop {
    RouteMsg msg;
    NodeHandle next;
    NodeHandle previous;        // who handed it to us (self at the origin)
    std::vector<NodeId> tried;  // next hops given up on
    int attempt = 0;            // transmissions to `next` so far, minus one
  };

  std::optional<NodeHandle> root_in_leaf_set(const NodeId& key,
                                             const std::vector<NodeId>& exclude) const;
  std::optional<NodeHandle> from_routing_table(const NodeId& key, int shared,
                                               const std::vector<NodeId>& exclude) const;
  std::optional<NodeHandle> rare_case(const NodeId& key, int shared,
                                      const std::vector<NodeId>& exclude) const;
  // forward() of the message's application; false if it consumed the message. `hops` is the
  // count at this node (before the next hop).
  bool ask_application(Time now, RouteMsg& msg, const NodeHandle& previous,
                       std::optional<NodeHandle>& next, bool reroute);
  void forward_or_deliver(Time now, RouteMsg msg, const NodeHandle& previous,
                          const std::optional<NodeHandle>& next, std::vector<NodeId> tried);
  void deliver_here(Time now, const RouteMsg& msg, const NodeHandle& previous);
  void send_hop(Time now, RouteMsg msg, const NodeHandle& previous, const NodeHandle& next,
                std::vector<NodeId> tried, int attempt);
  bool hop_exhausted(const PendingHop& hop) const;
  // Room for one more unacknowledged hop handed to us by `previous` (max_pending_hops, and
  // max_pending_hops_per_peer for messages from other nodes).
  bool room_for_hop(const NodeHandle& previous) const;
  void hold(uint64_t hop_id, PendingHop hop);
  PendingHop release(std::unordered_map<uint64_t, PendingHop>::iterator it);
  void route_around(Time now, PendingHop hop);

  NodeCore& core_;
  PeerTracker& peers_;
  Joiner& joiner_;
  std::unordered_map<uint64_t, PendingHop> pending_hops_;
  IdMap<uint32_t> held_from_;  // pending hops per previous hop (other nodes only)
  RecentIds recent_messages_;
};

}  // namespace forestcast::overlay
