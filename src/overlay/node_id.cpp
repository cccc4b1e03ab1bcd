#include "overlay/node_id.hpp"

#include <openssl/sha.h>

namespace forestcast::overlay {

std::optional<NodeId> NodeId::from_bytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != kBytes) return std::nullopt;
  u128 v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  return NodeId(v);
}

std::optional<NodeId> NodeId::from_bytes(std::string_view bytes) {
  return from_bytes(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

std::optional<NodeId> NodeId::from_hex(std::string_view hex) {
  if (hex.size() != kDigits) return std::nullopt;
  u128 v = 0;
  for (char c : hex) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return std::nullopt;
    v = (v << 4) | static_cast<unsigned>(d);
  }
  return NodeId(v);
}

NodeId NodeId::sha1_of(std::span<const uint8_t> data) {
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1(data.data(), data.size(), digest);
  return *from_bytes(std::span<const uint8_t>(digest, kBytes));
}

NodeId NodeId::sha1_of(std::string_view data) {
  return sha1_of(std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

std::array<uint8_t, NodeId::kBytes> NodeId::to_bytes() const {
  std::array<uint8_t, kBytes> out{};
  u128 v = v_;
  for (int i = kBytes - 1; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
  return out;
}

std::string NodeId::to_byte_string() const {
  const auto b = to_bytes();
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string NodeId::hex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(kDigits, '0');
  for (int i = 0; i < kDigits; ++i) out[i] = kHex[digit(i)];
  return out;
}

NodeId NodeId::with_digit(int i, int d) const {
  const int shift = kBits - kDigitBits * (i + 1);
  const u128 mask = u128{0xF} << shift;
  return NodeId((v_ & ~mask) | (u128(static_cast<unsigned>(d) & 0xF) << shift));
}

int NodeId::shared_prefix_length(const NodeId& o) const {
  const u128 x = v_ ^ o.v_;
  if (x == 0) return kDigits;
  const uint64_t hi = static_cast<uint64_t>(x >> 64);
  const int leading_zero_bits =
      hi != 0 ? __builtin_clzll(hi) : 64 + __builtin_clzll(static_cast<uint64_t>(x));
  return leading_zero_bits / kDigitBits;
}

}  // namespace forestcast::overlay
