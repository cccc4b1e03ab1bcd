#pragma once
// One Pastry node (DESIGN.md §3): the facade the drivers (UDP runtime, simulator, tests) and the
// applications (Overlay) talk to. Sans-IO: the driver feeds messages and timer expiries with the
// current time; the node answers through its Environment. The work is done by one part per
// concern, all sharing a NodeCore:
//   PeerTracker  liveness and probing (peer_tracker.hpp)
//   Router       routing with per-hop acknowledgement (router.hpp)
//   Joiner       joining the ring and answering joins (joiner.hpp)
//   Maintenance  heartbeats, state exchange, proximity and repair (maintenance.hpp)
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "overlay/joiner.hpp"
#include "overlay/maintenance.hpp"
#include "overlay/node_core.hpp"
#include "overlay/overlay.hpp"
#include "overlay/pastry_config.hpp"
#include "overlay/peer_tracker.hpp"
#include "overlay/router.hpp"

namespace forestcast::overlay {

class PastryNode final : public Overlay {
 public:
  PastryNode(NodeHandle self, PastryConfig config, Environment& env, uint64_t seed);
  ~PastryNode() override;
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
  void on_timer(Time now);  // run every timer due at `now`
  Time next_deadline();     // when on_timer must next be called (kNever: never)

  // --- upward interface (overlay.hpp) --------------------------------------------------------
  void register_app(uint16_t app_id, Application* app);
  Application* app(uint16_t app_id) const { return core_.app(app_id); }
  const NodeHandle& self() const override { return core_.self; }
  bool active() const override { return core_.active(); }
  void route(Time now, const NodeId& key, AppMessagePtr msg) override;
  void send_direct(Time now, const NodeHandle& to, AppMessagePtr msg) override;
  TimerId schedule_app_timer(uint16_t app_id, Time at, uint64_t token) override;
  void cancel_app_timer(uint16_t app_id, TimerId id) override;
  std::vector<NodeHandle> replica_set(const NodeId& key, size_t k) const override;
  // The routing decision alone: nullopt = deliver here.
  std::optional<NodeHandle> next_hop(const NodeId& key) const override;
  void check_alive(Time now, const NodeHandle& node) override;
  uint64_t random() override { return core_.rng.next(); }

  // --- observation -------------------------------------------------------------------------
  JoinState join_state() const { return core_.state; }
  const LeafSet& leaf_set() const { return core_.leaf_set; }
  const RoutingTable& routing_table() const { return core_.routing_table; }
  const NeighborhoodSet& neighborhood_set() const { return core_.neighborhood; }
  const PastryCounters& counters() const { return core_.counters; }
  const PastryConfig& config() const { return core_.config; }
  // What the node holds for others right now (bounded by PastryConfig's max_*).
  size_t probes_in_flight() const { return peers_.probes_in_flight(); }
  size_t pending_hops() const { return router_.pending_hops(); }

 private:
  // What on_message() does with each kind of message.
  void handle(Time now, const NodeHandle& from, const Ping& m);
  void handle(Time now, const NodeHandle& from, const Pong& m);
  void handle(Time now, const NodeHandle& from, const RouteMsg& m);
  void handle(Time now, const NodeHandle& from, const RouteAck& m);
  void handle(Time now, const NodeHandle& from, const StateTransfer& m);
  void handle(Time now, const NodeHandle& from, const StateRequest& m);
  void handle(Time now, const NodeHandle& from, const Announce& m);
  void handle(Time now, const NodeHandle& from, const Leave& m);
  void handle(Time now, const NodeHandle& from, const LeafHeartbeat& m);
  void handle(Time now, const NodeHandle& from, const DirectMsg& m);
  // What on_timer() does with each kind of timer.
  void fire(Time now, TimerId id, const PastryTimer& timer);
  // `node` proved its address: send what it was owed.
  void settle(Time now, Released released);
  bool hold_until_proven(Time now, const NodeHandle& from, const Message& msg);
  // The signing rate limit (PastryConfig::proofs_per_second).
  bool take_proof_token(Time now);

  NodeCore core_;
  PeerTracker peers_;
  Router router_;
  Joiner joiner_;
  Maintenance maintenance_;
  uint64_t proof_tokens_ = 0;
  Time proof_refill_{0};
};

}  // namespace forestcast::overlay
