#include "multicast/stripe_history.hpp"

#include <algorithm>

namespace forestcast::multicast {

namespace {
uint32_t payload_bytes(const DataBody& b) {
  return b.payload ? static_cast<uint32_t>(b.payload->size()) : b.payload_size;
}
}  // namespace

size_t StripeHistory::lower_bound(uint64_t seq) const {
  size_t lo = 0, hi = count_;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (at(mid).seq < seq) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

void StripeHistory::grow() {
  std::vector<Entry> bigger(ring_.empty() ? 8 : ring_.size() * 2);
  for (size_t i = 0; i < count_; ++i) bigger[i] = std::move(at(i));
  ring_ = std::move(bigger);
  head_ = 0;
}

StripeHistory::Admit StripeHistory::record(Time now, const std::shared_ptr<const DataMsg>& d) {
  const uint64_t seq = d->body.seq;
  if (seq <= forgotten_) return Admit::kTooOld;
  // Live packets arrive in order: the common case appends.
  size_t pos = count_;
  if (count_ != 0 && seq <= at(count_ - 1).seq) {
    pos = lower_bound(seq);
    if (pos != count_ && at(pos).seq == seq) return Admit::kDuplicate;
  }
  if (count_ == ring_.size()) grow();
  for (size_t i = count_; i > pos; --i) at(i) = std::move(at(i - 1));
  at(pos) = Entry{seq, now, d};
  ++count_;
  bytes_ += payload_bytes(d->body);
  newest_ = std::max(newest_, seq);
  evict(now);
  return Admit::kNew;
}

void StripeHistory::evict(Time now) {
  // By age of the oldest sequence number (a gap filled late carries a newer arrival time but
  // is ordered by its sequence: it goes with its neighbours), then by the bounds.
  while (count_ != 0 && (now - at(0).received > config_.window || bytes_ > config_.max_bytes ||
                         count_ > config_.max_packets)) {
    Entry& front = at(0);
    forgotten_ = std::max(forgotten_, front.seq);
    bytes_ -= payload_bytes(front.data->body);
    front.data.reset();
    head_ = (head_ + 1) & static_cast<uint32_t>(ring_.size() - 1);
    --count_;
  }
}

void StripeHistory::after(Time now, uint64_t seq,
                          std::vector<std::shared_ptr<const DataMsg>>& out) const {
  if (seq == UINT64_MAX) return;
  for (size_t i = lower_bound(seq + 1); i < count_; ++i)
    if (now - at(i).received <= config_.window) out.push_back(at(i).data);
}

std::shared_ptr<const DataMsg> StripeHistory::get(Time now, uint64_t seq) const {
  const size_t i = lower_bound(seq);
  if (i == count_ || at(i).seq != seq || now - at(i).received > config_.window) return nullptr;
  return at(i).data;
}

void StripeHistory::holes(size_t max, std::vector<uint64_t>& out) const {
  const size_t start = out.size();
  // Newest first, so the bound keeps the holes whose playout is still ahead.
  for (size_t i = count_; i-- > 1 && out.size() - start < max;) {
    for (uint64_t s = at(i).seq - 1; s > at(i - 1).seq && out.size() - start < max; --s)
      out.push_back(s);
  }
  std::reverse(out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
}

uint64_t StripeHistory::first_received_since(Time t) const {
  uint64_t first = 0;
  for (size_t i = 0; i < count_; ++i) {
    const Entry& e = at(i);
    if (e.received >= t && (first == 0 || e.seq < first)) first = e.seq;
  }
  return first;
}

// --- ReplayPacer ----------------------------------------------------------------------------

bool ReplayPacer::enqueue(Time now, const NodeHandle& child,
                          const std::vector<std::shared_ptr<const DataMsg>>& packets,
                          bool to_root) {
  if (queue_.size() + packets.size() > config_.max_queued) {
    ++counters_.requests_refused;
    return false;
  }
  refill(now);
  for (const auto& p : packets) {
    // A copy of the body only: the payload buffer is shared, never copied.
    DataBody body = p->body;
    body.replayed = true;
    body.has_dead_root = false;
    queue_.push_back(Send{child, std::make_shared<const DataMsg>(std::move(body)), to_root});
  }
  return true;
}

void ReplayPacer::refill(Time now) {
  const auto burst = static_cast<double>(config_.burst_bytes);
  if (tokens_ < 0) {
    tokens_ = burst;
  } else if (now > refilled_) {
    const double secs = std::chrono::duration<double>(now - refilled_).count();
    tokens_ = std::min(burst, tokens_ + secs * static_cast<double>(config_.rate_bytes_per_s));
  }
  refilled_ = std::max(refilled_, now);
}

std::vector<ReplayPacer::Send> ReplayPacer::take_due(Time now) {
  std::vector<Send> out;
  if (queue_.empty()) return out;
  refill(now);
  while (!queue_.empty()) {
    const double cost = static_cast<double>(payload_bytes(queue_.front().data->body));
    if (cost > tokens_) break;
    tokens_ -= cost;
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return out;
}

}  // namespace forestcast::multicast
