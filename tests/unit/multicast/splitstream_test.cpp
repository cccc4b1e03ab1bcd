// SplitStream's forest policy driven through Scribe with a fake overlay: the SCGs, the
// publisher's delegates, routed JOINs (push-down: splitstream_pushdown_test.cpp).
#include "multicast/splitstream.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "splitstream_fixture.hpp"

namespace forestcast::multicast {
namespace {

using test::node;
using test::SplitStreamTest;

TEST_F(SplitStreamTest, OrphanTriesItsFormerSiblingsThenTheSpareCapacityGroup) {
  start(16);
  const NodeHandle sibling = node(0x3a00000000000000ULL, 11);
  overlay_.clear();
  scribe_.receive_direct(ms(10), parent_,
                         std::make_shared<const RefuseMsg>(RefuseBody{stripe(3), {sibling}, 2}));
  const auto joins = overlay_.sent_of<JoinMsg>();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].first, sibling);
  EXPECT_EQ(joins[0].second->body.pushdown_left, 1u);
  overlay_.clear();
  // The sibling refuses with no further candidates: anycast to the stripe's own SCG (one pass),
  scribe_.receive_direct(ms(20), sibling,
                         std::make_shared<const RefuseMsg>(RefuseBody{stripe(3), {}, 1}));
  auto anycasts = overlay_.routed_of<AnycastMsg>();
  ASSERT_EQ(anycasts.size(), 1u);
  EXPECT_EQ(anycasts[0]->body.topic, SplitStream::stripe_scg_of(group_, 3));
  EXPECT_EQ(anycasts[0]->body.want, stripe(3));
  EXPECT_TRUE(anycasts[0]->body.relaxed);
  // then, when that walk finds nobody, to the stream's SCG at once,
  overlay_.clear();
  scribe_.receive_direct(ms(30), parent_,
                         std::make_shared<const AnycastFailMsg>(TopicBody{stripe(3)}));
  anycasts = overlay_.routed_of<AnycastMsg>();
  ASSERT_EQ(anycasts.size(), 1u);
  EXPECT_EQ(anycasts[0]->body.topic, SplitStream::scg_of(group_));
  EXPECT_FALSE(anycasts[0]->body.relaxed);
  // and when that one fails too, Scribe's back-off retries later: nothing goes out now.
  overlay_.clear();
  scribe_.receive_direct(ms(40), parent_,
                         std::make_shared<const AnycastFailMsg>(TopicBody{stripe(3)}));
  EXPECT_TRUE(overlay_.routed_of<AnycastMsg>().empty());
  EXPECT_EQ(ss_->counters().stripe_scg_failures, 1u);
  EXPECT_EQ(ss_->counters().anycast_failures, 1u);
}
TEST_F(SplitStreamTest, SpareCapacityGroupMemberAdoptsWhenItReceivesTheStripe) {
  start(2);
  attach(3);
  const NodeHandle orphan = node(0x8800000000000000ULL, 20);
  overlay_.clear();
  EXPECT_TRUE(ss_->anycast_accepts(ms(10), anycast_for(3, orphan, 0)));
  EXPECT_TRUE(scribe_.topic(stripe(3))->has_child(orphan.id));
  ASSERT_EQ(overlay_.sent_of<AcceptMsg>().size(), 1u);
  EXPECT_EQ(ss_->counters().scg_adoptions, 1u);
}
// A member below a cut-off parent (attached, but no data reaches it) does not receive the
// stripe: it adopts no orphan through the SCGs. With walks that find members reliably, such
// members took a stripe's orphans into a cut-off island that never reached the root again
// (2,000 nodes, default capacity: all stripes 0.0005, stripe 8 dead for the whole run).
TEST_F(SplitStreamTest, SpareCapacityGroupMemberBelowACutOffParentDeclines) {
  start(2);
  attach(3);
  PathBody cut{stripe(3), {grandparent_.id, parent_.id}};
  cut.detached = true;
  cut.has_parent = true;
  cut.parent = grandparent_;
  scribe_.receive_direct(ms(5), parent_, std::make_shared<const HeartbeatMsg>(cut));
  ASSERT_TRUE(scribe_.topic(stripe(3))->cut_off);
  const NodeHandle orphan = node(0x8800000000000000ULL, 20);
  EXPECT_FALSE(ss_->anycast_accepts(ms(10), anycast_for(3, orphan, 0)));
  EXPECT_FALSE(scribe_.topic(stripe(3))->has_child(orphan.id));
  EXPECT_EQ(ss_->counters().anycast_not_receiving, 1u);
}
TEST_F(SplitStreamTest, StripeScgTakesOnlyTheStripesDigitOrItsForwarders) {
  start(4);
  attach(3);  // this node's first digit is 3
  attach(5);
  attach(6);
  const NodeHandle a = node(0x8800000000000000ULL, 20);
  const NodeHandle b = node(0x8900000000000000ULL, 21);
  const NodeHandle c = node(0x8a00000000000000ULL, 22);
  EXPECT_TRUE(
      ss_->anycast_accepts(ms(10), anycast_for(3, a, 0, SplitStream::stripe_scg_of(group_, 3))));
  // Stripe 5 is foreign and this node forwards nothing there: not even late in the walk.
  EXPECT_FALSE(
      ss_->anycast_accepts(ms(10), anycast_for(5, b, 40, SplitStream::stripe_scg_of(group_, 5))));
  ASSERT_TRUE(join(5, b));  // now it forwards stripe 5: more children there cost nothing more
  EXPECT_TRUE(
      ss_->anycast_accepts(ms(10), anycast_for(5, c, 0, SplitStream::stripe_scg_of(group_, 5))));
  EXPECT_EQ(ss_->counters().scg_adoptions_foreign, 1u);
}
// A stripe root that is a pure leaf points joiners at the publisher, which feeds one delegate
// in its place: a node of the stripe's digit that offers spare outdegree.
TEST_F(SplitStreamTest, PublisherFeedsOneDelegateOfTheStripesDigitWithSpare) {
  const NodeId group = publish_show(4);
  const NodeId s7 = group.with_digit(0, 7), s8 = group.with_digit(0, 8);
  const NodeHandle no_spare = node(0x7300000000000000ULL, 30);
  const NodeHandle other_digit = node(0x2100000000000000ULL, 31);
  const NodeHandle delegate = node(0x7100000000000000ULL, 32);
  const NodeHandle later = node(0x7200000000000000ULL, 33);
  EXPECT_FALSE(direct_join(ms(5), s7, no_spare, 0));
  EXPECT_FALSE(direct_join(ms(5), s7, other_digit, 5));
  EXPECT_TRUE(direct_join(ms(5), s7, delegate, 5));
  overlay_.clear();
  EXPECT_FALSE(direct_join(ms(5), s7, later, 5));  // one delegate per stripe: the rest go to it
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  ASSERT_EQ(refusals[0].second->body.candidates.size(), 1u);
  EXPECT_EQ(refusals[0].second->body.candidates[0], delegate);
  // Another stripe gets its own delegate.
  EXPECT_TRUE(direct_join(ms(5), s8, node(0x8100000000000000ULL, 34), 1));
  EXPECT_EQ(ss_->used(), 2);
}

