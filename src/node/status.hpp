#pragma once
// What the admin API reports about a running node: GET /status (JSON) and GET /metrics
// (Prometheus text, the same counters). Pure functions of the runtime's state, so they are
// testable without sockets.
#include <nlohmann/json.hpp>
#include <string>

#include "net/udp/udp_runtime.hpp"

namespace forestcast::node {

std::string_view to_string(overlay::JoinState state);

nlohmann::json status_json(const net::UdpRuntime& runtime);
std::string metrics_text(const net::UdpRuntime& runtime);

}  // namespace forestcast::node
