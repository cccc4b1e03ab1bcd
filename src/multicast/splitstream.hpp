#pragma once
// SplitStream (DESIGN.md §5) on Scribe: a stream is S stripe trees (stripeId = groupId with its
// first digit replaced by the stripe index), every node offers an outdegree limit shared by all
// the streams it carries, a node at its limit adopts a newcomer and orphans one child by the
// push-down rule, orphans try their former siblings, then anycast to their stripe's spare
// capacity group and then to the stream's (SCG); a stripe root that is a pure leaf is fed through
// one delegate of the publisher. Sans-IO like Scribe: the daemon and the simulator drive it the
// same way.
//
// For the media layer: a publisher calls send(now, stripe, payload); a viewer gets every packet
// through its PacketSink, tagged with stream, stripe and per-stripe sequence number.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "multicast/scribe.hpp"

namespace forestcast::multicast {

struct SplitStreamConfig {
  uint32_t stripes = 16;
  // Outdegree limit: stripe-children over all streams. Negative = the number of stripes this
  // node receives (DESIGN.md §5 default); 0 = a pure leaf.
  int capacity = -1;
  // The publisher routes again when its stripe root has not acknowledged for this long.
  Duration root_silence = ms(300);
  // The publisher as a stripe's root hands the place of a delegate without the stripe's digit
  // to a joiner with spare outdegree after this long (at once to one with the digit).
  Duration delegate_hold = seconds(3);
  // A pure-leaf root's delegate of another digit is taken when none of the stripe's digit came
  // for this long (a small ring may have none with spare).
  Duration delegate_digit_wait = seconds(2);
};

struct SplitStreamCounters {
  uint64_t pushdown_orphans = 0;   // children orphaned to make room (push-down)
  uint64_t pushdown_attempts = 0;  // direct JOINs to former siblings
  // Push-down candidates passed over: asked directly before, they did not answer (most likely
  // dead; TopicState::unanswered).
  uint64_t pushdown_unanswered_skipped = 0;
  uint64_t scg_anycasts = 0;
  uint64_t scg_adoptions = 0;  // orphans adopted through the SCG
  // Children adopted in a stripe whose first digit is not this node's (interior off its own
  // stripe): through a JOIN (routed or direct) or through the SCG.
  uint64_t foreign_admits = 0;
  uint64_t scg_adoptions_foreign = 0;
  uint64_t anycast_failures = 0;
  // Why this member passed an anycast walk on.
  uint64_t anycast_no_spare = 0;
  uint64_t anycast_not_receiving = 0;
  uint64_t anycast_descendant = 0;
  uint64_t anycast_foreign_deferred = 0;  // a better-suited acceptor may come later in the walk
  uint64_t scg_joins = 0;  // subscriptions to a spare capacity group (stream's or a stripe's)
  uint64_t stripe_scg_failures = 0;       // walks of a stripe's own SCG that found nobody
  uint64_t limit_violations = 0;          // must stay 0: a node never exceeds its limit
  // The publisher as a stripe's root handed its delegate's place to a joiner with spare.
  uint64_t delegate_swaps = 0;
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;   // publisher
  uint64_t root_reroutes = 0;  // publisher: a stripe root stopped acknowledging
};

// A packet as the media layer sees it. `payload` is null for the simulator's synthetic stream,
// which carries only a size.
struct Packet {
  NodeId stream;  // the groupId
  uint32_t stripe = 0;
  uint64_t seq = 0;  // per stripe, from 1
  std::shared_ptr<const std::string> payload;
  uint32_t size = 0;
  Time sent_at{0};  // publisher's clock (the simulator's is global)
  bool retransmitted = false;  // a parent's replay that filled a gap (Scribe's gap repair)
};

class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual void on_packet(const Packet& packet, Time now) = 0;
  // Peer fetch: after each packet, the stripes the viewer wants pulled from a neighbour now
  // (its FEC groups cannot complete in time without them). Default: none.
  virtual void wanted_stripes(Time now, std::vector<uint32_t>& stripes) {
    (void)now;
    (void)stripes;
  }
};

// One stripe as the daemon's /status shows it.
struct StripeView {
  uint32_t index = 0;
  NodeId stripe_id;
  std::optional<NodeHandle> parent;
  std::vector<NodeHandle> children;
  bool root = false;
  size_t depth = 0;  // tree hops below the stripe root
  uint64_t packets_received = 0;
  Time last_receive{0};
  uint64_t repairs = 0;
};

class SplitStream final : public ScribeClient {
 public:
  SplitStream(Scribe& scribe, SplitStreamConfig config);

  // The spare capacity group of a stream: every node with unused outdegree.
  static NodeId scg_of(const NodeId& group);
  // A stripe's own spare capacity group: nodes with unused outdegree that receive the stripe
  // and either have its first digit or already forward it. Its id starts with the stripe's
  // digit, so its tree is made of nodes of that digit and an orphan's anycast reaches it at the
  // first hop. Orphans ask it first and the stream's SCG only when it has no acceptor
  // (docs/multicast.md).
  static NodeId stripe_scg_of(const NodeId& group, uint32_t stripe);

  // --- viewer ----------------------------------------------------------------------------------
  // Joins every stripe of `group`; packets go to `sink` (may be null: relay only).
  void view(Time now, const NodeId& group, PacketSink* sink);

