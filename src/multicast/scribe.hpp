#pragma once
// Scribe (DESIGN.md §4): application-level multicast trees over Pastry. Sans-IO: it acts only
// through overlay::Overlay and is told the time by every upcall. A ScribeClient (SplitStream)
// plugs its policy in: whom to adopt, what an anycast accepts, what to do when refused, and
// where data goes locally. With no client Scribe is plain Scribe: adopt everyone, re-join by
// routing when refused.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/time.hpp"
#include "multicast/credentials.hpp"
#include "multicast/messages.hpp"
#include "multicast/peer_fetch.hpp"
#include "multicast/stripe_history.hpp"
#include "multicast/topic_table.hpp"
#include "overlay/application.hpp"
#include "overlay/overlay.hpp"

namespace forestcast::multicast {

struct ScribeConfig {
  // Data doubles as heartbeat; an explicit heartbeat goes to a child only after this long
  // without data to it.
  Duration heartbeat_interval = ms(100);
  // A parent silent for this many intervals is dead: re-join around it.
  int failure_intervals = 3;
  // Children confirm their parent at this low rate (one message per parent for all topics);
  // a parent drops a child that missed `refresh_misses` of them.
  Duration refresh_interval = seconds(1);
  int refresh_misses = 3;
  // Root -> publisher acknowledgements; the publisher re-routes after 3 silent intervals.
  Duration root_ack_interval = ms(100);
  // A root pings its successors this often, and the first takes over after `failure_intervals`
  // of them without one: a dead root cuts its stripe at every viewer, an interior node only its
  // subtree, so roots are watched faster than the tree's own heartbeat. At 100 ms (the tree's
  // interval) the take-over came 200-300 ms after the death, and with four roots dead at once
  // (a quarter of a 16-stripe ring) the replays reached many viewers after a 500 ms playout
  // (docs/multicast.md "Root fail-over"). Costs one small message per successor and interval.
  Duration root_watch_interval = ms(50);
  // Nodes holding the root's topic metadata besides the root.
  size_t replicas = 4;
  // An unanswered JOIN is retried after this, doubling per attempt up to the cap.
  Duration join_timeout = ms(500);
  Duration join_backoff_cap = seconds(2);
  // A direct JOIN to an ancestor while repairing (the grandparent, then the elders of the path)
  // that is not answered within this long moves on to the next ancestor: when a quarter of the
  // ring dies, the grandparent is dead for one orphan in four and the join timeout was the whole
  // cost of finding out. A slow live ancestor only costs a second ACCEPT (LEAVE). 250 ms: one
  // sphere round trip of 2 x 100 ms mean plus the tick (docs/multicast.md, measured at 1,000).
  Duration ancestor_timeout = ms(250);
  // Anycast walk: at most this many members visited (with revisits while backtracking).
  size_t anycast_max_visits = 48;
  // A walk for a node repairing around a lost parent that neither adopted it nor failed within
  // this long was lost (passed to a member that died): issue it again at once, up to
  // `walk_reissues` times, instead of waiting out the join back-off (0.5-2 s). A slow walk that
  // was not lost only costs its acceptor a LEAVE.
  Duration walk_timeout = ms(400);
  int walk_reissues = 2;
  // An orphan whose parent died also sends a walk into the client's repair group (SplitStream:
  // the stripe's SCG, whose members receive the stripe and have room) at once, beside its JOINs
  // to the grandparent and the great-grandparent: the first ACCEPT wins and a later one gets a
  // LEAVE. Asked one after another, dead and full ancestors and push-down cost a round trip or an
  // ancestor timeout each, and the slowest orphans of a quarter of the ring dying spent 1-2 s so
  // (docs/multicast.md "Repair tail, session 12").
  bool repair_walk = true;
  // An orphan whose parent died also asks its great-grandparent, in parallel with the
  // grandparent, to adopt it if it has room (JoinBody::backup): parent and grandparent die
  // together when a quarter of the ring dies at once.
  bool ancestor_backup = true;
  // How many ancestors above the grandparent get that backup JOIN at once, nearest first.
  size_t backup_ancestors = 3;
  // Ancestors above the grandparent (PathBody::ancestors) are asked in turn when the grandparent
  // is dead or silent, before a JOIN is routed. Off: straight to routing (the backup needs it).
  bool ancestor_fallback = true;
  // A direct JOIN avoiding our child (its orphan's evidence: silent for the failure timeout)
  // frees that child's slot at once and has Pastry probe it.
  bool drop_reported_children = true;
  // Anycast walks skip members silent beyond their interval (a child that missed a refresh, a
  // parent that missed a heartbeat).
  bool walk_skip_silent = true;
  size_t max_topics = 1024;  // topics this node keeps state for (including forwarding)
  // Push-down steps a refused child may take through former siblings before it anycasts.
  uint32_t pushdown_depth = 6;
  // Topics marked slow (SplitStream's spare capacity group carries no data) are kept alive at
  // this interval instead: cheap, and a dead member there only costs an anycast a detour.
  Duration slow_heartbeat_interval = seconds(1);
  // A child whose parent has said it is cut off from the root (PathBody::detached) keeps it this
  // long (the parent is repairing, usually within a round trip), then leaves it and re-joins on
  // its own: a subtree below a parent that cannot find a place would otherwise starve for as
  // long as that parent keeps failing (25 s and more in the daemon). 1 s made tight forests
  // churn: push-down orphans often need longer, and their children leaving only adds joiners.
  Duration cut_off_grace = seconds(3);
  // A successor that took over from a silent root steps back after this long if Pastry still
  // routes to that root (its probe was answered: the root is alive).
  Duration takeover_hold = seconds(5);
  // The root lists its children to its successors (RootAckBody::children); the one that takes
  // over adopts them at once, and a child whose root parent has been silent for all but the
  // last interval of the failure timeout follows an ACCEPT from the new root. Off: the old
  // root's children find the new root by their own JOINs after their own timeout.
  bool takeover_adopts = true;
  // Gap repair (stripe_history.hpp, gap_repair.cpp): keep each data topic's last ~2 s and replay
  // it to a child that (re-)attaches. Off: the old rule, drop data at or below the last
  // sequence number forwarded.
  bool gap_repair = true;
  // JOINs and anycast walks say what we hold (JoinBody::have_seq) and the adopter replays after
  // it behind its ACCEPT, a round trip before the RESUME would. Off: RESUME only.
  bool adopt_replay = true;
  StripeHistoryConfig history{};
  ReplayConfig replay{};
  // Publisher: a new root gets at least the packets of this last stretch again, whatever the
  // old root acknowledged (an acknowledgement does not prove it held every earlier packet).
  Duration root_replay_lookback = seconds(1);
  // Peer fetch (peer_fetch.hpp): a viewer pulls a cut stripe's packets from a neighbour.
  FetchConfig fetch{};
};

// Everything a log line would count (STYLE.md §8).
struct ScribeCounters {
  uint64_t control_sent = 0;  // every non-data message this node sent or routed
  uint64_t data_forwarded = 0;
  uint64_t data_received = 0;
  uint64_t joins_routed = 0;
  uint64_t joins_direct = 0;
  uint64_t children_adopted = 0;
  uint64_t children_refused = 0;
  uint64_t children_expired = 0;
  uint64_t parent_failures = 0;  // parents declared dead by silence
  uint64_t grandparent_rejoins = 0;
  uint64_t ancestor_rejoins = 0;        // grandparent dead too: the next ancestor, directly
  uint64_t backup_joins_sent = 0;       // JoinBody::backup to the great-grandparent
  uint64_t backup_joins_declined = 0;   // received, no room (silently)
  uint64_t children_reported_dead = 0;  // a re-joining grandchild said our child is dead
  uint64_t anycasts_lost = 0;           // walks that neither adopted nor failed in time
  uint64_t repair_walks_sent = 0;       // ScribeConfig::repair_walk, beside the ancestors' JOINs
  uint64_t repair_walk_adoptions = 0;   // ... whose ACCEPT came first
  // An ancestor asked while repairing said it does not receive the topic: the next one at once.
  uint64_t ancestors_not_receiving = 0;
  uint64_t walk_skips = 0;              // walk steps past a member silent beyond its interval
  uint64_t cycles_broken = 0;  // a path update that contained this node
  uint64_t cut_off_leaves = 0;  // left a parent that stayed cut off past the grace period
  uint64_t heartbeats_sent = 0;
  uint64_t creates_accepted = 0;
  uint64_t creates_refused = 0;  // bad credentials
  uint64_t data_refused = 0;     // publisher data from someone not the verified creator
  uint64_t data_not_from_parent = 0;
  uint64_t data_duplicates = 0;  // dropped: already held (or at or below the last forwarded)
  uint64_t data_too_old = 0;     // dropped: older than the stripe history reaches back
  uint64_t data_gap_filled = 0;  // replayed packets received that filled a gap here
  uint64_t root_takeovers = 0;
  // Root fail-over on evidence (root_failover.cpp).
  uint64_t successor_pings = 0;      // root -> successor, one per interval per root topic
  uint64_t successor_takeovers = 0;  // took over a root silent by our own watch
  // A parent's failure timeout ended between ticks and was acted on then (arm_deadline).
  uint64_t parents_lost_at_deadline = 0;
  uint64_t takeovers_undone = 0;     // the replaced root pinged again: stepped back
  uint64_t takeover_adoptions = 0;   // the old root's children adopted at take-over, unasked
  uint64_t takeovers_followed = 0;   // left a silent root parent for its successor's ACCEPT
  uint64_t joins_held = 0;           // JOINs avoiding a root we suspect, waiting for evidence
  uint64_t data_held = 0;            // publisher data dropped while the evidence is pending
  uint64_t anycasts_sent = 0;
  uint64_t anycasts_failed = 0;
  // Where walks ended without an acceptor: at a node without the group, out of visits, or
  // after the whole tree.
  uint64_t anycast_fail_no_state = 0;
  uint64_t anycast_fail_exhausted = 0;
  uint64_t anycast_fail_tree_done = 0;
  uint64_t topics_refused = 0;  // state limit reached
  uint64_t children_handed_over = 0;  // told to re-attach elsewhere when we left gracefully
  // A control group's children sent to our parent when we stopped being a member.
  uint64_t control_children_handed_up = 0;
  // The publisher gave its one child's place in a stripe to a grandchild that found it silent.
  uint64_t silent_children_replaced = 0;
  std::array<uint64_t, static_cast<size_t>(DecodeError::kCount)> malformed{};
  uint64_t malformed_total() const {
    uint64_t n = 0;
    for (uint64_t v : malformed) n += v;
    return n;
  }
};

struct Child {
  NodeHandle node;
  Time last_refresh{0};
  Time last_sent{0};  // data or heartbeat
  Time adopted{0};
  // Its unused outdegree as it last said (JOIN, REFRESH), less the orphans sent to it since.
  uint32_t spare = 0;
  // The newest sequence number replayed to it at adoption (its have_seq): its RESUME, a round
  // trip later, asks only for what comes after.
  uint64_t replayed_to = 0;
};

enum class AttachVia : uint8_t {
  kNone,
  kRouted,       // a routed JOIN
  kPushdown,     // a direct JOIN to a candidate of a refusal
  kRepair,       // around a lost parent (an ancestor directly, a JOIN avoiding it, take-over)
  kStripeScg,    // an anycast walk of a single pass (SplitStream: the stripe's SCG)
  kStreamScg,    // any other anycast walk (SplitStream: the stream's SCG)
};

// One topic as this node sees it.
struct TopicState {
  NodeId id;
  bool member = false;  // subscribed locally
  // A control group (no data): kept alive at the slow interval, and adopting costs no upload.
  bool slow = false;
  bool source = false;  // this node publishes into the topic (SplitStream publisher)
  bool root = false;    // believes it is the topic's root
  bool attached = false;     // accepted by `parent` (or root): `path` is meaningful
  // What a data packet touches comes first, within the state's first two cache lines: every
  // node's topics are cold at 10,000 nodes, and each further line was a miss per packet.
  Time last_from_parent{0};
  uint64_t last_seq = 0;  // highest data sequence number forwarded
  // histories_'s entry for this topic once a packet was admitted (gap repair): one lookup per
  // topic instead of per packet. It outlives nothing: histories_ drops an entry only after its
  // topic is gone.
  StripeHistory* history = nullptr;
  std::optional<NodeHandle> parent;
  std::vector<Child> children;
  std::vector<NodeId> path;  // root first, parent last; empty at the root
  // The parent says it is cut off from the root (PathBody::detached): no data reaches us, although
  // we are attached to it. `cut_off_since`: since when, if the parent is itself repairing.
  bool cut_off = false;
  std::optional<Time> cut_off_since;
  // Waiting for an ACCEPT: since when, how many attempts so far.
  bool joining = false;
  Time join_sent{0};
  std::optional<NodeId> join_target;  // asked directly (push-down, grandparent), not routed
  int join_attempts = 0;
  std::optional<NodeId> avoid;            // dead parent to route around
  std::optional<NodeId> replaced;         // the silent root this node took over from
  Time replaced_at{0};
  std::optional<NodeHandle> grandparent;  // parent's parent, from its last path message
  std::vector<NodeHandle> elders;         // above the grandparent, nearest first (same message)
  // While repairing: ancestors not asked yet (the grandparent was), and the one asked in
  // parallel with JoinBody::backup, whose refusal we do not act on.
  std::vector<NodeHandle> fallbacks;
  std::optional<NodeId> backup_target;
  // The last nodes asked directly that did not answer in time, or that Pastry found dead (most
  // likely dead): a refusal may offer one again as a push-down candidate (its parent does not
  // know yet), and each try cost the join back-off, doubling (0.5, 1, 2 s).
  std::array<NodeId, 4> unanswered{};
  uint8_t unanswered_next = 0;
  bool was_unanswered(const NodeId& node) const {
    return node != NodeId{} &&
           std::find(unanswered.begin(), unanswered.end(), node) != unanswered.end();
  }
  void note_unanswered(const NodeId& node) {
    if (was_unanswered(node)) return;
    unanswered[unanswered_next] = node;
    unanswered_next = static_cast<uint8_t>((unanswered_next + 1) % unanswered.size());
  }
  // A repair walk (ScribeConfig::repair_walk) is out: an ACCEPT from a node not asked directly
  // is most likely its answer.
  bool repair_walk_out = false;
  // An anycast walk in flight for this topic: when, into which group, and re-issues so far.
  std::optional<Time> walk_sent;
  NodeId walk_group{};
  bool walk_single_pass = false;
  int walk_reissues = 0;
  std::optional<CreateBody> meta;         // creator credentials (root)
  // Root: the verified publisher feeding us, and when we last acknowledged it.
  std::optional<NodeHandle> publisher;
  Time last_ack_sent{0};
  // A control group's leaf that unsubscribed told its parent at once (anycast walks then stop
  // visiting it); `parent` stays until the next tick prunes the state, for a walk passing by.
  bool left_parent = false;
  uint64_t repairs = 0;   // times this node re-attached after losing its parent
  // How the current parent was found and how often a full parent pushed this node down: the
  // forest scenario's report of deep chains (forest_diagnostics.cpp) reads them.
  AttachVia attached_via = AttachVia::kNone;
  uint32_t pushdown_left_sent = 0;  // in the last direct JOIN
  uint32_t pushdowns = 0;           // orphaned by our parent (push-down, a drop, a hand-over)
  // When this node last lost its parent (silent, dead, cut off past the grace, or orphaned) and
  // when a new parent accepted it after that: the forest scenario splits repair times with them.
  Time lost_at = kNever;
  Time regained_at = kNever;
  // The last re-attachment as the forest scenario's repair split reads it: how, whether the new
  // parent said it was cut off from the root itself, and the first new data from it after that.
  AttachVia regained_via = AttachVia::kNone;
  bool regained_cut_off = false;
  Time data_after_regain = kNever;
  // The first steps of the last repair (kind, ms after lost_at), which the forest scenario prints
  // for its slowest viewers: L/l lost (silent / dead or left), J direct JOIN, B backup JOIN,
  // R routed JOIN, W repair walk, A anycast, F/f refused with / without candidates, T ancestor
  // timeout, O join timeout, D asked node found dead, X walk failed, a/c accepted (c: by a node
  // cut off itself).
  std::array<char, 16> trace_kind{};
  std::array<int16_t, 16> trace_ms{};
  uint8_t trace_n = 0;
  void note(Time now, char kind) {
    if (lost_at == kNever || trace_n >= trace_kind.size()) return;
    trace_kind[trace_n] = kind;
    const int64_t after_ms = (now - lost_at).count() / 1000;
    trace_ms[trace_n] = static_cast<int16_t>(std::min<int64_t>(after_ms, 32000));
    ++trace_n;
  }
  // Root: the successors pinged last interval; one that drops out is told (its watch would
  // otherwise go silent exactly like a dead root's).
  std::vector<NodeHandle> watchers;
  // Root: the children last listed to the successors (an order-free digest) and when.
  uint64_t listed_digest = 0;
  Time listed_at{0};

