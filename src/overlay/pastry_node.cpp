#include "overlay/pastry_node.hpp"

#include <algorithm>

#include "base/log.hpp"

namespace forestcast::overlay {

namespace {

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = module_logger("pastry");
  return *logger;
}

template <typename T>
bool contains_id(const std::vector<T>& v, const NodeId& id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

}  // namespace

PastryNode::PastryNode(NodeHandle self, PastryConfig config, Environment& env, uint64_t seed)
    : self_(self),
      config_(config),
      env_(env),
      rng_(seed),
      leaf_set_(self.id, config.leaf_set_size),
      routing_table_(self.id, config.routing_slot_size),
      neighborhood_(config.neighborhood_size) {}

PastryNode::~PastryNode() = default;

// --- lifecycle -------------------------------------------------------------------------------

void PastryNode::start_ring(Time now) {
  log().info("{} starting a new ring", self_.id.short_hex());
  become_active(now);
}

void PastryNode::join(Time now, std::vector<Endpoint> bootstraps) {
  bootstraps_ = std::move(bootstraps);
  if (bootstraps_.empty()) {
    state_ = JoinState::kFailed;
    return;
  }
  state_ = JoinState::kJoining;
  join_attempt_ = 0;
  start_join_attempt(now);
}

void PastryNode::start_join_attempt(Time now) {
  join_leafset_complete_ = false;
  join_leaf_waiting_.clear();
  const Endpoint& bootstrap = bootstraps_[static_cast<size_t>(join_attempt_) % bootstraps_.size()];
  log().debug("{} join attempt {} via {}", self_.id.short_hex(), join_attempt_ + 1,
              bootstrap.to_string());
  RouteMsg msg;
  msg.hop_id = next_hop_id_++;
  msg.key = self_.id;
  msg.origin = self_;
  msg.join = true;
  send(bootstrap, msg);
  schedule(now + config_.join_timeout,
           {TimerKind::kJoinTimeout, 0, static_cast<uint64_t>(join_attempt_)});
}

void PastryNode::on_join_timeout(Time now, uint64_t attempt) {
  if (state_ != JoinState::kJoining || attempt != static_cast<uint64_t>(join_attempt_)) return;
  if (join_leafset_complete_) return;  // only waiting for probes; they time out on their own
  if (++join_attempt_ >= config_.join_attempts) {
    log().warn("{} join failed after {} attempts", self_.id.short_hex(), join_attempt_);
    state_ = JoinState::kFailed;
    timers_ = {};
    return;
  }
  start_join_attempt(now);
}

void PastryNode::leave(Time now) {
  (void)now;
  if (state_ == JoinState::kActive) {
    for (const auto& member : leaf_set_.members()) send(member.endpoint, Leave{});
  }
  state_ = JoinState::kLeft;
  timers_ = {};
}

void PastryNode::become_active(Time now) {
  state_ = JoinState::kActive;
  log().info("{} active: leaf set {}, routing table {}, neighborhood {}", self_.id.short_hex(),
             leaf_set_.members().size(), routing_table_.entry_count(), neighborhood_.size());
  // Random phases so that thousands of nodes started together do not tick in lockstep.
  schedule(now + rng_.between(Duration{0}, config_.heartbeat_period), {TimerKind::kHeartbeat});
  schedule(now + rng_.between(Duration{0}, config_.leafset_exchange_period),
           {TimerKind::kLeafsetExchange});
  schedule(now + rng_.between(config_.routing_maintenance_period / 2,
                              config_.routing_maintenance_period),
           {TimerKind::kRoutingMaintenance});
  // Announce ourselves to every node we know so they can insert us.
  std::vector<Endpoint> told;
  auto announce = [&](const NodeHandle& h) {
    if (std::find(told.begin(), told.end(), h.endpoint) != told.end()) return;
    told.push_back(h.endpoint);
    send(h.endpoint, Announce{});
  };
  for (const auto& h : leaf_set_.members()) announce(h);
  for (int r = 0; r < routing_table_.rows_allocated(); ++r)
    for (const auto& h : routing_table_.row(r)) announce(h);  // primary entries
  for (const auto& e : neighborhood_.entries()) announce(e.node);
  schedule(now + config_.first_proximity_round,
           {TimerKind::kProximityRound, 0,
            static_cast<uint64_t>(config_.first_proximity_round.count())});
  for (auto& [id, a] : apps_) a->became_active(now);
}

// Our nearest known nodes know nodes near themselves, hence near us: their neighbourhood sets
// and the routing rows we share with them are the best candidates for proximity. Asking the
// nearest ones we have not asked yet, round after round, walks toward our true neighbours.
void PastryNode::exchange_with_nearest(int count) {
  auto mark_asked = [&](const NodeId& id) {
    proximity_asked_.push_back(id);
    if (proximity_asked_.size() > 4 * config_.neighborhood_size)
      proximity_asked_.erase(proximity_asked_.begin());
  };
  // Deeper rows: the nearest entry of row r not asked yet shares r digits with us, so its row r
  // holds candidates for ours, and they are near it, hence near us.
  for (int r = 1; r < routing_table_.rows_allocated(); ++r) {
    const RouteEntry* nearest = nullptr;
    for (int c = 0; c < NodeId::kBase; ++c) {
      const RouteEntry* e = routing_table_.at(r, c);
      if (e && e->rtt != kUnknownRtt && !contains_id(proximity_asked_, e->node.id) &&
          (!nearest || e->rtt < nearest->rtt))
        nearest = e;
    }
    if (!nearest) continue;
    mark_asked(nearest->node.id);
    send(nearest->node.endpoint, StateRequest{StateKind::kRoutingRow, static_cast<uint8_t>(r)});
  }
  for (const auto& e : neighborhood_.entries()) {
    if (count <= 0) break;
    if (contains_id(proximity_asked_, e.node.id)) continue;
    mark_asked(e.node.id);
    --count;
    send(e.node.endpoint, StateRequest{StateKind::kNeighborhood, 0});
    const int shared =
        std::min(self_.id.shared_prefix_length(e.node.id), routing_table_.rows_allocated() - 1);
    for (int r = 0; r <= shared; ++r)
      send(e.node.endpoint, StateRequest{StateKind::kRoutingRow, static_cast<uint8_t>(r)});
  }
}

void PastryNode::on_proximity_round(Time now, Duration interval) {
  exchange_with_nearest(config_.proximity_fanout);
  const Duration next = interval * 2;
  if (next < config_.routing_maintenance_period)
    schedule(now + next, {TimerKind::kProximityRound, 0, static_cast<uint64_t>(next.count())});
}

// --- driver entry points ---------------------------------------------------------------------

Time PastryNode::next_deadline() { return timers_.next_deadline(); }

void PastryNode::on_timer(Time now) {
  TimerId id;
  TimerEvent ev;
  while (timers_.pop_due(now, id, ev)) {
    if (state_ == JoinState::kLeft || state_ == JoinState::kFailed) continue;
    switch (ev.kind) {
      case TimerKind::kHeartbeat:
        on_heartbeat(now);
        break;
      case TimerKind::kLeafsetExchange:
        on_leafset_exchange(now);
        break;
      case TimerKind::kRoutingMaintenance:
        on_routing_maintenance(now);
        break;
      case TimerKind::kAckTimeout:
        on_ack_timeout(now, ev.arg);
        break;
      case TimerKind::kProbeTimeout:
        on_probe_timeout(now, ev.node, ev.arg);
        break;
      case TimerKind::kJoinTimeout:
        on_join_timeout(now, ev.arg);
        break;
      case TimerKind::kProximityRound:
        on_proximity_round(now, Duration{static_cast<int64_t>(ev.arg)});
        break;
      case TimerKind::kApp:
        app_timers_.erase(id);
        if (Application* a = app(ev.app)) a->on_timer(now, ev.arg);
        break;
    }
  }
}

void PastryNode::on_message(Time now, const NodeHandle& from, const Message& msg) {
  ++counters_.messages_in;
  if (state_ == JoinState::kLeft || from.id == self_.id) return;
  const bool sender_joining =
      (std::holds_alternative<Ping>(msg) && std::get<Ping>(msg).joining) ||
      (std::holds_alternative<RouteMsg>(msg) && std::get<RouteMsg>(msg).join &&
       std::get<RouteMsg>(msg).origin.id == from.id);
  note_heard(now, from, sender_joining);

  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Ping>) {
          send(from.endpoint, Pong{m.nonce});
        } else if constexpr (std::is_same_v<T, Pong>) {
          on_pong(now, from, m);
        } else if constexpr (std::is_same_v<T, RouteMsg>) {
          // Not acknowledged until we can route: the sender then retries elsewhere.
          if (state_ != JoinState::kActive) return;
          send(from.endpoint, RouteAck{m.hop_id});
          handle_route(now, m, from);
        } else if constexpr (std::is_same_v<T, RouteAck>) {
          auto it = pending_hops_.find(m.hop_id);
          // Its timer stays armed and finds nothing when it fires: cheaper than cancelling.
          if (it != pending_hops_.end() && it->second.next.id == from.id) pending_hops_.erase(it);
        } else if constexpr (std::is_same_v<T, StateTransfer>) {
          on_state_transfer(now, from, m);
        } else if constexpr (std::is_same_v<T, StateRequest>) {
          if (state_ != JoinState::kActive) return;
          switch (m.kind) {
            case StateKind::kLeafSet:
              send_state(from.endpoint, StateKind::kLeafSet, 0, false, leaf_set_.members());
              break;
            case StateKind::kRoutingRow:
              if (m.row < NodeId::kDigits)
                send_state(from.endpoint, StateKind::kRoutingRow, m.row, false,
                           routing_table_.row(m.row));
              break;
            case StateKind::kNeighborhood:
              send_state(from.endpoint, StateKind::kNeighborhood, 0, false, neighborhood_.nodes());
              break;
          }
        } else if constexpr (std::is_same_v<T, Announce>) {
          // note_heard() already considered the sender; give it our leaf set when it is one
          // of our leaves, so concurrent joiners learn about each other.
          if (state_ == JoinState::kActive && leaf_set_.contains(from.id))
            send_state(from.endpoint, StateKind::kLeafSet, 0, false, leaf_set_.members());
        } else if constexpr (std::is_same_v<T, Leave>) {
          remove_node(now, from.id);
          dead_until_[from.id] = now + config_.dead_memory;
          notify_dead(now, from);
        } else if constexpr (std::is_same_v<T, LeafHeartbeat>) {
          // Liveness only; note_heard() did the work.
        } else if constexpr (std::is_same_v<T, DirectMsg>) {
          if (m.app && state_ == JoinState::kActive)
            if (Application* a = app(m.app->app_id())) a->receive_direct(now, from, m.app);
        }
      },
      msg);
}