// The root of a stripe falls silent: the publisher turns to the successor the root named. That
// first packet must be in the publisher's history like every other, for the successor drops it
// while it still gathers evidence, and what the root that answers gets again comes from there.
TEST_F(SplitStreamTest, PublishersFailOverPacketIsReplayedToTheRootThatAnswers) {
  const NodeId group = publish_show(-1);
  const NodeId s7 = group.with_digit(0, 7);
  const NodeHandle root = node(0x7100000000000000ULL, 40);
  const NodeHandle successor = node(0x7200000000000000ULL, 41);
  const auto payload = std::make_shared<const std::string>("frame");
  auto ack = [&](Time now, const NodeHandle& from, uint64_t seq) {
    RootAckBody a{s7, seq, false};
    a.has_successor = true;
    a.successor = from.id == root.id ? successor : root;
    scribe_.receive_direct(now, from, std::make_shared<const RootAckMsg>(a));
  };
  EXPECT_EQ(ss_->send(ms(10), 7, payload, 0), 1u);
  ack(ms(20), root, 1);
  EXPECT_EQ(ss_->send(ms(100), 7, payload, 0), 2u);
  overlay_.clear();
  EXPECT_EQ(ss_->send(ms(400), 7, payload, 0), 3u);  // 380 ms without an acknowledgement
  const auto failover = overlay_.sent_of<DataMsg>();
  ASSERT_EQ(failover.size(), 1u);
  EXPECT_EQ(failover[0].first, successor);
  EXPECT_TRUE(failover[0].second->body.has_dead_root);
  overlay_.clear();
  ack(ms(410), successor, 0);  // it took over holding nothing
  std::vector<uint64_t> replayed;
  for (const auto& [to, d] : overlay_.sent_of<DataMsg>())
    if (to.id == successor.id) replayed.push_back(d->body.seq);
  EXPECT_EQ(replayed, (std::vector<uint64_t>{1, 2, 3}));
}

