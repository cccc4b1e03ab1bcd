#include "overlay/routing_table.hpp"

#include <gtest/gtest.h>

namespace forestcast::overlay {
namespace {

NodeHandle node(const char* hex) { return NodeHandle{*NodeId::from_hex(hex), {}}; }

TEST(RoutingTable, PlacesBySharedPrefixAndNextDigit) {
  RoutingTable rt(*NodeId::from_hex("a1b20000000000000000000000000000"));
  EXPECT_TRUE(rt.consider(node("30000000000000000000000000000000"), ms(10)));
  EXPECT_TRUE(rt.consider(node("a7000000000000000000000000000000"), ms(10)));
  EXPECT_TRUE(rt.consider(node("a1b30000000000000000000000000000"), ms(10)));
  ASSERT_NE(rt.at(0, 3), nullptr);
  ASSERT_NE(rt.at(1, 7), nullptr);
  ASSERT_NE(rt.at(3, 3), nullptr);
  EXPECT_EQ(rt.at(0, 4), nullptr);
  EXPECT_EQ(rt.entry_count(), 3u);
  EXPECT_EQ(rt.rows_allocated(), 4);
  // Our own id has no slot.
  EXPECT_FALSE(rt.consider(node("a1b20000000000000000000000000000"), ms(1)));
}

TEST(RoutingTable, ProximityReplacesOnlyWhenNearer) {
  RoutingTable rt(*NodeId::from_hex("00000000000000000000000000000000"));
  EXPECT_TRUE(rt.consider(node("50000000000000000000000000000000"), kUnknownRtt));
  // A measured node beats an unmeasured one; a farther one does not replace a nearer one.
  EXPECT_TRUE(rt.consider(node("51000000000000000000000000000000"), ms(40)));
  EXPECT_FALSE(rt.consider(node("52000000000000000000000000000000"), ms(60)));
  EXPECT_TRUE(rt.consider(node("53000000000000000000000000000000"), ms(20)));
  EXPECT_EQ(rt.at(0, 5)->node.id, *NodeId::from_hex("53000000000000000000000000000000"));
  EXPECT_EQ(rt.entry_count(), 1u);
  EXPECT_TRUE(rt.contains(*NodeId::from_hex("53000000000000000000000000000000")));
  EXPECT_FALSE(rt.contains(*NodeId::from_hex("51000000000000000000000000000000")));
  EXPECT_FALSE(rt.remove(*NodeId::from_hex("51000000000000000000000000000000")));
  EXPECT_TRUE(rt.remove(*NodeId::from_hex("53000000000000000000000000000000")));
  EXPECT_EQ(rt.entry_count(), 0u);
  EXPECT_TRUE(rt.row(0).empty());
}

}  // namespace
}  // namespace forestcast::overlay
