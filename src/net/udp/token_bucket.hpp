#pragma once
// One token bucket: `per_second` tokens refill continuously up to `burst`; each datagram costs
// one. The building block of the per-peer and global receive limits. Time is an argument.
#include <algorithm>
#include <cstdint>

#include "base/time.hpp"

namespace forestcast::net {

class TokenBucket {
 public:
  // Tokens are counted in millionths, so refill per microsecond is exact integer arithmetic.
  static constexpr uint64_t kUnit = 1'000'000;

  struct Params {
    uint64_t per_second;
    uint64_t burst;  // in millionths of a token
    Params(uint64_t rate, uint64_t burst_tokens)
        : per_second(std::max<uint64_t>(rate, 1)),
          burst(std::max<uint64_t>(burst_tokens, 1) * kUnit) {}
  };

  // A new bucket starts full.
  TokenBucket(const Params& p, Time now) : tokens_(p.burst), last_(now) {}

  // Takes one token if there is one.
  bool take(const Params& p, Time now) {
    refill(p, now);
    if (tokens_ < kUnit) return false;
    tokens_ -= kUnit;
    return true;
  }

  // A full bucket behaves exactly like a fresh one: forgetting it loses nothing.
  bool full(const Params& p, Time now) {
    refill(p, now);
    return tokens_ >= p.burst;
  }

 private:
  void refill(const Params& p, Time now) {
    if (now <= last_) return;  // time going backwards grants nothing
    const auto elapsed_us = static_cast<uint64_t>((now - last_).count());
    // Anything longer than a full refill fills the bucket; the cap also prevents overflow.
    if (elapsed_us >= p.burst / p.per_second + 1)
      tokens_ = p.burst;
    else
      tokens_ = std::min(p.burst, tokens_ + elapsed_us * p.per_second);
    last_ = now;
  }

  uint64_t tokens_;
  Time last_;
};

}  // namespace forestcast::net
