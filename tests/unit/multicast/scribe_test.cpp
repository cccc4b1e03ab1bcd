// Scribe driven directly with a fake overlay and fake time.
#include "multicast/scribe.hpp"

#include <gtest/gtest.h>

#include "fake_overlay.hpp"
#include "multicast/credentials.hpp"

namespace forestcast::multicast {
namespace {

using test::FakeOverlay;
using test::handle;

constexpr uint64_t kTick = 1;  // Scribe's tick token

class ScribeTest : public ::testing::Test {
 protected:
  NodeHandle self_ = handle(0x3000000000000000ULL, 1);
  NodeHandle parent_ = handle(0x3100000000000000ULL, 2);
  NodeHandle child_ = handle(0x7000000000000000ULL, 3);
  NodeId topic_ = NodeId::from_parts(0x3abc000000000000ULL, 42);
  FakeOverlay overlay_{self_};
  ModelledCredentials credentials_;
  Scribe scribe_{overlay_, ScribeConfig{}, credentials_};

  std::shared_ptr<const JoinMsg> join() {
    return std::make_shared<const JoinMsg>(JoinBody{topic_});
  }
  // Makes this node a member attached below parent_ at `now`.
  void attach(Time now) {
    overlay_.next = handle(0x3900000000000000ULL, 9);
    scribe_.subscribe(now, topic_);
    scribe_.receive_direct(now, parent_,
                           std::make_shared<const AcceptMsg>(PathBody{topic_, {parent_.id}}));
  }
  void adopt_child(Time now) {
    overlay::ForwardContext ctx{topic_, child_, child_, 1, overlay_.next, join(), false, false};
    scribe_.forward(now, ctx);
  }
  void data_from_parent(Time now, uint64_t seq) {
    scribe_.receive_direct(now, parent_, std::make_shared<const DataMsg>(DataBody{topic_, seq}));
  }
};

TEST_F(ScribeTest, JoinAtATreeMemberAdoptsThePreviousHopAndStops) {
  attach(ms(0));
  overlay_.clear();
  overlay::ForwardContext ctx{topic_, child_, child_, 1, overlay_.next, join(), false, false};
  scribe_.forward(ms(10), ctx);
  EXPECT_TRUE(ctx.consumed);
  ASSERT_TRUE(scribe_.topic(topic_)->has_child(child_.id));
  const auto accepts = overlay_.sent_of<AcceptMsg>();
  ASSERT_EQ(accepts.size(), 1u);
  EXPECT_EQ(accepts[0].first, child_);
  // The child learns its whole path: our parent, then us.
  EXPECT_EQ(accepts[0].second->body.path, (std::vector<NodeId>{parent_.id, self_.id}));
}

TEST_F(ScribeTest, JoinAtANodeOutsideTheTreeMakesItAForwarderAndContinues) {
  overlay_.next = parent_;
  overlay::ForwardContext ctx{topic_, child_, child_, 1, overlay_.next, join(), false, false};
  scribe_.forward(ms(0), ctx);
  EXPECT_FALSE(ctx.consumed);
  const TopicState* t = scribe_.topic(topic_);
  ASSERT_NE(t, nullptr);
  EXPECT_FALSE(t->member);
  EXPECT_TRUE(t->joining);
  EXPECT_TRUE(t->has_child(child_.id));
  // The JOIN goes on for us: the next hop adopts its previous hop (this node).
  EXPECT_FALSE(static_cast<const JoinMsg&>(*ctx.message).body.has_child);
}

TEST_F(ScribeTest, HeartbeatOnlyWhenNoDataWentToAChildForAnInterval) {
  attach(ms(0));
  adopt_child(ms(0));
  data_from_parent(ms(60), 1);  // forwarded to the child: counts as its heartbeat
  overlay_.clear();
  scribe_.on_timer(ms(100), kTick);
  EXPECT_TRUE(overlay_.sent_of<HeartbeatMsg>().empty()) << "data 40 ms ago suppresses it";
  data_from_parent(ms(150), 2);
  scribe_.on_timer(ms(200), kTick);
  EXPECT_TRUE(overlay_.sent_of<HeartbeatMsg>().empty());
  scribe_.on_timer(ms(260), kTick);  // 110 ms without data to the child
  const auto hb = overlay_.sent_of<HeartbeatMsg>();
  ASSERT_EQ(hb.size(), 1u);
  EXPECT_EQ(hb[0].first, child_);
  EXPECT_EQ(scribe_.counters().heartbeats_sent, 1u);
}

TEST_F(ScribeTest, ParentSilentForTheFailureTimeoutIsAvoidedWhenRejoining) {
  attach(ms(0));
  data_from_parent(ms(100), 1);
  overlay_.clear();
  scribe_.on_timer(ms(390), kTick);  // 290 ms of silence: not yet
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty());
  scribe_.on_timer(ms(410), kTick);  // 310 ms > 3 x 100 ms
  const auto joins = overlay_.routed_of<JoinMsg>();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_TRUE(joins[0]->body.has_avoid);
  EXPECT_EQ(joins[0]->body.avoid, parent_.id);
  ASSERT_EQ(overlay_.probed.size(), 1u);  // Pastry is asked to probe the silent parent
  EXPECT_EQ(overlay_.probed[0], parent_);
  EXPECT_FALSE(scribe_.topic(topic_)->parent.has_value());
  EXPECT_EQ(scribe_.counters().parent_failures, 1u);
}

TEST_F(ScribeTest, ChildOfADeadParentAsksItsGrandparentFirst) {
  attach(ms(0));
  const NodeHandle grandparent = handle(0x3180000000000000ULL, 7);
  PathBody p{topic_, {grandparent.id, parent_.id}};
  p.has_parent = true;
  p.parent = grandparent;
  scribe_.receive_direct(ms(50), parent_, std::make_shared<const HeartbeatMsg>(std::move(p)));
  overlay_.clear();
  scribe_.on_timer(ms(400), kTick);  // parent silent for 350 ms
  const auto joins = overlay_.sent_of<JoinMsg>();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].first, grandparent);
  EXPECT_EQ(joins[0].second->body.avoid, parent_.id);
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty()) << "no routing through the dead parent";
  EXPECT_EQ(scribe_.counters().grandparent_rejoins, 1u);
}