// --- upward interface ------------------------------------------------------------------------

void PastryNode::register_app(uint16_t app_id, Application* application) {
  for (auto& [id, a] : apps_)
    if (id == app_id) {
      a = application;
      return;
    }
  apps_.emplace_back(app_id, application);
}

Application* PastryNode::app(uint16_t app_id) const {
  for (const auto& [id, a] : apps_)
    if (id == app_id) return a;
  return nullptr;
}

void PastryNode::route(Time now, const NodeId& key, AppMessagePtr msg) {
  RouteMsg m;
  m.key = key;
  m.origin = self_;
  m.app = std::move(msg);
  handle_route(now, std::move(m), self_);
}

void PastryNode::send_direct(Time now, const NodeHandle& to, AppMessagePtr msg) {
  (void)now;
  send(to.endpoint, DirectMsg{std::move(msg)});
}

TimerId PastryNode::schedule_app_timer(uint16_t app_id, Time at, uint64_t token) {
  const TimerId id = schedule(at, {TimerKind::kApp, app_id, token});
  app_timers_.emplace(id, app_id);
  return id;
}

void PastryNode::cancel_app_timer(uint16_t app_id, TimerId id) {
  auto it = app_timers_.find(id);
  if (it == app_timers_.end() || it->second != app_id) return;  // not this application's
  app_timers_.erase(it);
  timers_.cancel(id);
}

