#pragma once
// The simulator's clock and agenda: a 4-ary min-heap of small fixed-size events. The serial
// engine orders them by (time, sequence number), the number assigned at push time, so events due
// at the same instant run in the order they were scheduled and a run replays exactly from its
// seed. The windowed engine (windowed_engine.cpp) orders them by (time, target node, key), the
// key chosen by the sender (its index and its own send counter): an order that no thread
// interleaving or partitioning can change.
// Payloads (messages, scripted actions) never live in the heap: an event only names a slot in a
// slab owned by the simulator, so sifting moves 24 bytes, not a std::variant.
#include <cstdint>
#include <vector>

#include "base/time.hpp"

namespace forestcast::sim {

// What an event does; the simulator interprets `target` and `slot` per kind.
// kDirect: a DirectMsg, kept apart from other messages so a stream's packets travel cheaply.
enum class EventKind : uint8_t { kMessage = 0, kTimer = 1, kAction = 2, kDirect = 3 };

struct Event {
  Time at{0};
  uint64_t seq = 0;
  uint32_t target = 0;  // node index (message destination, timer owner); unused for actions
  uint32_t slot : 30 = 0;
  uint32_t kind : 2 = 0;

  EventKind event_kind() const { return static_cast<EventKind>(kind); }
  // Strict "runs before": earlier time first, then earlier scheduling.
  bool before(const Event& o) const { return at != o.at ? at < o.at : seq < o.seq; }
};
static_assert(sizeof(Event) == 24, "events must stay small: the heap moves them constantly");

// The serial engine's order: time, then scheduling order.
struct ByScheduling {
  static bool before(const Event& a, const Event& b) { return a.before(b); }
};
// The windowed engine's order: time, then target node, then the sender's key (`seq`). Events
// with equal (time, target, key) are identical (a node's duplicate timer events), so the order
// is total on what matters.
struct ByNodeKey {
  static bool before(const Event& a, const Event& b) {
    if (a.at != b.at) return a.at < b.at;
    if (a.target != b.target) return a.target < b.target;
    return a.seq < b.seq;
  }
};

template <typename Order>
class BasicEventQueue {
 public:
  static constexpr uint32_t kMaxSlot = (1u << 30) - 1;

  // Scheduling order: `seq` is the push count.
  void push(Time at, EventKind kind, uint32_t target, uint32_t slot) {
    push_keyed(at, kind, target, slot, next_seq_);
  }
  // The caller's key in `seq` (ByNodeKey).
  void push_keyed(Time at, EventKind kind, uint32_t target, uint32_t slot, uint64_t key) {
    Event e;
    e.at = at;
    e.seq = key;
    e.target = target;
    e.slot = slot & kMaxSlot;
    e.kind = static_cast<uint32_t>(kind) & 3u;
    ++next_seq_;
    heap_.push_back(e);
    sift_up(heap_.size() - 1);
  }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Event& top() const { return heap_.front(); }
  Time next_time() const { return heap_.empty() ? kNever : heap_.front().at; }

  Event pop() {
    const Event e = heap_.front();
    const Event last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(last);
    return e;
  }

  uint64_t pushed() const { return next_seq_; }

 private:
  // Four children per node: half the depth of a binary heap and the children of one node share
  // a cache line or two, which matters once hundreds of thousands of events are pending.
  // Hand-written sifts move the hole instead of swapping.
  static constexpr size_t kArity = 4;

  void sift_up(size_t i) {
    const Event e = heap_[i];
    while (i > 0) {
      const size_t parent = (i - 1) / kArity;
      if (!Order::before(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }

  // Places `e` (the former last element) starting from the root.
  void sift_down(const Event& e) {
    const size_t n = heap_.size();
    size_t i = 0;
    while (true) {
      const size_t first = kArity * i + 1;
      if (first >= n) break;
      size_t child = first;
      const size_t last = first + kArity < n ? first + kArity : n;
      for (size_t c = first + 1; c < last; ++c)
        if (Order::before(heap_[c], heap_[child])) child = c;
      if (!Order::before(heap_[child], e)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = e;
  }

  std::vector<Event> heap_;
  uint64_t next_seq_ = 0;
};

using EventQueue = BasicEventQueue<ByScheduling>;
using KeyedEventQueue = BasicEventQueue<ByNodeKey>;

// A vector of payloads with a free list: slots are reused, so steady-state simulation does no
// allocation for the slab itself and slot numbers stay small.
template <typename T>
class Slab {
 public:
  // The slot's address (it may be free): for prefetching only.
  const T* address(uint32_t slot) const { return slot < items_.size() ? &items_[slot] : nullptr; }

  uint32_t put(T&& value) {
    if (!free_.empty()) {
      const uint32_t slot = free_.back();
      free_.pop_back();
      items_[slot] = std::move(value);
      return slot;
    }
    items_.push_back(std::move(value));
    return static_cast<uint32_t>(items_.size() - 1);
  }

  // Moves the payload out and frees the slot.
  T take(uint32_t slot) {
    T value = std::move(items_[slot]);
    free_.push_back(slot);
    return value;
  }

  size_t in_use() const { return items_.size() - free_.size(); }

 private:
  std::vector<T> items_;
  std::vector<uint32_t> free_;
};

}  // namespace forestcast::sim
