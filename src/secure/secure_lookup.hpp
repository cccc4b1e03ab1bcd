#pragma once
// Secure lookups (docs/security.md "Secure routing"): find the live node closest to a key even
// when some nodes on the way lie. An Application over Pastry that any layer can call:
//   1. route a Query to the key as usual; the root answers with its leaf set (a Reply);
//   2. the routing failure test (routing_failure_test.hpp) checks the answer against our own
//      leaf set's density and our own knowledge; no answer in time fails it too;
//   3. on failure, redundant routing: one copy of the Query through each of our leaf set members
//      (ids spread over the ring, so their routes share few nodes); every root that answers names
//      its leaf set, and the answer is the node closest to the key among all named. A liar can
//      only name real nodes (ids are key-proven), none closer to the key than the true root, so
//      one honest answer among the copies is enough.
// Roots answer only the node that routed the Query to them (no reflection to a third party); a
// node that relays a copy passes the Reply back to the requester it relayed for, and only to it.
//
// Its companion on every node is the neighbourhood guard (neighbourhood_guard.hpp), which keeps a
// liar at our join from eclipsing the leaf set these checks rely on.
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/time.hpp"
#include "base/timer_queue.hpp"
#include "overlay/application.hpp"
#include "overlay/overlay.hpp"
#include "secure/routing_failure_test.hpp"
#include "secure/secure_messages.hpp"

namespace forestcast::secure {

struct SecureLookupConfig {
  // PastryConfig::leaf_set_size: how many members a Reply names and our density estimate uses.
  size_t leaf_set_size = 16;
  // Routing failure test threshold: a claim whose mean id spacing exceeds gamma times ours fails.
  double gamma = 1.5;
  Duration reply_timeout = seconds(1);      // the first route's Reply
  Duration redundant_timeout = seconds(2);  // all copies' Replies
  size_t redundant_copies = 16;             // leaf set members the copies go through
  size_t max_pending = 1024;                // our own lookups in progress
  size_t max_relayed = 1024;                // copies relayed for others, remembered for the Reply
  // A redundant lookup ends early once this many answers that pass the failure test name the
  // best candidate as their root (0: wait for every copy or the timeout).
  size_t early_quorum = 2;
};

struct SecureLookupCounters {
  uint64_t lookups = 0;
  uint64_t first_passed = 0;     // the first route's answer passed the failure test
  uint64_t first_failed = 0;     // ... failed it (by reason below)
  uint64_t first_timed_out = 0;  // ... never came
  uint64_t failed_sparse = 0;
  uint64_t failed_too_few = 0;
  uint64_t failed_not_closest = 0;
  uint64_t failed_known_closer = 0;
  uint64_t redundant = 0;          // lookups that went redundant
  uint64_t unanswered = 0;         // finished with no candidate at all
  uint64_t refused_busy = 0;       // lookup() with max_pending in progress
  uint64_t replies_unmatched = 0;  // a Reply for no lookup or copy of ours
  uint64_t replies_answered = 0;   // Replies sent as a key's root
  uint64_t relays_served = 0;
  uint64_t relays_refused = 0;   // Relay from a node not in our leaf set, or for another
  uint64_t relayed_replies = 0;  // Replies passed back to a requester
};

struct SecureLookupResult {
  uint64_t token = 0;  // the caller's, from lookup()
  overlay::NodeId key;
  std::optional<overlay::NodeHandle> root;  // nullopt: nobody answered
  bool redundant = false;
  FailureReason first_verdict = FailureReason::kNone;
  bool first_timed_out = false;
  size_t replies = 0;  // Replies received, all copies
  Time started{0};
};

class SecureLookup final : public overlay::Application {
 public:
  using Done = std::function<void(Time now, const SecureLookupResult& result)>;
  SecureLookup(overlay::Overlay& overlay, SecureLookupConfig config, Done done);

  // Finds the root of `key`; `done` runs once with the result (at once when refused).
  void lookup(Time now, const overlay::NodeId& key, uint64_t token);
  const SecureLookupCounters& counters() const { return counters_; }

  size_t pending() const { return pending_.size(); }

  void deliver(Time now, const overlay::RouteInfo& info,
               const overlay::AppMessagePtr& msg) override;
  void receive_direct(Time now, const overlay::NodeHandle& from,
                      const overlay::AppMessagePtr& msg) override;
  void on_timer(Time now, uint64_t token) override;

  overlay::AppMessagePtr decode(uint16_t type, std::string_view body) const override {
    return decode_secure(kSecureLookupAppId, type, body);
  }

 private:
  struct Pending {
    uint64_t token = 0;
    overlay::NodeId key;
    Time started{0};
    bool redundant = false;
    FailureReason first_verdict = FailureReason::kNone;
    bool first_timed_out = false;
    std::vector<overlay::NodeHandle> via;  // copy k went through via[k - 1]
    size_t quorum = 0;                     // passing answers naming `best` as their root
    size_t replies = 0;
    std::vector<uint8_t> answered;  // per copy: its Reply came
    std::optional<overlay::NodeHandle> best;
    TimerId timer = 0;
  };

  void on_reply(Time now, const overlay::NodeHandle& from, const SecureReply& reply);
  void on_relay(Time now, const overlay::NodeHandle& from, const SecureQuery& relay);
  void check_first(Time now, uint64_t id, Pending& p, const SecureReply& reply);
  void go_redundant(Time now, uint64_t id, Pending& p);
  void send_copies(Time now, uint64_t id, Pending& p, std::vector<overlay::NodeHandle> via,
                   Duration timeout);
  uint64_t new_lookup_id();
  bool passes(const Pending& p, const SecureReply& reply, FailureVerdict* verdict) const;
  void consider(Pending& p, const overlay::NodeHandle& candidate) const;
  void finish(Time now, uint64_t id);
  // This node and its leaf set: the replica set around our own id.
  std::vector<overlay::NodeHandle> own_leaf_set() const;
  bool in_leaf_set(const overlay::NodeId& id) const;

  overlay::Overlay& overlay_;
  SecureLookupConfig config_;
  Done done_;
  SecureLookupCounters counters_;
  std::unordered_map<uint64_t, Pending> pending_;
  // Copies relayed for others: (lookup id, copy) -> requester, oldest first out.
  struct Relayed {
    uint64_t lookup_id;
    uint8_t copy;
    overlay::NodeHandle requester;
  };
  std::deque<Relayed> relayed_;
};

}  // namespace forestcast::secure
