// Scribe driven directly with a fake overlay and fake time.
#include "multicast/scribe.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "multicast/credentials.hpp"
#include "scribe_fixture.hpp"

namespace forestcast::multicast {
namespace {

using test::FakeOverlay;
using test::handle;
using test::kTick;
using test::ScribeTest;

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

// A leaf of a control group (SplitStream's spare capacity groups) that unsubscribes leaves its
// parent at once, so anycast walks stop visiting it; a data topic's member waits for the tick
// (its children, if any arrive meanwhile, still need the feed). Subscribing again joins afresh.
TEST_F(ScribeTest, ControlGroupLeafThatUnsubscribesLeavesItsParentAtOnce) {
  overlay_.next = handle(0x3900000000000000ULL, 9);
  scribe_.subscribe(ms(0), topic_, true);
  scribe_.receive_direct(ms(0), parent_,
                         std::make_shared<const AcceptMsg>(PathBody{topic_, {parent_.id}}));
  ASSERT_TRUE(scribe_.topic(topic_)->attached);
  overlay_.clear();
  scribe_.unsubscribe(ms(10), topic_);
  auto leaves = overlay_.sent_of<LeaveMsg>();
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0].first, parent_);
  EXPECT_FALSE(scribe_.topic(topic_)->attached);  // routed JOINs and new walks pass it by
  overlay_.clear();
  scribe_.subscribe(ms(20), topic_, true);
  EXPECT_EQ(overlay_.routed_of<JoinMsg>().size(), 1u);
  EXPECT_EQ(overlay_.sent_of<LeaveMsg>().size(), 0u);
}

TEST_F(ScribeTest, DataTopicMemberThatUnsubscribesLeavesAtItsTick) {
  attach(ms(0));
  overlay_.clear();
  scribe_.unsubscribe(ms(10), topic_);
  EXPECT_EQ(overlay_.sent_of<LeaveMsg>().size(), 0u);
  scribe_.on_timer(ms(200), kTick);
  EXPECT_EQ(overlay_.sent_of<LeaveMsg>().size(), 1u);
  EXPECT_EQ(scribe_.topic(topic_), nullptr);
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

TEST_F(ScribeTest, ChildWhoseGrandparentIsFoundDeadTooRoutesAtOnce) {
  attach(ms(0));
  const NodeHandle grandparent = handle(0x3180000000000000ULL, 7);
  PathBody p{topic_, {grandparent.id, parent_.id}};
  p.has_parent = true;
  p.parent = grandparent;
  scribe_.receive_direct(ms(50), parent_, std::make_shared<const HeartbeatMsg>(std::move(p)));
  overlay_.clear();
  scribe_.on_timer(ms(400), kTick);  // parent silent: JOIN to the grandparent, which is probed
  ASSERT_EQ(overlay_.sent_of<JoinMsg>().size(), 1u);
  EXPECT_NE(std::find(overlay_.probed.begin(), overlay_.probed.end(), grandparent),
            overlay_.probed.end());
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty());
  scribe_.node_dead(ms(450), grandparent);  // Pastry: the grandparent is dead as well
  const auto joins = overlay_.routed_of<JoinMsg>();
  ASSERT_EQ(joins.size(), 1u) << "routed now, not after the 500 ms join timeout";
  EXPECT_EQ(joins[0]->body.avoid, parent_.id);
}

// A node that leaves our leaf set was displaced by a closer one; only node_dead() means dead.
// Treating the first as the second dropped live children and left live parents (after a mass
// failure, leaf sets refilling did that to ~900 parents, each a gap for a subtree).
TEST_F(ScribeTest, LeavingTheLeafSetIsNotDying) {
  attach(ms(0));
  adopt_child(ms(0));
  data_from_parent(ms(50), 1);
  overlay_.clear();
  scribe_.leafset_changed(ms(60), parent_, false);
  scribe_.leafset_changed(ms(60), child_, false);
  const TopicState* t = scribe_.topic(topic_);
  ASSERT_TRUE(t->parent.has_value());
  EXPECT_EQ(t->parent->id, parent_.id);
  EXPECT_TRUE(t->has_child(child_.id));
  EXPECT_TRUE(overlay_.sent_of<JoinMsg>().empty());
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty());
  // Pastry's verdict does end both.
  scribe_.node_dead(ms(70), child_);
  EXPECT_FALSE(t->has_child(child_.id));
  scribe_.node_dead(ms(70), parent_);
  EXPECT_FALSE(t->parent.has_value());
  EXPECT_EQ(overlay_.routed_of<JoinMsg>().size(), 1u);
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

