#include "net/sim/event_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "base/random.hpp"

namespace forestcast::sim {
namespace {

TEST(EventQueue, PopsByTimeThenSchedulingOrder) {
  EventQueue q;
  Rng rng(7);
  struct Pushed {
    int64_t at;
    uint32_t order;
  };
  std::vector<Pushed> pushed;
  for (uint32_t k = 0; k < 5000; ++k) {
    // Few distinct times, so many ties must be broken by scheduling order.
    const int64_t at = static_cast<int64_t>(rng.below(50));
    q.push(Time{at}, EventKind::kAction, k, k);
    pushed.push_back({at, k});
  }
  std::stable_sort(pushed.begin(), pushed.end(),
                   [](const Pushed& a, const Pushed& b) { return a.at < b.at; });
  for (const Pushed& expected : pushed) {
    ASSERT_FALSE(q.empty());
    const Event e = q.pop();
    EXPECT_EQ(e.at.count(), expected.at);
    EXPECT_EQ(e.target, expected.order);
    EXPECT_EQ(e.slot, expected.order);
  }
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next_time(), kNever);
}

TEST(EventQueue, InterleavedPushAndPopStaysOrdered) {
  EventQueue q;
  Rng rng(11);
  Time last{0};
  uint64_t last_seq = 0;
  bool first = true;
  int popped = 0;
  for (int round = 0; round < 20000; ++round) {
    // Events are only ever scheduled at or after the current time, as in the simulator.
    q.push(last + Duration{static_cast<int64_t>(rng.below(1000))}, EventKind::kTimer, 0, 0);
    if (rng.chance(0.5)) {
      const Event e = q.pop();
      ++popped;
      ASSERT_TRUE(first || std::tie(last, last_seq) < std::tie(e.at, e.seq));
      first = false;
      last = e.at;
      last_seq = e.seq;
    }
  }
  EXPECT_EQ(static_cast<size_t>(20000 - popped), q.size());
}

TEST(EventQueue, KindAndSlotRoundTrip) {
  EventQueue q;
  q.push(Time{5}, EventKind::kMessage, 3, EventQueue::kMaxSlot);
  q.push(Time{1}, EventKind::kTimer, 4, 17);
  Event e = q.pop();
  EXPECT_EQ(e.event_kind(), EventKind::kTimer);
  EXPECT_EQ(e.target, 4u);
  EXPECT_EQ(e.slot, 17u);
  e = q.pop();
  EXPECT_EQ(e.event_kind(), EventKind::kMessage);
  EXPECT_EQ(e.slot, EventQueue::kMaxSlot);
}

// The windowed engine's order: whatever order events are pushed in (threads and partitions
// change it), they pop by (time, target node, key). Oracle: a sort of the same events.
TEST(KeyedEventQueue, PopOrderIgnoresPushOrder) {
  Rng rng(5);
  struct Item {
    int64_t at;
    uint32_t target;
    uint64_t key;
  };
  std::vector<Item> items;
  for (uint32_t k = 0; k < 3000; ++k)  // few times and targets: many ties on both
    items.push_back({static_cast<int64_t>(rng.below(20)), static_cast<uint32_t>(rng.below(8)),
                     (rng.below(50) << 40) | k});
  std::vector<Item> expected = items;
  std::sort(expected.begin(), expected.end(), [](const Item& a, const Item& b) {
    return std::tie(a.at, a.target, a.key) < std::tie(b.at, b.target, b.key);
  });
  for (int shuffle = 0; shuffle < 3; ++shuffle) {
    for (size_t i = items.size() - 1; i > 0; --i) std::swap(items[i], items[rng.below(i + 1)]);
    KeyedEventQueue q;
    for (const Item& it : items) q.push_keyed(Time{it.at}, EventKind::kMessage, it.target, 0, it.key);
    for (const Item& want : expected) {
      ASSERT_FALSE(q.empty());
      const Event e = q.pop();
      ASSERT_EQ(e.at.count(), want.at);
      ASSERT_EQ(e.target, want.target);
      ASSERT_EQ(e.seq, want.key);
    }
    EXPECT_TRUE(q.empty());
  }
}

TEST(Slab, ReusesFreedSlots) {
  Slab<std::vector<int>> slab;
  const uint32_t a = slab.put({1, 2});
  const uint32_t b = slab.put({3});
  EXPECT_NE(a, b);
  EXPECT_EQ(slab.take(a), (std::vector<int>{1, 2}));
  EXPECT_EQ(slab.in_use(), 1u);
  const uint32_t c = slab.put({4});
  EXPECT_EQ(c, a);
  EXPECT_EQ(slab.take(b), (std::vector<int>{3}));
  EXPECT_EQ(slab.take(c), (std::vector<int>{4}));
  EXPECT_EQ(slab.in_use(), 0u);
}

}  // namespace
}  // namespace forestcast::sim
