// The application contract of Pastry (overlay/application.hpp) checked through the simulator:
// forward() at the origin, every hop and the root with the right previous hop; consuming and
// redirecting a message; a re-route asking the application again; no duplicate delivery when
// RouteAcks are lost; leafset_changed after the change and only for live nodes; application
// timers; node_dead; became_active.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "net/sim/simulator.hpp"

namespace forestcast::sim {
namespace {

using overlay::ForwardContext;
using overlay::NodeId;
using overlay::RouteInfo;

constexpr uint16_t kAppId = 7;

class ProbeMessage final : public overlay::AppMessage {
 public:
  explicit ProbeMessage(uint64_t seq) : seq_(seq) {}
  uint16_t app_id() const override { return kAppId; }
  uint16_t type() const override { return 1; }
  void encode(std::string& out) const override { out.append(8, '\0'); }
  uint64_t seq() const { return seq_; }

 private:
  uint64_t seq_;
};

uint64_t seq_of(const overlay::AppMessagePtr& m) {
  return static_cast<const ProbeMessage&>(*m).seq();
}

uint32_t index_of(const NodeHandle& h) { return *Simulator::index_of(h.endpoint); }

struct ForwardRecord {
  uint32_t node;
  uint32_t previous;
  int hops;
  std::optional<uint32_t> next;
  bool reroute;
};
struct DeliverRecord {
  uint32_t node;
  uint32_t previous;
  int hops;
};

// What every node's application saw, kept by the test (never in a global).
struct ContractLog {
  explicit ContractLog(Simulator& s) : sim(s) {}
  Simulator& sim;
  std::map<uint64_t, std::vector<ForwardRecord>> forwards;  // by message seq, in time order
  std::map<uint64_t, std::vector<DeliverRecord>> deliveries;
  std::function<void(uint32_t node, ForwardContext& ctx)> policy;  // the test's decisions
  std::vector<std::string> violations;
  std::map<uint32_t, std::vector<uint32_t>> dead_reports;  // reporter -> dead nodes
  std::map<uint32_t, int> activations;
  std::map<uint32_t, std::vector<uint64_t>> timers;
  // receive_direct: (node, sender, seq), and whether it ran inside the sender's own call.
  std::vector<std::tuple<uint32_t, uint32_t, uint64_t>> directs;
  bool inside_send = false;
  bool direct_reentered = false;
  uint64_t leaf_joined = 0, leaf_left = 0;
};

class ContractApp final : public overlay::Application {
 public:
  ContractApp(uint32_t node, ContractLog& log) : node_(node), log_(log) {}

  void forward(Time, ForwardContext& ctx) override {
    if (log_.policy) log_.policy(node_, ctx);
    std::optional<uint32_t> next;
    if (ctx.next_hop) next = index_of(*ctx.next_hop);
    log_.forwards[seq_of(ctx.message)].push_back(
        {node_, index_of(ctx.previous_hop), ctx.hops, next, ctx.reroute});
  }
  void deliver(Time, const RouteInfo& info, const overlay::AppMessagePtr& msg) override {
    log_.deliveries[seq_of(msg)].push_back({node_, index_of(info.previous_hop), info.hops});
  }
  void leafset_changed(Time, const NodeHandle& node, bool joined) override {
    const PastryNode& self = log_.sim.node(node_);
    if (self.leaf_set().contains(node.id) != joined)
      log_.violations.push_back("leaf set does not show the change yet");
    if (joined && !log_.sim.alive(index_of(node)))
      log_.violations.push_back("joined reported for a dead node");
    (joined ? log_.leaf_joined : log_.leaf_left)++;
  }
  void node_dead(Time, const NodeHandle& node) override {
    log_.dead_reports[node_].push_back(index_of(node));
  }
  void became_active(Time) override {
    ++log_.activations[node_];
    if (!log_.sim.node(node_).active()) log_.violations.push_back("became_active while inactive");
  }
  void on_timer(Time, uint64_t token) override { log_.timers[node_].push_back(token); }
  void receive_direct(Time, const NodeHandle& from, const overlay::AppMessagePtr& msg) override {
    if (log_.inside_send) log_.direct_reentered = true;
    log_.directs.emplace_back(node_, index_of(from), seq_of(msg));
  }
  overlay::AppMessagePtr decode(uint16_t, std::string_view) const override { return nullptr; }

