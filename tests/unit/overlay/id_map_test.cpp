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

// Keys whose hashes agree in the home slot's bits and in the 7 bits a slot's control byte keeps
// (std::hash<NodeId> is hi ^ lo * C, so lo = 0 makes it hi): a lookup must still compare keys,
// and erasing one of them must keep the others reachable behind the hole.
TEST(IdMap, KeysSharingHomeAndTagStayDistinct) {
  IdMap<int> map;
  std::vector<NodeId> keys;
  for (uint64_t k = 1; k <= 10; ++k) keys.push_back(NodeId::from_parts((0x5aULL << 57) | (k << 20), 0));
  for (size_t i = 0; i < keys.size(); ++i) map[keys[i]] = static_cast<int>(i);
  for (size_t i = 0; i < keys.size(); ++i) ASSERT_EQ(*map.find(keys[i]), static_cast<int>(i));
  EXPECT_EQ(map.find(NodeId::from_parts((0x5aULL << 57) | (11ULL << 20), 0)), nullptr);
  EXPECT_TRUE(map.erase(keys[0]));
  EXPECT_TRUE(map.erase(keys[4]));
  EXPECT_FALSE(map.erase(keys[4]));
  for (size_t i = 0; i < keys.size(); ++i) {
    const int* v = map.find(keys[i]);
    if (i == 0 || i == 4) {
      EXPECT_EQ(v, nullptr);
    } else {
      ASSERT_NE(v, nullptr);
      EXPECT_EQ(*v, static_cast<int>(i));
    }
  }
  EXPECT_EQ(map.size(), keys.size() - 2);
}

}  // namespace
}  // namespace forestcast::overlay
