#include "net/sim/topology.hpp"

#include <gtest/gtest.h>

namespace forestcast::sim {
namespace {

void expect_bounded_and_symmetric(TopologyKind kind) {
  Topology topo(kind);
  Rng rng(3);
  for (int i = 0; i < 2000; ++i) topo.add_random(rng);
  for (int k = 0; k < 20000; ++k) {
    const auto a = static_cast<uint32_t>(rng.below(topo.size()));
    const auto b = static_cast<uint32_t>(rng.below(topo.size()));
    const Duration ab = topo.latency(a, b);
    ASSERT_GE(ab, Topology::kMinLatency);
    ASSERT_LE(ab, Topology::kMaxLatency);
    ASSERT_EQ(ab, topo.latency(b, a));
  }
  for (uint32_t i = 0; i < 100; ++i) EXPECT_EQ(topo.latency(i, i), Topology::kMinLatency);
}

TEST(Topology, SphereLatencyBoundedAndSymmetric) {
  expect_bounded_and_symmetric(TopologyKind::kSphere);
}

TEST(Topology, PlaneLatencyBoundedAndSymmetric) {
  expect_bounded_and_symmetric(TopologyKind::kPlane);
}

TEST(Topology, ExtremesHitTheBounds) {
  Topology sphere(TopologyKind::kSphere);
  sphere.add({0, 0, 1});
  sphere.add({0, 0, -1});
  sphere.add({1, 0, 0});
  EXPECT_EQ(sphere.latency(0, 1), ms(200));
  EXPECT_EQ(sphere.latency(0, 2), ms(101));  // a quarter turn: 2 + 198 / 2

  Topology plane(TopologyKind::kPlane);
  plane.add({0, 0, 0});
  plane.add({1, 1, 0});
  plane.add({0, 0, 0});
  EXPECT_EQ(plane.latency(0, 1), ms(200));
  EXPECT_EQ(plane.latency(0, 2), ms(2));
}

TEST(Topology, SpherePointsAreSpreadOut) {
  // Uniform on the sphere: mean latency between random pairs is 2 + 198 / 2 ms.
  Topology topo(TopologyKind::kSphere);
  Rng rng(5);
  for (int i = 0; i < 4000; ++i) topo.add_random(rng);
  double sum = 0;
  for (uint32_t i = 0; i + 1 < 4000; i += 2) sum += to_ms(topo.latency(i, i + 1));
  EXPECT_NEAR(sum / 2000.0, 101.0, 3.0);
}

TEST(Topology, ParsesNames) {
  EXPECT_EQ(parse_topology("sphere"), TopologyKind::kSphere);
  EXPECT_EQ(parse_topology("plane"), TopologyKind::kPlane);
  EXPECT_FALSE(parse_topology("torus"));
}

}  // namespace
}  // namespace forestcast::sim