// The publisher's delegate dies: its children time out and come back to their grandparent, the
// publisher, avoiding it. The first takes the delegate's place at once (the old one is checked
// and, if alive, pointed below the newcomer) instead of being sent to the silent node.
TEST_F(SplitStreamTest, PublisherGivesASilentDelegatesPlaceToTheGrandchildThatFoundIt) {
  const NodeId group = publish_show(4);
  const NodeId s7 = group.with_digit(0, 7);
  const NodeHandle delegate = node(0x7100000000000000ULL, 32);
  const NodeHandle grandchild = node(0x7200000000000000ULL, 33);
  ASSERT_TRUE(direct_join(ms(5), s7, delegate, 5));
  // Without naming the delegate silent, the grandchild goes to the delegate as before.
  EXPECT_FALSE(direct_join(ms(5), s7, grandchild, 5));
  overlay_.clear();
  EXPECT_TRUE(direct_join(ms(5), s7, grandchild, 5, delegate.id));
  EXPECT_FALSE(scribe_.topic(s7)->has_child(delegate.id));
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, delegate);
  ASSERT_FALSE(refusals[0].second->body.candidates.empty());
  EXPECT_EQ(refusals[0].second->body.candidates[0], grandchild);
  ASSERT_EQ(overlay_.probed.size(), 1u);
  EXPECT_EQ(overlay_.probed[0], delegate);
  EXPECT_EQ(ss_->used(), 1);
  EXPECT_EQ(scribe_.counters().silent_children_replaced, 1u);
  EXPECT_EQ(ss_->counters().limit_violations, 0u);
}
// The publisher's budget is full of children in another stream's stripe (it is that stripe's
// forwarder): a delegate of its own stream is kept and the other stream's child pushed down,
// since the delegate is its stripe's only feed.
TEST_F(SplitStreamTest, PublisherAtItsLimitKeepsItsOwnStripesDelegate) {
  const NodeId group = publish_show(1);
  ss_->set_capacity(1);
  // Another stream's stripe 3, which this node forwards to one child.
  const NodeId other = NodeId::from_parts(0x3b00000000000000ULL, 7);
  scribe_.subscribe(ms(1), other);
  scribe_.receive_direct(ms(1), parent_,
                         std::make_shared<const AcceptMsg>(PathBody{other, {parent_.id}}));
  const NodeHandle other_child = node(0x3c00000000000000ULL, 40);
  JoinBody oj;
  oj.topic = other;
  oj.pushdown_left = 3;
  scribe_.receive_direct(ms(2), other_child, std::make_shared<const JoinMsg>(oj));
  ASSERT_TRUE(scribe_.topic(other)->has_child(other_child.id));
  ASSERT_EQ(ss_->used(), 1);
  // Stripe 7 has no joiner of its digit with spare (a small ring): after delegate_digit_wait
  // one of another digit is taken.
  const NodeId s7 = group.with_digit(0, 7);
  const NodeHandle delegate = node(0x2100000000000000ULL, 32);
  ASSERT_FALSE(direct_join(ms(5), s7, delegate, 5));
  overlay_.clear();
  EXPECT_TRUE(direct_join(ms(5) + ss_->config().delegate_digit_wait, s7, delegate, 5));
  EXPECT_FALSE(scribe_.topic(other)->has_child(other_child.id));
  EXPECT_EQ(ss_->used(), 1);
  EXPECT_EQ(ss_->counters().limit_violations, 0u);
}
// As a stripe's root the publisher feeds one delegate, and hands the place of one without the
// stripe's digit to a joiner that brings spare outdegree (it failed elsewhere, or comes
// directly), pointing the old delegate at it: in the daemon's small rings a delegate for which
// the stripe was foreign filled up with other streams' children, orphaning the stripe's first,
// and the stripe below it starved for good.
TEST_F(SplitStreamTest, PublisherAsRootHandsAForeignDelegatesPlaceToAJoinerWithSpare) {
  const NodeId group = publish_show(4, true);
  const NodeId s7 = group.with_digit(0, 7);
  auto routed_join = [&](Time now, const NodeHandle& from, uint32_t spare) {
    return routed_join_here(now, s7, from, spare);
  };
  const NodeHandle foreign = node(0x2100000000000000ULL, 30);
  const NodeHandle first_try = node(0x9100000000000000ULL, 31);
  const NodeHandle stuck = node(0x9200000000000000ULL, 32);
  const NodeHandle own_digit = node(0x7300000000000000ULL, 33);
  const NodeHandle late = node(0x9300000000000000ULL, 34);
  EXPECT_TRUE(routed_join(ms(5), foreign, 3));
  ASSERT_TRUE(scribe_.topic(s7)->root);
  EXPECT_FALSE(routed_join(ms(10), first_try, 0));  // no spare announced: to the delegate
  EXPECT_FALSE(routed_join(ms(20), stuck, 2));      // within the hold: the delegate stays
  overlay_.clear();
  EXPECT_TRUE(routed_join(ms(3100), stuck, 2));
  EXPECT_FALSE(scribe_.topic(s7)->has_child(foreign.id));
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, foreign);
  ASSERT_FALSE(refusals[0].second->body.candidates.empty());
  EXPECT_EQ(refusals[0].second->body.candidates[0], stuck);
  // A joiner with the stripe's digit takes a foreign delegate's place at once, and keeps it.
  EXPECT_TRUE(routed_join(ms(3200), own_digit, 1));
  EXPECT_FALSE(routed_join(ms(9000), late, 5));
  EXPECT_TRUE(scribe_.topic(s7)->has_child(own_digit.id));
  EXPECT_EQ(ss_->used(), 1);
  EXPECT_EQ(ss_->counters().delegate_swaps, 2u);
}
// As a stripe's root without a child there, the publisher takes a first joiner of the stripe's
// digit even without spare outdegree (at 2,000 nodes default capacity none with spare came and
// the stripe fed one viewer); one of another digit without spare is still refused.
TEST_F(SplitStreamTest, PublisherAsRootTakesAFirstDelegateOfTheDigitWithoutSpare) {
  const NodeId group = publish_show(4, true);
  const NodeId s7 = group.with_digit(0, 7);
  auto routed_join = [&](Time now, const NodeHandle& from) {
    return routed_join_here(now, s7, from, 0);
  };
  EXPECT_FALSE(routed_join(ms(5), node(0x2100000000000000ULL, 30)));
  ASSERT_TRUE(scribe_.topic(s7)->root);
  EXPECT_TRUE(routed_join(ms(10), node(0x7300000000000000ULL, 31)));
  EXPECT_FALSE(routed_join(ms(20), node(0x7400000000000000ULL, 32)));  // to the delegate
  EXPECT_EQ(ss_->used(), 1);
}