// --- cut-off propagation ------------------------------------------------------------------------

TEST_F(ScribeTest, NodeThatLosesItsParentTellsItsChildrenAtOnceThatItIsCutOff) {
  attach(ms(0));
  adopt_child(ms(0));
  overlay_.clear();
  scribe_.on_timer(ms(400), kTick);  // parent silent 400 ms: lost
  const auto hb = overlay_.sent_of<HeartbeatMsg>();
  ASSERT_EQ(hb.size(), 1u);
  EXPECT_EQ(hb[0].first, child_);
  EXPECT_TRUE(hb[0].second->body.detached);
  EXPECT_FALSE(hb[0].second->body.has_parent) << "we are the node repairing";
  // Until we are attached again our heartbeats say so too (not an empty path like a root's).
  overlay_.clear();
  scribe_.on_timer(ms(510), kTick);
  const auto later = overlay_.sent_of<HeartbeatMsg>();
  ASSERT_EQ(later.size(), 1u);
  EXPECT_TRUE(later[0].second->body.detached);
}

TEST_F(ScribeTest, OrphanedNodeTellsItsChildrenItIsCutOff) {
  attach(ms(0));
  adopt_child(ms(0));
  overlay_.clear();
  scribe_.receive_direct(ms(50), parent_,
                         std::make_shared<const RefuseMsg>(RefuseBody{topic_, {}, 0}));
  const auto hb = overlay_.sent_of<HeartbeatMsg>();
  ASSERT_EQ(hb.size(), 1u);
  EXPECT_TRUE(hb[0].second->body.detached);
}

TEST_F(ScribeTest, ChildKeepsARepairingParentForTheGraceThenLeavesAndRejoinsAroundIt) {
  attach(ms(0));
  overlay_.clear();
  PathBody cut{topic_, {parent_.id}};
  cut.detached = true;  // no has_parent: parent_ itself is repairing
  for (int t = 100; t <= 3000; t += 100) {
    scribe_.receive_direct(ms(t), parent_, std::make_shared<const HeartbeatMsg>(cut));
    scribe_.on_timer(ms(t), kTick);
  }
  const TopicState* t = scribe_.topic(topic_);
  EXPECT_TRUE(t->cut_off);
  ASSERT_TRUE(t->parent.has_value()) << "kept during the grace period";
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty());
  overlay_.clear();
  scribe_.receive_direct(ms(3150), parent_, std::make_shared<const HeartbeatMsg>(cut));
  scribe_.on_timer(ms(3150), kTick);  // 3.05 s after the first cut-off notice
  EXPECT_FALSE(t->parent.has_value());
  const auto leaves = overlay_.sent_of<LeaveMsg>();
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0].first, parent_) << "its slot is freed";
  const auto joins = overlay_.routed_of<JoinMsg>();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_TRUE(joins[0]->body.has_avoid);
  EXPECT_EQ(joins[0]->body.avoid, parent_.id);
  EXPECT_EQ(scribe_.counters().cut_off_leaves, 1u);
}

TEST_F(ScribeTest, NodeBelowACutOffParentThatIsNotItselfRepairingWaits) {
  attach(ms(0));
  adopt_child(ms(0));
  overlay_.clear();
  const NodeHandle grandparent = handle(0x3180000000000000ULL, 7);
  PathBody cut{topic_, {grandparent.id, parent_.id}};
  cut.detached = true;
  cut.has_parent = true;  // parent_ still has its parent: the repair is further up
  cut.parent = grandparent;
  for (int t = 100; t <= 6000; t += 100) {
    scribe_.receive_direct(ms(t), parent_, std::make_shared<const HeartbeatMsg>(cut));
    scribe_.on_timer(ms(t), kTick);
  }
  EXPECT_TRUE(scribe_.topic(topic_)->parent.has_value());
  EXPECT_TRUE(scribe_.topic(topic_)->cut_off);
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty());
  // The notice goes on down: our child hears we are cut off, below a parent (not repairing).
  const auto hb = overlay_.sent_of<HeartbeatMsg>();
  ASSERT_FALSE(hb.empty());
  EXPECT_EQ(hb.front().first, child_);
  EXPECT_TRUE(hb.front().second->body.detached);
  EXPECT_TRUE(hb.front().second->body.has_parent);
  EXPECT_EQ(hb.front().second->body.path,
            (std::vector<NodeId>{grandparent.id, parent_.id, self_.id}));
  // Back on the root: attached again, with the real path.
  scribe_.receive_direct(ms(6050), parent_,
                         std::make_shared<const HeartbeatMsg>(PathBody{topic_, {parent_.id}}));
  EXPECT_TRUE(scribe_.topic(topic_)->attached);
  EXPECT_FALSE(scribe_.topic(topic_)->cut_off);
  EXPECT_EQ(scribe_.topic(topic_)->path, std::vector<NodeId>{parent_.id});
}