std::vector<NodeHandle> PastryNode::replica_set(const NodeId& key, size_t k) const {
  std::vector<NodeHandle> known;
  auto add = [&](const NodeHandle& h) {
    const Peer* p = peers_.find(h.id);
    if (p != nullptr && p->suspected) return;
    if (std::find(known.begin(), known.end(), h) == known.end()) known.push_back(h);
  };
  add(self_);
  for (const auto& h : leaf_set_.left()) add(h);
  for (const auto& h : leaf_set_.right()) add(h);
  routing_table_.for_each([&](const RouteEntry& e) { add(e.node); });
  for (const auto& e : neighborhood_.entries()) add(e.node);
  const size_t n = std::min(k, known.size());
  std::partial_sort(
      known.begin(), known.begin() + static_cast<std::ptrdiff_t>(n), known.end(),
      [&](const NodeHandle& a, const NodeHandle& b) { return key.closer(a.id, b.id); });
  known.resize(n);
  return known;
}

void PastryNode::check_alive(Time now, const NodeHandle& node) {
  if (node.id == self_.id || state_ != JoinState::kActive) return;
  if (recently_dead(now, node.id)) {
    notify_dead(now, node);
    return;
  }
  probe(now, node);
}

// --- routing ---------------------------------------------------------------------------------

bool PastryNode::usable(const NodeId& id, const std::vector<NodeId>& exclude) const {
  if (contains_id(exclude, id)) return false;
  const Peer* p = peers_.find(id);
  return p == nullptr || !p->suspected;
}

std::optional<NodeHandle> PastryNode::next_hop(const NodeId& key) const {
  return choose_next_hop(key, {});
}

