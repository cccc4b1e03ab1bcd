#include "overlay/router.hpp"

#include <algorithm>

#include "base/log.hpp"
#include "overlay/joiner.hpp"
#include "overlay/peer_tracker.hpp"

namespace forestcast::overlay {

// --- the next-hop decision -------------------------------------------------------------------

std::optional<NodeHandle> Router::choose_next_hop(const NodeId& key,
                                                  const std::vector<NodeId>& exclude) const {
  if (core_.leaf_set.covers(key)) return root_in_leaf_set(key, exclude);
  const int l = core_.self.id.shared_prefix_length(key);
  if (l >= NodeId::kDigits) return std::nullopt;
  if (auto next = from_routing_table(key, l, exclude)) return next;
  return rare_case(key, l, exclude);
}

// The key falls within the leaf set: its root is the closest of L ∪ {self}. A merely suspected
// leaf is not skipped here: delivering past it would put the message on the wrong node if it is
// alive (a lost datagram). The hop's ack/retry waits for the probe's verdict.
std::optional<NodeHandle> Router::root_in_leaf_set(const NodeId& key,
                                                   const std::vector<NodeId>& exclude) const {
  const NodeHandle* best = nullptr;
  NodeId best_id = core_.self.id;
  auto consider = [&](const NodeHandle& h) {
    if (!contains_id(exclude, h.id) && key.closer(h.id, best_id)) {
      best = &h;
      best_id = h.id;
    }
  };
  for (const auto& h : core_.leaf_set.left()) consider(h);
  for (const auto& h : core_.leaf_set.right()) consider(h);
  if (best == nullptr) return std::nullopt;
  return *best;
}

// Prefix routing: an entry sharing one more digit with the key. Of the slot's entries take the
// one sharing the most digits with the key (it may be the root itself, or skip a hop), then the
// nearest.
std::optional<NodeHandle> Router::from_routing_table(const NodeId& key, int shared,
                                                     const std::vector<NodeId>& exclude) const {
  const RouteEntry* chosen = nullptr;
  int chosen_prefix = -1;
  for (const auto& e : core_.routing_table.slot(shared, key.digit(shared))) {
    if (!peers_.usable(e.node.id, exclude)) continue;
    const int p = e.node.id.shared_prefix_length(key);
    if (p > chosen_prefix) {  // entries come lowest RTT first: ties keep the nearer
      chosen = &e;
      chosen_prefix = p;
    }
  }
  if (chosen == nullptr) return std::nullopt;
  return chosen->node;
}

// Rare case: any known node sharing at least `shared` digits with the key and numerically
// closer to it than we are. Prefer the longest prefix, then the numerically closest.
std::optional<NodeHandle> Router::rare_case(const NodeId& key, int shared,
                                            const std::vector<NodeId>& exclude) const {
  const NodeHandle* best = nullptr;
  int best_prefix = shared - 1;
  NodeId best_id = core_.self.id;
  auto consider = [&](const NodeHandle& h) {
    const int p = h.id.shared_prefix_length(key);
    if (p < shared || !key.closer(h.id, core_.self.id) || !peers_.usable(h.id, exclude)) return;
    if (p > best_prefix || (p == best_prefix && key.closer(h.id, best_id))) {
      best = &h;
      best_prefix = p;
      best_id = h.id;
    }
  };
  for (const auto& h : core_.leaf_set.left()) consider(h);
  for (const auto& h : core_.leaf_set.right()) consider(h);
  core_.routing_table.for_each([&](const RouteEntry& e) { consider(e.node); });
  for (const auto& e : core_.neighborhood.entries()) consider(e.node);
  if (best == nullptr) return std::nullopt;
  return *best;
}

// --- one hop ---------------------------------------------------------------------------------

void Router::on_route_msg(Time now, const RouteMsg& msg, const NodeHandle& previous) {
  if (msg.hops >= core_.config.max_hops) {
    ++core_.counters.route_hop_limit;
    pastry_log().debug("{} dropping message for {} after {} hops", core_.self.id.short_hex(),
                       msg.key.short_hex(), msg.hops);
    return;
  }
  if (recent_messages_.seen_or_add(msg.msg_id)) {
    ++core_.counters.route_duplicates;
    return;
  }
  handle_route(now, msg, previous);
}

// A join's key is its joiner's id. A hop that holds the joiner as a leaf is next to it and
// answers as its root (its leaf set is the joiner's neighbourhood). A hop that holds it
// elsewhere (a routing-table entry: a node restarting with the same id, not yet found dead)
// routes on without it: stopping there answered the join with a leaf set from anywhere on the
// ring (docs/pastry.md "Join").
std::optional<NodeHandle> Router::next_hop_for(const RouteMsg& msg,
                                               std::vector<NodeId> tried) const {
  if (!msg.join) return choose_next_hop(msg.key, tried);
  if (core_.leaf_set.contains(msg.origin.id)) return std::nullopt;
  tried.push_back(msg.origin.id);
  return choose_next_hop(msg.key, tried);
}

void Router::handle_route(Time now, RouteMsg msg, const NodeHandle& previous) {
  std::optional<NodeHandle> next = next_hop_for(msg, {});
  if (msg.join) {
    // Every hop answers a joiner with its routing rows; the bootstrap (first hop) also with
    // its neighbourhood set, the root with its leaf set.
    joiner_.answer_join(now, msg, true, !next.has_value());
    if (!next) return;
  } else if (!ask_application(now, msg, previous, next, false)) {
    return;
  }
  forward_or_deliver(now, std::move(msg), previous, next, {});
}

bool Router::ask_application(Time now, RouteMsg& msg, const NodeHandle& previous,
                             std::optional<NodeHandle>& next, bool reroute) {
  if (!msg.app) return true;
  Application* a = core_.app(msg.app->app_id());
  if (a == nullptr) return true;
  ForwardContext ctx{msg.key, msg.origin, previous, msg.hops, next, msg.app, false, reroute};
  a->forward(now, ctx);
  if (ctx.consumed) return false;
  next = ctx.next_hop;
  msg.app = std::move(ctx.message);
  return true;
}

void Router::forward_or_deliver(Time now, RouteMsg msg, const NodeHandle& previous,
                                const std::optional<NodeHandle>& next, std::vector<NodeId> tried) {
  if (!next) {
    deliver_here(now, msg, previous);
    return;
  }
  ++msg.hops;
  if (tried.empty()) ++core_.counters.routed_forwarded;
  send_hop(now, std::move(msg), previous, *next, std::move(tried), 0);
}

void Router::deliver_here(Time now, const RouteMsg& msg, const NodeHandle& previous) {
  if (msg.join) {
    // Only reached when a retry finds no live node closer to the joiner than us: the rows
    // went out when the message first arrived, the leaf set is still owed.
    if (msg.origin.id != core_.self.id) joiner_.answer_join(now, msg, false, true);
    return;
  }
  ++core_.counters.routed_delivered;
  if (!msg.app) return;
  if (Application* a = core_.app(msg.app->app_id()))
    a->deliver(now, RouteInfo{msg.key, msg.origin, previous, msg.hops}, msg.app);
}

void Router::send_hop(Time now, RouteMsg msg, const NodeHandle& previous, const NodeHandle& next,
                      std::vector<NodeId> tried, int attempt) {
  if (!room_for_hop(previous)) {
    ++core_.counters.route_pending_full;
    return;
  }
  msg.hop_id = core_.new_token();
  core_.send(next.endpoint, msg);
  const uint64_t hop_id = msg.hop_id;
  const Duration rto =
      std::min(peers_.rto_for(next.id) * (1 << std::min(attempt, 10)), core_.config.max_rto);
  core_.schedule(now + rto, AckTimeout{hop_id});
  hold(hop_id, PendingHop{std::move(msg), next, previous, std::move(tried), attempt});
}

bool Router::room_for_hop(const NodeHandle& previous) const {
  if (pending_hops_.size() >= core_.config.max_pending_hops) return false;
  if (previous.id == core_.self.id) return true;
  const uint32_t* held = held_from_.find(previous.id);
  return held == nullptr || *held < core_.config.max_pending_hops_per_peer;
}

void Router::hold(uint64_t hop_id, PendingHop hop) {
  if (hop.previous.id != core_.self.id) ++held_from_[hop.previous.id];
  pending_hops_.emplace(hop_id, std::move(hop));
}

Router::PendingHop Router::release(std::unordered_map<uint64_t, PendingHop>::iterator it) {
  PendingHop hop = std::move(it->second);
  pending_hops_.erase(it);
  if (uint32_t* held = held_from_.find(hop.previous.id); held != nullptr && --*held == 0)
    held_from_.erase(hop.previous.id);
  return hop;
}

// --- acknowledgement and retry ---------------------------------------------------------------

void Router::on_route_ack(const NodeHandle& from, const RouteAck& ack) {
  auto it = pending_hops_.find(ack.hop_id);
  // Its timer stays armed and finds nothing when it fires: cheaper than cancelling.
  if (it != pending_hops_.end() && it->second.next.id == from.id &&
      it->second.next.endpoint == from.endpoint) {
    release(it);
    return;
  }
  ++core_.counters.acks_unmatched;
}

void Router::on_ack_timeout(Time now, const AckTimeout& timer) {
  auto it = pending_hops_.find(timer.hop_id);
  if (it == pending_hops_.end()) return;
  PendingHop hop = release(it);
  ++core_.counters.route_retries;
  peers_.suspect(now, hop.next);
  if (hop_exhausted(hop)) {
    ++core_.counters.route_dropped;
    pastry_log().debug("{} dropping message for {} after {} next hops", core_.self.id.short_hex(),
                       hop.msg.key.short_hex(), hop.tried.size() + 1);
    return;
  }
  // A silent leaf that may be the key's root gets the message again (with backoff) until its
  // probe decides: alive, it was a lost datagram; dead, it has left the leaf set by then.
  // A silent routing-table hop is simply routed around.
  if (core_.leaf_set.covers(hop.msg.key) && core_.leaf_set.contains(hop.next.id)) {
    const NodeHandle next = hop.next;
    send_hop(now, std::move(hop.msg), hop.previous, next, std::move(hop.tried), hop.attempt + 1);
    return;
  }
  route_around(now, std::move(hop));
}

// Retransmissions to one silent node outlast its probe (3 tries with doubling timeouts); the
// number of different next hops tried is what bounds the message's life.
bool Router::hop_exhausted(const PendingHop& hop) const {
  return hop.attempt + 1 >= 2 * core_.config.probe_attempts + 2 ||
         hop.tried.size() + 1 >= static_cast<size_t>(core_.config.max_route_attempts);
}

// The next hop did not acknowledge: choose again without it, and let the application decide
// again (ForwardContext::reroute) with the hop count and previous hop of this node.
void Router::route_around(Time now, PendingHop hop) {
  hop.tried.push_back(hop.next.id);
  --hop.msg.hops;  // the hop to hop.next did not happen
  std::optional<NodeHandle> next = next_hop_for(hop.msg, hop.tried);
  if (!hop.msg.join && !ask_application(now, hop.msg, hop.previous, next, true)) return;
  forward_or_deliver(now, std::move(hop.msg), hop.previous, next, std::move(hop.tried));
}

}  // namespace forestcast::overlay
