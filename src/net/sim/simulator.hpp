#pragma once
// The discrete-event simulator: many PastryNodes (and whatever applications ride on them) in one
// process, on a virtual clock, over a latency/loss model, judged by an oracle (DESIGN.md §8).
//
// Driving contract with each node (environment.hpp): after EVERY call into a node the simulator
// re-reads next_deadline() and keeps exactly one armed timer event per node; a timer event whose
// time no longer matches the armed time is stale and skipped. Scenarios call into nodes only
// through with_node() (or the helpers built on it) so this contract cannot be forgotten.
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "base/random.hpp"
#include "base/time.hpp"
#include "net/sim/engine.hpp"
#include "net/sim/event_queue.hpp"
#include "net/sim/oracle.hpp"
#include "net/sim/topology.hpp"
#include "net/sim/traffic.hpp"
#include "overlay/application.hpp"
#include "overlay/environment.hpp"
#include "overlay/pastry_node.hpp"

namespace forestcast::sim {

using overlay::Endpoint;
using overlay::NodeHandle;
using overlay::PastryNode;

struct SimConfig {
  TopologyKind topology = TopologyKind::kSphere;
  double loss = 0.0;  // probability that any one datagram is dropped
  uint64_t seed = 1;  // positions and loss draws derive from it
  overlay::PastryConfig pastry;
  // Encode every message with the wire codec and drop (counting it in messages_oversize, with
  // an error log) any that exceeds overlay::kMaxDatagramBytes, as the UDP runtime does: a
  // message UDP would drop then fails in the simulator too. Byte counters use the exact
  // encoded size. One encode per send: on in tests, off in large runs.
  bool check_wire_size = false;
  // Key-proven ids (docs/security.md §3): when set, node i's environment provides the
  // KeyProofs this returns for its handle (ModelledProofs, or real Ed25519); unset: proofs off.
  std::function<std::unique_ptr<overlay::KeyProofs>(const NodeHandle&)> key_proofs = nullptr;
  SimEngine engine = SimEngine::kSerial;
  unsigned threads = 1;     // kWindowed: threads running the partitions (the caller's included)
  unsigned partitions = 2;  // kWindowed
};

struct SimCounters {
  uint64_t events = 0;  // events executed (stale timers and dead targets excluded)
  uint64_t messages_sent = 0;
  uint64_t messages_delivered = 0;
  uint64_t messages_lost = 0;     // dropped by the loss model
  uint64_t messages_to_dead = 0;  // addressed to a dead or unknown node
  uint64_t timers_fired = 0;
  uint64_t actions_run = 0;
  uint64_t messages_oversize = 0;  // encoded over kMaxDatagramBytes; dropped (check_wire_size)

  SimCounters& operator+=(const SimCounters& o);
};

// Where the windowed engine's time went, in thread CPU seconds (not wall: the box is shared).
// The critical path is what two idle cores would need: the serial part plus, per window, the
// busiest partition.
struct WindowStats {
  uint64_t windows = 0;
  double partition_cpu_s = 0;      // every partition's window work, summed
  double busiest_cpu_s = 0;        // per window, the busiest partition's work, summed
  std::vector<double> thread_cpu_s;  // window work per thread (thread 0: the caller's)
};

class Simulator {
 public:
  explicit Simulator(SimConfig config);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  Time now() const { return now_; }
  const SimConfig& config() const { return config_; }
  const Topology& topology() const { return topology_; }
  const Oracle& oracle() const { return oracle_; }
  const SimCounters& counters() const { return counters_; }
  // Order-sensitive hash of every executed event (time, kind, target): equal hashes mean the
  // two runs executed the same events in the same order.
  // The windowed engine keeps one hash per node (its events in order) and one for the scripted
  // actions, combined here in node order: equal hashes mean every node saw the same events in
  // the same order.
  uint64_t trace_hash() const;
  size_t pending_events() const;
  bool windowed() const { return windowed_; }
  const WindowStats& window_stats() const { return window_stats_; }

  // --- nodes -------------------------------------------------------------------------------
  // Node i listens at 10.0.0.0 + i + 1, port 4000, so endpoints map back to indices directly.
  static Endpoint endpoint_of(uint32_t index);
  static std::optional<uint32_t> index_of(const Endpoint& endpoint);