TEST_F(ScribeTest, CutOffMemberAdoptsNobodyAndPassesRoutedJoinsOn) {
  attach(ms(0));
  overlay_.clear();
  scribe_.on_timer(ms(400), kTick);  // lost its parent: repairing
  overlay::ForwardContext ctx{topic_, child_, child_, 1, overlay_.next, join(), false, false};
  scribe_.forward(ms(410), ctx);
  EXPECT_FALSE(ctx.consumed);
  EXPECT_FALSE(scribe_.topic(topic_)->has_child(child_.id));
  const auto& passed = static_cast<const JoinMsg&>(*ctx.message).body;
  ASSERT_TRUE(passed.has_child);
  EXPECT_EQ(passed.child, child_) << "the next member adopts the joiner, not us";
  // A direct JOIN (push-down) is refused too.
  scribe_.receive_direct(ms(420), child_, join());
  EXPECT_FALSE(scribe_.topic(topic_)->has_child(child_.id));
  EXPECT_EQ(overlay_.sent_of<RefuseMsg>().size(), 1u);
}

TEST_F(ScribeTest, NodeARejoiningChildAvoidsDoesNotTakeItBack) {
  attach(ms(0));
  JoinBody j{topic_};
  j.has_avoid = true;
  j.avoid = self_.id;
  overlay::ForwardContext ctx{
      topic_, child_, child_, 1, overlay_.next, std::make_shared<const JoinMsg>(j), false, false};
  scribe_.forward(ms(10), ctx);
  EXPECT_FALSE(ctx.consumed);
  EXPECT_FALSE(scribe_.topic(topic_)->has_child(child_.id));
}

// --- graceful leave -----------------------------------------------------------------------------

TEST_F(ScribeTest, LeavingNodeFreesItsSlotAndHandsItsChildrenToItsParent) {
  attach(ms(0));
  adopt_child(ms(0));
  overlay_.clear();
  scribe_.leave_all(ms(100));
  const auto leaves = overlay_.sent_of<LeaveMsg>();
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0].first, parent_);
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, child_);
  ASSERT_EQ(refusals[0].second->body.candidates.size(), 1u);
  EXPECT_EQ(refusals[0].second->body.candidates[0], parent_);
  EXPECT_GT(refusals[0].second->body.pushdown_left, 0u);
  EXPECT_EQ(scribe_.counters().children_handed_over, 1u);
  // Afterwards it takes part in nothing: no heartbeats, no adoption.
  overlay_.clear();
  scribe_.on_timer(ms(200), kTick);
  EXPECT_TRUE(overlay_.sent.empty());
  EXPECT_TRUE(overlay_.routed.empty());
  // But a JOIN that still reaches it, directly or routed (Pastry has not heard of the leave
  // everywhere yet), is refused at once, not dropped: the joiner would wait its join timeout.
  scribe_.receive_direct(ms(210), child_, join());
  const NodeHandle other = handle(0x7700000000000000ULL, 9);
  scribe_.deliver(ms(220), overlay::RouteInfo{topic_, other, other, 2}, join());
  const auto after = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].first, child_);
  EXPECT_EQ(after[1].first, other);
  EXPECT_TRUE(after[1].second->body.candidates.empty());
  EXPECT_FALSE(scribe_.topic(topic_)) << "and it adopts nobody";
  EXPECT_EQ(overlay_.sent.size(), 2u);
  EXPECT_TRUE(overlay_.routed.empty());
}

// An anycast walk delivered to a node that has left (it was the group's root in Pastry's
// view) fails back to its requester at once instead of being lost: the requester asks the
// stream's SCG now rather than after its join timeout (integration_stream_leave_20).
TEST_F(ScribeTest, LeftNodeFailsAWalkDeliveredToIt) {
  attach(ms(0));
  scribe_.leave_all(ms(100));
  overlay_.clear();
  AnycastBody a;
  a.topic = NodeId::from_parts(0x5500000000000000ULL, 1);
  a.requester = child_;
  a.want = topic_;
  scribe_.deliver(ms(110), overlay::RouteInfo{a.topic, child_, child_, 2},
                  std::make_shared<const AnycastMsg>(a));
  const auto fails = overlay_.sent_of<AnycastFailMsg>();
  ASSERT_EQ(fails.size(), 1u);
  EXPECT_EQ(fails[0].first, child_);
  EXPECT_EQ(fails[0].second->body.topic, topic_);
}