  bool has_child(const NodeId& node) const;
  size_t depth() const { return path.size(); }
};

class Scribe;

// SplitStream's hooks into Scribe.
class ScribeClient {
 public:
  virtual ~ScribeClient() = default;
  // A JOIN for `t` from `child` reached this node (routed, or direct for push-down). The client
  // returns whether to adopt; it may orphan another child through Scribe::orphan(). Cycles are
  // refused by Scribe before the client is asked.
  virtual bool admit(Time now, TopicState& t, const NodeHandle& child, uint32_t child_spare) = 0;
  // Whether a routed JOIN for `t` that reaches this member while it has no children there stops
  // here (Scribe's default) or goes on toward the root, where the tree's forwarders are.
  virtual bool absorbs_routed_join(const TopicState& t) const {
    (void)t;
    return true;
  }
  // This node's unused outdegree, announced in its JOINs and REFRESHes.
  virtual uint32_t spare() const = 0;
  // Candidates sent with a refusal of `child` in `t` (push-down siblings). May lower the spare
  // count kept for a child it sends the refused one to.
  virtual std::vector<NodeHandle> refusal_candidates(TopicState& t, const NodeId& child) = 0;
  // `parent` refused or orphaned this node in `t`. Return true when the client arranges the
  // next attempt itself (push-down, anycast); false lets Scribe re-join by routing.
  virtual bool on_refused(Time now, TopicState& t, const RefuseBody& refusal) = 0;
  // An anycast walk reached this member of `group`: adopt the requester and return true, or
  // return false to pass the walk on.
  virtual bool anycast_accepts(Time now, const AnycastBody& a) = 0;
  virtual void on_anycast_failed(Time now, const NodeId& want) = 0;
  // The group a node that lost its parent in `t` walks at once (ScribeConfig::repair_walk), or
  // nullopt for none.
  virtual std::optional<NodeId> repair_walk_group(const TopicState& t) const {
    (void)t;
    return std::nullopt;
  }
  virtual void on_data(Time now, TopicState& t, const DataBody& data) = 0;
  virtual void on_root_ack(Time now, const NodeHandle& from, const RootAckBody& ack) = 0;
  // Children changed in `t` (capacity bookkeeping). Must not subscribe or route: defer such work
  // to on_tick().
  virtual void children_changed(Time now, TopicState& t) = 0;
  // Once per heartbeat interval, after Scribe's own maintenance.
  virtual void on_tick(Time now) = 0;
};

class Scribe final : public overlay::Application {
 public:
  Scribe(overlay::Overlay& overlay, ScribeConfig config, Credentials& credentials);

