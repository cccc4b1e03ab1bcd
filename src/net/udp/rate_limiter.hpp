#pragma once
// Per-source receive rate limit: one token bucket per key (a peer's address), in a bounded map,
// so one flooding peer cannot monopolise a node's single control-plane thread. Time is an
// argument, as everywhere else.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "base/time.hpp"

namespace forestcast::net {

template <typename Key>
class RateLimiter {
 public:
  // `per_second` tokens refill continuously up to `burst`; each datagram costs one.
  RateLimiter(uint64_t per_second, uint64_t burst, size_t max_keys)
      : per_second_(std::max<uint64_t>(per_second, 1)),
        burst_(std::max<uint64_t>(burst, 1) * kUnit),
        max_keys_(max_keys) {}

  bool allow(const Key& key, Time now) {
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      if (buckets_.size() >= max_keys_) make_room(now);
      it = buckets_.emplace(key, Bucket{burst_, now}).first;
    }
    Bucket& b = it->second;
    refill(b, now);
    if (b.tokens < kUnit) return false;
    b.tokens -= kUnit;
    return true;
  }

  size_t tracked() const { return buckets_.size(); }

 private:
  // Tokens are counted in millionths, so refill per microsecond is exact integer arithmetic.
  static constexpr uint64_t kUnit = 1'000'000;

  struct Bucket {
    uint64_t tokens;
    Time last;
  };

  void refill(Bucket& b, Time now) const {
    if (now <= b.last) return;
    const auto elapsed_us = static_cast<uint64_t>((now - b.last).count());
    // Anything longer than a full refill fills the bucket; the cap also prevents overflow.
    if (elapsed_us >= burst_ / per_second_ + 1)
      b.tokens = burst_;
    else
      b.tokens = std::min(burst_, b.tokens + elapsed_us * per_second_);
    b.last = now;
  }

  // A full bucket behaves exactly like a fresh one, so forgetting it loses nothing. If every
  // tracked source is busy (a spoofed-source flood) start over: cheap, bounded, and honest
  // peers only ever gain tokens from it.
  void make_room(Time now) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      refill(it->second, now);
      it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
    }
    if (buckets_.size() >= max_keys_) buckets_.clear();
  }

  uint64_t per_second_;
  uint64_t burst_;  // in millionths of a token
  size_t max_keys_;
  std::unordered_map<Key, Bucket> buckets_;
};

}  // namespace forestcast::net