std::optional<NodeHandle> PastryNode::choose_next_hop(const NodeId& key,
                                                      const std::vector<NodeId>& exclude) const {
  // 1. The key falls within the leaf set: its root is the closest of L ∪ {self}. A merely
  // suspected leaf is not skipped here: delivering past it would put the message on the wrong
  // node if it is alive (a lost datagram). The hop's ack/retry waits for the probe's verdict.
  if (leaf_set_.covers(key)) {
    const NodeHandle* best = nullptr;
    NodeId best_id = self_.id;
    auto consider = [&](const NodeHandle& h) {
      if (!contains_id(exclude, h.id) && key.closer(h.id, best_id)) {
        best = &h;
        best_id = h.id;
      }
    };
    for (const auto& h : leaf_set_.left()) consider(h);
    for (const auto& h : leaf_set_.right()) consider(h);
    if (best == nullptr) return std::nullopt;
    return *best;
  }
  // 2. Prefix routing: an entry sharing one more digit with the key. Of the slot's entries take
  // the one sharing the most digits with the key (it may be the root itself, or skip a hop),
  // then the nearest.
  const int l = self_.id.shared_prefix_length(key);
  if (l >= NodeId::kDigits) return std::nullopt;
  const RouteEntry* chosen = nullptr;
  int chosen_prefix = -1;
  for (const auto& e : routing_table_.slot(l, key.digit(l))) {
    if (!usable(e.node.id, exclude)) continue;
    const int p = e.node.id.shared_prefix_length(key);
    if (p > chosen_prefix) {  // entries come lowest RTT first: ties keep the nearer
      chosen = &e;
      chosen_prefix = p;
    }
  }
  if (chosen) return chosen->node;
  // 3. Rare case: any known node sharing at least l digits with the key and numerically closer
  // to it than we are. Prefer the longest prefix, then the numerically closest.
  const NodeHandle* best = nullptr;
  int best_prefix = l - 1;
  NodeId best_id = self_.id;
  auto consider = [&](const NodeHandle& h) {
    const int p = h.id.shared_prefix_length(key);
    if (p < l || !key.closer(h.id, self_.id) || !usable(h.id, exclude)) return;
    if (p > best_prefix || (p == best_prefix && key.closer(h.id, best_id))) {
      best = &h;
      best_prefix = p;
      best_id = h.id;
    }
  };
  for (const auto& h : leaf_set_.left()) consider(h);
  for (const auto& h : leaf_set_.right()) consider(h);
  routing_table_.for_each([&](const RouteEntry& e) { consider(e.node); });
  for (const auto& e : neighborhood_.entries()) consider(e.node);
  if (best == nullptr) return std::nullopt;
  return *best;
}

void PastryNode::handle_route(Time now, RouteMsg msg, const NodeHandle& previous) {
  std::optional<NodeHandle> next = choose_next_hop(msg.key, {});
  if (msg.join) {
    if (next && next->id == msg.origin.id) next.reset();  // never route a join to the joiner
    // Every hop answers a joiner with its routing rows; the bootstrap (first hop) also with
    // its neighbourhood set, the root with its leaf set.
    answer_join(msg, true, !next.has_value());
    if (!next) return;
  } else if (msg.app) {
    if (Application* a = app(msg.app->app_id())) {
      ForwardContext ctx{msg.key, msg.origin, previous, msg.hops, next, msg.app, false, false};
      a->forward(now, ctx);
      if (ctx.consumed) return;
      next = ctx.next_hop;
      msg.app = std::move(ctx.message);
    }
  }
  if (!next) {
    deliver_here(now, msg, previous);
    return;
  }
  ++msg.hops;
  ++counters_.routed_forwarded;
  send_hop(now, std::move(msg), previous, *next, {}, 0);
}

void PastryNode::deliver_here(Time now, const RouteMsg& msg, const NodeHandle& previous) {
  if (msg.join) {
    // Only reached when a retry finds no live node closer to the joiner than us: the rows
    // went out when the message first arrived, the leaf set is still owed.
    if (msg.origin.id != self_.id) answer_join(msg, false, true);
    return;
  }
  ++counters_.routed_delivered;
  if (!msg.app) return;
  if (Application* a = app(msg.app->app_id()))
    a->deliver(now, RouteInfo{msg.key, msg.origin, previous, msg.hops}, msg.app);
}

void PastryNode::send_hop(Time now, RouteMsg msg, const NodeHandle& previous,
                          const NodeHandle& next, std::vector<NodeId> tried, int attempt) {
  msg.hop_id = next_hop_id_++;
  send(next.endpoint, msg);
  const uint64_t hop_id = msg.hop_id;
  const Duration rto = std::min(rto_for(next.id) * (1 << std::min(attempt, 10)), config_.max_rto);
  schedule(now + rto, {TimerKind::kAckTimeout, 0, hop_id});
  pending_hops_.emplace(hop_id,
                        PendingHop{std::move(msg), next, previous, std::move(tried), attempt});
}

void PastryNode::on_ack_timeout(Time now, uint64_t hop_id) {
  auto it = pending_hops_.find(hop_id);
  if (it == pending_hops_.end()) return;
  PendingHop hop = std::move(it->second);
  pending_hops_.erase(it);
  ++counters_.route_retries;
  suspect(now, hop.next);
  // Retransmissions to one silent node outlast its probe (3 tries with doubling timeouts);
  // the number of different next hops tried is what bounds the message's life.
  if (hop.attempt + 1 >= 2 * config_.probe_attempts + 2 ||
      hop.tried.size() + 1 >= static_cast<size_t>(config_.max_route_attempts)) {
    ++counters_.route_dropped;
    log().debug("{} dropping message for {} after {} next hops", self_.id.short_hex(),
                hop.msg.key.short_hex(), hop.tried.size() + 1);
    return;
  }
  // A silent leaf that may be the key's root gets the message again (with backoff) until its
  // probe decides: alive, it was a lost datagram; dead, it has left the leaf set by then.
  // A silent routing-table hop is simply routed around.
  if (leaf_set_.covers(hop.msg.key) && leaf_set_.contains(hop.next.id)) {
    const NodeHandle next = hop.next;
    send_hop(now, std::move(hop.msg), hop.previous, next, std::move(hop.tried), hop.attempt + 1);
    return;
  }
  hop.tried.push_back(hop.next.id);
  std::optional<NodeHandle> next = choose_next_hop(hop.msg.key, hop.tried);
  if (hop.msg.join && next && next->id == hop.msg.origin.id) next.reset();
  if (!next) {
    deliver_here(now, hop.msg, hop.previous);
    return;
  }
  send_hop(now, std::move(hop.msg), hop.previous, *next, std::move(hop.tried), 0);
}

