// SplitStream's forest policy driven through Scribe with a fake overlay.
#include "multicast/splitstream.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "fake_overlay.hpp"

namespace forestcast::multicast {
namespace {

using test::FakeOverlay;
using test::handle;

NodeHandle node(uint64_t hi, uint32_t addr) { return handle(hi, addr); }

class SplitStreamTest : public ::testing::Test {
 protected:
  NodeHandle self_ = node(0x3000000000000000ULL, 1);
  NodeHandle parent_ = node(0x3500000000000000ULL, 2);
  NodeHandle grandparent_ = node(0x3580000000000000ULL, 3);
  NodeId group_ = NodeId::from_parts(0xa5a5a5a5a5a5a5a5ULL, 0x1111);
  FakeOverlay overlay_{self_};
  ModelledCredentials credentials_;
  Scribe scribe_{overlay_, ScribeConfig{}, credentials_};
  std::unique_ptr<SplitStream> ss_;

  void start(int capacity) {
    SplitStreamConfig c;
    c.capacity = capacity;
    ss_ = std::make_unique<SplitStream>(scribe_, c);
    overlay_.next = node(0xf000000000000000ULL, 99);  // never the root here
    ss_->view(ms(0), group_, nullptr);
  }
  NodeId stripe(int i) const { return group_.with_digit(0, i); }
  void attach(int s) {
    scribe_.receive_direct(
        ms(1), parent_,
        std::make_shared<const AcceptMsg>(PathBody{stripe(s), {grandparent_.id, parent_.id}}));
  }
  // A JOIN for stripe s from `child` sent to this node directly (push-down, re-join): routed
  // ones pass a member without children in the stripe (routed_join).
  bool join(int s, const NodeHandle& child) {
    JoinBody j{stripe(s)};
    j.pushdown_left = ScribeConfig{}.pushdown_depth;
    scribe_.receive_direct(ms(5), child, std::make_shared<const JoinMsg>(j));
    return scribe_.topic(stripe(s))->has_child(child.id);
  }
  // A routed JOIN for stripe s from `child` passing through this node; the JOIN that goes on
  // (passed on, or ours as a new forwarder) is left in `ctx`.
  overlay::ForwardContext routed_join(int s, const NodeHandle& child) {
    overlay::ForwardContext ctx{stripe(s),     child,
                                child,         1,
                                overlay_.next, std::make_shared<const JoinMsg>(JoinBody{stripe(s)}),
                                false,         false};
    scribe_.forward(ms(5), ctx);
    return ctx;
  }
  AnycastBody anycast_for(int s, const NodeHandle& requester, size_t visited,
                          std::optional<NodeId> group = std::nullopt) {
    AnycastBody a;
    a.topic = group ? *group : SplitStream::scg_of(group_);
    a.requester = requester;
    a.want = stripe(s);
    a.visited.assign(visited, NodeId::from_parts(1, 1));
    return a;
  }
};

TEST(PushDownRule, ChildInAStripeOfAnotherDigitGoesFirst) {
  const NodeId self = NodeId::from_parts(0x3000000000000000ULL, 0);
  const NodeId own = NodeId::from_parts(0x3a00000000000000ULL, 0);
  const NodeId foreign = NodeId::from_parts(0x5a00000000000000ULL, 0);
  // The foreign-stripe child even shares a longer prefix with its stripe than the own one.
  const auto pick = SplitStream::choose_orphan(
      self, {{own, node(0x1000000000000000ULL, 1)}, {foreign, node(0x5a10000000000000ULL, 2)}});
  EXPECT_EQ(pick.first, foreign);
}

TEST(PushDownRule, ShortestPrefixThenNumericallyFarthest) {
  const NodeId self = NodeId::from_parts(0x3000000000000000ULL, 0);
  const NodeId s = NodeId::from_parts(0x3a00000000000000ULL, 0);
  const NodeHandle long_prefix = node(0x3a10000000000000ULL, 1);
  const NodeHandle near = node(0x4000000000000000ULL, 2);  // prefix 0, close to the stripe
  const NodeHandle far = node(0xb000000000000000ULL, 3);   // prefix 0, farthest
  auto pick = SplitStream::choose_orphan(self, {{s, long_prefix}, {s, near}, {s, far}});
  EXPECT_EQ(pick.second, far);
  pick = SplitStream::choose_orphan(self, {{s, long_prefix}, {s, near}});
  EXPECT_EQ(pick.second, near);
  // Order of the candidates does not matter: the choice is deterministic.
  pick = SplitStream::choose_orphan(self, {{s, far}, {s, near}, {s, long_prefix}});
  EXPECT_EQ(pick.second, far);
}

TEST_F(SplitStreamTest, AtTheLimitAdoptsTheNewcomerAndOrphansAForeignStripeChild) {
  start(2);
  attach(3);
  attach(5);
  const NodeHandle a = node(0x7000000000000000ULL, 10);
  const NodeHandle b = node(0x3a00000000000000ULL, 11);
  const NodeHandle c = node(0x3a50000000000000ULL, 12);
  EXPECT_TRUE(join(3, b));  // its own stripe first: it is no foreign-only forwarder
  EXPECT_TRUE(join(5, a));
  EXPECT_EQ(ss_->used(), 2);
  overlay_.clear();
  EXPECT_TRUE(join(3, c));
  EXPECT_FALSE(scribe_.topic(stripe(5))->has_child(a.id));
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, a);
  EXPECT_EQ(refusals[0].second->body.topic, stripe(5));
  EXPECT_EQ(ss_->used(), 2);
  EXPECT_EQ(ss_->counters().limit_violations, 0u);
}

// The root of stripe 2 is this node of digit 3 (a stripeId just above a digit boundary has its
// closest node below it). Its budget is full of its own stripe's children, so the rule alone
// (a foreign stripe's child goes first) would refuse every joiner of stripe 2 and the stripe
// would reach nobody. With no child in stripe 2 it keeps the joiner and orphans by the rule
// among the others.
TEST_F(SplitStreamTest, AStripesRootOfAnotherDigitKeepsItsFirstChild) {
  start(2);
  attach(3);
  ASSERT_TRUE(join(3, node(0x3a00000000000000ULL, 11)));
  ASSERT_TRUE(join(3, node(0x9000000000000000ULL, 12)));
  ASSERT_EQ(ss_->used(), 2);
  const NodeHandle joiner = node(0x2a00000000000000ULL, 13);
  scribe_.deliver(ms(10), overlay::RouteInfo{stripe(2), joiner, joiner, 2},
                  std::make_shared<const JoinMsg>(JoinBody{stripe(2)}));
  const TopicState* root = scribe_.topic(stripe(2));
  ASSERT_NE(root, nullptr);
  ASSERT_TRUE(root->root);
  EXPECT_TRUE(root->has_child(joiner.id));
  // The orphan is the own-stripe child sharing the shortest prefix with stripe 3.
  EXPECT_FALSE(scribe_.topic(stripe(3))->has_child(node(0x9000000000000000ULL, 12).id));
  EXPECT_EQ(ss_->used(), 2);
  EXPECT_EQ(ss_->counters().limit_violations, 0u);
  // A second joiner of stripe 2 finds a child there already: the rule applies as before and
  // the foreign stripe's newcomer is refused (pushed down to the first child).
  const NodeHandle second = node(0x2b00000000000000ULL, 14);
  scribe_.deliver(ms(20), overlay::RouteInfo{stripe(2), second, second, 2},
                  std::make_shared<const JoinMsg>(JoinBody{stripe(2)}));
  EXPECT_FALSE(scribe_.topic(stripe(2))->has_child(second.id));
  EXPECT_EQ(ss_->used(), 2);
}

TEST_F(SplitStreamTest, NewcomerSharingNoPrefixIsRefusedWithSiblingsToPushDownTo) {
  start(2);
  attach(3);
  const NodeHandle b = node(0x3a00000000000000ULL, 11);  // 2 digits with stripe 3
  const NodeHandle d = node(0x3100000000000000ULL, 12);  // 1 digit
  const NodeHandle e = node(0x9000000000000000ULL, 13);  // none
  ASSERT_TRUE(join(3, d));
  ASSERT_TRUE(join(3, b));
  overlay_.clear();
  EXPECT_FALSE(join(3, e));
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, e);
  const auto& cands = refusals[0].second->body.candidates;
  ASSERT_EQ(cands.size(), 2u);
  EXPECT_EQ(cands[0], b);  // longest prefix with the stripe first
  EXPECT_EQ(cands[1], d);
  EXPECT_GT(refusals[0].second->body.pushdown_left, 0u);
}

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
  SplitStreamConfig c;
  c.capacity = 4;
  ss_ = std::make_unique<SplitStream>(scribe_, c);
  overlay_.next = node(0xf000000000000000ULL, 99);  // the publisher is no stripe's root here
  const NodeId group = ss_->publish(ms(0), ModelledKey({9}), "show");
  const NodeId s7 = group.with_digit(0, 7), s8 = group.with_digit(0, 8);
  auto direct_join = [&](const NodeId& topic, const NodeHandle& from, uint32_t spare) {
    JoinBody j;
    j.topic = topic;
    j.spare = spare;
    j.pushdown_left = 3;
    scribe_.receive_direct(ms(5), from, std::make_shared<const JoinMsg>(j));
    return scribe_.topic(topic)->has_child(from.id);
  };
  const NodeHandle no_spare = node(0x7300000000000000ULL, 30);
  const NodeHandle other_digit = node(0x2100000000000000ULL, 31);
  const NodeHandle delegate = node(0x7100000000000000ULL, 32);
  const NodeHandle later = node(0x7200000000000000ULL, 33);
  EXPECT_FALSE(direct_join(s7, no_spare, 0));
  EXPECT_FALSE(direct_join(s7, other_digit, 5));
  EXPECT_TRUE(direct_join(s7, delegate, 5));
  overlay_.clear();
  EXPECT_FALSE(direct_join(s7, later, 5));  // one delegate per stripe: the rest go to it
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  ASSERT_EQ(refusals[0].second->body.candidates.size(), 1u);
  EXPECT_EQ(refusals[0].second->body.candidates[0], delegate);
  // Another stripe gets its own delegate.
  EXPECT_TRUE(direct_join(s8, node(0x8100000000000000ULL, 34), 1));
  EXPECT_EQ(ss_->used(), 2);
}

