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
#include "overlay/id_map.hpp"
#include "overlay/leaf_set.hpp"
#include "overlay/messages.hpp"
#include "overlay/neighborhood_set.hpp"
#include "overlay/overlay.hpp"
#include "overlay/routing_table.hpp"

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
  Application* app(uint16_t app_id) const;
  const NodeHandle& self() const override { return self_; }
  bool active() const override { return state_ == JoinState::kActive; }
  void route(Time now, const NodeId& key, AppMessagePtr msg) override;
  void send_direct(Time now, const NodeHandle& to, AppMessagePtr msg) override;
  TimerId schedule_app_timer(uint16_t app_id, Time at, uint64_t token) override;
  void cancel_app_timer(uint16_t app_id, TimerId id) override;
  std::vector<NodeHandle> replica_set(const NodeId& key, size_t k) const override;
  // The routing decision alone: nullopt = deliver here.
  std::optional<NodeHandle> next_hop(const NodeId& key) const override;
  void check_alive(Time now, const NodeHandle& node) override;
  uint64_t random() override { return rng_.next(); }

  // --- observation -------------------------------------------------------------------------
  JoinState join_state() const { return state_; }
  const LeafSet& leaf_set() const { return leaf_set_; }
  const RoutingTable& routing_table() const { return routing_table_; }
  const NeighborhoodSet& neighborhood_set() const { return neighborhood_; }
  const PastryCounters& counters() const { return counters_; }
  const PastryConfig& config() const { return config_; }

 private:
  enum class TimerKind : uint8_t {
    kHeartbeat,
    kLeafsetExchange,
    kRoutingMaintenance,
    kAckTimeout,
    kProbeTimeout,
    kJoinTimeout,
    kProximityRound,
    kApp,
  };
  struct TimerEvent {
    TimerEvent() = default;
    TimerEvent(TimerKind k, uint16_t a = 0, uint64_t g = 0, NodeId n = NodeId{})
        : kind(k), app(a), arg(g), node(n) {}
    TimerKind kind = TimerKind::kHeartbeat;
    uint16_t app = 0;
    uint64_t arg = 0;
    NodeId node;  // the probed node, for kProbeTimeout
  };
  // What we know about a node we keep in our state or are probing.
  struct Peer {
    Endpoint endpoint;
    Duration rtt = kUnknownRtt;
    Time last_heard{0};
    bool suspected = false;  // excluded from routing until it answers
  };
  struct PendingProbe {
    NodeHandle node;
    Time sent{0};
    int attempt = 0;
    uint64_t nonce = 0;
  };
  // A routed message sent to a next hop and not yet acknowledged.
  struct PendingHop {
    RouteMsg msg;
    NodeHandle next;
    NodeHandle previous;        // who handed it to us (self at the origin)
    std::vector<NodeId> tried;  // next hops given up on
    int attempt = 0;            // transmissions to `next` so far, minus one
  };

  // routing
  void handle_route(Time now, RouteMsg msg, const NodeHandle& previous);
  void deliver_here(Time now, const RouteMsg& msg, const NodeHandle& previous);
  void send_hop(Time now, RouteMsg msg, const NodeHandle& previous, const NodeHandle& next,
                std::vector<NodeId> tried, int attempt);
  void on_ack_timeout(Time now, uint64_t hop_id);
  std::optional<NodeHandle> choose_next_hop(const NodeId& key,
                                            const std::vector<NodeId>& exclude) const;
  bool usable(const NodeId& id, const std::vector<NodeId>& exclude) const;

  // join
  void start_join_attempt(Time now);
  void on_join_timeout(Time now, uint64_t attempt);
  void answer_join(const RouteMsg& msg, bool rows, bool leaf_set);
  void maybe_finish_join(Time now);
  void become_active(Time now);

  // knowledge of other nodes
  void on_state_transfer(Time now, const NodeHandle& from, const StateTransfer& st);
  void send_state(const Endpoint& to, StateKind kind, uint8_t row, bool for_join,
                  const std::vector<NodeHandle>& nodes);
  void learn_candidate(Time now, const NodeHandle& node, Duration rtt_lower_bound = Duration{0});
  std::optional<Duration> rejected_rtt(const NodeId& id) const;
  void remember_rejected(const NodeId& id, Duration rtt);
  bool would_improve(const NodeId& id, Duration rtt) const;
  void compare_with_neighbor_view(Time now, const NodeHandle& neighbor,
                                  const std::vector<NodeHandle>& its_leaves);
  void note_alive(Time now, const NodeHandle& node, Duration rtt);
  void adopt(Time now, const NodeHandle& node);
  void note_heard(Time now, const NodeHandle& from, bool sender_joining);
  void probe(Time now, const NodeHandle& node);
  void send_probe(Time now, PendingProbe pp);
  void on_probe_timeout(Time now, const NodeId& id, uint64_t nonce);
  void probe_settled(Time now, const NodeId& id);
  void on_pong(Time now, const NodeHandle& from, const Pong& pong);
  void suspect(Time now, const NodeHandle& node);
  void declare_dead(Time now, const NodeHandle& node);
  void remove_node(Time now, const NodeId& id);
  void forget_if_unused(const NodeId& id);
  bool recently_dead(Time now, const NodeId& id);
  Duration rto_for(const NodeId& id) const;

  // maintenance
  void on_heartbeat(Time now);
  void on_leafset_exchange(Time now);
  void send_leaf_set_to_leaves();
  void on_routing_maintenance(Time now);
  void request_leafset_repair();
  void exchange_with_nearest(int count);
  void on_proximity_round(Time now, Duration interval);
  void request_row_repair(int row, const NodeId& lost);

  void send(const Endpoint& to, const Message& msg);
  TimerId schedule(Time at, TimerEvent ev) { return timers_.schedule(at, ev); }
  void notify_leafset(Time now, const NodeHandle& node, bool joined);
  void notify_dead(Time now, const NodeHandle& node);

  NodeHandle self_;
  PastryConfig config_;
  Environment& env_;
  Rng rng_;
  JoinState state_ = JoinState::kIdle;
  LeafSet leaf_set_;
  RoutingTable routing_table_;
  NeighborhoodSet neighborhood_;
  PastryCounters counters_;
  TimerQueue<TimerEvent> timers_;
  std::vector<std::pair<uint16_t, Application*>> apps_;
  std::unordered_map<TimerId, uint16_t> app_timers_;  // live application timers and their owner

  IdMap<Peer> peers_;
  IdMap<PendingProbe> probes_;  // outstanding probe per node
  std::unordered_map<uint64_t, PendingHop> pending_hops_;
  IdMap<Time> dead_until_;
  uint64_t next_nonce_ = 1;
  uint64_t next_hop_id_ = 1;

  // join progress
  std::vector<Endpoint> bootstraps_;
  int join_attempt_ = 0;
  bool join_leafset_complete_ = false;
  std::vector<NodeId> join_leaf_waiting_;  // root's leaf set members still being probed
  std::vector<NodeId> proximity_asked_;    // recently asked by exchange_with_nearest()
  // Nodes measured and found of no use (id hash, RTT in µs), so that hearing of them again from
  // other nodes' rows does not cost another probe. Small and direct-mapped: cheap at 100k nodes.
  std::vector<std::pair<uint64_t, int32_t>> rejected_;
};

}  // namespace forestcast::overlay
