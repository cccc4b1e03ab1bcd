#include "overlay/pastry_node.hpp"

#include <algorithm>

#include "base/log.hpp"

namespace forestcast::overlay {

spdlog::logger& pastry_log() {
  static const std::shared_ptr<spdlog::logger> logger = module_logger("pastry");
  return *logger;
}

// Leaf-set changes are reported as the net change per node over the queued batch: a node that
// entered and left again within one entry point is not reported at all, and every report
// agrees with leaf_set() at the time of the upcall.
void NodeCore::flush_upcalls(Time now) {
  if (flushing) return;  // an upcall re-entered Pastry: the outer loop delivers the rest
  flushing = true;
  // By index: an application may cause more upcalls (check_alive() on a dead node).
  for (size_t i = 0; i < upcalls.size(); ++i) {
    const Upcall u = upcalls[i];
    if (u.kind == Upcall::kDead) {
      for (auto& [id, a] : apps) a->node_dead(now, u.node);
      continue;
    }
    bool first = true;  // the first queued leaf change of this node tells its state before
    for (size_t j = 0; j < i && first; ++j)
      first = upcalls[j].kind == Upcall::kDead || upcalls[j].node.id != u.node.id;
    if (!first) continue;
    const bool was_member = u.kind == Upcall::kLeafLeft;
    const bool member = leaf_set.contains(u.node.id);
    if (member == was_member) continue;
    for (auto& [id, a] : apps) a->leafset_changed(now, u.node, member);
  }
  upcalls.clear();
  flushing = false;
}

PastryNode::PastryNode(NodeHandle self, PastryConfig config, Environment& env, uint64_t seed)
    : core_(self, config, env, seed),
      peers_(core_, joiner_, maintenance_),
      router_(core_, peers_, joiner_),
      joiner_(core_, peers_, maintenance_),
      maintenance_(core_, peers_, joiner_),
      proof_tokens_(config.proof_burst) {}

PastryNode::~PastryNode() = default;

// --- lifecycle -------------------------------------------------------------------------------

void PastryNode::start_ring(Time now) {
  pastry_log().info("{} starting a new ring", core_.self.id.short_hex());
  joiner_.become_active(now);
}

void PastryNode::join(Time now, std::vector<Endpoint> bootstraps) {
  joiner_.join(now, std::move(bootstraps));
}

void PastryNode::leave(Time now) {
  (void)now;
  if (core_.active()) {
    for (const auto& member : core_.leaf_set.members()) core_.send(member.endpoint, Leave{});
  }
  core_.state = JoinState::kLeft;
  core_.stop_timers();
}

// --- driver entry points ---------------------------------------------------------------------

Time PastryNode::next_deadline() { return core_.timers.next_deadline(); }

void PastryNode::on_timer(Time now) {
  TimerId id;
  PastryTimer timer;
  while (core_.timers.pop_due(now, id, timer)) {
    if (core_.state == JoinState::kLeft || core_.state == JoinState::kFailed) continue;
    fire(now, id, timer);
  }
  core_.flush_upcalls(now);
}

void PastryNode::fire(Time now, TimerId id, const PastryTimer& timer) {
  std::visit(
      [&](const auto& t) {
        using T = std::decay_t<decltype(t)>;
        if constexpr (std::is_same_v<T, HeartbeatTimer>) {
          maintenance_.on_heartbeat(now);
        } else if constexpr (std::is_same_v<T, LeafsetExchangeTimer>) {
          maintenance_.on_leafset_exchange(now);
        } else if constexpr (std::is_same_v<T, RoutingMaintenanceTimer>) {
          maintenance_.on_routing_maintenance(now);
        } else if constexpr (std::is_same_v<T, ProximityRoundTimer>) {
          maintenance_.on_proximity_round(now, t);
        } else if constexpr (std::is_same_v<T, AckTimeout>) {
          router_.on_ack_timeout(now, t);
        } else if constexpr (std::is_same_v<T, ProbeTimeout>) {
          settle(now, peers_.on_probe_timeout(now, t));
        } else if constexpr (std::is_same_v<T, JoinTimeout>) {
          joiner_.on_join_timeout(now, t);
        } else if constexpr (std::is_same_v<T, AppTimer>) {
          core_.app_timers.erase(id);
          if (Application* a = app(t.app)) a->on_timer(now, t.token);
        } else if constexpr (std::is_same_v<T, LocalDirect>) {
          if (t.msg && core_.active())
            if (Application* a = app(t.msg->app_id())) a->receive_direct(now, core_.self, t.msg);
        }
      },
      timer);
}

void PastryNode::on_message(Time now, const NodeHandle& from, const Message& msg) {
  ++core_.counters.messages_in;
  if (core_.state == JoinState::kLeft || from.id == core_.self.id) return;
  const auto* ping = std::get_if<Ping>(&msg);
  const auto* routed = std::get_if<RouteMsg>(&msg);
  const bool sender_joining =
      (ping && ping->joining) || (routed && routed->join && routed->origin.id == from.id);
  // A Leave is no sign of life (and may be forged). A Pong answers a probe of ours, and
  // on_pong() decides what it proves: from a stranger it is no sign of an active node, since a
  // joiner answers the address checks of its join's hops. Taken for one, it put the joiner into
  // the bootstrap's routing table, whose JOIN then stopped there (seed 3, docs/pastry.md).
  if (!std::holds_alternative<Leave>(msg))
    peers_.note_heard(now, from, sender_joining || std::holds_alternative<Pong>(msg));
  if (core_.proofs() != nullptr && !sender_joining && !peers_.proven(now, from)) {
    if (hold_until_proven(now, from, msg)) {
      core_.flush_upcalls(now);
      return;
    }
  }
  std::visit([&](const auto& m) { handle(now, from, m); }, msg);
  core_.flush_upcalls(now);
}

// Key proofs on, and `from` has not proven its id: what may not be used yet is held until it
// does (a routed message, an application's direct message: one probe with a challenge, the
// sender's first messages are not lost) or dropped (a heartbeat earns nothing). Pings and Pongs
// are the proof itself; state, requests and announcements wait for it on their own (the
// handlers below); a RouteAck counts only as the answer to a hop we sent to that address; a
// Leave only from a node we hold. True when the message was taken care of here.
bool PastryNode::hold_until_proven(Time now, const NodeHandle& from, const Message& msg) {
  OwedReply owed;
  if (const auto* routed = std::get_if<RouteMsg>(&msg)) {
    if (!core_.active()) return true;  // not acknowledged: the sender retries elsewhere
    owed.kind = OwedReply::Kind::kRouteForward;
    owed.join = *routed;
  } else if (const auto* direct = std::get_if<DirectMsg>(&msg)) {
    owed.kind = OwedReply::Kind::kDirect;
    owed.direct = direct->app;
  } else if (std::holds_alternative<LeafHeartbeat>(msg)) {
    ++core_.counters.unproven_dropped;
    return true;
  } else {
    return false;
  }
  if (!peers_.defer(now, from, std::move(owed), /*address_check=*/true)) {
    ++core_.counters.unproven_dropped;  // a routed message unacknowledged: retried elsewhere
    return true;
  }
  ++core_.counters.unproven_held;
  // Held, so acknowledged: a retry elsewhere would only duplicate it.
  if (const auto* routed = std::get_if<RouteMsg>(&msg))
    core_.send(from.endpoint, RouteAck{routed->hop_id});
  return true;
}

// A challenge is answered with a proof of our key, made for the prober and for the address we
// are known at (proof_statement); at most proofs_per_second of them, since each costs a
// signature.
void PastryNode::handle(Time now, const NodeHandle& from, const Ping& m) {
  Pong pong{m.nonce, nullptr};
  if (m.challenge != 0) {
    KeyProofs* proofs = core_.proofs();
    if (proofs == nullptr || !take_proof_token(now)) {
      ++core_.counters.proofs_refused;
      return;
    }
    ++core_.counters.proofs_made;
    const auto statement = proof_statement(m.nonce, m.challenge, from.id, core_.self);
    pong.proof = std::make_shared<const IdProof>(proofs->prove(statement));
  }
  core_.send(from.endpoint, std::move(pong));
}

bool PastryNode::take_proof_token(Time now) {
  const uint64_t rate = core_.config.proofs_per_second;
  const uint64_t burst = core_.config.proof_burst;
  if (now > proof_refill_) {
    const auto elapsed = static_cast<uint64_t>((now - proof_refill_).count());
    proof_tokens_ = std::min<uint64_t>(burst, proof_tokens_ + elapsed * rate / 1'000'000);
    proof_refill_ = now;
  }
  if (proof_tokens_ == 0) return false;
  --proof_tokens_;
  return true;
}

void PastryNode::handle(Time now, const NodeHandle& from, const Pong& m) {
  settle(now, peers_.on_pong(now, from, m));
}

void PastryNode::settle(Time now, Released released) {
  const NodeHandle& node = released.node;
  for (auto& r : released.owed) {
    switch (r.kind) {
      case OwedReply::Kind::kStateRequest:
        maintenance_.on_state_request(node, r.request);
        break;
      case OwedReply::Kind::kAnnounce:
        maintenance_.on_announce(node);
        break;
      case OwedReply::Kind::kJoinAnswer:
        joiner_.send_join_answer(r.join, r.rows, r.leaf_set);
        break;
      case OwedReply::Kind::kRouteForward:
        if (core_.active()) router_.on_route_msg(now, r.join, node);
        break;
      case OwedReply::Kind::kDirect:
        handle(now, node, DirectMsg{std::move(r.direct)});
        break;
      case OwedReply::Kind::kStateTransfer:
        maintenance_.on_state_transfer(now, node, r.state);
        break;
    }
  }
}

void PastryNode::handle(Time now, const NodeHandle& from, const RouteMsg& m) {
  // Not acknowledged until we can route: the sender then retries elsewhere.
  if (!core_.active()) return;
  core_.send(from.endpoint, RouteAck{m.hop_id});
  // A join straight from its joiner waits until the joiner proves its address, so a forged one
  // costs one Ping and sets nothing going along the route.
  if (m.join && m.hops == 0 && !peers_.proven(now, from)) {
    OwedReply owed;
    owed.kind = OwedReply::Kind::kRouteForward;
    owed.join = m;
    peers_.defer(now, from, std::move(owed), /*address_check=*/true);
    return;
  }
  router_.on_route_msg(now, m, from);
}

void PastryNode::handle(Time, const NodeHandle& from, const RouteAck& m) {
  // A joiner's request goes out unacknowledged (it is retried whole): its ack is expected.
  if (core_.joining()) return;
  router_.on_route_ack(from, m);
}

// State is taken only from nodes that proved their address (or, while joining, as a join
// reply): otherwise one forged datagram would make us probe every handle in it. A stranger's
// is used once it answers our probe.
void PastryNode::handle(Time now, const NodeHandle& from, const StateTransfer& m) {
  if ((m.for_join && core_.joining()) || peers_.proven(now, from)) {
    maintenance_.on_state_transfer(now, from, m);
    return;
  }
  // Held until its sender answers a probe (a neighbour of a neighbour often is a stranger).
  ++core_.counters.state_unproven;
  OwedReply owed;
  owed.kind = OwedReply::Kind::kStateTransfer;
  owed.state = m;
  peers_.defer(now, from, std::move(owed), /*address_check=*/false);
}

// Our state goes only to an address that proved it asked for it.
void PastryNode::handle(Time now, const NodeHandle& from, const StateRequest& m) {
  if (!core_.active()) return;
  if (peers_.proven(now, from)) {
    maintenance_.on_state_request(from, m);
    return;
  }
  OwedReply owed;
  owed.kind = OwedReply::Kind::kStateRequest;
  owed.request = m;
  peers_.defer(now, from, std::move(owed), /*address_check=*/false);
}

void PastryNode::handle(Time now, const NodeHandle& from, const Announce&) {
  if (!core_.active()) return;
  if (peers_.proven(now, from)) {
    maintenance_.on_announce(from);
    return;
  }
  OwedReply owed;
  owed.kind = OwedReply::Kind::kAnnounce;
  peers_.defer(now, from, std::move(owed), /*address_check=*/false);
}

void PastryNode::handle(Time now, const NodeHandle& from, const Leave&) {
  peers_.on_leave(now, from);
}

// Liveness only; note_heard() did the work.
void PastryNode::handle(Time, const NodeHandle&, const LeafHeartbeat&) {}

void PastryNode::handle(Time now, const NodeHandle& from, const DirectMsg& m) {
  if (m.app && core_.active())
    if (Application* a = app(m.app->app_id())) a->receive_direct(now, from, m.app);
}

// --- upward interface ------------------------------------------------------------------------

void PastryNode::register_app(uint16_t app_id, Application* application) {
  for (auto& [id, a] : core_.apps)
    if (id == app_id) {
      a = application;
      return;
    }
  core_.apps.emplace_back(app_id, application);
}

void PastryNode::route(Time now, const NodeId& key, AppMessagePtr msg) {
  RouteMsg m;
  m.key = key;
  m.origin = core_.self;
  m.msg_id = core_.new_token();
  m.app = std::move(msg);
  router_.handle_route(now, std::move(m), core_.self);
  core_.flush_upcalls(now);
}

void PastryNode::send_direct(Time now, const NodeHandle& to, AppMessagePtr msg) {
  if (to.id == core_.self.id) {
    // Both runtimes drop a datagram claiming our own id (on_message() too): deliver it here,
    // after the caller has returned, as if it had come back over the network at once.
    ++core_.counters.local_direct;
    core_.schedule(now, LocalDirect{std::move(msg)});
    return;
  }
  core_.send(to.endpoint, DirectMsg{std::move(msg)});
}

TimerId PastryNode::schedule_app_timer(uint16_t app_id, Time at, uint64_t token) {
  const TimerId id = core_.schedule(at, AppTimer{app_id, token});
  core_.app_timers.emplace(id, app_id);
  return id;
}

void PastryNode::cancel_app_timer(uint16_t app_id, TimerId id) {
  auto it = core_.app_timers.find(id);
  if (it == core_.app_timers.end() || it->second != app_id) return;  // not this application's
  core_.app_timers.erase(it);
  core_.timers.cancel(id);
}

std::vector<NodeHandle> PastryNode::replica_set(const NodeId& key, size_t k) const {
  std::vector<NodeHandle> known;
  auto add = [&](const NodeHandle& h) {
    const PeerTracker::Peer* p = peers_.find(h.id);
    if (p != nullptr && p->suspected) return;
    if (std::find(known.begin(), known.end(), h) == known.end()) known.push_back(h);
  };
  add(core_.self);
  for (const auto& h : core_.leaf_set.left()) add(h);
  for (const auto& h : core_.leaf_set.right()) add(h);
  core_.routing_table.for_each([&](const RouteEntry& e) { add(e.node); });
  for (const auto& e : core_.neighborhood.entries()) add(e.node);
  const size_t n = std::min(k, known.size());
  std::partial_sort(
      known.begin(), known.begin() + static_cast<std::ptrdiff_t>(n), known.end(),
      [&](const NodeHandle& a, const NodeHandle& b) { return key.closer(a.id, b.id); });
  known.resize(n);
  return known;
}

std::optional<NodeHandle> PastryNode::next_hop(const NodeId& key) const {
  return router_.choose_next_hop(key, {});
}

void PastryNode::check_alive(Time now, const NodeHandle& node) {
  peers_.check_alive(now, node);
  core_.flush_upcalls(now);
}

}  // namespace forestcast::overlay