// The root of a stripe falls silent: the publisher turns to the successor the root named. That
// first packet must be in the publisher's history like every other, for the successor drops it
// while it still gathers evidence, and what the root that answers gets again comes from there.
TEST_F(SplitStreamTest, PublishersFailOverPacketIsReplayedToTheRootThatAnswers) {
  ss_ = std::make_unique<SplitStream>(scribe_, SplitStreamConfig{});
  overlay_.next = node(0xf000000000000000ULL, 99);  // the publisher is no stripe's root here
  const NodeId group = ss_->publish(ms(0), ModelledKey({9}), "show");
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
  SplitStreamConfig c;
  c.capacity = 4;
  ss_ = std::make_unique<SplitStream>(scribe_, c);
  overlay_.next = node(0xf000000000000000ULL, 99);  // the publisher is no stripe's root here
  const NodeId group = ss_->publish(ms(0), ModelledKey({9}), "show");
  const NodeId s7 = group.with_digit(0, 7);
  const NodeHandle delegate = node(0x7100000000000000ULL, 32);
  const NodeHandle grandchild = node(0x7200000000000000ULL, 33);
  auto direct_join = [&](const NodeHandle& from, uint32_t spare, std::optional<NodeId> avoid) {
    JoinBody j;
    j.topic = s7;
    j.spare = spare;
    j.pushdown_left = 3;
    j.has_avoid = avoid.has_value();
    if (avoid) j.avoid = *avoid;
    scribe_.receive_direct(ms(5), from, std::make_shared<const JoinMsg>(j));
    return scribe_.topic(s7)->has_child(from.id);
  };
  ASSERT_TRUE(direct_join(delegate, 5, std::nullopt));
  // Without naming the delegate silent, the grandchild goes to the delegate as before.
  EXPECT_FALSE(direct_join(grandchild, 5, std::nullopt));
  overlay_.clear();
  EXPECT_TRUE(direct_join(grandchild, 5, delegate.id));
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
  SplitStreamConfig c;
  c.capacity = 1;
  ss_ = std::make_unique<SplitStream>(scribe_, c);
  overlay_.next = node(0xf000000000000000ULL, 99);
  const NodeId group = ss_->publish(ms(0), ModelledKey({9}), "show");
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
  JoinBody j;
  j.topic = s7;
  j.spare = 5;
  j.pushdown_left = 3;
  scribe_.receive_direct(ms(5), delegate, std::make_shared<const JoinMsg>(j));
  ASSERT_FALSE(scribe_.topic(s7)->has_child(delegate.id));
  overlay_.clear();
  scribe_.receive_direct(ms(5) + ss_->config().delegate_digit_wait, delegate,
                         std::make_shared<const JoinMsg>(j));
  EXPECT_TRUE(scribe_.topic(s7)->has_child(delegate.id));
  EXPECT_FALSE(scribe_.topic(other)->has_child(other_child.id));
  EXPECT_EQ(ss_->used(), 1);
  EXPECT_EQ(ss_->counters().limit_violations, 0u);
}

