#pragma once
// Where simulated nodes sit and how long a datagram takes between two of them. Latency is
// computed on demand from stored coordinates: an N x N matrix would cost 40 GB at 100,000 nodes.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/random.hpp"
#include "base/time.hpp"

namespace forestcast::sim {

enum class TopologyKind {
  kSphere,  // uniform on the unit sphere; latency grows with the great-circle angle
  kPlane,   // uniform in the unit square; latency grows with Euclidean distance
};

std::optional<TopologyKind> parse_topology(std::string_view name);
std::string_view topology_name(TopologyKind kind);

struct Position {
  double x = 0, y = 0, z = 0;  // z stays 0 on the plane
};

// A uniformly random position of the model (sphere surface or unit square).
Position random_position(TopologyKind kind, Rng& rng);
// The position a node with the 128-bit id (hi, lo) takes when positions follow from ids: real
// nodes under the UDP runtime's link emulation, and simulations of the same ids.
Position position_from_id(TopologyKind kind, uint64_t id_hi, uint64_t id_lo);
// The one-way latency between two positions: `min` for the same place, `max` for the farthest
// pair (antipodes, opposite corners), linear in distance between. Whole microseconds; exactly
// symmetric (only commutative products and squared differences).
Duration one_way_latency(TopologyKind kind, const Position& p, const Position& q, Duration min,
                         Duration max);

class Topology {
 public:
  // The fastest and slowest one-way latencies: 2 ms between co-located nodes, 200 ms between
  // antipodes (sphere) or opposite corners (plane).
  static constexpr Duration kMinLatency = std::chrono::milliseconds{2};
  static constexpr Duration kMaxLatency = std::chrono::milliseconds{200};

  explicit Topology(TopologyKind kind) : kind_(kind) {}

  TopologyKind kind() const { return kind_; }
  // Draws a position for a new node; returns its index.
  uint32_t add_random(Rng& rng);
  uint32_t add(Position p);
  size_t size() const { return positions_.size(); }
  const Position& position(uint32_t i) const { return positions_[i]; }

  // One-way latency in whole microseconds. Exactly symmetric: the formulas only use
  // commutative products and squared differences.
  Duration latency(uint32_t a, uint32_t b) const;
  // The least latency any pair can have, now or after more nodes are added: the model's floor
  // (the distance fraction is clamped to [0, 1]). The windowed engine's lookahead.
  Duration min_latency() const { return kMinLatency; }

 private:
  TopologyKind kind_;
  std::vector<Position> positions_;
};

}  // namespace forestcast::sim
