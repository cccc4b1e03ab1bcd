#pragma once
// Fixed-size log-linear histogram of durations (HdrHistogram's idea in 2 KB): 16 sub-buckets per
// power of two of microseconds, so a quantile is within ~6 % of the true value and memory does
// not grow with the number of samples -- a simulator holds one per viewer.
#include <array>
#include <bit>
#include <cstdint>

#include "base/time.hpp"

namespace forestcast::media {

class DelayHistogram {
 public:
  void record(Duration d) {
    const uint64_t us = d.count() < 0 ? 0 : static_cast<uint64_t>(d.count());
    ++buckets_[bucket_of(us)];
    ++count_;
    if (us > max_us_) max_us_ = us;
  }

  uint64_t count() const { return count_; }

  // Pools another histogram's samples into this one (a simulator's viewers into one figure).
  void merge(const DelayHistogram& o) {
    for (size_t b = 0; b < buckets_.size(); ++b) buckets_[b] += o.buckets_[b];
    count_ += o.count_;
    if (o.max_us_ > max_us_) max_us_ = o.max_us_;
  }
  // The samples recorded since `earlier`, a copy of this histogram taken before (max is kept:
  // a window's maximum is not recoverable from buckets).
  DelayHistogram minus(const DelayHistogram& earlier) const {
    DelayHistogram d = *this;
    for (size_t b = 0; b < buckets_.size(); ++b) d.buckets_[b] -= earlier.buckets_[b];
    d.count_ -= earlier.count_;
    return d;
  }
  Duration max() const { return Duration{static_cast<int64_t>(max_us_)}; }

  // The q-quantile (0 < q <= 1) as the midpoint of its bucket; zero when empty.
  Duration quantile(double q) const {
    if (count_ == 0) return Duration::zero();
    auto rank = static_cast<uint64_t>(q * static_cast<double>(count_));
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (size_t b = 0; b < buckets_.size(); ++b) {
      seen += buckets_[b];
      if (seen >= rank) {
        const uint64_t lo = lower_bound(b);
        const uint64_t hi = lower_bound(b + 1);
        const uint64_t mid = lo + (hi - lo) / 2;
        return Duration{static_cast<int64_t>(mid < max_us_ ? mid : max_us_)};
      }
    }
    return max();
  }

 private:
  static constexpr unsigned kSubBits = 4;
  static constexpr unsigned kSub = 1u << kSubBits;
  static constexpr unsigned kOctaves = 40;  // up to ~12 days in microseconds

  static size_t bucket_of(uint64_t us) {
    if (us < kSub) return us;
    const unsigned octave = static_cast<unsigned>(std::bit_width(us)) - kSubBits;
    if (octave >= kOctaves) return kOctaves * kSub - 1;
    const uint64_t sub = (us >> (octave - 1)) & (kSub - 1);
    return octave * kSub + sub;
  }
  static uint64_t lower_bound(size_t b) {
    if (b < kSub) return b;
    const uint64_t octave = b / kSub;
    const uint64_t sub = b % kSub;
    return (kSub + sub) << (octave - 1);
  }

  std::array<uint32_t, kOctaves * kSub> buckets_{};
  uint64_t count_ = 0;
  uint64_t max_us_ = 0;
};

}  // namespace forestcast::media