 private:
  uint32_t node_;
  ContractLog& log_;
};

NodeId id_for(uint64_t seed, uint32_t i) {
  Rng rng(seed * 7919 + i);
  return NodeId::from_parts(rng.next(), rng.next());
}

// A ring of n nodes with a small leaf set (so routes take several hops), each with a
// ContractApp, built by real joins through node 0 and settled.
struct Ring {
  explicit Ring(uint32_t n, uint64_t seed = 1) : sim(config()), log(sim) {
    for (uint32_t i = 0; i < n; ++i) {
      sim.add_node(id_for(seed, i), seed + i);
      sim.attach_app(i, kAppId, std::make_unique<ContractApp>(i, log));
    }
    sim.start_ring(0);
    for (uint32_t i = 1; i < n; ++i)
      sim.schedule(Time{ms(20) * i}, [this, i] { sim.join(i, {Simulator::endpoint_of(0)}); });
    sim.run_until(seconds(30));
  }
  // Every message of every test fitted a datagram.
  ~Ring() { EXPECT_EQ(sim.counters().messages_oversize, 0u); }
  static SimConfig config() {
    SimConfig c;
    c.pastry.leaf_set_size = 4;
    c.check_wire_size = true;  // a message UDP would drop fails here too
    return c;
  }
  void route(uint32_t from, const NodeId& key, uint64_t seq) {
    sim.route(from, key, std::make_shared<ProbeMessage>(seq));
  }
  Simulator sim;
  ContractLog log;
};

uint32_t root_of(const Simulator& sim, const NodeId& key) {
  return sim.oracle().closest(key)->node;
}

NodeId key_for(uint64_t i) {
  Rng rng(i * 31 + 5);
  return NodeId::from_parts(rng.next(), rng.next());
}

TEST(AppContract, ForwardRunsAtOriginEveryHopAndRootWithThePreviousHop) {
  Ring ring(60);
  ASSERT_EQ(ring.sim.active_nodes().size(), 60u);
  int multi_hop = 0;
  for (uint64_t seq = 0; seq < 100; ++seq) {
    const uint32_t origin = static_cast<uint32_t>(seq % 60);
    ring.route(origin, key_for(seq), seq);
    ring.sim.run_until(ring.sim.now() + ms(100));
  }
  ring.sim.run_until(ring.sim.now() + seconds(5));
  for (uint64_t seq = 0; seq < 100; ++seq) {
    SCOPED_TRACE(seq);
    const auto& f = ring.log.forwards[seq];
    ASSERT_FALSE(f.empty());
    const uint32_t origin = static_cast<uint32_t>(seq % 60);
    EXPECT_EQ(f[0].node, origin);
    EXPECT_EQ(f[0].previous, origin);  // at the origin, the previous hop is the node itself
    for (size_t k = 0; k < f.size(); ++k) {
      EXPECT_EQ(f[k].hops, static_cast<int>(k));
      EXPECT_FALSE(f[k].reroute);
      if (k + 1 < f.size()) {
        ASSERT_TRUE(f[k].next);
        EXPECT_EQ(f[k + 1].node, *f[k].next);
        EXPECT_EQ(f[k + 1].previous, f[k].node);
      }
    }
    EXPECT_FALSE(f.back().next);  // the root's forward() says "deliver here"
    const uint32_t root = root_of(ring.sim, key_for(seq));
    EXPECT_EQ(f.back().node, root);
    const auto& d = ring.log.deliveries[seq];
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].node, root);
    EXPECT_EQ(d[0].previous, f.back().previous);
    EXPECT_EQ(d[0].hops, static_cast<int>(f.size()) - 1);
    if (f.size() >= 3) ++multi_hop;
  }
  EXPECT_GT(multi_hop, 10);  // the test exercises intermediate hops
}

TEST(AppContract, AConsumedMessageGoesNoFurther) {
  Ring ring(60);
  ring.log.policy = [](uint32_t, ForwardContext& ctx) {
    if (ctx.hops == 1) ctx.consumed = true;
  };
  for (uint64_t seq = 0; seq < 60; ++seq) ring.route(static_cast<uint32_t>(seq), key_for(seq), seq);
  ring.sim.run_until(ring.sim.now() + seconds(5));
  int consumed = 0;
  for (uint64_t seq = 0; seq < 60; ++seq) {
    const auto& f = ring.log.forwards[seq];
    if (f.size() < 2) continue;  // the origin was the root
    ++consumed;
    EXPECT_EQ(f.size(), 2u) << seq;
    EXPECT_TRUE(ring.log.deliveries[seq].empty()) << seq;
  }
  EXPECT_GT(consumed, 20);
}

