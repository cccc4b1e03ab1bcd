#include "secure/routing_failure_test.hpp"

#include <gtest/gtest.h>

#include "ring_fixture.hpp"

namespace forestcast::secure::test {
namespace {

constexpr u128 kBase = u128{7} << 120;

// Node `self` and its leaf set: 8 on each side at kSpacing.
std::vector<NodeId> leaf_set_around(u128 center, u128 step = kSpacing) {
  std::vector<NodeId> out;
  for (int k = -8; k <= 8; ++k) out.push_back(ring_node(center, k, 1, step).id);
  return out;
}

TEST(MeanSpacing, EvenlySpacedIdsGiveTheirSpacing) {
  const auto s = mean_spacing(leaf_set_around(kBase));
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(static_cast<double>(*s), static_cast<double>(kSpacing));
}

TEST(MeanSpacing, AnArcAcrossZeroIsMeasuredOnTheShortSide) {
  // Ids on both sides of 0: sorted by value they sit at the two ends, the big gap in the middle.
  const auto s = mean_spacing(leaf_set_around(0));
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(static_cast<double>(*s), static_cast<double>(kSpacing));
}

TEST(MeanSpacing, FewerThanTwoDistinctIdsHaveNone) {
  EXPECT_FALSE(mean_spacing({}));
  EXPECT_FALSE(mean_spacing({NodeId(kBase), NodeId(kBase)}));
}

class FailureTest : public ::testing::Test {
 protected:
  const std::vector<NodeId> own = leaf_set_around(kBase);
  const u128 root_at = kBase + (u128{1} << 124);
  const NodeId key = NodeId(root_at + kSpacing / 4);  // the root is the closest to it
  const NodeId far_from_key = NodeId(kBase);          // what we know: nothing near the key
  // The root's true leaf set, as dense as ours.
  std::vector<NodeId> members(u128 step) const {
    std::vector<NodeId> out;
    for (int k = -8; k <= 8; ++k)
      if (k != 0) out.push_back(ring_node(root_at, k, 1, step).id);
    return out;
  }
};

TEST_F(FailureTest, AnHonestRootPasses) {
  const auto v =
      routing_failure_test(key, own, NodeId(root_at), members(kSpacing), far_from_key, 1.5);
  EXPECT_TRUE(v.passed()) << to_string(v.reason);
  EXPECT_DOUBLE_EQ(v.spacing_ratio, 1.0);
}

TEST_F(FailureTest, ColludersFiveTimesSparserFail) {
  // One node in five lies: the colluders closest to a key are five times sparser.
  const auto v =
      routing_failure_test(key, own, NodeId(root_at), members(5 * kSpacing), far_from_key, 1.5);
  EXPECT_EQ(v.reason, FailureReason::kSparse);
  EXPECT_DOUBLE_EQ(v.spacing_ratio, 5.0);
}

TEST_F(FailureTest, GammaIsTheThreshold) {
  const auto m = members(2 * kSpacing);
  EXPECT_EQ(routing_failure_test(key, own, NodeId(root_at), m, far_from_key, 1.9).reason,
            FailureReason::kSparse);
  EXPECT_TRUE(routing_failure_test(key, own, NodeId(root_at), m, far_from_key, 2.1).passed());
}

TEST_F(FailureTest, AShortLeafSetFails) {
  auto m = members(kSpacing);
  m.resize(8);
  EXPECT_EQ(routing_failure_test(key, own, NodeId(root_at), m, far_from_key, 1.5).reason,
            FailureReason::kTooFew);
}

TEST_F(FailureTest, ARootThatNamesACloserNodeFails) {
  auto m = members(kSpacing);
  m.push_back(NodeId(key.value() + 1));
  m.erase(m.begin());  // keep the count
  EXPECT_EQ(routing_failure_test(key, own, NodeId(root_at), m, far_from_key, 1.5).reason,
            FailureReason::kNotClosest);
}

TEST_F(FailureTest, ARootFartherThanANodeWeKnowFails) {
  EXPECT_EQ(routing_failure_test(key, own, NodeId(root_at), members(kSpacing),
                                 NodeId(key.value() - 1), 1.5)
                .reason,
            FailureReason::kKnownCloser);
}

}  // namespace
}  // namespace forestcast::secure::test
