#pragma once
// A core's timers. The core schedules callbacks by id; the driver only ever arms one real timer
// per node, for next_deadline(), and calls run_due(now) when it fires. Cancellation is lazy
// (a cancelled entry is skipped when it reaches the top). cancel() first checks that the id is
// still pending (a linear scan: a core holds tens of timers, and Pastry itself never cancels),
// so cancelling a timer that already fired, or twice, leaves nothing behind. Ids are never
// reused, also across clear(): a stale id can never cancel a newer timer.
#include <algorithm>
#include <cstdint>
#include <functional>
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
    heap_.push_back(Entry{at, id, std::move(payload)});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
    return id;
  }

  void cancel(TimerId id) {
    if (id == 0 || cancelled_.contains(id)) return;
    const bool pending =
        std::any_of(heap_.begin(), heap_.end(), [id](const Entry& e) { return e.id == id; });
    if (pending) cancelled_.insert(id);
  }

  // Drops every timer; ids keep counting up.
  void clear() {
    heap_.clear();
    cancelled_.clear();
  }

  Time next_deadline() {
    drop_cancelled_top();
    return heap_.empty() ? kNever : heap_.front().at;
  }

  // Pops the earliest timer due at or before `now`; false when none is due.
  bool pop_due(Time now, TimerId& id, Payload& out) {
    drop_cancelled_top();
    if (heap_.empty() || heap_.front().at > now) return false;
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
    id = heap_.back().id;
    out = std::move(heap_.back().payload);
    heap_.pop_back();
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
      auto it = cancelled_.find(heap_.front().id);
      if (it == cancelled_.end()) return;
      cancelled_.erase(it);
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
      heap_.pop_back();
    }
  }

  std::vector<Entry> heap_;  // a binary min-heap (std::push_heap with std::greater)
  std::unordered_set<TimerId> cancelled_;
  TimerId last_id_ = 0;
};

}  // namespace forestcast
