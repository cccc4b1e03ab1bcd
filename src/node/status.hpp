#pragma once
// What the admin API reports about a running node: GET /status (JSON) and GET /metrics
// (Prometheus text, the same counters). Pure functions of the runtime's state, so they are
// testable without sockets.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "net/udp/udp_runtime.hpp"

namespace forestcast::node {

std::string_view to_string(overlay::JoinState state);

// Where admin pages live, so /status (and the page drawn from it) can link to neighbours.
// Nodes do not tell each other their admin address; a deployment instead follows one rule,
// "a node's admin API listens on its UDP port + offset, same host" (`--peer-admin-offset`;
// `forestcast cluster` uses 1000, the k8s manifests 1080). Unset: no links.
struct AdminLinks {
  std::optional<overlay::Endpoint> self;
  std::optional<int> peer_port_offset;
  std::optional<overlay::Endpoint> admin_of(const overlay::Endpoint& peer) const;
};

nlohmann::json status_json(const net::UdpRuntime& runtime, const AdminLinks& links = {});

// Every counter by name, in a stable order; /status and /metrics both come from it.
std::vector<std::pair<std::string, uint64_t>> counter_list(const net::UdpRuntime& runtime);

}  // namespace forestcast::node
