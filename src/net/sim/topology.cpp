#include "net/sim/topology.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace forestcast::sim {

std::optional<TopologyKind> parse_topology(std::string_view name) {
  if (name == "sphere") return TopologyKind::kSphere;
  if (name == "plane") return TopologyKind::kPlane;
  return std::nullopt;
}

std::string_view topology_name(TopologyKind kind) {
  return kind == TopologyKind::kSphere ? "sphere" : "plane";
}

Position random_position(TopologyKind kind, Rng& rng) {
  if (kind == TopologyKind::kSphere) {
    // Uniform on the sphere: z uniform in [-1, 1] and longitude uniform (Archimedes).
    const double z = 2.0 * rng.uniform() - 1.0;
    const double phi = 2.0 * std::numbers::pi * rng.uniform();
    const double r = std::sqrt(std::max(0.0, 1.0 - z * z));
    return Position{r * std::cos(phi), r * std::sin(phi), z};
  }
  const double x = rng.uniform();
  const double y = rng.uniform();
  return Position{x, y, 0.0};
}

Position position_from_id(TopologyKind kind, uint64_t id_hi, uint64_t id_lo) {
  // Both halves go through the seeding mix, so ids that differ anywhere get unrelated
  // positions; the Rng then turns that into a uniform position.
  Rng rng(id_hi);
  rng.reseed(rng.next() ^ id_lo);
  return random_position(kind, rng);
}

Duration one_way_latency(TopologyKind kind, const Position& p, const Position& q, Duration min,
                         Duration max) {
  double fraction;  // 0 for the same place, 1 for the farthest possible pair
  if (kind == TopologyKind::kSphere) {
    const double dot = p.x * q.x + p.y * q.y + p.z * q.z;
    fraction = std::acos(std::clamp(dot, -1.0, 1.0)) / std::numbers::pi;
  } else {
    const double dx = p.x - q.x, dy = p.y - q.y;
    fraction = std::sqrt(dx * dx + dy * dy) / std::numbers::sqrt2;
  }
  fraction = std::clamp(fraction, 0.0, 1.0);
  const double span = static_cast<double>((max - min).count());
  return min + Duration{static_cast<int64_t>(std::llround(span * fraction))};
}

uint32_t Topology::add_random(Rng& rng) { return add(random_position(kind_, rng)); }

uint32_t Topology::add(Position p) {
  positions_.push_back(p);
  return static_cast<uint32_t>(positions_.size() - 1);
}

Duration Topology::latency(uint32_t a, uint32_t b) const {
  return one_way_latency(kind_, positions_[a], positions_[b], kMinLatency, kMaxLatency);
}

}  // namespace forestcast::sim
