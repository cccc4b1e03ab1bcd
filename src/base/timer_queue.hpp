#pragma once
// A core's timers. The core schedules callbacks by id; the driver only ever arms one real timer
// per node, for next_deadline(), and calls run_due(now) when it fires. Cancellation is lazy
// (a cancelled entry is skipped when it reaches the top), so arm/cancel are O(log n) and free
// of allocation beyond the heap's vector.
#include <cstdint>
#include <queue>
#include <unordered_set>
#include <vector>

#include "base/time.hpp"

namespace forestcast {

using TimerId = uint64_t;

template <typename Payload>
class TimerQueue {
 public:
  TimerId schedule(Time at, Payload payload) {
    const TimerId id = ++last_id_;
    heap_.push(Entry{at, id, std::move(payload)});
    return id;
  }

  void cancel(TimerId id) {
    if (id != 0) cancelled_.insert(id);
  }

  Time next_deadline() {
    drop_cancelled_top();
    return heap_.empty() ? kNever : heap_.top().at;
  }

  // Pops the earliest timer due at or before `now`; false when none is due.
  bool pop_due(Time now, TimerId& id, Payload& out) {
    drop_cancelled_top();
    if (heap_.empty() || heap_.top().at > now) return false;
    id = heap_.top().id;
    out = heap_.top().payload;
    heap_.pop();
    return true;
  }

  size_t size() const { return heap_.size() - cancelled_.size(); }

 private:
  struct Entry {
    Time at;
    TimerId id;
    Payload payload;
    // Earliest first; equal deadlines fire in scheduling order, so runs are deterministic.
    bool operator>(const Entry& o) const { return at != o.at ? at > o.at : id > o.id; }
  };

  void drop_cancelled_top() {
    while (!heap_.empty() && !cancelled_.empty()) {
      auto it = cancelled_.find(heap_.top().id);
      if (it == cancelled_.end()) return;
      cancelled_.erase(it);
      heap_.pop();
    }
  }

  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  std::unordered_set<TimerId> cancelled_;
  TimerId last_id_ = 0;
};

}  // namespace forestcast