  void set_client(ScribeClient* client) { client_ = client; }
  const ScribeConfig& config() const { return config_; }
  const ScribeCounters& counters() const { return counters_; }
  // Gap repair: replays this node sent as a parent, and requests refused.
  const ReplayCounters& replay_counters() const { return replay_.counters(); }
  const StripeHistory* history(const NodeId& topic) const;
  const FetchCounters& fetch_counters() const { return fetch_counters_; }
  // Peer fetch (peer_fetch.cpp): asks a neighbour for the packets of data topic `topic` this
  // member lacks (its holes and everything after its newest), at most once per min_interval.
  void fetch(Time now, const NodeId& topic);
  overlay::Overlay& overlay() { return overlay_; }
  const NodeHandle& self() const { return overlay_.self(); }

  // --- local commands ------------------------------------------------------------------------
  // Routes the creator's credentials to the topic's root.
  void create(Time now, const CreateBody& credentials);
  // `control`: a group that carries no data (SplitStream's SCG), see TopicState::slow.
  void subscribe(Time now, const NodeId& topic, bool control = false);
  void unsubscribe(Time now, const NodeId& topic);
  // Graceful leave: tells every parent we go and hands every child over (to our parent, or at
  // a root to its successor) so they re-attach at once; afterwards this node takes part in
  // nothing. Call before the overlay leaves the ring.
  void leave_all(Time now);
  // Asks `node` directly to adopt us in `topic` (push-down).
  void join_via(Time now, const NodeId& topic, const NodeHandle& node, uint32_t pushdown_left);
  // Routes a fresh JOIN for `topic` (after a refusal or a failure).
  void rejoin(Time now, const NodeId& topic);
  // Routes an ANYCAST into `group` asking for `want`. `single_pass`: no relaxed second walk of
  // the tree (the client's acceptance does not depend on it).
  void anycast(Time now, const NodeId& group, const NodeId& want, bool single_pass = false);
  // Adopts `child` in `topic` (anycast acceptance) and sends it our path, then replays from
  // the stripe history what we hold after `have_seq` (the child's newest; 0: nothing).
  void adopt(Time now, TopicState& t, const NodeHandle& child, uint64_t have_seq = 0);
  // Drops `child` from `topic` and tells it, with push-down candidates.
  // `first`: a candidate to offer ahead of the push-down siblings (the newcomer that took the
  // orphan's place with spare capacity).
  void orphan(Time now, TopicState& t, const NodeId& child, uint32_t pushdown_left,
              const NodeHandle* first = nullptr);
  // Publisher side: data to a root (direct) or toward a topic (routed, first packet).
  void publish_direct(Time now, const NodeHandle& root, std::shared_ptr<const DataMsg> data);
  void publish_routed(Time now, std::shared_ptr<const DataMsg> data);
  // The publisher's own place in its stripe trees: it may adopt children (orphans that found no
  // other parent, e.g. below a stripe root with no outdegree) and feeds them directly.
  void add_source(Time now, const NodeId& topic);
  void publish_local(Time now, const std::shared_ptr<const DataMsg>& data);

