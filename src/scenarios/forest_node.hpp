#pragma once
// What the forest scenario keeps per simulated node, shared by the scenario (forest_scenario.cpp)
// and its diagnostics (forest_diagnostics.cpp). Internal to src/scenarios.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/time.hpp"
#include "multicast/scribe.hpp"
#include "multicast/splitstream.hpp"

namespace forestcast::sim::forest {

using multicast::Packet;
using multicast::Scribe;
using multicast::SplitStream;

constexpr Duration kReceivingWindow = seconds(1);  // "receives a stripe": a packet this recent
constexpr Duration kSkewWindow = seconds(5);       // skew and upload: the build's last seconds

inline std::string format(const char* fmt, auto... args) {
  std::array<char, 512> buf{};
  std::snprintf(buf.data(), buf.size(), fmt, args...);
  return std::string(buf.data());
}

inline double seconds_of(Time t) { return static_cast<double>(t.count()) / 1e6; }

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto k = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(k, v.size() - 1)];
}

// What the scenario's sinks share: the phase they are in. Read-only while the simulator runs
// (the windowed engine runs sinks on several threads); what sinks measure stays in each sink.
struct Phase {
  Time skew_from = kNever, skew_until = kNever;
  Time kill = kNever;
  Time loss_until = kNever;
};

// One viewer's record of the data it received, per stripe.
class ViewerSink final : public multicast::PacketSink {
 public:
  ViewerSink(uint32_t stripes, Phase& phase) : phase_(phase), stripes_(stripes) {}

  void on_packet(const Packet& p, Time now) override {
    if (tee_ != nullptr) tee_->on_packet(p, now);
    if (p.stripe >= stripes_.size()) return;
    StripeRecord& s = stripes_[p.stripe];
    if (p.seq < s.next_seq) return;  // late or duplicate
    // The first packet after a gap since the kill: one that skips sequence numbers, or one a
    // parent replayed (gap repair), which a node only receives when it missed it live. A gap
    // filled by replays in order used to count as no gap at all.
    if (now >= phase_.kill && s.next_seq > 0 && (p.seq > s.next_seq || p.retransmitted) &&
        s.repaired_at == kNever) {
      s.repaired_at = now;
      s.gap_from = s.last_arrival;
      affected_ = true;
    }
    if (now >= phase_.kill && s.next_seq > 0 && p.seq > s.next_seq &&
        s.repaired_at_by_seq == kNever) {
      s.repaired_at_by_seq = now;  // the old measure, reported beside the new one
      affected_by_seq_ = true;
    }
    s.next_seq = p.seq + 1;
    s.last_arrival = now;
    if (p.sent_at >= phase_.kill && p.sent_at < phase_.loss_until) ++window_received_;
    if (now >= phase_.skew_from && now < phase_.skew_until) record_round(p, now);
  }

  void wanted_stripes(Time now, std::vector<uint32_t>& stripes) override {
    if (tee_ != nullptr) tee_->wanted_stripes(now, stripes);
  }

  bool receiving_all(Time now) const {
    for (const StripeRecord& s : stripes_)
      if (s.last_arrival < Time{0} || now - s.last_arrival > kReceivingWindow) return false;
    return true;
  }
  bool affected() const { return affected_; }
  // Kill to the first packet after the last gap; nullopt if some stripe never came back.
  Time repaired_at() const {
    Time latest{0};
    for (const StripeRecord& s : stripes_)
      if (s.repaired_at != kNever) latest = std::max(latest, s.repaired_at);
    return latest;
  }
  // The stripe whose repair ended last: when its gap began (its last packet before it).
  Time slowest_gap_from() const {
    const StripeRecord* worst = nullptr;
    for (const StripeRecord& s : stripes_)
      if (s.repaired_at != kNever && (worst == nullptr || s.repaired_at > worst->repaired_at))
        worst = &s;
    return worst == nullptr ? kNever : worst->gap_from;
  }
  // The stripe whose repair ended last, or nullopt when none was repaired.
  std::optional<uint32_t> slowest_stripe() const {
    std::optional<uint32_t> worst;
    for (uint32_t i = 0; i < stripes_.size(); ++i)
      if (stripes_[i].repaired_at != kNever &&
          (!worst || stripes_[i].repaired_at > stripes_[*worst].repaired_at))
        worst = i;
    return worst;
  }
  Time repaired_at(uint32_t stripe) const { return stripes_[stripe].repaired_at; }
  bool affected_by_seq() const { return affected_by_seq_; }
  Time repaired_at_by_seq() const {
    Time latest{0};
    for (const StripeRecord& s : stripes_)
      if (s.repaired_at_by_seq != kNever) latest = std::max(latest, s.repaired_at_by_seq);
    return latest;
  }
  uint64_t window_received() const { return window_received_; }
  // Sampled rounds' stripe skews, in ms.
  const std::vector<double>& skews_ms() const { return skews_ms_; }
  // Also hand every packet to `sink` (ForestMedia::viewer).
  void tee(multicast::PacketSink* sink) { tee_ = sink; }

 private:
  // One packet round (the same sequence number on every stripe) is sampled at a time, every
  // kSampleEvery rounds: rounds interleave on arrival, since stripes take different paths.
  static constexpr uint64_t kSampleEvery = 4;
  void record_round(const Packet& p, Time now) {
    if (round_ == 0) round_ = (p.seq / kSampleEvery + 1) * kSampleEvery;
    if (p.seq >= round_ + 3) {  // the sampled round lost a packet: sample a later one
      round_ = (p.seq / kSampleEvery + 1) * kSampleEvery;
      round_count_ = 0;
      return;
    }
    if (p.seq != round_) return;
    stripes_[p.stripe].round_delay = (now - p.sent_at).count();
    if (++round_count_ < stripes_.size()) return;
    const auto [lo, hi] = std::minmax_element(
        stripes_.begin(), stripes_.end(),
        [](const StripeRecord& a, const StripeRecord& b) { return a.round_delay < b.round_delay; });
    skews_ms_.push_back(static_cast<double>(hi->round_delay - lo->round_delay) / 1000.0);
    round_count_ = 0;
    round_ += kSampleEvery;
  }

  // Everything about one stripe side by side: a packet touches one cache line, not four vectors.
  struct StripeRecord {
    uint64_t next_seq = 0;
    Time last_arrival{-1};
    Time repaired_at = kNever;
    Time repaired_at_by_seq = kNever;
    Time gap_from = kNever;
    int64_t round_delay = 0;  // the sampled round's delay on this stripe
  };

  Phase& phase_;
  multicast::PacketSink* tee_ = nullptr;
  std::vector<StripeRecord> stripes_;
  std::vector<double> skews_ms_;
  bool affected_ = false;
  bool affected_by_seq_ = false;
  uint64_t window_received_ = 0;
  uint64_t round_ = 0;
  size_t round_count_ = 0;
};

struct ForestNode {
  Scribe* scribe = nullptr;
  std::unique_ptr<SplitStream> splitstream;
  std::unique_ptr<ViewerSink> sink;
  bool violated = false;
  Time subscribed_at = kNever;
  Time complete_at = kNever;  // first poll at which it received every stripe
};

}  // namespace forestcast::sim::forest
