#include <algorithm>

#include "multicast/peer_fetch.hpp"

namespace forestcast::multicast {

bool FetchRecord::expects(Time now, Duration life, const NodeId& from, uint64_t seq,
                          FetchCounters& c) {
  for (Request& r : requests_) {
    if (!r.used || r.peer != from || now - r.sent > life) continue;
    if (seq > r.after || std::find(r.missing.begin(), r.missing.end(), seq) != r.missing.end()) {
      if (!r.answered) {
        const auto us = static_cast<uint64_t>(std::max<int64_t>(0, (now - r.sent).count()));
        ++c.requests_answered;
        c.answer_delay_us_sum += us;
        c.answer_delay_us_max = std::max(c.answer_delay_us_max, us);
        c.answer_delay_us_smoothed = c.answer_delay_us_smoothed == 0
                                         ? us
                                         : (7 * c.answer_delay_us_smoothed + us) / 8;
      }
      r.answered = true;
      return true;
    }
  }
  return false;
}

FetchRecord::Request& FetchRecord::next(Time now, FetchCounters& c) {
  last_ = last_ >= kSlots ? 0 : (last_ + 1) % kSlots;
  Request& r = requests_[last_];
  if (r.used && !r.answered) ++c.requests_unanswered;
  r = Request{};
  r.sent = now;
  r.used = true;
  return r;
}

bool FetchRecord::answered_since(Time since) const {
  for (const Request& r : requests_)
    if (r.used && r.sent >= since && r.answered) return true;
  return false;
}

size_t FetchLimiter::grant(Time now, const NodeId& requester, size_t want) {
  auto it = buckets_.find(requester);
  if (it == buckets_.end()) {
    if (buckets_.size() >= config_.max_requesters) {
      // Forget the buckets that have refilled completely: they hold no debt.
      const double full_after = config_.requester_burst / config_.requester_packets_per_s;
      for (auto b = buckets_.begin(); b != buckets_.end();)
        b = std::chrono::duration<double>(now - b->second.refilled).count() >= full_after
                ? buckets_.erase(b)
                : std::next(b);
      if (buckets_.size() >= config_.max_requesters) return 0;
    }
    it = buckets_.emplace(requester, Bucket{config_.requester_burst, now}).first;
  }
  Bucket& b = it->second;
  if (now > b.refilled) {
    const double secs = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(config_.requester_burst, b.tokens + secs * config_.requester_packets_per_s);
    b.refilled = now;
  }
  const auto n = std::min(want, static_cast<size_t>(std::max(0.0, b.tokens)));
  b.tokens -= static_cast<double>(n);
  return n;
}

}  // namespace forestcast::multicast
