#pragma once
// Test-only WAN emulation inside the UDP runtime (this machine's kernel has no netem qdisc).
// Every node derives a position in the simulator's latency model (sphere or plane) from its own
// id, so any two nodes agree on the one-way delay between them without talking about it, and a
// simulation of the same ids sees the same delays. The runtime applies the delay and loss to
// what it RECEIVES: the receiver knows both ids (its own and the envelope's sender), whereas a
// sender only knows the destination's address.
#include <optional>

#include "base/random.hpp"
#include "base/time.hpp"
#include "net/sim/topology.hpp"
#include "overlay/node_id.hpp"

namespace forestcast::net {

struct LinkEmulationConfig {
  sim::TopologyKind topology = sim::TopologyKind::kSphere;
  Duration min_latency = sim::Topology::kMinLatency;
  Duration max_latency = sim::Topology::kMaxLatency;
  double loss = 0.0;  // probability that a datagram is dropped, in [0, 1)
};

// The position a node with this id has in the model: a pure function of the id.
sim::Position position_of(const overlay::NodeId& id, sim::TopologyKind kind);

class LinkEmulation {
 public:
  LinkEmulation(LinkEmulationConfig config, const overlay::NodeId& self, uint64_t seed);

  // How long to hold a datagram from `sender` before delivering it, or nullopt to drop it.
  std::optional<Duration> delay_from(const overlay::NodeId& sender);
  // Deterministic part only (no loss draw), for tests and reports.
  Duration latency_to(const overlay::NodeId& other) const;

 private:
  LinkEmulationConfig config_;
  sim::Position self_;
  Rng rng_;
};

}  // namespace forestcast::net
