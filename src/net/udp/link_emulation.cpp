#include "net/udp/link_emulation.hpp"

namespace forestcast::net {

sim::Position position_of(const overlay::NodeId& id, sim::TopologyKind kind) {
  return sim::position_from_id(kind, id.hi(), id.lo());
}

LinkEmulation::LinkEmulation(LinkEmulationConfig config, const overlay::NodeId& self, uint64_t seed)
    : config_(config), self_(position_of(self, config.topology)), rng_(seed) {}

Duration LinkEmulation::latency_to(const overlay::NodeId& other) const {
  return sim::one_way_latency(config_.topology, self_, position_of(other, config_.topology),
                              config_.min_latency, config_.max_latency);
}

std::optional<Duration> LinkEmulation::delay_from(const overlay::NodeId& sender) {
  if (config_.loss > 0 && rng_.chance(config_.loss)) return std::nullopt;
  return latency_to(sender);
}

}  // namespace forestcast::net
