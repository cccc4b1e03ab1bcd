// Scribe's fast repair after mass failures, driven with a fake overlay and fake time: ancestors
// in the path, the backup JOIN to the great-grandparent, a dead child's slot freed on its
// orphan's word, lost anycast walks re-issued, and walks that skip silent members.
#include <gtest/gtest.h>

#include <algorithm>

#include "fake_overlay.hpp"
#include "multicast/credentials.hpp"
#include "multicast/scribe.hpp"
#include "multicast/splitstream.hpp"

namespace forestcast::multicast {
namespace {

using test::FakeOverlay;
using test::handle;

constexpr uint64_t kTick = 1;  // Scribe's tick token

class RepairTest : public ::testing::Test {
 protected:
  NodeHandle self_ = handle(0x3000000000000000ULL, 1);
  NodeHandle parent_ = handle(0x3100000000000000ULL, 2);
  NodeHandle grandparent_ = handle(0x3180000000000000ULL, 7);
  NodeHandle great_ = handle(0x31c0000000000000ULL, 8);  // great-grandparent
  NodeHandle top_ = handle(0x31e0000000000000ULL, 9);    // one above it
  NodeHandle child_ = handle(0x7000000000000000ULL, 3);
  NodeId topic_ = NodeId::from_parts(0x3abc000000000000ULL, 42);
  FakeOverlay overlay_{self_};
  ModelledCredentials credentials_;
  Scribe scribe_{overlay_, ScribeConfig{}, credentials_};

  // Attached below parent_, whose path message names its parent and two more ancestors.
  void attach_with_ancestors(Time now) {
    overlay_.next = handle(0x3900000000000000ULL, 19);
    scribe_.subscribe(now, topic_);
    PathBody p{topic_, {top_.id, great_.id, grandparent_.id, parent_.id}};
    p.has_parent = true;
    p.parent = grandparent_;
    p.ancestors = {great_, top_};
    scribe_.receive_direct(now, parent_, std::make_shared<const AcceptMsg>(std::move(p)));
  }
  // The parent falls silent: the tick at 400 ms declares it dead.
  void lose_parent_by_silence() {
    attach_with_ancestors(ms(0));
    overlay_.clear();
    scribe_.on_timer(ms(400), kTick);
  }
  std::vector<std::pair<NodeHandle, const JoinMsg*>> direct_joins() const {
    return overlay_.sent_of<JoinMsg>();
  }
  void accept_from(Time now, const NodeHandle& from) {
    PathBody p{topic_, {top_.id, from.id}};
    scribe_.receive_direct(now, from, std::make_shared<const AcceptMsg>(std::move(p)));
  }
};

TEST_F(RepairTest, ChildrenLearnTheAncestorsAboveTheirGrandparent) {
  attach_with_ancestors(ms(0));
  overlay::ForwardContext ctx{topic_,        child_,
                              child_,        1,
                              overlay_.next, std::make_shared<const JoinMsg>(JoinBody{topic_}),
                              false,         false};
  scribe_.forward(ms(10), ctx);
  const auto accepts = overlay_.sent_of<AcceptMsg>();
  ASSERT_EQ(accepts.size(), 1u);
  const PathBody& p = accepts[0].second->body;
  EXPECT_EQ(p.parent, parent_);
  // Nearest first, bounded: our grandparent, then what our parent told us.
  EXPECT_EQ(p.ancestors, (std::vector<NodeHandle>{grandparent_, great_, top_}));
}

TEST_F(RepairTest, OrphanAsksItsGreatGrandparentInParallelForRoomToSpare) {
  lose_parent_by_silence();
  const auto joins = direct_joins();
  ASSERT_EQ(joins.size(), 3u);  // and the one above it (repair_tail_test.cpp)
  EXPECT_EQ(joins[0].first, grandparent_);
  EXPECT_FALSE(joins[0].second->body.backup);
  EXPECT_EQ(joins[1].first, great_);
  EXPECT_TRUE(joins[1].second->body.backup);
  EXPECT_EQ(joins[1].second->body.avoid, parent_.id);
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty());
  EXPECT_EQ(scribe_.counters().backup_joins_sent, 2u);
}

TEST_F(RepairTest, FirstAncestorToAcceptWinsTheOtherGetsALeave) {
  lose_parent_by_silence();
  accept_from(ms(450), great_);  // the grandparent died with the parent: the backup answers
  ASSERT_TRUE(scribe_.topic(topic_)->parent.has_value());
  EXPECT_EQ(scribe_.topic(topic_)->parent->id, great_.id);
  overlay_.clear();
  accept_from(ms(470), grandparent_);  // alive after all, but late
  const auto leaves = overlay_.sent_of<LeaveMsg>();
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0].first, grandparent_);
  EXPECT_EQ(scribe_.topic(topic_)->parent->id, great_.id);
}

