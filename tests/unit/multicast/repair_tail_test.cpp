// The repair tail after mass failures (session 12): an orphan asks every ancestor it knows for
// room at once and walks the stripe's SCG beside them, an ancestor that does not receive the
// stripe sends it on to the next one at once, and a push-down candidate that did not answer is
// neither waited for with a back-off nor asked again.
#include <gtest/gtest.h>

#include <memory>

#include "fake_overlay.hpp"
#include "multicast/credentials.hpp"
#include "multicast/scribe.hpp"
#include "multicast/splitstream.hpp"

namespace forestcast::multicast {
namespace {

using test::FakeOverlay;
using test::handle;

constexpr uint64_t kTick = 1;  // Scribe's tick token

class RepairTailTest : public ::testing::Test {
 protected:
  NodeHandle self_ = handle(0x3000000000000000ULL, 1);
  NodeHandle parent_ = handle(0x3100000000000000ULL, 2);
  NodeHandle grandparent_ = handle(0x3180000000000000ULL, 7);
  NodeHandle great_ = handle(0x31c0000000000000ULL, 8);
  NodeHandle top_ = handle(0x31e0000000000000ULL, 9);
  NodeHandle other_ = handle(0x3900000000000000ULL, 12);
  NodeHandle sibling_ = handle(0x3a00000000000000ULL, 13);
  NodeId group_ = NodeId::from_parts(0x3abc000000000000ULL, 42);
  NodeId topic_ = group_.with_digit(0, 3);  // stripe 3 of group_
  FakeOverlay overlay_{self_};
  ModelledCredentials credentials_;
  Scribe scribe_{overlay_, ScribeConfig{}, credentials_};

  void attach_with_ancestors(Time now) {
    overlay_.next = handle(0x3900000000000000ULL, 19);
    scribe_.subscribe(now, topic_);
    PathBody p{topic_, {top_.id, great_.id, grandparent_.id, parent_.id}};
    p.has_parent = true;
    p.parent = grandparent_;
    p.ancestors = {great_, top_};
    scribe_.receive_direct(now, parent_, std::make_shared<const AcceptMsg>(std::move(p)));
  }
  void lose_parent_by_silence() {
    attach_with_ancestors(ms(0));
    overlay_.clear();
    scribe_.on_timer(ms(400), kTick);
  }
};

TEST_F(RepairTailTest, BackupJoinsGoToEveryKnownAncestorAboveTheGrandparent) {
  lose_parent_by_silence();
  const auto joins = overlay_.sent_of<JoinMsg>();
  ASSERT_EQ(joins.size(), 3u);
  EXPECT_EQ(joins[0].first, grandparent_);
  EXPECT_FALSE(joins[0].second->body.backup);
  EXPECT_EQ(joins[1].first, great_);
  EXPECT_TRUE(joins[1].second->body.backup);
  EXPECT_EQ(joins[2].first, top_);
  EXPECT_TRUE(joins[2].second->body.backup);
  EXPECT_EQ(scribe_.counters().backup_joins_sent, 2u);
}

TEST_F(RepairTailTest, AncestorNotReceivingTheTopicSendsUsToTheNextOneAtOnce) {
  lose_parent_by_silence();
  overlay_.clear();
  // The grandparent is repairing itself: a refusal with no push-down left.
  scribe_.receive_direct(ms(450), grandparent_,
                         std::make_shared<const RefuseMsg>(RefuseBody{topic_, {}, 0}));
  const auto joins = overlay_.sent_of<JoinMsg>();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].first, great_);
  EXPECT_FALSE(joins[0].second->body.backup) << "now the primary: it may push down for us";
  EXPECT_EQ(scribe_.counters().ancestors_not_receiving, 1u);
}

TEST_F(RepairTailTest, UnansweredDirectJoinTimesOutWithoutTheBackOff) {
  attach_with_ancestors(ms(0));
  // Pushed down by our parent toward a sibling (plain Scribe goes there at once).
  scribe_.receive_direct(ms(100), parent_,
                         std::make_shared<const RefuseMsg>(RefuseBody{topic_, {sibling_}, 5}));
  ASSERT_EQ(overlay_.sent_of<JoinMsg>().size(), 1u);
  scribe_.topic(topic_)->join_attempts = 3;  // a back-off of 2 s
  overlay_.clear();
  scribe_.on_timer(ms(650), kTick);
  EXPECT_EQ(overlay_.routed_of<JoinMsg>().size(), 1u)
      << "the sibling did not answer within the join timeout: route now, not after 2 s";
  EXPECT_TRUE(scribe_.topic(topic_)->was_unanswered(sibling_.id));
}

class RepairTailSplitStreamTest : public RepairTailTest {
 protected:
  std::unique_ptr<SplitStream> ss_;
  void start() {
    SplitStreamConfig c;
    c.capacity = 4;
    ss_ = std::make_unique<SplitStream>(scribe_, c);
    overlay_.next = handle(0xf000000000000000ULL, 99);
    ss_->view(ms(0), group_, nullptr);
  }
};

