// Drives PastryNode directly with fake time: first its routing decision on hand-built state,
// then a small network of real nodes (a FIFO with fixed per-pair latency) checked against an
// oracle that knows who is alive.
#include "overlay/pastry_node.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <queue>
#include <set>

#include "lone_node.hpp"

namespace forestcast::overlay {
namespace {

TEST(PastryRouting, DeliversLocallyWhenAlone) {
  LoneNode n(hex("50000000000000000000000000000000"), 16, {});
  EXPECT_FALSE(n.node.next_hop(hex("a0000000000000000000000000000000")));
}

TEST(PastryRouting, LeafSetRangeGoesToNumericallyClosest) {
  LoneNode n(hex("50000000000000000000000000000000"), 16,
             {hex("40000000000000000000000000000000"), hex("60000000000000000000000000000000")});
  auto hop = n.node.next_hop(hex("5c000000000000000000000000000000"));
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->id, hex("60000000000000000000000000000000"));
  EXPECT_FALSE(n.node.next_hop(hex("53000000000000000000000000000000")));
}

TEST(PastryRouting, WrapAroundZeroInLeafSet) {
  LoneNode n(hex("00000000000000000000000000000002"), 16,
             {hex("fffffffffffffffffffffffffffffff0"), hex("80000000000000000000000000000000")});
  // 0xff..fe is 4 below zero: 4 from self, 14 from 0xff..f0.
  EXPECT_FALSE(n.node.next_hop(hex("fffffffffffffffffffffffffffffffe")));
  auto hop = n.node.next_hop(hex("fffffffffffffffffffffffffffffff5"));
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->id, hex("fffffffffffffffffffffffffffffff0"));
}

TEST(PastryRouting, PrefixRoutingThenRareCase) {
  // Leaf set of 2 (one per side) so most keys are outside it.
  const NodeId self = hex("50000000000000000000000000000000");
  LoneNode n(self, 2,
             {hex("4fff0000000000000000000000000000"), hex("50010000000000000000000000000000"),
              hex("90000000000000000000000000000000"), hex("b0000000000000000000000000000000"),
              hex("a5000000000000000000000000000000")});
  // Routing table slot R[0][a] exists: prefix routing uses it.
  auto hop = n.node.next_hop(hex("a1230000000000000000000000000000"));
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->id, hex("a5000000000000000000000000000000"));
  // No entry in R[0][c]: the rare case picks a known node closer to the key than self
  // (0xb000.. is nearer to 0xc1.. than 0x9000.. is).
  hop = n.node.next_hop(hex("c1000000000000000000000000000000"));
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->id, hex("b0000000000000000000000000000000"));
  // Rare case within a longer prefix: key 0x5a.. shares 1 digit with self; R[1][a] is empty;
  // of the known nodes only those sharing >= 1 digit qualify, and none is closer than self
  // except through the leaf set's right neighbour 0x5001.. (shares 3 digits with self).
  hop = n.node.next_hop(hex("5a000000000000000000000000000000"));
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->id, hex("50010000000000000000000000000000"));
}

// An application that records the upcalls it gets.
struct UpcallRecorder : Application {
  std::vector<uint64_t> timers;
  std::vector<NodeId> dead;
  int activations = 0;
  void deliver(Time, const RouteInfo&, const AppMessagePtr&) override {}
  void on_timer(Time, uint64_t token) override { timers.push_back(token); }
  void node_dead(Time, const NodeHandle& node) override { dead.push_back(node.id); }
  void became_active(Time) override { ++activations; }
  AppMessagePtr decode(uint16_t, std::string_view) const override { return nullptr; }
};

TEST(PastryUpcalls, AnApplicationCancelsOnlyItsOwnTimers) {
  RecordingEnv env;
  PastryNode node(handle(hex("50000000000000000000000000000000"), 1), PastryConfig{}, env, 1);
  UpcallRecorder a, b;
  node.register_app(1, &a);
  node.register_app(2, &b);
  node.start_ring(Time{0});
  EXPECT_EQ(a.activations, 1);
  const TimerId ta = node.schedule_app_timer(1, ms(10), 11);
  const TimerId tb = node.schedule_app_timer(2, ms(10), 22);
  node.cancel_app_timer(2, ta);  // b cannot cancel a's timer
  node.cancel_app_timer(2, tb);
  node.on_timer(ms(10));
  EXPECT_EQ(a.timers, std::vector<uint64_t>{11});
  EXPECT_TRUE(b.timers.empty());
}