// A pure-leaf root's delegate should have the stripe's digit, but a small ring may have no such
// node with spare: after `delegate_digit_wait` without one the publisher takes any joiner with
// spare (the daemon's default outdegree left such stripes unfed for good).
TEST_F(SplitStreamTest, PublisherTakesADelegateOfAnotherDigitWhenNoneOfTheDigitComes) {
  const NodeId group = publish_show(4);
  const NodeId s7 = group.with_digit(0, 7);
  const NodeHandle other_digit = node(0x2100000000000000ULL, 31);
  EXPECT_FALSE(direct_join(ms(5), s7, other_digit, 5));
  EXPECT_FALSE(direct_join(ms(1500), s7, other_digit, 5));  // still waiting for the digit
  EXPECT_FALSE(direct_join(ms(2100), s7, node(0x2200000000000000ULL, 32), 0));  // no spare
  EXPECT_TRUE(direct_join(ms(2100), s7, other_digit, 5));
  EXPECT_EQ(ss_->used(), 1);
}
TEST_F(SplitStreamTest, StreamScgPrefersMembersForwardingNothingYet) {
  start(4);
  attach(3);
  attach(5);
  attach(6);
  const NodeHandle a = node(0x8800000000000000ULL, 20);
  const NodeHandle b = node(0x8900000000000000ULL, 21);
  // Forwarding nothing: adopting in a foreign stripe leaves it interior in one stripe.
  EXPECT_TRUE(ss_->anycast_accepts(ms(10), anycast_for(5, a, 0)));
  // Now it forwards stripe 5: a stripe-6 orphan waits for a better member early in the walk,
  EXPECT_FALSE(ss_->anycast_accepts(ms(10), anycast_for(6, b, 0)));
  EXPECT_EQ(ss_->counters().anycast_foreign_deferred, 1u);
  // and late in the walk any member with spare outdegree takes it.
  EXPECT_TRUE(ss_->anycast_accepts(ms(10), anycast_for(6, b, 40)));
}
TEST_F(SplitStreamTest, SpareCapacityGroupNeverAdoptsAnAncestor) {
  start(2);
  attach(3);
  // parent_ and grandparent_ are above us in stripe 3: adopting either would close a loop.
  EXPECT_FALSE(ss_->anycast_accepts(ms(10), anycast_for(3, parent_, 0)));
  EXPECT_FALSE(ss_->anycast_accepts(ms(10), anycast_for(3, grandparent_, 0)));
  EXPECT_EQ(ss_->counters().anycast_descendant, 2u);
  EXPECT_EQ(ss_->used(), 0);
}
TEST_F(SplitStreamTest, SpareCapacityGroupMemberWithoutSpareDeclines) {
  start(1);
  attach(3);
  ASSERT_TRUE(join(3, node(0x3a00000000000000ULL, 11)));
  EXPECT_FALSE(ss_->anycast_accepts(ms(10), anycast_for(3, node(0x8800000000000000ULL, 20), 0)));
  EXPECT_EQ(ss_->counters().anycast_no_spare, 1u);
}
TEST_F(SplitStreamTest, PureLeafAdoptsNobody) {
  start(0);
  attach(3);
  EXPECT_FALSE(join(3, node(0x3a00000000000000ULL, 11)));
  EXPECT_EQ(ss_->used(), 0);
}
// A stripe tree grows from its forwarders: a member without children in the stripe passes a
// routed JOIN on (naming the joiner) toward the root; once it forwards the stripe it absorbs
// them. So a stripe's children gather on few nodes and the others keep their budget whole.
TEST_F(SplitStreamTest, RoutedJoinPassesAMemberWithoutChildrenThere) {
  start(4);
  attach(3);
  const NodeHandle a = node(0x9000000000000000ULL, 10);
  auto ctx = routed_join(3, a);
  EXPECT_FALSE(ctx.consumed);
  EXPECT_FALSE(scribe_.topic(stripe(3))->has_child(a.id));
  const auto& passed = static_cast<const JoinMsg&>(*ctx.message).body;
  ASSERT_TRUE(passed.has_child);
  EXPECT_EQ(passed.child, a);
  ASSERT_TRUE(join(3, node(0x3a00000000000000ULL, 11)));  // pushed down here: a forwarder now
  ctx = routed_join(3, a);
  EXPECT_TRUE(ctx.consumed);
  EXPECT_TRUE(scribe_.topic(stripe(3))->has_child(a.id));
}
// A node that forwards foreign stripes only gave its budget to them: it takes no child in its
// own stripe, directly or through the SCGs, so it stays interior in one stripe.
TEST_F(SplitStreamTest, ForwarderOfAForeignStripeOnlyTakesNoneOfItsOwn) {
  start(4);
  attach(3);  // this node's first digit is 3
  attach(5);
  ASSERT_TRUE(join(5, node(0x5100000000000000ULL, 10)));
  EXPECT_FALSE(join(3, node(0x3a00000000000000ULL, 11)));
  EXPECT_EQ(ss_->used(), 1);
  // Its own stripe's SCG (it still receives the stripe) passes a stripe-3 orphan on, and the
  // stream's SCG finds it no better suited than any member with spare.
  const NodeHandle orphan = node(0x8800000000000000ULL, 20);
  EXPECT_FALSE(ss_->anycast_accepts(
      ms(20), anycast_for(3, orphan, 0, SplitStream::stripe_scg_of(group_, 3))));
  EXPECT_FALSE(ss_->anycast_accepts(ms(20), anycast_for(3, orphan, 0)));
  EXPECT_EQ(ss_->counters().anycast_foreign_deferred, 2u);
  EXPECT_TRUE(ss_->anycast_accepts(ms(20), anycast_for(3, orphan, 40)));  // late: anyone
}
// Interior in two stripes already, a member of the stream's SCG adopts in a third as early in
// the walk as one forwarding nothing: it costs the forest's interior-disjointness nothing.
// Interior in one, it waits for the walk's later part like any member already forwarding.
TEST_F(SplitStreamTest, MemberInteriorInTwoStripesAdoptsEarlyInTheStreamsWalk) {
  start(4);
  attach(3);
  attach(5);
  attach(9);
  ASSERT_TRUE(join(3, node(0x3a00000000000000ULL, 10)));
  const NodeHandle orphan = node(0x9900000000000000ULL, 20);
  EXPECT_FALSE(ss_->anycast_accepts(ms(20), anycast_for(9, orphan, 0)));
  EXPECT_EQ(ss_->counters().anycast_foreign_deferred, 1u);
  ASSERT_TRUE(join(5, node(0x5100000000000000ULL, 11)));
  EXPECT_TRUE(ss_->anycast_accepts(ms(20), anycast_for(9, orphan, 0)));
  EXPECT_TRUE(scribe_.topic(stripe(9))->has_child(orphan.id));
}
// Every REFRESH a child sends its parents carries its spare outdegree.
TEST_F(SplitStreamTest, RefreshCarriesTheSpareOutdegree) {
  start(5);
  attach(3);
  ASSERT_TRUE(join(3, node(0x3a00000000000000ULL, 11)));
  overlay_.clear();
  scribe_.on_timer(ms(50), 1);  // Scribe's first tick refreshes at once
  const auto refreshes = overlay_.sent_of<RefreshMsg>();
  ASSERT_EQ(refreshes.size(), 1u);
  EXPECT_EQ(refreshes[0].first, parent_);
  EXPECT_EQ(refreshes[0].second->body.spare, 4u);

  std::string bytes;
  refreshes[0].second->encode(bytes);
  DecodeError error = DecodeError::kNone;
  const auto back = decode_message(static_cast<uint16_t>(MsgType::kRefresh), bytes, error);
  ASSERT_NE(back, nullptr) << to_string(error);
  EXPECT_EQ(static_cast<const RefreshMsg&>(*back).body.spare, 4u);
  bytes.clear();
  RefreshMsg(RefreshBody{{stripe(3)}, 70000}).encode(bytes);  // more than any outdegree
  EXPECT_EQ(decode_message(static_cast<uint16_t>(MsgType::kRefresh), bytes, error), nullptr);
  EXPECT_EQ(error, DecodeError::kTooMany);
}

}  // namespace
}  // namespace forestcast::multicast