TEST_F(ScribeTest, ChildHandedOverJoinsTheNamedNodeAtOnce) {
  attach(ms(0));
  overlay_.clear();
  const NodeHandle grandparent = handle(0x3180000000000000ULL, 7);
  // Our parent leaves and names its own parent (plain Scribe: no client to decide).
  scribe_.receive_direct(ms(50), parent_,
                         std::make_shared<const RefuseMsg>(RefuseBody{topic_, {grandparent}, 6}));
  const auto joins = overlay_.sent_of<JoinMsg>();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].first, grandparent);
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty()) << "no wait for the back-off";
}

// --- root fail-over on evidence ----------------------------------------------------------------

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
  // An anycast walk claiming more hops than any walk may take.
  AnycastBody walk;
  walk.requester = handle(0x2000000000000000ULL, 2);
  walk.hops = kMaxAnycastHops + 1;
  std::string long_walk;
  AnycastMsg(walk).encode(long_walk);
  EXPECT_EQ(scribe.decode(static_cast<uint16_t>(MsgType::kAnycast), long_walk), nullptr);
  EXPECT_EQ(count(DecodeError::kTooMany), 2u);
  walk.hops = kMaxAnycastHops;
  long_walk.clear();
  AnycastMsg(walk).encode(long_walk);
  EXPECT_NE(scribe.decode(static_cast<uint16_t>(MsgType::kAnycast), long_walk), nullptr);
  // A root listing more children than it may (RootAck.children), and the most it may.
  RootAckBody ping{NodeId::from_parts(1, 2), 5, false};
  ping.children.assign(kMaxRootChildren + 1, handle(0x2000000000000000ULL, 2));
  std::string many;
  RootAckMsg(ping).encode(many);
  EXPECT_EQ(scribe.decode(static_cast<uint16_t>(MsgType::kRootAck), many), nullptr);
  EXPECT_EQ(count(DecodeError::kTooMany), 3u);
  ping.children.pop_back();
  many.clear();
  RootAckMsg(ping).encode(many);
  const auto listed = scribe.decode(static_cast<uint16_t>(MsgType::kRootAck), many);
  ASSERT_NE(listed, nullptr);
  EXPECT_EQ(static_cast<const RootAckMsg&>(*listed).body.children, ping.children);
  // A CREATE whose topic is not derived from its group.
  CreateBody c = make_create(ModelledKey({1}), "x", 2, 16, 5);
  c.topic = c.group.with_digit(0, 3);
  std::string create;
  CreateMsg(c).encode(create);
  EXPECT_EQ(scribe.decode(static_cast<uint16_t>(MsgType::kCreate), create), nullptr);
  EXPECT_EQ(count(DecodeError::kBadCredentials), 1u);
  EXPECT_EQ(scribe.counters().malformed_total(), 7u);
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

// A walk backtracking through a member it visited before does not count the member twice (a
// leaf used to cost two of the visit bound, there and back); its messages have their own bound.
TEST_F(ScribeTest, AnycastWalkCountsAMemberOnceAndItsMessagesSeparately) {
  attach(ms(0));
  adopt_child(ms(0));
  const NodeHandle requester = handle(0x9000000000000000ULL, 8);
  AnycastBody a;
  a.topic = topic_;
  a.requester = requester;
  a.want = NodeId::from_parts(0x3100000000000000ULL, 5);
  a.visited = {self_.id, child_.id};  // we sent it to our only child, which sends it back
  a.hops = 4;
  overlay_.clear();
  scribe_.receive_direct(ms(1), child_, std::make_shared<const AnycastMsg>(a));
  auto up = overlay_.sent_of<AnycastMsg>();
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].first, parent_);  // subtree done: back up to the parent
  EXPECT_EQ(up[0].second->body.visited, (std::vector<NodeId>{self_.id, child_.id}));
  EXPECT_EQ(up[0].second->body.hops, 5u);
  // At the message bound the walk fails back to its requester, however few members it saw.
  a.hops = static_cast<uint32_t>(3 * ScribeConfig{}.anycast_max_visits);
  overlay_.clear();
  scribe_.receive_direct(ms(2), child_, std::make_shared<const AnycastMsg>(a));
  EXPECT_TRUE(overlay_.sent_of<AnycastMsg>().empty());
  auto failed = overlay_.sent_of<AnycastFailMsg>();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].first, requester);
}

