#pragma once
// Gap repair beyond FEC (issue 12 item 4), sans-IO. Every node keeps the last ~2 s of each
// stripe's data it received or forwarded (StripeHistory, one per topic); a child that
// (re-)attaches tells its new parent the newest sequence number it holds (RESUME) and the parent
// replays what it has after it through a ReplayPacer: one node-wide token bucket bounds the
// burst, a queue bound refuses floods. The history is also the per-topic duplicate filter: a
// replayed packet below the newest seen is new if the node never held it.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "base/time.hpp"
#include "multicast/messages.hpp"

namespace forestcast::multicast {

struct StripeHistoryConfig {
  Duration window = seconds(2);     // how long a packet stays replayable
  size_t max_bytes = 256 * 1024;    // per topic: 2 s of a 1 Mbit/s stripe
  size_t max_packets = 1024;        // per topic, also bounds the simulator's payload-less packets
};

class StripeHistory {
 public:
  enum class Admit : uint8_t {
    kNew,        // never held: forward it
    kDuplicate,  // held already (a second feed, or a replay of what we had)
    kTooOld,     // at or below what the history already forgot: no use to anyone any more
  };

  // Records `d`, received at `now`, unless it is a duplicate or too old.
  Admit record(Time now, const std::shared_ptr<const DataMsg>& d);
  // Appends the packets after `seq` still inside the window at `now`, oldest first.
  void after(Time now, uint64_t seq, std::vector<std::shared_ptr<const DataMsg>>& out) const;
  // Packet `seq` if held and inside the window at `now` (null otherwise).
  std::shared_ptr<const DataMsg> get(Time now, uint64_t seq) const;
  // Sequence numbers between the oldest and the newest held that are not held, the newest
  // `max` of them, oldest first (peer fetch asks for these).
  void holes(size_t max, std::vector<uint64_t>& out) const;
  // The oldest sequence number received at or after `t` (0: none).
  uint64_t first_received_since(Time t) const;
  // The newest sequence number held (0: none yet).
  uint64_t newest() const { return newest_; }
  // The oldest sequence number still replayable (0 when empty).
  uint64_t oldest() const { return count_ == 0 ? 0 : at(0).seq; }
  size_t bytes() const { return bytes_; }
  size_t packets() const { return count_; }

  explicit StripeHistory(StripeHistoryConfig config = {}) : config_(config) {}

 private:
  struct Entry {
    uint64_t seq = 0;
    Time received{0};
    std::shared_ptr<const DataMsg> data;  // shared with every other holder, never copied
  };
  void evict(Time now);
  // Entry i in sequence order (0 = oldest).
  Entry& at(size_t i) { return ring_[(head_ + i) & (ring_.size() - 1)]; }
  const Entry& at(size_t i) const { return ring_[(head_ + i) & (ring_.size() - 1)]; }
  // Index of the first entry with seq >= `seq` (count_ if none).
  size_t lower_bound(uint64_t seq) const;
  void grow();

  StripeHistoryConfig config_;
  // Ascending seq in a ring of power-of-two size, oldest at head_: a std::deque cost ~1.4 KB per
  // topic for the ~13 entries a stripe holds (+227 MB at 10,000 nodes); the ring 0.5 KB.
  std::vector<Entry> ring_;
  uint32_t head_ = 0;
  uint32_t count_ = 0;
  size_t bytes_ = 0;
  uint64_t newest_ = 0;
  uint64_t forgotten_ = 0;  // highest sequence number evicted: anything at or below is too old
};

struct ReplayConfig {
  // Node-wide burst-rate bound on replayed bytes: a token bucket of `burst_bytes` refilled at
  // `rate_bytes_per_s`. 4 MB/s drains the 2-s history of a 1.5 Mbit/s stream (all 16 stripes,
  // ~375 KB) in ~0.1 s; a node's live upload is not starved for longer than that.
  size_t rate_bytes_per_s = 4 * 1000 * 1000;
  size_t burst_bytes = 256 * 1024;
  size_t max_queued = 4096;  // packets waiting for tokens; requests beyond are refused
  // Replay at adoption (JoinBody/AnycastBody::have_seq): at most this many packets and bytes per
  // adopted child, the newest ones, so a joiner lying about what it holds (have_seq 1) cannot
  // turn one JOIN into a whole history's burst. 64 packets cover the 2-s history of a stripe up
  // to ~5 Mbit/s of stream (the simulator's 1 Mbit/s holds ~13 per stripe).
  size_t adopt_max_packets = 64;
  size_t adopt_max_bytes = 64 * 1024;
};

struct ReplayCounters {
  uint64_t requests = 0;          // RESUMEs from a child
  uint64_t root_changes = 0;      // publisher: a new root acknowledged, fed what it may lack
  uint64_t requests_refused = 0;  // not our child, or the queue was full
  uint64_t requests_short = 0;    // the history no longer reached back to the child's seq
  uint64_t packets = 0;           // replayed copies sent (counted by the driver)
  uint64_t bytes = 0;             // their payload bytes
  uint64_t dropped_child_gone = 0;  // queued for a child that left before its turn (the driver)
  uint64_t adopt_replays = 0;         // adoptions replayed to at once from the joiner's have_seq
  uint64_t adopt_replays_capped = 0;  // ... that wanted more than the per-adoption bound
  uint64_t resumes_narrowed = 0;      // RESUMEs partly answered already by the adoption replay
};

// Paces replays: the driver (Scribe) enqueues a child's missing packets and sends whatever
// take_due() hands back, at each request and each tick.
class ReplayPacer {
 public:
  struct Send {
    NodeHandle child;                     // or the new root, when `to_root`
    std::shared_ptr<const DataMsg> data;  // the replayed copy (DataBody::replayed set)
    bool to_root = false;                 // not as a child: a new stripe root, a FETCH answer
  };

  explicit ReplayPacer(ReplayConfig config = {}) : config_(config) {}

  // Queues `packets` for `child`; false (counted) when the queue bound would be passed.
  bool enqueue(Time now, const NodeHandle& child,
               const std::vector<std::shared_ptr<const DataMsg>>& packets, bool to_root = false);
  // Replays the tokens allow at `now`, in queue order.
  std::vector<Send> take_due(Time now);
  bool idle() const { return queue_.empty(); }
  ReplayCounters& counters() { return counters_; }
  const ReplayCounters& counters() const { return counters_; }

 private:
  void refill(Time now);

  ReplayConfig config_;
  std::deque<Send> queue_;
  double tokens_ = -1;  // negative: not started (a full bucket at the first use)
  Time refilled_{0};
  ReplayCounters counters_;
};

}  // namespace forestcast::multicast
