// SplitStream's push-down (pushdown.cpp) driven through Scribe with a fake overlay: what a full
// node keeps, whom it orphans and where the orphan goes.
#include "multicast/splitstream.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "splitstream_fixture.hpp"

namespace forestcast::multicast {
namespace {

using test::node;
using test::SplitStreamTest;

// A child without its stripe's digit is a leaf there and goes down alone; one with the digit
// carries its subtree. So leaves go first, of a foreign stripe before the own one, and only then
// children of the digit, again of a foreign stripe first.
TEST(PushDownRule, ChildWithoutItsStripesDigitGoesFirstThenAForeignStripes) {
  const NodeId self = NodeId::from_parts(0x3000000000000000ULL, 0);
  const NodeId own = NodeId::from_parts(0x3a00000000000000ULL, 0);
  const NodeId foreign = NodeId::from_parts(0x5a00000000000000ULL, 0);
  const NodeHandle own_leaf = node(0x1000000000000000ULL, 1);
  const NodeHandle foreign_forwarder = node(0x5a10000000000000ULL, 2);
  const NodeHandle foreign_leaf = node(0x7000000000000000ULL, 3);
  const NodeHandle own_forwarder = node(0x3b00000000000000ULL, 4);
  auto pick =
      SplitStream::choose_orphan(self, {{own, own_leaf}, {foreign, foreign_forwarder}});
  EXPECT_EQ(pick.second, own_leaf);
  pick = SplitStream::choose_orphan(
      self, {{own, own_leaf}, {foreign, foreign_forwarder}, {foreign, foreign_leaf}});
  EXPECT_EQ(pick.second, foreign_leaf);
  // The foreign stripe's child even shares a longer prefix with its stripe than the own one.
  pick = SplitStream::choose_orphan(self, {{own, own_forwarder}, {foreign, foreign_forwarder}});
  EXPECT_EQ(pick.second, foreign_forwarder);
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
// A full node gives up a leaf of its own stripe for a newcomer there rather than a foreign
// stripe's child of that stripe's digit, which would go down with its subtree (DESIGN.md §5 as
// written orphans the foreign stripe's child first).
TEST_F(SplitStreamTest, FullNodeKeepsAForeignStripesForwarderBeforeALeafOfItsOwn) {
  start(2);
  attach(3);
  attach(5);
  const NodeHandle leaf = node(0x9000000000000000ULL, 10);
  const NodeHandle forwarder = node(0x5a00000000000000ULL, 11);
  ASSERT_TRUE(join(3, leaf));  // its own stripe first: it is no foreign-only forwarder
  ASSERT_TRUE(join(5, forwarder));
  overlay_.clear();
  const NodeHandle newcomer = node(0x3a00000000000000ULL, 12);
  EXPECT_TRUE(join(3, newcomer));
  EXPECT_TRUE(scribe_.topic(stripe(5))->has_child(forwarder.id));
  EXPECT_FALSE(scribe_.topic(stripe(3))->has_child(leaf.id));
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, leaf);
  EXPECT_EQ(ss_->used(), 2);
  EXPECT_EQ(ss_->counters().limit_violations, 0u);
}
// Below the root a full node whose children all have their stripe's digit keeps them: a
// newcomer of the digit is refused and pushed down, even one sharing a longer prefix with the
// stripeId (DESIGN.md §5's order) or bringing spare outdegree. Orphaning a child of the digit
// sent it down one level with its whole subtree, and at 10,000 nodes tight such push-downs in
// a row built chains 13 deep (docs/multicast.md "Push-down chains").
TEST_F(SplitStreamTest, FullNodeKeepsItsChildrenOfTheStripesDigit) {
  start(2);
  attach(3);
  // Stripe 3 is 0x35a5...: b and c share one digit with it, the newcomers three.
  const NodeHandle b = node(0x3100000000000000ULL, 11);
  const NodeHandle c = node(0x3200000000000000ULL, 12);
  ASSERT_TRUE(join(3, b));
  ASSERT_TRUE(join(3, c));
  overlay_.clear();
  const NodeHandle newcomer = node(0x35a0000000000000ULL, 13);
  EXPECT_FALSE(join(3, newcomer));
  JoinBody with_spare{stripe(3)};
  with_spare.pushdown_left = ScribeConfig{}.pushdown_depth;
  with_spare.spare = 16;
  const NodeHandle roomy = node(0x35a1000000000000ULL, 14);
  scribe_.receive_direct(ms(7), roomy, std::make_shared<const JoinMsg>(with_spare));
  EXPECT_FALSE(scribe_.topic(stripe(3))->has_child(roomy.id));
  EXPECT_TRUE(scribe_.topic(stripe(3))->has_child(b.id));
  EXPECT_TRUE(scribe_.topic(stripe(3))->has_child(c.id));
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 2u);
  EXPECT_EQ(refusals[0].first, newcomer);
  EXPECT_EQ(refusals[1].first, roomy);
  EXPECT_FALSE(refusals[0].second->body.candidates.empty());  // pushed down to b or c
  EXPECT_EQ(ss_->counters().pushdown_orphans, 0u);
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
