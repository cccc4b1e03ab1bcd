#include "overlay/maintenance.hpp"

#include <algorithm>

#include "overlay/joiner.hpp"
#include "overlay/peer_tracker.hpp"

namespace forestcast::overlay {

void Maintenance::start(Time now) {
  const PastryConfig& c = core_.config;
  Rng& rng = core_.rng;
  // Random phases so that thousands of nodes started together do not tick in lockstep.
  core_.schedule(now + rng.between(Duration{0}, c.heartbeat_period), HeartbeatTimer{});
  core_.schedule(now + rng.between(Duration{0}, c.leafset_exchange_period), LeafsetExchangeTimer{});
  core_.schedule(now + rng.between(c.routing_maintenance_period / 2, c.routing_maintenance_period),
                 RoutingMaintenanceTimer{});
}

// --- leaf set --------------------------------------------------------------------------------

void Maintenance::on_heartbeat(Time now) {
  core_.schedule(now + core_.config.heartbeat_period, HeartbeatTimer{});
  // Heartbeats go to the adjacent node on each side only; every other leaf is heard from at
  // least once per leaf set exchange, and its failure reaches us through its own neighbours
  // (compare_with_neighbor_view). A leaf silent past these bounds is probed.
  const LeafSet& leaf_set = core_.leaf_set;
  auto check = [&](const NodeHandle& h, Duration allowed_silence) {
    const PeerTracker::Peer* p = peers_.find(h.id);
    if (p == nullptr || now - p->last_heard >= allowed_silence) peers_.probe(now, h);
  };
  const NodeHandle* left = leaf_set.left().empty() ? nullptr : &leaf_set.left().front();
  const NodeHandle* right = leaf_set.right().empty() ? nullptr : &leaf_set.right().front();
  if (left) core_.send(left->endpoint, LeafHeartbeat{});
  if (right && (!left || right->id != left->id)) core_.send(right->endpoint, LeafHeartbeat{});
  for (const auto* side : {&leaf_set.left(), &leaf_set.right()}) {
    for (const auto& h : *side) {
      const bool adjacent = (left && h.id == left->id) || (right && h.id == right->id);
      check(h, adjacent ? core_.config.silence_before_probe
                        : core_.config.leafset_exchange_period * 5 / 2);
    }
  }
  peers_.expire_dead_memory(now);
  peers_.recheck_departed(now);
}

void Maintenance::on_leafset_exchange(Time now) {
  core_.schedule(now + core_.config.leafset_exchange_period, LeafsetExchangeTimer{});
  send_leaf_set_to_leaves();
}

void Maintenance::send_leaf_set_to_leaves() {
  const auto members = core_.leaf_set.members();
  for (const auto& h : members) send_state(h.endpoint, StateKind::kLeafSet, 0, false, members);
}

void Maintenance::repair_leaf_set() {
  request_leafset_repair();
  // Our leaf set without it tells the other nodes holding it to check it themselves.
  send_leaf_set_to_leaves();
}

void Maintenance::request_leafset_repair() {
  // The farthest live leaf on each side knows the nodes just beyond our reach.
  for (const auto* side : {&core_.leaf_set.left(), &core_.leaf_set.right()}) {
    for (auto it = side->rbegin(); it != side->rend(); ++it) {
      if (peers_.usable(it->id, {})) {
        core_.send(it->endpoint, StateRequest{StateKind::kLeafSet, 0});
        break;
      }
    }
  }
}

// A leaf of ours that lies inside a neighbour's leaf-set range but is missing from its leaf set
// is either dead (the neighbour removed it) or new (the neighbour has not met it yet). Either
// way a probe settles it. This is how a failure noticed by the dead node's adjacent neighbours
// reaches every node holding it, without every node heartbeating every leaf.
void Maintenance::compare_with_neighbor_view(Time now, const NodeHandle& neighbor,
                                             const std::vector<NodeHandle>& its_leaves) {
  LeafSet view(neighbor.id, core_.config.leaf_set_size);
  for (const auto& h : its_leaves) view.insert(h);
  view.insert(core_.self);
  for (const auto* side : {&core_.leaf_set.left(), &core_.leaf_set.right()}) {
    for (const auto& h : *side) {
      if (h.id == neighbor.id || view.contains(h.id) || !view.covers(h.id)) continue;
      peers_.probe(now, h);
    }
  }
}

// --- routing table ---------------------------------------------------------------------------

void Maintenance::on_routing_maintenance(Time now) {
  const PastryConfig& c = core_.config;
  RoutingTable& table = core_.routing_table;
  core_.schedule(now + c.routing_maintenance_period, RoutingMaintenanceTimer{});
  exchange_with_nearest(c.proximity_fanout / 2);
  // Ask a random entry of each non-empty row for its version of that row: it holds
  // candidates for our own slots, which we measure and keep if nearer (proximity).
  for (int r = 0; r < table.rows_allocated(); ++r) {
    const auto row = table.row(r);
    if (row.empty()) continue;
    const NodeHandle& peer = row[core_.rng.below(row.size())];
    core_.send(peer.endpoint, StateRequest{StateKind::kRoutingRow, static_cast<uint8_t>(r)});
  }
  // Keep the neighbourhood set's RTTs fresh and its members alive.
  if (core_.neighborhood.size() > 0) {
    const auto& e = core_.neighborhood.entries()[core_.rng.below(core_.neighborhood.size())];
    peers_.probe(now, e.node);
  }
  // Probe a few routing-table entries not heard from for a while, so dead ones are purged
  // instead of being handed on in row replies.
  int budget = c.stale_entry_probes;
  table.for_each([&](const RouteEntry& e) {
    if (budget <= 0) return;
    const PeerTracker::Peer* p = peers_.find(e.node.id);
    if (p == nullptr || now - p->last_heard > c.routing_maintenance_period * 3) {
      peers_.probe(now, e.node);
      --budget;
    }
  });
}

void Maintenance::repair_row(int row, const NodeId& lost) {
  ++core_.counters.routing_table_repairs;
  // Another node of the same row shares our prefix up to `row`, so its row `row` holds
  // candidates for the hole; failing that, a node of the next row down.
  for (int r = row; r < core_.routing_table.rows_allocated(); ++r) {
    auto candidates = core_.routing_table.row(r);
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                    [&](const NodeHandle& h) {
                                      return h.id == lost || !peers_.usable(h.id, {});
                                    }),
                     candidates.end());
    if (candidates.empty()) continue;
    const NodeHandle& peer = candidates[core_.rng.below(candidates.size())];
    core_.send(peer.endpoint, StateRequest{StateKind::kRoutingRow, static_cast<uint8_t>(row)});
    return;
  }
}