Duration PastryNode::rto_for(const NodeId& id) const {
  const Peer* p = peers_.find(id);
  const Duration rtt = (p != nullptr && p->rtt != kUnknownRtt) ? p->rtt : config_.default_rtt;
  return std::clamp(rtt + rtt / 2 + ms(20), config_.min_rto, config_.max_rto);
}

// --- join ------------------------------------------------------------------------------------

void PastryNode::answer_join(const RouteMsg& msg, bool rows, bool leaf_set) {
  const Endpoint& joiner = msg.origin.endpoint;
  if (rows && msg.hops == 0) {
    std::vector<NodeHandle> nodes = neighborhood_.nodes();
    nodes.push_back(self_);
    send_state(joiner, StateKind::kNeighborhood, 0, true, nodes);
  }
  const int shared = self_.id.shared_prefix_length(msg.origin.id);
  for (int r = 0; rows && r <= shared && r < routing_table_.rows_allocated(); ++r) {
    auto row = routing_table_.row(r);
    if (!row.empty())
      send_state(joiner, StateKind::kRoutingRow, static_cast<uint8_t>(r), true, row);
  }
  if (leaf_set) {
    auto members = leaf_set_.members();
    members.push_back(self_);
    send_state(joiner, StateKind::kLeafSet, 0, true, members);
  }
}

void PastryNode::maybe_finish_join(Time now) {
  if (state_ == JoinState::kJoining && join_leafset_complete_ && join_leaf_waiting_.empty())
    become_active(now);
}

// --- knowledge of other nodes ----------------------------------------------------------------

void PastryNode::send_state(const Endpoint& to, StateKind kind, uint8_t row, bool for_join,
                            const std::vector<NodeHandle>& nodes) {
  size_t i = 0;
  do {
    StateTransfer st;
    st.kind = kind;
    st.row = row;
    st.for_join = for_join;
    const size_t end = std::min(nodes.size(), i + kMaxHandlesPerMessage);
    st.nodes.assign(nodes.begin() + static_cast<std::ptrdiff_t>(i),
                    nodes.begin() + static_cast<std::ptrdiff_t>(end));
    st.rtt_us.reserve(st.nodes.size());
    for (const auto& h : st.nodes) {
      const Peer* p = peers_.find(h.id);
      const bool known = p != nullptr && p->rtt != kUnknownRtt;
      st.rtt_us.push_back(
          known ? static_cast<uint32_t>(std::clamp<int64_t>(p->rtt.count(), 1, kMaxRttHintUs)) : 0);
    }
    st.last = end == nodes.size();
    i = end;
    send(to, st);
  } while (i < nodes.size());
}

void PastryNode::on_state_transfer(Time now, const NodeHandle& from, const StateTransfer& st) {
  // Join replies arriving after we became active (rows from a slow hop) are still useful.
  const bool join_reply = st.for_join && state_ == JoinState::kJoining;
  // Triangle inequality: our RTT to a node it names is at least |RTT(us, it) - RTT(it, node)|.
  const Peer* sender = peers_.find(from.id);
  const bool hints =
      sender != nullptr && sender->rtt != kUnknownRtt && st.rtt_us.size() == st.nodes.size();
  for (size_t i = 0; i < st.nodes.size(); ++i) {
    const NodeHandle& h = st.nodes[i];
    if (h.id == self_.id) continue;
    Duration lower_bound{0};
    if (hints && st.rtt_us[i] != 0) {
      const int64_t theirs = st.rtt_us[i];
      const int64_t ours = sender->rtt.count();
      lower_bound = Duration{theirs > ours ? theirs - ours : ours - theirs};
    }
    learn_candidate(now, h, lower_bound);
    if (join_reply && st.kind == StateKind::kLeafSet && probes_.contains(h.id) &&
        !contains_id(join_leaf_waiting_, h.id))
      join_leaf_waiting_.push_back(h.id);
  }
  if (join_reply && st.kind == StateKind::kLeafSet && st.last) {
    join_leafset_complete_ = true;
    maybe_finish_join(now);
  }
  if (!st.for_join && st.kind == StateKind::kLeafSet && st.last && state_ == JoinState::kActive)
    compare_with_neighbor_view(now, from, st.nodes);
}