TEST_F(RepairTest, RefusalFromTheBackupAncestorIsNotActedOn) {
  lose_parent_by_silence();
  overlay_.clear();
  scribe_.receive_direct(ms(450), great_,
                         std::make_shared<const RefuseMsg>(RefuseBody{topic_, {top_}, 5}));
  EXPECT_TRUE(direct_joins().empty()) << "no push-down toward the backup's candidates";
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty());
  EXPECT_TRUE(scribe_.topic(topic_)->joining);
}

TEST_F(RepairTest, GrandparentFoundDeadTooMeansTheNextAncestorDirectlyNotRouting) {
  lose_parent_by_silence();
  overlay_.clear();
  scribe_.node_dead(ms(450), grandparent_);
  const auto joins = direct_joins();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].first, great_);
  EXPECT_FALSE(joins[0].second->body.backup) << "now the primary: it may push down for us";
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty());
  EXPECT_EQ(scribe_.counters().ancestor_rejoins, 1u);
}

TEST_F(RepairTest, SilentAncestorsAreTriedInTurnThenTheJoinIsRouted) {
  lose_parent_by_silence();
  overlay_.clear();
  scribe_.on_timer(ms(950), kTick);  // the grandparent did not answer within the join timeout
  auto joins = direct_joins();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].first, great_);
  overlay_.clear();
  scribe_.on_timer(ms(1500), kTick);
  joins = direct_joins();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].first, top_);
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty());
  overlay_.clear();
  scribe_.on_timer(ms(2100), kTick);  // none left: route around the dead parent
  const auto routed = overlay_.routed_of<JoinMsg>();
  ASSERT_EQ(routed.size(), 1u);
  EXPECT_EQ(routed[0]->body.avoid, parent_.id);
}

TEST_F(RepairTest, SilentGrandparentCostsTheAncestorTimeoutNotTheJoinTimeout) {
  // A quarter of the ring killed at once: the grandparent is dead for one orphan in four, and
  // Pastry takes far longer than a round trip to say so.
  lose_parent_by_silence();
  overlay_.clear();
  scribe_.on_timer(ms(600), kTick);  // 200 ms: a far grandparent may still answer
  EXPECT_TRUE(direct_joins().empty());
  scribe_.on_timer(ms(700), kTick);  // 300 ms > ancestor_timeout, < join_timeout
  const auto joins = direct_joins();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].first, great_);
  EXPECT_FALSE(joins[0].second->body.backup);
  EXPECT_LT(scribe_.config().ancestor_timeout, scribe_.config().join_timeout);
}

// --- the grandparent's side -----------------------------------------------------------------------

class AncestorTest : public RepairTest {
 protected:
  NodeHandle orphan_ = handle(0x3140000000000000ULL, 11);
  // This node attached, with child_ below it. A direct JOIN: a routed one would pass on a
  // SplitStream node of the stripe's digit that has no children there yet (absorbs_routed_join).
  void attach_with_child() {
    attach_with_ancestors(ms(0));
    scribe_.receive_direct(ms(10), child_, std::make_shared<const JoinMsg>(JoinBody{topic_}));
    ASSERT_TRUE(scribe_.topic(topic_)->has_child(child_.id));
    overlay_.clear();
  }
};