  // Creates an idle node (neither started nor joined) at a random position.
  uint32_t add_node(const overlay::NodeId& id, uint64_t node_seed);
  uint32_t add_node(const overlay::NodeId& id, uint64_t node_seed, Position position);
  size_t node_count() const { return nodes_.size(); }
  bool alive(uint32_t i) const { return alive_[i] != 0; }
  PastryNode& node(uint32_t i) { return *nodes_[i].pastry; }
  const PastryNode& node(uint32_t i) const { return *nodes_[i].pastry; }
  const NodeHandle& handle(uint32_t i) const { return nodes_[i].handle; }
  // Live nodes whose Pastry state is kActive, in no particular (but deterministic) order.
  const std::vector<uint32_t>& active_nodes() const { return active_; }
  size_t alive_count() const { return alive_count_; }
  // Messages and bytes node i sent and received, per application (traffic.hpp). Bytes are the
  // datagram's encoded size: estimated_wire_size(), or the codec's when check_wire_size.
  const NodeTraffic& traffic(uint32_t i) const { return nodes_[i].traffic; }

  // Gives node i an application to keep alive as long as the simulator, registered under app_id.
  template <typename A>
  A& attach_app(uint32_t i, uint16_t app_id, std::unique_ptr<A> app) {
    A& ref = *app;
    nodes_[i].pastry->register_app(app_id, app.get());
    nodes_[i].apps.push_back(std::move(app));
    return ref;
  }

  // Runs f(PastryNode&) on node i now, then honours the driving contract. Ignored for dead nodes.
  template <typename F>
  void with_node(uint32_t i, F&& f) {
    if (!nodes_[i].alive) return;
    f(*nodes_[i].pastry);
    after_call(i);
  }
  void start_ring(uint32_t i);
  void join(uint32_t i, std::vector<Endpoint> bootstraps);
  void route(uint32_t i, const overlay::NodeId& key, overlay::AppMessagePtr msg);
  // Silent death: no goodbye, pending timers and queued deliveries to it vanish.
  void kill(uint32_t i);

  // Fault injection (STYLE.md §12): a datagram for which `filter` returns true is dropped and
  // counted as lost. Empty: none dropped beyond the loss model.
  using DropFilter = std::function<bool(uint32_t from, uint32_t to, const overlay::Message& msg)>;
  // Not with the windowed engine (the hooks would run on its threads).
  void set_drop_filter(DropFilter filter);
  // Adversaries (scenarios/malicious_node.hpp): what node `from` sends to `to` instead of `msg`
  // (its core stays honest, its datagrams lie), or nullopt to send `msg` as is.
  using Tamper = std::function<std::optional<overlay::Message>(uint32_t from, uint32_t to,
                                                               const overlay::Message& msg)>;
  void set_tamper(Tamper tamper);

  // --- scripting and running -----------------------------------------------------------------
  // Runs `action` at time t (clamped to now); same-time actions run in scheduling order. The
  // windowed engine runs actions between windows, before the node events of the same instant;
  // they may call into any node. Not from inside a node's callback.
  void schedule(Time t, std::function<void()> action);
  // Executes every event due at or before t, then sets the clock to t.
  void run_until(Time t);
  // Executes the next event, if any. False when the queue is empty.
  bool step();

 private:
  // Creates node i, whose position topology_ just added.
  uint32_t place_node(uint32_t i, const overlay::NodeId& id, uint64_t node_seed);
  class NodeEnvironment final : public overlay::Environment {
   public:
    NodeEnvironment(Simulator& sim, uint32_t index) : sim_(sim), index_(index) {}
    void send(const Endpoint& to, const overlay::Message& msg) override {
      sim_.send_from(index_, to, msg);
    }
    overlay::KeyProofs* key_proofs() override { return proofs.get(); }
    std::unique_ptr<overlay::KeyProofs> proofs;

   private:
    Simulator& sim_;
    uint32_t index_;
  };

  struct SimNode {
    SimNode(Simulator& sim, uint32_t index) : env(sim, index) {}
    NodeEnvironment env;
    NodeHandle handle;
    std::unique_ptr<PastryNode> pastry;
    std::vector<std::unique_ptr<overlay::Application>> apps;
    Time armed = kNever;  // time of this node's one live timer event
    uint64_t sent = 0;    // windowed: datagrams sent, the low bits of their ordering key
    uint64_t trace = 0;   // windowed: hash of this node's executed events, in order
    bool alive = true;
    bool active = false;      // last observed PastryNode::active()
    uint32_t active_pos = 0;  // index in active_ while active
    NodeTraffic traffic;
  };

  struct InFlight {
    uint32_t from = 0;
    uint32_t bytes = 0;  // encoded size, counted again on delivery
    overlay::Message msg;
  };
  // A stream's packets travel as DirectMsgs: they wait in their own slab holding just the
  // shared application message (one reference-count increment, no copy of the whole Message
  // variant, which is several times larger), and are delivered by a kDirect event.
  struct DirectInFlight {
    uint32_t from = 0;
    uint32_t bytes = 0;
    overlay::AppMessagePtr app;
  };

