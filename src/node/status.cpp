#include "node/status.hpp"

#include <utility>
#include <vector>

namespace forestcast::node {
namespace {

nlohmann::json handle_json(const overlay::NodeHandle& n, const AdminLinks& links) {
  nlohmann::json out = {{"node_id", n.id.hex()}, {"addr", n.endpoint.to_string()}};
  if (auto admin = links.admin_of(n.endpoint)) out["admin"] = admin->to_string();
  return out;
}

nlohmann::json handles_json(const std::vector<overlay::NodeHandle>& nodes,
                            const AdminLinks& links) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& n : nodes) out.push_back(handle_json(n, links));
  return out;
}

// Primary entries, row by row: 16 columns each, null where the slot is empty.
nlohmann::json routing_table_json(const overlay::RoutingTable& table, const AdminLinks& links) {
  nlohmann::json rows = nlohmann::json::array();
  for (int r = 0; r < table.rows_allocated(); ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (int c = 0; c < 16; ++c) {
      const overlay::RouteEntry* e = table.at(r, c);
      row.push_back(e ? handle_json(e->node, links) : nlohmann::json());
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

std::optional<overlay::Endpoint> AdminLinks::admin_of(const overlay::Endpoint& peer) const {
  if (!peer_port_offset) return std::nullopt;
  const int port = int{peer.port} + *peer_port_offset;
  if (port < 1 || port > 65535) return std::nullopt;
  overlay::Endpoint admin = peer;
  admin.port = static_cast<uint16_t>(port);
  return admin;
}

// Every counter once, by name: both /status and /metrics are generated from this list so they
// never disagree.
std::vector<std::pair<std::string, uint64_t>> counter_list(const net::UdpRuntime& rt) {
  const overlay::PastryCounters& p = rt.node().counters();
  const net::WireCounters& w = rt.counters();
  std::vector<std::pair<std::string, uint64_t>> c = {
      {"messages_in", p.messages_in},
      {"messages_out", p.messages_out},
      {"routed_forwarded", p.routed_forwarded},
      {"routed_delivered", p.routed_delivered},
      {"route_retries", p.route_retries},
      {"route_dropped", p.route_dropped},
      {"route_duplicates", p.route_duplicates},
      {"route_hop_limit", p.route_hop_limit},
      {"probes_sent", p.probes_sent},
      {"nodes_declared_dead", p.nodes_declared_dead},
      {"leaf_set_repairs", p.leaf_set_repairs},
      {"routing_table_repairs", p.routing_table_repairs},
      {"pongs_unmatched", p.pongs_unmatched},
      {"acks_unmatched", p.acks_unmatched},
      {"endpoint_mismatch", p.endpoint_mismatch},
      {"leaves_checked", p.leaves_checked},
      {"leaves_ignored", p.leaves_ignored},
      {"state_unproven", p.state_unproven},
      {"replies_deferred", p.replies_deferred},
      {"replies_refused", p.replies_refused},
      {"probes_refused", p.probes_refused},
      {"route_pending_full", p.route_pending_full},
      {"departed_probes", p.departed_probes},
      {"departed_returned", p.departed_returned},
      {"proofs_requested", p.proofs_requested},
      {"proofs_made", p.proofs_made},
      {"proofs_refused", p.proofs_refused},
      {"proofs_verified", p.proofs_verified},
      {"proofs_rejected", p.proofs_rejected},
      {"unproven_dropped", p.unproven_dropped},
      {"unproven_held", p.unproven_held},
      {"datagrams_in", w.datagrams_in},
      {"datagrams_accepted", w.datagrams_accepted},
      {"datagrams_out", w.datagrams_out},
      {"bytes_in", w.bytes_in},
      {"bytes_out", w.bytes_out},
      {"dropped_rate_limited", w.dropped_rate_limited},
      {"dropped_untracked_limited", w.dropped_untracked_limited},
      {"dropped_global_limit", w.dropped_global_limit},
      {"rate_limiter_evictions", w.rate_limiter_evictions},
      {"dropped_own_id", w.dropped_own_id},
      {"dropped_after_leave", w.dropped_after_leave},
      {"dropped_malformed", w.dropped_malformed()},  // sum of the dropped_<reason> below
      {"send_oversize", w.send_oversize},
      {"send_errors", w.send_errors},
      {"send_batches", w.send_batches},
      {"send_encodings", w.send_encodings},
      {"receive_errors", w.receive_errors},
      {"receive_batches", w.receive_batches},
      {"dropped_emulated_loss", w.dropped_emulated_loss},
      {"dropped_test_partition", w.dropped_test_partition},
  };
  for (size_t i = 0; i < wire::kDecodeErrorCount; ++i)
    c.emplace_back("dropped_" + std::string(wire::to_string(static_cast<wire::DecodeError>(i))),
                   w.dropped_decode[i]);
  return c;
}

std::string_view to_string(overlay::JoinState state) {
  switch (state) {
    case overlay::JoinState::kIdle:
      return "idle";
    case overlay::JoinState::kJoining:
      return "joining";
    case overlay::JoinState::kActive:
      return "active";
    case overlay::JoinState::kFailed:
      return "failed";
    case overlay::JoinState::kLeft:
      return "left";
  }
  return "unknown";
}

nlohmann::json status_json(const net::UdpRuntime& rt, const AdminLinks& links) {
  const overlay::PastryNode& node = rt.node();
  const overlay::LeafSet& leaves = node.leaf_set();
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [name, value] : counter_list(rt)) counters[name] = value;
  nlohmann::json out = {
      {"node_id", node.self().id.hex()},
      {"bind", rt.local_endpoint().to_string()},
      {"advertised", node.self().endpoint.to_string()},
      {"state", to_string(node.join_state())},
      {"uptime_s", static_cast<double>(rt.now().count()) / 1e6},
      {"leaf_set", handles_json(leaves.members(), links)},
      {"leaf_set_left", handles_json(leaves.left(), links)},
      {"leaf_set_right", handles_json(leaves.right(), links)},
      {"routing_table_entries", node.routing_table().entry_count()},
      {"routing_table_rows", node.routing_table().rows_allocated()},
      {"routing_table", routing_table_json(node.routing_table(), links)},
      {"neighborhood_set", node.neighborhood_set().size()},
      {"neighborhood", handles_json(node.neighborhood_set().nodes(), links)},
      {"counters", counters},
  };
  if (links.self) out["admin"] = links.self->to_string();
  return out;
}

}  // namespace forestcast::node
