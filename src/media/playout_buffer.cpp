#include "media/playout_buffer.hpp"

#include <algorithm>

namespace forestcast::media {

namespace {
constexpr size_t kMaxRememberedLost = 1024;
}

Time PlayoutBuffer::local_time_of(uint64_t publisher_us) const {
  if (config_.publisher_clock_offset) {
    return Time{static_cast<int64_t>(publisher_us)} + *config_.publisher_clock_offset;
  }
  return reference_->local + Duration{static_cast<int64_t>(publisher_us) -
                                      static_cast<int64_t>(reference_->publisher_us)};
}

Time PlayoutBuffer::playout_time_of(uint64_t publisher_us) const {
  // The schedule always hangs off the arrival-based reference, also when the clock offset is
  // known: the offset only serves the delay measurement.
  return reference_->local +
         Duration{static_cast<int64_t>(publisher_us) -
                  static_cast<int64_t>(reference_->publisher_us)} +
         config_.playout_delay;
}

void PlayoutBuffer::start(const GroupHeader& first, Time first_arrival) {
  reference_ = Reference{first_arrival, first.publisher_time_us};
  next_group_ = first.group;
  next_packet_ = first.first_packet;
  // Whatever came before the first authenticated group is the viewer's pre-roll, not a loss.
  waiting_.erase(waiting_.begin(), waiting_.lower_bound(next_group_));
}

void PlayoutBuffer::on_authenticated(const GroupHeader& h, Time first_arrival) {
  if (!reference_) start(h, first_arrival);
  if (h.group < next_group_) return;
  if (waiting_.count(h.group) != 0) return;
  if (waiting_.size() >= config_.max_groups) {
    ++counters_.dropped_over_capacity;
    return;
  }
  waiting_.emplace(h.group, Waiting{h, std::nullopt});
}

void PlayoutBuffer::on_decoded(Time /*now*/, DecodedGroup group) {
  const uint64_t n = group.header.group;
  if (!reference_) start(group.header, group.first_arrival);
  if (n < next_group_) {
    // Released already: if it was counted lost, its packets were late instead.
    if (auto it = released_lost_.find(n); it != released_lost_.end()) {
      counters_.lost -= it->second;
      counters_.late += it->second;
      released_lost_.erase(it);
    }
    return;
  }
  if (bytes_held_ + group.stream.size() > config_.max_bytes) {
    ++counters_.dropped_over_capacity;
    return;  // stays waiting undecoded, so it counts as lost at its release
  }
  auto it = waiting_.find(n);
  if (it == waiting_.end()) {
    if (waiting_.size() >= config_.max_groups) {
      ++counters_.dropped_over_capacity;
      return;
    }
    it = waiting_.emplace(n, Waiting{group.header, std::nullopt}).first;
  }
  if (it->second.decoded) return;
  bytes_held_ += group.stream.size();
  it->second.decoded = std::move(group);
}

void PlayoutBuffer::release(Waiting w) {
  const GroupHeader& h = w.header;
  if (h.first_packet > next_packet_) {
    // Groups never authenticated here: the publisher's packet index says how many packets.
    const uint64_t gap = h.first_packet - next_packet_;
    counters_.expected += gap;
    counters_.lost += gap;
  }
  counters_.expected += h.packet_count;
  next_packet_ = std::max(next_packet_, h.first_packet + h.packet_count);
  next_group_ = h.group + 1;
  if (!w.decoded) {
    counters_.lost += h.packet_count;
    released_lost_[h.group] = h.packet_count;
    if (released_lost_.size() > kMaxRememberedLost) released_lost_.erase(released_lost_.begin());
    return;
  }
  DecodedGroup& g = *w.decoded;
  bytes_held_ -= g.stream.size();
  for (size_t i = 0; i < g.packets.size(); ++i) {
    const auto& p = g.packets[i];
    const uint64_t pub =
        h.publisher_time_us + static_cast<uint64_t>(p.offset_units) * kOffsetUnit.count();
    scheduled_.push_back(Scheduled{playout_time_of(pub), local_time_of(pub),
                                   std::vector<uint8_t>(p.bytes.begin(), p.bytes.end()),
                                   g.restored[i], g.retransmitted});
    bytes_held_ += p.bytes.size();
  }
}

void PlayoutBuffer::poll(Time now, std::vector<PlayoutPacket>& out) {
  if (!reference_) return;
  while (!waiting_.empty()) {
    auto it = waiting_.begin();
    if (playout_time_of(it->second.header.publisher_time_us) > now) break;
    Waiting w = std::move(it->second);
    waiting_.erase(it);
    release(std::move(w));
  }
  while (!scheduled_.empty() && scheduled_.front().at <= now) {
    Scheduled& s = scheduled_.front();
    ++counters_.delivered_in_time;
    if (s.restored) ++counters_.restored_by_fec;
    if (s.retransmitted) ++counters_.restored_by_retransmission;
    delay_.record(now - s.publisher_local);
    bytes_held_ -= s.bytes.size();
    out.push_back(PlayoutPacket{std::move(s.bytes), s.at});
    scheduled_.pop_front();
  }
}

Time PlayoutBuffer::next_deadline() const {
  if (!reference_) return kNever;
  Time t = kNever;
  if (!scheduled_.empty()) t = scheduled_.front().at;
  if (!waiting_.empty()) {
    t = std::min(t, playout_time_of(waiting_.begin()->second.header.publisher_time_us));
  }
  return t;
}

}  // namespace forestcast::media
