#pragma once
// One Pastry node: routing state, join, routing with per-hop acknowledgement and retry,
// failure detection and repair (DESIGN.md §3). Sans-IO: the driver feeds messages and timer
// expiries with the current time; the node answers through its Environment.
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/random.hpp"
#include "base/time.hpp"
#include "base/timer_queue.hpp"
#include "overlay/application.hpp"
#include "overlay/environment.hpp"
#include "overlay/leaf_set.hpp"
#include "overlay/messages.hpp"
#include "overlay/neighborhood_set.hpp"
#include "overlay/routing_table.hpp"

namespace forestcast::overlay {

struct PastryConfig {
  size_t leaf_set_size = 16;     // total; half on each side
  size_t neighborhood_size = 32;
  Duration heartbeat_period = seconds(1);      // leaf set heartbeats
  Duration silence_before_probe = seconds(3);  // leaf silent this long is probed
  int probe_attempts = 3;                      // unanswered probes before a node is dead
  Duration default_rtt = ms(500);              // RTT assumed for a node never measured
  Duration min_rto = ms(50);
  Duration max_rto = seconds(2);
  int max_route_attempts = 6;                  // transmissions of one hop before dropping
  Duration leafset_exchange_period = seconds(10);
  Duration routing_maintenance_period = seconds(20);
  Duration join_timeout = seconds(3);          // per attempt, waiting for the root's leaf set
  int join_attempts = 4;
  Duration dead_memory = seconds(30);          // don't re-probe a node found dead for this long
};

struct PastryCounters {
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t routed_forwarded = 0;
  uint64_t routed_delivered = 0;
  uint64_t route_retries = 0;
  uint64_t route_dropped = 0;
  uint64_t probes_sent = 0;
  uint64_t nodes_declared_dead = 0;
  uint64_t leaf_set_repairs = 0;
  uint64_t routing_table_repairs = 0;
};

enum class JoinState { kIdle, kJoining, kActive, kFailed, kLeft };

class PastryNode {
 public:
  PastryNode(NodeHandle self, PastryConfig config, Environment& env, uint64_t seed);
  ~PastryNode();
  PastryNode(const PastryNode&) = delete;
  PastryNode& operator=(const PastryNode&) = delete;

  // --- lifecycle ---------------------------------------------------------------------------
  // Become the first node of a new ring.
  void start_ring(Time now);
  // Join through any of `bootstraps` (tried in turn). join_state() tells the outcome.
  void join(Time now, std::vector<Endpoint> bootstraps);
  // Graceful leave: tell the leaf set, then go quiet.
  void leave(Time now);

  // --- driver entry points -----------------------------------------------------------------
  void on_message(Time now, const NodeHandle& from, const Message& msg);
  void on_timer(Time now);                 // run every timer due at `now`
  Time next_deadline();                    // when on_timer must next be called (kNever: never)

  // --- upward interface --------------------------------------------------------------------
  void register_app(uint16_t app_id, Application* app);
  Application* app(uint16_t app_id) const;
  void route(Time now, const NodeId& key, AppMessagePtr msg);
  void send_direct(Time now, const NodeHandle& to, AppMessagePtr msg);
  TimerId schedule_app_timer(uint16_t app_id, Time at, uint64_t token);
  void cancel_app_timer(TimerId id);

  // --- observation -------------------------------------------------------------------------
  const NodeHandle& self() const { return self_; }
  JoinState join_state() const { return state_; }
  bool active() const { return state_ == JoinState::kActive; }
  const LeafSet& leaf_set() const { return leaf_set_; }
  const RoutingTable& routing_table() const { return routing_table_; }
  const NeighborhoodSet& neighborhood_set() const { return neighborhood_; }
  const PastryCounters& counters() const { return counters_; }
  const PastryConfig& config() const { return config_; }

  // The routing decision alone (exposed for tests): nullopt = deliver here.
  std::optional<NodeHandle> next_hop(const NodeId& key) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  NodeHandle self_;
  PastryConfig config_;
  JoinState state_ = JoinState::kIdle;
  LeafSet leaf_set_;
  RoutingTable routing_table_;
  NeighborhoodSet neighborhood_;
  PastryCounters counters_;
};

}  // namespace forestcast::overlay
