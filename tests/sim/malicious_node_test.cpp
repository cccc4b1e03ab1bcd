// The liars' shared view (scenarios/malicious_node.hpp): their lies must be the plausible ones
// the secure-routing figures assume, or the defences are measured against a straw man.
#include "scenarios/malicious_node.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace forestcast::sim {
namespace {

using overlay::NodeHandle;
using overlay::NodeId;
using overlay::u128;

NodeHandle colluder(u128 id, uint32_t k) {
  return NodeHandle{NodeId(id), overlay::Endpoint::ipv4(0x0a000000u + k, 4000)};
}

class ColludersTest : public ::testing::Test {
 protected:
  ColludersTest() {
    // 64 colluders spread over the ring, one in each 1/64th, out of order.
    for (uint32_t k = 0; k < 64; ++k) {
      const uint32_t slot = (k * 37) % 64;
      all.push_back(colluder((u128{slot} << 122) + (u128{k + 1} << 100), k + 1));
      c.add(all.back());
    }
  }
  bool is_colluder(const NodeHandle& h) const {
    return std::find(all.begin(), all.end(), h) != all.end();
  }
  Colluders c;
  std::vector<NodeHandle> all;
};

TEST_F(ColludersTest, ClosestAreTheNearestToTheKeyOnBothSidesClosestFirst) {
  const NodeId key(u128{10} << 122);
  const auto got = c.closest(key, 6);
  ASSERT_EQ(got.size(), 6u);
  std::vector<NodeHandle> expected = all;
  std::sort(expected.begin(), expected.end(),
            [&](const NodeHandle& a, const NodeHandle& b) { return key.closer(a.id, b.id); });
  expected.resize(6);
  EXPECT_EQ(got, expected);
  // Across zero too.
  const NodeId near_zero(~u128{0} - 5);
  const auto wrap = c.closest(near_zero, 2);
  ASSERT_EQ(wrap.size(), 2u);
  EXPECT_TRUE(near_zero.closer(wrap[0].id, wrap[1].id));
}

TEST_F(ColludersTest, RowsFitTheReceiversSlots) {
  const NodeId receiver(u128{0x3} << 124);
  for (int row : {0, 1}) {
    const auto got = c.row_for(receiver, row);
    EXPECT_FALSE(got.empty());
    for (const auto& h : got) {
      EXPECT_EQ(h.id.shared_prefix_length(receiver), row) << "row " << row;
      EXPECT_TRUE(is_colluder(h));
    }
  }
  EXPECT_TRUE(c.row_for(receiver, NodeId::kDigits).empty());
}

TEST_F(ColludersTest, EveryStateTransferNamesOnlyColludersAndNeverTheEnds) {
  const NodeId sender = all[3].id, receiver(u128{0x77} << 120);
  const NodeHandle honest = colluder(u128{5} << 100, 999);
  for (auto kind : {overlay::StateKind::kRoutingRow, overlay::StateKind::kLeafSet,
                    overlay::StateKind::kNeighborhood}) {
    overlay::StateTransfer st;
    st.kind = kind;
    st.row = 0;
    st.nodes.assign(16, honest);
    st.rtt_us.assign(16, 1000);
    const auto lie = c.poison(sender, receiver, overlay::Message{st});
    ASSERT_TRUE(lie);
    const auto& out = std::get<overlay::StateTransfer>(*lie);
    EXPECT_FALSE(out.nodes.empty());
    EXPECT_LE(out.nodes.size(), overlay::kMaxHandlesPerMessage);
    EXPECT_TRUE(out.rtt_us.empty());  // no RTT hints: the receiver measures them itself
    for (const auto& h : out.nodes) {
      EXPECT_TRUE(is_colluder(h));
      EXPECT_NE(h.id, sender);
      EXPECT_NE(h.id, receiver);
    }
  }
  // Anything but state goes out as the core wrote it.
  EXPECT_FALSE(c.poison(sender, receiver, overlay::Message{overlay::Ping{7, false}}));
}

}  // namespace
}  // namespace forestcast::sim
