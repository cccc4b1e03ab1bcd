#pragma once
// Per-source receive rate limit: one token bucket per key (a peer's address), in a bounded map,
// so one flooding peer cannot monopolise a node's single control-plane thread. Time is an
// argument, as everywhere else.
#include <algorithm>
#include <cstddef>
#include <unordered_map>

#include "base/time.hpp"

namespace forestcast::net {

template <typename Key>
class RateLimiter {
 public:
  // `per_second` tokens refill continuously up to `burst`; each datagram costs one.
  RateLimiter(double per_second, double burst, size_t max_keys)
      : per_second_(per_second), burst_(std::max(burst, 1.0)), max_keys_(max_keys) {}

  bool allow(const Key& key, Time now) {
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      if (buckets_.size() >= max_keys_) make_room(now);
      it = buckets_.emplace(key, Bucket{burst_, now}).first;
    }
    Bucket& b = it->second;
    refill(b, now);
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
  }

  size_t tracked() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Time last;
  };

  void refill(Bucket& b, Time now) const {
    if (now <= b.last) return;
    const double elapsed_s = static_cast<double>((now - b.last).count()) * 1e-6;
    b.tokens = std::min(burst_, b.tokens + elapsed_s * per_second_);
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

  double per_second_;
  double burst_;
  size_t max_keys_;
  std::unordered_map<Key, Bucket> buckets_;
};

}  // namespace forestcast::net
