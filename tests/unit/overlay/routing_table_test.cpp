#include "overlay/routing_table.hpp"

#include <gtest/gtest.h>

namespace forestcast::overlay {
namespace {

NodeHandle node(const char* hex) { return NodeHandle{*NodeId::from_hex(hex), {}}; }

TEST(RoutingTable, PlacesBySharedPrefixAndNextDigit) {
  RoutingTable rt(*NodeId::from_hex("a1b20000000000000000000000000000"));
  EXPECT_TRUE(rt.consider(node("30000000000000000000000000000000"), ms(10)).inserted);
  EXPECT_TRUE(rt.consider(node("a7000000000000000000000000000000"), ms(10)).inserted);
  EXPECT_TRUE(rt.consider(node("a1b30000000000000000000000000000"), ms(10)).inserted);
  ASSERT_NE(rt.at(0, 3), nullptr);
  ASSERT_NE(rt.at(1, 7), nullptr);
  ASSERT_NE(rt.at(3, 3), nullptr);
  EXPECT_EQ(rt.at(0, 4), nullptr);
  EXPECT_EQ(rt.entry_count(), 3u);
  EXPECT_EQ(rt.rows_allocated(), 4);
  // Our own id has no slot.
  EXPECT_FALSE(rt.consider(node("a1b20000000000000000000000000000"), ms(1)).inserted);
}

TEST(RoutingTable, ProximityReplacesOnlyWhenNearer) {
  RoutingTable rt(*NodeId::from_hex("00000000000000000000000000000000"), 1);
  EXPECT_TRUE(rt.consider(node("50000000000000000000000000000000"), kUnknownRtt).inserted);
  // A measured node beats an unmeasured one; a farther one does not replace a nearer one.
  auto change = rt.consider(node("51000000000000000000000000000000"), ms(40));
  EXPECT_TRUE(change.inserted);
  EXPECT_EQ(change.evicted, *NodeId::from_hex("50000000000000000000000000000000"));
  EXPECT_FALSE(rt.consider(node("52000000000000000000000000000000"), ms(60)).inserted);
  EXPECT_TRUE(rt.consider(node("53000000000000000000000000000000"), ms(20)).inserted);
  EXPECT_EQ(rt.at(0, 5)->node.id, *NodeId::from_hex("53000000000000000000000000000000"));
  EXPECT_EQ(rt.entry_count(), 1u);
  EXPECT_TRUE(rt.contains(*NodeId::from_hex("53000000000000000000000000000000")));
  EXPECT_FALSE(rt.contains(*NodeId::from_hex("51000000000000000000000000000000")));
  EXPECT_FALSE(rt.remove(*NodeId::from_hex("51000000000000000000000000000000")));
  EXPECT_TRUE(rt.remove(*NodeId::from_hex("53000000000000000000000000000000")));
  EXPECT_EQ(rt.entry_count(), 0u);
  EXPECT_TRUE(rt.row(0).empty());
}

TEST(RoutingTable, SlotKeepsSeveralNearestFirst) {
  RoutingTable rt(*NodeId::from_hex("00000000000000000000000000000000"), 3);
  EXPECT_TRUE(rt.consider(node("50000000000000000000000000000000"), ms(30)).inserted);
  EXPECT_TRUE(rt.consider(node("51000000000000000000000000000000"), ms(10)).inserted);
  EXPECT_TRUE(rt.consider(node("52000000000000000000000000000000"), kUnknownRtt).inserted);
  // Full: an unmeasured node stays out; a measured one beats the unmeasured occupant.
  EXPECT_FALSE(rt.would_accept(*NodeId::from_hex("53000000000000000000000000000000"), kUnknownRtt));
  EXPECT_TRUE(rt.would_accept(*NodeId::from_hex("53000000000000000000000000000000"), ms(40)));
  EXPECT_FALSE(rt.consider(node("53000000000000000000000000000000"), kUnknownRtt).inserted);
  const auto change = rt.consider(node("54000000000000000000000000000000"), ms(20));
  EXPECT_TRUE(change.inserted);
  EXPECT_EQ(change.evicted, *NodeId::from_hex("52000000000000000000000000000000"));
  const auto slot = rt.slot(0, 5);
  ASSERT_EQ(slot.size(), 3u);
  EXPECT_EQ(slot[0].rtt, ms(10));
  EXPECT_EQ(slot[1].rtt, ms(20));
  EXPECT_EQ(slot[2].rtt, ms(30));
  EXPECT_EQ(rt.at(0, 5)->node.id, *NodeId::from_hex("51000000000000000000000000000000"));
  EXPECT_EQ(rt.row(0).size(), 1u);  // primary entries only
  EXPECT_EQ(rt.entry_count(), 3u);
  // A refreshed RTT re-ranks the slot.
  rt.consider(node("50000000000000000000000000000000"), ms(5));
  EXPECT_EQ(rt.at(0, 5)->node.id, *NodeId::from_hex("50000000000000000000000000000000"));
  EXPECT_TRUE(rt.remove(*NodeId::from_hex("50000000000000000000000000000000")));
  EXPECT_EQ(rt.slot(0, 5).size(), 2u);
  EXPECT_EQ(rt.at(0, 5)->rtt, ms(10));
}

}  // namespace
}  // namespace forestcast::overlay
