#pragma once
// 128-bit identifiers on the Pastry circle: node ids, topic ids and lookup keys alike.
// Digits are base 16 (b = 4), most significant first, so id.digit(0) is the first hex digit.
#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace forestcast::overlay {

using u128 = unsigned __int128;

class NodeId {
 public:
  static constexpr int kBits = 128;
  static constexpr int kDigitBits = 4;
  static constexpr int kDigits = kBits / kDigitBits;  // 32 rows in the routing table
  static constexpr int kBase = 1 << kDigitBits;       // 16 columns
  static constexpr size_t kBytes = 16;

  constexpr NodeId() = default;
  constexpr explicit NodeId(u128 value) : v_(value) {}
  static NodeId from_parts(uint64_t hi, uint64_t lo) { return NodeId((u128{hi} << 64) | lo); }

  // Big-endian bytes. Fails unless exactly 16 bytes are given.
  static std::optional<NodeId> from_bytes(std::span<const uint8_t> bytes);
  static std::optional<NodeId> from_bytes(std::string_view bytes);
  // Exactly 32 hex digits, either case.
  static std::optional<NodeId> from_hex(std::string_view hex);
  // First 16 bytes of SHA-1(data): how node ids derive from public keys and group ids from names.
  static NodeId sha1_of(std::span<const uint8_t> data);
  static NodeId sha1_of(std::string_view data);

  std::array<uint8_t, kBytes> to_bytes() const;
  std::string to_byte_string() const;
  std::string hex() const;
  std::string short_hex() const { return hex().substr(0, 8); }

  constexpr u128 value() const { return v_; }
  uint64_t hi() const { return static_cast<uint64_t>(v_ >> 64); }
  uint64_t lo() const { return static_cast<uint64_t>(v_); }

  int digit(int i) const { return static_cast<int>((v_ >> (kBits - kDigitBits * (i + 1))) & 0xF); }
  // Same id with digit i replaced (stripe ids: the group id with its first digit set to i).
  NodeId with_digit(int i, int d) const;
  // Number of leading digits shared with `o` (32 when equal).
  int shared_prefix_length(const NodeId& o) const;

  // Distances on the circle of 2^128 ids.
  u128 clockwise_to(const NodeId& o) const { return o.v_ - v_; }         // going up from this
  u128 counterclockwise_to(const NodeId& o) const { return v_ - o.v_; }  // going down
  u128 ring_distance(const NodeId& o) const {
    const u128 cw = clockwise_to(o), ccw = counterclockwise_to(o);
    return cw < ccw ? cw : ccw;
  }

  // True if `a` is strictly closer to this id than `b` on the circle. Exact ties (a and b on
  // opposite sides at the same distance) go to the smaller id, so every node and the test oracle
  // agree on one root for every key.
  bool closer(const NodeId& a, const NodeId& b) const {
    const u128 da = ring_distance(a), db = ring_distance(b);
    return da != db ? da < db : a.v_ < b.v_;
  }

  constexpr auto operator<=>(const NodeId&) const = default;

 private:
  u128 v_ = 0;
};

}  // namespace forestcast::overlay

template <>
struct std::hash<forestcast::overlay::NodeId> {
  size_t operator()(const forestcast::overlay::NodeId& id) const noexcept {
    // Ids are SHA-1 output or uniform keys already; fold the halves.
    return static_cast<size_t>(id.hi() ^ (id.lo() * 0x9e3779b97f4a7c15ULL));
  }
};