// --- proximity -------------------------------------------------------------------------------

void Maintenance::start_proximity_rounds(Time now) {
  core_.schedule(now + core_.config.first_proximity_round,
                 ProximityRoundTimer{core_.config.first_proximity_round});
}

void Maintenance::on_proximity_round(Time now, const ProximityRoundTimer& timer) {
  exchange_with_nearest(core_.config.proximity_fanout);
  const Duration next = timer.interval * 2;
  if (next < core_.config.routing_maintenance_period)
    core_.schedule(now + next, ProximityRoundTimer{next});
}

void Maintenance::mark_asked(const NodeId& id) {
  proximity_asked_.push_back(id);
  if (proximity_asked_.size() > 4 * core_.config.neighborhood_size)
    proximity_asked_.erase(proximity_asked_.begin());
}

// Our nearest known nodes know nodes near themselves, hence near us: their neighbourhood sets
// and the routing rows we share with them are the best candidates for proximity. Asking the
// nearest ones we have not asked yet, round after round, walks toward our true neighbours.
void Maintenance::exchange_with_nearest(int count) {
  const RoutingTable& table = core_.routing_table;
  // Deeper rows: the nearest entry of row r not asked yet shares r digits with us, so its row r
  // holds candidates for ours, and they are near it, hence near us.
  for (int r = 1; r < table.rows_allocated(); ++r) {
    const RouteEntry* nearest = nullptr;
    for (int c = 0; c < NodeId::kBase; ++c) {
      const RouteEntry* e = table.at(r, c);
      if (e && e->rtt != kUnknownRtt && !contains_id(proximity_asked_, e->node.id) &&
          (!nearest || e->rtt < nearest->rtt))
        nearest = e;
    }
    if (!nearest) continue;
    mark_asked(nearest->node.id);
    core_.send(nearest->node.endpoint,
               StateRequest{StateKind::kRoutingRow, static_cast<uint8_t>(r)});
  }
  for (const auto& e : core_.neighborhood.entries()) {
    if (count <= 0) break;
    if (contains_id(proximity_asked_, e.node.id)) continue;
    mark_asked(e.node.id);
    --count;
    core_.send(e.node.endpoint, StateRequest{StateKind::kNeighborhood, 0});
    const int shared =
        std::min(core_.self.id.shared_prefix_length(e.node.id), table.rows_allocated() - 1);
    for (int r = 0; r <= shared; ++r)
      core_.send(e.node.endpoint, StateRequest{StateKind::kRoutingRow, static_cast<uint8_t>(r)});
  }
}

