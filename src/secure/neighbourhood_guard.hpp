#pragma once
// The neighbourhood guard (docs/security.md "Secure routing"). A liar that is the root of a
// joiner's id hands it a leaf set of colluders only; the joiner's state then fills with what
// colluders tell it, its true neighbours never hear of it, and the eclipse outlives the join
// (measured: about 45 % of honest leaf sets wrong at 20 % liars without this). Routing toward
// our own id does not help: it ends at ourselves, or in our poisoned leaf set.
//
// So the node walks to its own neighbourhood itself, Kademlia-style: it asks nodes for the nodes
// they know closest to its id (Near), then asks the closest of those, for a few rounds. One walk
// would be trapped by the first liar it asks (the colluders it names are closer to our id than
// anything a far honest node knows, and each of them names more), so there are several disjoint
// walks, as in S/Kademlia (Baumgart and Mies, 2007): each starts from its own seeds (our leaf
// set and routing-table entries for random keys, nodes all over the ring, most learned from the
// honest hops of our join), follows only what its own answers name, and no node is asked twice.
// A walk that meets only honest nodes ends among our true neighbours. A liar can only waste a
// query or name colluders, never a node closer than our true neighbours, so the union of what
// every walk found is safe to use. At the end the node asks Pastry to probe the closest nodes named
// (Overlay::check_alive): those alive and belonging in its leaf set take their place there, and
// learn of it in turn from the probe.
#include <cstdint>
#include <vector>

#include "base/time.hpp"
#include "base/timer_queue.hpp"
#include "overlay/application.hpp"
#include "overlay/overlay.hpp"
#include "secure/secure_messages.hpp"

namespace forestcast::secure {

struct GuardConfig {
  bool enabled = true;
  Duration first_delay = seconds(2);  // after becoming active
  // Again and again: a neighbour that joined through a liar after our last walk is found by
  // its own walk, so this only catches what slipped through; each walk costs about 90 datagrams.
  Duration period = seconds(600);
  size_t walks = 12; // disjoint walks, one Near request each per round
  int rounds = 6;
  Duration round_timeout = seconds(1);
  size_t seeds = 16;               // routing-table entries the walks start from
  size_t max_bootstrap_seeds = 8;  // add_seed() keeps this many
  // A walk that found nodes we lacked is followed by another (first_delay later), up to this
  // many in a row: each starts from a better leaf set, so a partly healed node heals fully.
  int max_follow_ups = 3;
};

struct GuardCounters {
  uint64_t walks = 0;
  uint64_t requests = 0;           // Near requests sent
  uint64_t replies = 0;            // ... answered
  uint64_t replies_unmatched = 0;  // a Reply for our walk from a node we did not ask
  uint64_t probes = 0;             // nodes handed to Pastry to probe
  uint64_t follow_ups = 0;         // walks started because the last one found something
  uint64_t near_answered = 0;      // others' Near requests answered
  uint64_t near_refused = 0;       // ... naming another node as the asker
};

// An Application under kNeighbourhoodGuardAppId on every honest node: it walks for itself and
// answers others' Near requests.
class NeighbourhoodGuard final : public overlay::Application {
 public:
  // Timer tokens: the periodic start and the round timeout.
  static constexpr uint64_t kStartTimer = 0;
  static constexpr uint64_t kRoundTimer = 1;
  static constexpr uint64_t kFollowUpTimer = 2;

  // `leaf_set_size`: PastryConfig::leaf_set_size, how many nodes a walk hands to Pastry.
  NeighbourhoodGuard(overlay::Overlay& overlay, size_t leaf_set_size, GuardConfig config)
      : overlay_(overlay), leaf_set_size_(leaf_set_size), config_(config) {}

  void became_active(Time now) override;
  void on_timer(Time now, uint64_t token) override;
  void receive_direct(Time now, const overlay::NodeHandle& from,
                      const overlay::AppMessagePtr& msg) override;
  void deliver(Time, const overlay::RouteInfo&, const overlay::AppMessagePtr&) override {}
  overlay::AppMessagePtr decode(uint16_t type, std::string_view body) const override {
    return decode_secure(kNeighbourhoodGuardAppId, type, body);
  }
  // Starts a walk now unless one is running.
  void start(Time now);
  // A node known from outside the overlay (the bootstrap list): walks start from these first.
  // A node whose whole state came from colluders (its join's root lied) has no other way out.
  void add_seed(const overlay::NodeHandle& node);
  // True when `reply` belongs to our walk (handled here).
  bool on_reply(Time now, const overlay::NodeHandle& from, const SecureReply& reply);
  bool walking() const { return walk_id_ != 0; }
  const GuardCounters& counters() const { return counters_; }

 private:
  void next_round(Time now);
  void end(Time now);
  void add_candidate(size_t walk, const overlay::NodeHandle& h);

  overlay::Overlay& overlay_;
  size_t leaf_set_size_;
  GuardConfig config_;
  GuardCounters counters_;
  bool armed_ = false;
  uint64_t walk_id_ = 0;  // 0: no walk
  int round_ = 0;
  int follow_ups_ = 0;  // in a row, since the last walk that found nothing new
  TimerId round_timer_ = 0;
  std::vector<std::vector<overlay::NodeHandle>> candidates_;  // per walk
  std::vector<overlay::NodeId> queried_;                      // by any walk
  std::vector<overlay::NodeHandle> seeds_;                    // add_seed()
  struct Asked {
    overlay::NodeId node;
    size_t walk;
  };
  std::vector<Asked> outstanding_;
};

}  // namespace forestcast::secure
