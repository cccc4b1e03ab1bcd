#pragma once
// The ids of the last N routed messages a node handled, to recognise a retransmission whose
// first copy was handled but whose RouteAck was lost. A fixed ring: memory is bounded (8 bytes
// per slot, allocated on first use) and the oldest id is forgotten first. It must cover every
// message handled within one retransmission window (a few seconds): see docs/pastry.md.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace forestcast::overlay {

class RecentIds {
 public:
  explicit RecentIds(size_t capacity) : capacity_(capacity) {}

  // True if `id` was seen among the last `capacity` ids; otherwise remembers it. 0 is no id.
  bool seen_or_add(uint64_t id) {
    if (id == 0 || capacity_ == 0) return false;
    if (std::find(ids_.begin(), ids_.end(), id) != ids_.end()) return true;
    if (ids_.size() < capacity_) {
      ids_.push_back(id);
    } else {
      ids_[next_] = id;
      next_ = (next_ + 1) % capacity_;
    }
    return false;
  }

 private:
  size_t capacity_;
  size_t next_ = 0;
  std::vector<uint64_t> ids_;
};

}  // namespace forestcast::overlay