TEST_F(AncestorTest, JoinAvoidingOurChildFreesItsSlotAndProbesIt) {
  attach_with_child();
  JoinBody j{topic_, true, child_.id, 6};
  scribe_.receive_direct(ms(400), orphan_, std::make_shared<const JoinMsg>(j));
  const TopicState* t = scribe_.topic(topic_);
  EXPECT_FALSE(t->has_child(child_.id));
  EXPECT_TRUE(t->has_child(orphan_.id));
  ASSERT_EQ(overlay_.probed.size(), 1u);
  EXPECT_EQ(overlay_.probed[0], child_);
  EXPECT_EQ(scribe_.counters().children_reported_dead, 1u);
  // If alive, the child re-joins at once instead of finding us silent and reporting us dead to
  // our parent in turn (a wrong drop would climb the tree).
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, child_);
  EXPECT_EQ(refusals[0].second->body.topic, topic_);
}

TEST_F(AncestorTest, JoinAvoidingSomeoneElseDropsNobody) {
  attach_with_child();
  JoinBody j{topic_, true, top_.id, 6};
  scribe_.receive_direct(ms(400), orphan_, std::make_shared<const JoinMsg>(j));
  EXPECT_TRUE(scribe_.topic(topic_)->has_child(child_.id));
  EXPECT_TRUE(overlay_.probed.empty());
}

TEST_F(AncestorTest, BackupJoinIsAdoptedWithRoom) {
  attach_with_child();
  JoinBody j{topic_, true, parent_.id, 6};
  j.backup = true;
  scribe_.receive_direct(ms(400), orphan_, std::make_shared<const JoinMsg>(j));
  EXPECT_TRUE(scribe_.topic(topic_)->has_child(orphan_.id));
  EXPECT_EQ(overlay_.sent_of<AcceptMsg>().size(), 1u);
}

TEST_F(AncestorTest, BackupJoinAtANodeNotReceivingTheTopicIsDroppedSilently) {
  JoinBody j{topic_, true, parent_.id, 6};
  j.backup = true;
  scribe_.receive_direct(ms(400), orphan_, std::make_shared<const JoinMsg>(j));
  EXPECT_TRUE(overlay_.sent.empty()) << "no refusal: the joiner would not act on it";
  EXPECT_EQ(scribe_.counters().backup_joins_declined, 1u);
}

// At its limit a SplitStream node pushes a child down for a JOIN, but never for a backup JOIN.
TEST_F(AncestorTest, FullNodeNeverPushesAChildDownForABackupJoin) {
  SplitStreamConfig c;
  c.capacity = 1;
  SplitStream ss(scribe_, c);
  attach_with_child();  // the one slot is taken
  ASSERT_EQ(ss.used(), 1);
  JoinBody j{topic_, true, parent_.id, 6};
  j.backup = true;
  j.spare = 4;
  scribe_.receive_direct(ms(400), orphan_, std::make_shared<const JoinMsg>(j));
  EXPECT_TRUE(scribe_.topic(topic_)->has_child(child_.id));
  EXPECT_FALSE(scribe_.topic(topic_)->has_child(orphan_.id));
  EXPECT_TRUE(overlay_.sent_of<RefuseMsg>().empty());
  EXPECT_EQ(ss.counters().pushdown_orphans, 0u);
  // The same JOIN as a primary does push down (the control case).
  j.backup = false;
  scribe_.receive_direct(ms(410), orphan_, std::make_shared<const JoinMsg>(j));
  EXPECT_EQ(ss.counters().pushdown_orphans, 1u);
}

// --- anycast walks ---------------------------------------------------------------------------------

class WalkTest : public RepairTest {
 protected:
  NodeId group_ = NodeId::from_parts(0x5500000000000000ULL, 1);
  size_t routed_walks() const { return overlay_.routed_of<AnycastMsg>().size(); }
};

