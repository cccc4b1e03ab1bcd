#include "multicast/stripe_history.hpp"

#include <algorithm>

namespace forestcast::multicast {

namespace {
uint32_t payload_bytes(const DataBody& b) {
  return b.payload ? static_cast<uint32_t>(b.payload->size()) : b.payload_size;
}
}  // namespace

StripeHistory::Admit StripeHistory::record(Time now, const std::shared_ptr<const DataMsg>& d) {
  const uint64_t seq = d->body.seq;
  if (seq <= forgotten_) return Admit::kTooOld;
  // Live packets arrive in order: the common case appends.
  auto pos = entries_.end();
  if (!entries_.empty() && seq <= entries_.back().seq) {
    pos = std::lower_bound(entries_.begin(), entries_.end(), seq,
                           [](const Entry& e, uint64_t s) { return e.seq < s; });
    if (pos != entries_.end() && pos->seq == seq) return Admit::kDuplicate;
  }
  const uint32_t bytes = payload_bytes(d->body);
  entries_.insert(pos, Entry{seq, now, bytes, d});
  bytes_ += bytes;
  newest_ = std::max(newest_, seq);
  evict(now);
  return Admit::kNew;
}

void StripeHistory::evict(Time now) {
  // By age of the oldest sequence number (a gap filled late carries a newer arrival time but
  // is ordered by its sequence: it goes with its neighbours), then by the bounds.
  while (!entries_.empty() &&
         (now - entries_.front().received > config_.window || bytes_ > config_.max_bytes ||
          entries_.size() > config_.max_packets)) {
    forgotten_ = std::max(forgotten_, entries_.front().seq);
    bytes_ -= entries_.front().bytes;
    entries_.pop_front();
  }
}

void StripeHistory::after(Time now, uint64_t seq,
                          std::vector<std::shared_ptr<const DataMsg>>& out) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), seq,
                             [](uint64_t s, const Entry& e) { return s < e.seq; });
  for (; it != entries_.end(); ++it)
    if (now - it->received <= config_.window) out.push_back(it->data);
}

std::shared_ptr<const DataMsg> StripeHistory::get(Time now, uint64_t seq) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), seq,
                             [](const Entry& e, uint64_t s) { return e.seq < s; });
  if (it == entries_.end() || it->seq != seq || now - it->received > config_.window) return nullptr;
  return it->data;
}

void StripeHistory::holes(size_t max, std::vector<uint64_t>& out) const {
  const size_t start = out.size();
  // Newest first, so the bound keeps the holes whose playout is still ahead.
  for (size_t i = entries_.size(); i-- > 1 && out.size() - start < max;) {
    for (uint64_t s = entries_[i].seq - 1; s > entries_[i - 1].seq && out.size() - start < max; --s)
      out.push_back(s);
  }
  std::reverse(out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
}

uint64_t StripeHistory::first_received_since(Time t) const {
  uint64_t first = 0;
  for (const Entry& e : entries_)
    if (e.received >= t && (first == 0 || e.seq < first)) first = e.seq;
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