TEST(PastryUpcalls, ReplicaSetIsTheClosestKnownNodesIncludingSelf) {
  const std::vector<NodeId> known = {
      hex("40000000000000000000000000000000"), hex("48000000000000000000000000000000"),
      hex("58000000000000000000000000000000"), hex("90000000000000000000000000000000")};
  LoneNode n(hex("50000000000000000000000000000000"), 16, known);
  const auto set = n.node.replica_set(hex("57000000000000000000000000000000"), 3);
  ASSERT_EQ(set.size(), 3u);
  EXPECT_EQ(set[0].id, known[2]);
  EXPECT_EQ(set[1].id, n.node.self().id);
  EXPECT_EQ(set[2].id, known[1]);
  EXPECT_EQ(n.node.replica_set(hex("57000000000000000000000000000000"), 99).size(), 5u);
}

TEST(PastryUpcalls, CheckAliveReportsASilentNodeDead) {
  LoneNode n(hex("50000000000000000000000000000000"), 16, {});
  UpcallRecorder rec;
  n.node.register_app(1, &rec);
  const NodeHandle silent = handle(hex("a0000000000000000000000000000000"), 9);
  n.node.check_alive(Time{0}, silent);
  for (Time t{0}; t < seconds(10); t += ms(50)) n.node.on_timer(t);
  EXPECT_EQ(rec.dead, std::vector<NodeId>{silent.id});
}

TEST(PastryJoin, TheRootsLeafSetOf24FitsOneDatagram) {
  // 24 other nodes: all of them are leaves of a 24-leaf set.
  std::vector<NodeId> known;
  for (uint64_t i = 1; i <= 24; ++i) known.push_back(NodeId::from_parts(i << 56, 0));
  const NodeId self = NodeId::from_parts(0x80ULL << 56, 0);
  LoneNode n(self, 24, known);
  ASSERT_EQ(n.node.leaf_set().members().size(), 24u);
  n.env.sent.clear();
  RouteMsg join;
  join.hop_id = 1;
  join.key = NodeId::from_parts(0x80ULL << 56, 1);  // next to us: we are its root
  join.origin = handle(join.key, 99);
  join.join = true;
  n.node.on_message(Time{0}, join.origin, join);
  answer_pings(n.node, n.env, join.origin, Time{0});  // the joiner proves its address
  int chunks = 0;
  for (const auto& [to, m] : n.env.sent)
    if (const auto* st = std::get_if<StateTransfer>(&m);
        st && st->for_join && st->kind == StateKind::kLeafSet) {
      ++chunks;
      EXPECT_TRUE(st->last);
      EXPECT_EQ(st->nodes.size(), 24u);
    }
  EXPECT_EQ(chunks, 1);  // two before, and the joiner could act on the last one alone
}

struct NoteMessage final : AppMessage {
  uint16_t app_id() const override { return 1; }
  uint16_t type() const override { return 1; }
  void encode(std::string& out) const override { out += "n"; }
};

TEST(PastryRouting, AMessagePastTheHopLimitIsDroppedAndCounted) {
  const NodeId far = hex("a0000000000000000000000000000000");
  LoneNode n(
      hex("50000000000000000000000000000000"), 2,
      {hex("40000000000000000000000000000000"), hex("60000000000000000000000000000000"), far});
  auto routed_on = [&](uint16_t hops) {
    n.env.sent.clear();
    RouteMsg m;
    m.hop_id = hops;
    m.msg_id = 1000 + hops;
    m.key = hex("a1000000000000000000000000000000");
    m.origin = handle(hex("40000000000000000000000000000000"), 2);
    m.hops = hops;
    m.app = std::make_shared<NoteMessage>();
    n.node.on_message(Time{0}, m.origin, m);
    for (const auto& [to, sent] : n.env.sent)
      if (std::holds_alternative<RouteMsg>(sent)) return true;
    return false;
  };
  EXPECT_TRUE(routed_on(63));
  EXPECT_EQ(n.node.counters().route_hop_limit, 0u);
  EXPECT_FALSE(routed_on(64));
  EXPECT_EQ(n.node.counters().route_hop_limit, 1u);
}

TEST(PastryUpcalls, AStaleTimerIdFromBeforeARejoinCancelsNothing) {
  RecordingEnv env;
  PastryNode node(handle(hex("50000000000000000000000000000000"), 1), PastryConfig{}, env, 1);
  UpcallRecorder a;
  node.register_app(1, &a);
  node.start_ring(Time{0});
  const TimerId stale = node.schedule_app_timer(1, ms(10), 1);
  node.leave(ms(1));
  node.join(ms(2), {Endpoint::ipv4(0x0a0000ff, 4000)});  // timers start over
  std::vector<uint64_t> tokens;
  for (uint64_t t = 10; t < 20; ++t) {
    EXPECT_NE(node.schedule_app_timer(1, ms(20), t), stale);
    tokens.push_back(t);
  }
  node.cancel_app_timer(1, stale);  // used to cancel whichever new timer got the same id
  node.on_timer(ms(20));
  EXPECT_EQ(a.timers, tokens);
}

