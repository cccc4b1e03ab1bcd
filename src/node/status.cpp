#include "node/status.hpp"

#include <utility>
#include <vector>

namespace forestcast::node {
namespace {

nlohmann::json handles_json(const std::vector<overlay::NodeHandle>& nodes) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& n : nodes)
    out.push_back({{"node_id", n.id.hex()}, {"addr", n.endpoint.to_string()}});
  return out;
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
      {"datagrams_in", w.datagrams_in},
      {"datagrams_out", w.datagrams_out},
      {"bytes_in", w.bytes_in},
      {"bytes_out", w.bytes_out},
      {"dropped_rate_limited", w.dropped_rate_limited},
      {"dropped_own_id", w.dropped_own_id},
      {"dropped_malformed", w.dropped_malformed()},  // sum of the dropped_<reason> below
      {"send_oversize", w.send_oversize},
      {"send_errors", w.send_errors},
      {"receive_errors", w.receive_errors},
  };
  for (size_t i = 0; i < wire::kDecodeErrorCount; ++i)
    c.emplace_back("dropped_" + std::string(wire::to_string(static_cast<wire::DecodeError>(i))),
                   w.dropped_decode[i]);
  return c;
}

}  // namespace

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

nlohmann::json status_json(const net::UdpRuntime& rt) {
  const overlay::PastryNode& node = rt.node();
  const overlay::LeafSet& leaves = node.leaf_set();
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [name, value] : counter_list(rt)) counters[name] = value;
  return {
      {"node_id", node.self().id.hex()},
      {"bind", rt.local_endpoint().to_string()},
      {"advertised", node.self().endpoint.to_string()},
      {"state", to_string(node.join_state())},
      {"uptime_s", static_cast<double>(rt.now().count()) / 1e6},
      {"leaf_set", handles_json(leaves.members())},
      {"leaf_set_left", handles_json(leaves.left())},
      {"leaf_set_right", handles_json(leaves.right())},
      {"routing_table_entries", node.routing_table().entry_count()},
      {"routing_table_rows", node.routing_table().rows_allocated()},
      {"neighborhood_set", node.neighborhood_set().size()},
      {"counters", counters},
  };
}

std::string metrics_text(const net::UdpRuntime& rt) {
  const overlay::PastryNode& node = rt.node();
  std::string out;
  auto metric = [&out](const std::string& name, const char* type, const std::string& value) {
    out += "# TYPE forestcast_" + name + " " + type + "\n";
    out += "forestcast_" + name + " " + value + "\n";
  };
  for (const auto& [name, value] : counter_list(rt))
    metric(name + "_total", "counter", std::to_string(value));
  metric("leaf_set_size", "gauge", std::to_string(node.leaf_set().members().size()));
  metric("routing_table_entries", "gauge", std::to_string(node.routing_table().entry_count()));
  metric("routing_table_rows", "gauge", std::to_string(node.routing_table().rows_allocated()));
  metric("neighborhood_set_size", "gauge", std::to_string(node.neighborhood_set().size()));
  metric("active", "gauge", node.active() ? "1" : "0");
  metric("uptime_seconds", "gauge", std::to_string(static_cast<double>(rt.now().count()) / 1e6));
  out += "# TYPE forestcast_node_info gauge\nforestcast_node_info{node_id=\"" +
         node.self().id.hex() + "\",state=\"" + std::string(to_string(node.join_state())) +
         "\"} 1\n";
  return out;
}

}  // namespace forestcast::node
