#include "net/sim/oracle.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/random.hpp"

namespace forestcast::sim {
namespace {

using overlay::u128;

NodeId random_id(Rng& rng) { return NodeId::from_parts(rng.next(), rng.next()); }

NodeId brute_closest(const std::vector<NodeId>& ids, const NodeId& key) {
  NodeId best = ids.front();
  for (const NodeId& id : ids)
    if (key.closer(id, best)) best = id;
  return best;
}

TEST(Oracle, ClosestMatchesBruteForce) {
  Rng rng(42);
  Oracle oracle;
  std::vector<NodeId> ids;
  for (uint32_t i = 0; i < 500; ++i) {
    ids.push_back(random_id(rng));
    oracle.add(ids.back(), i);
  }
  // Remove some, so removal bookkeeping is exercised too.
  for (int k = 0; k < 100; ++k) {
    const size_t victim = rng.below(ids.size());
    ASSERT_TRUE(oracle.remove(ids[victim]));
    ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(victim));
  }
  ASSERT_EQ(oracle.size(), ids.size());
  for (int k = 0; k < 5000; ++k) {
    // Half random keys, half keys right next to a node id (and wrap-around cases near 0).
    NodeId key = random_id(rng);
    if (k % 2) key = NodeId(ids[rng.below(ids.size())].value() + u128{rng.below(3)} - 1);
    if (k % 97 == 0) key = NodeId(0);
    const auto got = oracle.closest(key);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->id, brute_closest(ids, key)) << key.hex();
  }
}

TEST(Oracle, ExactTieGoesToSmallerId) {
  Oracle oracle;
  const NodeId key = NodeId::from_parts(0x8000000000000000ULL, 0);
  const NodeId below(key.value() - 10), above(key.value() + 10);
  oracle.add(above, 1);
  oracle.add(below, 0);
  EXPECT_EQ(oracle.closest(key)->id, below);
  EXPECT_EQ(oracle.closest(key)->node, 0u);
  // Across the wrap-around point: 0 - 5 is a huge id, 0 + 5 a small one; the small one wins.
  Oracle wrap;
  wrap.add(NodeId(u128{0} - 5), 0);
  wrap.add(NodeId(5), 1);
  EXPECT_EQ(wrap.closest(NodeId(0))->id, NodeId(5));
}

TEST(Oracle, LeafSetMatchesBruteForce) {
  Rng rng(9);
  for (size_t n : {1u, 2u, 5u, 9u, 17u, 300u}) {
    Oracle oracle;
    std::vector<NodeId> ids;
    for (uint32_t i = 0; i < n; ++i) {
      ids.push_back(random_id(rng));
      oracle.add(ids.back(), i);
    }
    for (const NodeId& self : ids) {
      std::vector<NodeId> others;
      for (const NodeId& id : ids)
        if (id != self) others.push_back(id);
      auto cw = others, ccw = others;
      std::sort(cw.begin(), cw.end(), [&](const NodeId& a, const NodeId& b) {
        return self.clockwise_to(a) < self.clockwise_to(b);
      });
      std::sort(ccw.begin(), ccw.end(), [&](const NodeId& a, const NodeId& b) {
        return self.counterclockwise_to(a) < self.counterclockwise_to(b);
      });
      cw.resize(std::min<size_t>(cw.size(), 8));
      ccw.resize(std::min<size_t>(ccw.size(), 8));
      const TrueLeafSet truth = oracle.leaf_set(self, 8);
      ASSERT_EQ(truth.right, cw) << "n=" << n;
      ASSERT_EQ(truth.left, ccw) << "n=" << n;
    }
  }
}

TEST(Oracle, EmptyHasNoRoot) {
  Oracle oracle;
  EXPECT_FALSE(oracle.closest(NodeId(1)));
  EXPECT_FALSE(oracle.remove(NodeId(1)));
}

}  // namespace
}  // namespace forestcast::sim
