#pragma once
// The viewer's second stage: turns restored groups back into the original RTP packets, in
// order, each at  reference + playout delay + (its publisher ingest time - the reference
// group's), so the player sees the publisher's packet spacing shifted by a constant.
//
// The reference is taken once, from the first authenticated group: its first item's local
// arrival time and its publisher time. Groups are released strictly in group-number order at their
// first packet's playout time; a group not restored by then counts its packets lost (moved to
// late if it is restored afterwards -- late packets are not emitted, as their successors
// already were). Groups the viewer never heard of show up as a gap in the publisher's packet
// index and count as lost too.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "base/time.hpp"
#include "media/delay_histogram.hpp"
#include "media/group_assembler.hpp"
#include "media/group_format.hpp"

namespace forestcast::media {

struct PlayoutConfig {
  Duration playout_delay = ms(500);
  size_t max_groups = 256;             // authenticated groups waiting for release
  size_t max_bytes = 8 * 1024 * 1024;  // packet bytes waiting for playout
  // local clock = publisher clock + offset, when the driver knows it (the simulator: 0).
  // Without it, delay is measured as if the reference group had crossed the network in no time.
  std::optional<Duration> publisher_clock_offset;
};

// A packet ready for the player, exactly as the publisher received it.
struct PlayoutPacket {
  std::vector<uint8_t> bytes;
  Time playout_time{};
};

struct PlayoutCounters {
  uint64_t expected = 0;
  uint64_t delivered_in_time = 0;
  uint64_t restored_by_fec = 0;  // delivered in time, with bytes rebuilt by Reed-Solomon
  // Delivered in time, from a group that only a relay's replay completed (gap repair).
  uint64_t restored_by_retransmission = 0;
  uint64_t late = 0;
  uint64_t lost = 0;
  uint64_t dropped_over_capacity = 0;  // groups refused by the memory bound (counted lost too)

  double continuity() const {
    return expected == 0 ? 1.0
                         : static_cast<double>(delivered_in_time) / static_cast<double>(expected);
  }
};

class PlayoutBuffer {
 public:
  explicit PlayoutBuffer(PlayoutConfig config) : config_(config) {}

  void on_authenticated(const GroupHeader& h, Time first_arrival);
  void on_decoded(Time now, DecodedGroup group);
  // Releases groups whose time has come and appends every packet due at `now`.
  void poll(Time now, std::vector<PlayoutPacket>& out);
  Time next_deadline() const;

  // Groups below this number are released (their items are late).
  uint64_t floor() const { return next_group_; }
  bool started() const { return reference_.has_value(); }
  // When a group with this publisher time plays out (only once started()).
  Time playout_time(uint64_t publisher_us) const { return playout_time_of(publisher_us); }
  const PlayoutCounters& counters() const { return counters_; }
  const DelayHistogram& delay() const { return delay_; }
  size_t bytes_held() const { return bytes_held_; }

 private:
  struct Waiting {
    GroupHeader header;
    std::optional<DecodedGroup> decoded;
  };
  struct Scheduled {
    Time at;
    Time publisher_local;  // the packet's ingest time on this node's clock
    std::vector<uint8_t> bytes;
    bool restored;
    bool retransmitted;
  };
  struct Reference {
    Time local;
    uint64_t publisher_us;
  };

  Time local_time_of(uint64_t publisher_us) const;
  Time playout_time_of(uint64_t publisher_us) const;
  void start(const GroupHeader& first, Time first_arrival);
  void release(Waiting w);

  PlayoutConfig config_;
  std::optional<Reference> reference_;
  std::map<uint64_t, Waiting> waiting_;
  std::deque<Scheduled> scheduled_;
  // Groups released without their packets, so a late restore can move them from lost to late.
  std::map<uint64_t, uint16_t> released_lost_;
  uint64_t next_group_ = 0;
  uint64_t next_packet_ = 0;
  size_t bytes_held_ = 0;
  PlayoutCounters counters_;
  DelayHistogram delay_;
};

}  // namespace forestcast::media