  // --- observation ---------------------------------------------------------------------------
  TopicState* topic(const NodeId& id);
  const TopicState* topic(const NodeId& id) const;
  const std::unordered_map<NodeId, TopicState>& topics() const { return topics_.map(); }
  bool holds_replica(const NodeId& topic) const { return replicas_.count(topic) != 0; }

  // --- overlay::Application ------------------------------------------------------------------
  void forward(Time now, overlay::ForwardContext& ctx) override;
  void deliver(Time now, const overlay::RouteInfo& info,
               const overlay::AppMessagePtr& msg) override;
  void receive_direct(Time now, const NodeHandle& from, const overlay::AppMessagePtr& msg) override;
  void leafset_changed(Time now, const NodeHandle& node, bool joined) override;
  void node_dead(Time now, const NodeHandle& node) override;
  void on_timer(Time now, uint64_t token) override;
  overlay::AppMessagePtr decode(uint16_t type, std::string_view body) const override;

 private:
  TopicState* ensure_topic(Time now, const NodeId& id);
  void send(Time now, const NodeHandle& to, overlay::AppMessagePtr msg);
  void route_join(Time now, TopicState& t);
  // A control group's non-member (not its root) hands its children to its parent.
  void hand_over_control_children(Time now, TopicState& t);
  // A JOIN reached a member (or the root): adopt or refuse `child`. True when adopted.
  bool handle_join_here(Time now, TopicState& t, const NodeHandle& child, uint32_t child_spare,
                        uint32_t pushdown_left, uint64_t have_seq = 0);
  bool would_cycle(const TopicState& t, const NodeId& child) const;
  void refuse(Time now, TopicState& t, const NodeHandle& child, uint32_t pushdown_left);
  void remove_child(Time now, TopicState& t, const NodeId& child);
  void on_path(Time now, const NodeHandle& from, const PathBody& p, bool accept);
  void push_path(Time now, TopicState& t);
  PathBody path_for_children(const TopicState& t) const;
  std::optional<NodeHandle> successor(const NodeId& topic) const;
  // Root fail-over on evidence (root_failover.cpp).
  struct RootWatch {
    NodeHandle root;  // the root pinging us as one of its successors
    std::optional<Time> heard;
    NodeHandle first;  // the root's first successor (possibly us)
    // Earlier successors' pings to us (we are the second or third): who, last heard.
    std::vector<std::pair<NodeHandle, Time>> deputies;
    std::optional<Time> deputy_heard(const NodeId& id) const {
      for (const auto& [d, at] : deputies)
        if (d.id == id) return at;
      return std::nullopt;
    }
    std::optional<NodeHandle> publisher;  // from the root's pings
    std::vector<NodeHandle> children;     // the root's, from its pings
    std::vector<std::pair<NodeHandle, uint32_t>> pending;  // joiners waiting: child, spare
  };
  void ping_successor(Time now, TopicState& t);
  // A silent root's successor sent us an ACCEPT: leave the root for it (true) when our own
  // watch agrees the root is silent.
  bool follow_takeover(Time now, TopicState& t, const NodeHandle& from, const PathBody& p);
  // True for a first successor's ping to the second (not for the client: not from a root).
  bool on_successor_ping(Time now, const NodeHandle& from, const RootAckBody& ping);
  bool root_silent(Time now, const NodeId& topic) const;
  bool is_next_after(const NodeId& topic, const RootWatch& w) const;
  bool take_over_if_evident(Time now, const NodeId& topic);
  bool hold_for_evidence(Time now, const NodeId& topic, const NodeHandle& child, uint32_t spare);
  void refuse_pending(Time now, const NodeId& topic, RootWatch& w);
  void check_watches(Time now);
  // Not attached to the root any more (and not the root): tells the subtree (PathBody::detached).
  void detach(Time now, TopicState& t);
  // A root that learnt of a closer node hangs its tree below the real root.
  void step_down(Time now, TopicState& t);
  void lose_parent(Time now, TopicState& t, bool dead);
  // The grandparent did not answer (dead, or silent past the join timeout): the next ancestor
  // directly, or a routed JOIN when none is left.
  void next_repair_attempt(Time now, TopicState& t);
  // A JOIN avoiding our child `avoid` came from a child of it: its silence there is evidence.
  // The publisher hands its only child's place to the joiner (true: the joiner is placed);
  // anyone else frees the child's slot and probes it.
  bool handle_reported_dead(Time now, TopicState& t, const JoinBody& j, const NodeHandle& joiner);
  void send_anycast(Time now, const NodeId& group, const NodeId& want, bool single_pass);
  // ScribeConfig::repair_walk: a walk that leaves the topic's join state alone (its failure is
  // not acted on: the JOINs are).
  void send_repair_walk(Time now, TopicState& t);
  bool backup_join_here(Time now, TopicState* t, const NodeHandle& child, const JoinBody& j);
  // Replicas whose root is gone: become the root where we are now the closest live node.
  void take_over_replicas(Time now);
  void maybe_prune(Time now, TopicState& t);
  void on_create_delivered(Time now, const CreateBody& c, const NodeHandle& origin);
  void become_root(Time now, TopicState& t);
  void replicate(Time now, const TopicState& t);
  void on_publisher_data(Time now, const NodeHandle& from, const std::shared_ptr<const DataMsg>& d);
  void forward_data(Time now, TopicState& t, const std::shared_ptr<const DataMsg>& d);
  // Gap repair (gap_repair.cpp).
  bool admit_data(Time now, TopicState& t, const std::shared_ptr<const DataMsg>& d);
  void ask_replay(Time now, const TopicState& t, const NodeHandle& parent);
  // What a JOIN or walk of ours says we hold of `t` (JoinBody::have_seq).
  uint64_t held_seq(const TopicState& t) const;
  // Right after adopting `child`: the packets after its `have_seq`, newest first within the
  // per-adoption bound.
  void replay_on_adopt(Time now, TopicState& t, Child& child, uint64_t have_seq);
  void on_resume(Time now, const NodeHandle& from, const ResumeBody& r);
  // Publisher: a root acknowledged our data; a new one gets what the old one may have lost.
  void feed_new_root(Time now, const NodeHandle& from, const RootAckBody& ack);
  void note_routed(const NodeId& topic);
  void send_replays(Time now);
  // Peer fetch (peer_fetch.cpp): serve a neighbour's FETCH; take an answer to ours.
  void on_fetch(Time now, const NodeHandle& from, const FetchBody& f);
  std::vector<NodeHandle> fetch_peers(Time now, const TopicState& t) const;
  Duration reask_after() const;
  bool accept_fetched(Time now, const NodeHandle& from, TopicState& t,
                      const std::shared_ptr<const DataMsg>& d);
  // `from`: the member that passed the walk here directly (null when it was routed here).
  void walk_anycast(Time now, const AnycastBody& a, const NodeHandle* from = nullptr);
  // After leave_all(): a JOIN is refused, a walk handed back or failed, so nobody waits for us.
  void answer_after_leave(Time now, const NodeHandle& from, const overlay::AppMessagePtr& msg,
                          bool direct);
  // Runs the periodic duties; returns the earliest end of a parent's failure timeout it saw.
  std::optional<Time> tick(Time now);
  void arm_tick(Time now);
  Duration parent_failure(const TopicState& t) const;  // a parent silent this long is dead
  bool parent_silent(const TopicState& t, Time now) const;  // past its failure timeout
  Duration root_failure() const;  // a watched root silent this long is dead
  // Still the root as Pastry sees it, or holding on after a take-over (takeover_hold).
  bool holds_root(Time now, const TopicState& t) const;
  void arm_root_watch(Time now);
  void on_root_watch(Time now);
  void arm_deadline(Time now, std::optional<Time> parent_deadline);
  void check_deadlines(Time now);