TEST_F(WalkTest, LostWalkIsIssuedAgainAfterTheWalkTimeout) {
  // Repairing: the parent died (silent), no grandparent known, so the JOIN was routed.
  attach_with_ancestors(ms(0));
  scribe_.receive_direct(ms(0), parent_, std::make_shared<const AcceptMsg>(
                                             PathBody{topic_, {top_.id, parent_.id}}));
  scribe_.on_timer(ms(400), kTick);
  ASSERT_EQ(overlay_.routed_of<JoinMsg>().size(), 2u);  // the subscription's, the re-join
  overlay_.clear();
  scribe_.anycast(ms(410), group_, topic_);  // refused there: SplitStream asks the SCG
  ASSERT_EQ(routed_walks(), 1u);
  scribe_.on_timer(ms(800), kTick);  // 390 ms: not yet
  EXPECT_EQ(routed_walks(), 1u);
  scribe_.on_timer(ms(900), kTick);
  EXPECT_EQ(routed_walks(), 2u) << "re-issued at once, not after the join back-off";
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty());
  EXPECT_EQ(scribe_.counters().anycasts_lost, 1u);
  scribe_.on_timer(ms(1400), kTick);
  EXPECT_EQ(routed_walks(), 3u);
  // Re-issues spent: the join back-off takes over (a routed JOIN 500 ms after the last walk).
  scribe_.on_timer(ms(1850), kTick);
  EXPECT_EQ(routed_walks(), 3u);
  EXPECT_FALSE(scribe_.topic(topic_)->walk_sent.has_value());
  EXPECT_TRUE(overlay_.routed_of<JoinMsg>().empty());
  scribe_.on_timer(ms(1950), kTick);
  EXPECT_EQ(overlay_.routed_of<JoinMsg>().size(), 1u);
}

TEST_F(WalkTest, WalkOfANodeNotRepairingIsNotTimedOut) {
  // A first join (the forest forming): nobody died, and a tight forest's walk may take seconds.
  overlay_.next = handle(0x3900000000000000ULL, 19);
  scribe_.subscribe(ms(0), topic_);
  scribe_.anycast(ms(10), group_, topic_);
  scribe_.on_timer(ms(500), kTick);
  EXPECT_EQ(routed_walks(), 1u);
  EXPECT_EQ(scribe_.counters().anycasts_lost, 0u);
}

TEST_F(WalkTest, AnsweredWalkIsNotIssuedAgain) {
  attach_with_ancestors(ms(0));
  scribe_.receive_direct(ms(0), parent_, std::make_shared<const AcceptMsg>(
                                             PathBody{topic_, {top_.id, parent_.id}}));
  scribe_.on_timer(ms(400), kTick);
  overlay_.clear();
  scribe_.anycast(ms(410), group_, topic_);
  accept_from(ms(600), great_);
  scribe_.on_timer(ms(900), kTick);
  scribe_.on_timer(ms(1000), kTick);
  EXPECT_EQ(routed_walks(), 1u);
  EXPECT_EQ(scribe_.counters().anycasts_lost, 0u);
}

TEST_F(WalkTest, WalkSkipsAChildThatMissedItsRefresh) {
  // A member of the group with two children; the first stops refreshing (it died).
  overlay_.next = handle(0x3900000000000000ULL, 19);
  scribe_.subscribe(ms(0), group_, true);
  scribe_.receive_direct(ms(0), parent_,
                         std::make_shared<const AcceptMsg>(PathBody{group_, {parent_.id}}));
  const NodeHandle dead = handle(0x5510000000000000ULL, 21);
  const NodeHandle live = handle(0x5520000000000000ULL, 22);
  for (const NodeHandle& c : {dead, live}) {
    JoinBody j{group_};
    j.control = true;
    scribe_.receive_direct(ms(0), c, std::make_shared<const JoinMsg>(j));
  }
  ASSERT_EQ(scribe_.topic(group_)->children.size(), 2u);
  for (int t = 1000; t <= 1400; t += 100)
    scribe_.receive_direct(ms(t), parent_, std::make_shared<const HeartbeatMsg>(
                                               PathBody{group_, {parent_.id}}));
  scribe_.receive_direct(ms(1000), live, std::make_shared<const RefreshMsg>(RefreshBody{{group_}}));
  overlay_.clear();
  AnycastBody a;
  a.topic = group_;
  a.requester = child_;
  a.want = topic_;
  a.relaxed = true;
  scribe_.receive_direct(ms(1400), parent_, std::make_shared<const AnycastMsg>(a));
  const auto sent = overlay_.sent_of<AnycastMsg>();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, live) << "the child silent for 1.4 s is skipped";
  EXPECT_EQ(scribe_.counters().walk_skips, 1u);
}