TEST_F(ScribeTest, ChildThatStopsRefreshingIsDropped) {
  attach(ms(0));
  adopt_child(ms(0));
  for (int t = 100; t <= 2900; t += 100) {
    data_from_parent(ms(t), static_cast<uint64_t>(t));
    scribe_.on_timer(ms(t), kTick);
  }
  EXPECT_TRUE(scribe_.topic(topic_)->has_child(child_.id));
  scribe_.receive_direct(ms(2950), child_,
                         std::make_shared<const RefreshMsg>(RefreshBody{{topic_}}));
  for (int t = 3000; t <= 5900; t += 100) {
    data_from_parent(ms(t), static_cast<uint64_t>(t));
    scribe_.on_timer(ms(t), kTick);
  }
  EXPECT_TRUE(scribe_.topic(topic_)->has_child(child_.id)) << "refreshed at 2.95 s";
  for (int t = 6000; t <= 6100; t += 100) {
    data_from_parent(ms(t), static_cast<uint64_t>(t));
    scribe_.on_timer(ms(t), kTick);
  }
  EXPECT_FALSE(scribe_.topic(topic_)->has_child(child_.id));
  EXPECT_EQ(scribe_.counters().children_expired, 1u);
}

TEST_F(ScribeTest, AncestorAskingToBeAdoptedIsRefused) {
  attach(ms(0));
  overlay_.clear();
  // parent_ is on our path to the root: adopting it would close a loop.
  scribe_.receive_direct(ms(5), parent_, join());
  EXPECT_FALSE(scribe_.topic(topic_)->has_child(parent_.id));
  EXPECT_EQ(overlay_.sent_of<RefuseMsg>().size(), 1u);
}

TEST_F(ScribeTest, PathContainingThisNodeBreaksTheLoop) {
  attach(ms(0));
  overlay_.clear();
  scribe_.receive_direct(
      ms(10), parent_,
      std::make_shared<const HeartbeatMsg>(PathBody{topic_, {child_.id, self_.id, parent_.id}}));
  EXPECT_EQ(scribe_.counters().cycles_broken, 1u);
  EXPECT_FALSE(scribe_.topic(topic_)->parent.has_value());
  EXPECT_EQ(overlay_.sent_of<LeaveMsg>().size(), 1u);
  EXPECT_EQ(overlay_.routed_of<JoinMsg>().size(), 1u);
}

TEST_F(ScribeTest, ReplicaTakesOverWhenTheRootDies) {
  ModelledKey key(std::array<uint8_t, kPublicKeyBytes>{7, 7, 7});
  const CreateBody c = make_create(key, "news", 3, 16, 99);
  const NodeHandle root = handle(0x3f00000000000000ULL, 5);
  const NodeHandle publisher{c.creator, overlay::Endpoint::ipv4(6, 4000)};
  overlay_.next = root;  // the root is alive and closer
  scribe_.receive_direct(ms(0), root, std::make_shared<const ReplicateMsg>(c));
  EXPECT_TRUE(scribe_.holds_replica(c.topic));
  EXPECT_EQ(scribe_.topic(c.topic), nullptr);
  overlay_.next.reset();  // the root died: we are now the closest
  scribe_.node_dead(ms(100), root);
  const TopicState* t = scribe_.topic(c.topic);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->root);
  ASSERT_TRUE(t->meta.has_value());
  EXPECT_EQ(scribe_.counters().root_takeovers, 1u);
  // The publisher's data (routed again) is accepted at once, with the credentials replicated.
  overlay_.clear();
  scribe_.deliver(ms(150), overlay::RouteInfo{c.topic, publisher, publisher, 2},
                  std::make_shared<const DataMsg>(DataBody{c.topic, 1}));
  const auto acks = overlay_.sent_of<RootAckMsg>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_FALSE(acks[0].second->body.not_root);
  EXPECT_EQ(scribe_.counters().data_refused, 0u);
}

