#include "overlay/node_id.hpp"

#include <gtest/gtest.h>

#include "overlay/endpoint.hpp"

namespace forestcast::overlay {
namespace {

NodeId hex(const char* h) { return *NodeId::from_hex(h); }

TEST(NodeId, HexRoundTripAndDigits) {
  const NodeId id = hex("0123456789abcdefFEDCBA9876543210");
  EXPECT_EQ(id.hex(), "0123456789abcdeffedcba9876543210");
  EXPECT_EQ(id.digit(0), 0);
  EXPECT_EQ(id.digit(1), 1);
  EXPECT_EQ(id.digit(15), 15);
  EXPECT_EQ(id.digit(31), 0);
  EXPECT_EQ(id.short_hex(), "01234567");
  EXPECT_FALSE(NodeId::from_hex("0123"));
  EXPECT_FALSE(NodeId::from_hex("0123456789abcdefFEDCBA987654321g"));
}

TEST(NodeId, BytesRoundTrip) {
  const NodeId id = hex("00112233445566778899aabbccddeeff");
  const auto bytes = id.to_bytes();
  EXPECT_EQ(bytes[0], 0x00);
  EXPECT_EQ(bytes[15], 0xff);
  EXPECT_EQ(*NodeId::from_bytes(std::span<const uint8_t>(bytes)), id);
  EXPECT_FALSE(NodeId::from_bytes(std::string_view("short")));
}

TEST(NodeId, Sha1OfMatchesKnownDigest) {
  // SHA-1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d; ids are its first 16 bytes.
  EXPECT_EQ(NodeId::sha1_of(std::string_view("abc")).hex(), "a9993e364706816aba3e25717850c26c");
}

TEST(NodeId, SharedPrefixLength) {
  EXPECT_EQ(hex("abcd0000000000000000000000000000")
                .shared_prefix_length(hex("abce0000000000000000000000000000")),
            3);
  EXPECT_EQ(hex("00000000000000000000000000000000")
                .shared_prefix_length(hex("f0000000000000000000000000000000")),
            0);
  const NodeId a = hex("123456789abcdef0123456789abcdef0");
  EXPECT_EQ(a.shared_prefix_length(a), 32);
  EXPECT_EQ(a.shared_prefix_length(hex("123456789abcdef0123456789abcdef1")), 31);
  EXPECT_EQ(a.shared_prefix_length(hex("123456789abcdef1123456789abcdef0")), 15);
}

TEST(NodeId, WithDigit) {
  const NodeId g = hex("abcdef00000000000000000000000001");
  EXPECT_EQ(g.with_digit(0, 3).hex(), "3bcdef00000000000000000000000001");
  EXPECT_EQ(g.with_digit(31, 0xf).hex(), "abcdef0000000000000000000000000f");
}

TEST(NodeId, RingDistanceWrapsAround) {
  const NodeId low = hex("00000000000000000000000000000002");
  const NodeId high = hex("fffffffffffffffffffffffffffffffe");
  EXPECT_EQ(low.ring_distance(high), 4u);
  EXPECT_EQ(high.clockwise_to(low), 4u);
  EXPECT_EQ(low.counterclockwise_to(high), 4u);
  // Across zero, `high` is closer to key 0 than an id far away numerically.
  const NodeId zero;
  EXPECT_TRUE(zero.closer(high, hex("00000000000000000000000000000010")));
}

TEST(NodeId, ExactTieGoesToSmallerId) {
  const NodeId key = hex("00000000000000000000000000000010");
  const NodeId below = hex("0000000000000000000000000000000e");
  const NodeId above = hex("00000000000000000000000000000012");
  EXPECT_TRUE(key.closer(below, above));
  EXPECT_FALSE(key.closer(above, below));
}

TEST(Endpoint, ParseAndPrint) {
  auto v4 = Endpoint::parse("127.0.0.1:7000");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->to_string(), "127.0.0.1:7000");
  auto local = Endpoint::parse("localhost:9");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->to_string(), "127.0.0.1:9");
  auto v6 = Endpoint::parse("[::1]:7001");
  ASSERT_TRUE(v6);
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->to_string(), "[::1]:7001");
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "1.2.3:80",
                          "host.example:80", "::1:80", "[::1]80", "127.0.0.1:80x"})
    EXPECT_FALSE(Endpoint::parse(bad)) << bad;
}

}  // namespace
}  // namespace forestcast::overlay
