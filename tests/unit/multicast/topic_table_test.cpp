#include "multicast/topic_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "base/random.hpp"

namespace forestcast::multicast {
namespace {

using overlay::NodeId;

// Random inserts and erases (by key and by iterator) against std::map and against a plain
// std::unordered_map fed the same operations: lookups agree with the first, and iteration order
// with the second (Scribe's order of work, which a run's replay from its seed depends on).
TEST(TopicTable, LookupsAndIterationOrderMatchAPlainUnorderedMap) {
  Rng rng(7);
  TopicTable<int> table;
  std::unordered_map<NodeId, int> plain;
  std::map<NodeId, int> ref;
  std::vector<NodeId> keys;
  for (int i = 0; i < 60; ++i) keys.push_back(NodeId::from_parts(rng.next(), rng.next()));
  for (int step = 0; step < 5000; ++step) {
    const NodeId& k = keys[rng.below(keys.size())];
    const uint64_t op = rng.below(10);
    if (op < 5) {
      const int v = static_cast<int>(rng.below(1000));
      table.try_emplace(k, v) = v;
      plain.try_emplace(k, v).first->second = v;
      ref[k] = v;
    } else if (op < 8) {
      EXPECT_EQ(table.erase(k), ref.erase(k));
      plain.erase(k);
    } else {
      // The sweep's pattern: erase through iterators while walking.
      for (auto it = table.begin(); it != table.end();)
        it = it->second % 7 == 0 ? table.erase(it) : std::next(it);
      for (auto it = plain.begin(); it != plain.end();)
        it = it->second % 7 == 0 ? plain.erase(it) : std::next(it);
      std::erase_if(ref, [](const auto& e) { return e.second % 7 == 0; });
    }
    ASSERT_EQ(table.size(), ref.size());
  }
  for (const auto& k : keys) {
    const int* v = table.find(k);
    const auto it = ref.find(k);
    ASSERT_EQ(v != nullptr, it != ref.end());
    if (v != nullptr) {
      EXPECT_EQ(*v, it->second);
    }
    EXPECT_EQ(table.count(k), ref.count(k));
  }
  std::vector<NodeId> order_table, order_plain;
  for (const auto& [k, v] : table) order_table.push_back(k);
  for (const auto& [k, v] : plain) order_plain.push_back(k);
  EXPECT_EQ(order_table, order_plain);
}

// A looked-up pointer is the element itself, and stays valid while other topics come and go.
TEST(TopicTable, PointersStayValidAcrossOtherInsertsAndErases) {
  TopicTable<int> table;
  const NodeId a = NodeId::from_parts(1, 2);
  int* pa = &table.try_emplace(a, 5);
  for (uint64_t i = 0; i < 200; ++i) table.try_emplace(NodeId::from_parts(i + 10, i), 0);
  for (uint64_t i = 0; i < 150; ++i) table.erase(NodeId::from_parts(i + 10, i));
  EXPECT_EQ(table.find(a), pa);
  *pa = 9;
  EXPECT_EQ(*table.find(a), 9);
  EXPECT_EQ(table.try_emplace(a, 1), 9);  // present: not replaced
  table.clear();
  EXPECT_EQ(table.find(a), nullptr);
  EXPECT_TRUE(table.empty());
}

}  // namespace
}  // namespace forestcast::multicast