class CreateTest : public ::testing::Test {
 protected:
  NodeHandle self_ = handle(0x5000000000000000ULL, 1);
  FakeOverlay overlay_{self_};
  Ed25519Credentials credentials_;
  Scribe scribe_{overlay_, ScribeConfig{}, credentials_};
  std::unique_ptr<Ed25519Key> key_ = Ed25519Key::generate();
  std::unique_ptr<Ed25519Key> other_ = Ed25519Key::generate();

  NodeHandle creator_of(const CreateBody& c) {
    return NodeHandle{c.creator, overlay::Endpoint::ipv4(9, 4000)};
  }
  void deliver_create(const CreateBody& c) {
    scribe_.deliver(ms(0), overlay::RouteInfo{c.topic, creator_of(c), creator_of(c), 3},
                    std::make_shared<const CreateMsg>(c));
  }
};

TEST_F(CreateTest, RootAcceptsTheKeyHoldersCreateAndOnlyItsData) {
  const CreateBody c = make_create(*key_, "live", 5, 16, 1);
  deliver_create(c);
  EXPECT_EQ(scribe_.counters().creates_accepted, 1u);
  ASSERT_NE(scribe_.topic(c.topic), nullptr);
  EXPECT_TRUE(scribe_.topic(c.topic)->root);
  // Someone else's data into the topic is refused and counted.
  const NodeHandle intruder = handle(0x9000000000000000ULL, 8);
  scribe_.receive_direct(ms(10), intruder, std::make_shared<const DataMsg>(DataBody{c.topic, 1}));
  EXPECT_EQ(scribe_.counters().data_refused, 1u);
}

TEST_F(CreateTest, CreateUnderAnotherKeyIsRefused) {
  CreateBody c = make_create(*key_, "live", 5, 16, 1);
  // Same name, someone else's key and signature: the group no longer derives from the key.
  const CreateBody forged = make_create(*other_, "live", 5, 16, 1);
  c.public_key = forged.public_key;
  c.signature = forged.signature;
  deliver_create(c);
  EXPECT_EQ(scribe_.counters().creates_refused, 1u);
  EXPECT_EQ(scribe_.topic(c.topic), nullptr);
}

TEST_F(CreateTest, CreateWithABadSignatureIsRefused) {
  CreateBody c = make_create(*key_, "live", 5, 16, 1);
  c.signature[10] ^= 0x01;
  deliver_create(c);
  EXPECT_EQ(scribe_.counters().creates_refused, 1u);
  EXPECT_EQ(scribe_.topic(c.topic), nullptr);
}

TEST_F(CreateTest, CreateFromANodeThatIsNotTheKeysNodeIsRefused) {
  const CreateBody c = make_create(*key_, "live", 5, 16, 1);
  const NodeHandle other = handle(0x9000000000000000ULL, 8);
  scribe_.deliver(ms(0), overlay::RouteInfo{c.topic, other, other, 3},
                  std::make_shared<const CreateMsg>(c));
  EXPECT_EQ(scribe_.counters().creates_refused, 1u);
}

