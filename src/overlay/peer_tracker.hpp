#pragma once
// Liveness and probing: what this node knows about every other node it keeps in its state or is
// probing (endpoint, measured RTT, when last heard), the probes in flight, the memory of nodes
// found dead, and a cache of nodes measured and found of no use. It decides when a node is alive
// (and offers it to the leaf set, routing table and neighbourhood set) and when it is dead
// (and removes it everywhere).
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "overlay/id_map.hpp"
#include "overlay/node_core.hpp"

namespace forestcast::overlay {

class Joiner;
class Maintenance;

class PeerTracker {
 public:
  struct Peer {
    Endpoint endpoint;
    Duration rtt = kUnknownRtt;
    Time last_heard{0};
    bool suspected = false;  // excluded from routing until it answers
  };

  PeerTracker(NodeCore& core, Joiner& joiner, Maintenance& maintenance)
      : core_(core), joiner_(joiner), maintenance_(maintenance) {}

  const Peer* find(const NodeId& id) const { return peers_.find(id); }
  bool probing(const NodeId& id) const { return probes_.contains(id); }
  // Not suspected and not in `exclude`: a candidate next hop.
  bool usable(const NodeId& id, const std::vector<NodeId>& exclude) const;
  // How long to wait for an answer from `id` (from its measured RTT, or the default).
  Duration rto_for(const NodeId& id) const;

  // Any message from `from` arrived: it is alive.
  void note_heard(Time now, const NodeHandle& from, bool sender_joining);
  // A node someone told us about; `rtt_lower_bound` from the triangle inequality, 0 if none.
  void learn_candidate(Time now, const NodeHandle& node, Duration rtt_lower_bound = Duration{0});
  void probe(Time now, const NodeHandle& node);
  void on_pong(Time now, const NodeHandle& from, const Pong& pong);
  void on_probe_timeout(Time now, const ProbeTimeout& timer);
  // Excluded from routing and probed: an unacknowledged hop.
  void suspect(Time now, const NodeHandle& node);
  // Overlay::check_alive(): probe it, or report it dead at once if it is known dead.
  void check_alive(Time now, const NodeHandle& node);
  // It said goodbye (Leave).
  void on_leave(Time now, const NodeHandle& node);
  void expire_dead_memory(Time now);

 private:
  struct PendingProbe {
    NodeHandle node;
    Time sent{0};
    int attempt = 0;
    uint64_t nonce = 0;
  };

  void send_probe(Time now, PendingProbe pp);
  void note_alive(Time now, const NodeHandle& node, Duration rtt);
  void adopt(const NodeHandle& node);
  bool adopt_into_leaf_set(const NodeHandle& node);
  bool adopt_into_routing_table(const NodeHandle& node, Duration rtt);
  bool adopt_into_neighborhood(const NodeHandle& node, Duration rtt);
  void declare_dead(Time now, const NodeHandle& node);
  void remove_node(const NodeId& id);
  void forget_if_unused(const NodeId& id);
  bool recently_dead(Time now, const NodeId& id);
  std::optional<Duration> rejected_rtt(const NodeId& id) const;
  void remember_rejected(const NodeId& id, Duration rtt);
  bool would_improve(const NodeId& id, Duration rtt) const;

  NodeCore& core_;
  Joiner& joiner_;
  Maintenance& maintenance_;
  IdMap<Peer> peers_;
  IdMap<PendingProbe> probes_;  // outstanding probe per node
  IdMap<Time> dead_until_;
  uint64_t next_nonce_ = 1;
  // Nodes measured and found of no use (id hash, RTT in µs), so that hearing of them again from
  // other nodes' rows does not cost another probe. Small and direct-mapped: cheap at 100k nodes.
  std::vector<std::pair<uint64_t, int32_t>> rejected_;
};

}  // namespace forestcast::overlay