  // --- publisher -------------------------------------------------------------------------------
  // Creates stream `name` under `key` (one CREATE per stripe); returns its groupId.
  NodeId publish(Time now, const CreatorKey& key, std::string_view name);
  // Sends one packet on `stripe` of the stream this node publishes. `payload` may be null with a
  // `size` (synthetic stream). Returns the packet's sequence number (0: not publishing).
  uint64_t send(Time now, uint32_t stripe, std::shared_ptr<const std::string> payload,
                uint32_t size);

  // Sets the outdegree limit once it is known (--upload-kbps needs the stream's bitrate, which a
  // viewer learns from the name record); negative restores the default. A limit lowered below
  // what is in use takes effect as children leave: nobody is orphaned for it.
  void set_capacity(int capacity);

  // --- observation -----------------------------------------------------------------------------
  int limit() const { return limit_; }
  int used() const { return used_; }
  const SplitStreamCounters& counters() const { return counters_; }
  const SplitStreamConfig& config() const { return config_; }
  std::vector<StripeView> stripes(const NodeId& group) const;
  std::optional<NodeHandle> publisher_root(uint32_t stripe) const;

  // --- ScribeClient ------------------------------------------------------------------------------
  bool admit(Time now, TopicState& t, const NodeHandle& child, uint32_t child_spare) override;
  bool absorbs_routed_join(const TopicState& t) const override;
  uint32_t spare() const override {
    return used_ < limit_ ? static_cast<uint32_t>(limit_ - used_) : 0;
  }
  std::vector<NodeHandle> refusal_candidates(TopicState& t, const NodeId& child) override;
  bool on_refused(Time now, TopicState& t, const RefuseBody& refusal) override;
  bool anycast_accepts(Time now, const AnycastBody& a) override;
  void on_anycast_failed(Time now, const NodeId& want) override;
  std::optional<NodeId> repair_walk_group(const TopicState& t) const override;
  void on_data(Time now, TopicState& t, const DataBody& data) override;
  void on_root_ack(Time now, const NodeHandle& from, const RootAckBody& ack) override;
  void children_changed(Time now, TopicState& t) override;
  void on_tick(Time now) override;

  // The push-down rule alone (DESIGN.md §5), exposed for tests: among `children` (pairs of
  // stripe topic and child), the one this node orphans.
  static std::pair<NodeId, NodeHandle> choose_orphan(
      const NodeId& self, const std::vector<std::pair<NodeId, NodeHandle>>& children);

 private:
  struct StripeStats {
    uint64_t packets = 0;
    Time last_receive{0};
  };
  struct Stream {
    NodeId group;
    NodeId scg;
    std::vector<NodeId> stripe_ids;
    PacketSink* sink = nullptr;
    bool viewing = false;
    bool publishing = false;
    bool in_scg = false;
    // Per stripe: member of its SCG (its own digit's stripe, or one it already forwards).
    std::vector<uint8_t> in_stripe_scg;
    std::vector<NodeId> stripe_scg_ids;
    std::vector<StripeStats> stats;
    // Per stripe, while an orphan looks for a parent: its stripe's SCG was walked in vain and the
    // stream's SCG is being asked now.
    std::vector<uint8_t> asking_stream_scg;
  };
  std::vector<uint32_t> wanted_;  // peer fetch: scratch for on_data
  struct PublishedStripe {
    std::optional<NodeHandle> root;
    std::optional<NodeHandle> successor;  // from the root's acknowledgements
    Time last_ack{0};
    uint64_t seq = 0;
    bool create_sent = false;
    // First joiner refused only for lacking the stripe's digit (pure-leaf root's delegate).
    std::optional<Time> undigited_since;
  };
  struct Publication {
    NodeId group;
    std::vector<CreateBody> creates;
    std::vector<PublishedStripe> stripes;
  };

  Stream& stream_for(const NodeId& group);
  Stream* stream_of_stripe(const NodeId& topic);
  const Stream* stream_of_stripe(const NodeId& topic) const;
  void anycast_for(Time now, Stream& s, const NodeId& want);
  // How well this node suits a stripe it is asked to adopt in through the stream's SCG: 0 its
  // own stripe, 1 a stripe it already forwards, 2 it forwards nothing yet or two stripes
  // already (one more costs no interior-disjointness), 3 anything else.
  int suitability(const NodeId& stripe) const;
  // The publisher's place in a stripe tree (its one delegate there): true / false when that
  // policy decides, nothing when the common rules of admit() do.
  std::optional<bool> admit_at_source(Time now, TopicState& t, const NodeHandle& child,
                                      uint32_t child_spare);
  // Children in foreign stripes and none in its own: its budget went to other stripes.
  bool forwards_foreign_only() const;
  Stream* stream_of_scg(const NodeId& topic);
  bool is_scg(const NodeId& topic) const;
  void recount(Time now);
  void update_default_limit();

  Scribe& scribe_;
  SplitStreamConfig config_;
  SplitStreamCounters counters_;
  std::vector<Stream> streams_;
  std::optional<Publication> publication_;
  int limit_ = 0;
  int used_ = 0;
};

}  // namespace forestcast::multicast
