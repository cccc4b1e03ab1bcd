// What a node does with input forged by someone who cannot see its traffic (a blind spoofer:
// any source address, any node id), and how much such input can make it hold. Each test here
// failed against the overlay before the hole it names was closed (docs/security.md).
#include <gtest/gtest.h>

#include "lone_node.hpp"
#include "overlay/pastry_node.hpp"

namespace forestcast::overlay {
namespace {

struct DeathRecorder : Application {
  std::vector<NodeId> dead;
  void deliver(Time, const RouteInfo&, const AppMessagePtr&) override {}
  void node_dead(Time, const NodeHandle& node) override { dead.push_back(node.id); }
  AppMessagePtr decode(uint16_t, std::string_view) const override { return nullptr; }
};

struct Note final : AppMessage {
  uint16_t app_id() const override { return 1; }
  uint16_t type() const override { return 1; }
  void encode(std::string& out) const override { out += "n"; }
};

const NodeId kSelf = *NodeId::from_hex("50000000000000000000000000000000");

uint64_t last_nonce_to(const LoneNode& n, const Endpoint& to) {
  uint64_t nonce = 0;
  for (const auto& [e, m] : n.env.sent)
    if (const auto* p = std::get_if<Ping>(&m); p && e == to) nonce = p->nonce;
  return nonce;
}

// --- nonces and hop ids ------------------------------------------------------------------

TEST(HostileInput, GuessedPongsDoNotKeepADeadNodeAlive) {
  LoneNode n(kSelf, 16, {hex("40000000000000000000000000000000")});
  DeathRecorder rec;
  n.node.register_app(1, &rec);
  const NodeHandle silent = handle(hex("a0000000000000000000000000000000"), 9);
  n.node.check_alive(Time{0}, silent);
  // Nonces used to be a counter: the first few values were certain to include the right one.
  for (uint64_t guess = 0; guess < 1000; ++guess)
    n.node.on_message(ms(1), silent, Pong{guess, nullptr});
  EXPECT_FALSE(n.node.leaf_set().contains(silent.id));  // taken in as alive, before
  n.run(ms(1), seconds(10), ms(50));
  EXPECT_TRUE(contains_id(rec.dead, silent.id));
  EXPECT_GE(n.node.counters().pongs_unmatched, 1000u);
}

TEST(HostileInput, ThePongMustComeFromTheProbedAddress) {
  LoneNode n(kSelf, 16, {});
  DeathRecorder rec;
  n.node.register_app(1, &rec);
  const NodeHandle silent = handle(hex("a0000000000000000000000000000000"), 9);
  n.node.check_alive(Time{0}, silent);
  const uint64_t nonce = last_nonce_to(n, silent.endpoint);
  ASSERT_NE(nonce, 0u);
  n.node.on_message(ms(1), handle(silent.id, 77), Pong{nonce, nullptr});  // right nonce, wrong address
  EXPECT_FALSE(n.node.leaf_set().contains(silent.id));
  n.run(ms(1), seconds(10), ms(50));
  EXPECT_EQ(rec.dead, std::vector<NodeId>{silent.id});
  EXPECT_EQ(n.node.counters().pongs_unmatched, 1u);
}

// Leaf set of 2, so a key far away is routed through the routing table entry a5...
struct RoutingNode : LoneNode {
  RoutingNode(PastryConfig c = config(2))
      : LoneNode(kSelf, c,
                 {hex("4fff0000000000000000000000000000"), hex("50010000000000000000000000000000"),
                  hex("a5000000000000000000000000000000")}) {}
  NodeHandle far() const { return known(2, hex("a5000000000000000000000000000000")); }
  NodeHandle leaf() const { return known(0, hex("4fff0000000000000000000000000000")); }
  NodeId far_key() const { return hex("a1230000000000000000000000000000"); }
};

TEST(HostileInput, GuessedRouteAcksDoNotStopARetry) {
  RoutingNode n;
  n.node.route(Time{0}, n.far_key(), std::make_shared<Note>());
  ASSERT_EQ(n.count_sent<RouteMsg>(n.far().endpoint), 1);
  // Hop ids used to be a counter starting at 1.
  for (uint64_t guess = 0; guess < 1000; ++guess)
    n.node.on_message(ms(1), n.far(), RouteAck{guess});
  n.run(ms(1), seconds(3));
  EXPECT_GE(n.node.counters().route_retries, 1u);
  EXPECT_GE(n.node.counters().acks_unmatched, 1000u);
}

TEST(HostileInput, TheRouteAckMustComeFromTheNextHopsAddress) {
  RoutingNode n;
  n.node.route(Time{0}, n.far_key(), std::make_shared<Note>());
  uint64_t hop_id = 0;
  for (const auto& [e, m] : n.env.sent)
    if (const auto* r = std::get_if<RouteMsg>(&m)) hop_id = r->hop_id;
  n.node.on_message(ms(1), handle(n.far().id, 77), RouteAck{hop_id});
  n.run(ms(1), seconds(3));
  EXPECT_GE(n.node.counters().route_retries, 1u);
  // ... and the real one from the real address settles the hop.
  RoutingNode m;
  m.node.route(Time{0}, m.far_key(), std::make_shared<Note>());
  for (const auto& [e, msg] : m.env.sent)
    if (const auto* r = std::get_if<RouteMsg>(&msg)) hop_id = r->hop_id;
  m.node.on_message(ms(1), m.far(), RouteAck{hop_id});
  m.run(ms(1), seconds(3));
  EXPECT_EQ(m.node.counters().route_retries, 0u);
}

// --- Leave ---------------------------------------------------------------------------------

struct TwoLeaves : LoneNode {
  TwoLeaves()
      : LoneNode(kSelf, 16,
                 {hex("40000000000000000000000000000000"), hex("60000000000000000000000000000000")}) {
  }
  NodeHandle right() const { return known(1, hex("60000000000000000000000000000000")); }
};

TEST(HostileInput, AForgedLeaveDoesNotEvictALiveNode) {
  TwoLeaves n;
  const size_t mark = n.env.sent.size();
  n.node.on_message(Time{0}, n.right(), Leave{});  // forged: the node is alive
  EXPECT_TRUE(n.node.leaf_set().contains(n.right().id));
  EXPECT_EQ(n.count_sent<Ping>(n.right().endpoint), 2);  // introduce()'s probe, and the check
  answer_pings(n.node, n.env, n.right(), ms(5), mark);
  n.run(ms(5), seconds(1));
  EXPECT_TRUE(n.node.leaf_set().contains(n.right().id));
  EXPECT_EQ(n.node.counters().leaves_checked, 1u);
}

TEST(HostileInput, ARealLeaveStillRemovesTheNodeWithinOneProbe) {
  TwoLeaves n;
  n.node.on_message(Time{0}, n.right(), Leave{});
  n.run(Time{0}, ms(200));  // one probe timeout (50 ms here), not three
  EXPECT_FALSE(n.node.leaf_set().contains(n.right().id));
}

TEST(HostileInput, ALeaveFromAnotherAddressIsIgnored) {
  TwoLeaves n;
  const int pings = n.count_sent<Ping>();
  n.node.on_message(Time{0}, handle(n.right().id, 77), Leave{});
  n.node.on_message(Time{0}, handle(hex("70000000000000000000000000000000"), 78), Leave{});
  n.run(Time{0}, ms(500));
  EXPECT_TRUE(n.node.leaf_set().contains(n.right().id));
  EXPECT_EQ(n.count_sent<Ping>(), pings);
  EXPECT_EQ(n.node.counters().leaves_ignored, 2u);
}

// --- state from strangers, and the probe table ------------------------------------------------

StateTransfer leaf_set_of_24() {
  StateTransfer st;
  st.kind = StateKind::kLeafSet;
  for (uint32_t i = 1; i <= 24; ++i)
    st.nodes.push_back(handle(NodeId::from_parts(uint64_t{i} << 56, 0), 100 + i));
  return st;
}

TEST(HostileInput, StateFromAStrangerCostsNoProbesOfThirdParties) {
  LoneNode n(kSelf, 16, {});
  const NodeHandle stranger = handle(hex("51000000000000000000000000000000"), 50);
  n.node.on_message(Time{0}, stranger, leaf_set_of_24());
  EXPECT_EQ(n.count_sent<Ping>(), n.count_sent<Ping>(stranger.endpoint));  // itself, at most
  EXPECT_EQ(n.node.counters().state_unproven, 1u);
  // Once it answered our probe its state is used.
  answer_pings(n.node, n.env, stranger, ms(1));
  EXPECT_GT(n.count_sent<Ping>(), n.count_sent<Ping>(stranger.endpoint));
}

TEST(HostileInput, TheProbeTableIsBounded) {
  PastryConfig c;
  c.max_probes = 16;
  LoneNode n(kSelf, c, {});
  for (uint32_t i = 0; i < 100; ++i)
    n.node.on_message(Time{0}, handle(NodeId::from_parts(0x1000 + i, i), 200 + i), Announce{});
  EXPECT_EQ(n.count_sent<Ping>(), 16);
  EXPECT_EQ(n.node.probes_in_flight(), 16u);
  EXPECT_GT(n.node.counters().probes_refused, 0u);
}

TEST(HostileInput, RepliesOwedToOneUnprovenNodeAreBounded) {
  LoneNode n(kSelf, 16, {});
  const NodeHandle asker = handle(hex("51000000000000000000000000000000"), 50);
  for (int i = 0; i < 10; ++i)
    n.node.on_message(Time{0}, asker, StateRequest{StateKind::kLeafSet, 0});
  EXPECT_EQ(n.count_sent<StateTransfer>(asker.endpoint), 0);  // nothing before it proves itself
  EXPECT_EQ(n.node.counters().replies_refused, 10u - n.node.config().max_owed_per_peer);
  answer_pings(n.node, n.env, asker, ms(1));
  EXPECT_EQ(n.count_sent<StateTransfer>(asker.endpoint),
            static_cast<int>(n.node.config().max_owed_per_peer));
}

// --- join reflection -----------------------------------------------------------------------

struct FullLeafSet : LoneNode {
  static std::vector<NodeId> ids() {
    std::vector<NodeId> v;
    for (uint64_t i = 1; i <= 24; ++i) v.push_back(NodeId::from_parts(i << 56, 0));
    return v;
  }
  FullLeafSet() : LoneNode(NodeId::from_parts(0x80ULL << 56, 0), 24, ids()) {}
  // Someone whose address is aimed at, and the join claiming to come from it.
  NodeHandle victim = handle(NodeId::from_parts(0x80ULL << 56, 1), 99);
  RouteMsg join(uint16_t hops) const {
    RouteMsg m;
    m.hop_id = 7;
    m.msg_id = 1000 + hops;
    m.key = victim.id;
    m.origin = victim;
    m.hops = hops;
    m.join = true;
    return m;
  }
};

TEST(HostileInput, AJoinWithAForgedSourceSendsOnlyAPingToIt) {
  FullLeafSet n;
  n.node.on_message(Time{0}, n.victim, n.join(0));  // the source address is the victim's
  EXPECT_EQ(n.count_sent<StateTransfer>(n.victim.endpoint), 0);
  EXPECT_EQ(n.count_sent<Ping>(n.victim.endpoint), 1);
}

TEST(HostileInput, AJoinNamingAForgedOriginMidRouteSendsOnlyAPingThere) {
  FullLeafSet n;
  const NodeHandle stranger = handle(hex("91000000000000000000000000000000"), 60);
  n.node.on_message(Time{0}, stranger, n.join(3));
  // Even from a proven member of the ring: it may be lying, or its address forged.
  n.node.on_message(Time{0}, FullLeafSet::known(0, FullLeafSet::ids()[0]), n.join(4));
  EXPECT_EQ(n.count_sent<StateTransfer>(n.victim.endpoint), 0);
  EXPECT_EQ(n.count_sent<Ping>(n.victim.endpoint), 1);
  // A real joiner answers, and gets what it asked for.
  answer_pings(n.node, n.env, n.victim, ms(1));
  EXPECT_GE(n.count_sent<StateTransfer>(n.victim.endpoint), 2);  // rows and the leaf set
}

// --- routed messages held for acknowledgement ---------------------------------------------

TEST(HostileInput, HopsHeldForOnePeerAreBounded) {
  PastryConfig c = LoneNode::config(2);
  c.max_pending_hops_per_peer = 4;
  RoutingNode n(c);
  for (uint64_t i = 0; i < 10; ++i) {
    RouteMsg m;
    m.hop_id = i + 1;
    m.msg_id = 500 + i;
    m.key = n.far_key();
    m.origin = n.leaf();
    m.app = std::make_shared<Note>();
    n.node.on_message(Time{0}, n.leaf(), m);
  }
  EXPECT_EQ(n.count_sent<RouteMsg>(n.far().endpoint), 4);
  EXPECT_EQ(n.node.counters().route_pending_full, 6u);
  EXPECT_EQ(n.node.pending_hops(), 4u);
  // Our own messages are bounded by the global limit only.
  n.node.route(Time{0}, n.far_key(), std::make_shared<Note>());
  EXPECT_EQ(n.count_sent<RouteMsg>(n.far().endpoint), 5);
}

TEST(HostileInput, AllHopsHeldAreBounded) {
  PastryConfig c = LoneNode::config(2);
  c.max_pending_hops = 6;
  RoutingNode n(c);
  for (int i = 0; i < 10; ++i) n.node.route(Time{0}, n.far_key(), std::make_shared<Note>());
  EXPECT_EQ(n.node.pending_hops(), 6u);
  EXPECT_EQ(n.node.counters().route_pending_full, 4u);
}

}  // namespace
}  // namespace forestcast::overlay