  void send_from(uint32_t from, const Endpoint& to, const overlay::Message& msg);
  void transmit(uint32_t from, const Endpoint& to, const overlay::Message& msg);
  // Encoded size of msg from node `from`, or nullopt (counted and logged) when over the limit.
  std::optional<size_t> wire_size(uint32_t from, const overlay::Message& msg,
                                  SimCounters& counters);
  // False when node `to` died while the datagram was in flight.
  bool deliver(uint32_t to, uint32_t from, uint32_t bytes, const overlay::Message& msg);
  void after_call(uint32_t i);
  void set_active(uint32_t i, bool active);
  // The active list and the oracle follow node i's new state.
  void list_active(uint32_t i, bool active);

  // --- the windowed engine (windowed_engine.cpp) ---------------------------------------------
  struct OutMessage {
    Time at;
    uint32_t to;
    uint64_t key;
    InFlight in;
  };
  struct OutDirect {
    Time at;
    uint32_t to;
    uint64_t key;
    DirectInFlight in;
  };
  // One partition's agenda and everything its window work writes besides its own nodes.
  struct Partition {
    Time now{0};
    KeyedEventQueue queue;
    Slab<InFlight> messages;
    Slab<DirectInFlight> directs;
    SimCounters counters;
    // Datagrams for other partitions' nodes, by destination partition, double-buffered by
    // window parity: a window fills one buffer while the destinations drain the other.
    std::array<std::vector<std::vector<OutMessage>>, 2> out_messages;
    std::array<std::vector<std::vector<OutDirect>>, 2> out_directs;
    Time out_min = kNever;  // earliest arrival written to the outboxes in the last window
    std::vector<std::pair<uint32_t, bool>> active_changes;  // applied at the barrier
    double cpu_s = 0;  // the last window's work
  };
  class WindowThreads;
  struct WindowThreadsDeleter {  // WindowThreads is complete in windowed_engine.cpp only
    void operator()(WindowThreads* threads) const;
  };
  void start_windowed();
  uint32_t partition_of(uint32_t i) const { return i % static_cast<uint32_t>(parts_.size()); }
  Time now_in(uint32_t i) const { return in_window_ ? parts_[partition_of(i)]->now : now_; }
  void transmit_windowed(uint32_t from, const Endpoint& to, const overlay::Message& msg);
  void after_call_windowed(uint32_t i);
  void run_until_windowed(Time t);
  void run_action(const Event& e);
  // Runs every partition's events before `end` (threads permitting, in parallel), then merges.
  void run_window(Time end);
  void run_partition(uint32_t p, Time end);
  void execute_windowed(Partition& part, const Event& e);
  bool deliver_windowed(Partition& part, uint32_t to, uint32_t from, uint32_t bytes,
                        const overlay::Message& msg);
  void prefetch_windowed(const Partition& part, const Event& next) const;
  Time next_node_event() const;
  void execute(const Event& e);
  // Starts loading what the event after the one about to run will touch first (its node's
  // simulator record and Pastry state, the datagram's slot): at 10,000 nodes every node is cold
  // and the event loop otherwise waits for each of these lines in turn.
  void prefetch_for(const Event& next) const;

  SimConfig config_;
  Time now_{0};
  Topology topology_;
  Rng loss_rng_;
  Rng position_rng_;
  EventQueue queue_;
  Slab<InFlight> messages_;
  Slab<DirectInFlight> directs_;
  Slab<std::function<void()>> actions_;
  std::deque<SimNode> nodes_;  // deque: NodeEnvironment addresses must stay put
  // nodes_[i].pastry again, flat: prefetch_for() finds a node's Pastry state without first
  // waiting for the node's record.
  std::vector<const PastryNode*> pastry_;
  // SimNode::alive again, packed: every send asks whether its destination lives, and a byte
  // per node stays in cache where a SimNode (hundreds of bytes, one per node) does not.
  std::vector<uint8_t> alive_;
  std::vector<uint32_t> active_;
  size_t alive_count_ = 0;
  Oracle oracle_;
  SimCounters counters_;
  DropFilter drop_filter_;
  Tamper tamper_;
  uint64_t trace_hash_ = 1469598103934665603ULL;

  bool windowed_ = false;
  bool in_window_ = false;  // written only while no window runs
  uint32_t window_parity_ = 0;
  Duration lookahead_{0};
  uint64_t loss_seed_ = 0;
  std::vector<std::unique_ptr<Partition>> parts_;  // apart: each its own cache lines
  std::unique_ptr<WindowThreads, WindowThreadsDeleter> threads_;
  WindowStats window_stats_;
};

}  // namespace forestcast::sim