// --- state transfer --------------------------------------------------------------------------

uint32_t Maintenance::rtt_hint_us(const NodeId& id) const {
  const PeerTracker::Peer* p = peers_.find(id);
  if (p == nullptr || p->rtt == kUnknownRtt) return 0;
  return static_cast<uint32_t>(std::clamp<int64_t>(p->rtt.count(), 1, kMaxRttHintUs));
}

void Maintenance::send_state(const Endpoint& to, StateKind kind, uint8_t row, bool for_join,
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
    for (const auto& h : st.nodes) st.rtt_us.push_back(rtt_hint_us(h.id));
    st.last = end == nodes.size();
    i = end;
    core_.send(to, st);
  } while (i < nodes.size());
}

void Maintenance::on_state_transfer(Time now, const NodeHandle& from, const StateTransfer& st) {
  // Join replies arriving after we became active (rows from a slow hop) are still useful.
  const bool join_reply = st.for_join && core_.joining();
  const bool root_leaf_set = join_reply && st.kind == StateKind::kLeafSet;
  // Triangle inequality: our RTT to a node it names is at least |RTT(us, it) - RTT(it, node)|.
  // The sender's RTT is copied: learn_candidate() below adds and erases peers, which moves or
  // frees the IdMap entry a pointer would keep.
  const PeerTracker::Peer* sender = peers_.find(from.id);
  const Duration sender_rtt = sender != nullptr ? sender->rtt : kUnknownRtt;
  const bool hints = sender_rtt != kUnknownRtt && st.rtt_us.size() == st.nodes.size();
  for (size_t i = 0; i < st.nodes.size(); ++i) {
    const NodeHandle& h = st.nodes[i];
    if (h.id == core_.self.id) continue;
    Duration lower_bound{0};
    if (hints && st.rtt_us[i] != 0) {
      const int64_t theirs = st.rtt_us[i];
      const int64_t ours = sender_rtt.count();
      lower_bound = Duration{theirs > ours ? theirs - ours : ours - theirs};
    }
    peers_.learn_candidate(now, h, lower_bound);
    if (root_leaf_set && peers_.probing(h.id)) joiner_.await_leaf(h.id);
  }
  if (root_leaf_set && st.last) {
    // The root sends its leaf set without itself (a leaf set of 24 then still fits one
    // datagram): it is the sender.
    peers_.learn_candidate(now, from);
    if (peers_.probing(from.id)) joiner_.await_leaf(from.id);
    joiner_.on_root_leaf_set(now);
  }
  if (!st.for_join && st.kind == StateKind::kLeafSet && st.last && core_.active())
    compare_with_neighbor_view(now, from, st.nodes);
}

void Maintenance::on_state_request(const NodeHandle& from, const StateRequest& req) {
  if (!core_.active()) return;
  switch (req.kind) {
    case StateKind::kLeafSet:
      send_state(from.endpoint, StateKind::kLeafSet, 0, false, core_.leaf_set.members());
      break;
    case StateKind::kRoutingRow:
      if (req.row < NodeId::kDigits)
        send_state(from.endpoint, StateKind::kRoutingRow, req.row, false,
                   core_.routing_table.row(req.row));
      break;
    case StateKind::kNeighborhood:
      send_state(from.endpoint, StateKind::kNeighborhood, 0, false, core_.neighborhood.nodes());
      break;
  }
}

// note_heard() already considered the sender; give it our leaf set when it is one of our
// leaves, so concurrent joiners learn about each other.
void Maintenance::on_announce(const NodeHandle& from) {
  if (core_.active() && core_.leaf_set.contains(from.id))
    send_state(from.endpoint, StateKind::kLeafSet, 0, false, core_.leaf_set.members());
}

}  // namespace forestcast::overlay