TEST_F(WalkTest, WalkDoesNotClimbToASilentParent) {
  overlay_.next = handle(0x3900000000000000ULL, 19);
  scribe_.subscribe(ms(0), group_, true);
  scribe_.receive_direct(ms(0), parent_,
                         std::make_shared<const AcceptMsg>(PathBody{group_, {parent_.id}}));
  overlay_.clear();
  AnycastBody a;
  a.topic = group_;
  a.requester = child_;
  a.want = topic_;
  a.relaxed = true;
  scribe_.receive_direct(ms(2000), child_, std::make_shared<const AnycastMsg>(a));
  EXPECT_TRUE(overlay_.sent_of<AnycastMsg>().empty()) << "not to the parent silent for 2 s";
  ASSERT_EQ(routed_walks(), 1u) << "routed toward the group instead";
  overlay_.clear();
  scribe_.receive_direct(ms(2000), parent_, std::make_shared<const HeartbeatMsg>(
                                                PathBody{group_, {parent_.id}}));
  scribe_.receive_direct(ms(2100), child_, std::make_shared<const AnycastMsg>(a));
  const auto sent = overlay_.sent_of<AnycastMsg>();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, parent_);
}

// --- the wire --------------------------------------------------------------------------------------

TEST(RepairMessages, AncestorsAndBackupRoundTripAndAreBounded) {
  PathBody p{NodeId::from_parts(1, 2), {NodeId::from_parts(3, 4)}};
  p.has_parent = true;
  p.parent = handle(0x1100000000000000ULL, 5);
  p.ancestors = {handle(0x1200000000000000ULL, 6), handle(0x1300000000000000ULL, 7)};
  std::string bytes;
  HeartbeatMsg(p).encode(bytes);
  EXPECT_EQ(HeartbeatMsg(p).encoded_size(), bytes.size());
  DecodeError error = DecodeError::kNone;
  auto msg = decode_message(static_cast<uint16_t>(MsgType::kHeartbeat), bytes, error);
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(static_cast<const HeartbeatMsg&>(*msg).body.ancestors, p.ancestors);
  p.ancestors.assign(kMaxAncestors + 1, handle(0x1400000000000000ULL, 8));
  bytes.clear();
  HeartbeatMsg(p).encode(bytes);
  EXPECT_EQ(decode_message(static_cast<uint16_t>(MsgType::kHeartbeat), bytes, error), nullptr);
  EXPECT_EQ(error, DecodeError::kTooMany);
  // An ancestor with a bad address is refused too.
  p.ancestors = {handle(0x1500000000000000ULL, 9)};
  p.ancestors[0].endpoint.port = 0;
  bytes.clear();
  HeartbeatMsg(p).encode(bytes);
  EXPECT_EQ(decode_message(static_cast<uint16_t>(MsgType::kHeartbeat), bytes, error), nullptr);
  EXPECT_EQ(error, DecodeError::kBadAddress);
  JoinBody j{NodeId::from_parts(1, 2)};
  j.backup = true;
  bytes.clear();
  JoinMsg(j).encode(bytes);
  msg = decode_message(static_cast<uint16_t>(MsgType::kJoin), bytes, error);
  ASSERT_NE(msg, nullptr);
  EXPECT_TRUE(static_cast<const JoinMsg&>(*msg).body.backup);
}

}  // namespace
}  // namespace forestcast::multicast
