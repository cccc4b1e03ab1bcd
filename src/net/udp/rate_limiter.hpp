#pragma once
// Per-source receive rate limit: one token bucket per key (a peer's address) in a table of at
// most `max_keys`, so one flooding peer cannot monopolise a node's single control-plane thread.
//
// The table is bounded without ever handing a busy source fresh tokens. When it is full, a new
// source takes the place of an idle one: a bucket that has refilled to its burst behaves exactly
// like a fresh bucket, so forgetting it loses nothing. Candidates are looked at from the least
// recently used end (the sources most likely to be idle), a few per admission, so the cost stays
// O(1). If none of them is idle (the table is full of sources that are all sending hard), the
// newcomer is not tracked and shares one bucket with every other untracked source. A flood from
// many spoofed addresses therefore costs the established peers nothing: their depleted buckets
// stay depleted, and the flood as a whole gets one peer's share. Time is an argument.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <list>
#include <unordered_map>

#include "base/time.hpp"
#include "net/udp/token_bucket.hpp"

namespace forestcast::net {

enum class Admission : uint8_t {
  kAllowed,
  kPeerLimited,       // this source's own bucket is empty
  kUntrackedLimited,  // the table is full of busy sources and the shared bucket is empty
};

template <typename Key>
class RateLimiter {
 public:
  // Least recently used buckets examined per new source when the table is full.
  static constexpr int kEvictionScan = 4;

  RateLimiter(uint64_t per_second, uint64_t burst, size_t max_keys)
      : params_(per_second, burst),
        max_keys_(max_keys == 0 ? 1 : max_keys),
        untracked_bucket_(params_, Time{0}) {
    index_.reserve(max_keys_);
  }

  Admission admit(const Key& key, Time now) {
    if (auto it = index_.find(key); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);  // most recently used first
      return it->second->bucket.take(params_, now) ? Admission::kAllowed : Admission::kPeerLimited;
    }
    if (index_.size() < max_keys_) {
      lru_.push_front(Entry{key, TokenBucket(params_, now)});
    } else if (!reuse_idle_entry(key, now)) {
      ++untracked_;
      return untracked_bucket_.take(params_, now) ? Admission::kAllowed
                                                  : Admission::kUntrackedLimited;
    }
    index_.emplace(key, lru_.begin());
    return lru_.front().bucket.take(params_, now) ? Admission::kAllowed : Admission::kPeerLimited;
  }

  bool allow(const Key& key, Time now) { return admit(key, now) == Admission::kAllowed; }

  size_t tracked() const { return index_.size(); }
  // Idle buckets forgotten to make room for a new source.
  uint64_t evicted() const { return evicted_; }
  // Datagrams from new sources charged to the shared bucket because no tracked one was idle.
  uint64_t untracked() const { return untracked_; }

 private:
  struct Entry {
    Key key;
    TokenBucket bucket;
  };
  using EntryList = std::list<Entry>;

  // Looks at up to kEvictionScan buckets from the least recently used end. The first idle one
  // becomes `key`'s (its list node is reused, so a flood allocates nothing); busy ones move to
  // the front so the next scan looks at others. True if `key` now has the front entry.
  bool reuse_idle_entry(const Key& key, Time now) {
    for (int i = 0; i < kEvictionScan && !lru_.empty(); ++i) {
      auto last = std::prev(lru_.end());
      lru_.splice(lru_.begin(), lru_, last);
      if (!last->bucket.full(params_, now)) continue;
      index_.erase(last->key);
      *last = Entry{key, TokenBucket(params_, now)};
      ++evicted_;
      return true;
    }
    return false;
  }

  TokenBucket::Params params_;
  size_t max_keys_;
  EntryList lru_;
  std::unordered_map<Key, typename EntryList::iterator> index_;
  TokenBucket untracked_bucket_;
  uint64_t evicted_ = 0;
  uint64_t untracked_ = 0;
};

}  // namespace forestcast::net
