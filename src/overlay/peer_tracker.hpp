#pragma once
// Liveness and probing: what this node knows about every other node it keeps in its state or is
// probing (endpoint, measured RTT, when last heard), the probes in flight, the memory of nodes
// found dead, and a cache of nodes measured and found of no use. It decides when a node is alive
// (and offers it to the leaf set, routing table and neighbourhood set) and when it is dead
// (and removes it everywhere).
//
// It is also where a node proves that it holds the address it claims (docs/security.md): a node
// enters our state only after it answered a probe (a random nonce, at that address), and a reply
// that would send our state to an address that has not proven itself is held on the probe
// (OwedReply) and released by its Pong. Nothing but a Ping ever goes to an unproven address, so
// a spoofed datagram cannot turn us into an amplifier.
//
// With key proofs on (the environment provides KeyProofs, key_proofs.hpp), "proven" means more:
// the node signed our fresh challenge with the key of its id, at that address, less than
// proof_lifetime ago. A probe to a node not proven for long enough carries a challenge, and its
// Pong counts only with a good proof; the same probe proves address and key in one round trip.
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "overlay/id_map.hpp"
#include "overlay/node_core.hpp"

namespace forestcast::overlay {

class Joiner;
class Maintenance;

// A reply owed to a node that has not proven its address yet.
struct OwedReply {
  enum class Kind : uint8_t {
    kStateRequest,  // answer `request`
    kAnnounce,      // answer its Announce (our leaf set, if it became a leaf)
    kJoinAnswer,    // send the joiner `join.origin` our rows / leaf set (Joiner::send_join_answer)
    kRouteForward,  // a routed message (or a join straight from its joiner): route it on
    kStateTransfer, // use `state` (it came from a node we do not hold)
    kDirect,        // deliver `direct` (key proofs on: its sender was not proven)
  };
  Kind kind = Kind::kStateRequest;
  StateRequest request;
  StateTransfer state;
  RouteMsg join;  // kJoinAnswer, kRouteForward
  AppMessagePtr direct;
  bool rows = false;
  bool leaf_set = false;
};
// What a probe's answer releases: the replies owed to the node it proved.
struct Released {
  NodeHandle node;
  std::vector<OwedReply> owed;
};

class PeerTracker {
 public:
  struct Peer {
    Endpoint endpoint;
    Duration rtt = kUnknownRtt;
    Time last_heard{0};
    bool suspected = false;  // excluded from routing until it answers
    Time proven_until{0};    // key proofs on: its proof at `endpoint` holds until then
  };

  PeerTracker(NodeCore& core, Joiner& joiner, Maintenance& maintenance)
      : core_(core), joiner_(joiner), maintenance_(maintenance) {}

  const Peer* find(const NodeId& id) const { return peers_.find(id); }
  bool probing(const NodeId& id) const { return probes_.contains(id); }
  // Not suspected and not in `exclude`: a candidate next hop.
  bool usable(const NodeId& id, const std::vector<NodeId>& exclude) const;
  // How long to wait for an answer from `id` (from its measured RTT, or the default).
  Duration rto_for(const NodeId& id) const;

  // Any message from `from` arrived: a node we hold at that address is alive; a stranger is
  // probed (and enters our state when it answers), unless `not_a_member_yet`: a joiner's
  // message, or a Pong (which a joiner sends too).
  void note_heard(Time now, const NodeHandle& from, bool not_a_member_yet);
  // A node someone told us about; `rtt_lower_bound` from the triangle inequality, 0 if none.
  void learn_candidate(Time now, const NodeHandle& node, Duration rtt_lower_bound = Duration{0});
  // `attempts` 0: config.probe_attempts.
  void probe(Time now, const NodeHandle& node, int attempts = 0);
  // The replies owed to `from` come back when its Pong releases them (or when it turns out to
  // have been heard from another way).
  Released on_pong(Time now, const NodeHandle& from, const Pong& pong);
  Released on_probe_timeout(Time now, const ProbeTimeout& timer);
  // `node` answered one of our probes at that very address: we hold it, or it is a joiner
  // whose address check passed less than verified_lifetime ago. Key proofs on: it proved the
  // key of its id at that address less than proof_lifetime ago.
  bool proven(Time now, const NodeHandle& node) const;
  // Holds `reply` until `node` answers a probe; `address_check`: a new probe only checks the
  // address (a joiner: not taken into our state). False (counted) if refused for room.
  bool defer(Time now, const NodeHandle& node, OwedReply reply, bool address_check);
  size_t probes_in_flight() const { return probes_.size(); }
  // Excluded from routing and probed: an unacknowledged hop.
  void suspect(Time now, const NodeHandle& node);
  // Overlay::check_alive(): probe it, or report it dead at once if it is known dead.
  void check_alive(Time now, const NodeHandle& node);
  // It said goodbye (Leave), or someone says so in its name: probed once, removed if silent.
  void on_leave(Time now, const NodeHandle& node);
  void expire_dead_memory(Time now);
  // Probes the remembered departed leaves that are due (called every heartbeat).
  void recheck_departed(Time now);