// A leaf of ours that lies inside a neighbour's leaf-set range but is missing from its leaf set
// is either dead (the neighbour removed it) or new (the neighbour has not met it yet). Either
// way a probe settles it. This is how a failure noticed by the dead node's adjacent neighbours
// reaches every node holding it, without every node heartbeating every leaf.
void PastryNode::compare_with_neighbor_view(Time now, const NodeHandle& neighbor,
                                            const std::vector<NodeHandle>& its_leaves) {
  LeafSet view(neighbor.id, config_.leaf_set_size);
  for (const auto& h : its_leaves) view.insert(h);
  view.insert(self_);
  for (const auto* side : {&leaf_set_.left(), &leaf_set_.right()}) {
    for (const auto& h : *side) {
      if (h.id == neighbor.id || view.contains(h.id) || !view.covers(h.id)) continue;
      probe(now, h);
    }
  }
}

// A node someone told us about: use it if we already know it is alive, otherwise probe it
// first (dead nodes linger in other nodes' state, and proximity needs an RTT anyway).
void PastryNode::learn_candidate(Time now, const NodeHandle& node, Duration rtt_lower_bound) {
  if (node.id == self_.id || recently_dead(now, node.id)) return;
  const Peer* p = peers_.find(node.id);
  if (p != nullptr && !p->suspected && p->rtt != kUnknownRtt) {
    // Already in our state with a measured RTT: hearsay can only move it into the leaf set.
    if (!leaf_set_.would_accept(node.id)) return;
    // Skip the probe only if we heard from it ourselves recently; a routing-table entry can be
    // long dead without our noticing, and must not re-enter the leaf set on hearsay.
    if (now - p->last_heard < config_.silence_before_probe) {
      adopt(now, node);  // second-hand news: no liveness credit
      return;
    }
  }
  if (p == nullptr) {
    // Measured before and found of no use, or provably too far: probe only if it could help.
    if (const auto rtt = rejected_rtt(node.id); rtt && !would_improve(node.id, *rtt)) return;
    if (rtt_lower_bound > Duration{0} && !would_improve(node.id, rtt_lower_bound)) return;
  }
  probe(now, node);
}

// A direct-mapped cache: a colliding node overwrites the older one, which costs at most one
// extra probe later.
std::optional<Duration> PastryNode::rejected_rtt(const NodeId& id) const {
  if (rejected_.empty()) return std::nullopt;
  const uint64_t key = std::hash<NodeId>{}(id);
  const auto& [k, rtt_us] = rejected_[key % rejected_.size()];
  if (k != key) return std::nullopt;
  return Duration{rtt_us};
}

void PastryNode::remember_rejected(const NodeId& id, Duration rtt) {
  if (config_.rejected_memory == 0) return;
  if (rejected_.empty()) rejected_.assign(config_.rejected_memory, {0, 0});
  const uint64_t key = std::hash<NodeId>{}(id);
  rejected_[key % rejected_.size()] = {
      key, static_cast<int32_t>(std::min<int64_t>(rtt.count(), INT32_MAX))};
}

bool PastryNode::would_improve(const NodeId& id, Duration rtt) const {
  if (leaf_set_.would_accept(id)) return true;
  if (routing_table_.would_accept(id, rtt)) return true;
  const auto& m = neighborhood_.entries();
  return m.size() < config_.neighborhood_size || (!m.empty() && rtt < m.back().rtt);
}

// Direct evidence that `node` is alive, with a fresh RTT when known.
void PastryNode::note_alive(Time now, const NodeHandle& node, Duration rtt) {
  Peer& p = peers_[node.id];
  p.endpoint = node.endpoint;
  p.last_heard = now;
  p.suspected = false;
  if (rtt != kUnknownRtt) p.rtt = rtt;
  adopt(now, node);
}

// Offers a node we believe alive to the leaf set, routing table and neighbourhood set.
void PastryNode::adopt(Time now, const NodeHandle& node) {
  const Peer& p = peers_[node.id];
  bool kept = false;
  if (leaf_set_.would_accept(node.id)) {
    // An insertion can push the farthest member of a side out; report that departure too.
    const auto before = leaf_set_.members();
    leaf_set_.insert(node);
    for (const auto& h : before)
      if (!leaf_set_.contains(h.id)) {
        notify_leafset(now, h, false);
        forget_if_unused(h.id);
      }
    notify_leafset(now, node, true);
    kept = true;
  } else {
    kept = leaf_set_.contains(node.id);
  }
  if (state_ != JoinState::kJoining || p.rtt != kUnknownRtt) {
    // Proximity-aware slots need a measured RTT; an unmeasured node only fills free room.
    const auto change = routing_table_.consider(node, p.rtt);
    if (change.evicted) forget_if_unused(*change.evicted);
    kept = kept || change.inserted || routing_table_.contains(node.id);
  } else {
    kept = kept || routing_table_.contains(node.id);
  }
  if (p.rtt != kUnknownRtt) {
    const NodeId farthest =
        neighborhood_.size() > 0 ? neighborhood_.entries().back().node.id : NodeId{};
    const size_t size_before = neighborhood_.size();
    const bool member = neighborhood_.consider(node, p.rtt);
    if (member && size_before == neighborhood_.size() && size_before > 0 && farthest != node.id &&
        !neighborhood_.contains(farthest))
      forget_if_unused(farthest);
    kept = kept || member;
  } else {
    kept = kept || neighborhood_.contains(node.id);
  }
  if (!kept && !probes_.contains(node.id)) peers_.erase(node.id);
}

