#pragma once
// The knobs, counters and lifecycle states of one Pastry node, shared by the parts of
// PastryNode (pastry_node.hpp) and by whatever reports on it (status pages, the simulator).
#include <cstddef>
#include <cstdint>

#include "base/time.hpp"

namespace forestcast::overlay {

struct PastryConfig {
  size_t leaf_set_size = 16;  // total; half on each side
  size_t neighborhood_size = 32;
  size_t routing_slot_size = 3;                // nodes kept per routing table slot, nearest first
  Duration heartbeat_period = seconds(1);      // heartbeats to the adjacent leaf on each side
  Duration silence_before_probe = seconds(3);  // leaf silent this long is probed
  int probe_attempts = 3;                      // unanswered probes before a node is dead
  Duration default_rtt = ms(500);              // RTT assumed for a node never measured
  Duration min_rto = ms(50);
  Duration max_rto = seconds(2);
  int max_route_attempts = 6;  // next hops tried for one hop before dropping
  Duration leafset_exchange_period = seconds(10);
  Duration routing_maintenance_period = seconds(20);
  int stale_entry_probes = 2;  // routing entries re-probed per maintenance round
  // Proximity rounds after joining (at 1, 2, 4, ... s until the maintenance period): ask this
  // many of the nearest not-yet-asked nodes for their neighbourhood set and shared rows.
  Duration first_proximity_round = seconds(1);
  int proximity_fanout = 4;
  size_t rejected_memory = 256;        // measured-but-useless nodes remembered
  Duration join_timeout = seconds(3);  // per attempt, waiting for the root's leaf set
  int join_attempts = 4;
  Duration dead_memory = seconds(30);  // don't re-probe a node found dead for this long
  // Routed messages remembered by id to drop a retransmitted copy (RecentIds).
  size_t recent_message_memory = 128;
  // A routed message that has taken this many hops is dropped (and counted): far above the
  // ring's diameter (log16 N, 5 at 10^6 nodes), so only a routing loop reaches it.
  uint16_t max_hops = 64;

  // --- bounds on what other nodes can make us hold (docs/security.md) ---
  // Probes in flight, liveness probes and address checks together; a probe refused for room
  // is counted (probes_refused) and the node is simply not learned this time.
  size_t max_probes = 1024;
  // Replies owed to one node that has not yet proven its address (a StateRequest, an Announce,
  // join answers), released when it answers our probe.
  size_t max_owed_per_peer = 4;
  // Routed messages sent and not yet acknowledged, in all and per node that handed them to us.
  size_t max_pending_hops = 4096;
  size_t max_pending_hops_per_peer = 256;
  // Joiners' addresses that answered our probe, remembered this long (direct-mapped, this many).
  size_t verified_memory = 64;
  Duration verified_lifetime = seconds(60);

  // --- key-proven ids (docs/security.md §3); only when the environment provides KeyProofs ---
  // A proof of a node's key at an address holds this long; a node heard from whose proof is
  // older than half of it is challenged again by a probe, so a live peer never lapses.
  Duration proof_lifetime = seconds(600);
  // Nodes that proved their key at an address, remembered although none of our sets keeps
  // them (a previous hop, a joiner), so that their next message needs no new proof.
  size_t proven_memory = 1024;
  // Signatures we make for others' challenges: a flood of challenged Pings costs a counter each
  // beyond this (an Ed25519 signature takes ~25 µs).
  uint64_t proofs_per_second = 1000;
  uint64_t proof_burst = 2000;

  // --- healing a partition (docs/pastry.md "Partitions") ---
  // Leaves found dead are remembered and probed again, one Ping each time, at growing
  // intervals (first_departed_probe, doubling up to max_departed_backoff) for
  // departed_lifetime: when a partition heals, the first one that answers is back in the leaf
  // set and leaf-set gossip merges the two rings. This many are remembered (the oldest go).
  size_t departed_memory = 32;
  Duration first_departed_probe = seconds(2);
  Duration max_departed_backoff = seconds(20);
  Duration departed_lifetime = seconds(600);
};

struct PastryCounters {
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t routed_forwarded = 0;
  uint64_t routed_delivered = 0;
  uint64_t route_retries = 0;
  uint64_t route_dropped = 0;
  uint64_t route_duplicates = 0;  // retransmitted copies acknowledged but not handled again
  uint64_t route_hop_limit = 0;   // dropped after max_hops hops (a routing loop)
  uint64_t probes_sent = 0;
  uint64_t nodes_declared_dead = 0;
  uint64_t leaf_set_repairs = 0;
  uint64_t routing_table_repairs = 0;
  uint64_t local_direct = 0;  // send_direct() to this node itself, delivered locally
  // What hostile input costs nothing but a counter (docs/security.md):
  uint64_t pongs_unmatched = 0;     // no probe with that nonce to that address
  uint64_t acks_unmatched = 0;      // no hop with that id sent to that node at that address
  uint64_t endpoint_mismatch = 0;   // a known id from another address: not credited
  uint64_t leaves_checked = 0;      // a Leave: probed once before the node is removed
  uint64_t leaves_ignored = 0;      // a Leave from a node we do not hold (at that address)
  uint64_t state_unproven = 0;      // state from a node we do not hold: used after its Pong
  uint64_t replies_deferred = 0;    // replies held until the asker proves its address
  uint64_t replies_refused = 0;     // ... and refused: too many owed to that node already
  uint64_t probes_refused = 0;      // the probe table was full (max_probes)
  uint64_t route_pending_full = 0;  // a hop not sent: max_pending_hops or its per-peer share
  uint64_t departed_probes = 0;     // probes of leaves found dead (partition healing)
  uint64_t departed_returned = 0;   // ... that answered: the node is back
  // Key-proven ids (docs/security.md §3):
  uint64_t proofs_requested = 0;  // probes that challenged the node to prove its key
  uint64_t proofs_made = 0;       // our signatures for others' challenges
  uint64_t proofs_refused = 0;    // challenges not answered: over proofs_per_second
  uint64_t proofs_verified = 0;   // others' proofs checked and good
  uint64_t proofs_rejected = 0;   // ... bad: wrong key for the id, bad signature, or none
  uint64_t unproven_dropped = 0;  // a message from an id not proven at its address: dropped
  uint64_t unproven_held = 0;     // ... held until the sender proves its key
};

enum class JoinState { kIdle, kJoining, kActive, kFailed, kLeft };

}  // namespace forestcast::overlay
