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
};

enum class JoinState { kIdle, kJoining, kActive, kFailed, kLeft };

}  // namespace forestcast::overlay