TEST(ScribeDecode, MalformedMessagesAreCountedPerReasonAndDropped) {
  FakeOverlay overlay(handle(0x1000000000000000ULL, 1));
  ModelledCredentials credentials;
  Scribe scribe(overlay, ScribeConfig{}, credentials);
  auto count = [&](DecodeError e) { return scribe.counters().malformed[static_cast<size_t>(e)]; };
  EXPECT_EQ(scribe.decode(999, ""), nullptr);
  EXPECT_EQ(count(DecodeError::kUnknownType), 1u);
  EXPECT_EQ(scribe.decode(static_cast<uint16_t>(MsgType::kJoin), "\xff\xff\xff"), nullptr);
  EXPECT_EQ(count(DecodeError::kUnparsable), 1u);
  // A topic id of 5 bytes.
  std::string bad_id;
  JoinMsg(JoinBody{}).encode(bad_id);
  bad_id[1] = 5;
  bad_id.resize(7);
  EXPECT_EQ(scribe.decode(static_cast<uint16_t>(MsgType::kJoin), bad_id), nullptr);
  EXPECT_EQ(count(DecodeError::kBadId), 1u);
  // A path longer than its bound.
  std::string long_path;
  HeartbeatMsg(PathBody{NodeId{}, std::vector<NodeId>(kMaxPathLength + 1)}).encode(long_path);
  EXPECT_EQ(scribe.decode(static_cast<uint16_t>(MsgType::kHeartbeat), long_path), nullptr);
  EXPECT_EQ(count(DecodeError::kTooMany), 1u);
  // A CREATE whose topic is not derived from its group.
  CreateBody c = make_create(ModelledKey({1}), "x", 2, 16, 5);
  c.topic = c.group.with_digit(0, 3);
  std::string create;
  CreateMsg(c).encode(create);
  EXPECT_EQ(scribe.decode(static_cast<uint16_t>(MsgType::kCreate), create), nullptr);
  EXPECT_EQ(count(DecodeError::kBadCredentials), 1u);
  EXPECT_EQ(scribe.counters().malformed_total(), 5u);
  // And a good one decodes to the same content.
  std::string data;
  DataMsg(DataBody{NodeId::from_parts(1, 2), 77, 3, 1000, nullptr, 1200}).encode(data);
  auto msg = scribe.decode(static_cast<uint16_t>(MsgType::kData), data);
  ASSERT_NE(msg, nullptr);
  const auto& d = static_cast<const DataMsg&>(*msg).body;
  EXPECT_EQ(d.seq, 77u);
  EXPECT_EQ(d.stripe, 3u);
  EXPECT_EQ(d.payload_size, 1200u);
  EXPECT_EQ(DataMsg(d).encoded_size(), data.size());
}

// A walk sent here from a member's stale list of children (this node left the group) goes back
// to that member in one hop; routed on toward the group only when it came here from us, so two
// nodes that both left never bounce it between them.
TEST_F(ScribeTest, AnycastAtANodeThatLeftTheGroupGoesBackToItsSender) {
  const NodeId group = NodeId::from_parts(0x5500000000000000ULL, 1);
  AnycastBody a;
  a.topic = group;
  a.requester = child_;
  a.want = topic_;
  a.visited = {child_.id, parent_.id};  // parent_ walked it here
  scribe_.receive_direct(ms(1), parent_, std::make_shared<const AnycastMsg>(a));
  auto back = overlay_.sent_of<AnycastMsg>();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].first, parent_);
  EXPECT_EQ(back[0].second->body.visited.back(), self_.id);
  EXPECT_TRUE(overlay_.routed_of<AnycastMsg>().empty());
  overlay_.clear();
  a.visited = {self_.id, parent_.id};  // parent_ got it from us: route on instead
  scribe_.receive_direct(ms(2), parent_, std::make_shared<const AnycastMsg>(a));
  EXPECT_TRUE(overlay_.sent_of<AnycastMsg>().empty());
  ASSERT_EQ(overlay_.routed_of<AnycastMsg>().size(), 1u);
}

// The simulator asks every message its size instead of encoding it: the closed forms of the
// frequent messages must give exactly the encoded length.
TEST(ScribeMessages, ClosedFormSizesMatchTheEncoding) {
  const NodeHandle v4{NodeId::from_parts(7, 8), overlay::Endpoint::ipv4(0x0A000001, 4000)};
  NodeHandle v6 = v4;
  v6.endpoint = *overlay::Endpoint::parse("[2001:db8::1]:65535");
  NodeHandle no_port = v4;
  no_port.endpoint.port = 0;
  for (size_t ids : {0u, 1u, 5u, 48u})
    for (const NodeHandle* h : std::initializer_list<const NodeHandle*>{&v4, &v6, &no_port})
      for (bool flag : {false, true}) {
        PathBody p{NodeId::from_parts(1, 2), std::vector<NodeId>(ids, NodeId::from_parts(3, 4))};
        p.has_parent = flag;
        p.parent = *h;
        std::string path;
        HeartbeatMsg(p).encode(path);
        EXPECT_EQ(HeartbeatMsg(p).encoded_size(), path.size()) << ids << " " << flag;
        AnycastBody a;
        a.topic = NodeId::from_parts(5, 6);
        a.requester = *h;
        a.want = NodeId::from_parts(9, 9);
        a.visited.assign(ids, NodeId::from_parts(3, 4));
        a.relaxed = flag;
        std::string any;
        AnycastMsg(a).encode(any);
        EXPECT_EQ(AnycastMsg(a).encoded_size(), any.size()) << ids << " " << flag;
      }
}

}  // namespace
}  // namespace forestcast::multicast