void PastryNode::note_heard(Time now, const NodeHandle& from, bool sender_joining) {
  if (!dead_until_.empty()) dead_until_.erase(from.id);
  if (Peer* p = peers_.find(from.id)) {
    p->last_heard = now;
    p->suspected = false;
    p->endpoint = from.endpoint;
    return;
  }
  if (sender_joining || state_ != JoinState::kActive) return;
  // A node we did not know is talking to us, so it is alive: take it into the leaf set
  // right away if it belongs there, and measure it for the routing table.
  note_alive(now, from, kUnknownRtt);
  if (peers_.contains(from.id)) probe(now, from);
}

// Probe timers are never cancelled: a timeout whose probe was answered (or replaced by a
// retry with another nonce) finds nothing matching and does nothing.
void PastryNode::probe(Time now, const NodeHandle& node) {
  if (probes_.contains(node.id)) return;
  send_probe(now, PendingProbe{node, now, 0, 0});
}

void PastryNode::send_probe(Time now, PendingProbe pp) {
  pp.nonce = next_nonce_++;
  pp.sent = now;
  const Duration timeout = std::min(rto_for(pp.node.id) * (1 << pp.attempt), config_.max_rto);
  schedule(now + timeout, {TimerKind::kProbeTimeout, 0, pp.nonce, pp.node.id});
  probes_[pp.node.id] = pp;
  ++counters_.probes_sent;
  send(pp.node.endpoint, Ping{pp.nonce, state_ == JoinState::kJoining});
}

void PastryNode::on_pong(Time now, const NodeHandle& from, const Pong& pong) {
  const PendingProbe* pp = probes_.find(from.id);
  if (pp == nullptr || pp->nonce != pong.nonce) return;
  const Duration rtt = now - pp->sent;
  probes_.erase(from.id);
  note_alive(now, from, std::max(rtt, Duration{1}));
  if (!peers_.contains(from.id)) remember_rejected(from.id, rtt);
  probe_settled(now, from.id);
}

void PastryNode::on_probe_timeout(Time now, const NodeId& id, uint64_t nonce) {
  const PendingProbe* found = probes_.find(id);
  if (found == nullptr || found->nonce != nonce) return;
  PendingProbe pp = *found;
  probes_.erase(id);
  // Heard from it some other way since the probe went out: alive after all.
  if (Peer* p = peers_.find(pp.node.id); p != nullptr && p->last_heard > pp.sent) {
    p->suspected = false;
    probe_settled(now, pp.node.id);
    return;
  }
  if (pp.attempt + 1 < config_.probe_attempts) {
    pp.attempt += 1;  // each retry waits twice as long
    send_probe(now, pp);
    return;
  }
  declare_dead(now, pp.node);
  probe_settled(now, pp.node.id);
}

// A joining node waits for every member of the root's leaf set to be found alive or dead.
void PastryNode::probe_settled(Time now, const NodeId& id) {
  auto w = std::find(join_leaf_waiting_.begin(), join_leaf_waiting_.end(), id);
  if (w == join_leaf_waiting_.end()) return;
  join_leaf_waiting_.erase(w);
  maybe_finish_join(now);
}

void PastryNode::suspect(Time now, const NodeHandle& node) {
  if (Peer* p = peers_.find(node.id)) p->suspected = true;
  probe(now, node);
}

void PastryNode::declare_dead(Time now, const NodeHandle& node) {
  ++counters_.nodes_declared_dead;
  dead_until_[node.id] = now + config_.dead_memory;
  log().debug("{} declares {} dead", self_.id.short_hex(), node.id.short_hex());
  remove_node(now, node.id);
  notify_dead(now, node);
}

void PastryNode::remove_node(Time now, const NodeId& id) {
  std::optional<NodeHandle> as_leaf;
  for (const auto& h : leaf_set_.members())
    if (h.id == id) as_leaf = h;
  const auto slot = RoutingTable::slot_for(self_.id, id);
  const bool in_table = routing_table_.remove(id);
  neighborhood_.remove(id);
  peers_.erase(id);
  if (as_leaf) {
    leaf_set_.remove(id);
    notify_leafset(now, *as_leaf, false);
    ++counters_.leaf_set_repairs;
    if (state_ == JoinState::kActive) {
      request_leafset_repair();
      // Our leaf set without it tells the other nodes holding it to check it themselves.
      send_leaf_set_to_leaves();
    }
  }
  if (in_table && slot && state_ == JoinState::kActive) request_row_repair(slot->first, id);
}

void PastryNode::forget_if_unused(const NodeId& id) {
  if (leaf_set_.contains(id) || routing_table_.contains(id) || neighborhood_.contains(id) ||
      probes_.contains(id))
    return;
  peers_.erase(id);
}

bool PastryNode::recently_dead(Time now, const NodeId& id) {
  const Time* until = dead_until_.find(id);
  if (until == nullptr) return false;
  if (*until > now) return true;
  dead_until_.erase(id);
  return false;
}