TEST(AppContract, TheApplicationsNextHopIsTheOneUsed) {
  Ring ring(60);
  const uint32_t detour = 42;
  ring.log.policy = [&](uint32_t node, ForwardContext& ctx) {
    if (ctx.hops == 0 && node != detour) ctx.next_hop = ring.sim.handle(detour);
  };
  for (uint64_t seq = 0; seq < 20; ++seq) ring.route(static_cast<uint32_t>(seq), key_for(seq), seq);
  ring.sim.run_until(ring.sim.now() + seconds(5));
  for (uint64_t seq = 0; seq < 20; ++seq) {
    SCOPED_TRACE(seq);
    const auto& f = ring.log.forwards[seq];
    ASSERT_GE(f.size(), 2u);
    EXPECT_EQ(f[1].node, detour);
    EXPECT_EQ(f[1].previous, static_cast<uint32_t>(seq));
    ASSERT_EQ(ring.log.deliveries[seq].size(), 1u);  // and it still reaches the root
    EXPECT_EQ(ring.log.deliveries[seq][0].node, root_of(ring.sim, key_for(seq)));
  }
}

TEST(AppContract, AReRouteAsksTheApplicationAgain) {
  Ring ring(60);
  const uint32_t dead = 42;
  ring.sim.kill(dead);
  // The origin insists on the dead node; after its ack timeout forward() runs again.
  ring.log.policy = [&](uint32_t, ForwardContext& ctx) {
    if (ctx.hops == 0 && !ctx.reroute) ctx.next_hop = ring.sim.handle(dead);
  };
  for (uint64_t seq = 0; seq < 10; ++seq) ring.route(static_cast<uint32_t>(seq), key_for(seq), seq);
  ring.sim.run_until(ring.sim.now() + seconds(10));
  for (uint64_t seq = 0; seq < 10; ++seq) {
    SCOPED_TRACE(seq);
    const auto& f = ring.log.forwards[seq];
    ASSERT_GE(f.size(), 2u);
    EXPECT_EQ(f[0].next, dead);
    EXPECT_EQ(f[1].node, static_cast<uint32_t>(seq));  // again at the origin ...
    EXPECT_TRUE(f[1].reroute);
    EXPECT_EQ(f[1].previous, static_cast<uint32_t>(seq));  // ... with its own previous hop
    EXPECT_EQ(f[1].hops, 0);
    EXPECT_NE(f[1].next, dead);
    const auto& d = ring.log.deliveries[seq];
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].node, root_of(ring.sim, key_for(seq)));
  }
}

TEST(AppContract, LostRouteAcksNeverDeliverTwice) {
  Ring ring(60);
  // Every message goes to one root, which loses every other RouteAck it sends: the previous
  // hop retransmits, or routes around it, while the root already has the message.
  const uint32_t root = 20;
  const NodeId key = ring.sim.handle(root).id;
  uint64_t acks = 0;
  ring.sim.set_drop_filter([&acks](uint32_t from, uint32_t, const overlay::Message& m) {
    return from == root && std::holds_alternative<overlay::RouteAck>(m) && acks++ % 2 == 0;
  });
  for (uint64_t seq = 0; seq < 60; ++seq) ring.route(static_cast<uint32_t>(seq), key, seq);
  ring.sim.run_until(ring.sim.now() + seconds(30));
  EXPECT_GT(ring.sim.node(root).counters().route_duplicates, 0u);  // copies came, were dropped
  for (uint64_t seq = 0; seq < 60; ++seq) {
    const auto& d = ring.log.deliveries[seq];
    ASSERT_EQ(d.size(), 1u) << seq;
    EXPECT_EQ(d[0].node, root) << seq;
  }
}

TEST(AppContract, LeafsetChangedAfterTheChangeAndOnlyForLiveNodes) {
  Ring ring(40);
  for (uint32_t victim : {5u, 17u, 29u}) ring.sim.kill(victim);
  ring.sim.run_until(ring.sim.now() + seconds(40));
  for (const auto& v : ring.log.violations) ADD_FAILURE() << v;
  EXPECT_GT(ring.log.leaf_joined, 40u);
  EXPECT_GT(ring.log.leaf_left, 0u);
}

