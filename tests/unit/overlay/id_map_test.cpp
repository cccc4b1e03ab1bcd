#include "overlay/id_map.hpp"

#include <gtest/gtest.h>

#include <map>

#include "base/random.hpp"

namespace forestcast::overlay {
namespace {

// Random inserts and erases against std::map; a small key space forces long probe runs and
// many backward shifts.
TEST(IdMap, MatchesStdMapUnderRandomOperations) {
  Rng rng(3);
  IdMap<int> map;
  std::map<NodeId, int> ref;
  std::vector<NodeId> keys;
  for (int i = 0; i < 300; ++i) keys.push_back(NodeId::from_parts(rng.next(), rng.next()));
  for (int step = 0; step < 20000; ++step) {
    const NodeId& k = keys[rng.below(keys.size())];
    if (rng.chance(0.55)) {
      const int v = static_cast<int>(rng.below(1000));
      map[k] = v;
      ref[k] = v;
    } else {
      EXPECT_EQ(map.erase(k), ref.erase(k) == 1);
    }
    ASSERT_EQ(map.size(), ref.size());
  }
  for (const auto& k : keys) {
    const int* v = map.find(k);
    auto it = ref.find(k);
    ASSERT_EQ(v != nullptr, it != ref.end());
    if (v) {
      EXPECT_EQ(*v, it->second);
    }
  }
  size_t seen = 0;
  map.for_each([&](const NodeId& k, const int& v) {
    ++seen;
    EXPECT_EQ(ref.at(k), v);
  });
  EXPECT_EQ(seen, ref.size());
  map.erase_if([](const NodeId&, const int& v) { return v % 2 == 0; });
  for (const auto& [k, v] : ref) EXPECT_EQ(map.contains(k), v % 2 == 1);
}

}  // namespace
}  // namespace forestcast::overlay
