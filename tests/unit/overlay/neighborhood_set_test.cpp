#include "overlay/neighborhood_set.hpp"

#include <gtest/gtest.h>

namespace forestcast::overlay {
namespace {

NodeHandle node(uint64_t v) { return NodeHandle{NodeId(v), {}}; }

TEST(NeighborhoodSet, KeepsLowestRtts) {
  NeighborhoodSet m(3);
  EXPECT_TRUE(m.consider(node(1), ms(30)));
  EXPECT_TRUE(m.consider(node(2), ms(10)));
  EXPECT_TRUE(m.consider(node(3), ms(20)));
  EXPECT_FALSE(m.consider(node(4), ms(40)));
  EXPECT_TRUE(m.consider(node(5), ms(5)));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.entries()[0].node.id, NodeId(5));
  EXPECT_EQ(m.entries()[2].node.id, NodeId(3));
  EXPECT_FALSE(m.contains(NodeId(1)));
  const auto nodes = m.nodes();
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].id, NodeId(5));
  EXPECT_EQ(nodes[1].id, NodeId(2));
  EXPECT_EQ(nodes[2].id, NodeId(3));
  EXPECT_FALSE(m.consider(node(6), kUnknownRtt));  // unmeasured nodes never enter
  // A member whose RTT grew is re-ranked.
  EXPECT_TRUE(m.consider(node(5), ms(25)));
  EXPECT_EQ(m.entries()[2].node.id, NodeId(5));
  EXPECT_TRUE(m.remove(NodeId(5)));
  EXPECT_EQ(m.size(), 2u);
}

}  // namespace
}  // namespace forestcast::overlay