void PastryNode::notify_leafset(Time now, const NodeHandle& node, bool joined) {
  for (auto& [id, a] : apps_) a->leafset_changed(now, node, joined);
}

void PastryNode::notify_dead(Time now, const NodeHandle& node) {
  for (auto& [id, a] : apps_) a->node_dead(now, node);
}

// --- maintenance -----------------------------------------------------------------------------

void PastryNode::on_heartbeat(Time now) {
  schedule(now + config_.heartbeat_period, {TimerKind::kHeartbeat});
  // Heartbeats go to the adjacent node on each side only; every other leaf is heard from at
  // least once per leaf set exchange, and its failure reaches us through its own neighbours
  // (compare_with_neighbor_view). A leaf silent past these bounds is probed.
  auto check = [&](const NodeHandle& h, Duration allowed_silence) {
    const Peer* p = peers_.find(h.id);
    if (p == nullptr || now - p->last_heard >= allowed_silence) probe(now, h);
  };
  const NodeHandle* left = leaf_set_.left().empty() ? nullptr : &leaf_set_.left().front();
  const NodeHandle* right = leaf_set_.right().empty() ? nullptr : &leaf_set_.right().front();
  if (left) send(left->endpoint, LeafHeartbeat{});
  if (right && (!left || right->id != left->id)) send(right->endpoint, LeafHeartbeat{});
  for (const auto* side : {&leaf_set_.left(), &leaf_set_.right()}) {
    for (const auto& h : *side) {
      const bool adjacent = (left && h.id == left->id) || (right && h.id == right->id);
      check(h, adjacent ? config_.silence_before_probe : config_.leafset_exchange_period * 5 / 2);
    }
  }
  // Expire the memory of dead nodes.
  if (!dead_until_.empty())
    dead_until_.erase_if([&](const NodeId&, const Time& until) { return until <= now; });
}

void PastryNode::on_leafset_exchange(Time now) {
  schedule(now + config_.leafset_exchange_period, {TimerKind::kLeafsetExchange});
  send_leaf_set_to_leaves();
}

void PastryNode::send_leaf_set_to_leaves() {
  const auto members = leaf_set_.members();
  for (const auto& h : members) send_state(h.endpoint, StateKind::kLeafSet, 0, false, members);
}

void PastryNode::on_routing_maintenance(Time now) {
  schedule(now + config_.routing_maintenance_period, {TimerKind::kRoutingMaintenance});
  exchange_with_nearest(config_.proximity_fanout / 2);
  // Ask a random entry of each non-empty row for its version of that row: it holds
  // candidates for our own slots, which we measure and keep if nearer (proximity).
  for (int r = 0; r < routing_table_.rows_allocated(); ++r) {
    const auto row = routing_table_.row(r);
    if (row.empty()) continue;
    const NodeHandle& peer = row[rng_.below(row.size())];
    send(peer.endpoint, StateRequest{StateKind::kRoutingRow, static_cast<uint8_t>(r)});
  }
  // Keep the neighbourhood set's RTTs fresh and its members alive.
  if (neighborhood_.size() > 0) {
    const auto& e = neighborhood_.entries()[rng_.below(neighborhood_.size())];
    probe(now, e.node);
  }
  // Probe a few routing-table entries not heard from for a while, so dead ones are purged
  // instead of being handed on in row replies.
  int budget = config_.stale_entry_probes;
  routing_table_.for_each([&](const RouteEntry& e) {
    if (budget <= 0) return;
    const Peer* p = peers_.find(e.node.id);
    if (p == nullptr || now - p->last_heard > config_.routing_maintenance_period * 3) {
      probe(now, e.node);
      --budget;
    }
  });
}

void PastryNode::request_leafset_repair() {
  // The farthest live leaf on each side knows the nodes just beyond our reach.
  for (const auto* side : {&leaf_set_.left(), &leaf_set_.right()}) {
    for (auto it = side->rbegin(); it != side->rend(); ++it) {
      if (usable(it->id, {})) {
        send(it->endpoint, StateRequest{StateKind::kLeafSet, 0});
        break;
      }
    }
  }
}

void PastryNode::request_row_repair(int row, const NodeId& lost) {
  ++counters_.routing_table_repairs;
  // Another node of the same row shares our prefix up to `row`, so its row `row` holds
  // candidates for the hole; failing that, a node of the next row down.
  for (int r = row; r < routing_table_.rows_allocated(); ++r) {
    auto candidates = routing_table_.row(r);
    candidates.erase(
        std::remove_if(candidates.begin(), candidates.end(),
                       [&](const NodeHandle& h) { return h.id == lost || !usable(h.id, {}); }),
        candidates.end());
    if (candidates.empty()) continue;
    const NodeHandle& peer = candidates[rng_.below(candidates.size())];
    send(peer.endpoint, StateRequest{StateKind::kRoutingRow, static_cast<uint8_t>(row)});
    return;
  }
}

void PastryNode::send(const Endpoint& to, const Message& msg) {
  ++counters_.messages_out;
  env_.send(to, msg);
}

}  // namespace forestcast::overlay