// A control group's tree holds members only: a control JOIN passes a node outside the group
// on its way (naming its joiner, so the first member or the root adopts that one), where a data
// JOIN makes the node a forwarder.
TEST_F(ScribeTest, ControlJoinPassesANodeOutsideTheGroup) {
  overlay_.next = parent_;
  JoinBody j{topic_};
  j.control = true;
  overlay::ForwardContext ctx{
      topic_, child_, child_, 1, overlay_.next, std::make_shared<const JoinMsg>(j), false, false};
  scribe_.forward(ms(0), ctx);
  EXPECT_FALSE(ctx.consumed);
  EXPECT_EQ(scribe_.topic(topic_), nullptr);
  const auto& passed = static_cast<const JoinMsg&>(*ctx.message).body;
  EXPECT_TRUE(passed.has_child);
  EXPECT_EQ(passed.child, child_);
}

// A member that leaves a control group hands its children to its own parent (a REFUSE naming
// it) and leaves, instead of staying in the tree as a forwarder that walks visit in vain.
TEST_F(ScribeTest, ControlGroupMemberThatLeavesHandsItsChildrenToItsParent) {
  overlay_.next = handle(0x3900000000000000ULL, 9);
  scribe_.subscribe(ms(0), topic_, true);
  scribe_.receive_direct(ms(0), parent_,
                         std::make_shared<const AcceptMsg>(PathBody{topic_, {parent_.id}}));
  JoinBody j{topic_};
  j.control = true;
  overlay::ForwardContext ctx{
      topic_, child_, child_, 1, overlay_.next, std::make_shared<const JoinMsg>(j), false, false};
  scribe_.forward(ms(1), ctx);
  ASSERT_TRUE(ctx.consumed);
  ASSERT_TRUE(scribe_.topic(topic_)->has_child(child_.id));
  overlay_.clear();
  scribe_.unsubscribe(ms(10), topic_);
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, child_);
  ASSERT_EQ(refusals[0].second->body.candidates.size(), 1u);
  EXPECT_EQ(refusals[0].second->body.candidates[0], parent_);
  EXPECT_GT(refusals[0].second->body.pushdown_left, 0u);
  const auto leaves = overlay_.sent_of<LeaveMsg>();
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0].first, parent_);
  EXPECT_TRUE(scribe_.topic(topic_)->children.empty());
  EXPECT_EQ(scribe_.counters().control_children_handed_up, 1u);
}

// A walk goes down first to a child picked by its requester's id, so walks entering a wide tree
// at the same node spread over its children.
TEST_F(ScribeTest, AnycastWalkStartsAtAChildPickedByTheRequester) {
  attach(ms(0));
  std::vector<NodeHandle> kids;
  for (uint32_t k = 0; k < 5; ++k) {
    kids.push_back(handle(0x7000000000000000ULL + k, 20 + k));
    overlay::ForwardContext ctx{topic_,        kids.back(), kids.back(), 1,
                                overlay_.next, join(),      false,       false};
    scribe_.forward(ms(1), ctx);
  }
  ASSERT_EQ(scribe_.topic(topic_)->children.size(), 5u);
  for (uint64_t r = 0; r < 5; ++r) {
    const NodeHandle requester = handle(0x9000000000000000ULL, 8);
    AnycastBody a;
    a.topic = topic_;
    a.requester = NodeHandle{NodeId::from_parts(0x9000000000000000ULL, r), requester.endpoint};
    a.want = NodeId::from_parts(0x3100000000000000ULL, 5);
    overlay_.clear();
    scribe_.receive_direct(ms(2), parent_, std::make_shared<const AnycastMsg>(a));
    const auto sent = overlay_.sent_of<AnycastMsg>();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].first, kids[static_cast<size_t>(a.requester.id.value() % 5)]);
  }
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
        for (bool detached : {false, true}) {
          p.detached = detached;
          std::string path;
          HeartbeatMsg(p).encode(path);
          EXPECT_EQ(HeartbeatMsg(p).encoded_size(), path.size())
              << ids << " " << flag << " " << detached;
        }
        AnycastBody a;
        a.topic = NodeId::from_parts(5, 6);
        a.requester = *h;
        a.want = NodeId::from_parts(9, 9);
        a.visited.assign(ids, NodeId::from_parts(3, 4));
        a.relaxed = flag;
        for (uint32_t hops : {0u, 1u, 127u, 128u, 256u}) {
          a.hops = hops;
          std::string any;
          AnycastMsg(a).encode(any);
          EXPECT_EQ(AnycastMsg(a).encoded_size(), any.size()) << ids << " " << flag << " " << hops;
        }
      }
}

}  // namespace
}  // namespace forestcast::multicast