// --- a small network ------------------------------------------------------------------------

class MiniNet {
 public:
  struct Env : Environment {
    MiniNet* net;
    size_t index;
    void send(const Endpoint& to, const Message& msg) override { net->post(index, to, msg); }
  };

  explicit MiniNet(uint64_t seed) : rng_(seed) {}

  size_t add_node(PastryConfig config) {
    const size_t i = nodes_.size();
    auto env = std::make_unique<Env>();
    env->net = this;
    env->index = i;
    const NodeId id = NodeId::from_parts(rng_.next(), rng_.next());
    auto node =
        std::make_unique<PastryNode>(handle(id, static_cast<uint32_t>(i + 1)), config, *env, i);
    envs_.push_back(std::move(env));
    nodes_.push_back(std::move(node));
    alive_.push_back(true);
    return i;
  }

  PastryNode& node(size_t i) { return *nodes_[i]; }
  size_t size() const { return nodes_.size(); }
  bool alive(size_t i) const { return alive_[i]; }
  void kill(size_t i) { alive_[i] = false; }
  Time now() const { return now_; }

  void post(size_t from, const Endpoint& to, const Message& msg) {
    const size_t dst = to.v4() - 0x0a000001;
    if (dst >= nodes_.size()) return;
    // Fixed, asymmetric-free latency per pair: 1..20 ms.
    const auto lo = std::min(from, dst), hi = std::max(from, dst);
    const Duration latency = ms(1 + static_cast<int64_t>((lo * 7 + hi * 13) % 20));
    queue_.push(Event{now_ + latency, seq_++, dst, nodes_[from]->self(), msg});
  }

  // Runs until `until`, firing messages and node timers in time order.
  void run_until(Time until) {
    while (true) {
      Time next_timer = kNever;
      size_t timer_node = 0;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (!alive_[i]) continue;
        const Time t = nodes_[i]->next_deadline();
        if (t < next_timer) {
          next_timer = t;
          timer_node = i;
        }
      }
      const Time next_msg = queue_.empty() ? kNever : queue_.top().at;
      const Time next = std::min(next_timer, next_msg);
      if (next > until) break;
      now_ = next;
      if (next_msg <= next_timer) {
        Event ev = queue_.top();
        queue_.pop();
        if (alive_[ev.to]) nodes_[ev.to]->on_message(now_, ev.from, ev.msg);
      } else {
        nodes_[timer_node]->on_timer(now_);
      }
    }
    now_ = until;
  }

  // Oracle: the live node numerically closest to `key`.
  size_t closest_live(const NodeId& key) const {
    size_t best = nodes_.size();
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!alive_[i]) continue;
      if (best == nodes_.size() || key.closer(nodes_[i]->self().id, nodes_[best]->self().id))
        best = i;
    }
    return best;
  }

  // Oracle: the ids that belong in node i's leaf set (half per side, live nodes only).
  std::set<NodeId> true_leaf_set(size_t i, size_t half) const {
    std::vector<NodeId> others;
    for (size_t j = 0; j < nodes_.size(); ++j)
      if (alive_[j] && j != i) others.push_back(nodes_[j]->self().id);
    const NodeId self = nodes_[i]->self().id;
    std::set<NodeId> out;
    auto take = [&](auto dist) {
      auto v = others;
      std::sort(v.begin(), v.end(),
                [&](const NodeId& a, const NodeId& b) { return dist(a) < dist(b); });
      for (size_t k = 0; k < std::min(half, v.size()); ++k) out.insert(v[k]);
    };
    take([&](const NodeId& id) { return self.clockwise_to(id); });
    take([&](const NodeId& id) { return self.counterclockwise_to(id); });
    return out;
  }

 private:
  struct Event {
    Time at;
    uint64_t seq;
    size_t to;
    NodeHandle from;
    Message msg;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  Rng rng_;
  std::vector<std::unique_ptr<Env>> envs_;
  std::vector<std::unique_ptr<PastryNode>> nodes_;
  std::vector<bool> alive_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  uint64_t seq_ = 0;
  Time now_{0};
};

struct Probe : AppMessage {
  explicit Probe(int i) : index(i) {}
  uint16_t app_id() const override { return 100; }
  uint16_t type() const override { return 1; }
  void encode(std::string& out) const override { out += std::to_string(index); }
  int index;
};

struct Recorder : Application {
  size_t node = 0;
  std::map<int, std::vector<size_t>>* deliveries = nullptr;
  void deliver(Time, const RouteInfo&, const AppMessagePtr& msg) override {
    (*deliveries)[static_cast<const Probe&>(*msg).index].push_back(node);
  }
  AppMessagePtr decode(uint16_t, std::string_view) const override { return nullptr; }
};