  overlay::Overlay& overlay_;
  ScribeConfig config_;
  Credentials& credentials_;
  ScribeClient* client_ = nullptr;
  // Mutable: decode() is const (the runtime calls it at the wire boundary) and still counts
  // what it refuses.
  mutable ScribeCounters counters_;
  TopicTable<TopicState> topics_;
  std::unordered_map<NodeId, CreateBody> replicas_;  // metadata held for other roots
  std::unordered_map<NodeId, RootWatch> watches_;    // roots that named us their successor
  TopicTable<StripeHistory> histories_;  // data topics only (gap repair)
  ReplayPacer replay_{config_.replay};  // config_ is declared above
  struct RootFeed {  // publisher: per stripe, the root that last acknowledged and up to what
    NodeId root;
    uint64_t acked = 0;
    bool routed = false;  // data was routed since (no root known): some may have gone astray
  };
  std::unordered_map<NodeId, RootFeed> root_feeds_;
  Time next_history_sweep_{0};
  FetchCounters fetch_counters_;
  FetchLimiter fetch_limiter_{config_.fetch};
  std::unordered_map<NodeId, FetchRecord> fetches_;  // member data topics asked for
  bool tick_armed_ = false;
  bool root_watch_armed_ = false;
  std::optional<Time> deadline_at_;  // the earliest pending arm_deadline() timer
  bool left_ = false;  // leave_all() was called
  Time next_refresh_{0};
};

}  // namespace forestcast::multicast