TEST_F(RepairTailSplitStreamTest, PushDownCandidateThatDidNotAnswerIsNotAskedAgain) {
  start();
  attach_with_ancestors(ms(0));
  scribe_.receive_direct(ms(100), parent_, std::make_shared<const RefuseMsg>(
                                               RefuseBody{topic_, {sibling_, other_}, 5}));
  auto joins = overlay_.sent_of<JoinMsg>();
  ASSERT_FALSE(joins.empty());
  EXPECT_EQ(joins.back().first, sibling_);
  scribe_.on_timer(ms(650), kTick);  // the sibling is silent: a routed JOIN
  overlay_.clear();
  // Refused again where the JOIN was routed, with the same (dead) sibling first.
  scribe_.receive_direct(ms(700), great_, std::make_shared<const RefuseMsg>(
                                              RefuseBody{topic_, {sibling_, other_}, 5}));
  joins = overlay_.sent_of<JoinMsg>();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].first, other_);
  EXPECT_EQ(ss_->counters().pushdown_unanswered_skipped, 1u);
}

TEST_F(RepairTailSplitStreamTest, OrphanWalksTheStripeScgBesideItsAncestorsJoins) {
  start();
  attach_with_ancestors(ms(0));
  overlay_.clear();
  scribe_.on_timer(ms(400), kTick);  // the parent fell silent
  const auto walks = overlay_.routed_of<AnycastMsg>();
  ASSERT_EQ(walks.size(), 1u);
  EXPECT_EQ(walks[0]->body.topic, SplitStream::stripe_scg_of(group_, 3));
  EXPECT_EQ(walks[0]->body.want, topic_);
  EXPECT_EQ(walks[0]->body.requester, self_);
  ASSERT_FALSE(overlay_.sent_of<JoinMsg>().empty());
  EXPECT_EQ(overlay_.sent_of<JoinMsg>()[0].first, grandparent_);
  EXPECT_EQ(scribe_.counters().repair_walks_sent, 1u);
  // The walk's acceptor answers first: taken; the grandparent's later ACCEPT gets a LEAVE.
  scribe_.receive_direct(ms(450), other_, std::make_shared<const AcceptMsg>(
                                              PathBody{topic_, {top_.id, other_.id}}));
  ASSERT_TRUE(scribe_.topic(topic_)->parent.has_value());
  EXPECT_EQ(scribe_.topic(topic_)->parent->id, other_.id);
  EXPECT_EQ(scribe_.counters().repair_walk_adoptions, 1u);
  overlay_.clear();
  scribe_.receive_direct(ms(470), grandparent_, std::make_shared<const AcceptMsg>(
                                                    PathBody{topic_, {top_.id, grandparent_.id}}));
  ASSERT_EQ(overlay_.sent_of<LeaveMsg>().size(), 1u);
  EXPECT_EQ(overlay_.sent_of<LeaveMsg>()[0].first, grandparent_);
}

TEST_F(RepairTailSplitStreamTest, ChildOfADeadRootWalksNobody) {
  start();
  overlay_.next = handle(0x3900000000000000ULL, 19);
  PathBody p{topic_, {parent_.id}};  // parent_ is the stripe's root
  p.has_parent = true;
  p.parent = grandparent_;  // its successor
  scribe_.receive_direct(ms(0), parent_, std::make_shared<const AcceptMsg>(std::move(p)));
  overlay_.clear();
  scribe_.on_timer(ms(400), kTick);
  EXPECT_TRUE(overlay_.routed_of<AnycastMsg>().empty());
  ASSERT_FALSE(overlay_.sent_of<JoinMsg>().empty());
  EXPECT_EQ(overlay_.sent_of<JoinMsg>()[0].first, grandparent_);
}

TEST_F(RepairTailSplitStreamTest, NoRepairWalkWhenSwitchedOff) {
  ScribeConfig c;
  c.repair_walk = false;
  Scribe scribe{overlay_, c, credentials_};
  SplitStreamConfig sc;
  sc.capacity = 4;
  SplitStream ss(scribe, sc);
  overlay_.next = handle(0xf000000000000000ULL, 99);
  ss.view(ms(0), group_, nullptr);
  PathBody p{topic_, {top_.id, great_.id, grandparent_.id, parent_.id}};
  p.has_parent = true;
  p.parent = grandparent_;
  scribe.receive_direct(ms(0), parent_, std::make_shared<const AcceptMsg>(std::move(p)));
  overlay_.clear();
  scribe.on_timer(ms(400), kTick);
  EXPECT_TRUE(overlay_.routed_of<AnycastMsg>().empty());
  EXPECT_EQ(scribe.counters().repair_walks_sent, 0u);
}

}  // namespace
}  // namespace forestcast::multicast