TEST(AppContract, EveryNodeBecomesActiveOnce) {
  Ring ring(30);
  for (uint32_t i = 0; i < 30; ++i) EXPECT_EQ(ring.log.activations[i], 1) << i;
  EXPECT_TRUE(ring.log.violations.empty()) << ring.log.violations.front();
}

TEST(AppContract, ApplicationTimersFireUnlessCancelled) {
  Ring ring(10);
  const Time t0 = ring.sim.now();
  TimerId cancelled = 0;
  ring.sim.with_node(3, [&](PastryNode& n) {
    n.schedule_app_timer(kAppId, t0 + ms(300), 2);
    n.schedule_app_timer(kAppId, t0 + ms(100), 1);
    cancelled = n.schedule_app_timer(kAppId, t0 + ms(200), 99);
  });
  ring.sim.with_node(3, [&](PastryNode& n) { n.cancel_app_timer(kAppId, cancelled); });
  ring.sim.run_until(t0 + seconds(1));
  EXPECT_EQ(ring.log.timers[3], (std::vector<uint64_t>{1, 2}));
}

// A send_direct() to the node itself reaches its application (from itself, once), after the
// call has returned: both runtimes drop a datagram claiming the receiver's own id, so the
// overlay delivers it locally. (Scribe sends to itself when the publisher is a stripe root.)
TEST(AppContract, SendDirectToSelfIsDeliveredLocallyAfterTheCall) {
  Ring ring(6);
  const Time t0 = ring.sim.now();
  ring.sim.with_node(2, [&](PastryNode& n) {
    ring.log.inside_send = true;
    n.send_direct(t0, n.self(), std::make_shared<ProbeMessage>(42));
    ring.log.inside_send = false;
  });
  ring.sim.run_until(t0 + ms(100));
  ASSERT_EQ(ring.log.directs.size(), 1u);
  EXPECT_EQ(ring.log.directs[0], std::make_tuple(2u, 2u, uint64_t{42}));
  EXPECT_FALSE(ring.log.direct_reentered);
  EXPECT_EQ(ring.sim.node(2).counters().local_direct, 1u);
}

bool reported(const ContractLog& log, uint32_t reporter, uint32_t dead) {
  auto it = log.dead_reports.find(reporter);
  if (it == log.dead_reports.end()) return false;
  return std::find(it->second.begin(), it->second.end(), dead) != it->second.end();
}

TEST(AppContract, NodeDeadForKilledLeftAndCheckedNodesOnly) {
  Ring ring(40);
  // A killed node: its adjacent leaves find out by heartbeat.
  const uint32_t victim = 11;
  std::vector<uint32_t> holders;
  for (uint32_t i : ring.sim.active_nodes())
    if (ring.sim.node(i).leaf_set().contains(ring.sim.handle(victim).id)) holders.push_back(i);
  ring.sim.kill(victim);
  // A node that leaves: its leaves hear it at once.
  const uint32_t leaver = 23;
  std::vector<NodeHandle> leaver_leaves = ring.sim.node(leaver).leaf_set().members();
  ring.sim.with_node(leaver, [&](PastryNode& n) { n.leave(ring.sim.now()); });
  ring.sim.kill(leaver);
  ring.sim.run_until(ring.sim.now() + seconds(1));
  for (const auto& h : leaver_leaves) EXPECT_TRUE(reported(ring.log, index_of(h), leaver));
  ring.sim.run_until(ring.sim.now() + seconds(40));
  ASSERT_FALSE(holders.empty());
  for (uint32_t h : holders) EXPECT_TRUE(reported(ring.log, h, victim)) << h;
  // check_alive() on a dead node far from us: a probe, then node_dead.
  const uint32_t checked = 31;
  ring.sim.kill(checked);
  const uint32_t asker = 2;
  ring.sim.with_node(
      asker, [&](PastryNode& n) { n.check_alive(ring.sim.now(), ring.sim.handle(checked)); });
  ring.sim.run_until(ring.sim.now() + seconds(20));
  EXPECT_TRUE(reported(ring.log, asker, checked));
  // Nothing else: every report names a node that is gone.
  for (const auto& [reporter, dead] : ring.log.dead_reports)
    for (uint32_t d : dead) EXPECT_FALSE(ring.sim.alive(d)) << reporter << " reported " << d;
}

}  // namespace
}  // namespace forestcast::sim
