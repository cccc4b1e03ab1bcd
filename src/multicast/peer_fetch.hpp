#pragma once
// Peer fetch (docs/media.md "Peer fetch"), sans-IO: a viewer whose stripe tree is cut asks a
// peer that views the same stream -- one of its closest leaf-set neighbours, reachable directly
// in one round trip -- for the packets of that stripe it lacks; the peer answers from its stripe
// history. Continuity then no longer waits for the tree's repair. The viewer side decides when
// (the media layer knows which groups cannot complete before their playout time); this file holds
// what both sides need: the requester's record of what it asked whom (only answers to it are
// accepted) and the server's per-requester token bucket.
#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "base/time.hpp"
#include "multicast/messages.hpp"

namespace forestcast::multicast {

struct FetchConfig {
  bool enabled = true;
  // Candidates: the nodes we share the stream's other stripe trees with (parents heard from
  // within `tree_peer_fresh`, children), then the `peers` closest live leaf-set neighbours.
  bool tree_peers = true;
  Duration tree_peer_fresh = ms(500);
  size_t peers = 4;
  // Neighbours asked at once: one of them may be cut from the same stripe (measured in
  // docs/media.md: one left continuity_min at 0.972 at 1,000 nodes, kill 10 %).
  size_t fanout = 2;
  // Each round after an unanswered one asks twice as many peers, up to `fanout_max`, until a
  // round is answered: after a cut above many viewers (the 1,000-node run at kill 25 %: two
  // thirds of them lacked the same stripe) most peers lack the stripe too, and rounds of two
  // spent the playout time finding one that holds it (docs/media.md "Widening rounds").
  size_t fanout_max = 8;
  // A stripe that brought nothing (live or fetched) for this long is cut, not merely skewed
  // (one packet interval is ~135 ms at 1 Mbit/s over 16 stripes): its first round asks
  // 2 x fanout peers at once, as after an unanswered round. Zero: off.
  Duration silent_widen = ms(300);
  Duration min_interval = ms(150);         // per stripe, after a round that was answered
  // A round with no answer yet moves on to the next peers once the answers' usual delay has
  // passed: 1.5 x this node's smoothed answer delay, within [reask_min, min_interval] (the
  // viewer re-offers a cut stripe every 50 ms; the pace is Scribe's).
  bool reask_early = true;
  Duration reask_min = ms(60);
  Duration answer_life = seconds(1);       // answers to a request are accepted this long
  Duration tail_lookback = ms(1000);       // the peer's tail answer: packets received this recently
  size_t max_answer_packets = 64;          // per request
  // Per requester: a token bucket of packets. One viewer pulling 4 cut stripes of a 2 Mbit/s
  // stream needs ~50 packets/s; the burst covers a second of most of the stream at once.
  double requester_packets_per_s = 200;
  double requester_burst = 256;
  size_t max_requesters = 256;  // tracked at once; a new one past that is refused
};

struct FetchCounters {
  uint64_t requests_sent = 0;
  uint64_t requests_no_peer = 0;       // no live neighbour to ask
  uint64_t peer_rotations = 0;         // the last request went unanswered: next neighbour
  uint64_t answers_accepted = 0;       // answered packets that filled a hole here
  uint64_t answers_duplicate = 0;      // answered packets we had meanwhile
  uint64_t answers_unsolicited = 0;    // data from a non-parent we did not ask (or too late)
  uint64_t requests_served = 0;        // as the peer
  uint64_t requests_empty = 0;         // as the peer: nothing the requester lacks
  uint64_t requests_refused = 0;       // as the peer: over the requester's rate, or too many
  uint64_t packets_served = 0;
  uint64_t bytes_served = 0;
  // Rounds as the requester (one request to one peer), for the stream scenario's diagnosis: a
  // request is answered when its first packet comes; one replaced unanswered counts here.
  uint64_t requests_answered = 0;
  uint64_t requests_unanswered = 0;
  uint64_t answer_delay_us_sum = 0;  // request to its first answered packet, summed
  uint64_t answer_delay_us_max = 0;
  uint64_t answer_delay_us_smoothed = 0;  // EWMA (1/8) of the first answers' delays; 0: none yet
};

// The requester's side for one stripe: its last requests (two rounds of the widest fanout: a
// rotation to the next neighbours keeps the previous ones' answers welcome).
class FetchRecord {
 public:
  struct Request {
    NodeId peer{};
    Time sent{0};
    uint64_t after = 0;
    std::vector<uint64_t> missing;
    bool answered = false;
    bool used = false;
  };
  // True when `from`'s packet `seq` answers a request of ours still alive at `now`; the
  // request's first answer is counted in `c` (answered, delay).
  bool expects(Time now, Duration life, const NodeId& from, uint64_t seq, FetchCounters& c);
  // A new request slot; the older one goes (counted in `c` when it was never answered).
  Request& next(Time now, FetchCounters& c);
  const Request* last() const { return last_ < kSlots && requests_[last_].used ? &requests_[last_] : nullptr; }
  // Whether any request sent at or after `since` was answered.
  bool answered_since(Time since) const;
  static constexpr size_t kMaxRound = 8;  // peers asked in one round at most
  uint32_t rotation = 0;  // which neighbour to ask next
  uint32_t round_size = 0;      // peers asked in the last round
  uint32_t unanswered_run = 0;  // rounds in a row that went unanswered

 private:
  // Two rounds of the widest fanout (a rotation keeps the previous round's answers welcome).
  static constexpr size_t kSlots = 2 * kMaxRound;
  std::array<Request, kSlots> requests_{};
  size_t last_ = kSlots;
};

// Per-requester token buckets (packets), bounded in number.
class FetchLimiter {
 public:
  explicit FetchLimiter(const FetchConfig& config) : config_(config) {}
  // Packets the requester may have now, at most `want` (0: refused); taken from its bucket.
  size_t grant(Time now, const NodeId& requester, size_t want);
  size_t tracked() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Time refilled;
  };
  const FetchConfig& config_;
  std::unordered_map<NodeId, Bucket> buckets_;
};

}  // namespace forestcast::multicast