class PastryNetwork : public ::testing::Test {
 protected:
  void build(size_t n, uint64_t seed) {
    net_ = std::make_unique<MiniNet>(seed);
    PastryConfig config;
    for (size_t i = 0; i < n; ++i) {
      net_->add_node(config);
      auto rec = std::make_unique<Recorder>();
      rec->node = i;
      rec->deliveries = &deliveries_;
      net_->node(i).register_app(100, rec.get());
      recorders_.push_back(std::move(rec));
    }
    net_->node(0).start_ring(net_->now());
    Rng pick(seed);
    for (size_t i = 1; i < n; ++i) {
      const size_t via = pick.below(i);
      net_->node(i).join(net_->now(), {net_->node(via).self().endpoint});
      net_->run_until(net_->now() + ms(200));
    }
    net_->run_until(net_->now() + seconds(15));
  }

  // Routes `count` random keys from random live nodes; returns how many reached the oracle's
  // node exactly once.
  int route_and_check(int count, uint64_t seed) {
    Rng rng(seed);
    deliveries_.clear();
    std::vector<size_t> expected;
    for (int k = 0; k < count; ++k) {
      size_t src;
      do src = rng.below(net_->size());
      while (!net_->alive(src));
      const NodeId key = NodeId::from_parts(rng.next(), rng.next());
      expected.push_back(net_->closest_live(key));
      net_->node(src).route(net_->now(), key, std::make_shared<Probe>(k));
    }
    net_->run_until(net_->now() + seconds(20));
    int correct = 0;
    for (int k = 0; k < count; ++k) {
      auto it = deliveries_.find(k);
      if (it != deliveries_.end() && it->second.size() == 1 && it->second[0] == expected[k])
        ++correct;
      else
        ADD_FAILURE() << "lookup " << k << " expected at node " << expected[k] << ", delivered "
                      << (it == deliveries_.end() ? 0 : it->second.size()) << " times";
    }
    return correct;
  }

  std::unique_ptr<MiniNet> net_;
  std::vector<std::unique_ptr<Recorder>> recorders_;
  std::map<int, std::vector<size_t>> deliveries_;
};

TEST_F(PastryNetwork, JoinsBuildExactLeafSetsAndRouteToClosest) {
  build(40, 11);
  for (size_t i = 0; i < net_->size(); ++i) {
    ASSERT_TRUE(net_->node(i).active()) << i;
    std::set<NodeId> have;
    for (const auto& h : net_->node(i).leaf_set().members()) have.insert(h.id);
    EXPECT_EQ(have, net_->true_leaf_set(i, 8)) << "node " << i;
  }
  EXPECT_EQ(route_and_check(500, 5), 500);
}

TEST_F(PastryNetwork, RepairsAfterFailuresAndStillRoutesCorrectly) {
  build(40, 12);
  for (size_t i : {3, 9, 17, 21, 30}) net_->kill(i);
  // Routing is right even before failures are noticed: hops are acknowledged and retried.
  EXPECT_EQ(route_and_check(300, 6), 300);
  net_->run_until(net_->now() + seconds(20));
  for (size_t i = 0; i < net_->size(); ++i) {
    if (!net_->alive(i)) continue;
    std::set<NodeId> have;
    for (const auto& h : net_->node(i).leaf_set().members()) have.insert(h.id);
    EXPECT_EQ(have, net_->true_leaf_set(i, 8)) << "node " << i;
  }
  EXPECT_EQ(route_and_check(300, 7), 300);
}

TEST_F(PastryNetwork, GracefulLeaveIsNoticedAtOnce) {
  build(20, 13);
  net_->node(5).leave(net_->now());
  net_->kill(5);
  net_->run_until(net_->now() + ms(200));  // far less than failure detection would take
  const NodeId gone = net_->node(5).self().id;
  for (size_t i = 0; i < net_->size(); ++i) {
    if (net_->alive(i)) {
      EXPECT_FALSE(net_->node(i).leaf_set().contains(gone)) << i;
    }
  }
}

TEST_F(PastryNetwork, JoinFailsWithoutAnswer) {
  net_ = std::make_unique<MiniNet>(1);
  net_->add_node(PastryConfig{});
  net_->node(0).join(Time{0}, {Endpoint::ipv4(0x0a0000ff, 4000)});  // nobody there
  net_->run_until(seconds(60));
  EXPECT_EQ(net_->node(0).join_state(), JoinState::kFailed);
  EXPECT_EQ(net_->node(0).next_deadline(), kNever);
}

}  // namespace
}  // namespace forestcast::overlay