 private:
  struct PendingProbe {
    NodeHandle node;
    Time sent{0};
    int attempt = 0;
    uint64_t nonce = 0;
    uint64_t challenge = 0;  // key proofs on: the Pong must prove the node's key
    int max_attempts = 1;
    bool address_check = false;  // a joiner's address: not taken into our state on answer
    bool recheck = false;        // a departed leaf: silence changes nothing
    bool after_leave = false;    // checking a Leave: if silent, it really left
    std::vector<OwedReply> owed;
  };
  // A leaf found dead, probed again now and then: it may be across a partition.
  struct Departed {
    NodeHandle node;
    Time next_probe{0};
    Duration backoff{0};
    Time forget_at{0};
  };

  void send_probe(Time now, PendingProbe pp);
  // Key proofs on: until when `node` is proven at its endpoint (Time{0}: not at all).
  Time proven_until(const NodeHandle& node) const;
  // Key proofs on, and `node`'s proof is missing or past half its lifetime.
  bool needs_challenge(Time now, const NodeHandle& node) const;
  // A pending probe that does not challenge a node that must now prove its key goes again,
  // with a challenge.
  void ensure_challenge(Time now, const NodeId& id);
  // Checks the proof in `pong` for the challenge of `pp`; remembers the node as proven.
  bool check_proof(Time now, const PendingProbe& pp, const Pong& pong);
  void note_alive(Time now, const NodeHandle& node, Duration rtt);
  void adopt(const NodeHandle& node);
  bool adopt_into_leaf_set(const NodeHandle& node);
  bool adopt_into_routing_table(const NodeHandle& node, Duration rtt);
  bool adopt_into_neighborhood(const NodeHandle& node, Duration rtt);
  void declare_dead(Time now, const NodeHandle& node);
  void remember_departed(Time now, const NodeHandle& node);
  void remove_node(const NodeId& id);
  void forget_if_unused(const NodeId& id);
  bool recently_dead(Time now, const NodeId& id);
  void remember_verified(Time now, const NodeHandle& node);
  uint64_t verified_key(const NodeHandle& node) const;
  std::optional<Duration> rejected_rtt(const NodeId& id) const;
  void remember_rejected(const NodeId& id, Duration rtt);
  bool would_improve(const NodeId& id, Duration rtt) const;

  NodeCore& core_;
  Joiner& joiner_;
  Maintenance& maintenance_;
  IdMap<Peer> peers_;
  IdMap<PendingProbe> probes_;  // outstanding probe per node
  IdMap<Time> dead_until_;
  // Addresses that answered an address check (key, valid until); direct-mapped.
  std::vector<std::pair<uint64_t, Time>> verified_;
  // Key proofs on: nodes that proved their key, at that endpoint, until then (bounded by
  // proven_memory). Exact keys, not hashes: an entry vouches for an identity.
  struct ProvenAt {
    Endpoint endpoint;
    Time until{0};
  };
  IdMap<ProvenAt> proven_;
  std::vector<Departed> departed_;
  // Nodes measured and found of no use (id hash, RTT in µs), so that hearing of them again from
  // other nodes' rows does not cost another probe. Small and direct-mapped: cheap at 100k nodes.
  std::vector<std::pair<uint64_t, int32_t>> rejected_;
};

}  // namespace forestcast::overlay
