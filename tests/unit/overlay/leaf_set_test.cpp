#include "overlay/leaf_set.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/random.hpp"

namespace forestcast::overlay {
namespace {

NodeHandle node(u128 v) { return NodeHandle{NodeId(v), Endpoint::ipv4(0x7f000001, 1000)}; }
constexpr u128 kTop = ~u128{0};

TEST(LeafSet, KeepsClosestOnEachSide) {
  LeafSet ls(NodeId(1000), 4);  // two per side
  for (u128 v : {990, 995, 999, 1001, 1005, 1010}) ls.insert(node(v));
  ASSERT_EQ(ls.left().size(), 2u);
  ASSERT_EQ(ls.right().size(), 2u);
  EXPECT_EQ(ls.left()[0].id, NodeId(999));
  EXPECT_EQ(ls.left()[1].id, NodeId(995));
  EXPECT_EQ(ls.right()[0].id, NodeId(1001));
  EXPECT_EQ(ls.right()[1].id, NodeId(1005));
  EXPECT_FALSE(ls.contains(NodeId(990)));
  EXPECT_FALSE(ls.insert(node(1010)));  // farther than both right members
  EXPECT_TRUE(ls.insert(node(1003)));
  EXPECT_EQ(ls.right()[1].id, NodeId(1003));
}

TEST(LeafSet, CoversOnlyBetweenFarthestLeaves) {
  LeafSet ls(NodeId(1000), 4);
  for (u128 v : {990, 995, 1005, 1010}) ls.insert(node(v));
  EXPECT_TRUE(ls.covers(NodeId(990)));
  EXPECT_TRUE(ls.covers(NodeId(1010)));
  EXPECT_TRUE(ls.covers(NodeId(1000)));
  EXPECT_FALSE(ls.covers(NodeId(989)));
  EXPECT_FALSE(ls.covers(NodeId(1011)));
}

TEST(LeafSet, SmallRingCoversWholeCircleAndWrapsAroundZero) {
  LeafSet ls(NodeId(5), 16);
  ls.insert(node(kTop - 5));  // just below zero: counterclockwise neighbour
  ls.insert(node(kTop / 2));
  // Fewer nodes than a side holds: every node is on both sides and the whole ring is covered.
  EXPECT_EQ(ls.left().size(), 2u);
  EXPECT_EQ(ls.right().size(), 2u);
  EXPECT_EQ(ls.left()[0].id, NodeId(kTop - 5));
  EXPECT_EQ(ls.right()[0].id, NodeId(kTop / 2));
  EXPECT_EQ(ls.members().size(), 2u);
  EXPECT_TRUE(ls.covers(NodeId(kTop / 4)));
  EXPECT_TRUE(ls.covers(NodeId(kTop - kTop / 4)));
}

TEST(LeafSet, WrapAroundInLargeRing) {
  LeafSet ls(NodeId(3), 4);
  for (u128 v : {kTop - 1, kTop - 10, kTop - 20, u128{20}, u128{30}, kTop / 2}) ls.insert(node(v));
  EXPECT_EQ(ls.left()[0].id, NodeId(kTop - 1));
  EXPECT_EQ(ls.left()[1].id, NodeId(kTop - 10));
  EXPECT_EQ(ls.right()[0].id, NodeId(20));
  EXPECT_EQ(ls.right()[1].id, NodeId(30));
  EXPECT_TRUE(ls.covers(NodeId(0)));
  EXPECT_TRUE(ls.covers(NodeId(kTop - 9)));
  EXPECT_FALSE(ls.covers(NodeId(kTop - 11)));
  EXPECT_FALSE(ls.covers(NodeId(kTop / 2)));
}

TEST(LeafSet, RemoveAndRefill) {
  LeafSet ls(NodeId(1000), 4);
  for (u128 v : {990, 995, 1005, 1010}) ls.insert(node(v));
  EXPECT_TRUE(ls.remove(NodeId(1005)));
  EXPECT_FALSE(ls.contains(NodeId(1005)));
  EXPECT_FALSE(ls.remove(NodeId(1005)));
  EXPECT_EQ(ls.right().size(), 1u);
  // Not covered any more past the remaining right leaf.
  EXPECT_FALSE(ls.covers(NodeId(1011)));
  EXPECT_TRUE(ls.insert(node(1020)));
  EXPECT_EQ(ls.right()[1].id, NodeId(1020));
}

TEST(LeafSet, MatchesBruteForceOnRandomIds) {
  Rng rng(7);
  const NodeId self = NodeId::from_parts(rng.next(), rng.next());
  LeafSet ls(self, 16);
  std::vector<NodeId> all;
  for (int i = 0; i < 500; ++i) {
    const NodeId id = NodeId::from_parts(rng.next(), rng.next());
    all.push_back(id);
    ls.insert(NodeHandle{id, {}});
  }
  auto by = [&](auto dist) {
    auto v = all;
    std::sort(v.begin(), v.end(),
              [&](const NodeId& a, const NodeId& b) { return dist(a) < dist(b); });
    v.resize(8);
    return v;
  };
  const auto left = by([&](const NodeId& id) { return self.counterclockwise_to(id); });
  const auto right = by([&](const NodeId& id) { return self.clockwise_to(id); });
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(ls.left()[i].id, left[i]);
    EXPECT_EQ(ls.right()[i].id, right[i]);
  }
}

}  // namespace
}  // namespace forestcast::overlay