// A full node that is the root of a foreign stripe (no node of its digit in a small ring) keeps
// its only child there when a newcomer of its own digit arrives: that child is the stripe's only
// feed. Orphaning it, foreign stripe first, and taking it back (a root without children keeps its
// newcomer) starved the stripe's whole subtree for 25 s in the daemon (test_streams.py seed
// 724039976).
TEST_F(SplitStreamTest, FullRootKeepsItsStripesOnlyChild) {
  start(2);
  attach(3);
  ASSERT_TRUE(join(3, node(0x3100000000000000ULL, 41)));
  const NodeHandle feed = node(0x5000000000000000ULL, 40);  // stripe 10's only child
  const auto root_overlay_next = overlay_.next;
  overlay_.next.reset();  // the closest node to stripe 10: its root
  scribe_.deliver(ms(5), overlay::RouteInfo{stripe(10), feed, feed, 2},
                  std::make_shared<const JoinMsg>(JoinBody{stripe(10)}));
  overlay_.next = root_overlay_next;
  ASSERT_TRUE(scribe_.topic(stripe(10))->root);
  ASSERT_TRUE(scribe_.topic(stripe(10))->has_child(feed.id));
  ASSERT_EQ(ss_->used(), 2);
  // At the limit, a newcomer in the node's own stripe: push-down picks a victim in stripe 3
  // (or the newcomer), never stripe 10's feed.
  join(3, node(0x3200000000000000ULL, 42));
  EXPECT_TRUE(scribe_.topic(stripe(10))->has_child(feed.id));
  EXPECT_EQ(ss_->used(), 2);
  EXPECT_EQ(ss_->counters().limit_violations, 0u);
}

