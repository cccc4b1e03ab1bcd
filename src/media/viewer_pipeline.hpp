#pragma once
// The viewer's half of the media path, sans-IO: (stripe, item bytes, arrival time) in, the
// publisher's original RTP packets out at their playout time. GroupAssembler authenticates and
// restores groups; PlayoutBuffer orders and times them. The driver calls poll(now) whenever
// next_deadline() passes and after each item, and sends what take_packets() returns.
#include <cstdint>
#include <span>
#include <vector>

#include "base/time.hpp"
#include "media/group_assembler.hpp"
#include "media/group_signer.hpp"
#include "media/playout_buffer.hpp"

namespace forestcast::media {

struct ViewerConfig {
  StreamId stream{};
  unsigned stripes = 16;
  FecScheme fec{};
  Duration playout_delay = ms(500);
  Duration stall_timeout = ms(2000);  // no item for this long after the stream started: a stall
  size_t max_groups = 256;
  size_t max_bytes = 16 * 1024 * 1024;  // split evenly between assembly and playout
  std::optional<Duration> publisher_clock_offset;
  // Peer fetch (docs/media.md): a group still short of k symbols (or of its signature) once its
  // playout time is `fetch_lead` away -- and at least `fetch_after` after its first item --
  // makes the viewer ask a neighbour for the stripes it lacks; a stripe is asked for again at
  // most every `refetch_interval`. Earlier than that, the stripes' normal skew (p99 ~300 ms in
  // the 1,000-node simulation) would bring most of it anyway.
  bool peer_fetch = true;
  Duration fetch_lead = ms(300);
  Duration fetch_after = ms(50);
  // Scribe paces the rounds (an answered stripe every 150 ms, an unanswered one sooner to the
  // next peers): the viewer only re-offers a stripe it still lacks this often.
  Duration refetch_interval = ms(50);

  void validate() const;  // throws FecConfigError
};

// Everything /status and /metrics show for one viewer.
struct ViewerReport {
  PlayoutCounters playout;
  AssemblerCounters items;
  uint64_t items_received = 0;
  uint64_t stalls = 0;
  bool stalled = false;
  Duration delay_p50{}, delay_p99{}, delay_max{};
  Duration stripe_skew_p50{}, stripe_skew_p99{}, stripe_skew_max{};
  uint64_t decode_cache_hits = 0, decode_cache_misses = 0;
  uint64_t fetch_asks = 0;  // stripes asked for from a neighbour (peer fetch)
};

class ViewerPipeline {
 public:
  ViewerPipeline(ViewerConfig config, GroupVerifier& verifier);

  // One item from stripe `stripe`, received at `now`. Returns what became of it.
  // `retransmitted`: a relay replayed it to fill a gap (multicast::Packet::retransmitted).
  ItemVerdict on_stripe_payload(Time now, unsigned stripe, std::span<const uint8_t> bytes,
                                bool retransmitted = false);
  // Emits due packets, expires old state, notices a stall.
  void poll(Time now);
  // When poll must run next; kNever when nothing is pending (a stalled viewer sleeps).
  Time next_deadline() const;

  // Peer fetch: appends the stripes to ask a neighbour for now (none while it is off).
  void wanted_stripes(Time now, std::vector<uint32_t>& out);

  std::vector<PlayoutPacket> take_packets();
  ViewerReport report() const;
  // End-to-end delay of every packet played out, for a distribution (report() has p50/p99/max).
  const DelayHistogram& delay() const { return playout_.delay(); }
  bool stalled() const { return stalled_; }
  // The next group to play out: groups below it were released (a driver that sees `lost` grow
  // in a poll knows the group just below missed its playout).
  uint64_t next_group() const { return playout_.floor(); }
  const PlayoutCounters& playout_counters() const { return playout_.counters(); }
  // Marks in `want` (one entry per stripe) the stripes whose items group `group` still lacks
  // while it is short of k symbols or of its signature (nothing once it is decoded or expired).
  void lacking_stripes(uint64_t group, std::vector<uint8_t>& want) const {
    want.assign(config_.stripes, 0);
    assembler_.short_stripes([&](const GroupHeader& h, Time) { return h.group == group; }, want);
  }

 private:
  void drain_assembler(Time now);

  ViewerConfig config_;
  GroupAssembler assembler_;
  PlayoutBuffer playout_;
  std::vector<PlayoutPacket> out_;
  uint64_t items_received_ = 0;
  bool any_item_ = false;
  Time last_item_{};
  bool stalled_ = false;
  uint64_t stalls_ = 0;
  std::vector<Time> last_asked_;  // per stripe
  std::vector<uint8_t> want_;     // scratch
  uint64_t fetch_asks_ = 0;
};

}  // namespace forestcast::media