// As a stripe's root the publisher feeds one delegate, and hands the place of one without the
// stripe's digit to a joiner that brings spare outdegree (it failed elsewhere, or comes
// directly), pointing the old delegate at it: in the daemon's small rings a delegate for which
// the stripe was foreign filled up with other streams' children, orphaning the stripe's first,
// and the stripe below it starved for good.
TEST_F(SplitStreamTest, PublisherAsRootHandsAForeignDelegatesPlaceToAJoinerWithSpare) {
  SplitStreamConfig c;
  c.capacity = 4;
  ss_ = std::make_unique<SplitStream>(scribe_, c);
  overlay_.next.reset();  // this node is the root of every stripe
  const NodeId group = ss_->publish(ms(0), ModelledKey({9}), "show");
  const NodeId s7 = group.with_digit(0, 7);
  auto routed_join = [&](Time now, const NodeHandle& from, uint32_t spare) {
    JoinBody j{s7};
    j.spare = spare;
    scribe_.deliver(now, overlay::RouteInfo{s7, from, from, 2},
                    std::make_shared<const JoinMsg>(j));
    return scribe_.topic(s7)->has_child(from.id);
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

// A pure-leaf root's delegate should have the stripe's digit, but a small ring may have no such
// node with spare: after `delegate_digit_wait` without one the publisher takes any joiner with
// spare (the daemon's default outdegree left such stripes unfed for good).
TEST_F(SplitStreamTest, PublisherTakesADelegateOfAnotherDigitWhenNoneOfTheDigitComes) {
  SplitStreamConfig c;
  c.capacity = 4;
  ss_ = std::make_unique<SplitStream>(scribe_, c);
  overlay_.next = node(0xf000000000000000ULL, 99);  // the publisher is no stripe's root here
  const NodeId group = ss_->publish(ms(0), ModelledKey({9}), "show");
  const NodeId s7 = group.with_digit(0, 7);
  auto direct_join = [&](Time now, const NodeHandle& from, uint32_t spare) {
    JoinBody j;
    j.topic = s7;
    j.spare = spare;
    j.pushdown_left = 3;
    scribe_.receive_direct(now, from, std::make_shared<const JoinMsg>(j));
    return scribe_.topic(s7)->has_child(from.id);
  };
  const NodeHandle other_digit = node(0x2100000000000000ULL, 31);
  EXPECT_FALSE(direct_join(ms(5), other_digit, 5));
  EXPECT_FALSE(direct_join(ms(1500), other_digit, 5));  // still waiting for the digit
  EXPECT_FALSE(direct_join(ms(2100), node(0x2200000000000000ULL, 32), 0));  // no spare: never
  EXPECT_TRUE(direct_join(ms(2100), other_digit, 5));
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

// Successive joiners pushed down from a full node start at different siblings, so its subtree
// fills level by level rather than down the first sibling's line.
TEST_F(SplitStreamTest, PushDownCandidatesStartAtASiblingPickedByTheJoiner) {
  start(3);
  attach(3);
  const NodeHandle b = node(0x3a00000000000000ULL, 11);
  const NodeHandle c = node(0x3b00000000000000ULL, 12);
  const NodeHandle d = node(0x3100000000000000ULL, 13);
  ASSERT_TRUE(join(3, d));
  ASSERT_TRUE(join(3, c));
  ASSERT_TRUE(join(3, b));
  std::vector<NodeHandle> by_rule;  // the siblings in the rule's order, from the first refusal
  std::vector<NodeId> firsts;
  for (uint64_t hi : {0x9000000000000000ULL, 0x9000000000000001ULL, 0x9000000000000002ULL}) {
    const NodeHandle e = node(hi, 20);
    overlay_.clear();
    EXPECT_FALSE(join(3, e));
    const auto refusals = overlay_.sent_of<RefuseMsg>();
    ASSERT_EQ(refusals.size(), 1u);
    const auto& cands = refusals[0].second->body.candidates;
    ASSERT_EQ(cands.size(), 3u);
    const auto start_at = static_cast<size_t>(e.id.value() % 3);
    if (by_rule.empty()) {
      by_rule = cands;
      std::rotate(by_rule.begin(), by_rule.end() - static_cast<std::ptrdiff_t>(start_at),
                  by_rule.end());
      EXPECT_EQ(by_rule[0], b);  // one digit each: the closest to the stripe id first
    }
    for (size_t k = 0; k < 3; ++k) EXPECT_EQ(cands[k], by_rule[(start_at + k) % 3]);
    firsts.push_back(cands[0].id);
  }
  std::sort(firsts.begin(), firsts.end());
  EXPECT_EQ(std::unique(firsts.begin(), firsts.end()), firsts.end());  // three different starts
}

// A full node keeps a newcomer of the stripe's digit with spare only from a child the push-down
// rule puts before it (here one sharing no prefix with the stripeId), pointing that orphan at the
// newcomer. When the rule would orphan the newcomer itself, it is refused and goes down: keeping
// it pushed an interior child of the digit, with its whole subtree, below the newcomer, one
// level per newcomer (1,000 nodes tight, seed 1: a chain 20 deep).
TEST_F(SplitStreamTest, FullNodeKeepsANewcomerOfItsDigitOnlyWhereTheRuleWould) {
  start(2);
  attach(3);
  // Stripe 3 is 0x35a5...: b shares 3 digits with it, c one and is close to it.
  const NodeHandle b = node(0x35a0000000000000ULL, 11);
  const NodeHandle c = node(0x3600000000000000ULL, 12);
  ASSERT_TRUE(join(3, b));
  ASSERT_TRUE(join(3, c));
  auto join_with_spare = [&](const NodeHandle& n) {
    JoinBody j{stripe(3)};
    j.pushdown_left = ScribeConfig{}.pushdown_depth;
    j.spare = 2;
    scribe_.receive_direct(ms(7), n, std::make_shared<const JoinMsg>(j));
    return scribe_.topic(stripe(3))->has_child(n.id);
  };
  // 1 digit and farther from the stripe than c: the rule orphans the newcomer.
  const NodeHandle far = node(0x3f00000000000000ULL, 13);
  overlay_.clear();
  EXPECT_FALSE(join_with_spare(far));
  EXPECT_TRUE(scribe_.topic(stripe(3))->has_child(b.id));
  EXPECT_TRUE(scribe_.topic(stripe(3))->has_child(c.id));
  auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, far);
  // A leaf of the stripe (no prefix) below: the newcomer takes its place and the leaf is sent
  // to the newcomer first.
  const NodeHandle leaf = node(0x9000000000000000ULL, 14);
  scribe_.topic(stripe(3))->children.pop_back();  // c left
  ASSERT_TRUE(join(3, leaf));
  overlay_.clear();
  EXPECT_TRUE(join_with_spare(far));
  EXPECT_FALSE(scribe_.topic(stripe(3))->has_child(leaf.id));
  refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, leaf);
  ASSERT_FALSE(refusals[0].second->body.candidates.empty());
  EXPECT_EQ(refusals[0].second->body.candidates[0], far);
  EXPECT_EQ(ss_->used(), 2);
  EXPECT_EQ(ss_->counters().limit_violations, 0u);
}

// A full node sends an orphan first to a sibling that said it has room (its REFRESH), one
// level down, instead of through full siblings; the count it keeps is lowered for each orphan
// sent there, so once it is used up the rule's rotated order applies again.
TEST_F(SplitStreamTest, PushDownGoesFirstToASiblingThatReportedRoom) {
  start(3);
  attach(3);
  const NodeHandle b = node(0x3a00000000000000ULL, 11);
  const NodeHandle c = node(0x3b00000000000000ULL, 12);
  const NodeHandle d = node(0x3100000000000000ULL, 13);
  ASSERT_TRUE(join(3, d));
  ASSERT_TRUE(join(3, c));
  ASSERT_TRUE(join(3, b));
  RefreshBody r{{stripe(3)}};
  r.spare = 2;
  scribe_.receive_direct(ms(6), c, std::make_shared<const RefreshMsg>(r));
  const std::vector<NodeHandle> by_rule{b, d, c};  // one digit each, closest to the stripe first
  for (uint64_t k = 0; k < 3; ++k) {
    const NodeHandle e = node(0x9000000000000000ULL + k, 20);
    overlay_.clear();
    EXPECT_FALSE(join(3, e));
    const auto refusals = overlay_.sent_of<RefuseMsg>();
    ASSERT_EQ(refusals.size(), 1u);
    const auto& cands = refusals[0].second->body.candidates;
    ASSERT_EQ(cands.size(), 3u);
    const auto start_at = static_cast<size_t>(e.id.value() % 3);
    if (k < 2) {
      EXPECT_EQ(cands[0], c) << "orphan " << k << ": the sibling with room first";
    } else {
      for (size_t i = 0; i < 3; ++i) EXPECT_EQ(cands[i], by_rule[(start_at + i) % 3]);
    }
  }
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

TEST_F(SplitStreamTest, LimitHoldsUnderManyJoins) {
  start(4);
  for (int s = 0; s < 16; ++s) attach(s);
  for (uint32_t k = 0; k < 200; ++k) {
    const uint64_t hi = (uint64_t{k} * 0x9e3779b97f4a7c15ULL) | 1;
    join(static_cast<int>(k % 16), node(hi, 100 + k));
    ASSERT_LE(ss_->used(), 4);
  }
  EXPECT_EQ(ss_->counters().limit_violations, 0u);
}

}  // namespace
}  // namespace forestcast::multicast
